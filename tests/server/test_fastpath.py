"""The append hot path (`server/fastpath.py`, `server/writer.py`): the same answers as the route,
every append written exactly once and acknowledged after its commit, each with its own outcome."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import memvault
from memvault.keys import ApiKeys
from memvault.server import create_app
from memvault.server.writer import AppendWriter
from tests.server.conftest import Served, ServerThread


def nested(levels: int) -> dict[str, Any]:
    """A JSON object holding `levels` more objects, one inside the other."""
    value: dict[str, Any] = {}
    for _ in range(levels):
        value = {"a": value}
    return value


ALICE_SESSION_CASES: list[tuple[str, Any]] = [
    ("plain", {"role": "user", "content": "hello"}),
    (
        "every field",
        {
            "role": "assistant",
            "content": "héllo ✓",
            "emotion": "joy",
            "metadata": {"a": [1, 2.5, None, {"b": "c"}]},
            "created_at": "2024-05-01T12:00:00+02:00",
        },
    ),
    ("empty content", {"role": "user", "content": ""}),
    ("unknown field refused", {"role": "user", "content": "x", "colour": "blue"}),
    ("role the core refuses", {"role": "robot", "content": "x"}),
    ("missing content", {"role": "user"}),
    ("content not text", {"role": "user", "content": 42}),
    ("naive time", {"role": "user", "content": "x", "created_at": "2024-05-01T12:00:00"}),
    ("year 0999", {"role": "user", "content": "x", "created_at": "0999-05-01T12:00:00Z"}),
    ("metadata not an object", {"role": "user", "content": "x", "metadata": [1]}),
    ("huge integer", {"role": "user", "content": "x", "metadata": {"n": 2**70}}),
    ("array body", [{"role": "user", "content": "x"}]),
    ("not JSON", b"{role: user"),
    ("lone surrogate", b'{"role": "user", "content": "\\ud800"}'),
    ("NaN", b'{"role": "user", "content": "x", "metadata": {"n": NaN}}'),
    ("Infinity", b'{"role": "user", "content": "x", "metadata": {"n": [-Infinity]}}'),
    ("a float beyond double", b'{"role": "user", "content": "x", "metadata": {"n": 1e999}}'),
    ("integer below int64", {"role": "user", "content": "x", "metadata": {"n": -(2**63) - 1}}),
    ("huge integer as content", {"role": "user", "content": 10**400}),
    (
        "lone surrogate in metadata",
        b'{"role": "user", "content": "x", "metadata": {"a": "\\udfff"}}',
    ),
    ("lone surrogate as a key", b'{"role": "user", "content": "x", "metadata": {"\\ud800": 1}}'),
    ("lone surrogate as emotion", b'{"role": "user", "content": "x", "emotion": "\\ud800"}'),
    ("NUL in content (the core refuses it)", b'{"role": "user", "content": "a\\u0000b"}'),
    (
        "NUL in emotion (the core refuses it)",
        b'{"role": "user", "content": "x", "emotion": "\\u0000"}',
    ),
    ("NUL in metadata", b'{"role": "user", "content": "x", "metadata": {"k": ["\\u0000"]}}'),
    ("NUL as a key", b'{"role": "user", "content": "x", "metadata": {"\\u0000": 1}}'),
    ("nested to the limit", {"role": "user", "content": "deep", "metadata": nested(99)}),
    ("nested one level too deep", {"role": "user", "content": "x", "metadata": nested(100)}),
    (
        "nested too deep to parse",
        b'{"role": "user", "content": "x", "metadata": '
        + b'{"a": ' * 5000
        + b"1"
        + b"}" * 5000
        + b"}",
    ),
    ("role not text", {"role": 5, "content": "x"}),
    ("content null", {"role": "user", "content": None}),
    ("emotion not text", {"role": "user", "content": "x", "emotion": ["joy"]}),
    ("metadata as text", {"role": "user", "content": "x", "metadata": "{}"}),
    ("time as a list", {"role": "user", "content": "x", "created_at": [2024, 5, 1]}),
    ("text/plain", ("text/plain", b'{"role": "user", "content": "x"}')),
    ("no content type", (None, b'{"role": "user", "content": "x"}')),
]


@dataclass
class Pair:
    """Two apps on one vault: `fast` (the hot path on) and `slow` (the route answers all)."""

    s: Served
    fast: str
    slow: str
    writer: AppendWriter


@pytest.fixture
def pair(served_sqlite: Served) -> Iterator[Pair]:
    # Keys stay cached for the whole test, so that which path answers does not depend on
    # the machine's speed.
    fast_app = create_app(served_sqlite.vault, auth_cache_seconds=600)
    with (
        ServerThread(fast_app) as fast,
        ServerThread(create_app(served_sqlite.vault, fast_append=False)) as slow,
    ):
        yield Pair(served_sqlite, f"http://127.0.0.1:{fast.port}",
                   f"http://127.0.0.1:{slow.port}", fast_app.state.writer)  # fmt: skip


def send(base: str, key: str | None, path: str, body: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
        if isinstance(body, tuple):
            content_type, raw = body
            if content_type:
                headers["Content-Type"] = content_type
            return c.post(path, content=raw, headers=headers)
        if isinstance(body, bytes):
            headers["Content-Type"] = "application/json"
            return c.post(path, content=body, headers=headers)
        return c.post(path, json=body)


def normal(r: httpx.Response) -> tuple[int, Any, str | None]:
    """Status, body with the generated values masked, content type."""
    body = r.json()
    if r.status_code == 201:
        body = {**body, "id": "<id>", "seq": "<seq>"}
        if body["content"] != "héllo ✓":
            body["created_at"] = "<now>"
    return r.status_code, body, r.headers.get("content-type")


def test_the_fast_path_answers_exactly_like_the_route(pair: Pair) -> None:
    s, fast, slow = pair.s, pair.fast, pair.slow
    session = s.vault.sessions.create(s.alice.id, title="t")
    path = f"/api/sessions/{session.id}/messages"
    warm = send(fast, s.alice_key, path, {"role": "user", "content": "warm"})
    assert warm.status_code == 201  # the key and the session are now known to the fast path
    before = pair.writer.appends
    for name, body in ALICE_SESSION_CASES:
        a, b = send(fast, s.alice_key, path, body), send(slow, s.alice_key, path, body)
        assert normal(a) == normal(b), name
        assert a.content == b.content or a.status_code == 201, name
    # The valid bodies (the core refusing three of them) went through the writer, not the route.
    assert pair.writer.appends - before == 7
    seqs = [m.seq for m in s.vault.messages.list(session.id, limit=100)]
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == 1 + 4 * 2


def test_keys_and_owners_are_enforced_on_the_fast_path(pair: Pair) -> None:
    s, fast, slow = pair.s, pair.fast, pair.slow
    alices = s.vault.sessions.create(s.alice.id, title="alice's")
    path = f"/api/sessions/{alices.id}/messages"
    body = {"role": "user", "content": "x"}
    assert send(fast, s.alice_key, path, body).status_code == 201
    for key, status in ((None, 401), ("mv_not_a_key", 401), (s.bob_key, 404),
                        (s.admin_key, 201)):  # fmt: skip
        a, b = send(fast, key, path, body), send(slow, key, path, body)
        assert normal(a) == normal(b) and a.status_code == status, key
    missing = "/api/sessions/0190f0e0-0000-7000-8000-000000000000/messages"
    assert normal(send(fast, s.alice_key, missing, body)) == normal(
        send(slow, s.alice_key, missing, body)
    )
    # A session deleted after the fast path learnt its owner: 404, nothing written.
    s.vault.sessions.delete(alices.id)
    a, b = send(fast, s.alice_key, path, body), send(slow, s.alice_key, path, body)
    assert normal(a) == normal(b) and a.status_code == 404


def test_a_key_revoked_elsewhere_stops_working_on_the_fast_path(served_sqlite: Served) -> None:
    s, ttl = served_sqlite, 2.0
    app = create_app(s.vault, auth_cache_seconds=ttl)
    writer: AppendWriter = app.state.writer
    bobs = s.vault.sessions.create(s.bob.id)
    path = f"/api/sessions/{bobs.id}/messages"
    body = {"role": "user", "content": "x"}
    with ServerThread(app) as server:
        fast = f"http://127.0.0.1:{server.port}"
        assert send(fast, s.bob_key, path, body).status_code == 201  # the route: learns both
        assert send(fast, s.bob_key, path, body).status_code == 201
        assert writer.appends == 1  # the fast path answered
        keys = ApiKeys(s.vault)
        keys.revoke(next(k.id for k in keys.list() if k.user_id == s.bob.id))  # like the CLI
        time.sleep(ttl + 0.2)
        r = send(fast, s.bob_key, path, body)
    assert r.status_code == 401 and writer.appends == 1
    assert len(s.vault.messages.list(bobs.id)) == 2


def test_a_batch_gives_each_append_its_own_outcome(vault: memvault.Vault) -> None:
    v = vault
    user = v.users.create("u")
    sessions = [v.sessions.create(user.id).id for _ in range(4)]
    gone = v.sessions.create(user.id).id
    v.sessions.delete(gone)
    writer = AppendWriter(v)

    async def scenario() -> list[Any]:
        calls = []
        for n in range(50):
            sid = gone if n == 25 else sessions[n % 4]
            role = "robot" if n == 30 else "user"
            calls.append(writer.append(sid, role, f"m{n}"))
        return await asyncio.gather(*calls, return_exceptions=True)

    try:
        outcomes = asyncio.run(scenario())
    finally:
        writer.stop()
    assert isinstance(outcomes[25], memvault.NotFound)
    assert isinstance(outcomes[30], memvault.InvalidInput)
    ok = [o for o in outcomes if isinstance(o, memvault.Message)]
    assert len(ok) == 48
    assert writer.batches < writer.appends == 50  # written in batches, not one by one
    for sid in sessions:
        stored = v.messages.list(sid, limit=100)
        assert [m.seq for m in stored] == list(range(1, len(stored) + 1))
        assert sorted(m.id for m in stored) == sorted(m.id for m in ok if m.session_id == sid)
        expected = [f"m{n}" for n in range(50) if n not in (25, 30) and sessions[n % 4] == sid]
        if writer.threads == 1:  # one thread (SQLite): the queue's order within a session
            assert [m.content for m in stored] == expected
        else:  # several batches in flight: concurrent appends in some order
            assert sorted(m.content for m in stored) == sorted(expected)


def test_stop_writes_what_is_queued_and_the_writer_restarts(
    sqlite_vault: memvault.Vault,
) -> None:
    v = sqlite_vault
    sid = v.sessions.create(v.users.create("u").id).id
    writer = AppendWriter(v)

    async def some(n: int) -> list[memvault.Message]:
        return list(await asyncio.gather(*(writer.append(sid, "user", str(i)) for i in range(n))))

    assert len(asyncio.run(some(10))) == 10
    writer.stop()
    assert len(asyncio.run(some(5))) == 5  # a new loop: a new thread
    writer.stop()
    assert len(v.messages.list(sid, limit=100)) == 15


def test_repeated_headers_are_read_like_the_route(pair: Pair) -> None:
    s = pair.s
    session = s.vault.sessions.create(s.alice.id)
    path = f"/api/sessions/{session.id}/messages"
    body = b'{"role": "user", "content": "x"}'
    assert send(pair.fast, s.alice_key, path, {"role": "user", "content": "warm"}).status_code
    for first, second in ((s.alice_key, s.bob_key), (s.bob_key, s.alice_key)):
        headers = [
            ("Authorization", f"Bearer {first}"),
            ("Authorization", f"Bearer {second}"),
            ("Content-Type", "application/json"),
            ("Content-Type", "text/plain"),
        ]
        answers = []
        for base in (pair.fast, pair.slow):
            with httpx.Client(base_url=base, timeout=30) as c:
                answers.append(normal(c.post(path, content=body, headers=headers)))
        assert answers[0] == answers[1]
        assert answers[0][0] == (201 if first == s.alice_key else 404)


def test_a_body_cut_short_by_a_disconnect_is_not_written(served_sqlite: Served) -> None:
    s = served_sqlite
    app = create_app(s.vault, auth_cache_seconds=600)
    session = s.vault.sessions.create(s.alice.id)
    path = f"/api/sessions/{session.id}/messages"
    body = b'{"role": "user", "content": "cut"}'

    async def post(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
                 "query_string": b"", "root_path": "", "client": ("127.0.0.1", 1),
                 "server": ("127.0.0.1", 2), "headers": [
                     (b"host", b"x"), (b"authorization", f"Bearer {s.alice_key}".encode()),
                     (b"content-type", b"application/json")]}  # fmt: skip
        pending = list(chunks)
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return pending.pop(0) if pending else {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(dict(message))

        with contextlib.suppress(Exception):
            await app(scope, receive, send)
        return sent

    async def scenario() -> None:
        whole = [{"type": "http.request", "body": body, "more_body": False}]
        for _ in range(2):  # the first learns key and owner; the second is on the fast path
            assert (await post(whole))[0]["status"] == 201
        await post([{"type": "http.request", "body": body, "more_body": True},
                    {"type": "http.disconnect"}])  # fmt: skip

    try:
        asyncio.run(scenario())
    finally:
        app.state.writer.stop()
    assert app.state.writer.appends == 1
    assert len(s.vault.messages.list(session.id)) == 2
