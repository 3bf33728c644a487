"""One import at a time per store.

SQLite: an exclusive `flock` on `<store>.import.lock` (released by the kernel when the process
dies, even by kill -9; the file names the holder). A clean exit removes the file (while still
holding the lock; an acquirer that locked a file removed meanwhile sees that its inode is no
longer the path's and tries again), so no lock file is left next to the store. PostgreSQL: a
session-level advisory lock held on a connection of its own for the whole run (released when
that connection closes or the process dies). A second import gets `ImportLocked`, naming the
run that holds the lock.
"""

from __future__ import annotations

import json
import os
from types import TracebackType
from typing import Any

from memvault.errors import Conflict
from memvault.migrate import runs
from memvault.store.base import Store

ADVISORY_KEY = 0x6D76_696D_706F_7274  # "mvimport"


class ImportLocked(Conflict):
    """Another import into the same store is running."""


class ImportLock:
    """Context manager holding the store's import lock (see module docstring)."""

    def __init__(self, store: Store, run_id: str, source: str) -> None:
        self.store = store
        self.run_id = run_id
        self.source = source
        self._fd: int | None = None
        self._conn: Any = None

    @property
    def path(self) -> str | None:
        """The lock file of a SQLite store (None for PostgreSQL and `:memory:`)."""
        if self.store.engine != "sqlite":
            return None
        db = self.store.location.path
        return None if db in (None, ":memory:") else f"{db}.import.lock"

    def acquire(self) -> None:
        if self.store.engine == "sqlite":
            self._acquire_file()
        else:
            self._acquire_advisory()

    def _holder(self) -> str:
        info = {"run_id": self.run_id, "pid": os.getpid(), "source": self.source}
        return json.dumps(info)

    def _acquire_file(self) -> None:
        import fcntl

        path = self.path
        if path is None:
            return
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                break
            if _same_file(fd, path):
                os.ftruncate(fd, 0)
                os.pwrite(fd, self._holder().encode("utf-8"), 0)
                self._fd = fd
                return
            os.close(fd)  # its holder removed it as we opened it: lock the path's new file
        try:
            holder = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
        except (ValueError, OSError):
            holder = {}
        os.close(fd)
        raise ImportLocked(
            f"another import is running into {self.store.location.safe_url}: "
            f"run {holder.get('run_id', '?')} (pid {holder.get('pid', '?')}, "
            f"source {holder.get('source', '?')}); wait for it to finish"
        )

    def _acquire_advisory(self) -> None:
        import psycopg

        conninfo = self.store.location.conninfo or self.store.location.url
        conn = psycopg.connect(conninfo, autocommit=True)
        got = conn.execute("SELECT pg_try_advisory_lock(%s)", (ADVISORY_KEY,)).fetchone()
        if not got or not got[0]:
            conn.close()
            with self.store.read() as tx:
                row = runs.latest_running(tx)
            who = f"run {row[0]} (source {row[1]}, started {row[2]})" if row else "an unknown run"
            raise ImportLocked(
                f"another import is running into {self.store.location.safe_url}: {who}; "
                "wait for it to finish"
            )
        self._conn = conn

    def note(self, run_id: str) -> None:
        """Name another run as the holder (a resume takes an interrupted run over)."""
        self.run_id = run_id
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, self._holder().encode("utf-8"), 0)

    def release(self) -> None:
        if self._fd is not None:
            import fcntl

            try:
                path = self.path
                if path is not None and _same_file(self._fd, path):
                    os.unlink(path)  # under the lock: see the module docstring
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None
        if self._conn is not None:
            try:
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_KEY,))
            finally:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> ImportLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _same_file(fd: int, path: str) -> bool:
    """Whether the open file `fd` is still the file at `path`."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)
