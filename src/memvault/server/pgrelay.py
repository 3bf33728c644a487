"""Events across processes on PostgreSQL: NOTIFY each local event, LISTEN for the others'.

Every service process on one database runs a relay. A local write's event is queued by the
writer thread (never blocking it) and sent by a sender thread with `pg_notify` on its own
connection, batched; a listener thread holds a dedicated connection in LISTEN and hands every
event from another process (by origin id) to this process's WebSocket hub. Connections lost are
re-opened with a backoff; events published while the listener is down are not replayed
(NOTIFY is at-most-once, like the WebSocket stream itself).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
import psycopg

from memvault.records import Event

log = logging.getLogger("memvault.server.relay")

CHANNEL = "memvault_events"
MAX_PAYLOAD = 7900  # NOTIFY payloads stop at 8000 bytes
BATCH = 200


def pack(origin: str, event: Event) -> str:
    """An event as a NOTIFY payload (its `data` dropped if it would not fit)."""
    body = {"o": origin, "k": event.kind, "u": event.user_id, "i": event.ids,
            "a": event.at.isoformat(), "d": event.data}  # fmt: skip
    text = orjson.dumps(body, default=str).decode()
    if len(text.encode()) > MAX_PAYLOAD:
        body["d"] = {"truncated": True}
        text = orjson.dumps(body, default=str).decode()
    return text


def unpack(payload: str) -> tuple[str, Event]:
    """(origin, event) from a NOTIFY payload."""
    body = orjson.loads(payload)
    event = Event(str(body["k"]), body.get("u"), dict(body.get("i") or {}),
                  datetime.fromisoformat(body["a"]), dict(body.get("d") or {}))  # fmt: skip
    return str(body["o"]), event


class PgRelay:
    """NOTIFY/LISTEN bridge for one process; `start()`, then `relay` goes on `events.relays`."""

    def __init__(self, conninfo: str, deliver: Callable[[Event], None]) -> None:
        self.conninfo = conninfo
        self.deliver = deliver
        self.origin = uuid.uuid4().hex
        self._out: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, timeout: float = 10.0) -> None:
        """Start both threads; returns once the listener is in LISTEN (or `timeout`)."""
        for name, target in (("sender", self._send_loop), ("listener", self._listen_loop)):
            thread = threading.Thread(target=target, name=f"memvault-relay-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self._listening.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._out.put(None)
        for thread in self._threads:
            thread.join(5)
        self._threads.clear()

    def relay(self, event: Event) -> None:
        """EventBus relay: queue a local event for NOTIFY (called on the writer's thread)."""
        if not self._stop.is_set():
            self._out.put(event)

    # -- threads ---------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)

    def _send_loop(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        pending: list[str] = []
        while not self._stop.is_set():
            if not pending:
                event = self._out.get()
                if event is None:
                    break
                pending.append(pack(self.origin, event))
            while len(pending) < BATCH:  # drain what queued up meanwhile: one round trip
                try:
                    more = self._out.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._stop.set()
                    break
                pending.append(pack(self.origin, more))
            try:
                if conn is None or conn.closed:
                    conn = self._connect()
                conn.execute(
                    "SELECT pg_notify(%s, p) FROM unnest(%s::text[]) AS p", (CHANNEL, pending)
                )
                pending = []
            except psycopg.Error as exc:
                log.warning("relay NOTIFY failed (%s); reconnecting", type(exc).__name__)
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()
                conn = None
                if self._stop.wait(0.5):
                    break
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def _listen_loop(self) -> None:
        backoff = 0.2
        while not self._stop.is_set():
            try:
                with self._connect() as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    backoff = 0.2
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._receive(note.payload)
            except psycopg.Error as exc:
                log.warning("relay LISTEN failed (%s); reconnecting", type(exc).__name__)
                if self._stop.wait(backoff):
                    break
                backoff = min(backoff * 2, 5.0)

    def _receive(self, payload: str) -> None:
        try:
            origin, event = unpack(payload)
        except (ValueError, KeyError, TypeError):
            log.warning("relay: ignored a malformed payload")
            return
        if origin != self.origin:
            try:
                self.deliver(event)
            except Exception:
                log.exception("relay delivery failed for %s", event.kind)
