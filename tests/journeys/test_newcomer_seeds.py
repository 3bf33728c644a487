"""Newcomer journey: a DCM user switches ~/.claude/routing.db to memvault and keeps a rollback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SESSION = "3f2b8c1e-1111-4a2b-9c3d-aaaaaaaaaaaa"


def make_routing_db(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.executescript(
        """
        create table tool_usage(id integer primary key, session_id text, tool_name text,
            tool_type text, file_paths text, exit_code integer, duration_ms integer,
            project_path text, created_at text);
        create table keyword_tool_scores(keyword text, tool_name text, tool_type text,
            score real, usage_count integer, success_count integer, last_used text);
        """
    )
    con.executemany(
        "insert into tool_usage values (?,?,?,?,?,?,?,?,?)",
        [
            (1, SESSION, "Read", "builtin", "src/app.ts,src/db.ts", 0, 12, "/home/dev/shop",
             "2025-05-01 10:00:00"),
            (2, SESSION, "Bash", "builtin", "[]", "", 3400, "/home/dev/shop",
             "2025-05-01 10:01:00"),
            (3, None, "mcp__github__create_pr", "mcp", "[]", 1, 800, "/home/dev/shop",
             "2025-05-01 10:02:00"),
        ],
    )  # fmt: skip
    con.executemany(
        "insert into keyword_tool_scores values (?,?,?,?,?,?,?)",
        [
            ("database", "Read", "builtin", 1.3, 4, 3, "2025-05-01 10:00:00"),
            ("database", "Read", "builtin", 1.5, 5, 4, "2025-05-02 10:00:00"),  # no UNIQUE: merged
            ("deploy", "Bash", "builtin", 0.9, 2, 1, None),
        ],
    )
    con.commit()
    con.close()


def test_dcm_import_reimport_verify_and_rollback(cli):
    db = cli.cwd / "claude" / "routing.db"
    make_routing_db(db)

    cli.ok("import", "claude", "--format", "dcm")
    route = cli.ok("route", "database schema").stdout
    assert "Read" in route and "1.50" in route  # the last duplicate row wins
    stats = cli.ok("actions", "stats").stdout
    assert "mcp__" in stats and "Bash" in stats

    # the legacy hook keeps running: a score changes, a tool use is added
    con = sqlite3.connect(db)
    con.execute("update keyword_tool_scores set score = 2.0 where keyword = 'deploy'")
    con.execute(
        "insert into tool_usage values (4,?,'Edit','builtin','[\"src/app.ts\"]',0,40,"
        "'/home/dev/shop','2025-05-01 10:03:00')",
        (SESSION,),
    )
    con.commit()
    con.close()

    drift = cli("verify", "--against", "claude")
    assert drift.returncode == 3, drift.stdout
    assert "tool_usage:4" in drift.stdout and "deploy/Bash" in drift.stdout

    cli.ok("import", "claude", "--format", "dcm")
    assert "in sync" in cli.ok("verify", "--against", "claude").stdout

    # rollback: export back to the legacy layout, faithful to the rows
    cli.ok("export", "--format", "dcm", "--out", "rollback")
    exported = next((cli.cwd / "rollback").rglob("routing.db"))
    con = sqlite3.connect(exported)
    scores = dict(
        ((k, t), s)
        for k, t, s in con.execute("select keyword, tool_name, score from keyword_tool_scores")
    )
    assert scores == {("database", "Read"): 1.5, ("deploy", "Bash"): 2.0}
    tools = [r[0] for r in con.execute("select tool_name from tool_usage order by id")]
    assert tools == ["Read", "Bash", "mcp__github__create_pr", "Edit"]
    con.close()

    # the store and its own rollback export should agree
    again = cli("verify", "--against", "rollback")
    assert again.returncode == 0, again.stdout
