"""The service under load, on loopback: HTTP message appends with concurrent clients (SQLite and
PostgreSQL), WebSocket fan-out of one write to many subscribers, and two service processes on
one PostgreSQL against one.

    python bench/service.py                      # SQLite only
    python bench/service.py --pg postgresql://…  # adds the PostgreSQL figures (empty database)

Each append figure is measured twice in one run: with `--no-fast-append` (every append through
the generic FastAPI route: the baseline) and with the fast path (`server/fastpath.py`, group
commit in `server/writer.py`). Every service is a real `memvault serve` process; the load
comes from this process through a minimal keep-alive HTTP/1.1 client (so that the client's own
cost stays small next to the server's on a 2-core machine). Loops are bounded in count and
time; only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import header, pct, table

import memvault
from memvault.keys import ApiKeys
from memvault.store.schema import metadata

HOST = "127.0.0.1"
MAX_SECONDS = 60.0  # per measurement: a hung service cannot hang the benchmark


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextmanager
def service(url: str, fast: bool = True, workers: int = 1) -> Iterator[int]:
    """A `memvault serve` process on a free loopback port; yields the port. `fast=False`:
    with `--no-fast-append` (every append through the generic route: the baseline);
    `workers`: `--workers N` (N processes on the one port, PostgreSQL)."""
    port = free_port()
    exe = Path(sys.executable).parent / "memvault"
    args = [str(exe), "serve", "--host", HOST, "--port", str(port), "--db", url]
    if not fast:
        args.append("--no-fast-append")
    if workers > 1:
        args += ["--workers", str(workers)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection((HOST, port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"service on {url} did not start") from None
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def prepare(url: str, clients: int) -> tuple[str, list[str]]:
    """An admin-free user key and one session per client."""
    with memvault.open(url) as vault:
        user = vault.users.ensure("bench")
        key = ApiKeys(vault).create(user.id, name="bench")[1]
        sessions = [vault.sessions.create(user.id, title=f"client {i}").id for i in range(clients)]
    return key, sessions


def empty_pg(url: str) -> None:
    memvault.open(url).close()
    tables = ", ".join(t.name for t in metadata.sorted_tables)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {tables} CASCADE")


def quiet_gc() -> None:
    """Before a measurement: the client's own full collection (it holds 100 WebSocket
    clients) took ~250 ms under load and showed up as the server's p99; collect now and keep
    what exists out of later collections."""
    gc.collect()
    gc.freeze()


# -- a minimal HTTP/1.1 keep-alive client -------------------------------------------------------


class Conn:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)

    async def post(self, path: str, key: str, body: bytes) -> int:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return int(status_line.split()[1])

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def appends(ports: list[int], key: str, sessions: list[str], per_client: int
                  ) -> tuple[list[float], int, float]:  # fmt: skip
    """Each client appends `per_client` messages to its session; latencies, errors, seconds."""
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + MAX_SECONDS

    async def client(i: int, sid: str) -> None:
        nonlocal errors
        conn = Conn(ports[i % len(ports)])
        await conn.open()
        path = f"/api/sessions/{sid}/messages"
        for n in range(per_client):
            if time.monotonic() > deadline:
                break
            body = json.dumps({"role": "user", "content": f"message {n} from client {i}"})
            t = time.perf_counter()
            status = await conn.post(path, key, body.encode())
            latencies.append(time.perf_counter() - t)
            if status != 201:
                errors += 1
        await conn.close()

    start = time.perf_counter()
    await asyncio.gather(*(client(i, sid) for i, sid in enumerate(sessions)))
    return latencies, errors, time.perf_counter() - start


def bench_appends(name: str, url: str, clients: int, per_client: int, processes: int = 1,
                  fast: bool = True, workers: int = 1) -> dict[str, Any]:  # fmt: skip
    key, sessions = prepare(url, clients)
    one_port = workers > 1
    stack = service(url, fast, workers) if one_port else contextmanager_stack(url, processes, fast)
    with stack as ports_or_port:
        ports = [ports_or_port] if isinstance(ports_or_port, int) else ports_or_port
        asyncio.run(appends(ports, key, sessions[:2], 20))  # warm-up
        quiet_gc()
        lat, errors, secs = asyncio.run(appends(ports, key, sessions, per_client))
    return {"store": name, "path": "fast" if fast else "route", "processes": processes,
            "workers": workers,
            "clients": clients, "appends": len(lat),
            "errors": errors, "appends/s": len(lat) / secs, "p50 ms": pct(lat, 50) * 1e3,
            "p99 ms": pct(lat, 99) * 1e3}  # fmt: skip


@contextmanager
def contextmanager_stack(url: str, processes: int, fast: bool = True) -> Iterator[list[int]]:
    if processes == 1:
        with service(url, fast) as port:
            yield [port]
        return
    with service(url, fast) as a, service(url, fast) as b:
        yield [a, b]


# -- WebSocket fan-out --------------------------------------------------------------------------


async def fanout(port: int, key: str, session_id: str, subscribers: int, writes: int
                 ) -> list[float]:  # fmt: skip
    """One write → `subscribers` sockets; the delay from the write's start to each delivery."""
    uri = f"ws://{HOST}:{port}/ws"
    headers = {"Authorization": f"Bearer {key}"}
    sockets = []
    for _ in range(subscribers):
        ws = await websockets.connect(uri, additional_headers=headers, max_queue=None)
        await ws.recv()
        await ws.send(json.dumps({"op": "subscribe", "topic": f"session:{session_id}"}))
        await ws.recv()
        sockets.append(ws)
    conn = Conn(port)
    await conn.open()
    quiet_gc()
    delays: list[float] = []
    for n in range(writes):
        t0 = time.perf_counter()

        async def receive(ws: Any, t0: float = t0) -> float:
            await asyncio.wait_for(ws.recv(), 10)
            return time.perf_counter() - t0

        waiting = [asyncio.create_task(receive(ws)) for ws in sockets]
        body = json.dumps({"role": "assistant", "content": f"broadcast {n}"}).encode()
        status = await conn.post(f"/api/sessions/{session_id}/messages", key, body)
        assert status == 201
        delays += await asyncio.gather(*waiting)
        await asyncio.sleep(0.02)
    await conn.close()
    for ws in sockets:
        await ws.close()
    return delays


def bench_fanout(name: str, url: str, subscribers: int, writes: int) -> dict[str, Any]:
    key, sessions = prepare(url, 1)
    with service(url) as port:
        delays = asyncio.run(fanout(port, key, sessions[0], subscribers, writes))
    return {"store": name, "subscribers": subscribers, "writes": writes,
            "deliveries": len(delays), "p50 ms": pct(delays, 50) * 1e3,
            "p99 ms": pct(delays, 99) * 1e3, "max ms": max(delays) * 1e3}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg", help="PostgreSQL URL of a database the benchmark may empty")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--appends", type=int, default=1000, help="per client")
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--writes", type=int, default=50, help="fan-out writes")
    parser.add_argument("--workers-rounds", type=int, default=0,
                        help="only `serve --workers 1` vs `--workers 2` on --pg (fast path), "
                        "alternated this many rounds")  # fmt: skip
    args = parser.parse_args()
    if args.workers_rounds:
        header("memvault service: HTTP appends, `serve --workers 1` vs `--workers 2` (PostgreSQL)")
        rows = []
        for _ in range(args.workers_rounds):
            for workers in (1, 2):
                empty_pg(args.pg)
                rows.append(bench_appends("postgresql", args.pg, args.clients, args.appends,
                                          workers=workers))  # fmt: skip
                rows[-1]["load"] = f"{os.getloadavg()[0]:.2f}"
        table(rows)
        return
    header("memvault service: HTTP appends and WebSocket fan-out (loopback)")
    tmp = Path(tempfile.mkdtemp(prefix="mv-bench-"))
    rows = []
    for fast in (False, True):  # the baseline (the route) next to the fast path, in one run
        rows.append(bench_appends("sqlite", f"sqlite:///{tmp / f'a{fast}.db'}", args.clients,
                                  args.appends, fast=fast))  # fmt: skip
    if args.pg:
        for processes, fast in ((1, False), (1, True), (2, False), (2, True)):
            empty_pg(args.pg)
            rows.append(bench_appends("postgresql", args.pg, args.clients, args.appends,
                                      processes, fast))  # fmt: skip
    print("### Message appends over HTTP\n")
    table(rows)
    fan = [bench_fanout("sqlite", f"sqlite:///{tmp / 'f.db'}", args.subscribers, args.writes)]
    if args.pg:
        empty_pg(args.pg)
        fan.append(bench_fanout("postgresql", args.pg, args.subscribers, args.writes))
    print("\n### WebSocket fan-out: one write to many subscribers\n")
    table(fan)
    print(f"\n(load: {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
