"""The seed projects' migrations, as their users live them with the real `memvault` command.

- DCM: the old SQLite hook and memvault run side by side for weeks; the legacy db changes,
  is imported again, compared with `verify --against`, and rolled back with `export`.
- EdgeSoul: after the import, `memvault emotions USER` and the profile show the legacy data.
- Workly: after the import, `memvault traits amelie` shows Workly's traits.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.journeys.conftest import Cli
from tests.migrate.legacy_data import DCM_S1, write_dcm, write_edgesoul, write_workly


def _import(cli: Cli, source: Path, fmt: str, *extra: str) -> tuple[int, dict[str, Any]]:
    result = cli("import", str(source), "--format", fmt, "--json", *extra)
    assert result.returncode in (0, 2, 3), result.stderr[-2000:]
    return result.returncode, json.loads(result.stdout)


def test_dcm_weeks_side_by_side_then_rollback(cli: Cli, tmp_path: Path) -> None:
    legacy = write_dcm(tmp_path / "legacy")
    code, report = _import(cli, legacy, "dcm")
    assert code == 2  # the fixture's bad rows are quarantined, and said so
    assert report["run"]["store"]["routing_scores"]["new"] == 3
    assert cli("verify", "--against", str(legacy)).returncode == 0

    # A week later: the old hook recorded a success and one more tool use.
    db = legacy / "home" / ".claude" / "routing.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO keyword_tool_scores (keyword, tool_name, tool_type, score, usage_count,"
            " success_count, last_used) VALUES ('refactor', 'Edit', 'builtin', 1.5, 7, 6,"
            " '2025-12-08 09:00:00')"
        )  # the old hook's table has no UNIQUE(keyword, tool): the newest row wins
        conn.execute(
            "INSERT INTO tool_usage (session_id, tool_name, tool_type, file_paths, exit_code,"
            " duration_ms, project_path, created_at) VALUES (?, 'Grep', 'builtin', NULL, 0, 9,"
            " '/home/u/proj-a', '2025-12-08 09:00:00')",
            (DCM_S1,),
        )
    conn.close()
    drift = cli("verify", "--against", str(legacy), "--json")
    assert drift.returncode == 3
    entities = json.loads(drift.stdout)["entities"]
    assert entities["routing_scores"]["changed_ids"] == ["refactor/Edit: weight 1.5 -> 1.4"]
    assert entities["actions"]["missing"] == 1

    code, report = _import(cli, legacy, "dcm")
    # Not 3: the changed score was brought up to date; not 2: the fixture's bad rows were
    # quarantined by the first import, once.
    assert code == 0, report["run"]
    assert report["run"]["quarantined_before"] == report["run"]["quarantined"] > 0
    store = report["run"]["store"]
    assert store["routing_scores"]["updated"] == 1 and store["actions"]["new"] == 1
    assert cli("verify", "--against", str(legacy)).returncode == 0
    routed = cli.ok("route", "refactor the parser").stdout
    assert "Edit" in routed

    code, report = _import(cli, legacy, "dcm")
    store = report["run"]["store"]
    assert all(c["new"] == 0 and c["updated"] == 0 for t, c in store.items()
               if t != "quarantine"), store  # fmt: skip

    # Rollback: the routing.db the old hook reads, with the up-to-date scores.
    cli.ok("export", "--format", "dcm", "--out", "rollback")
    back = cli.cwd / "rollback" / "home" / ".claude" / "routing.db"
    with sqlite3.connect(back) as conn:
        assert conn.execute(
            "SELECT score, usage_count, success_count FROM keyword_tool_scores"
            " WHERE keyword = 'refactor' AND tool_name = 'Edit'"
        ).fetchall() == [(1.5, 7, 6)]
        assert conn.execute("SELECT count(*) FROM tool_usage").fetchone() == (7,)
    conn.close()
    fresh = Cli(cli.cwd / "fresh")
    fresh.cwd.mkdir()
    code, report = _import(fresh, back.parent.parent.parent, "dcm")
    assert code == 0, report["run"]
    assert report["run"]["store"]["routing_scores"]["new"] == 3
    assert report["run"]["store"]["actions"]["new"] == 7


def test_edgesoul_emotions_and_profile_after_import(cli: Cli, tmp_path: Path, service: Any) -> None:
    legacy = write_edgesoul(tmp_path / "legacy")
    _import(cli, legacy, "edgesoul")
    out = cli.ok("emotions", "user_001").stdout
    assert "joy" in out and "music" in out and "friends" in out
    patterns = cli.json("emotions", "user_001")["patterns"]
    [joy] = patterns
    assert joy["count"] == 12 and abs(joy["avg_intensity"] - 0.88) < 1e-9

    admin = cli.json("keys", "create", "--admin")
    key = admin["key"] if "key" in admin else admin["secret"]
    served = service()
    with served.client(key) as http:
        users = http.get("/api/users").json()
        items = users["items"] if isinstance(users, dict) else users
        [amelie] = [u for u in items if u["handle"] == "user_001"]
        profile = http.get(f"/api/users/{amelie['id']}/profile").json()
    assert profile["personality"]["empathy"] == 0.8
    assert profile["voice"]["speed"] == 1.2
    assert profile["interests"] == ["cuisine", "vélo", "jazz 🎷"]
    served.stop()


def test_workly_traits_show_without_agent(cli: Cli, tmp_path: Path) -> None:
    legacy = write_workly(tmp_path / "legacy")
    _import(cli, legacy, "workly", "--user", "amelie")
    out = cli.ok("traits", "amelie").stdout
    assert "workly" in out and "kindness" in out and "creativity" in out
    data = cli.json("traits", "amelie")
    assert data["personality"]["agent"] == "workly"
    assert data["personality"]["traits"]["kindness"] == 0.51
