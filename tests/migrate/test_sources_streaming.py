"""Bounded memory: scanning a file far larger than the reader's working set."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from memvault.migrate.sources import chatgpt, generic, langchain
from memvault.migrate.sources.generic import GenericMapping

pytestmark = pytest.mark.slow
RECORDS = 200_000
LIMIT = 16 << 20  # the reader's working set: a few read chunks, whatever the file size


def _peak(run: object) -> int:
    assert callable(run)
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_langchain_history_of_200k_messages(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    with path.open("w", encoding="utf-8") as fh:  # one line, like langchain 0.0.x
        fh.write("[")
        for i in range(RECORDS):
            kind = "human" if i % 2 == 0 else "ai"
            msg = {"type": kind, "data": {"content": f"message {i} — café ☕ " * 3,
                                          "additional_kwargs": {}, "example": False}}  # fmt: skip
            fh.write(("," if i else "") + json.dumps(msg))
        fh.write("]")
    size = path.stat().st_size
    scan = langchain.scan(tmp_path)
    peak = _peak(scan.run)
    assert scan.report.entities["messages"] == RECORDS
    assert peak < min(size / 4, LIMIT), (peak, size)


def test_chatgpt_single_line_export(tmp_path: Path) -> None:
    path = tmp_path / "export" / "conversations.json"
    path.parent.mkdir()
    conversations = 2_000
    with path.open("w", encoding="utf-8") as fh:
        fh.write("[")
        for c in range(conversations):
            mapping = {"root": {"id": "root", "message": None, "parent": None, "children": ["m0"]}}
            for m in range(50):
                mapping[f"m{m}"] = {
                    "id": f"m{m}", "parent": "root" if m == 0 else f"m{m - 1}",
                    "children": [f"m{m + 1}"] if m < 49 else [],
                    "message": {"id": f"m{m}", "author": {"role": "user" if m % 2 else "assistant"},
                                "create_time": 1.7e9 + m, "content": {"content_type": "text",
                                "parts": [f"Bonjour {c}/{m} " * 8]}, "weight": 1.0, "metadata": {}},
                }  # fmt: skip
            conv = {"id": f"conv-{c}", "title": "t", "create_time": 1.7e9, "update_time": 1.7e9,
                    "mapping": mapping, "current_node": "m49"}  # fmt: skip
            fh.write(("," if c else "") + json.dumps(conv, separators=(",", ":")))
        fh.write("]")
    size = path.stat().st_size
    scan = chatgpt.scan(tmp_path)
    peak = _peak(scan.run)
    assert scan.report.entities["messages_all_nodes"] == conversations * 50
    assert peak < min(size / 4, LIMIT), (peak, size)


def test_generic_ndjson_200k_lines(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(RECORDS):
            fh.write(json.dumps({"text": f"ligne {i} 🥞", "who": "user", "ts": 1.7e12 + i}) + "\n")
    size = path.stat().st_size
    mapping = GenericMapping(content="text", role="who", created_at="ts", timestamp_unit="ms")
    scan = generic.scan(tmp_path, mapping)
    peak = _peak(scan.run)
    assert scan.report.entities["messages"] == RECORDS
    assert peak < min(size / 4, LIMIT), (peak, size)
