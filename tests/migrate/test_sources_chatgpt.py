"""ChatGPT reader: newest copy wins across exports, branch and visibility counts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from memvault.migrate.sources import chatgpt
from tests.migrate.conftest import by_key, collect
from tests.migrate.legacy_data import C1, C2, C3, C4, write_chatgpt

EXPECTED = {
    "entities": {
        "conversations": 4, "messages_all_nodes": 17, "messages_active_path": 16,
        "messages_active_visible": 12, "branch_points": 1, "image_parts": 1,
        "empty_hidden_nodes_not_stored": 2,  # c2's and c3's empty hidden system roots
    },
    "bad_records": {"conversations_invalid": 1},
    "bad_records_total": 1,
    # The cut export keeps its first conversation (the tail is quarantined); a newer copy
    # of it supersedes it.
    "duplicates": {"conversations_superseded": 2},
    "warnings": {"conversations_without_visible_messages": 1},
    "corrupt_files": ["export-2025-03/conversations.json"],
}  # fmt: skip


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_chatgpt(tmp_path)


def test_report_matches_contract(root: Path) -> None:
    assert chatgpt.scan(root).run().as_dict() == EXPECTED


def test_newest_copy_wins(root: Path) -> None:
    got = collect(chatgpt.scan(root))
    sessions = by_key(got["SessionRec"])
    assert list(sessions) == [f"chatgpt:conversation:{c}" for c in (C2, C1, C3, C4)]
    c1 = sessions[f"chatgpt:conversation:{C1}"]
    assert c1.metadata["export_file"] == "export-2025-06/conversations.json"
    assert c1.updated_at == datetime.fromtimestamp(2000000000.0, UTC)
    c1_msgs = [m for m in got["MessageRec"] if m.session_source_key == c1.source_key]
    assert len(c1_msgs) == 5
    assert sessions[f"chatgpt:conversation:{C4}"].status == "archived"
    assert sessions[f"chatgpt:conversation:{C2}"].title is None


def test_tree_order_branches_and_content(root: Path) -> None:
    got = collect(chatgpt.scan(root))
    c2 = [m for m in got["MessageRec"] if m.session_source_key == f"chatgpt:conversation:{C2}"]
    # The empty hidden system root is no message: its id stays in the session's metadata.
    assert [m.metadata["node_id"] for m in c2] == [
        "c2-ctx", "c2-u1", "c2-a1", "c2-a2", "c2-u2", "c2-a3"
    ]  # fmt: skip
    assert [m.seq for m in c2] == list(range(1, 7))
    session = {s.source_key: s for s in got["SessionRec"]}[f"chatgpt:conversation:{C2}"]
    assert session.metadata["empty_hidden_nodes"] == ["c2-sys"]
    by_node = {m.metadata["node_id"]: m for m in c2}
    assert by_node["c2-a1"].metadata["active"] is False
    assert by_node["c2-a2"].metadata["active"] is True
    assert by_node["c2-ctx"].metadata["hidden"]  # hidden, but it holds text: kept
    assert by_node["c2-ctx"].content == "Je suis développeuse.\n\nRéponds en français."
    assert by_node["c2-u2"].content == "Voici une photo"
    assert by_node["c2-u2"].metadata["images"][0]["asset_pointer"].startswith("sediment://")
    assert by_node["c2-u1"].content == "Peux-tu m'expliquer les crêpes ? 🥞"
    assert by_node["c2-u1"].created_at == datetime.fromtimestamp(1735689600.123, UTC)
    c4 = [m for m in got["MessageRec"] if m.session_source_key == f"chatgpt:conversation:{C4}"]
    assert [m.role for m in c4] == ["user", "assistant", "tool", "assistant"]
    assert c4[1].content == "print(2**100)" and c4[1].metadata["recipient"] == "python"
    assert c4[2].content == "1267650600228229401496703205376"


def test_invalid_conversation_quarantined(root: Path) -> None:
    got = collect(chatgpt.scan(root))
    bad = [q for q in got["Quarantined"] if not q.whole_file]
    assert [(q.file, q.record_index, q.field) for q in bad] == [
        ("export-2025-03/conversations.json", 1, None),  # the cut file's tail
        ("export-2025-06/conversations.json", 2, "mapping"),
    ]
    assert bad[0].reason.startswith("truncated file") and "1 complete" in bad[0].reason
    bad = bad[1:]
    assert b'"no-mapping"' in bad[0].raw
    c3 = [m for m in got["MessageRec"] if m.session_source_key == f"chatgpt:conversation:{C3}"]
    assert c3 == []  # its only node is the empty hidden system root


def test_render_variants() -> None:
    assert chatgpt.render({"content_type": "text", "parts": ["a", "b"]}) == ("a\nb", [])
    thoughts = {"content_type": "thoughts", "thoughts": [{"summary": "S", "content": "C"}]}
    assert chatgpt.render(thoughts)[0] == "S\nC"
    assert chatgpt.render({"content_type": "reasoning_recap", "content": "Thought 5s"})[0] == (
        "Thought 5s"
    )
    assert chatgpt.render(None) == ("", [])
