"""`memvault serve --workers N`: N processes on one port over PostgreSQL, a write through any
worker reaching the WebSocket subscribers of every other (LISTEN/NOTIFY); refused on SQLite."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
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
from tests.server.conftest import free_port

EXE = str(Path(sys.executable).parent / "memvault")


def worker_of(client_port: int, server_port: int, workers: list[int]) -> int:
    """The worker process holding the server side of our connection from `client_port`
    (found as the kernel sees it: /proc/net/tcp, then the workers' open sockets)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                f = line.split()
                local, remote = int(f[1].rsplit(":", 1)[1], 16), int(f[2].rsplit(":", 1)[1], 16)
                if local == server_port and remote == client_port:
                    inodes.add(f"socket:[{f[9]}]")
        for pid in workers:
            fds = Path(f"/proc/{pid}/fd")
            for fd in fds.iterdir():
                try:
                    if os.readlink(fd) in inodes:
                        return pid
                except OSError:
                    continue
        time.sleep(0.05)
    raise AssertionError(f"no worker holds the connection from port {client_port}")


@pytest.fixture
def workers2(pg_servers: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], int, str, str]]:
    """`memvault serve --workers 2` on a fresh pg18 database: (process, port, key, user id)."""
    if "pg18" not in pg_servers:
        if in_ci():
            pytest.fail("pg18 is not available in CI")
        pytest.skip("pg18 not available")
    url = fresh_database(pg_servers["pg18"], "memvault_t_workers")
    with memvault.open(url) as vault:
        user = vault.users.create("alice")
        key = ApiKeys(vault).create(user.id)[1]
    port = free_port()
    proc = subprocess.Popen([EXE, "serve", "--port", str(port), "--db", url, "--workers", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the workers did not start"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield proc, port, key, user.id
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if proc.stderr is not None:
            proc.stderr.close()


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_a_write_through_one_worker_reaches_the_subscribers_of_both(
    workers2: tuple[subprocess.Popen[bytes], int, str, str],
) -> None:
    proc, port, key, _ = workers2
    pids = children(proc.pid)
    assert len(pids) == 2, pids
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as c:
        session = c.post("/api/sessions", json={"title": "two workers"}).json()

    async def scenario() -> None:
        on: dict[int, Any] = {}  # worker pid -> a subscriber connected to it
        spare = []
        for _ in range(40):  # the kernel spreads connections: until each worker holds one
            ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws", additional_headers=headers)
            assert json.loads(await ws.recv())["type"] == "ready"
            pid = worker_of(ws.transport.get_extra_info("sockname")[1], port, pids)
            if pid in on:
                spare.append(ws)
                continue
            await ws.send(json.dumps({"op": "subscribe", "topic": f"session:{session['id']}"}))
            assert json.loads(await ws.recv())["type"] == "subscribed"
            on[pid] = ws
            if len(on) == 2:
                break
        assert set(on) == set(pids), "the connections never reached both workers"
        for writer in pids:  # an append through each worker in turn
            for _ in range(40):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.connect()
                if worker_of(conn.sock.getsockname()[1], port, pids) == writer:
                    break
                conn.close()
            else:
                raise AssertionError(f"no connection reached worker {writer}")
            body = json.dumps({"role": "user", "content": f"through {writer}"})
            conn.request("POST", f"/api/sessions/{session['id']}/messages", body,
                         {**headers, "Content-Type": "application/json"})  # fmt: skip
            reply = conn.getresponse()
            assert reply.status == 201
            message_id = json.loads(reply.read())["id"]
            conn.close()
            for pid, ws in on.items():  # the writer's own subscriber and the other worker's
                while True:
                    e = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if e.get("kind") == "message.appended":
                        break
                assert e["ids"]["message_id"] == message_id, (pid, writer, e)
        for ws in [*on.values(), *spare]:
            await ws.close()

    asyncio.run(scenario())
    # SIGTERM to the supervisor stops every worker, and it exits 0.
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)


def test_workers_are_refused_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    memvault.open(url).close()
    argv = [EXE, "serve", "--port", str(free_port()), "--db", url, "--workers", "2"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    said = " ".join(done.stdout.split() + done.stderr.split())
    assert "--workers 2 needs a PostgreSQL store" in said, said
