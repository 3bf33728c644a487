"""Every revision upgrades a populated database, on SQLite and PostgreSQL; the result
matches the declared schema exactly."""

from __future__ import annotations

import multiprocessing as mp
import warnings
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import SAWarning

import memvault
from memvault.store import migrator
from memvault.store.engine import open_store, parse_url
from memvault.store.schema import metadata
from memvault.store.vocab import DERIVED_COLUMNS, DERIVED_TABLE_PREFIXES

DECLARED = {t.name for t in metadata.sorted_tables}

USER = "01900000-0000-7000-8000-000000000001"
SESSION = "01900000-0000-7000-8000-000000000002"
MEMORY = "01900000-0000-7000-8000-000000000003"


def _populate_first_revision(url: str) -> None:
    """Rows written with the first revision's columns, as an old memvault would have."""
    store = open_store(parse_url(url))
    try:
        migrator.upgrade(store, migrator.revisions()[0])
        with store.write() as tx:
            now = tx.ts(memvault.open.__globals__["utcnow"]())
            tx.execute(
                "INSERT INTO users (id, handle, profile, created_at, updated_at) "
                "VALUES (:id, 'old-timer', :p, :now, :now)",
                {"id": USER, "p": tx.json({"since": "v0.1"}), "now": now},
            )
            tx.execute(
                "INSERT INTO sessions (id, user_id, kind, status, metadata, message_count, "
                "last_seq, started_at, updated_at) VALUES (:id, :u, 'chat', 'active', :m, 2, 2, "
                ":now, :now)",
                {"id": SESSION, "u": USER, "m": tx.json({}), "now": now},
            )
            for seq, text in ((1, "bonjour, ça va ?"), (2, "très bien, merci")):
                tx.execute(
                    "INSERT INTO messages (id, session_id, user_id, seq, role, content, "
                    "metadata, created_at) VALUES (:id, :s, :u, :seq, 'user', :c, :m, :now)",
                    {
                        "id": memvault.new_id(),
                        "s": SESSION,
                        "u": USER,
                        "seq": seq,
                        "c": text,
                        "m": tx.json({}),
                        "now": now,
                    },
                )
            tx.execute(
                "INSERT INTO memories (id, user_id, kind, content, confidence, importance, "
                "access_count, content_hash, metadata, created_at, updated_at) VALUES (:id, :u, "
                "'fact', 'Parle français', 0.9, 0.5, 0, 'h', :m, :now, :now)",
                {"id": MEMORY, "u": USER, "m": tx.json({}), "now": now},
            )
    finally:
        store.close()


def test_populated_database_upgrades_through_every_revision(vault_url: str) -> None:
    # The fixture's database is already at head on PostgreSQL: start from an empty one.
    store = open_store(parse_url(vault_url))
    with store.write() as tx:
        for table in [t.name for t in reversed(metadata.sorted_tables)]:
            tx.execute(f"DROP TABLE IF EXISTS {table} CASCADE" if tx.engine != "sqlite"
                       else f"DROP TABLE IF EXISTS {table}")  # fmt: skip
        _drop_extras(tx)
    store.close()
    _populate_first_revision(vault_url)
    store = open_store(parse_url(vault_url))
    try:
        for rev in migrator.revisions()[1:]:
            assert migrator.upgrade(store, rev) == rev
    finally:
        store.close()
    with memvault.open(vault_url) as vault:
        assert vault.schema_version == migrator.head()
        session = vault.sessions.get(SESSION, user_id=USER)
        assert session.message_count == 2
        appended = vault.messages.append(SESSION, "assistant", "after the upgrade")
        assert appended.seq == 3
        assert vault.users.get(USER).profile == {"since": "v0.1"}
        assert vault.memories.get(MEMORY).content == "Parle français"
        assert vault.check() == []


def _drop_extras(tx: object) -> None:
    """Drop what later revisions add outside the declared tables (full-text, versions)."""
    from memvault.store.base import Tx

    assert isinstance(tx, Tx)
    if tx.engine == "sqlite":
        rows = tx.all("SELECT name, type FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
        for row in rows:
            if row["type"] == "table":
                tx.execute(f'DROP TABLE IF EXISTS "{row["name"]}"')
        return
    tx.execute(f"DROP TABLE IF EXISTS {migrator.VERSION_TABLE}")
    rows = tx.all("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    for row in rows:
        tx.execute(f'DROP TABLE IF EXISTS "{row["tablename"]}" CASCADE')


def _declared(name: str | None, kind: str, parent: dict[str, str | None]) -> bool:
    """Compare declared objects only: revisions also add engine-specific derived objects
    (FTS5 tables, `fts` tsvector and pgvector `vec` columns and their indexes)."""
    if name is None:
        return True
    if kind == "table":
        return name in DECLARED and not name.startswith(DERIVED_TABLE_PREFIXES)
    if kind == "column":
        return name not in DERIVED_COLUMNS
    if kind == "index":
        return not name.endswith("_fts")
    return True


def test_migrated_schema_matches_the_declared_schema(vault: memvault.Vault) -> None:
    engine = vault.store.sqlalchemy_engine()
    try:
        with engine.connect() as conn, warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)  # reflection does not know `vector`
            context = MigrationContext.configure(
                conn, opts={"include_name": _declared, "compare_type": True}
            )
            diff = compare_metadata(context, metadata)
    finally:
        engine.dispose(close=False)
    assert diff == []


def _open_and_write(url: str, handle: str) -> str:
    with memvault.open(url) as vault:
        return vault.users.create(handle).id


def test_processes_opening_a_new_file_at_once_create_one_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    ctx = mp.get_context("spawn")
    with ctx.Pool(4) as pool:
        ids = pool.starmap(_open_and_write, [(url, f"u{i}") for i in range(8)])
    assert len(set(ids)) == 8
    with memvault.open(url) as vault:
        assert vault.stats().counts["users"] == 8


def test_upgrade_and_current_commands_exist(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from memvault.cli import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    result = runner.invoke(app, ["current", "--db", url])  # only reads: creates nothing
    assert result.exit_code != 0 and "memvault init" in str(result.exception)
    assert not (tmp_path / "cli.db").exists()
    result = runner.invoke(app, ["upgrade", "--db", url])
    assert result.exit_code == 0, result.output
    assert migrator.head() in result.output
    result = runner.invoke(app, ["current", "--db", url])
    assert "up to date" in result.output


def test_revisions_match_the_scripts() -> None:
    """Opening a store compares its revision with `migrator.REVISIONS` without loading
    Alembic: the list must be the scripts' single chain, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(migrator.SCRIPT_LOCATION)
    assert len(script.get_heads()) == 1, script.get_heads()
    walked = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert migrator.revisions() == walked
    assert migrator.head() == script.get_current_head()


@pytest.mark.parametrize("rev", ["0001"])
def test_first_revision_is_stable(rev: str) -> None:
    assert migrator.revisions()[0] == rev
