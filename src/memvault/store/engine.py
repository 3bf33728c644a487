"""URL → Store: the only place that knows which engines exist."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from memvault.errors import InvalidInput
from memvault.store.base import Location, Store

DEFAULT_PATH = "memvault.db"
PG_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def default_url() -> str:
    """`$MEMVAULT_URL`, else `./memvault.db`."""
    return os.environ.get("MEMVAULT_URL") or f"sqlite:///{DEFAULT_PATH}"


def parse_url(url: str | os.PathLike[str] | None) -> Location:
    """Parse a store URL: `sqlite:///path`, a plain file path, or `postgresql://…`."""
    if url is None:
        url = default_url()
    text = os.fspath(url)
    if not text.strip():
        raise InvalidInput("url", text, "empty URL")
    if "\x00" in text:
        raise InvalidInput("url", text, "contains a NUL byte")
    if "://" not in text:
        if ":" in text.split("/")[0] and not Path(text).exists():
            raise InvalidInput(
                "url", text, "unknown URL scheme; use sqlite:///path or postgresql://…"
            )
        return Location("sqlite", f"sqlite:///{text}", path=str(Path(text)))
    scheme = text.split("://", 1)[0].lower()
    if scheme in ("sqlite", "sqlite+sqlean", "sqlite+pysqlite"):
        rest = text.split("://", 1)[1]
        if rest in ("", "/", "/:memory:"):
            return Location("sqlite", text, path=":memory:")
        if not rest.startswith("/"):
            raise InvalidInput("url", text, "expected sqlite:///relative/path or sqlite:////abs")
        path = unquote(rest[1:].split("?", 1)[0])
        return Location("sqlite", text, path=path)
    if scheme in PG_SCHEMES:
        parts = urlsplit(text)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
        query.append(("application_name", "memvault"))
        if not any(k == "connect_timeout" for k, _ in query):
            query.append(("connect_timeout", "5"))
        conninfo = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(query), ""))
        return Location("postgresql", text, conninfo=conninfo)
    raise InvalidInput(
        "url", text, f"unknown URL scheme {scheme!r}; use sqlite:///path or postgresql://…"
    )


def open_store(location: Location, *, create: bool = True, **options: Any) -> Store:
    """Open the engine named by `location` with engine-specific `options`.

    `create=False`: a SQLite file must already exist and hold a memvault schema (nothing is
    created or written on open); PostgreSQL never creates anything on open (the schema and
    its extensions come from `migrator`)."""
    if location.engine == "sqlite":
        from memvault.store.sqlite import SQLiteStore

        sqlite_options = {
            k: v for k, v in options.items() if k in ("synchronous", "busy_timeout", "foreign_keys")
        }
        return SQLiteStore(location, create=create, **sqlite_options)
    from memvault.store.postgres import PostgresStore

    pg_options = {k: v for k, v in options.items() if k in ("min_size", "max_size", "timeout")}
    return PostgresStore(location, **pg_options)
