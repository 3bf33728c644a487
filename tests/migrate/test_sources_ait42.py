"""AIT42 reader: exact section-9 counts and canonical records on a realistic tree."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from memvault.migrate.sources import ait42
from memvault.migrate.sources._base import ScanOptions
from memvault.migrate.sources.records import MessageRec, SessionRec
from tests.migrate.conftest import by_key, collect
from tests.migrate.legacy_data import (
    AIT42_MAPPED,
    AIT42_UNMAPPED,
    S1,
    S2,
    S3,
    S4,
    S5,
    ait42_hash,
    write_ait42,
)

EXPECTED = {
    "entities": {"sessions": 5, "instances": 9, "chat_messages": 10, "workspaces": 3},
    "bad_records": {"session_files_corrupt": 1, "sessions_invalid": 2, "chat_messages_invalid": 2},
    "bad_records_total": 5,
    "duplicates": {"sessions_dropped": 1, "message_ids_rekeyed": 2},
    "warnings": {
        "workspace_hashes_unmapped": 1,
        "sessions_without_workspace": 1,
        "instances_status_outside_sqlite_check": 3,
        "chat_messages_over_10000_chars": 1,
    },
    "corrupt_files": ["home/.ait42/sessions/eeeeeeeeeeeeeeee.json"],
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_ait42(tmp_path)


def test_report_matches_contract(root: Path) -> None:
    scan = ait42.scan(root)
    collect(scan)
    assert scan.report.as_dict() == EXPECTED


def test_sessions_instances_and_projects(root: Path) -> None:
    got = collect(ait42.scan(root))
    sessions = by_key(got["SessionRec"])
    top = [s for s in sessions.values() if s.kind != "instance"]
    assert [s.metadata["legacy_id"] for s in top] == [S1, S2, S3, S4, S5]  # file order
    s1 = sessions[f"ait42:session:{S1}"]
    assert s1.kind == "competition" and s1.status == "completed"
    assert s1.title == "ログイン画面のバグを修正して、テストを追加する"  # first copy wins
    assert s1.created_at == datetime(2025, 11, 10, 12, 31, 4, 47000, tzinfo=UTC)
    assert s1.updated_at == datetime(2025, 11, 10, 12, 33, 28, 662453, tzinfo=UTC)
    assert s1.metadata["runtimeMix"] == ["claude", "codex"]
    assert s1.project_source_key == f"ait42:workspace:{AIT42_MAPPED}"
    s3 = sessions[f"ait42:session:{S3}"]
    assert s3.updated_at == datetime(2025, 11, 9, 8, 10, 0, 123456, tzinfo=UTC)  # 9 digits
    assert "runtimeMix" not in s3.metadata
    assert s3.project_source_key == f"ait42:workspace-hash:{ait42_hash(AIT42_UNMAPPED)}"
    assert sessions[f"ait42:session:{S4}"].project_source_key is None  # v2: no workspace
    inst = sessions[f"ait42:session:{S1}:instance:1"]
    assert (inst.kind, inst.status, inst.parent_source_key) == (
        "instance", "idle", f"ait42:session:{S1}"
    )  # fmt: skip
    assert inst.title is not None and inst.title.startswith("🏆")
    projects = by_key(got["ProjectRec"])
    assert projects[f"ait42:workspace:{AIT42_MAPPED}"].name == "ait42-editor"
    assert len(projects) == 3  # mapped hash, unmapped hash, projects/blog
    assert [u.handle for u in got["UserRec"]] == ["default"]


def test_messages_rekeyed_and_ordered(root: Path) -> None:
    got = collect(ait42.scan(root))
    msgs: list[MessageRec] = got["MessageRec"]
    s2 = [m for m in msgs if m.session_source_key == f"ait42:session:{S2}"]
    assert [m.seq for m in s2] == [1, 2, 3]
    assert s2[0].source_key == f"ait42:session:{S2}:message:msg-1731242000000"
    assert s2[1].source_key == f"ait42:session:{S2}:message:msg-1731242000000#2"
    assert s2[1].metadata["id_rekeyed"] is True
    assert len({m.source_key for m in msgs}) == len(msgs) == 10
    first = next(m for m in msgs if m.session_source_key == f"ait42:session:{S1}")
    assert first.metadata["instance_id"] is None  # instance 0 loses its id
    long = [m for m in msgs if len(m.content) > 10_000]
    assert len(long) == 1 and long[0].content.startswith("📜 Tmux Session History:")
    blog = next(m for m in msgs if m.session_source_key == f"ait42:session:{S5}")
    assert blog.content == "Un article sur les crêpes, s'il te plaît 🥞"


def test_quarantine_names_file_record_and_field(root: Path) -> None:
    got = collect(ait42.scan(root))
    fields = sorted(
        (q.file, q.record_index, q.field) for q in got["Quarantined"] if not q.whole_file
    )
    unmapped = f"home/.ait42/sessions/{ait42_hash(AIT42_UNMAPPED)}.json"
    mapped = f"home/.ait42/sessions/{ait42_hash(AIT42_MAPPED)}.json"
    assert fields == [
        (mapped, 1, "chatHistory[3].role"),
        (mapped, 1, "chatHistory[4].content"),
        (unmapped, 2, "type"),
        (unmapped, 3, "instances[0].status"),
    ]
    corrupt = [q for q in got["Quarantined"] if q.whole_file]
    assert len(corrupt) == 1 and corrupt[0].raw.startswith(b"[\n  {")
    bad_type = next(q for q in got["Quarantined"] if q.field == "type")
    assert b'"tournament"' in bad_type.raw and bad_type.line is not None


def test_workspace_candidates_resolve_unmapped_hash(root: Path) -> None:
    scan = ait42.scan(root, ScanOptions(workspace_candidates=(Path(AIT42_UNMAPPED),)))
    got = collect(scan)
    assert scan.report.warnings["workspace_hashes_unmapped"] == 0
    s3 = next(s for s in got["SessionRec"] if s.source_key == f"ait42:session:{S3}")
    assert isinstance(s3, SessionRec)
    assert s3.project_source_key == f"ait42:workspace:{AIT42_UNMAPPED}"


def test_workspace_hash_matches_ait42() -> None:
    assert ait42.workspace_hash("/no/such/dir/") == ait42_hash("/no/such/dir")
    assert len(ait42.workspace_hash("/tmp")) == 16


def test_empty_tree(tmp_path: Path) -> None:
    scan = ait42.scan(tmp_path)
    assert scan.run().as_dict()["entities"] == {
        "sessions": 0, "instances": 0, "chat_messages": 0, "workspaces": 0
    }  # fmt: skip
