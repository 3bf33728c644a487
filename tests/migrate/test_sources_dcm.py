"""DCM reader: tool_usage validation and warnings, keyword score merging."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from memvault.migrate.sources import dcm
from tests.migrate.conftest import by_key, collect
from tests.migrate.legacy_data import DCM_S1, write_dcm

EXPECTED = {
    "entities": {"tool_usage": 6, "keyword_tool_scores": 3, "sessions": 3, "projects": 2},
    "bad_records": {"tool_usage_invalid": 2, "keyword_scores_invalid": 2},
    "bad_records_total": 4,
    "duplicates": {"keyword_scores_merged": 3},
    "warnings": {
        "tool_usage_exit_code_empty": 2,
        "tool_usage_file_paths_comma_separated": 2,
        "keyword_scores_last_used_null": 1,
        "keyword_scores_last_used_iso": 1,
    },
    "corrupt_files": [],
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_dcm(tmp_path)


def test_report_matches_contract(root: Path) -> None:
    assert dcm.scan(root).run().as_dict() == EXPECTED


def test_actions(root: Path) -> None:
    got = collect(dcm.scan(root))
    actions = got["ActionRec"]
    assert [a.tool_name for a in actions] == [
        "Read", "Edit", "mcp__github__create_issue", "Bash", "WebFetch", "frontend-specialist"
    ]  # fmt: skip
    read, edit = actions[0], actions[1]
    assert read.file_paths == ("/home/u/proj-a/src/app.py",) and read.exit_code == 0
    assert edit.file_paths == ("src/a.py", "src/b.py") and edit.exit_code is None
    assert read.created_at == datetime(2025, 12, 1, 10, 0, tzinfo=UTC)
    assert read.session_source_key == f"dcm:session:{DCM_S1}"
    assert actions[3].session_source_key is None and actions[3].project_source_key is None
    assert [a.tool_type for a in actions] == [
        "builtin",
        "builtin",
        "mcp",
        "builtin",
        "skill",
        "agent",
    ]
    sessions = by_key(got["SessionRec"])
    assert sessions[f"dcm:session:{DCM_S1}"].project_source_key == "dcm:project:/home/u/proj-a"
    assert [p.name for p in got["ProjectRec"]] == ["proj-a", "proj-b"]
    bad = sorted((q.record_index, q.field) for q in got["Quarantined"])
    assert bad == [(3, "tool_name"), (4, "keyword"), (4, "tool_name"), (5, "tool_name")]


def test_scores_merged_last_row_wins(root: Path) -> None:
    got = collect(dcm.scan(root))
    scores = {(s.keyword, s.tool_name): s for s in got["RoutingScoreRec"]}
    refactor = scores[("refactor", "Edit")]
    assert (refactor.weight, refactor.usage_count, refactor.success_count) == (1.4, 6, 5)
    assert refactor.metadata["merged_row_ids"] == [1, 2]
    assert refactor.owner_handle is None
    test = scores[("test", "Bash")]
    assert test.last_used_at is None and test.weight == 1.1
    deploy = scores[("deploy", "mcp__vercel__deploy")]
    assert deploy.last_used_at == datetime(2025, 11, 3, 12, 0, tzinfo=UTC)


def test_classify_tool() -> None:
    assert dcm.classify_tool("Grep") == "builtin"
    assert dcm.classify_tool("mcp__x__y") == "mcp"
    assert dcm.classify_tool("/commit") == "command"
    assert dcm.classify_tool("db-admin") == "agent"
    assert dcm.classify_tool("WebFetch") == "skill"


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "home" / ".claude" / "routing.db"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not sqlite at all" * 100)
    scan = dcm.scan(tmp_path)
    collect(scan)
    assert scan.report.corrupt_files == ["home/.claude/routing.db"]


def test_one_database_keys_its_rows_alike_from_every_root() -> None:
    from memvault.migrate.sources.dcm import db_identity

    # ~, ~/.claude, the file itself, a rollback export: one database, one key
    assert {db_identity(r) for r in (".claude/routing.db", "routing.db",
                                     "home/.claude/routing.db")} == {"routing.db"}  # fmt: skip
    # two databases in one tree stay apart
    assert db_identity("backup/routing.db") != db_identity("home/.claude/routing.db")
