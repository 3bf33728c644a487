"""Embedded SQLite: WAL, foreign keys, busy timeout, and `BEGIN IMMEDIATE` for every write.

One connection per thread (SQLite connections are cheap and must not be shared mid-transaction),
and one in-process write lock so that threads queue in Python instead of spinning on SQLite's
busy handler; other processes are handled by the busy timeout. The driver is `sqlean.py`, a
build of the stdlib module that can load extensions (sqlite-vec) and ships a recent SQLite.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import sqlean

from memvault.errors import (
    IntegrityViolation,
    InvalidInput,
    SchemaError,
    StoreBusy,
    StoreError,
    StoreFull,
    StoreUnavailable,
)
from memvault.store.base import Location, Params, RowRefused, Store, Tx

SYNC_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
# `insert_rows` stages batches of at least this many rows (below, executemany), and moves
# them with one statement per this many rows: a statement's journal of the pages it changed
# stays in memory (temp_store=MEMORY), so one statement per 5,000-row batch raised the peak
# RSS of a 1 GB import from ~190 to 272 MB, for no measurable speed.
STAGE_MIN_ROWS = 16
STAGE_STATEMENT_ROWS = 1000

# Reads go through a memory map of up to this many bytes of the file: pages read stay mapped,
# and count in the process's resident memory (`streaming` turns it off for bulk work).
MMAP_SIZE = 256 << 20

ConnectHook = Callable[[Any], None]
NETWORK_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb", "smb2", "smbfs", "9p", "fuse.sshfs", "afs", "glusterfs",
     "ceph", "fuse.glusterfs", "lustre", "davfs", "fuse.s3fs"}
)  # fmt: skip
MOUNTS = "/proc/self/mounts"


class NetworkFilesystemWarning(UserWarning):
    """The database file lives on a network filesystem, where SQLite is not safe."""


def filesystem_type(path: str, mounts: str = MOUNTS) -> str | None:
    """The type of the filesystem holding `path` (longest matching mount point), if known."""
    try:
        with open(mounts, encoding="utf-8") as fh:
            entries = [line.split() for line in fh if line.strip()]
    except OSError:
        return None
    real = os.path.realpath(path)
    best: tuple[int, str] | None = None
    for entry in entries:
        if len(entry) < 3:
            continue
        point = entry[1].replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) > best[0]):
            best = (len(point), entry[2])
    return best[1] if best else None


def translate(exc: BaseException, sql: str = "") -> Exception:
    """Map a sqlean/sqlite3 exception onto memvault's hierarchy."""
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, sqlean.IntegrityError):
        return IntegrityViolation(text)
    if "database is locked" in lowered or "database is busy" in lowered:
        return StoreBusy(f"the database stayed locked by another writer: {text}")
    if "full" in lowered and ("disk" in lowered or "database" in lowered):
        return StoreFull(f"no space left for the database: {text}")
    if "disk i/o error" in lowered or "file too large" in lowered:
        return StoreFull(f"the database could not be written: {text}")
    if "unable to open" in lowered:
        return StoreUnavailable(text)
    return StoreError(f"{text} (in: {sql.strip()[:200]})" if sql else text)


def insert_rows(
    conn: Any,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Any],
    conflict: str = "",
) -> int:
    """Insert `rows` (mappings by column name, or sequences in `columns` order) into `table`
    on a sqlean connection inside an open transaction; returns the rows inserted. `conflict`
    is an optional `ON CONFLICT …` clause.

    Many rows go through a TEMP staging table and `INSERT … SELECT` statements of
    `STAGE_STATEMENT_ROWS`: FTS5 flushes its pending terms to disk at every statement (its
    savepoint hook), so an `executemany` through a full-text trigger writes one index segment
    per row, which FTS5 then merges (100k messages: 7.4 s → 2.7 s). The staging table has no
    declared types, so values reach `table` untouched and get exactly the affinity a direct
    insert gives them; rows go in in the order given (the staging table is read in rowid
    order). A failing row fails its statement, as with `executemany`.
    """
    names = ", ".join(f'"{c}"' for c in columns)
    named = bool(rows) and isinstance(rows[0], Mapping)
    marks = ", ".join(f":{c}" if named else "?" for c in columns)
    if len(rows) < STAGE_MIN_ROWS:
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks}) {conflict}"
        return int(conn.executemany(sql, rows).rowcount)
    stage = f"memvault_stage_{table}"
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({names})")
    conn.execute(f"DELETE FROM temp.{stage}")
    conn.executemany(f"INSERT INTO temp.{stage} ({names}) VALUES ({marks})", rows)
    # `WHERE` also lets SQLite parse an upsert clause after the SELECT.
    sql = (
        f"INSERT INTO {table} ({names}) SELECT {names} FROM temp.{stage} "
        f"WHERE rowid BETWEEN ? AND ? {conflict}"
    )
    # The staging table was empty, so its rows are numbered 1..len(rows) in input order.
    inserted = 0
    for lo in range(1, len(rows) + 1, STAGE_STATEMENT_ROWS):
        inserted += conn.execute(sql, (lo, lo + STAGE_STATEMENT_ROWS - 1)).rowcount
    conn.execute(f"DELETE FROM temp.{stage}")
    return inserted


class SQLiteTx(Tx):
    engine = "sqlite"

    def __init__(self, conn: Any, writable: bool) -> None:
        super().__init__(writable)
        self.conn = conn

    def execute(self, sql: str, params: Params | None = None) -> Any:
        try:
            return self.conn.execute(sql, params or {})
        except sqlean.Error as exc:
            raise translate(exc, sql) from exc

    def executemany(self, sql: str, rows: Sequence[Params]) -> int:
        try:
            return int(self.conn.executemany(sql, rows).rowcount)
        except sqlean.Error as exc:
            raise translate(exc, sql) from exc

    def insert_new(self, table: str, columns: Sequence[str], rows: Sequence[Params]) -> int:
        try:
            return insert_rows(self.conn, table, columns, rows, "ON CONFLICT DO NOTHING")
        except sqlean.Error as exc:
            raise translate(exc, f"INSERT INTO {table}") from exc

    def ts(self, value: datetime | None) -> Any:
        if value is None:
            return None
        if value.tzinfo is UTC:  # the common case (sources give UTC times): one call
            return value.isoformat(timespec="microseconds")[:-6] + "Z"
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        # isoformat pads the year to four digits (strftime's %Y does not below 1000), so the
        # text stays fixed-width and sorts in time order.
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"

    @staticmethod
    def ts_out(value: Any) -> datetime | None:
        if value is None:
            return None
        return datetime.fromisoformat(value)

    def json(self, value: Any) -> Any:
        return orjson.dumps(value).decode()

    @staticmethod
    def json_out(value: Any) -> Any:
        return None if value is None else orjson.loads(value)

    # Times are fixed-width ISO-8601 text in UTC ("2024-05-01T09:30:00.000000Z"), so the
    # hour, day and month are substrings of it.
    def utc_hour(self, time: str) -> str:
        return f"CAST(substr({time}, 12, 2) AS INTEGER)"

    def utc_day(self, time: str) -> str:
        return f"substr({time}, 1, 10)"

    def utc_month(self, time: str) -> str:
        return f"substr({time}, 1, 7) || '-01'"

    def seconds_between(self, end: str, start: str) -> str:
        return f"(julianday({end}) - julianday({start})) * 86400.0"

    def day_value(self, value: date) -> Any:
        return value.isoformat()

    @property
    def database(self) -> str:
        row = self.conn.execute("PRAGMA database_list").fetchone()
        return f"sqlite:{row[2] or id(self.conn)}"  # no file name: an in-memory database

    def scan(
        self, sql: str, params: Params | None = None, *, batch: int = 10_000
    ) -> Iterator[list[tuple[Any, ...]]]:
        try:
            cur = self.conn.cursor()
            cur.row_factory = None  # plain tuples: no Row object per row
            cur.execute(sql, params or {})
            while True:
                chunk = cur.fetchmany(batch)
                if not chunk:
                    return
                yield chunk
        except sqlean.Error as exc:
            raise translate(exc, sql) from exc

    def load_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        meanwhile: Callable[[], None] | None = None,
    ) -> None:
        if meanwhile is not None:
            meanwhile()
        self.conn.execute("SAVEPOINT memvault_load")
        try:
            insert_rows(self.conn, table, columns, rows)
        except sqlean.Error as exc:
            # Undo the statements that went in, then find the row SQLite refuses, to name it.
            self.conn.execute("ROLLBACK TO memvault_load")
            quoted = ", ".join(f'"{c}"' for c in columns)
            sql = f"INSERT INTO {table} ({quoted}) VALUES ({', '.join('?' for _ in columns)})"
            # One by one, in order, so a row clashing with an earlier one of `rows` is found.
            try:
                for index, row in enumerate(rows):
                    try:
                        self.conn.execute(sql, row)
                    except sqlean.Error as one:
                        raise RowRefused(str(one), index=index) from exc
            finally:
                self.conn.execute("ROLLBACK TO memvault_load")
            raise RowRefused(str(exc)) from exc
        finally:
            if self.conn.in_transaction:
                self.conn.execute("RELEASE memvault_load")


class SQLiteStore(Store):
    """A SQLite database file (or `:memory:`)."""

    engine = "sqlite"

    def __init__(
        self,
        location: Location,
        *,
        synchronous: str = "NORMAL",
        busy_timeout: float = 30.0,
        connect_hooks: Sequence[ConnectHook] = (),
        create: bool = True,
        foreign_keys: bool = True,
    ) -> None:
        super().__init__(location)
        # foreign_keys=False: for a bulk loader that checks them itself afterwards
        # (`PRAGMA foreign_key_check`), e.g. `memvault transfer`.
        self.foreign_keys = foreign_keys
        # create=False: the file must exist and already hold a memvault schema; every
        # connection opens it with `mode=rw`, so that SQLite never creates a missing file.
        self.create = create
        sync = synchronous.upper()
        if sync not in SYNC_MODES:
            raise InvalidInput("synchronous", synchronous, f"expected one of {SYNC_MODES}")
        self.synchronous = sync
        self.busy_timeout = busy_timeout
        self.connect_hooks = list(connect_hooks)
        self.path = location.path or ":memory:"
        self.memory = self.path == ":memory:"
        self._pid = os.getpid()
        self._write_lock = threading.RLock() if self.memory else threading.Lock()
        self._connections: list[Any] = []
        self._registry_lock = threading.Lock()
        self._shared: Any = None
        self._closed = False
        self.commits = 0
        self.checkpointer: Checkpointer | None = None
        if not self.memory:
            parent = Path(self.path).parent
            if not parent.exists():
                raise StoreUnavailable(
                    f"cannot open {self.path}: the folder {parent} does not exist"
                )
            if not create and not Path(self.path).is_file():
                raise StoreUnavailable(
                    f"no memvault store at {self.path} (the file does not exist); "
                    "create one with `memvault init`"
                )
            fstype = filesystem_type(str(parent))
            if fstype in NETWORK_FILESYSTEMS:
                warnings.warn(
                    f"{self.path} is on a network filesystem ({fstype}): SQLite's locking is "
                    "unreliable there and WAL mode needs shared memory on one host; expect "
                    "corruption with several writers. Use a local disk or PostgreSQL.",
                    NetworkFilesystemWarning,
                    stacklevel=3,
                )
        self._connection()  # open now so that a bad path fails here, not at first use

    # -- connections ------------------------------------------------------------------------

    def _open(self) -> Any:
        existing_only = not self.create and not self.memory
        target = self.path
        if existing_only:
            target = "file:" + quote(str(Path(self.path).resolve())) + "?mode=rw"
        try:
            conn = sqlean.connect(
                target,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
                uri=existing_only,
            )
        except sqlean.Error as exc:
            if existing_only and not Path(self.path).is_file():
                raise StoreUnavailable(
                    f"no memvault store at {self.path} (the file does not exist); "
                    "create one with `memvault init`"
                ) from exc
            raise StoreUnavailable(f"cannot open SQLite database {self.path}: {exc}") from exc
        conn.row_factory = sqlean.Row
        try:
            if existing_only and not self._connections:
                # Before the switch to WAL, which writes: a file that is not a memvault
                # store (an empty file, another application's database) stays untouched.
                found = conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'memvault_version'"
                ).fetchone()
                if found is None:
                    conn.close()
                    raise SchemaError(
                        f"{self.path} is not a memvault store (no memvault schema); "
                        "create one with `memvault init`"
                    )
            if not self.memory:
                mode = self._switch_to_wal(conn)
                if str(mode).lower() != "wal":
                    raise StoreError(f"{self.path}: could not switch to WAL (got {mode})")
            conn.execute(f"PRAGMA foreign_keys={'ON' if self.foreign_keys else 'OFF'}")
            conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA cache_size=-32000")
            conn.execute(f"PRAGMA mmap_size={MMAP_SIZE}")
            # Checkpoints truncate the WAL back to this size, so it cannot grow without bound.
            conn.execute("PRAGMA journal_size_limit=67108864")
            if not self.memory:
                # Checkpoints (and their fsyncs) run on the checkpointer thread, not inside a
                # writer's commit; see Checkpointer.
                conn.execute("PRAGMA wal_autocheckpoint=0")
            for hook in self.connect_hooks:
                hook(conn)
        except sqlean.Error as exc:
            conn.close()
            raise translate(exc) from exc
        with self._registry_lock:
            self._connections.append(conn)
        return conn

    def _switch_to_wal(self, conn: Any) -> Any:
        """`PRAGMA journal_mode=WAL`, retried while the file is locked. When several processes
        open a new file at once, the switch can get SQLITE_BUSY at once, without the busy
        handler being called (SQLite does not wait there, to avoid deadlocks)."""
        deadline = time.monotonic() + self.busy_timeout
        delay = 0.001
        while True:
            try:
                return conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            except sqlean.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _connection(self) -> Any:
        if self._closed:
            raise StoreError("this Vault is closed")
        if os.getpid() != self._pid:
            raise StoreError(
                f"this Vault was opened in process {self._pid} and is being used in process "
                f"{os.getpid()} after fork(); open a new Vault in the child process"
            )
        if self.memory:
            if self._shared is None:
                self._shared = self._open()
            return self._shared
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
        return conn

    def raw_connection(self) -> Any:
        """This thread's driver connection (for backup, checks and benchmarks)."""
        return self._connection()

    # -- transactions -----------------------------------------------------------------------

    @contextmanager
    def _transaction(self, writable: bool, wait: bool = True) -> Iterator[Tx]:
        conn = self._connection()
        lock = self._write_lock if (writable or self.memory) else None
        if lock is not None and not lock.acquire(blocking=wait):
            raise StoreBusy("another thread of this process is writing")
        try:
            try:
                if not wait:
                    conn.execute("PRAGMA busy_timeout=0")
                try:
                    conn.execute("BEGIN IMMEDIATE" if writable else "BEGIN")
                finally:
                    if not wait:
                        conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
            except sqlean.Error as exc:
                raise translate(exc) from exc
            tx = SQLiteTx(conn, writable)
            try:
                yield tx
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except sqlean.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise translate(exc) from exc
            if writable and not self.memory:
                self.commits += 1
                if self.checkpointer is None:
                    self.checkpointer = Checkpointer(self)
                elif self.commits - self.checkpointer.seen >= Checkpointer.EVERY or (
                    self.commits % Checkpointer.PROBE == 0
                    and self.checkpointer.wal_bytes() >= Checkpointer.WAKE_ABOVE
                ):
                    self.checkpointer.wake()
        finally:
            if lock is not None:
                lock.release()

    def close(self) -> None:
        if self._closed:
            return
        if os.getpid() != self._pid:
            self._closed = True
            return  # never touch a parent's SQLite handles after fork()
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self._closed = True
        with self._registry_lock:
            conns, self._connections = self._connections, []
        for conn in conns:
            with suppress(sqlean.Error):
                conn.close()

    # -- administration ---------------------------------------------------------------------

    def size_bytes(self) -> int:
        if self.memory:
            conn = self._connection()
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            return int(pages) * int(conn.execute("PRAGMA page_size").fetchone()[0])
        total = 0
        for suffix in ("", "-wal"):
            with suppress(OSError):
                total += os.path.getsize(self.path + suffix)
        return total

    def check(self) -> list[str]:
        conn = self._connection()
        problems = [
            f"integrity_check: {row[0]}"
            for row in conn.execute("PRAGMA integrity_check").fetchall()
            if row[0] != "ok"
        ]
        for row in conn.execute("PRAGMA foreign_key_check").fetchall():
            problems.append(
                f"foreign_key_check: {row[0]} rowid {row[1]} refers to a missing {row[2]} row"
            )
        return problems

    def settle(self) -> None:
        """Checkpoint now, on this thread. A bulk writer (an import) commits batches faster
        than the background checkpointer wakes, so without this the WAL grows by every batch
        written in between (hundreds of MB over a large import)."""
        if self.memory or self._closed or getattr(self._local, "tx", None) is not None:
            return  # inside a transaction the checkpoint would wait for this thread's lock
        if self.checkpointer is None:
            self.checkpointer = Checkpointer(self)
        self.checkpointer.run_once()

    @contextmanager
    def streaming(self) -> Iterator[None]:
        """No memory map on this thread's connection while the block runs. An import reads
        back every row it wrote; through the map each page read stays resident, and the
        map (`MMAP_SIZE`) outweighed the importer's own memory (RSS 262 MB for a 94 MB
        file, 167 MB of it mapped pages). Without it pages go through SQLite's bounded cache."""
        if self.memory:
            yield
            return
        conn = self._connection()
        conn.execute("PRAGMA mmap_size=0")
        try:
            yield
        finally:
            if not self._closed:
                conn.execute(f"PRAGMA mmap_size={MMAP_SIZE}")

    def checkpoint(self, mode: str = "TRUNCATE") -> tuple[int, int, int]:
        """Run a WAL checkpoint; returns (busy, wal pages, pages checkpointed)."""
        row = self._connection().execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    @property
    def file(self) -> Path | None:
        return None if self.memory else Path(self.path)

    @contextmanager
    def secure_delete(self) -> Iterator[None]:
        conn = self._connection()
        conn.execute("PRAGMA secure_delete=ON")  # freed pages are zeroed, not left readable
        try:
            yield
        finally:
            conn.execute("PRAGMA secure_delete=OFF")

    def reclaim(self, tables: Sequence[str], *, rebuild: bool = True) -> None:
        if rebuild:
            # secure_delete zeroes freed cells, but b-tree rebalancing can leave copies of
            # deleted cells in a page's unused space; VACUUM rebuilds every page from live rows.
            self._connection().execute("VACUUM")
        self.checkpoint("TRUNCATE")

    def backup_to(self, target: str) -> None:
        """Online backup into a new file: one consistent snapshot, writers keep going."""
        source = self._connection()
        try:
            dest = sqlean.connect(target, isolation_level=None)
        except sqlean.Error as exc:
            raise StoreUnavailable(f"cannot create backup file {target}: {exc}") from exc
        try:
            # One step holds one read snapshot; WAL lets writers continue meanwhile.
            source.backup(dest, pages=-1)
            dest.execute("PRAGMA journal_mode=DELETE")
        except sqlean.Error as exc:
            raise translate(exc) from exc
        finally:
            dest.close()

    def restore_from(self, source_path: str) -> None:
        """Replace this database's content with a backup file, through SQLite's own locking."""
        try:
            src = sqlean.connect(source_path, isolation_level=None)
        except sqlean.Error as exc:
            raise StoreUnavailable(f"cannot open backup {source_path}: {exc}") from exc
        try:
            with self._write_lock:
                src.backup(self._connection(), pages=-1)
        except sqlean.Error as exc:
            raise translate(exc) from exc
        finally:
            src.close()

    def sqlalchemy_engine(self) -> Any:
        import sqlalchemy as sa
        from sqlalchemy.pool import NullPool, StaticPool

        path = self.path

        def creator() -> Any:
            conn = sqlean.connect(path, timeout=self.busy_timeout, isolation_level=None)
            conn.execute("PRAGMA foreign_keys=ON")
            return conn

        if self.memory:
            shared = self._connection()
            return sa.create_engine(
                "sqlite://", module=sqlean, creator=lambda: shared, poolclass=StaticPool
            )
        return sa.create_engine("sqlite://", module=sqlean, creator=creator, poolclass=NullPool)


class Checkpointer:
    """Keeps the WAL small, off the writers' path.

    Auto-checkpoints are disabled on memvault's connections because a checkpoint's fsync
    would land inside whichever commit crossed the threshold. This thread wakes every
    INTERVAL seconds, every EVERY commits, or when a writer sees the WAL file above
    WAKE_ABOVE bytes (writers look every PROBE commits), and runs a PASSIVE checkpoint,
    which blocks neither readers nor writers and copies most of the WAL.

    A PASSIVE checkpoint alone never lets the WAL start over under steady writes: SQLite
    rewinds the WAL only when a writer *begins* while every frame is already copied, and
    a concurrent writer always has newer frames by the time the checkpoint ends (its
    result compares against its own, already stale, view of the WAL, so it reports
    "complete"). 20,000 appends grew the WAL to ~970 MB that way. So, when the WAL file
    is above RESET_ABOVE bytes, or writes have stopped, the checkpointer then holds the
    in-process write lock and runs a TRUNCATE checkpoint: it copies what the writers
    added meanwhile, waits at most RESET_WAIT_MS for the last readers of old frames (and
    for another process's writer), and truncates the file to zero. If a reader pins old
    frames the reset is retried, at most once per RETRY_AFTER seconds while the pin holds,
    so a long reader does not stall writers at every round.
    """

    EVERY = 1000  # commits between checkpoints under load: each costs two fsyncs
    PROBE = 32  # commits between a writer's looks at the WAL file's size (one stat)
    WAKE_ABOVE = 16 * 1024 * 1024  # WAL bytes at which a writer wakes the checkpointer
    RESET_ABOVE = 8 * 1024 * 1024  # WAL bytes above which a round truncates the WAL
    RESET_WAIT_MS = 100  # the longest a reset may keep writers waiting for readers
    RETRY_AFTER = 1.0  # seconds between resets tried against a reader pinning the WAL
    INTERVAL = 1.0  # seconds between checks when few commits arrive

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self.interval = self.INTERVAL
        self.runs = 0
        self.resets = 0
        self.seen = -1
        self.reset_at = -1  # `store.commits` when the WAL was last truncated
        self._refused_at = 0.0  # monotonic time of the last reset a reader refused
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._conn: Any = None
        self._running = threading.Lock()  # run_once is also called by `SQLiteStore.settle`
        self._thread = threading.Thread(target=self._run, name="memvault-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if not self._stop.is_set():
                self.run_once()

    def wake(self) -> None:
        """Ask for a checkpoint now (called by writers)."""
        self._wake.set()

    def wal_bytes(self) -> int:
        """The WAL file's size (0 when there is none)."""
        try:
            return os.stat(self.store.path + "-wal").st_size
        except OSError:
            return 0

    def run_once(self, *, final: bool = False) -> None:
        """Checkpoint now if anything was committed since the last run, and truncate the
        WAL when it is large or writes have stopped; `final` (on close) always tries."""
        with self._running:
            self._run_once(final)

    def _connection(self) -> Any:
        if self._conn is None:
            self._conn = sqlean.connect(
                self.store.path, isolation_level=None, check_same_thread=False
            )
            # Only RESTART/TRUNCATE checkpoints call the busy handler, while they hold
            # SQLite's write lock: keep that wait short, writers of every process queue on it.
            self._conn.execute(f"PRAGMA busy_timeout={self.RESET_WAIT_MS}")
            self._conn.execute("PRAGMA journal_size_limit=67108864")
        return self._conn

    def _run_once(self, final: bool) -> None:
        commits = self.store.commits
        size = self.wal_bytes()
        stopped = commits == self.seen  # nothing committed since the previous round
        if size == 0 or (stopped and self.reset_at == commits and not final):
            self.seen = commits
            return
        try:
            conn = self._connection()
            log, done = -1, -1
            if not stopped:
                _busy, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if final or stopped or self.wal_bytes() >= self.RESET_ABOVE:
                pinned = done < log  # a reader held frames back from the PASSIVE round
                retry = time.monotonic() - self._refused_at >= self.RETRY_AFTER
                if final or not pinned or retry:
                    self._reset(conn, commits)
            self.seen = commits
            self.runs += 1
        except sqlean.Error:
            pass  # closed, or another checkpoint running: the next round tries again

    def _reset(self, conn: Any, commits: int) -> None:
        """TRUNCATE checkpoint under the in-process write lock: this process's writers wait
        in Python (no half-begun transaction keeps a read mark), other processes' writers
        and the last readers of old frames are waited for by SQLite, RESET_WAIT_MS at most."""
        lock = self.store._write_lock
        # Writers hold the lock for milliseconds; a caller closing the Vault from inside its
        # own transaction holds it for good, so give up rather than deadlock.
        if not lock.acquire(timeout=1.0):
            self._refused_at = time.monotonic()
            return
        try:
            busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            lock.release()
        if busy:
            self._refused_at = time.monotonic()
        else:
            self.reset_at = commits
            self.resets += 1

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)
        self.run_once(final=True)  # leave an empty WAL behind, even if others keep it open
        if self._conn is not None:
            self._conn.close()
            self._conn = None
