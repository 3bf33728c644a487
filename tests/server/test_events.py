"""`/ws`: subscriptions to topics receive every matching write as it happens, never another
user's; on PostgreSQL, a write through one service process reaches a subscriber of another."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

import memvault
from memvault.keys import ApiKeys
from tests._servers import fresh_database, in_ci
from tests.server.conftest import Served, free_port


async def connect(s: Served, key: str, *, header: bool = True) -> Any:
    if header:
        ws = await websockets.connect(
            s.ws_url, additional_headers={"Authorization": f"Bearer {key}"}
        )
    else:
        ws = await websockets.connect(s.ws_url)
        await ws.send(json.dumps({"op": "auth", "key": key}))
    ready = json.loads(await ws.recv())
    assert ready["type"] == "ready", ready
    return ws


async def subscribe(ws: Any, topic: str) -> dict[str, Any]:
    await ws.send(json.dumps({"op": "subscribe", "topic": topic}))
    reply: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
    return reply


async def next_event(ws: Any, timeout: float = 10) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return event


async def silent(ws: Any, seconds: float = 0.5) -> bool:
    try:
        await asyncio.wait_for(ws.recv(), seconds)
    except TimeoutError:
        return True
    return False


def post(s: Served, key: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    with s.client(key) as c:
        r = c.post(path, json=body)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def test_topics_receive_their_writes(served: Served) -> None:
    s = served

    async def scenario() -> None:
        session = await asyncio.to_thread(post, s, s.alice_key, "/api/sessions", {"title": "t"})
        ws = await connect(s, s.alice_key)
        for topic in (f"session:{session['id']}", f"memories:{s.alice.id}", "actions",
                      "agent:builds"):  # fmt: skip
            assert (await subscribe(ws, topic)) == {"type": "subscribed", "topic": topic}
        message = await asyncio.to_thread(
            post, s, s.alice_key, f"/api/sessions/{session['id']}/messages",
            {"role": "user", "content": "hello"},
        )  # fmt: skip
        e = await next_event(ws)
        assert (e["type"], e["topic"], e["kind"]) == (
            "event",
            f"session:{session['id']}",
            "message.appended",
        )
        assert e["ids"]["message_id"] == message["id"] and e["data"]["seq"] == 1
        memory = await asyncio.to_thread(
            post, s, s.alice_key, "/api/memories", {"kind": "fact", "content": "likes tea"}
        )
        e = await next_event(ws)
        assert e["kind"] == "memory.added" and e["ids"]["memory_id"] == memory["id"]
        await asyncio.to_thread(post, s, s.alice_key, "/api/actions", {"tool_name": "Bash"})
        e = await next_event(ws)
        assert e["topic"] == "actions" and e["data"]["tool_name"] == "Bash"
        await asyncio.to_thread(
            post, s, s.alice_key, "/api/agent-messages", {"from_agent": "ci", "topic": "builds"}
        )
        e = await next_event(ws)
        assert e["topic"] == "agent:builds" and e["kind"] == "agent_message.sent"
        await ws.send(json.dumps({"op": "unsubscribe", "topic": "actions"}))
        assert json.loads(await ws.recv())["type"] == "unsubscribed"
        await asyncio.to_thread(post, s, s.alice_key, "/api/actions", {"tool_name": "Read"})
        assert await silent(ws)
        await ws.close()

    asyncio.run(scenario())


def test_subscriptions_enforce_the_keys_owner(served_sqlite: Served) -> None:
    s = served_sqlite

    async def scenario() -> None:
        session = await asyncio.to_thread(post, s, s.alice_key, "/api/sessions", {"title": "t"})
        bob = await connect(s, s.bob_key, header=False)  # the browser way: auth frame
        for topic in (f"session:{session['id']}", f"memories:{s.alice.id}",
                      f"user:{s.alice.id}", f"actions:{s.alice.id}"):  # fmt: skip
            reply = await subscribe(bob, topic)
            assert reply["type"] == "error" and reply["error"] == "not_found", reply
        assert (await subscribe(bob, "all"))["error"] == "forbidden"
        assert (await subscribe(bob, "bogus:x"))["field"] == "topic"
        # Topics without an owner in them still deliver only Bob's own events.
        assert (await subscribe(bob, "actions"))["type"] == "subscribed"
        assert (await subscribe(bob, "agent:shared"))["type"] == "subscribed"
        admin = await connect(s, s.admin_key)
        assert (await subscribe(admin, "all"))["type"] == "subscribed"
        await asyncio.to_thread(post, s, s.alice_key, "/api/actions", {"tool_name": "Secret"})
        await asyncio.to_thread(
            post, s, s.alice_key, "/api/agent-messages", {"from_agent": "a", "topic": "shared"}
        )
        assert (await next_event(admin))["data"]["tool_name"] == "Secret"
        assert await silent(bob)
        await asyncio.to_thread(post, s, s.bob_key, "/api/actions", {"tool_name": "Mine"})
        e = await next_event(bob)
        assert e["data"]["tool_name"] == "Mine" and e["user_id"] == s.bob.id
        await bob.close()
        await admin.close()

    asyncio.run(scenario())


def test_bad_keys_and_frames(served_sqlite: Served) -> None:
    s = served_sqlite

    async def scenario() -> None:
        ws = await websockets.connect(s.ws_url, additional_headers={"Authorization": "Bearer nope"})
        assert json.loads(await ws.recv())["error"] == "unauthorized"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        ws = await websockets.connect(s.ws_url)
        await ws.send(json.dumps({"op": "subscribe", "topic": "actions"}))  # no auth first
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
        ws = await connect(s, s.alice_key)
        await ws.send("not json")
        assert json.loads(await ws.recv())["error"] == "invalid_input"
        await ws.send(json.dumps({"op": "ping"}))
        assert json.loads(await ws.recv())["type"] == "pong"
        await ws.close()

    asyncio.run(scenario())


# -- two service processes on one PostgreSQL --------------------------------------------------


class ServiceProcess:
    """`memvault serve` as its own process on a loopback port."""

    def __init__(self, url: str, port: int) -> None:
        exe = Path(sys.executable).parent / "memvault"
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--db", url],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ},
        )  # fmt: skip

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.proc.stderr.read().decode() if self.proc.stderr else "")
            try:
                if httpx.get(self.base + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("service process did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@pytest.fixture
def two_services(pg_servers: dict[str, str]) -> Iterator[tuple[str, str, str, str]]:
    """Two service processes on one fresh pg18 database: (url A, url B, key, user id)."""
    if "pg18" not in pg_servers:
        if in_ci():
            pytest.fail("pg18 is not available in CI")
        pytest.skip("pg18 not available")
    url = fresh_database(pg_servers["pg18"], "memvault_t_scaleout")
    with memvault.open(url) as vault:
        user = vault.users.create("alice")
        key = ApiKeys(vault).create(user.id)[1]
    a, b = ServiceProcess(url, free_port()), ServiceProcess(url, free_port())
    try:
        a.wait_ready()
        b.wait_ready()
        yield a.base, b.base, key, user.id
    finally:
        a.stop()
        b.stop()


async def until(ws: Any, kind: str) -> dict[str, Any]:
    """The next event of `kind`; only the session's own creation (which may reach the other
    process after the subscription was made) may come before it."""
    while True:
        e = await next_event(ws)
        if e["kind"] == kind:
            return e
        assert e["kind"] == "session.created", e


def test_a_write_through_one_process_reaches_a_subscriber_of_the_other(
    two_services: tuple[str, str, str, str],
) -> None:
    url_a, url_b, key, user_id = two_services
    headers = {"Authorization": f"Bearer {key}"}

    async def scenario() -> None:
        async with websockets.connect(
            url_b.replace("http", "ws") + "/ws", additional_headers=headers
        ) as ws:
            assert json.loads(await ws.recv())["type"] == "ready"
            await ws.send(json.dumps({"op": "subscribe", "topic": f"memories:{user_id}"}))
            assert json.loads(await ws.recv())["type"] == "subscribed"
            async with httpx.AsyncClient(base_url=url_a, headers=headers) as c:
                session = (await c.post("/api/sessions", json={"title": "x"})).json()
                await ws.send(json.dumps({"op": "subscribe", "topic": f"session:{session['id']}"}))
                assert json.loads(await ws.recv())["type"] == "subscribed"
                r = await c.post("/api/memories", json={"kind": "fact", "content": "cross"})
                assert r.status_code == 201
                e = await until(ws, "memory.added")
                assert e["ids"]["memory_id"] == r.json()["id"]
                m = await c.post(f"/api/sessions/{session['id']}/messages",
                                 json={"role": "user", "content": "hi"})  # fmt: skip
                e = await until(ws, "message.appended")
                assert e["ids"]["message_id"] == m.json()["id"]
            # Exactly once: the origin's own relay echo is not delivered twice.
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 1.0)

    asyncio.run(scenario())
