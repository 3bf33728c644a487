"""A writer killed with SIGKILL at random moments (SQLite), and a PostgreSQL server shut down
immediately under load: every acknowledged transaction survives, none survives half-done."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

import memvault
from tests.reliability.conftest import report

ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("MEMVAULT_CRASH_KILLS", "25"))


def _run_writer_and_kill(url: str, session_id: str, delay: float) -> list[tuple[str, str]]:
    """Start a writer, let it commit for `delay` seconds, SIGKILL it; return its ACKs."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability._writer", url, session_id],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    acks: list[tuple[str, str]] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("READY"):
                ready.set()
            elif line.startswith("ACK "):
                _, message_id, memory_id = line.split()
                acks.append((message_id, memory_id))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert ready.wait(60), proc.stderr.read() if proc.stderr else "writer did not start"
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    reader.join(10)
    proc.stdout.close()
    if proc.stderr is not None:
        proc.stderr.close()
    return acks


def _verify(vault: memvault.Vault, session_id: str, acked: list[tuple[str, str]]) -> int:
    """Every acknowledged transaction is present, and no transaction is half there."""
    lost = 0
    for message_id, memory_id in acked:
        try:
            vault.messages.get(message_id)
            vault.memories.get(memory_id, track_access=False)
        except memvault.NotFound:
            lost += 1
    session = vault.sessions.get(session_id)
    messages = vault.messages.list(session_id, limit=1_000_000)
    assert session.message_count == len(messages)  # the count moved with its rows
    memories = vault.memories.count(session.user_id)
    assert memories == len(messages)  # each message committed with its memory, or neither
    assert vault.stats().counts["memory_history"] == memories
    return lost


def test_sigkill_sqlite_writer_loses_no_acknowledged_transaction(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    with memvault.open(url) as vault:
        session_id = vault.sessions.create(vault.users.create("crash").id).id
    rng = random.Random(7)
    acked: list[tuple[str, str]] = []
    reopen: list[float] = []
    for _ in range(KILLS):
        acked += _run_writer_and_kill(url, session_id, rng.uniform(0.05, 0.6))
        start = time.perf_counter()
        with memvault.open(url) as vault:
            reopen.append(time.perf_counter() - start)
            assert vault.check() == []
            lost = _verify(vault, session_id, acked)
            assert lost == 0
    assert len(acked) > KILLS  # the writers really were writing when killed
    reopen.sort()
    report(
        "sqlite SIGKILL",
        kills=KILLS,
        acknowledged=len(acked),
        acknowledged_but_lost=0,
        integrity="ok",
        reopen_p50_ms=round(reopen[len(reopen) // 2] * 1e3, 1),
        reopen_max_ms=round(reopen[-1] * 1e3, 1),
    )


def _postmaster_pid(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SHOW data_directory").fetchone()
        assert row is not None
    return int(Path(row[0], "postmaster.pid").read_text().split()[0])


def test_postgres_immediate_shutdown_under_load(tmp_path: Path) -> None:
    """A private PG18 server (not the shared test servers) stopped with SIGQUIT — PostgreSQL's
    immediate shutdown, no checkpoint — while a writer commits."""
    env = {**os.environ, "MEMVAULT_PG_ROOT": "/var/lib/memvault-pg-crash",
           "MEMVAULT_PG18_PORT": "54398"}  # fmt: skip
    existing = os.environ.get("MEMVAULT_TEST_PG18_URL")
    if existing is None and os.environ.get("CI") != "true":
        pytest.skip("no PostgreSQL 18 test server")
    script = [sys.executable, str(ROOT / "scripts" / "pgservers.py")]
    started = subprocess.run([*script, "start", "pg18"], env=env, capture_output=True, text=True)
    assert started.returncode == 0, started.stderr
    base = "postgresql://postgres@127.0.0.1:54398/memvault_test"
    try:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS crash WITH (FORCE)")
            conn.execute("CREATE DATABASE crash")
            # memvault relies on the server default: a commit returns once it is durable.
            conn.execute("ALTER DATABASE crash SET synchronous_commit = on")
        url = base.replace("/memvault_test", "/crash")
        with memvault.open(url) as vault:
            session_id = vault.sessions.create(vault.users.create("crash").id).id
        acked: list[tuple[str, str]] = []
        recover: list[float] = []
        for round_ in range(3):
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.reliability._writer", url, session_id],
                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            )  # fmt: skip
            assert proc.stdout is not None
            lines: list[str] = []
            reader = threading.Thread(target=lines.extend, args=(proc.stdout,), daemon=True)
            reader.start()
            time.sleep(1.0 + round_ * 0.3)
            os.kill(_postmaster_pid(url), signal.SIGQUIT)  # immediate shutdown
            proc.wait(60)  # the writer dies on its broken connection
            reader.join(10)
            proc.stdout.close()
            acked += [tuple(line.split()[1:3]) for line in lines if line.startswith("ACK ")]  # type: ignore[misc]
            start = time.perf_counter()
            restarted = subprocess.run([*script, "start", "pg18"], env=env, capture_output=True,
                                       text=True)  # fmt: skip
            assert restarted.returncode == 0, restarted.stderr
            with memvault.open(url) as vault:
                recover.append(time.perf_counter() - start)
                assert vault.check() == []
                assert _verify(vault, session_id, acked) == 0
        assert len(acked) > 10
        report(
            "postgres immediate shutdown",
            shutdowns=3,
            acknowledged=len(acked),
            acknowledged_but_lost=0,
            recovery_max_s=round(max(recover), 2),
        )
    finally:
        subprocess.run([*script, "stop", "pg18"], env=env, capture_output=True)
