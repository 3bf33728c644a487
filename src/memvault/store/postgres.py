"""PostgreSQL through psycopg 3 and a psycopg_pool connection pool."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
import psycopg
from psycopg import errors as pgerrors
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb, set_json_dumps, set_json_loads
from psycopg_pool import ConnectionPool, PoolTimeout

from memvault.errors import (
    IntegrityViolation,
    StoreBusy,
    StoreError,
    StoreFull,
    StoreUnavailable,
)
from memvault.store.base import Location, Params, Store, Tx

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


set_json_dumps(_dumps)
set_json_loads(orjson.loads)


@lru_cache(maxsize=4096)
def to_pyformat(sql: str) -> str:
    """Translate `:name` placeholders into psycopg's `%(name)s`, escaping literal `%`."""
    return _PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))


def translate(exc: BaseException, sql: str = "") -> Exception:
    """Map a psycopg exception onto memvault's hierarchy."""
    text = str(exc).strip()
    if isinstance(exc, psycopg.IntegrityError):
        return IntegrityViolation(text)
    if isinstance(exc, pgerrors.DiskFull | pgerrors.OutOfMemory):
        return StoreFull(text)
    if isinstance(exc, pgerrors.LockNotAvailable | pgerrors.DeadlockDetected):
        return StoreBusy(text)
    if isinstance(exc, psycopg.OperationalError):
        return StoreUnavailable(text)
    return StoreError(f"{text} (in: {sql.strip()[:200]})" if sql else text)


class PostgresTx(Tx):
    engine = "postgresql"

    def __init__(self, conn: psycopg.Connection[Any], writable: bool) -> None:
        super().__init__(writable)
        self.conn = conn

    def execute(self, sql: str, params: Params | None = None) -> Any:
        try:
            return self.conn.execute(to_pyformat(sql), params or {})
        except psycopg.Error as exc:
            raise translate(exc, sql) from exc

    def executemany(self, sql: str, rows: Sequence[Params]) -> int:
        try:
            with self.conn.cursor() as cur:
                cur.executemany(to_pyformat(sql), rows)
                return int(cur.rowcount)
        except psycopg.Error as exc:
            raise translate(exc, sql) from exc

    def ts(self, value: datetime | None) -> Any:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    def ts_out(self, value: Any) -> datetime | None:
        if value is None:
            return None
        result: datetime = value.astimezone(UTC)
        return result

    def json(self, value: Any) -> Any:
        return Jsonb(value)

    def json_out(self, value: Any) -> Any:
        return value


class PostgresStore(Store):
    """A PostgreSQL database, shared by any number of processes and machines."""

    engine = "postgresql"

    def __init__(
        self, location: Location, *, min_size: int = 1, max_size: int = 10, timeout: float = 10.0
    ) -> None:
        super().__init__(location)
        self.conninfo = location.conninfo or ""
        self._pid = os.getpid()
        self._check_reachable(timeout)
        self.pool: ConnectionPool[Any] = ConnectionPool(
            self.conninfo,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            kwargs={"autocommit": True, "row_factory": dict_row},
            open=True,
            name="memvault",
        )

    def _check_reachable(self, timeout: float) -> None:
        try:
            with psycopg.connect(self.conninfo, connect_timeout=max(1, int(timeout))):
                pass
        except psycopg.Error as exc:
            raise StoreUnavailable(
                f"cannot reach PostgreSQL at {self.location.safe_url}: {str(exc).strip()}"
            ) from exc

    @contextmanager
    def _transaction(self, writable: bool) -> Iterator[Tx]:
        if os.getpid() != self._pid:
            raise StoreError(
                f"this Vault was opened in process {self._pid} and is being used in process "
                f"{os.getpid()} after fork(); open a new Vault in the child process"
            )
        try:
            with self.pool.connection() as conn, conn.transaction():
                yield PostgresTx(conn, writable)
        except PoolTimeout as exc:
            raise StoreBusy(f"no PostgreSQL connection free in time: {exc}") from exc
        except psycopg.Error as exc:
            raise translate(exc) from exc

    def close(self) -> None:
        if os.getpid() == self._pid:
            self.pool.close()

    def size_bytes(self) -> int:
        with self.read() as tx:
            return int(tx.scalar("SELECT pg_database_size(current_database())"))

    def check(self) -> list[str]:
        """Validate every constraint, including ones marked NOT VALID, and index health."""
        problems: list[str] = []
        with self.read() as tx:
            rows = tx.all(
                "SELECT conrelid::regclass::text AS tbl, conname FROM pg_constraint "
                "WHERE NOT convalidated AND connamespace = current_schema()::regnamespace"
            )
            problems += [f"constraint {r['conname']} on {r['tbl']} is not validated" for r in rows]
            rows = tx.all(
                "SELECT indexrelid::regclass::text AS idx FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indrelid "
                "WHERE c.relnamespace = current_schema()::regnamespace "
                "AND (NOT i.indisvalid OR NOT i.indisready)"
            )
            problems += [f"index {r['idx']} is invalid" for r in rows]
        return problems

    def sqlalchemy_engine(self) -> Any:
        import sqlalchemy as sa
        from sqlalchemy.pool import NullPool

        conninfo = self.conninfo
        return sa.create_engine(
            "postgresql+psycopg://",
            creator=lambda: psycopg.connect(conninfo),
            poolclass=NullPool,
        )
