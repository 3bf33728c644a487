"""Store → store transfer: SQLite → PostgreSQL, and back, and between two of either.

    result = transfer("sqlite:///memvault.db", "postgresql://host/memvault")
    result.ok            # every table: same row count and same content checksum

How it works:

* The destination gets memvault's schema (created or upgraded by the migrator); the source
  must be at the same (newest) revision. The destination must be empty, or hold an
  unfinished transfer *from the same source*, which is then resumed.
* Tables are copied in foreign-key order, each in primary-key order (keyset: `WHERE pk >
  last`), from one read snapshot of the source; the next batch is read and converted on a
  thread while the current one is written (`prefetch`). PostgreSQL receives rows through
  `COPY` (psycopg `cursor.copy` + `write_row`) and, from a SQLite source, takes the largest
  table on a second connection beside the others; SQLite receives them through a staging
  table and `INSERT … SELECT` (`store.sqlite.insert_rows`). Every batch commits
  together with its checkpoint (`import_runs` / `import_checkpoints` rows of the destination:
  the last primary key copied per table), so a killed transfer resumes where it stopped and
  never duplicates a row.
* Plain (non-unique) indexes of the destination, full-text GIN indexes included, are dropped
  while loading and rebuilt at the end. Foreign keys are checked in bulk after the load:
  PostgreSQL's are dropped with the run and re-added (which validates every row) at the end,
  SQLite's are switched off on the loading connection and `PRAGMA foreign_key_check` must
  come back empty. Primary keys, unique indexes and CHECKs stay in force during the whole
  load. (So parents never have to come first, e.g. `sessions.parent_id`.) An unfinished
  destination therefore lacks those indexes and foreign keys until the transfer is resumed
  to its end: resume it, or drop it; do not use it.
* Derived data is rebuilt by the destination itself: the PostgreSQL `fts` columns are
  generated, SQLite's FTS5 tables are filled by their triggers, the vector change counter and
  the emotion rollups by their triggers, and pgvector's `embeddings.vec` is written from the
  float32 bytes. Vector tombstones are not copied (a new matrix needs none).
* Verification, always: per table, the row count and an order-independent checksum (the sum
  modulo 2^128 of an MD5 digest of each row's canonical rendering, see `rowdigest`) of the
  source snapshot and of what the destination holds after the load. A PostgreSQL
  destination computes its checksums itself, in SQL, on a second connection while the next
  table copies, so no row is read back. Any difference raises `VerificationFailed` (CLI exit
  status 3); the run row stays, marked `mismatch`.

Values, explicitly:

* Times are rendered `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC). SQLite text that is not an ISO-8601
  time, and PostgreSQL times outside years 1–9999 (`infinity`, BC dates), are refused with
  an error naming the table, the row's primary key and the column. Naive SQLite times are UTC
  (memvault never writes them); offsets are converted to UTC.
* NUL bytes: PostgreSQL `text`/`jsonb` cannot hold U+0000, so a NUL in a SQLite text value
  is refused with the table, row and column named; nothing is escaped or stripped silently.
  Fix the row (or delete it) and run the same command again: the transfer resumes.
* Floats are copied bit for bit (`double precision`, extremes and subnormals included), except
  that SQLite cannot store NaN (it would become NULL): a NaN read from PostgreSQL is refused.
  SQLite folds -0.0 into 0.0; the checksum renders both as 0.0.
* JSON is copied as text (jsonb on PostgreSQL); the checksum compares the value as jsonb
  holds it (key order, duplicate keys and whitespace are not content; numbers keep their
  digits: 1.50 is not 1.5). Vectors are bytes (BLOB / bytea).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from memvault.errors import MemvaultError
from memvault.ids import new_id
from memvault.migrate import copyorder
from memvault.migrate.prefetch import Prefetch
from memvault.migrate.rowdigest import RowDigest, pg_checksum_sql
from memvault.store import migrator
from memvault.store.base import Location
from memvault.store.engine import open_store, parse_url

if TYPE_CHECKING:
    import sqlalchemy as sa

FORMAT = "memvault.transfer"
BATCH_ROWS = 20_000
PG_PARAM = re.compile(r"line (\d+)")

__all__ = [
    "FORMAT",
    "ColumnSpec",
    "DestinationNotEmpty",
    "TableResult",
    "TableSpec",
    "TransferError",
    "TransferResult",
    "VerificationFailed",
    "canonical_time",
    "checksum_store",
    "table_specs",
    "transfer",
]


class TransferError(MemvaultError):
    """The transfer cannot go on (a value the destination cannot hold, a refused target)."""

    exit_code = 1


class DestinationNotEmpty(TransferError):
    """The destination holds data that is not an unfinished transfer from this source."""


class VerificationFailed(TransferError):
    """Counts or checksums differ between source and destination."""

    exit_code = 3

    def __init__(self, message: str, result: TransferResult | None = None) -> None:
        super().__init__(message)
        self.result = result


class _Refused(Exception):
    """A value the destination cannot hold; `reason` says why."""


# --- table specs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str  # id | time | json | blob | float | int | text


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[ColumnSpec, ...]
    pk: tuple[str, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def pk_index(self) -> tuple[int, ...]:
        names = self.column_names
        return tuple(names.index(p) for p in self.pk)


def _kind(column: sa.Column[Any]) -> str:
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql

    pg = column.type.dialect_impl(postgresql.dialect())  # type: ignore[no-untyped-call]
    name = type(pg).__name__.upper()
    if "UUID" in name:
        return "id"
    if "TIMESTAMP" in name:
        return "time"
    if "JSON" in name:
        return "json"
    if isinstance(column.type, sa.LargeBinary):
        return "blob"
    if isinstance(column.type, sa.Float) or "DOUBLE" in name:
        return "float"
    if isinstance(column.type, sa.Integer):
        return "int"
    return "text"


# Derived data, rebuilt by the destination (triggers, generated columns), never copied.
# The emotion rollups are kept by triggers on `emotion_events` (revision 0005): copying them
# too would add every event twice on the destination.
DERIVED_TABLES = frozenset(
    {"vector_clock", "vector_tombstones", "emotion_rollups", "emotion_trigger_rollups"}
)
# `sessions.instance_count` is kept by triggers on the destination (revision 0007) as the
# child sessions arrive: copying it too would count every instance twice.
DERIVED_COLUMNS = {
    "embeddings": frozenset({"seq", "vec"}),
    "sessions": frozenset({"instance_count"}),
}
DERIVED_ANYWHERE = frozenset({"fts", "vec"})


def table_specs() -> list[TableSpec]:
    """Every memvault table, parents before children, with its columns' kinds (derived
    tables and columns left out; read from the SQLAlchemy declarations, imported here)."""
    from memvault.store.schema import metadata

    specs = []
    for table in metadata.sorted_tables:
        if table.name in DERIVED_TABLES:
            continue
        skip = DERIVED_COLUMNS.get(table.name, frozenset()) | DERIVED_ANYWHERE
        if not table.primary_key.columns:
            raise TransferError(f"table {table.name} has no primary key: it cannot be copied "
                                "resumably; declare one, or list it as derived")  # fmt: skip
        specs.append(
            TableSpec(
                table.name,
                tuple(ColumnSpec(c.name, _kind(c)) for c in table.columns if c.name not in skip),
                tuple(c.name for c in table.primary_key.columns),
            )
        )
    return specs


# --- canonical values ---------------------------------------------------------------------


def canonical_time(value: Any) -> str:
    """A stored time as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC); raises _Refused when it is not
    a time (or not representable in years 1–9999)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        if len(value) == 27 and value[26] == "Z" and value[10] == "T" and value[19] == ".":
            return value  # memvault's own format (a PostgreSQL destination still checks it)
        try:
            moment = datetime.fromisoformat(value.replace("z", "Z"))
        except ValueError:
            raise _Refused(f"not an ISO-8601 time: {value!r}") from None
    elif isinstance(value, _BadTime):
        raise _Refused(f"time {value.text!r} is outside the years 1-9999 that SQLite text "
                       "times and Python can hold")  # fmt: skip
    else:
        raise _Refused(f"expected a time, found {type(value).__name__} {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise _Refused(f"time {value!r} leaves years 1-9999 once converted to UTC") from None
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


# --- engines ------------------------------------------------------------------------------


@dataclass
class _BadTime:
    text: str


def _pg_connect(conninfo: str, *, autocommit: bool = False) -> Any:
    import psycopg
    from psycopg.types.datetime import TimestamptzLoader
    from psycopg.types.string import TextLoader

    class SafeTimestamptz(TimestamptzLoader):
        def load(self, data: Any) -> Any:
            try:
                return super().load(data)
            except psycopg.DataError:
                return _BadTime(bytes(data).decode())

    conn = psycopg.connect(conninfo, autocommit=autocommit)
    for name in ("uuid", "json", "jsonb"):
        conn.adapters.register_loader(name, TextLoader)
    conn.adapters.register_loader("timestamptz", SafeTimestamptz)
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("SET DateStyle = 'ISO'")
    if not autocommit:
        conn.commit()
    return conn


class _End:
    """One side of a transfer, through its driver connection."""

    engine: str
    location: Location
    conn: Any

    def q(self, sql: str) -> str:
        return sql

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.conn.execute(self.q(sql), params).fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.conn.execute(self.q(sql), params).fetchone()
        return None if row is None else row[0]

    def has_column(self, table: str, column: str) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        self.conn.close()

    def select(self, spec: TableSpec, after: Sequence[Any] | None, upto: Sequence[Any] | None,
               where: str = "") -> tuple[str, list[Any]]:  # fmt: skip
        cols = ", ".join(f'"{c}"' for c in spec.column_names)
        pk = ", ".join(f'"{p}"' for p in spec.pk)
        marks = ", ".join("?" for _ in spec.pk)
        conds, params = [], []
        if where:
            conds.append(where)
        if after is not None:
            conds.append(f"({pk}) > ({marks})")
            params += list(after)
        if upto is not None:
            conds.append(f"({pk}) <= ({marks})")
            params += list(upto)
        sql = f"SELECT {cols} FROM {spec.name}"
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        return self.q(sql + f" ORDER BY {pk}"), params

    def stream(self, spec: TableSpec, after: Sequence[Any] | None = None,
               upto: Sequence[Any] | None = None, batch: int = BATCH_ROWS,
               where: str = "") -> Iterator[list[tuple[Any, ...]]]:  # fmt: skip
        raise NotImplementedError


class _SQLite(_End):
    engine = "sqlite"

    def __init__(self, location: Location) -> None:
        import sqlean

        self.location = location
        self.conn = sqlean.connect(location.path or ":memory:", isolation_level=None,
                                   check_same_thread=False, timeout=30)  # fmt: skip
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.execute("PRAGMA busy_timeout=30000")
        self.conn.execute("PRAGMA cache_size=-64000")

    def has_column(self, table: str, column: str) -> bool:
        return any(r[1] == column for r in self.rows(f"PRAGMA table_info({table})"))

    def stream(self, spec: TableSpec, after: Sequence[Any] | None = None,
               upto: Sequence[Any] | None = None, batch: int = BATCH_ROWS,
               where: str = "") -> Iterator[list[tuple[Any, ...]]]:  # fmt: skip
        sql, params = self.select(spec, after, upto, where)
        cur = self.conn.execute(sql, params)
        while True:
            chunk = cur.fetchmany(batch)
            if not chunk:
                return
            yield chunk


class _Postgres(_End):
    engine = "postgresql"

    def __init__(self, location: Location, snapshot: bool = False) -> None:
        import psycopg

        self.location = location
        self.conn = _pg_connect(location.conninfo or "")
        if snapshot:  # one consistent, read-only view of the source for the whole run
            self.conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            self.conn.read_only = True

    def q(self, sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")

    def has_column(self, table: str, column: str) -> bool:
        return bool(self.scalar(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = ? AND column_name = ?",
            (table, column)))  # fmt: skip

    def stream(self, spec: TableSpec, after: Sequence[Any] | None = None,
               upto: Sequence[Any] | None = None, batch: int = BATCH_ROWS,
               where: str = "") -> Iterator[list[tuple[Any, ...]]]:  # fmt: skip
        sql, params = self.select(spec, after, upto, where)
        with self.conn.cursor(name=f"memvault_transfer_{spec.name}") as cur:
            cur.itersize = batch
            cur.execute(sql, params)
            while True:
                chunk = cur.fetchmany(batch)
                if not chunk:
                    return
                yield chunk


def _open_end(location: Location, snapshot: bool = False) -> _End:
    return _SQLite(location) if location.engine == "sqlite" else _Postgres(location, snapshot)


def _identity(location: Location) -> str:
    """What names a source across runs: its absolute file path, or its safe URL."""
    if location.engine == "sqlite":
        path = location.path or ":memory:"
        return "sqlite:///" + (path if path == ":memory:" else str(Path(path).resolve()))
    return location.safe_url


# --- value conversion ---------------------------------------------------------------------


def _converters(spec: TableSpec, src: str, dst: str) -> list[Callable[[Any], Any] | None]:
    """Per column: None (copy as is) or a function source value → destination value."""

    def time_(v: Any) -> Any:
        return canonical_time(v)

    def text_to_pg(v: Any) -> Any:
        if isinstance(v, str):
            if "\x00" in v:
                raise _Refused(
                    f"contains a NUL byte (U+0000) at offset {v.index(chr(0))}, which "
                    "PostgreSQL text cannot store; remove it from the source row and run "
                    "the transfer again"
                )
            return v
        if isinstance(v, bytes):
            raise _Refused("holds a BLOB in a text column")
        return v

    def json_check(v: Any) -> Any:
        if isinstance(v, str):
            if dst == "postgresql" and ("\x00" in v or "\\u0000" in v):
                raise _Refused("JSON holds a NUL (U+0000), which PostgreSQL jsonb cannot store")
            try:
                orjson.loads(v)
            except orjson.JSONDecodeError:
                try:
                    json.loads(v)
                except ValueError as exc:
                    raise _Refused(f"not valid JSON ({exc}): {v[:80]!r}") from None
        return v

    def float_to_sqlite(v: Any) -> Any:
        if isinstance(v, float) and math.isnan(v):
            raise _Refused("is NaN, which SQLite cannot store (it would become NULL)")
        return v

    out: list[Callable[[Any], Any] | None] = []
    for col in spec.columns:
        fn: Callable[[Any], Any] | None = None
        if col.kind == "time":
            fn = time_
        elif col.kind == "text" and dst == "postgresql" and src == "sqlite":
            fn = text_to_pg
        elif col.kind == "json" and src == "sqlite":
            fn = json_check
        elif col.kind == "float" and dst == "sqlite":
            fn = float_to_sqlite
        elif col.kind == "blob" and src == "postgresql" and dst == "sqlite":
            fn = bytes
        out.append(fn)
    return out


def _vec_literal(v: Any) -> str:
    """pgvector's text form of float32 bytes. Nine significant digits identify every float32
    (FLT_DECIMAL_DIG), and pgvector reads them back with strtof: the same bits, in a third of
    the time `repr` of the widened doubles takes."""
    import numpy as np

    values = np.frombuffer(bytes(v), dtype="<f4").tolist()
    return "[" + ("%.9g," * len(values) % tuple(values))[:-1] + "]"


def _table_digest(end: _End, spec: TableSpec, where: str, batch: int) -> RowDigest:
    """The rows' checksum: computed by PostgreSQL itself (no row leaves the server), or in
    Python from the rows SQLite returns."""
    digest = RowDigest(spec)
    if end.engine == "postgresql":
        count, *lanes = end.conn.execute(pg_checksum_sql(spec, where)).fetchone()
        digest.add_sums(int(count), [int(x) for x in lanes])
        return digest
    for chunk in end.stream(spec, batch=batch, where=where):
        digest.add_many(chunk)
    return digest


# --- results ------------------------------------------------------------------------------


@dataclass
class TableResult:
    table: str
    source_rows: int = 0
    dest_rows: int = 0
    source_checksum: str = ""
    dest_checksum: str = ""
    copied: int = 0  # rows written by this run (the rest came from an earlier, resumed run)
    resumed_after: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.source_rows == self.dest_rows and self.source_checksum == self.dest_checksum


@dataclass
class TransferResult:
    source: str
    destination: str
    run_id: str
    resumed: bool
    tables: list[TableResult] = field(default_factory=list)
    seconds: float = 0.0
    copy_seconds: float = 0.0
    verify_seconds: float = 0.0
    indexes_rebuilt: int = 0

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)

    @property
    def rows(self) -> int:
        return sum(t.source_rows for t in self.tables)

    @property
    def rows_copied(self) -> int:
        return sum(t.copied for t in self.tables)

    @property
    def mismatches(self) -> list[TableResult]:
        return [t for t in self.tables if not t.ok]

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "destination": self.destination,
            "run_id": self.run_id,
            "resumed": self.resumed,
            "ok": self.ok,
            "rows": self.rows,
            "rows_copied": self.rows_copied,
            "seconds": round(self.seconds, 3),
            "copy_seconds": round(self.copy_seconds, 3),
            "verify_seconds": round(self.verify_seconds, 3),
            "rows_per_second": round(self.rows / self.seconds) if self.seconds else None,
            "indexes_rebuilt": self.indexes_rebuilt,
            "tables": {
                t.table: {
                    "source_rows": t.source_rows,
                    "dest_rows": t.dest_rows,
                    "copied": t.copied,
                    "resumed_after": t.resumed_after,
                    "source_checksum": t.source_checksum,
                    "dest_checksum": t.dest_checksum,
                    "ok": t.ok,
                }
                for t in self.tables
            },
        }


Progress = Callable[[str, int, int], None]  # (table, rows done, rows total)


# --- the transfer -------------------------------------------------------------------------


class _Transfer:
    def __init__(self, src_url: str, dst_url: str, batch: int, progress: Progress | None,
                 sync_off: bool) -> None:  # fmt: skip
        self.src_loc = parse_url(src_url)
        self.dst_loc = parse_url(dst_url)
        if _identity(self.src_loc) == _identity(self.dst_loc):
            raise TransferError("source and destination are the same store")
        self.batch = max(1, batch)
        self.progress = progress
        self.sync_off = sync_off
        self.specs = table_specs()
        self.run_id = ""
        self.resumed = False
        self.deps: dict[str, frozenset[str]] = {}  # set by `largest` (see `copyorder`)

    # -- preparation ------------------------------------------------------------------------

    def prepare_schema(self) -> None:
        # The source is only read: a missing SQLite file is an error, never created.
        src_store = open_store(self.src_loc, create=False)
        try:
            rev = migrator.current(src_store)
        finally:
            src_store.close()
        if rev is None:
            raise TransferError(f"{self.src_loc.safe_url} is not a memvault store (no schema)")
        if rev != migrator.head():
            raise TransferError(
                f"{self.src_loc.safe_url} is at schema revision {rev}; this memvault writes "
                f"{migrator.head()}: run `memvault upgrade --db SOURCE` first"
            )
        if self.dst_loc.engine == "sqlite":
            path = self.dst_loc.path or ""
            if path == ":memory:":
                raise TransferError("the destination cannot be a memory database")
        dst_store = open_store(self.dst_loc)
        try:
            migrator.ensure(dst_store)
        finally:
            dst_store.close()

    def find_run(self, dst: _End) -> tuple[str, dict[str, Any]] | None:
        rows = dst.rows(
            "SELECT id, source, options FROM import_runs WHERE format = ? "
            "AND status IN ('running', 'mismatch', 'failed')",
            (FORMAT,),
        )
        ident = _identity(self.src_loc)
        for run_id, source, options in rows:
            opts = orjson.loads(options) if isinstance(options, str) else options
            if source != ident:
                raise DestinationNotEmpty(
                    f"{self.dst_loc.safe_url} holds an unfinished transfer from {source}, "
                    f"not from {ident}; finish that one or use an empty destination"
                )
            return str(run_id), opts
        return None

    def check_empty(self, dst: _End) -> None:
        for spec in self.specs:
            if dst.scalar(f"SELECT 1 FROM {spec.name} LIMIT 1") is not None:
                raise DestinationNotEmpty(
                    f"{self.dst_loc.safe_url} is not empty (table {spec.name} has rows) and "
                    "holds no unfinished transfer from this source; transfer into an empty "
                    "store"
                )

    def check_source(self, src: _End) -> None:
        found = src.scalar(
            "SELECT count(*) FROM import_runs WHERE format = ? AND status <> 'completed'",
            (FORMAT,),
        )
        if found:
            raise TransferError(
                f"{self.src_loc.safe_url} is itself the destination of an unfinished transfer; "
                "finish that transfer before copying this store"
            )

    def plain_indexes(self, dst: _End) -> list[tuple[str, str]]:
        names = [s.name for s in self.specs]
        if dst.engine == "sqlite":
            rows = dst.rows(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            )
            tbl = dict(dst.rows("SELECT name, tbl_name FROM sqlite_master WHERE type='index'"))
            return [
                (str(n), str(s)) for n, s in rows
                if tbl.get(n) in names and not str(s).upper().startswith("CREATE UNIQUE")
            ]  # fmt: skip
        rows = dst.rows(
            "SELECT i.indexname, i.indexdef, i.tablename FROM pg_indexes i "
            "WHERE i.schemaname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint "
            "c WHERE c.conindid = (quote_ident(i.schemaname) || '.' || "
            "quote_ident(i.indexname))::regclass)"
        )
        return [
            (str(n), str(d)) for n, d, t in rows
            if t in names and not str(d).upper().startswith("CREATE UNIQUE")
        ]  # fmt: skip

    def foreign_keys(self, dst: _End) -> list[tuple[str, str, str]]:
        """(table, constraint, definition) of the destination's foreign keys (PostgreSQL)."""
        if dst.engine != "postgresql":
            return []
        names = [s.name for s in self.specs]
        rows = dst.rows(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' "
            "AND connamespace = current_schema()::regnamespace ORDER BY conname"
        )
        return [(str(t), str(n), str(d)) for t, n, d in rows if t in names]

    def start_run(self, dst: _End) -> dict[str, Any]:
        indexes = self.plain_indexes(dst)
        fks = self.foreign_keys(dst)
        self.run_id = new_id()
        opts = {
            "destination": self.dst_loc.safe_url,
            "dropped_indexes": [list(i) for i in indexes],
            "dropped_foreign_keys": [list(f) for f in fks],
            "batch": self.batch,
        }
        now = canonical_time(datetime.now(UTC))
        self._begin(dst)
        for name, _ in indexes:
            dst.conn.execute(f'DROP INDEX "{name}"')
        for table, name, _ in fks:
            dst.conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        dst.conn.execute(
            dst.q("INSERT INTO import_runs (id, source, format, status, options, started_at) "
                  f"VALUES (?, ?, ?, 'running', {self._json_mark(dst)}, {self._time_mark(dst)})"),
            (self.run_id, _identity(self.src_loc), FORMAT, orjson.dumps(opts).decode(), now),
        )  # fmt: skip
        self._commit(dst)
        return opts

    @staticmethod
    def _json_mark(end: _End) -> str:
        return "CAST(? AS jsonb)" if end.engine == "postgresql" else "?"

    @staticmethod
    def _time_mark(end: _End) -> str:
        return "CAST(? AS timestamptz)" if end.engine == "postgresql" else "?"

    @staticmethod
    def _begin(end: _End) -> None:
        if end.engine == "sqlite":
            end.conn.execute("BEGIN IMMEDIATE")

    @staticmethod
    def _commit(end: _End) -> None:
        if end.engine == "sqlite":
            end.conn.execute("COMMIT")
        else:
            end.conn.commit()

    @staticmethod
    def _rollback(end: _End) -> None:
        if end.engine == "sqlite":
            if end.conn.in_transaction:
                end.conn.execute("ROLLBACK")
        else:
            end.conn.rollback()

    def checkpoints(self, dst: _End) -> dict[str, dict[str, Any]]:
        rows = dst.rows("SELECT stream, state FROM import_checkpoints WHERE run_id = ?",
                        (self.run_id,))  # fmt: skip
        return {str(s): (orjson.loads(st) if isinstance(st, str | bytes) else st) for s, st in rows}

    def save_checkpoint(self, dst: _End, table: str, rows: int, state: dict[str, Any]) -> None:
        now = canonical_time(datetime.now(UTC))
        dst.conn.execute(
            dst.q(
                "INSERT INTO import_checkpoints (run_id, stream, position, records, state, "
                f"updated_at) VALUES (?, ?, ?, ?, {self._json_mark(dst)}, {self._time_mark(dst)}) "
                "ON CONFLICT (run_id, stream) DO UPDATE SET position = excluded.position, "
                "records = excluded.records, state = excluded.state, "
                "updated_at = excluded.updated_at"
            ),
            (self.run_id, table, rows, rows, orjson.dumps(state).decode(), now),
        )

    # -- copying ----------------------------------------------------------------------------

    def row_error(self, spec: TableSpec, row: Sequence[Any], column: str, reason: str) -> None:
        pk = {p: row[i] for p, i in zip(spec.pk, spec.pk_index(), strict=True)}
        shown = ", ".join(f"{k}={v!r}" for k, v in pk.items())
        raise TransferError(
            f"{self.src_loc.safe_url}: table {spec.name}, row {shown}, column {column}: {reason}"
        )

    def convert(self, spec: TableSpec, chunk: Sequence[Sequence[Any]],
                convs: list[Callable[[Any], Any] | None],
                vec: bool) -> list[tuple[Any, ...]]:  # fmt: skip
        active = [(i, f) for i, f in enumerate(convs) if f is not None]
        blob_at = spec.column_names.index("vector") if vec else -1
        out = []
        for row in chunk:
            values = list(row)
            for i, fn in active:
                v = values[i]
                if v is not None:
                    try:
                        values[i] = fn(v)
                    except _Refused as exc:
                        self.row_error(spec, row, spec.columns[i].name, str(exc))
            if vec:
                values.append(_vec_literal(values[blob_at]))
            out.append(tuple(values))
        return out

    def write(self, dst: _End, spec: TableSpec, rows: list[tuple[Any, ...]], vec: bool,
              meanwhile: Callable[[], None]) -> None:  # fmt: skip
        """Insert `rows`; `meanwhile()` runs while PostgreSQL digests the COPY stream."""
        cols = list(spec.column_names) + (["vec"] if vec else [])
        quoted = ", ".join(f'"{c}"' for c in cols)
        if dst.engine == "sqlite":
            import sqlean

            from memvault.store.sqlite import insert_rows

            marks = ", ".join("?" for _ in cols)
            sql = f"INSERT INTO {spec.name} ({quoted}) VALUES ({marks})"
            meanwhile()
            try:
                insert_rows(dst.conn, spec.name, cols, rows)
            except sqlean.Error as exc:
                self._rollback(dst)
                for row in rows:  # find the row SQLite refused, to name it
                    try:
                        dst.conn.execute("SAVEPOINT probe")
                        dst.conn.execute(sql, row)
                    except sqlean.Error as one:
                        self.row_error(spec, row, "?", f"SQLite refused the row: {one}")
                    finally:
                        dst.conn.execute("ROLLBACK TO probe")
                        dst.conn.execute("RELEASE probe")
                raise TransferError(
                    f"{self.dst_loc.safe_url}: INSERT into {spec.name} failed: {exc}"
                ) from exc
            return
        import psycopg

        try:
            with (
                dst.conn.cursor() as cur,
                cur.copy(f"COPY {spec.name} ({quoted}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
                meanwhile()
        except psycopg.Error as exc:
            diag = exc.diag
            where = diag.context or ""
            match = PG_PARAM.search(where)
            primary = diag.message_primary or str(exc).strip()
            if match and 0 < int(match.group(1)) <= len(rows):
                row = rows[int(match.group(1)) - 1]
                col = re.search(r"column (\w+)", where)
                self._rollback(dst)
                self.row_error(spec, row, col.group(1) if col else "?",
                               f"PostgreSQL refused the value: {primary}")  # fmt: skip
            raise TransferError(
                f"{self.dst_loc.safe_url}: COPY into {spec.name} failed: {primary} {where}"
            ) from exc

    def copy_table(self, src: _End, dst: _End, spec: TableSpec, state: dict[str, Any],
                   digest: RowDigest, result: TableResult, total: int) -> None:  # fmt: skip
        last = state.get("last")
        done = int(state.get("rows", 0))
        result.resumed_after = done
        if last is not None:  # rows copied by an earlier run: checksum them again, from now
            for chunk in src.stream(spec, upto=last, batch=self.batch):
                digest.add_many(chunk)
        if state.get("done"):
            return
        vec = spec.name == "embeddings" and dst.engine == "postgresql" and self.dst_vec
        convs = _converters(spec, src.engine, dst.engine)
        pk_idx = spec.pk_index()
        # The next chunk is read and converted on a thread while this one is written.
        converted = (
            (chunk, self.convert(spec, chunk, convs, vec))
            for chunk in src.stream(spec, after=last, batch=self.batch)
        )
        with Prefetch(converted) as ahead:
            for chunk, rows in ahead:
                self._begin(dst)
                try:
                    self.write(dst, spec, rows, vec, partial(digest.add_many, chunk))
                    last = [chunk[-1][i] for i in pk_idx]
                    done += len(chunk)
                    result.copied += len(chunk)
                    self.save_checkpoint(dst, spec.name, done, {"last": last, "rows": done})
                    self._commit(dst)
                except BaseException:
                    self._rollback(dst)
                    raise
                if self.progress:
                    self.progress(spec.name, done, total)
        self._begin(dst)
        try:
            self.save_checkpoint(dst, spec.name, done, {"last": last, "rows": done, "done": True})
            self._commit(dst)
        except BaseException:
            self._rollback(dst)
            raise

    def finish_indexes(self, dst: _End, opts: dict[str, Any]) -> int:
        existing = {n for n, _ in self.plain_indexes(dst)}
        made = 0
        if dst.engine == "postgresql":
            dst.conn.execute("SET maintenance_work_mem = '256MB'")
        self._begin(dst)
        for name, sql in opts.get("dropped_indexes", []):
            if name not in existing:
                dst.conn.execute(sql)
                made += 1
        self._commit(dst)
        present = {n for _, n, _ in self.foreign_keys(dst)}
        for table, name, definition in opts.get("dropped_foreign_keys", []):
            if name in present:
                continue
            try:  # validated here, in one pass over the table
                dst.conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                dst.conn.commit()
            except Exception as exc:
                dst.conn.rollback()
                raise TransferError(
                    f"{self.dst_loc.safe_url}: restoring foreign key {name} on {table} failed "
                    f"(the source holds rows that break it): {str(exc).strip()}"
                ) from exc
        if dst.engine == "sqlite":
            dst.conn.execute("PRAGMA foreign_keys=ON")
            broken = dst.rows("PRAGMA foreign_key_check")
            if broken:
                t, rowid, parent, _ = broken[0]
                raise TransferError(
                    f"{self.dst_loc.safe_url}: {len(broken)} rows break foreign keys, e.g. "
                    f"{t} rowid {rowid} refers to a missing {parent} row"
                )
        if dst.engine == "postgresql":
            dst.conn.commit()
            dst.conn.autocommit = True
            dst.conn.execute("ANALYZE")
            dst.conn.autocommit = False
        else:
            dst.conn.execute("ANALYZE")
        return made

    # -- verification -----------------------------------------------------------------------

    def dest_where(self, spec: TableSpec) -> str:
        """The destination's own bookkeeping rows of this run are not content."""
        if spec.name == "import_runs":
            return f"id <> '{self.run_id}'"
        if spec.name == "import_checkpoints":
            return f"run_id <> '{self.run_id}'"
        return ""

    def dest_digest(self, dst: _End, spec: TableSpec) -> RowDigest:
        return _table_digest(dst, spec, self.dest_where(spec), self.batch)

    def close_run(self, dst: _End, ok: bool) -> None:
        self._begin(dst)
        if ok:
            dst.conn.execute(dst.q("DELETE FROM import_runs WHERE id = ?"), (self.run_id,))
        else:
            dst.conn.execute(
                dst.q("UPDATE import_runs SET status = 'mismatch' WHERE id = ?"), (self.run_id,)
            )
        self._commit(dst)

    # -- driver -----------------------------------------------------------------------------

    def run(self) -> TransferResult:
        started = time.perf_counter()
        self.prepare_schema()
        src = _open_end(self.src_loc, snapshot=True)
        dst = _open_end(self.dst_loc)
        stack = ExitStack()
        try:
            self.check_source(src)
            found = self.find_run(dst)
            if found is None:
                self.check_empty(dst)
                opts = self.start_run(dst)
            else:
                self.run_id, opts = found
                self.resumed = True
                self._begin(dst)
                dst.conn.execute(
                    dst.q("UPDATE import_runs SET status = 'running' WHERE id = ?"),
                    (self.run_id,),
                )
                self._commit(dst)
            self.dst_vec = dst.engine == "postgresql" and dst.has_column("embeddings", "vec")
            if dst.engine == "sqlite":
                # Foreign keys are checked once, after the load (PRAGMA foreign_key_check);
                # PostgreSQL's are dropped with the run and re-added (validated) at the end.
                dst.conn.execute("PRAGMA foreign_keys=OFF")
                if self.sync_off:
                    dst.conn.execute("PRAGMA synchronous=OFF")
            if src.engine == "sqlite":  # one snapshot of the source for the whole run
                src.conn.execute("BEGIN")
            points = self.checkpoints(dst)
            result = TransferResult(
                self.src_loc.safe_url, self.dst_loc.safe_url, self.run_id, self.resumed
            )
            digests: dict[str, RowDigest] = {}
            tables: dict[str, TableResult] = {}
            checks = _Checks(self, dst)
            stack.callback(checks.close)

            def copy(specs: Sequence[TableSpec], end: _End) -> None:
                for spec in specs:
                    t0 = time.perf_counter()
                    total = totals[spec.name]
                    table_result = TableResult(spec.name)
                    digest = RowDigest(spec)
                    self.copy_table(src, end, spec, points.get(spec.name, {}), digest,
                                    table_result, total)  # fmt: skip
                    table_result.seconds = time.perf_counter() - t0
                    digests[spec.name] = digest
                    tables[spec.name] = table_result
                    checks.submit(spec)  # runs while the next table copies

            totals = {s.name: int(src.scalar(f"SELECT count(*) FROM {s.name}")) for s in self.specs}
            largest = self.largest(src, dst, totals)
            if largest is None:
                copy(self.specs, dst)
            else:
                self.copy_beside(copy, largest, dst)
            result.tables = [tables[spec.name] for spec in self.specs]
            result.indexes_rebuilt = self.finish_indexes(dst, opts)
            result.copy_seconds = time.perf_counter() - started
            t1 = time.perf_counter()
            for table_result, spec in zip(result.tables, self.specs, strict=True):
                source = digests[spec.name]
                dest = checks.result(spec)
                table_result.source_rows = source.count
                table_result.source_checksum = source.hexdigest
                table_result.dest_rows = dest.count
                table_result.dest_checksum = dest.hexdigest
            result.verify_seconds = time.perf_counter() - t1
            self.close_run(dst, result.ok)
            result.seconds = time.perf_counter() - started
            if not result.ok:
                bad = ", ".join(
                    f"{t.table} ({t.source_rows} → {t.dest_rows} rows"
                    + (", content differs" if t.source_rows == t.dest_rows else "")
                    + ")"
                    for t in result.mismatches
                )
                raise VerificationFailed(f"verification failed: {bad}", result)
            return result
        finally:
            stack.close()
            if src.engine == "sqlite" and src.conn.in_transaction:
                src.conn.execute("ROLLBACK")
            src.close()
            dst.close()

    dst_vec = False

    def largest(self, src: _End, dst: _End, totals: dict[str, int]) -> TableSpec | None:
        """The table copied on a connection of its own beside the others, or None.

        On PostgreSQL the destination's CPU is the bottleneck (the generated `fts` columns),
        and foreign keys are dropped while the copy runs, so the largest table (`messages`)
        goes on a second connection, a second server process, while the other tables copy
        on the first. Each table keeps its own checkpoints, so a resume is unchanged. Only
        from a SQLite source: one snapshot transaction on one connection is read by both.
        Derived tables keep their foreign keys, so each table still waits for the tables it
        depends on (`copyorder`); when that order cannot hold on two connections, None.
        """
        if src.engine != "sqlite" or dst.engine != "postgresql" or len(self.specs) < 2:
            return None
        spec = max(self.specs, key=lambda s: totals[s.name])
        if totals[spec.name] == 0:
            return None
        self.deps = self.dependencies(dst)
        return spec if copyorder.in_order([s.name for s in self.specs], self.deps) else None

    def dependencies(self, dst: _End) -> dict[str, frozenset[str]]:
        """Per copied table, the copied tables to commit before it (see `copyorder`)."""
        from memvault.store.schema import metadata

        parents = {
            t.name: {fk.column.table.name for fk in t.foreign_keys}
            for t in metadata.tables.values()
        }
        names = [s.name for s in self.specs]
        derived = set(metadata.tables) - set(names)
        writes = copyorder.trigger_writes(dst.engine, dst.rows, derived)
        return copyorder.dependencies(names, parents, writes)

    def copy_beside(
        self, copy: Callable[[Sequence[TableSpec], _End], None], largest: TableSpec, dst: _End
    ) -> None:
        """Copy `largest` on a second destination connection while `copy` does the rest on
        `dst`, each table once its dependencies are committed (`copyorder.Gate`); both
        finish (or fail) before this returns, the first real failure is raised."""
        rest = [s for s in self.specs if s is not largest]
        gate = copyorder.Gate(self.deps)

        def copy_all(specs: Sequence[TableSpec], end: _End) -> None:
            try:
                for spec in specs:
                    gate.wait(spec.name)
                    copy([spec], end)
                    gate.done(spec.name)
            except BaseException:
                gate.fail()  # the other connection stops at its next table
                raise

        other = _open_end(self.dst_loc)
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="memvault-copy") as pool:
                beside = pool.submit(copy_all, [largest], other)
                try:
                    copy_all(rest, dst)
                except copyorder.Gate.Aborted:
                    pass  # the other connection failed: its error is raised below
                finally:
                    failed = beside.exception()  # waits for it, whatever happened here
                if failed is not None and not isinstance(failed, copyorder.Gate.Aborted):
                    raise failed
        finally:
            other.close()


class _Checks:
    """The destination's checksums. PostgreSQL computes them on a second connection, driven
    from a thread, while the main thread copies the next table and rebuilds the indexes
    (checksums read committed rows only; they take no lock that index builds or foreign-key
    validation wait for). A SQLite destination is checksummed in Python at the end."""

    def __init__(self, transfer: _Transfer, dst: _End) -> None:
        self.transfer = transfer
        self.dst = dst
        self.pending: dict[str, Future[RowDigest]] = {}
        self.pool: ThreadPoolExecutor | None = None
        self.conn: Any = None
        if dst.engine == "postgresql":
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="memvault-verify")

    def _pg_digest(self, spec: TableSpec) -> RowDigest:
        if self.conn is None:
            self.conn = _pg_connect(self.transfer.dst_loc.conninfo or "", autocommit=True)
        digest = RowDigest(spec)
        sql = pg_checksum_sql(spec, self.transfer.dest_where(spec))
        count, *lanes = self.conn.execute(sql).fetchone()
        digest.add_sums(int(count), [int(x) for x in lanes])
        return digest

    def submit(self, spec: TableSpec) -> None:
        if self.pool is not None:
            self.pending[spec.name] = self.pool.submit(self._pg_digest, spec)

    def result(self, spec: TableSpec) -> RowDigest:
        if spec.name in self.pending:
            return self.pending.pop(spec.name).result()
        return self.transfer.dest_digest(self.dst, spec)

    def close(self) -> None:
        for future in self.pending.values():
            future.cancel()
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        if self.conn is not None:
            self.conn.close()


def transfer(
    source: str,
    destination: str,
    *,
    batch: int = BATCH_ROWS,
    progress: Progress | None = None,
    sqlite_sync_off: bool = False,
) -> TransferResult:
    """Copy every memvault table of `source` into `destination` and verify it.

    Raises DestinationNotEmpty, TransferError (a value the destination cannot hold, named by
    table, primary key and column) or VerificationFailed (with `.result`). Running it again
    after a crash resumes the unfinished transfer. `sqlite_sync_off` skips fsyncs on a
    SQLite destination while loading (safe to resume, since checkpoints commit with rows,
    but a power loss may corrupt the file)."""
    return _Transfer(source, destination, batch, progress, sqlite_sync_off).run()


def checksum_store(url: str, *, batch: int = BATCH_ROWS) -> dict[str, tuple[int, str]]:
    """(row count, content checksum) per table of the store at `url`, as the transfer
    computes them; comparable across engines. Unfinished transfer bookkeeping is skipped."""
    loc = parse_url(url)
    end = _open_end(loc, snapshot=True)
    try:
        runs = [str(r[0]) for r in end.rows(
            "SELECT id FROM import_runs WHERE format = ? AND status <> 'completed'",
            (FORMAT,))]  # fmt: skip
        out: dict[str, tuple[int, str]] = {}
        if end.engine == "sqlite":
            end.conn.execute("BEGIN")
        for spec in table_specs():
            where = ""
            if runs and spec.name in ("import_runs", "import_checkpoints"):
                col = "id" if spec.name == "import_runs" else "run_id"
                where = f"{col} NOT IN ({', '.join(repr(r) for r in runs)})"
            digest = _table_digest(end, spec, where, batch)
            out[spec.name] = (digest.count, digest.hexdigest)
        return out
    finally:
        if end.engine == "sqlite" and end.conn.in_transaction:
            end.conn.execute("ROLLBACK")
        end.close()
