"""The import's background writer: order, errors, and its thread's connection."""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path

import pytest

import memvault
from memvault.errors import IntegrityViolation
from memvault.migrate.writer import BackgroundWriter


def test_jobs_run_in_order_on_another_thread(tmp_path: Path) -> None:
    vault = memvault.open(f"sqlite:///{tmp_path / 'w.db'}")
    seen: list[tuple[int, str]] = []

    def job(i: int) -> None:
        seen.append((i, threading.current_thread().name))

    try:
        with BackgroundWriter(vault.store) as writer:
            for i in range(20):
                writer.submit(partial(job, i))
            writer.drain()
        assert [i for i, _ in seen] == list(range(20))
        assert {name for _, name in seen} == {"memvault-import-writer"}
    finally:
        vault.close()


def test_a_failed_job_stops_the_writer_and_is_raised(tmp_path: Path) -> None:
    vault = memvault.open(f"sqlite:///{tmp_path / 'w.db'}")
    store = vault.store
    try:
        with store.write() as tx:
            tx.execute("CREATE TABLE t (k INTEGER PRIMARY KEY)")

        def insert(k: int) -> None:
            with store.write() as tx:
                tx.execute("INSERT INTO t (k) VALUES (:k)", {"k": k})

        writer = BackgroundWriter(store)
        writer.submit(lambda: insert(1))
        writer.submit(lambda: insert(1))  # duplicate key: fails on the writer thread
        with pytest.raises(IntegrityViolation):
            writer.submit(lambda: insert(2))  # raised here; this job is never run
        with pytest.raises(IntegrityViolation):
            writer.drain()
        writer.close()
        with store.read() as tx:
            assert [r["k"] for r in tx.all("SELECT k FROM t")] == [1]
        with pytest.raises(IntegrityViolation):  # the error stays: nothing more is written
            writer.submit(lambda: insert(3))
        idle = BackgroundWriter(store)
        idle.close()
        with pytest.raises(RuntimeError, match="closed"):
            idle.submit(lambda: insert(3))
    finally:
        vault.close()


def test_the_writer_thread_closes_its_connection(tmp_path: Path) -> None:
    vault = memvault.open(f"sqlite:///{tmp_path / 'w.db'}")
    store = vault.store
    try:
        before = len(store._connections)  # type: ignore[attr-defined]
        with BackgroundWriter(store) as writer:

            def touch() -> None:
                with store.write() as tx:
                    tx.execute("SELECT 1")

            writer.submit(touch)
            writer.drain()
            assert len(store._connections) == before + 1  # type: ignore[attr-defined]
        assert len(store._connections) == before  # type: ignore[attr-defined]
    finally:
        vault.close()
