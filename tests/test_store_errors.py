"""Opening stores: URLs, unreachable servers, foreign databases, schemas too new."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import memvault
from memvault import InvalidInput, SchemaError, SchemaTooNew, StoreUnavailable
from memvault.store.engine import open_store, parse_url


def test_default_url_is_memvault_db_in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MEMVAULT_URL", raising=False)
    with memvault.open() as vault:
        vault.users.create("persisted")
    assert (tmp_path / "memvault.db").exists()
    with memvault.open() as vault:  # data survives a restart without configuration
        assert vault.users.get_by_handle("persisted")


def test_env_url_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMVAULT_URL", f"sqlite:///{tmp_path / 'env.db'}")
    with memvault.open() as vault:
        assert vault.url.endswith("env.db")


@pytest.mark.parametrize("url", ["mysql://x/y", "redis://localhost", "ftp:bad", ""])
def test_unknown_scheme_is_invalid_input(url: str) -> None:
    with pytest.raises(InvalidInput, match="url"):
        memvault.open(url)


def test_url_forms() -> None:
    assert parse_url("sqlite:///rel/a.db").path == "rel/a.db"
    assert parse_url("sqlite:////abs/a.db").path == "/abs/a.db"
    assert parse_url("sqlite://").path == ":memory:"
    assert parse_url("plain.db").path == "plain.db"
    pg = parse_url("postgresql://u:secret@h:5/db")
    assert pg.engine == "postgresql" and "secret" not in pg.safe_url


def test_unreachable_server_names_host_and_hides_password() -> None:
    with pytest.raises(StoreUnavailable) as info:
        memvault.open("postgresql://u:topsecret@127.0.0.1:1/nothing")
    assert "127.0.0.1" in str(info.value)
    assert "topsecret" not in str(info.value)


def test_missing_folder_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="does not exist"):
        memvault.open(tmp_path / "no" / "such" / "dir.db")


def test_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    with pytest.raises(SchemaError, match="invoices"):
        memvault.open(path)
    with sqlite3.connect(path) as conn:  # nothing was written into it
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert names == {"invoices"}


def test_schema_newer_than_the_code_is_refused(vault_url: str) -> None:
    vault = memvault.open(vault_url)
    head = vault.schema_version
    with vault.store.write() as tx:
        tx.execute("UPDATE memvault_version SET version_num = '9999'")
    vault.close()
    try:
        with pytest.raises(SchemaTooNew, match="9999"):
            memvault.open(vault_url)
    finally:
        store = open_store(parse_url(vault_url))
        with store.write() as tx:
            tx.execute("UPDATE memvault_version SET version_num = :v", {"v": head})
        store.close()


def test_memory_database_works() -> None:
    with memvault.open("sqlite://") as vault:
        user = vault.users.create("ephemeral")
        session = vault.sessions.create(user.id)
        vault.messages.append(session.id, "user", "hi")
        assert vault.stats().counts["messages"] == 1
