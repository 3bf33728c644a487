"""Real PostgreSQL servers for the tests.

    from tests._servers import postgres_urls, fresh_database, sqlalchemy_url

    urls = postgres_urls()              # {"pg15": "postgresql://...", "pg18": "postgresql://..."}
    url = fresh_database(urls["pg18"], "mv_test_store")   # a new, empty database

`postgres_urls()` reads MEMVAULT_TEST_PG15_URL / MEMVAULT_TEST_PG18_URL; for the ones that
are unset it starts the servers with scripts/pgservers.py (about a second when they are
already initialised). A server that cannot be reached is left out of the result so the
caller can skip, except under CI=true, where it raises RuntimeError: in CI the PostgreSQL
tests must fail, never skip. Set MEMVAULT_TEST_PG_AUTOSTART=0 to never start servers.

The URLs are plain `postgresql://postgres@127.0.0.1:PORT/memvault_test` (trust auth,
superuser). psycopg takes them as they are; SQLAlchemy would read a bare `postgresql://` as
psycopg2, so pass them through `sqlalchemy_url()` (-> `postgresql+psycopg://`).

pg18 has pgvector (`vector`) and `unaccent`; pg15 has `unaccent` but no pgvector. Both are
created in template1, so every database made by `fresh_database` already has them.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
PGSERVERS = REPO / "scripts" / "pgservers.py"
ENV_VARS = {"pg15": "MEMVAULT_TEST_PG15_URL", "pg18": "MEMVAULT_TEST_PG18_URL"}

_cache: dict[str, str] | None = None


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def postgres_urls() -> dict[str, str]:
    """{"pg15": url, "pg18": url} for the servers that are up (see the module doc)."""
    global _cache
    if _cache is not None:
        return dict(_cache)

    urls = {name: os.environ[var] for name, var in ENV_VARS.items() if os.environ.get(var)}
    problems: dict[str, str] = {}
    missing = [name for name in ENV_VARS if name not in urls]
    if missing:
        if os.environ.get("MEMVAULT_TEST_PG_AUTOSTART", "1") == "0":
            for name in missing:
                problems[name] = f"{ENV_VARS[name]} is unset and MEMVAULT_TEST_PG_AUTOSTART=0"
        else:
            started, err = _start_servers(missing)
            urls.update(started)
            for name in missing:
                if name not in started:
                    problems[name] = f"scripts/pgservers.py could not start it:\n{err}"

    for name, url in list(urls.items()):
        err = _probe(url)
        if err is not None:
            problems[name] = f"cannot connect to {url}: {err}"
            del urls[name]

    if problems:
        report = "\n".join(f"  {name}: {msg}" for name, msg in sorted(problems.items()))
        if in_ci():
            raise RuntimeError(
                "PostgreSQL test servers unavailable in CI (tests must not skip there):\n"
                f'{report}\nStart them with: eval "$(python scripts/pgservers.py start)"'
            )
        print(f"[tests._servers] PostgreSQL servers unavailable:\n{report}", file=sys.stderr)

    for name, url in urls.items():  # so subprocesses of the tests see the same servers
        os.environ.setdefault(ENV_VARS[name], url)
    _cache = urls
    return dict(urls)


def _start_servers(names: list[str]) -> tuple[dict[str, str], str]:
    try:
        proc = subprocess.run(
            [sys.executable, str(PGSERVERS), "start", *names],
            capture_output=True,
            text=True,
            timeout=900,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return {}, str(exc)
    found = _parse_exports(proc.stdout)
    started = {name: found[var] for name, var in ENV_VARS.items() if var in found}
    return started, proc.stderr.strip()


def _parse_exports(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = shlex.split(line)
        if len(parts) == 2 and parts[0] == "export" and "=" in parts[1]:
            key, value = parts[1].split("=", 1)
            out[key] = value
    return out


def libpq_url(url: str) -> str:
    """The URL in the form libpq/psycopg accept (drops a SQLAlchemy `+driver`)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme=parts.scheme.split("+", 1)[0]))


def sqlalchemy_url(url: str) -> str:
    """The URL for SQLAlchemy with the psycopg (3) driver."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql+psycopg"))


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    return urlunsplit(urlsplit(url)._replace(path="/" + dbname))


def _probe(url: str) -> str | None:
    try:
        import psycopg
    except ImportError:
        import socket

        parts = urlsplit(url)
        try:
            with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), 5):
                return None
        except OSError as exc:
            return str(exc)
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
        return None
    except psycopg.Error as exc:
        return str(exc).strip()


_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def _scoped_name(name: str) -> str:
    """`name`, made unique to this run: the pytest-xdist worker id and $MEMVAULT_TEST_DB_SUFFIX
    (set it when two checkouts run their suites against the same servers) are appended."""
    tail = ""
    for part in (os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("MEMVAULT_TEST_DB_SUFFIX")):
        if part and not name.endswith("_" + part):
            tail += "_" + part
    if len(name) + len(tail) > 63:  # PostgreSQL's limit: shorten, keeping names distinct
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        name = f"{name[: 63 - len(tail) - 9]}_{digest}"
    return (name + tail).lower()


def fresh_database(base_url: str, name: str) -> str:
    """Create database `name` (dropping it first if it exists) on base_url's server.

    Returns base_url pointing at the new database. The database is a copy of template1, so
    it already has the server's extensions (vector and unaccent on pg18). Under
    pytest-xdist the worker id is appended to the name so parallel workers don't collide.
    Use one name per test module, e.g. f"mv_{Path(__file__).stem}".
    """
    import psycopg
    from psycopg import sql

    name = _scoped_name(name)
    if not _NAME.match(name) or len(name) > 63:
        raise ValueError(f"bad database name {name!r}: use [a-z0-9_], at most 63 characters")
    if name in ("postgres", "template0", "template1"):
        raise ValueError(f"refusing to recreate {name!r}")

    admin = with_database(libpq_url(base_url), "postgres")
    ident = sql.Identifier(name)
    deadline = time.monotonic() + 30
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        while True:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template1").format(ident))
                break
            except psycopg.errors.ObjectInUse:
                # Someone is connected to template1 (another worker's CREATE DATABASE or
                # pgservers provisioning); it takes milliseconds, so wait a moment.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    return with_database(base_url, name)


def drop_database(base_url: str, name: str) -> None:
    """Drop a database made by fresh_database (the same name it was given)."""
    import psycopg
    from psycopg import sql

    name = _scoped_name(name)
    admin = with_database(libpq_url(base_url), "postgres")
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
