"""Request body limit: an ASGI middleware answering 413 before the app reads too much."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.exceptions import HTTPException

Scope = dict[str, Any]
ASGIApp = Any

DEFAULT_MAX_BODY = 1024 * 1024  # 1 MiB: far above any memory or message worth storing
DEFAULT_MAX_WS_MESSAGE = 64 * 1024


class _TooLarge(HTTPException):
    """Raised from `receive`: an HTTPException so that FastAPI's body parsing passes it on
    (it turns any other exception into a 400) and the app's handler answers 413."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request body over {max_bytes} bytes")


class BodyLimit:
    """Refuse HTTP bodies above `max_bytes` with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    await self._refuse(send)
                    return
        seen = 0
        started = False

        async def limited_receive() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Any) -> None:
        body = orjson.dumps(
            {"error": "too_large", "detail": f"request body over {self.max_bytes} bytes"}
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
