"""Shared fixtures: the same tests run on SQLite and on both real PostgreSQL servers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import memvault
from memvault.store.schema import metadata
from tests._servers import drop_database, fresh_database, postgres_urls

ENGINES = ("sqlite", "pg15", "pg18")
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def pg_servers() -> dict[str, str]:
    """Base URLs of the PostgreSQL servers (fails, never skips, in CI when one is missing)."""
    return postgres_urls()


@pytest.fixture(scope="session")
def pg_databases(pg_servers: dict[str, str]) -> Iterator[dict[str, str]]:
    """One fresh database per server for this test session (named by pid, so that parallel
    runs never share one), schema created once, dropped at the end."""
    urls = {}
    for name, base in pg_servers.items():
        url = fresh_database(base, f"memvault_t_{name}_{os.getpid()}")
        memvault.open(url).close()  # creates the schema
        urls[name] = url
    yield urls
    for name, url in urls.items():
        drop_database(pg_servers[name], url.rsplit("/", 1)[1].split("?")[0])


def engine_url(engine: str, tmp_path: Path, pg_databases: dict[str, str]) -> str:
    """A store URL for `engine`: a new SQLite file, or an emptied PostgreSQL database."""
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'vault.db'}"
    if engine not in pg_databases:
        if IN_CI:
            pytest.fail(f"PostgreSQL server {engine} is not available in CI")
        pytest.skip(f"PostgreSQL server {engine} not available")
    url = pg_databases[engine]
    tables = ", ".join(t.name for t in metadata.sorted_tables)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {tables} CASCADE")
    return url


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def vault_url(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'vault.db'}"
    return engine_url(engine, tmp_path, request.getfixturevalue("pg_databases"))


@pytest.fixture
def vault(vault_url: str) -> Iterator[memvault.Vault]:
    """An open, empty Vault on each engine in turn."""
    v = memvault.open(vault_url)
    try:
        yield v
    finally:
        v.close()


@pytest.fixture
def sqlite_vault(tmp_path: Path) -> Iterator[memvault.Vault]:
    """An open, empty Vault on a SQLite file."""
    v = memvault.open(f"sqlite:///{tmp_path / 'vault.db'}")
    try:
        yield v
    finally:
        v.close()
