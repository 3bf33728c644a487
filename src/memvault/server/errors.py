"""Errors as answers: memvault's hierarchy onto HTTP statuses, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from memvault.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    MemvaultError,
    NotFound,
    StoreBusy,
    StoreUnavailable,
)

log = logging.getLogger("memvault.server")

STATUS: list[tuple[type[MemvaultError], int, str]] = [
    (InvalidInput, 422, "invalid_input"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (Forbidden, 403, "forbidden"),
    (StoreBusy, 503, "store_busy"),
    (StoreUnavailable, 503, "store_unavailable"),
]
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type",
              422: "invalid_input"}  # fmt: skip


def error(status: int, code: str, detail: str, field: str | None = None, **headers: str) -> Any:
    body: dict[str, Any] = {"error": code, "detail": detail}
    if field is not None:
        body["field"] = field
    return Response(
        orjson.dumps(body), status, headers=headers or None, media_type="application/json"
    )


def _field(loc: Any) -> str:
    # ("body", "tool_name", "constrained-int") → "tool_name": the request field, not the
    # union member or the nested key that pydantic adds after it.
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return parts[0] if parts else "body"


def not_json(problem: dict[str, Any], document: Any) -> str:
    """What is wrong with a body that does not parse, and where (line and column)."""
    loc = problem.get("loc", ())
    pos = loc[-1] if loc and isinstance(loc[-1], int) else None
    reason = str((problem.get("ctx") or {}).get("error") or "not JSON")
    if pos is None or not isinstance(document, str | bytes):
        return f"the request body is not valid JSON: {reason}"
    text = document if isinstance(document, str) else document.decode("utf-8", "replace")
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"the request body is not valid JSON: {reason} at line {line}, column {column}"


def memvault_answer(exc: MemvaultError, method: str, path: str) -> Any:
    """The answer to a MemvaultError raised while serving `method path`."""
    for kind, status, code in STATUS:
        if isinstance(exc, kind):
            field = exc.field if isinstance(exc, InvalidInput) else None
            return error(status, code, str(exc), field)
    log.error("store error on %s %s: %s", method, path, type(exc).__name__)
    return error(500, "internal", "internal error")


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into a JSON answer."""

    @app.exception_handler(MemvaultError)
    async def memvault_error(request: Request, exc: MemvaultError) -> Any:
        return memvault_answer(exc, request.method, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Any:
        problems = exc.errors()
        first = problems[0] if problems else {"loc": (), "msg": "invalid request"}
        if first.get("type") == "json_invalid":
            return error(400, "bad_request", not_json(first, exc.body))
        field = _field(first.get("loc", ()))
        msg = str(first.get("msg", "invalid"))
        return error(422, "invalid_input", f"invalid {field}: {msg}", field)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Any:
        code = HTTP_CODES.get(exc.status_code, "error")
        detail = str(exc.detail)
        if exc.status_code == 400 and detail == "There was an error parsing the body":
            # FastAPI's answer when the bytes do not even decode (not UTF-8/16/32 text), or
            # when the parser gives up on the nesting (it raises from the parser's error).
            if isinstance(exc.__cause__, RecursionError):
                detail = "the request body is not valid JSON: nested too deeply to parse"
            else:
                detail = "the request body is not valid JSON: not UTF-8 text"
        return error(exc.status_code, code, detail, **(exc.headers or {}))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Any:
        # Logged with its type only: messages can carry user data; never sent to the client.
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return error(500, "internal", "internal error")
