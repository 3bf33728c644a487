"""Events → WebSocket: `/ws` clients subscribe to topics and receive each matching write.

Protocol (JSON text frames). The client authenticates with an `Authorization: Bearer` header on
the upgrade request, or — browsers cannot set headers there — with a first frame
`{"op": "auth", "key": "mv_…"}`. Then `{"op": "subscribe", "topic": T}` / `{"op":
"unsubscribe", "topic": T}`; the server answers `{"type": "subscribed", "topic": T}` or
`{"type": "error", "error": …, "detail": …}` and pushes `{"type": "event", "topic": T,
"kind": …, "user_id": …, "ids": {…}, "at": …, "data": {…}}` for every matching write.

Topics: `session:<id>` (its messages and changes), `memories:<user_id>`, `actions` (the caller's
tool calls; `actions:<user_id>` for an admin), `agent:<topic or agent name>`, `user:<id>` (every
write of one user) and `all` (admin only). Each subscription is checked against the key's owner
when it is made, and each event again when it is delivered: a user key never receives another
user's event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from memvault.errors import InvalidInput, MemvaultError, NotFound
from memvault.events import Subscription
from memvault.keys import ApiKeys
from memvault.records import Event
from memvault.server.auth import Principal, authenticate, bearer, view_of
from memvault.vault import Vault

log = logging.getLogger("memvault.server.ws")

AUTH_TIMEOUT = 10.0
QUEUE_SIZE = 1000  # events waiting for one slow client before it is dropped
MAX_TOPICS = 100
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_OVERLOAD = 1013


def topic_matches(topic: str, event: Event) -> bool:
    """Whether `event` belongs to `topic` (ownership is checked separately)."""
    kind, _, arg = topic.partition(":")
    if kind == "all":
        return True
    if kind == "session":
        return event.ids.get("session_id") == arg
    if kind == "memories":
        return event.kind.startswith("memory.") and event.user_id == arg
    if kind == "actions":
        return event.kind.startswith("action.") and (not arg or event.user_id == arg)
    if kind == "agent":
        return event.kind.startswith("agent_message.") and arg in (
            event.data.get("topic"),
            event.data.get("to"),
            event.data.get("from"),
        )
    if kind == "user":
        return event.user_id == arg
    return False


def encode(topic: str, event: Event) -> str:
    return orjson.dumps(
        {
            "type": "event",
            "topic": topic,
            "kind": event.kind,
            "user_id": event.user_id,
            "ids": event.ids,
            "at": event.at.isoformat(),
            "data": event.data,
        },
        default=str,
    ).decode()


@dataclass(eq=False)
class Client:
    principal: Principal
    queue: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    topics: set[str] = field(default_factory=set)
    overloaded: bool = False

    def wants(self, topic: str, event: Event) -> bool:
        if not (self.principal.admin or event.user_id == self.principal.user_id):
            return False
        return topic_matches(topic, event)


class Hub:
    """Every open `/ws` connection of this process, fed by the Vault's events (and the relay)."""

    def __init__(self, vault: Vault, keys: ApiKeys, max_message_bytes: int) -> None:
        self.vault = vault
        self.keys = keys
        self.max_message_bytes = max_message_bytes
        self.clients: set[Client] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sub: Subscription | None = None

    # -- feeding ---------------------------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start receiving this process's events (call on the server's loop)."""
        self._loop = loop
        self._sub = self.vault.events.subscribe(self.deliver_threadsafe)

    def detach(self) -> None:
        if self._sub is not None:
            self._sub.close()
            self._sub = None
        self._loop = None

    def deliver_threadsafe(self, event: Event) -> None:
        """Hand an event over from a writer (or relay) thread to the server's loop."""
        loop = self._loop
        if loop is not None and self.clients and not loop.is_closed():
            loop.call_soon_threadsafe(self.dispatch, event)

    def dispatch(self, event: Event) -> None:
        """Queue `event` for every client with a matching topic (on the loop)."""
        encoded: dict[str, str] = {}
        for client in list(self.clients):
            for topic in client.topics:
                if not client.wants(topic, event):
                    continue
                frame = encoded.get(topic)
                if frame is None:
                    frame = encoded[topic] = encode(topic, event)
                try:
                    client.queue.put_nowait(frame)
                except asyncio.QueueFull:
                    client.overloaded = True
                    self.clients.discard(client)
                    with contextlib.suppress(asyncio.QueueFull):
                        client.queue.get_nowait()
                        client.queue.put_nowait(None)
                    break

    # -- one connection --------------------------------------------------------------------

    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        principal = await self._authenticate(ws)
        if principal is None:
            return
        client = Client(principal)
        self.clients.add(client)
        sender = asyncio.create_task(self._send_loop(ws, client))
        try:
            await self._receive_loop(ws, client)
        finally:
            self.clients.discard(client)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
        if client.overloaded:
            await self._close(ws, CLOSE_OVERLOAD, "too slow: events dropped")

    async def _authenticate(self, ws: WebSocket) -> Principal | None:
        key = bearer(ws.headers.get("authorization"))
        if key is None:
            try:
                text = await asyncio.wait_for(self._receive_text(ws), AUTH_TIMEOUT)
            except (TimeoutError, WebSocketDisconnect):
                await self._close(ws, CLOSE_POLICY, "authenticate first")
                return None
            if text is None:
                return None
            frame = _parse(text)
            key = frame.get("key") if frame and frame.get("op") == "auth" else None
            if not isinstance(key, str):
                await self._close(ws, CLOSE_POLICY, "first frame must be {op: auth, key}")
                return None
        principal = await run_in_threadpool(authenticate, self.keys, key)
        if principal is None:
            await ws.send_text(_frame("error", error="unauthorized", detail="invalid API key"))
            await self._close(ws, CLOSE_POLICY, "invalid or revoked API key")
            return None
        await ws.send_text(_frame("ready", user_id=principal.user_id, admin=principal.admin))
        return principal

    async def _receive_text(self, ws: WebSocket) -> str | None:
        """The next frame as text; None when the connection is gone or was closed for size."""
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        data = message.get("text")
        if data is None:
            raw = message.get("bytes") or b""
            if len(raw) > self.max_message_bytes:
                await self._close(ws, CLOSE_TOO_BIG, "message too large")
                return None
            data = raw.decode("utf-8", errors="replace")
        if len(data.encode("utf-8", errors="replace")) > self.max_message_bytes:
            await self._close(ws, CLOSE_TOO_BIG, "message too large")
            return None
        return str(data)

    async def _receive_loop(self, ws: WebSocket, client: Client) -> None:
        while True:
            try:
                text = await self._receive_text(ws)
            except WebSocketDisconnect:
                return
            if text is None or client.overloaded:
                return
            frame = _parse(text)
            reply = (
                _frame("error", error="invalid_input", detail="not a JSON object")
                if frame is None
                else await self._handle(client, frame)
            )
            # Replies share the event queue: one task writes to the socket, in order.
            await client.queue.put(reply)

    async def _handle(self, client: Client, frame: dict[str, Any]) -> str:
        op, topic = frame.get("op"), frame.get("topic")
        if op == "ping":
            return _frame("pong")
        if op not in ("subscribe", "unsubscribe"):
            return _frame("error", error="invalid_input", field="op",
                          detail="op must be subscribe, unsubscribe or ping")  # fmt: skip
        if not isinstance(topic, str) or not 0 < len(topic) <= 200:
            return _frame("error", error="invalid_input", field="topic", detail="topic missing")
        if op == "unsubscribe":
            client.topics.discard(topic)
            return _frame("unsubscribed", topic=topic)
        if len(client.topics) >= MAX_TOPICS:
            return _frame("error", error="invalid_input", field="topic",
                          detail=f"at most {MAX_TOPICS} topics")  # fmt: skip
        try:
            await run_in_threadpool(self._authorize, client.principal, topic)
        except NotFound as exc:
            return _frame("error", error="not_found", topic=topic, detail=str(exc))
        except InvalidInput as exc:
            return _frame("error", error="invalid_input", field=exc.field, topic=topic,
                          detail=str(exc))  # fmt: skip
        except MemvaultError as exc:
            return _frame("error", error="forbidden", topic=topic, detail=str(exc))
        client.topics.add(topic)
        return _frame("subscribed", topic=topic)

    def _authorize(self, principal: Principal, topic: str) -> None:
        """Raise unless `principal` may follow `topic` (another user's things: NotFound)."""
        kind, _, arg = topic.partition(":")
        if kind == "all" and not arg:
            principal.require_admin()
        elif kind == "session" and arg:
            view_of(self.vault, principal).sessions.get(arg)
        elif kind in ("memories", "user") and arg:
            principal.read_owner(arg)
        elif kind == "actions":
            if arg:
                principal.read_owner(arg)
        elif kind == "agent" and arg:
            pass  # delivery filters agent messages by owner
        else:
            raise InvalidInput(
                "topic",
                topic,
                "expected session:<id>, memories:<user>, actions, agent:<name>, user:<id> or all",
            )

    async def _send_loop(self, ws: WebSocket, client: Client) -> None:
        while True:
            frame = await client.queue.get()
            if frame is None:
                with contextlib.suppress(Exception):
                    await self._close(ws, CLOSE_OVERLOAD, "too slow: events dropped")
                return
            try:
                await ws.send_text(frame)
            except Exception:
                return

    async def _close(self, ws: WebSocket, code: int, reason: str) -> None:
        if ws.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(Exception):
                await ws.close(code, reason)


def _parse(text: str) -> dict[str, Any] | None:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _frame(kind: str, **fields: Any) -> str:
    return orjson.dumps({"type": kind, **fields}).decode()
