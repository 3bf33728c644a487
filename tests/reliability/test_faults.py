"""Disk full, I/O errors, WAL growth beside a long reader, network filesystems."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
import sqlean

import memvault
from memvault.store import sqlite as sqlite_store
from tests.reliability.conftest import report

ROOT = Path(__file__).resolve().parents[2]


def test_disk_full_is_typed_keeps_committed_data_and_resumes(tmp_path: Path) -> None:
    with memvault.open(tmp_path / "full.db") as vault:
        session = vault.sessions.create(vault.users.create("full").id)
        committed = [vault.messages.append(session.id, "user", f"before {i}").id for i in range(20)]
        conn = vault.store.raw_connection()  # type: ignore[attr-defined]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count={pages + 2}")  # the disk is (nearly) full
        failures = 0
        with pytest.raises(memvault.StoreFull):
            for i in range(2_000):
                vault.messages.append(session.id, "user", f"filling {i} " + "y" * 2_000)
        failures += 1
        # Committed data intact, reads work, the failed transaction left nothing half-done.
        for message_id in committed:
            assert vault.messages.get(message_id).content.startswith("before")
        stored = vault.messages.list(session.id, limit=10_000)
        assert vault.sessions.get(session.id).message_count == len(stored)
        assert vault.check() == []
        conn.execute("PRAGMA max_page_count=1073741823")  # space returns
        resumed = vault.messages.append(session.id, "user", "after the disk was freed")
        assert vault.messages.get(resumed.id).seq == len(stored) + 1
    report("disk full", error="StoreFull", committed_before=20, lost=0, resumed=True,
           failed_writes=failures)  # fmt: skip


CHILD = r"""
import resource, signal, sys
import memvault
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write returns EFBIG instead
path, limit = sys.argv[1], int(sys.argv[2])
vault = memvault.open(path)
session = vault.sessions.list()[0]
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
written = 0
try:
    for i in range(100_000):
        vault.messages.append(session.id, "user", "z" * 4000)
        written += 1
except memvault.MemvaultError as exc:
    print("ERROR", type(exc).__name__, written, flush=True)
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    print("READ", len(vault.messages.last(session.id, 10)), flush=True)
    vault.messages.append(session.id, "user", "after the limit was lifted")
    print("RESUMED", flush=True)
else:
    print("NO ERROR", written)
"""


def test_io_error_from_a_file_size_limit_is_typed(tmp_path: Path) -> None:
    path = tmp_path / "fsize.db"
    with memvault.open(path) as vault:
        session = vault.sessions.create(vault.users.create("io").id)
        for i in range(10):
            vault.messages.append(session.id, "user", f"kept {i}")
        vault.store.checkpoint()  # type: ignore[attr-defined]
    size = path.stat().st_size
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(size + 300_000)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    lines = out.stdout.split("\n")
    assert lines[0].startswith("ERROR StoreFull"), out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    assert "RESUMED" in out.stdout
    with memvault.open(path) as vault:
        assert vault.check() == []
        session_id = vault.sessions.list()[0].id
        messages = vault.messages.list(session_id, limit=100_000)
        assert [m.content for m in messages[:10]] == [f"kept {i}" for i in range(10)]
        assert messages[-1].content == "after the limit was lifted"
        assert vault.sessions.get(session_id).message_count == len(messages)
    report("io error (RLIMIT_FSIZE)", error=lines[0].split()[1], committed_kept=10, resumed=True)


def _wal_mb(path: Path) -> float:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size / 1e6 if wal.exists() else 0.0


def _long_reader_then_writes(
    path: Path, write: object, seconds: float, library: Any = sqlite3
) -> tuple[float, float]:
    """Hold a read snapshot while writes go on, release it, write a little more; returns
    the WAL size (MB) at the end of the reader and after it ended.

    The reader must use the writer's SQLite `library`: two SQLite libraries in one process
    (the stdlib's and sqlean's) do not see each other's POSIX locks on the WAL index, so a
    stdlib reader would not stop memvault's checkpoints from resetting the WAL under it.
    """
    reader = library.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM messages").fetchone()  # pin a snapshot
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        write(i)  # type: ignore[operator]
        i += 1
    during = _wal_mb(path)
    reader.execute("COMMIT")
    reader.close()
    for j in range(3_000):  # steady writes after the reader is gone
        write(i + j)  # type: ignore[operator]
        if j % 500 == 0:
            time.sleep(0.3)
    time.sleep(1.5)
    write(0)
    return during, _wal_mb(path)


def test_wal_stays_bounded_once_the_long_reader_ends(tmp_path: Path) -> None:
    mv_path = tmp_path / "mv.db"
    vault = memvault.open(mv_path)
    session = vault.sessions.create(vault.users.create("wal").id)
    mv_during, mv_after = _long_reader_then_writes(
        mv_path,
        lambda i: vault.messages.append(session.id, "user", f"{i} " + "w" * 500),
        4.0,
        sqlean,
    )
    vault.close()
    raw_path = tmp_path / "raw.db"
    raw = sqlite3.connect(raw_path, isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, content TEXT)")

    def raw_write(i: int) -> None:
        raw.execute("INSERT INTO messages (content) VALUES (?)", (f"{i} " + "w" * 500,))

    raw_during, raw_after = _long_reader_then_writes(raw_path, raw_write, 4.0)
    raw.close()
    report("wal growth", memvault_during_mb=round(mv_during, 1),
           memvault_after_mb=round(mv_after, 1), plain_sqlite_during_mb=round(raw_during, 1),
           plain_sqlite_after_mb=round(raw_after, 1))  # fmt: skip
    assert mv_during > 1.0  # the reader really pinned the WAL
    assert mv_after <= 64.0 + 1  # journal_size_limit
    assert mv_after < mv_during or mv_after < 8.0


def test_network_filesystem_is_detected_and_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/sda1 / ext4 rw 0 0\nserver:/export {tmp_path} nfs4 rw,relatime 0 0\n")
    monkeypatch.setattr(sqlite_store, "MOUNTS", str(mounts))
    monkeypatch.setattr(
        sqlite_store, "filesystem_type",
        lambda path, mounts=str(mounts): sqlite_store.__dict__["_real_fstype"](path, mounts),
    )  # fmt: skip
    with pytest.warns(sqlite_store.NetworkFilesystemWarning, match="nfs4"):
        memvault.open(tmp_path / "shared.db").close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        memvault.open(tmp_path.parent / f"{tmp_path.name}-local.db").close()


sqlite_store.__dict__.setdefault("_real_fstype", sqlite_store.filesystem_type)


def test_readers_are_not_blocked_by_a_checkpoint(tmp_path: Path) -> None:
    with memvault.open(tmp_path / "ck.db") as vault:
        session = vault.sessions.create(vault.users.create("ck").id)
        stop = threading.Event()
        counts: list[int] = []

        def read() -> None:
            while not stop.is_set():
                counts.append(vault.sessions.get(session.id).message_count)

        reader = threading.Thread(target=read)
        reader.start()
        for i in range(3_000):
            vault.messages.append(session.id, "user", f"{i}")
        stop.set()
        reader.join()
        assert counts == sorted(counts)  # a reader never sees the count go down
        assert vault.store.checkpointer.runs >= 1  # type: ignore[attr-defined]
    assert os.path.exists(tmp_path / "ck.db")
