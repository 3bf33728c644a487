"""Rollback to DCM: `export --format dcm` writes the routing.db the old hook reads; legacy →
import → export → import into a fresh store gives the same actions and routing scores, and
importing the export into the original store changes nothing (same legacy row ids)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import memvault
from memvault.migrate import import_source
from memvault.migrate.export import export_dcm
from tests.migrate.legacy_data import write_dcm


def actions(vault: memvault.Vault) -> list[tuple[Any, ...]]:
    sessions = {s.id: s.metadata.get("claude_session_id") for s in
                vault.sessions.list(limit=1000)}  # fmt: skip
    projects = {p.id: p.path for p in vault.projects.list(limit=1000)}
    return sorted(
        (a.tool_name, a.tool_type, tuple(a.file_paths), a.exit_code, a.duration_ms,
         a.created_at, sessions.get(a.session_id or ""), projects.get(a.project_id or ""),
         a.metadata.get("legacy_row_id"), a.metadata.get("exit_code_raw"))
        for a in vault.actions.list(memvault.ANY, limit=1000)
    )  # fmt: skip


def scores(vault: memvault.Vault) -> list[tuple[Any, ...]]:
    return sorted(
        (s.keyword, s.tool_name, s.tool_type, s.weight, s.usage_count, s.success_count,
         s.last_used_at)
        for s in vault.routing.scores(None)
    )  # fmt: skip


def test_dcm_round_trip(vault: memvault.Vault, tmp_path: Path) -> None:
    legacy = write_dcm(tmp_path / "legacy")
    import_source(vault, legacy, format="dcm", backup_dir=tmp_path / "b")
    # Written in memvault after the cutover: it must reach the rollback file too.
    owner = vault.users.resolve("default").id
    vault.actions.record("Grep", user_id=owner, exit_code=0, duration_ms=3.0,
                         created_at=datetime(2025, 12, 3, 8, 0, tzinfo=UTC))  # fmt: skip

    out = tmp_path / "rollback"
    counts = export_dcm(vault, out)
    assert counts == {"tool_usage": 7, "keyword_tool_scores": 3}

    # The layout DCM reads: ~/.claude/routing.db with the columns migrate-sqlite.ts selects.
    db = out / "home" / ".claude" / "routing.db"
    conn = sqlite3.connect(db)
    got = conn.execute(
        "SELECT keyword, tool_name, tool_type, score, usage_count, success_count, last_used"
        " FROM keyword_tool_scores ORDER BY keyword"
    ).fetchall()
    assert got == [
        ("deploy", "mcp__vercel__deploy", "mcp", 2.5, 10, 9, "2025-11-03T12:00:00Z"),
        ("refactor", "Edit", "builtin", 1.4, 6, 5, "2025-11-03 09:00:00"),
        ("test", "Bash", "builtin", 1.1, 3, 2, None),
    ]
    edit = conn.execute(
        "SELECT file_paths, exit_code, created_at FROM tool_usage WHERE tool_name = 'Edit'"
    ).fetchone()
    assert edit == ("src/a.py,src/b.py", "", "2025-12-01 10:00:05")  # as the bash hook wrote
    assert conn.execute("SELECT max(id) FROM tool_usage").fetchone() == (9,)  # after legacy 8
    conn.close()

    # Into a fresh store: the same actions and scores.
    with memvault.open(f"sqlite:///{tmp_path / 'fresh.db'}") as fresh:
        result = import_source(fresh, out, format="dcm", backup_dir=tmp_path / "b2")
        assert result.exit_code == 0, result.as_dict()["run"]
        mine = [a for a in actions(vault) if a[0] != "Grep"]
        theirs = [a for a in actions(fresh) if a[0] != "Grep"]
        assert theirs == mine
        assert scores(fresh) == scores(vault)
        [grep] = fresh.actions.list(memvault.ANY, tool_name="Grep")
        assert grep.exit_code == 0 and grep.duration_ms == 3.0

    # Into the original store: nothing new, nothing updated (the legacy row ids came back).
    again = import_source(vault, out, format="dcm", backup_dir=tmp_path / "b3")
    store = again.as_dict()["run"]["store"]
    assert {t: c["new"] for t, c in store.items() if c["new"]} == {"actions": 1}  # the Grep
    assert all(c["updated"] == 0 for c in store.values()), store
