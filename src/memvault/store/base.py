"""The one interface every engine implements: transactions that run SQL with `:name` parameters.

Domain modules write plain SQL with `:name` placeholders and call `Tx` methods; each engine
translates placeholders, encodes values (times, JSON) and maps driver errors onto memvault's.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from memvault.errors import StoreError

Params = Mapping[str, Any]


class Row(Protocol):
    """A result row; columns are read by name."""

    def __getitem__(self, key: str) -> Any: ...

    def keys(self) -> Iterable[str]: ...


@dataclass(frozen=True)
class Location:
    """Where a store lives, parsed from its URL."""

    engine: str  # "sqlite" or "postgresql"
    url: str  # as given, with any password masked by `safe_url`
    path: str | None = None  # SQLite file path (":memory:" for memory)
    conninfo: str | None = None  # libpq connection string for PostgreSQL

    @property
    def safe_url(self) -> str:
        """The URL with its password hidden, for messages and logs."""
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(self.url)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return urlunsplit(parts._replace(netloc=netloc))
        return self.url


class Tx(ABC):
    """One open transaction on one connection."""

    engine: str

    def __init__(self, writable: bool) -> None:
        self.writable = writable
        self._after_commit: list[Callable[[], None]] = []
        self.savepoints = 0  # savepoints open now (nested `Store.write` calls)
        self.nest_savepoints = True  # False: nested writes join without one (`Store.write`)

    @abstractmethod
    def execute(self, sql: str, params: Params | None = None) -> Any:
        """Run one statement; returns the driver cursor."""

    @abstractmethod
    def executemany(self, sql: str, rows: Sequence[Params]) -> int:
        """Run one statement for many parameter sets; returns the rows it changed."""

    def insert_new(self, table: str, columns: Sequence[str], rows: Sequence[Params]) -> int:
        """Insert `rows` (mappings of `columns`) into `table`, skipping any row that conflicts
        with a stored one or an earlier row (`ON CONFLICT DO NOTHING`); returns how many were
        inserted. Bulk writers call this, not a loop."""
        names = ", ".join(columns)
        marks = ", ".join(f":{c}" for c in columns)
        return self.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING", rows
        )

    def one(self, sql: str, params: Params | None = None) -> Row | None:
        """The first row, or None."""
        row: Row | None = self.execute(sql, params).fetchone()
        return row

    def returning(self, sql: str, params: Params | None = None) -> Row:
        """The row of a statement that always gives one: `INSERT … RETURNING` (without `DO
        NOTHING`), an upsert, an `UPDATE … RETURNING` of a row this transaction holds."""
        row = self.one(sql, params)
        if row is None:
            raise StoreError(f"the statement returned no row (in: {sql.strip()[:200]})")
        return row

    def all(self, sql: str, params: Params | None = None) -> list[Row]:
        """All rows."""
        rows: list[Row] = self.execute(sql, params).fetchall()
        return rows

    def scalar(self, sql: str, params: Params | None = None) -> Any:
        """The first column of the first row, or None."""
        cur = self.execute(sql, params)
        row = cur.fetchone()
        if row is None:
            return None
        return row[next(iter(row.keys()))] if hasattr(row, "keys") else row[0]

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once this transaction has committed (events, caches)."""
        self._after_commit.append(callback)

    @contextmanager
    def savepoint(self) -> Iterator[Tx]:
        """A nested transaction: on an exception everything written inside it, and every
        `after_commit` callback registered inside it, is undone, and the exception goes on;
        the enclosing transaction stays usable. Nests to any depth."""
        self.savepoints += 1
        name = f"memvault_sp{self.savepoints}"
        callbacks = len(self._after_commit)
        try:
            with self._savepoint(name):
                yield self
        except BaseException:
            del self._after_commit[callbacks:]  # their writes are gone: so are their events
            raise
        finally:
            self.savepoints -= 1

    @contextmanager
    def _savepoint(self, name: str) -> Iterator[None]:
        """The engine's SAVEPOINT / ROLLBACK TO / RELEASE around the block."""
        self.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.execute(f"ROLLBACK TO SAVEPOINT {name}")
            self.execute(f"RELEASE SAVEPOINT {name}")
            raise
        self.execute(f"RELEASE SAVEPOINT {name}")

    def run_after_commit(self) -> None:
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    # Value encoding: what the driver expects for each logical type.
    @abstractmethod
    def ts(self, value: datetime | None) -> Any:
        """Encode an aware datetime for this engine."""

    # The decoders are static: a record's row decoder (store/rows.py) compiles them into its
    # plan once per engine, not once per transaction.
    @staticmethod
    @abstractmethod
    def ts_out(value: Any) -> datetime | None:
        """Decode a stored time into an aware UTC datetime."""

    @abstractmethod
    def json(self, value: Any) -> Any:
        """Encode a JSON-able value for this engine."""

    @staticmethod
    @abstractmethod
    def json_out(value: Any) -> Any:
        """Decode a stored JSON value."""

    @staticmethod
    def id_out(value: Any) -> str | None:
        """Decode a stored id into its canonical string."""
        return None if value is None else str(value)

    # SQL dialect: what the engines spell differently, as SQL text around SQL operands.
    # `for_update` is the row-lock suffix of a SELECT that precedes an UPDATE: nothing on
    # SQLite, where `BEGIN IMMEDIATE` already holds the database's write lock.
    for_update: str = ""

    @abstractmethod
    def utc_hour(self, time: str) -> str:
        """SQL: the UTC hour (0–23) of the stored time `time`, as an integer."""

    @abstractmethod
    def utc_day(self, time: str) -> str:
        """SQL: the UTC day of the stored time `time` (compare it with `day_value`s)."""

    @abstractmethod
    def utc_month(self, time: str) -> str:
        """SQL: the first day of the UTC month of the stored time `time`, as `utc_day`."""

    @abstractmethod
    def seconds_between(self, end: str, start: str) -> str:
        """SQL: the seconds from the stored time `start` to `end`, as a float."""

    @abstractmethod
    def day_value(self, value: date) -> Any:
        """Encode a day as `utc_day` and the day columns (rollups) hold it."""

    # Reading in the engine's best way, where the engines differ.
    def stream(self, sql: str, params: Params | None = None) -> Iterator[Row]:
        """The rows of `sql`, fetched a batch at a time (a server-side cursor on PostgreSQL),
        for reads too large to hold."""
        yield from self.execute(sql, params)

    def all_unprepared(self, sql: str, params: Params | None = None) -> list[Row]:
        """All rows, `sql` planned for these very parameters, never from a prepared (generic)
        plan: for queries whose best plan depends on the values (full-text words)."""
        return self.all(sql, params)

    @property
    @abstractmethod
    def database(self) -> str:
        """Which database this transaction runs on, as a key for per-database caches."""

    def expand(self, name: str, values: Sequence[Any], params: dict[str, Any]) -> str:
        """Bind each of `values` as its own parameter; returns `:name_0, :name_1, …`."""
        names = []
        for i, value in enumerate(values):
            key = f"{name}_{i}"
            params[key] = value
            names.append(f":{key}")
        return ", ".join(names) if names else "NULL"

    # Bulk paths, for whole-table copies (`memvault transfer`, `verify`): rows as tuples.
    def scan(
        self, sql: str, params: Params | None = None, *, batch: int = 10_000
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Yield the rows of a query in lists of at most `batch` tuples, read as they are
        consumed (a server-side cursor on PostgreSQL), with each value as the engine stores
        it: ids and JSON as text, times as UTC datetimes on PostgreSQL (`UnreadableTime` for
        one Python cannot hold) and as stored text on SQLite."""
        cur = self.execute(sql, params)
        while True:
            chunk = cur.fetchmany(batch)
            if not chunk:
                return
            yield [tuple(r.values()) if isinstance(r, Mapping) else tuple(r) for r in chunk]

    def load_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        meanwhile: Callable[[], None] | None = None,
    ) -> None:
        """Append `rows` (tuples in `columns` order) to `table` by the engine's fastest path
        (COPY on PostgreSQL, a staging table on SQLite). `meanwhile()`, if given, runs while
        the engine takes the rows in. A row the engine refuses raises `RowRefused`, naming
        the row's index in `rows` when the engine can tell."""
        if meanwhile is not None:
            meanwhile()
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join(f":c{i}" for i in range(len(columns)))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
        self.executemany(sql, [{f"c{i}": v for i, v in enumerate(row)} for row in rows])


class Store(ABC):
    """An open database: hands out read and write transactions."""

    engine: str
    location: Location

    def __init__(self, location: Location) -> None:
        self.location = location
        self._local = threading.local()

    @contextmanager
    def write(self, *, savepoints: bool = True, wait: bool = True) -> Iterator[Tx]:
        """A write transaction (`BEGIN IMMEDIATE` on SQLite). A nested call (inside
        `vault.transaction()` or another API call) runs in a SAVEPOINT of the outer one, as
        sqlite-utils' `atomic()` does: if it fails, nothing it wrote stays and none of its
        events is published, and the outer transaction goes on.

        `savepoints=False` (on the outermost call) lets nested calls join as they are: for a
        caller that rolls the whole transaction back on any failure inside it anyway (the
        append writer's batches, replayed one by one), savepoints would be pure cost.

        `wait=False` (for best-effort bookkeeping such as access counts): raise `StoreBusy`
        at once instead of waiting when another writer holds the lock."""
        current: Tx | None = getattr(self._local, "tx", None)
        if current is not None:
            if not current.writable:
                raise StoreError("cannot write inside a read transaction")
            if not current.nest_savepoints:
                yield current
                return
            with current.savepoint():
                yield current
            return
        with self._transaction(writable=True, wait=wait) as tx:
            tx.nest_savepoints = savepoints
            self._local.tx = tx
            try:
                yield tx
            finally:
                self._local.tx = None
        tx.run_after_commit()

    @contextmanager
    def write_one(self) -> Iterator[Tx]:
        """A write of exactly one statement: `write()` where a statement cannot commit by
        itself. PostgreSQL overrides it to send the statement alone (no BEGIN/COMMIT: one
        round trip instead of three). Events registered with `after_commit` run after it."""
        with self.write() as tx:
            yield tx

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read transaction: one consistent snapshot; joins an open transaction."""
        current: Tx | None = getattr(self._local, "tx", None)
        if current is not None:
            yield current
            return
        with self._transaction(writable=False) as tx:
            self._local.tx = tx
            try:
                yield tx
            finally:
                self._local.tx = None

    def settle(self) -> None:
        """Called after a large write (an import batch): lets the store catch up on work it
        defers, such as SQLite's WAL checkpoint. A no-op where there is none."""
        return None

    @contextmanager
    def streaming(self) -> Iterator[None]:
        """This thread reads and writes far more of the database than it will read again
        (an import, its verification): the store may trade its read caches for bounded
        memory while the block runs. A no-op where there is nothing to trade."""
        yield

    @abstractmethod
    def _transaction(self, writable: bool, wait: bool = True) -> Any:
        """Context manager opening, committing or rolling back one transaction (`wait=False`:
        StoreBusy at once rather than waiting for another writer's lock)."""

    @abstractmethod
    def close(self) -> None:
        """Close every connection."""

    @abstractmethod
    def size_bytes(self) -> int:
        """Bytes used by the database."""

    @abstractmethod
    def check(self) -> list[str]:
        """Integrity problems found (empty when healthy)."""

    @property
    def file(self) -> Path | None:
        """The database file (SQLite); None for an in-memory store or a server's database."""
        return None

    @abstractmethod
    def backup_to(self, target: str) -> None:
        """Write a consistent backup of the whole database into the new file `target`, while
        writers keep going (SQLite's online backup, `pg_dump -Fc`)."""

    @contextmanager
    def secure_delete(self) -> Iterator[None]:
        """Within this block, this thread's deletions overwrite what they free where the engine
        can (SQLite's `secure_delete`); PostgreSQL reclaims space with `reclaim`."""
        yield

    @abstractmethod
    def reclaim(self, tables: Sequence[str], *, rebuild: bool = True) -> None:
        """After deleting rows that must not survive (erasing a user): give their space back
        so that no copy stays readable — PostgreSQL VACUUMs `tables`; SQLite rebuilds the file
        (VACUUM, skipped with `rebuild=False`: slow on a large store) and truncates the WAL."""

    @abstractmethod
    def sqlalchemy_engine(self) -> Any:
        """An SQLAlchemy engine for Alembic (created on demand, disposed by the caller)."""

    @contextmanager
    def snapshot(self) -> Iterator[Tx]:
        """A read-only transaction that sees one snapshot of the whole database for as long
        as it lasts, however many statements (and threads: the `Tx` may be handed to a
        reader thread) use it. SQLite's read transaction already is one; PostgreSQL's is
        REPEATABLE READ."""
        with self.read() as tx:
            yield tx


class RowRefused(StoreError):
    """`Tx.load_rows`: the engine refused a row. `index` is its position in the rows given
    (None when the engine did not say), `column` the column it named (or None), `reason`
    the engine's message and `context` where the engine says it happened."""

    def __init__(
        self, reason: str, *, index: int | None = None, column: str | None = None, context: str = ""
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.index = index
        self.column = column
        self.context = context


@dataclass(frozen=True)
class UnreadableTime:
    """A stored time that Python's datetime cannot hold (PostgreSQL `infinity`, a BC date),
    as PostgreSQL prints it (TimeZone UTC): `Tx.scan` returns it instead of failing."""

    text: str
