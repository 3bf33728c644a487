"""Group commit for the append hot path: one writer thread, one transaction per batch.

Concurrent appends queue here; the writer thread takes every append waiting (up to `max_batch`),
writes them in one transaction and answers each caller only after that transaction committed.
Under load this turns N transactions (N `BEGIN IMMEDIATE`/`COMMIT` pairs on SQLite, N WAL
flushes on PostgreSQL) and N thread hops into one of each.

A batch that fails as a whole (one append refused: a session deleted meanwhile, a value the core
rejects) is rolled back and replayed one append per transaction, so that each caller gets its
own outcome and no append is lost or written twice. Appends of one batch are written in order of
session id (arrival order within a session), so that two processes' batches on one PostgreSQL
lock sessions in the same order and cannot deadlock.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from memvault.records import Message
from memvault.vault import Vault

MAX_BATCH = 64


@dataclass(slots=True)
class Append:
    """One queued append and the future its caller awaits."""

    session_id: str
    role: str
    content: str
    emotion: str | None
    metadata: dict[str, Any] | None
    created_at: datetime | None
    future: asyncio.Future[Message] = field(repr=False)


_STOP = object()


class AppendWriter:
    """A thread writing queued appends in batches; `append` is awaited on the server's loop."""

    def __init__(self, vault: Vault, max_batch: int = MAX_BATCH) -> None:
        self.vault = vault
        self.max_batch = max_batch
        self.batches = 0
        self.appends = 0
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def append(
        self,
        session_id: str,
        role: str,
        content: str,
        *,
        emotion: str | None = None,
        metadata: dict[str, Any] | None = None,
        created_at: datetime | None = None,
    ) -> Message:
        """`vault.messages.append(...)`, written by the writer thread (with other appends)."""
        loop = asyncio.get_running_loop()
        self._ensure_started(loop)
        future: asyncio.Future[Message] = loop.create_future()
        self._queue.put(Append(session_id, role, content, emotion, metadata, created_at, future))
        return await future

    def _ensure_started(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._thread is not None and self._loop is loop:
            return
        with self._lock:
            if self._thread is not None and self._loop is not loop:
                raise RuntimeError("the append writer serves one event loop")
            if self._thread is None:
                self._loop = loop
                self._thread = threading.Thread(
                    target=self._run, name="memvault-append-writer", daemon=True
                )
                self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Write what is queued, then end the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout)
        self._loop = None

    # -- the writer thread --------------------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch: list[Append] = []
            item = self._queue.get()
            while True:
                if item is _STOP:
                    stopping = True
                else:
                    batch.append(item)
                if len(batch) >= self.max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._write(batch)

    def _write(self, batch: list[Append]) -> None:
        ordered = sorted(batch, key=lambda a: a.session_id)  # stable: arrival order kept
        outcomes: list[Message | BaseException] = []
        committed = False

        def mark() -> None:
            nonlocal committed
            committed = True

        try:
            with self.vault.transaction() as tx:
                tx.after_commit(mark)  # first callback: runs before the events are published
                outcomes = [self._one(a) for a in ordered]
        except Exception:
            # After the commit (an after-commit callback failed) the batch is written and
            # `outcomes` complete: never replay it. Before, nothing of it was written.
            if not committed:
                outcomes = [self._outcome(a) for a in ordered]
        self.batches += 1
        self.appends += len(batch)
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(_settle, ordered, outcomes)

    def _outcome(self, a: Append) -> Message | BaseException:
        """One append in its own transaction: the message or the error it raised."""
        try:
            return self._one(a)
        except Exception as exc:
            return exc

    def _one(self, a: Append) -> Message:
        return self.vault.messages.append(a.session_id, a.role, a.content, emotion=a.emotion,
                                          metadata=a.metadata, created_at=a.created_at)  # fmt: skip


def _settle(batch: list[Append], outcomes: list[Message | BaseException]) -> None:
    for a, outcome in zip(batch, outcomes, strict=True):
        if a.future.done():  # the caller went away (cancelled)
            continue
        if isinstance(outcome, BaseException):
            a.future.set_exception(outcome)
        else:
            a.future.set_result(outcome)
