"""The service under steady writes: its SQLite WAL stays small, and SIGTERM leaves none behind.

Clients append short messages over HTTP for a bounded time, as a busy assistant does, while
the test watches the size of `memvault.db-wal`. Before the checkpointer reset the WAL, it
grew by every page written (718 MB after 25 s with 8 clients), and SIGTERM killed the
process (exit -15) before the vault was closed, leaving the WAL behind. The heavier loops
(20,000 appends, several Vaults and processes on one file) are in
tests/reliability/test_wal_growth.py.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from tests.journeys.conftest import Cli

CLIENTS = 4
SECONDS = 8.0
PEAK_MB = 64.0  # a few checkpoint rounds' worth (the checkpointer resets it above 8-16 MB)


def wal_mb(db: Path) -> float:
    wal = Path(f"{db}-wal")
    try:
        return wal.stat().st_size / 1e6
    except FileNotFoundError:
        return 0.0


def test_service_wal_stays_bounded_and_sigterm_truncates_it(cli: Cli, service: Any) -> None:
    cli.ok("init")
    key = cli.json("keys", "create", "--admin")["key"]
    served = service()
    db = cli.cwd / "memvault.db"
    with served.client(key) as http:
        user = http.post("/api/users", json={"handle": "busy"}).json()
        session = http.post("/api/sessions", json={"user_id": user["id"], "title": "load"}).json()
    acknowledged = [0] * CLIENTS
    failures: list[str] = []
    stop = threading.Event()

    def client(n: int) -> None:
        with served.client(key) as own:
            i = 0
            while not stop.is_set():
                body = {"role": "user", "content": f"client {n} message {i}: short and steady"}
                reply = own.post(f"/api/sessions/{session['id']}/messages", json=body)
                if reply.status_code != 201:
                    failures.append(f"{reply.status_code} {reply.text[:200]}")
                    return
                acknowledged[n] += 1
                i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    peak = 0.0
    deadline = time.monotonic() + SECONDS
    try:
        while time.monotonic() < deadline and not failures:
            peak = max(peak, wal_mb(db))
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert not failures, failures[:3]
    total = sum(acknowledged)
    assert total > 200, total  # the loop really wrote (enough to have grown the WAL before)
    assert peak <= PEAK_MB, f"WAL peaked at {peak:.1f} MB over {total} appends"

    assert served.stop() == 0, served.log[-2000:]  # SIGTERM: a clean shutdown
    assert wal_mb(db) == 0.0, f"{wal_mb(db):.1f} MB of WAL left after SIGTERM"
    stats = cli.json("stats")
    assert stats["counts"]["messages"] == total  # every acknowledged append is there
