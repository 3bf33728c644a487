"""Commands that only read never create or migrate a store.

Every command of `memvault.cli.app.COMMANDS` that is not one whose job is to create a store
(init, demo, import, upgrade, restore, transfer's destination, serve --init) runs against a
SQLite path that does not exist and against an empty PostgreSQL database: it must exit
non-zero with a message naming `memvault init`, leave no file behind, and leave the database
without tables or new extensions. Run as a user runs them: the installed entry point.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from memvault.cli.app import COMMANDS, CREATING_COMMANDS
from tests._servers import drop_database, fresh_database, in_ci, postgres_urls

MEMVAULT = shutil.which("memvault", path=os.path.dirname(sys.executable)) or "memvault"
SOME_ID = "01a237f7-7454-73bf-b8b7-083d13d2c660"  # a well-formed id that names nothing

# Commands whose job is to create or change a store's schema (tested elsewhere); `serve`
# creates only with --init, so without it it is checked here like every reader.
CREATING = CREATING_COMMANDS - {"serve"}

# Every other command, with every subcommand, as a user would type it.
READERS: dict[str, list[list[str]]] = {
    "stats": [["stats"], ["stats", "--json"]],
    "check": [["check"]],
    "backup": [["backup", "{tmp}/backup.db"]],
    "reset": [["reset", "--yes"]],
    "current": [["current"]],
    "downgrade": [["downgrade", "0006", "--yes"]],
    "dualwrite": [["dualwrite", "stage", "{tmp}/sessions.json", "--user", "yuki"],
                  ["dualwrite", "status"], ["dualwrite", "advance"], ["dualwrite", "rollback"]],
    "search": [["search", "lyon", "--user", "alice"],
               ["search", "lyon", "--user", "alice", "--messages"]],
    "reindex": [["reindex"], ["reindex", "--ann", "--min-rows", "1"]],
    "embed": [["embed"]],
    "export": [["export", "--format", "json"]],
    "verify": [["verify", "--against", "{tmp}"]],
    "emotions": [["emotions", "alice"]],
    "traits": [["traits", "alice"]],
    "patterns": [["patterns", "--intent", "greet"]],
    "route": [["route", "open a file"]],
    "tasks": [["tasks"]],
    "prune": [["prune"], ["prune", "--dry-run"]],
    "serve": [["serve", "--port", "1"]],  # without --init: refuses before binding
    "actions": [["actions", "stats"], ["actions", "list"]],
    "retention": [["retention", "list"], ["retention", "set", "actions", "--max-age-days", "30"],
                  ["retention", "remove", "actions"]],
    "keys": [["keys", "list"], ["keys", "create", "--admin"], ["keys", "revoke", "mv_1234"]],
    "users": [["users", "list"], ["users", "add", "alice"], ["users", "show", "alice"]],
    "sessions": [["sessions", "list"], ["sessions", "show", SOME_ID]],
    "memories": [
        ["memories", "list", "--user", "alice"], ["memories", "add", "fact", "x", "--base"],
        ["memories", "show", SOME_ID], ["memories", "edit", SOME_ID, "--content", "y"],
        ["memories", "delete", SOME_ID, "--yes"], ["memories", "history", SOME_ID],
    ],
    "mcp": [["mcp", "--user", "alice"]],
    # `memvault hook` itself always exits 0 (it spools: tests/hook); its replay refuses.
    "hook": [["hook", "replay", "--user", "alice", "--spool", "{tmp}/spool.jsonl"]],
}  # fmt: skip
CASES = [
    pytest.param(argv, id=" ".join(argv).replace("{tmp}", "T"))
    for name in READERS
    for argv in READERS[name]
]
# `memvault mcp` is what an agent launches from its settings, usually before anyone ran
# `memvault init`: on a SQLite path it creates the store and says so (tested below); on
# PostgreSQL it refuses like every reader.
SQLITE_CASES = [case for case in CASES if case.values[0][0] != "mcp"]


def test_every_command_is_either_creating_or_checked_here() -> None:
    assert {"init", "demo", "import", "upgrade", "restore", "transfer"} == CREATING
    assert set(COMMANDS) == CREATING | set(READERS)


def run(argv: list[str], db: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MEMVAULT_URL"}
    env["COLUMNS"] = "200"
    args = [a.replace("{tmp}", str(cwd)) for a in argv]
    return subprocess.run(
        [MEMVAULT, *args, "--db", db], cwd=cwd, capture_output=True, text=True, timeout=120,
        env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def assert_refused(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode != 0, result.stdout
    assert "memvault init" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize("argv", SQLITE_CASES)
def test_on_a_missing_sqlite_file_nothing_is_created(argv: list[str], tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    assert_refused(run(argv, f"sqlite:///{path}", tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_mcp_on_a_missing_sqlite_file_creates_the_store_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "agent.db"
    result = run(["mcp", "--user", "alice"], f"sqlite:///{path}", tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"created the store {path}" in result.stderr, result.stderr
    assert path.exists()
    assert run(["stats"], f"sqlite:///{path}", tmp_path).returncode == 0


def test_a_sqlite_file_that_is_not_a_store_is_left_untouched(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    assert_refused(run(["stats"], f"sqlite:///{empty}", tmp_path))
    assert empty.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


@pytest.fixture(scope="module")
def empty_pg() -> Iterator[str]:
    urls = postgres_urls()
    if "pg18" not in urls:
        if in_ci():
            pytest.fail("PostgreSQL 18 is not available in CI")
        pytest.skip("PostgreSQL 18 not available")
    url = fresh_database(urls["pg18"], "mv_cli_readonly")
    yield url
    drop_database(urls["pg18"], "mv_cli_readonly")


def pg_state(url: str) -> tuple[list[str], list[str]]:
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT schemaname || '.' || tablename FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
        ).fetchall()
        extensions = conn.execute("SELECT extname FROM pg_extension ORDER BY 1").fetchall()
    return [t[0] for t in tables], [e[0] for e in extensions]


@pytest.mark.parametrize("argv", CASES)
def test_on_an_empty_postgresql_database_nothing_is_installed(
    argv: list[str], empty_pg: str, tmp_path: Path
) -> None:
    before = pg_state(empty_pg)
    assert before[0] == []
    assert_refused(run(argv, empty_pg, tmp_path))
    assert pg_state(empty_pg) == before


def test_an_older_schema_is_not_migrated_by_a_reader(tmp_path: Path) -> None:
    from memvault.store import migrator
    from memvault.store.engine import open_store, parse_url

    url = f"sqlite:///{tmp_path / 'old.db'}"
    older = migrator.REVISIONS[-2]
    store = open_store(parse_url(url))
    migrator.upgrade(store, older)
    store.close()
    result = run(["stats"], url, tmp_path)
    assert result.returncode != 0
    assert "memvault upgrade" in result.stderr, result.stderr
    store = open_store(parse_url(url), create=False)
    try:
        assert migrator.current(store) == older
    finally:
        store.close()


def test_transfer_from_a_missing_source_leaves_no_file(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MEMVAULT_URL"}
    src, dst = tmp_path / "missing.db", tmp_path / "copy.db"
    result = subprocess.run(
        [MEMVAULT, "transfer", f"sqlite:///{src}", f"sqlite:///{dst}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert result.returncode != 0
    assert "missing.db" in result.stderr and "does not exist" in result.stderr, result.stderr
    assert not src.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("bad", "named"),
    [(["legacy", "--format", "chatgtp"], "--format"),
     (["legacy", "--format", "generic"], "--mapping"),
     (["nowhere"], "no such file or directory")],
)  # fmt: skip
def test_import_with_bad_options_creates_no_store(
    bad: list[str], named: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MEMVAULT_URL"}
    (tmp_path / "legacy").mkdir()
    result = subprocess.run(
        [MEMVAULT, "import", *bad, "--db", "sqlite:///new.db"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert result.returncode == 1
    assert named in result.stderr, result.stderr
    assert not (tmp_path / "new.db").exists()
