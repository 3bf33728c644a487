"""Fuzzing: arbitrary bytes, byte-level and structural mutations of real files, random
SQLite rows — no reader may raise, every report keeps its exact keys, and every record
still satisfies the canonical model's invariants."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memvault.migrate import sources
from memvault.migrate.sources.records import (
    MEMORY_KINDS,
    EmbeddingRec,
    EmotionRec,
    MemoryRec,
    MessageRec,
    Quarantined,
    ResponsePatternRec,
    TraitChangeRec,
    TraitRec,
)
from memvault.migrate.sources.report import REPORT_KEYS
from tests.migrate.legacy_data import WRITERS

JSON_FORMATS = ["ait42", "lilith", "edgesoul", "workly", "chatgpt", "langchain"]
FUZZ = settings(
    max_examples=int(os.environ.get("MEMVAULT_FUZZ_EXAMPLES", "50")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
ROLES = {"user", "assistant", "system", "tool", "function"}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)  # fmt: skip


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("legacy")
    for write in WRITERS.values():
        write(base)
    return base


def _copy(trees: Path, fmt: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / fmt
        shutil.copytree(trees / fmt, root)
        yield root


def _aware(value: Any) -> bool:
    return value is None or (isinstance(value, datetime) and value.utcoffset() is not None)


def check_record(record: Any) -> None:
    """The invariants the pipeline relies on."""
    for field in dataclasses.fields(record):
        value = getattr(record, field.name)
        if isinstance(value, datetime) or field.name.endswith(("_at", "last_occurrence")):
            assert _aware(value), (field.name, value)
        if isinstance(value, str):
            value.encode("utf-8")  # no lone surrogates
    if isinstance(record, MessageRec):
        assert isinstance(record.content, str) and record.role in ROLES and record.seq >= 1
    if isinstance(record, MemoryRec):
        assert record.kind in MEMORY_KINDS and isinstance(record.content, str)
        assert 0.0 <= record.confidence <= 1.0 and 0.0 <= record.importance <= 1.0
    if isinstance(record, EmotionRec):
        assert 0.0 <= record.intensity <= 1.0
    if isinstance(record, TraitRec | TraitChangeRec):
        values = [record.value] if isinstance(record, TraitRec) else [record.new_value]
        assert all(0.0 <= v <= 1.0 for v in values)
    if isinstance(record, ResponsePatternRec):
        assert 0.0 <= record.success_score <= 1.0 and record.usage_count >= 0
    if isinstance(record, EmbeddingRec):
        assert record.dim == len(record.vector) > 0
        assert all(math.isfinite(v) for v in record.vector)
    if isinstance(record, Quarantined):
        assert isinstance(record.raw, bytes) and record.reason


def run(fmt: str, root: Path) -> None:
    scan = sources.scan(fmt, root)
    for record in scan.records():
        check_record(record)
    report = scan.report.as_dict()
    keys = REPORT_KEYS[fmt]
    assert tuple(report["entities"]) == keys.entities
    assert tuple(report["bad_records"]) == keys.bad_records
    assert all(
        v >= 0 for group in ("entities", "bad_records", "warnings") for v in report[group].values()
    )


def _json_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.json") if p.is_file())


@pytest.mark.parametrize("fmt", JSON_FORMATS)
@FUZZ
@given(data=st.data())
def test_arbitrary_bytes(trees: Path, fmt: str, data: st.DataObject) -> None:
    for root in _copy(trees, fmt):
        files = _json_files(root)
        target = data.draw(st.sampled_from(files))
        target.write_bytes(data.draw(st.binary(max_size=600)))
        run(fmt, root)


@pytest.mark.parametrize("fmt", JSON_FORMATS)
@FUZZ
@given(data=st.data())
def test_byte_mutations(trees: Path, fmt: str, data: st.DataObject) -> None:
    for root in _copy(trees, fmt):
        target = data.draw(st.sampled_from(_json_files(root)))
        raw = bytearray(target.read_bytes())
        for _ in range(data.draw(st.integers(1, 4))):
            if not raw:
                break
            pos = data.draw(st.integers(0, len(raw) - 1))
            op = data.draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
            if op == "flip":
                raw[pos] = data.draw(st.integers(0, 255))
            elif op == "cut":
                del raw[pos : pos + data.draw(st.integers(1, 40))]
            elif op == "insert":
                raw[pos:pos] = data.draw(
                    st.sampled_from([b"null", b"[", b"}", b",", b'"\\ud800"', b"1e999", b"\xff"])
                )
            else:
                del raw[pos:]
        target.write_bytes(bytes(raw))
        run(fmt, root)


INSERTS = [b"null", b"[", b"}", b",", b'"\\ud800"', b"1e999", b"\xff", b"-0.", b'"\\u00e9"']


def _mutate(value: Any, path: list[int], new: Any) -> Any:
    """Replace the node reached by following `path` (indexes into lists / dict items)."""
    if not path or not isinstance(value, list | dict) or not value:
        return new
    step, rest = path[0], path[1:]
    if isinstance(value, list):
        i = step % len(value)
        return [*value[:i], _mutate(value[i], rest, new), *value[i + 1 :]]
    keys = list(value)
    k = keys[step % len(keys)]
    return {**value, k: _mutate(value[k], rest, new)}


@pytest.mark.parametrize("fmt", JSON_FORMATS)
@FUZZ
@given(data=st.data())
def test_structural_mutations(trees: Path, fmt: str, data: st.DataObject) -> None:
    for root in _copy(trees, fmt):
        candidates = []
        for path in _json_files(root):
            try:
                candidates.append((path, json.loads(path.read_bytes())))
            except ValueError:
                continue
        target, value = data.draw(st.sampled_from(candidates))
        for _ in range(data.draw(st.integers(1, 3))):
            steps = data.draw(st.lists(st.integers(0, 50), max_size=6))
            value = _mutate(value, steps, data.draw(json_values))
        target.write_text(json.dumps(value, ensure_ascii=data.draw(st.booleans())), "utf-8")
        run(fmt, root)


sql_values = (
    st.none() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=True)
    | st.text(max_size=30) | st.binary(max_size=20)
    | st.sampled_from(["", "[]", '["a","b"]', "a,b", "{}", "[1", "2025-11-03T12:00:00Z", "null"])
)  # fmt: skip

SQL_TARGETS = {
    "edgesoul": ("backend/data/edgesoul.db",
                 ["user_profiles", "memories", "emotional_patterns", "conversation_contexts"]),
    "dcm": ("home/.claude/routing.db", ["tool_usage", "keyword_tool_scores"]),
}  # fmt: skip


@pytest.mark.parametrize("fmt", sorted(SQL_TARGETS))
@FUZZ
@given(data=st.data())
def test_random_sqlite_rows(trees: Path, fmt: str, data: st.DataObject) -> None:
    rel, tables = SQL_TARGETS[fmt]
    for root in _copy(trees, fmt):
        conn = sqlite3.connect(root / rel)
        conn.execute("PRAGMA foreign_keys=OFF")
        for table in data.draw(st.lists(st.sampled_from(tables), min_size=1, max_size=3)):
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")][1:]
            row = [data.draw(sql_values) for _ in columns]
            cols = ", ".join(columns)
            marks = ", ".join("?" * len(columns))
            with contextlib.suppress(sqlite3.IntegrityError):
                conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", row)
        conn.commit()
        conn.close()
        run(fmt, root)


@pytest.mark.parametrize("fmt", sorted(SQL_TARGETS))
@FUZZ
@given(data=st.data())
def test_sqlite_byte_damage(trees: Path, fmt: str, data: st.DataObject) -> None:
    rel, _ = SQL_TARGETS[fmt]
    for root in _copy(trees, fmt):
        path = root / rel
        raw = bytearray(path.read_bytes())
        for _ in range(data.draw(st.integers(1, 8))):
            pos = data.draw(st.integers(0, len(raw) - 1))
            raw[pos] = data.draw(st.integers(0, 255))
        if data.draw(st.booleans()):
            del raw[data.draw(st.integers(0, len(raw) - 1)) :]
        path.write_bytes(bytes(raw))
        run(fmt, root)
