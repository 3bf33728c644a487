"""The WAL under steady writes: bounded while they go on, small once they stop.

Short messages are appended back to back (the shape of the issue: 20,000 appends made a
973 MB WAL on an 11 MB store, still 973 MB seconds later) by one Vault, by two Vaults in
one process and by two processes on one file. A sampler thread records the WAL file's
size every few milliseconds. Writers keep their Vault open after the loop: the WAL must
come down by itself, not only when the last connection closes. (The service, with SIGTERM,
is tests/journeys/test_wal.py.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import memvault
from tests.reliability.conftest import report

APPENDS = int(os.environ.get("MEMVAULT_WAL_APPENDS", "20000"))
PEAK_MB = 64.0  # a few checkpoint rounds (the checkpointer resets the WAL above 8-16 MB)
AFTER_MB = 16.0
SETTLE_S = 3.0  # the issue measured 3 s after the writes stopped


def wal_mb(db: Path) -> float:
    try:
        return os.stat(f"{db}-wal").st_size / 1e6
    except FileNotFoundError:
        return 0.0


@contextmanager
def sampled(db: Path) -> Iterator[list[float]]:
    """Samples the WAL size every 5 ms while the block runs; yields [peak] (filled after)."""
    peak = [0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], wal_mb(db))
            time.sleep(0.005)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()
        peak[0] = max(peak[0], wal_mb(db))


def new_session(db: Path) -> str:
    with memvault.open(db) as vault:
        user = vault.users.ensure("steady", "Steady")
        return vault.sessions.create(user.id, title="steady writes").id


def append_loop(vault: memvault.Vault, session_id: str, n: int, tag: str) -> None:
    for i in range(n):
        vault.messages.append(session_id, "user", f"{tag} message {i}: short and steady")


def after_writes(db: Path) -> float:
    time.sleep(SETTLE_S)
    return wal_mb(db)


def check(name: str, db: Path, peak: float, after: float, count: Callable[[], int]) -> None:
    report(name, appends=APPENDS, peak_wal_mb=round(peak, 1), wal_after_3s_mb=round(after, 1),
           db_mb=round(db.stat().st_size / 1e6, 1))  # fmt: skip
    assert count() == APPENDS  # every append is there
    assert peak <= PEAK_MB, f"WAL peaked at {peak:.1f} MB"
    assert after <= AFTER_MB, f"WAL still {after:.1f} MB {SETTLE_S} s after the writes"


def count_messages(db: Path) -> Callable[[], int]:
    def count() -> int:
        with memvault.open(db) as vault:
            return int(vault.stats().counts["messages"])

    return count


def test_one_vault_steady_appends(tmp_path: Path) -> None:
    db = tmp_path / "one.db"
    session_id = new_session(db)
    vault = memvault.open(db)
    try:
        with sampled(db) as peak:
            append_loop(vault, session_id, APPENDS, "one")
        after = after_writes(db)  # the Vault is still open
    finally:
        vault.close()
    check("wal, one vault", db, peak[0], after, count_messages(db))


def test_two_vaults_on_one_file(tmp_path: Path) -> None:
    db = tmp_path / "two.db"
    session_id = new_session(db)
    vaults = [memvault.open(db), memvault.open(db)]
    errors: list[BaseException] = []

    def run(k: int) -> None:
        try:
            append_loop(vaults[k], session_id, APPENDS // 2, f"vault {k}")
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    try:
        with sampled(db) as peak:
            threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        after = after_writes(db)
    finally:
        for v in vaults:
            v.close()
    assert not errors, errors
    check("wal, two vaults", db, peak[0], after, count_messages(db))


WRITER = textwrap.dedent(
    """
    import sys, time
    import memvault
    db, session_id, n, tag = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    vault = memvault.open(db)
    for i in range(n):
        vault.messages.append(session_id, "user", f"{tag} message {i}: short and steady")
    print("DONE", flush=True)
    sys.stdin.read()  # keep the Vault open until the parent has measured the WAL
    vault.close()
    """
)


def test_two_processes_on_one_file(tmp_path: Path) -> None:
    db = tmp_path / "procs.db"
    session_id = new_session(db)
    procs = []
    for k in range(2):
        argv = [sys.executable, "-c", WRITER, str(db), session_id, str(APPENDS // 2), f"p{k}"]
        procs.append(subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True))  # fmt: skip
    try:
        with sampled(db) as peak:
            for p in procs:
                assert p.stdout is not None
                assert p.stdout.readline().strip() == "DONE"
        after = after_writes(db)  # both processes still hold their Vault open
    finally:
        for p in procs:
            if p.poll() is None:
                p.communicate("", timeout=60)
    assert [p.returncode for p in procs] == [0, 0]
    check("wal, two processes", db, peak[0], after, count_messages(db))
