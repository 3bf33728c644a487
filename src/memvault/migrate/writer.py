"""A background writer: the import's batches are written on a thread of their own.

The sqlite3 module (and psycopg) release the GIL while the database works, so while one
batch is inserted, indexed and committed, the importing thread reads and validates the next
one. Jobs run one at a time in the order they were submitted, and a job is handed over only
once the previous one has finished: one batch is being written while the next is built (two
batches in memory instead of one). The first job that fails stops the writer (later jobs
are dropped, so no batch commits after a failed one) and its exception is raised in the
importing thread at its next `submit` or `drain`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from types import TracebackType

from memvault.store.base import Store

Job = Callable[[], None]


class BackgroundWriter:
    """Runs write jobs in order on one thread (see the module docstring)."""

    def __init__(self, store: Store, name: str = "memvault-import-writer") -> None:
        self.store = store
        self._jobs: queue.Queue[Job | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                job = self._jobs.get()
                try:
                    if job is None:
                        return
                    if self._error is None:
                        job()
                except BaseException as exc:
                    self._error = exc
                finally:
                    self._jobs.task_done()
        finally:
            self.store.release_thread()

    def check(self) -> None:
        """Raise the error of a failed job, if any."""
        if self._error is not None:
            raise self._error

    def submit(self, job: Job) -> None:
        """Hand `job` over once the previous one has run (so at most one batch is being
        written while the next is built); raises an earlier job's error."""
        self.drain()
        if not self._thread.is_alive():
            raise RuntimeError("the import writer is closed")
        self._jobs.put(job)

    def drain(self) -> None:
        """Wait until every submitted job has run; raises the error of a failed one."""
        self._jobs.join()
        self.check()

    def close(self) -> None:
        """Let the queued jobs finish and stop the thread (errors are left to `check`)."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()

    def __enter__(self) -> BackgroundWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
