"""LangChain reader: every library generation, encodings, zero-byte and invalid entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from memvault.migrate.sources import langchain
from tests.migrate.conftest import by_key, collect
from tests.migrate.legacy_data import write_langchain

EXPECTED = {
    "entities": {
        "histories": 8, "messages": 19, "messages_human": 7, "messages_ai": 8,
        "messages_system": 1, "messages_chat": 1, "messages_function": 1, "messages_tool": 1,
    },
    "bad_records": {"messages_invalid": 2},
    "bad_records_total": 2,
    "duplicates": {},
    "warnings": {"files_not_utf8": 1, "files_zero_bytes": 1},
    "corrupt_files": ["sessions/truncated.json"],
}  # fmt: skip


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_langchain(tmp_path)


def test_report_matches_contract(root: Path) -> None:
    assert langchain.scan(root).run().as_dict() == EXPECTED


def test_histories_and_messages(root: Path) -> None:
    got = collect(langchain.scan(root))
    sessions = by_key(got["SessionRec"])
    assert sorted(s.title for s in sessions.values() if s.title) == [
        "abc123", "bad_types", "chat_history", "cleared", "crashed", "old_fn", "truncated",
        "windows",
    ]  # fmt: skip
    msgs = got["MessageRec"]
    old = [m for m in msgs if m.session_source_key == "langchain:chat_history.json"]
    assert [(m.role, m.content) for m in old][:2] == [
        ("user", "Bonjour, je m'appelle Zoé"), ("assistant", "Enchanté Zoé ! 🙂")
    ]  # fmt: skip
    new = [m for m in msgs if m.session_source_key == "langchain:sessions/abc123.json"]
    assert [m.role for m in new] == ["user", "assistant", "tool", "assistant", "system"]
    assert new[1].metadata["tool_calls"][0]["name"] == "weather"
    assert new[3].content == "It's 18°C and sunny.\nEnjoy!"
    fn = [m for m in msgs if m.session_source_key == "langchain:sessions/old_fn.json"]
    assert [m.role for m in fn] == ["user", "assistant", "function", "user"]
    assert fn[3].metadata["role"] == "critic"
    assert "function_call" in fn[1].metadata["additional_kwargs"]


def test_cp1252_fallback(root: Path) -> None:
    got = collect(langchain.scan(root))
    win = [
        m for m in got["MessageRec"] if m.session_source_key == "langchain:sessions/windows.json"
    ]
    assert win[0].content == "Un café – s'il vous plaît"
    assert win[1].content == "Voilà votre café, naïve question…"
    session = by_key(got["SessionRec"])["langchain:sessions/windows.json"]
    assert session.metadata["encoding"] == "cp1252"


def test_invalid_entries(root: Path) -> None:
    got = collect(langchain.scan(root))
    bad = [(q.record_index, q.field) for q in got["Quarantined"] if not q.whole_file]
    assert bad == [(0, "type"), (1, "data"), (2, None)]  # 2: the cut file's tail
    chunk = [m for m in got["MessageRec"] if m.metadata["langchain_type"] == "AIMessageChunk"]
    assert len(chunk) == 1 and chunk[0].seq == 2  # seq skips invalid entries


def test_message_type() -> None:
    assert langchain.message_type({"type": "ToolMessageChunk", "data": {"content": ""}}) == "tool"
    assert langchain.message_type({"type": ["human"], "data": {"content": ""}}) is None
    assert langchain.message_type({"type": "user", "data": {"content": "x"}}) is None
