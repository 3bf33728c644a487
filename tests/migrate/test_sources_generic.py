"""The user-described JSON / NDJSON source."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from memvault.errors import InvalidInput
from memvault.migrate.sources import generic
from memvault.migrate.sources.generic import GenericMapping
from tests.migrate.conftest import collect

MAPPING = {
    "target": "message", "id": "uuid", "content": "text", "role": "author",
    "session": "thread", "created_at": "meta.ts", "timestamp_unit": "ms",
    "role_map": {"bot": "assistant", "human": "user"},
}  # fmt: skip


def _lines(*records: object) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n"
                   for r in records)  # fmt: skip


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "a.jsonl").write_text(
        _lines(
            {"uuid": "1", "text": "Salut 👋", "author": "human", "thread": "t1",
             "meta": {"ts": 1.7e12}},
            {"uuid": "2", "text": "Bonjour !", "author": "bot", "thread": "t1",
             "meta": {"ts": 1.7e12 + 5}},
            "",
            '{"uuid": "3", "text": ',  # truncated line
            {"uuid": "1", "text": "dup", "author": "human", "thread": "t1"},
            {"uuid": "4", "text": 42, "author": "human", "thread": "t2"},
            {"uuid": "5", "text": "sans date", "author": "narrator", "thread": "t2"},
        ),
        encoding="utf-8",
    )  # fmt: skip
    (tmp_path / "b.json").write_text(
        json.dumps([{"uuid": "6", "text": "array", "author": "bot", "thread": "t2",
                     "meta": {"ts": "2025-01-01T00:00:00Z"}}]),
        encoding="utf-8",
    )  # fmt: skip
    (tmp_path / "c.json").write_text("", encoding="utf-8")
    (tmp_path / "d.json").write_text("[{", encoding="utf-8")
    return tmp_path


def test_messages_sessions_and_report(root: Path) -> None:
    scan = generic.scan(root, GenericMapping.from_dict(MAPPING))
    got = collect(scan)
    assert scan.report.as_dict() == {
        "entities": {"records": 4, "sessions": 2, "messages": 4, "memories": 0},
        "bad_records": {"records_invalid": 2},
        "bad_records_total": 2,
        "duplicates": {"records_duplicate_id": 1},
        "warnings": {"timestamps_missing": 1, "files_zero_bytes": 1},
        "corrupt_files": ["d.json"],
    }
    msgs = got["MessageRec"]
    assert [(m.role, m.content, m.seq) for m in msgs] == [
        ("user", "Salut 👋", 1), ("assistant", "Bonjour !", 2), ("user", "sans date", 1),
        ("assistant", "array", 2),
    ]  # fmt: skip
    assert msgs[0].created_at == datetime.fromtimestamp(1.7e9, UTC)
    assert msgs[3].created_at == datetime(2025, 1, 1, tzinfo=UTC)
    bad = [(q.file, q.line, q.field) for q in got["Quarantined"] if not q.whole_file]
    assert bad == [("a.jsonl", 4, ""), ("a.jsonl", 6, "text")]


def test_memory_target(tmp_path: Path) -> None:
    (tmp_path / "m.ndjson").write_text(
        _lines({"fact": "Aime le thé", "type": "preference", "score": 80},
               {"fact": "Vit à Nantes", "type": "unknown-kind"}),
        encoding="utf-8",
    )  # fmt: skip
    mapping = GenericMapping.from_dict(
        {"target": "memory", "content": "fact", "kind": "type", "confidence": "score"}
    )
    got = collect(generic.scan(tmp_path, mapping))
    assert [(m.kind, m.content, m.confidence) for m in got["MemoryRec"]] == [
        ("preference", "Aime le thé", 0.8), ("note", "Vit à Nantes", 1.0)
    ]  # fmt: skip


@pytest.mark.parametrize(
    "raw",
    [[], {"target": "event"}, {"nope": 1}, {"timestamp_unit": "h"}, {"files": []}],
)
def test_bad_mappings(raw: object) -> None:
    with pytest.raises(InvalidInput):
        GenericMapping.from_dict(raw)


def test_records_key(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text(json.dumps({"items": [{"content": "a"}], "n": 1}), "utf-8")
    mapping = GenericMapping(records_key="items")
    scan = generic.scan(tmp_path, mapping)
    assert scan.run().entities["messages"] == 1
