"""The append hot path without the framework's per-request machinery.

`POST /api/sessions/{id}/messages` is the one endpoint called thousands of times a second. The
FastAPI route stays its definition (OpenAPI schema, validation, errors); this ASGI middleware
answers the request itself only when everything about it is already known to be fine:

- the key is in the auth cache (checked against the database within its TTL),
- the caller's right to the session is remembered (`SessionOwners`),
- the body is `application/json`, parses as a JSON object and validates as `MessageIn`.

Anything else — a missing or unknown key, a session not seen yet, a body the model refuses —
is handed, body and all, to the route, which answers exactly as it would without this layer.
Errors of the write itself (a session deleted meanwhile, a value the core refuses) are answered
by the same mapping the app's exception handler uses.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import TypeAdapter, ValidationError

from memvault.errors import MemvaultError
from memvault.records import Message
from memvault.server.auth import AuthCache, SessionOwners, bearer
from memvault.server.errors import memvault_answer
from memvault.server.routers.sessions import MessageIn
from memvault.server.writer import AppendWriter

Scope = dict[str, Any]
ASGIApp = Any

APPEND_PATH = re.compile(r"/api/sessions/([^/]+)/messages")
MESSAGE = TypeAdapter(Message)


def is_json(content_type: bytes | None) -> bool:
    if content_type is None:
        return False
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json"


class FastAppend:
    """ASGI middleware: answers the append hot path directly, passes everything else on."""

    def __init__(
        self, app: ASGIApp, writer: AppendWriter, auth_cache: AuthCache, owners: SessionOwners
    ) -> None:
        self.app = app
        self.writer = writer
        self.auth_cache = auth_cache
        self.owners = owners

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        match = APPEND_PATH.fullmatch(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        body, complete = await read_body(receive)
        answered = complete and await self._try(scope, match.group(1), body, send)
        if not answered:
            await self.app(scope, replay(body, complete, receive), send)

    async def _try(self, scope: Scope, session_id: str, body: bytes, send: Any) -> bool:
        """Answer the request if it is on the fast path; False to hand it to the route."""
        authorization = content_type = None
        for name, value in scope["headers"]:  # the first of each, as Request.headers.get
            if name == b"authorization" and authorization is None:
                authorization = value
            elif name == b"content-type" and content_type is None:
                content_type = value
        if authorization is None or not is_json(content_type) or not session_id.isascii():
            return False
        key = bearer(authorization.decode("latin-1"))
        principal = None if key is None else self.auth_cache.get(key)
        if principal is None or not self.owners.known(session_id, principal):
            return False
        try:
            # The route's parser, not orjson: orjson turns integers beyond 64 bits into floats
            # silently, where the route refuses them.
            data = json.loads(body)
        except (ValueError, RecursionError):  # nested too deep for the parser: the route's 400
            return False
        if not isinstance(data, dict):
            return False
        try:
            message_in = MessageIn.model_validate(data)
        except ValidationError:
            return False
        try:
            message = await self.writer.append(
                session_id,
                message_in.role,
                message_in.content,
                emotion=message_in.emotion,
                metadata=message_in.metadata,
                created_at=message_in.created_at,
                user_id=principal.read_owner(),  # the core checks the owner again
            )
        except MemvaultError as exc:
            await memvault_answer(exc, "POST", scope["path"])(scope, empty_receive, send)
            return True
        payload = MESSAGE.dump_json(message)
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [
                    (b"content-length", str(len(payload)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
        return True


async def read_body(receive: Any) -> tuple[bytes, bool]:
    """The request body, and whether it arrived whole (False: the client went away)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), True


def replay(body: bytes, complete: bool, receive: Any) -> Any:
    """A `receive` that gives what was read once (still open if it was not `complete`), then
    whatever the client sends next."""
    sent = False

    async def again() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not complete}
        return await receive()

    return again


async def empty_receive() -> Any:
    return {"type": "http.request", "body": b"", "more_body": False}
