"""Limits and errors: 413 for big bodies, 422 naming the field, WebSocket message limit, and
never a stack trace in an answer."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator

import pytest
import websockets

import memvault
from memvault.validate import MAX_JSON_DEPTH
from tests.server.conftest import Served, serve

DEEP: dict[str, object] = {}
for _ in range(MAX_JSON_DEPTH):  # one level more than the core stores
    DEEP = {"a": DEEP}


@pytest.fixture
def small(sqlite_vault: memvault.Vault) -> Iterator[Served]:
    """A service with a 4 KiB body limit and a 1 KiB WebSocket message limit."""
    yield from serve(sqlite_vault, max_body_bytes=4096, max_ws_message_bytes=1024)


def test_body_over_the_limit_by_content_length_is_413(small: Served) -> None:
    with small.client(small.alice_key) as c:
        r = c.post("/api/memories", json={"kind": "fact", "content": "x" * 5000})
        assert r.status_code == 413 and r.json()["error"] == "too_large"
        ok = c.post("/api/memories", json={"kind": "fact", "content": "x" * 3000})
        assert ok.status_code == 201


def test_chunked_body_over_the_limit_is_413(small: Served) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"kind": "fact", "content": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    with small.client(small.alice_key) as c:
        r = c.post("/api/memories", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    with small.client(small.alice_key) as c:
        assert c.get("/api/memories").json()["items"] == []


def test_413_even_without_a_key(small: Served) -> None:
    with small.client() as c:
        assert c.post("/api/memories", content=b"x" * 10_000).status_code == 413


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("GET", "/api/memories?limit=abc", None, "limit"),
        ("GET", "/api/memories?limit=0", None, "limit"),
        ("GET", "/api/memories?limit=5000", None, "limit"),
        ("GET", "/api/memories?since=yesterday", None, "since"),
        ("GET", "/api/memories?since=2024-01-01T00:00:00", None, "since"),  # no offset
        ("POST", "/api/memories", {"content": "x"}, "kind"),
        ("POST", "/api/memories", {"kind": "fact", "content": "x", "confidence": 2}, "confidence"),
        ("POST", "/api/memories", {"kind": "nonsense", "content": "x"}, "kind"),  # the core's
        ("POST", "/api/memories", {"kind": "fact", "content": "   "}, "content"),
        ("POST", "/api/memories", {"kind": "fact", "content": "a\ud800b"}, "content"),
        ("POST", "/api/memories", {"kind": "fact", "content": "x", "metadata": [1]}, "metadata"),
        # What no engine stores, refused by the core's rule (validate.py) before any write:
        ("POST", "/api/memories", {"kind": "fact", "content": "a\x00b"}, "content"),
        (
            "POST",
            "/api/memories",
            {"kind": "fact", "content": "x", "metadata": {"k": "\x00"}},
            "metadata",
        ),
        ("POST", "/api/memories", {"kind": "fact", "content": "x", "metadata": DEEP}, "metadata"),
        ("POST", "/api/sessions", {"title": "a\x00b"}, "title"),
        (
            "POST",
            "/api/agent-messages",
            {"from_agent": "a", "topic": "t", "payload": DEEP},
            "payload",
        ),
        ("POST", "/api/sessions", {"kind": "party"}, "kind"),
        ("POST", "/api/actions", {"tool_type": "builtin"}, "tool_name"),
        ("POST", "/api/actions", {"tool_name": "T", "exit_code": "abc"}, "exit_code"),
        ("POST", "/api/actions", {"tool_name": "T", "exit_code": 2**40}, "exit_code"),
        ("POST", "/api/emotions", {"emotion": "joy", "intensity": 7}, "intensity"),
        ("GET", "/api/routing/suggest", None, "q"),
        ("GET", "/api/sessions/not-an-id", None, "session_id"),
        ("GET", "/api/search/memories?q=x&mode=psychic", None, "mode"),
        ("GET", "/api/search/memories?q=x&filters=%7Bnope", None, "filters"),
    ],
)
def test_invalid_input_is_422_naming_the_field(
    served_sqlite: Served, method: str, path: str, body: object, field: str
) -> None:
    with served_sqlite.client(served_sqlite.alice_key) as c:
        if isinstance(body, dict) and "a\ud800b" in body.values():
            # httpx's JSON encoder refuses lone surrogates: send the JSON escape by hand.
            raw = '{"kind": "fact", "content": "a\\ud800b"}'
            r = c.request(method, path, content=raw, headers={"content-type": "application/json"})
        else:
            r = c.request(method, path, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_input"
    assert r.json()["field"] == field, r.json()


def test_a_body_nested_too_deeply_to_parse_is_400(served_sqlite: Served) -> None:
    body = b'{"kind": "fact", "content": "x", "metadata": ' + b"[" * 100_000 + b"]" * 100_000
    with served_sqlite.client(served_sqlite.alice_key) as c:
        r = c.post("/api/memories", content=body + b"}",
                   headers={"content-type": "application/json"})  # fmt: skip
        assert c.get("/api/memories").json()["items"] == []
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    assert "nested too deeply" in r.json()["detail"]


def test_malformed_json_is_400(served_sqlite: Served) -> None:
    with served_sqlite.client(served_sqlite.alice_key) as c:
        r = c.post(
            "/api/memories", content=b"{not json", headers={"content-type": "application/json"}
        )
    # Not a field's fault: the body as a whole (test_rest_conventions checks line and column).
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    assert "field" not in r.json()


def test_an_internal_error_answers_500_without_a_stack_trace(
    served_sqlite: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals at /srv/app.py line 42")

    monkeypatch.setattr(served_sqlite.vault.memories, "list", boom)
    with served_sqlite.client(served_sqlite.alice_key) as c:
        r = c.get("/api/memories")
    assert r.status_code == 500
    assert r.json() == {"error": "internal", "detail": "internal error"}
    assert "Traceback" not in r.text and "secret internals" not in r.text


def test_store_busy_is_503(served_sqlite: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    def busy(*args: object, **kwargs: object) -> None:
        raise memvault.StoreBusy("database is locked")

    monkeypatch.setattr(served_sqlite.vault.sessions, "list", busy)
    with served_sqlite.client(served_sqlite.alice_key) as c:
        r = c.get("/api/sessions")
    assert r.status_code == 503 and r.json()["error"] == "store_busy"


def test_unknown_paths_and_methods_answer_json(served_sqlite: Served) -> None:
    with served_sqlite.client(served_sqlite.alice_key) as c:
        r = c.get("/api/nothing-here")
        assert r.status_code == 404 and r.json()["error"] == "not_found"
        r = c.put("/api/memories")
        assert r.status_code == 405 and "Traceback" not in r.text


def test_websocket_message_over_the_limit_closes_the_connection(small: Served) -> None:
    async def scenario() -> int | None:
        headers = {"Authorization": f"Bearer {small.alice_key}"}
        async with websockets.connect(small.ws_url, additional_headers=headers) as ws:
            assert json.loads(await ws.recv())["type"] == "ready"
            await ws.send(json.dumps({"op": "subscribe", "topic": "x" * 5000}))
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None
            return None

    assert asyncio.run(scenario()) == 1009


def test_a_raw_socket_request_gets_no_trace(served_sqlite: Served) -> None:
    host, port = served_sqlite.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET /api/memories?limit=%ff%fe HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer " + served_sqlite.alice_key.encode() + b"\r\n"
                     b"Connection: close\r\n\r\n")  # fmt: skip
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert b"Traceback" not in data and data.startswith(b"HTTP/1.1 422")
