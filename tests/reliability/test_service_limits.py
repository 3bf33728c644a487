"""Keys never appear in clear in logs or in the store; oversized bodies are refused without
the server's memory growing with them."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import memvault
from tests.reliability.conftest import report

MEMVAULT = shutil.which("memvault", path=os.path.dirname(sys.executable)) or "memvault"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_keys_are_never_logged_or_stored_in_clear(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'keys.db'}"
    env = {k: v for k, v in os.environ.items() if k != "MEMVAULT_URL"}
    subprocess.run([MEMVAULT, "demo", "--db", db], check=True, capture_output=True, env=env)
    create = [MEMVAULT, "keys", "create", "--user", "demo", "--json", "--db", db]
    created = [
        json.loads(
            subprocess.run(create, check=True, capture_output=True, text=True, env=env).stdout
        )["key"]
        for _ in range(2)
    ]
    revoked_id = json.loads(subprocess.run(
        [MEMVAULT, "keys", "list", "--json", "--db", db], check=True, capture_output=True,
        text=True, env=env).stdout)[0]["id"]  # fmt: skip
    subprocess.run([MEMVAULT, "keys", "revoke", revoked_id, "--db", db], check=True,
                   capture_output=True, env=env)  # fmt: skip
    port = _port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen([MEMVAULT, "serve", "--port", str(port), "--db", db],
                                  stdout=out, stderr=subprocess.STDOUT, env=env)  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            statuses = []
            for key in [*created, "mv_nope_" + "x" * 40, "garbage", None]:
                headers = {"Authorization": f"Bearer {key}"} if key else {}
                for path in ("/stats", "/api/memories", "/api/whoami"):
                    r = httpx.get(url + path, headers=headers)
                    statuses.append(r.status_code)
                    assert key is None or key not in r.text
            assert statuses.count(200) == 3  # exactly the one live key, on three paths
            assert set(statuses) <= {200, 401}
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(30)
    text = log.read_text(errors="replace")
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("keys.db*"))
    for key in created:
        secret = key.split("_", 2)[2]  # mv_<prefix>_<secret>; the secret may contain "_"
        assert len(secret) >= 32
        assert key not in text and secret not in text
        assert key.encode() not in raw and secret.encode() not in raw
    report("keys", created=2, revoked=1, statuses=sorted(set(statuses)),
           clear_keys_in_logs=0, clear_keys_in_store=0)  # fmt: skip


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Any]:
    from tests.server.conftest import serve

    vault = memvault.open(tmp_path / "limits.db")
    yield from serve(vault)
    vault.close()


def _chunks(total: int, size: int = 1 << 20) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * size
        sent += size


def test_oversized_bodies_are_refused_and_memory_stays_bounded(served: Any) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB, this process (server)
    codes = []
    with httpx.Client(base_url=served.url, timeout=60,
                      headers={"Authorization": f"Bearer {served.alice_key}"}) as c:  # fmt: skip
        for _ in range(5):
            r = c.post("/api/memories", content=_chunks(200 << 20),
                       headers={"Content-Type": "application/json"})  # fmt: skip
            codes.append(r.status_code)
        big = {"kind": "fact", "content": "y" * (8 << 20)}
        codes.append(c.post("/api/memories", json=big).status_code)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert set(codes) == {413}
    assert grown_mb < 100  # a buffered 200 MB body would show here
    assert served.vault.memories.count() == 0
    report("oversized bodies", requests=len(codes), status=413, peak_rss_growth_mb=round(grown_mb))
