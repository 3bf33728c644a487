"""N writer processes × M transactions (a message, a memory and its vector each) with reader
processes alongside: 0 lost, 0 duplicate ids, 0 orphans, 0 lock errors, counts never go down.
On SQLite (one file, many processes) and on PostgreSQL."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from pathlib import Path

import numpy as np
import pytest

import memvault
from tests.reliability.conftest import report

WRITERS = 4
TRANSACTIONS = int(os.environ.get("MEMVAULT_CONCURRENCY_TX", "250"))
READERS = 2


def _writer(url: str, session_id: str, worker: int) -> tuple[list[str], list[float], list[str]]:
    rng = np.random.default_rng(worker)
    ids: list[str] = []
    latencies: list[float] = []
    errors: list[str] = []
    with memvault.open(url, busy_timeout=60) as vault:
        user_id = vault.sessions.get(session_id).user_id
        for i in range(TRANSACTIONS):
            vector = rng.standard_normal(32).astype(np.float32)
            start = time.perf_counter()
            try:
                with vault.transaction():
                    message = vault.messages.append(session_id, "user", f"w{worker} t{i}")
                    memory = vault.memories.add(
                        user_id, "note", f"w{worker} t{i} memory", message_id=message.id,
                        session_id=session_id, embedding=vector, embedding_model="test-32",
                    )  # fmt: skip
                latencies.append(time.perf_counter() - start)
                ids += [message.id, memory.id]
            except memvault.MemvaultError as exc:
                errors.append(repr(exc))
    return ids, latencies, errors


def _reader(url: str, session_id: str, seconds: float) -> tuple[int, bool, list[str]]:
    seen: list[int] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    with memvault.open(url, busy_timeout=60) as vault:
        while time.monotonic() < deadline:
            try:
                seen.append(vault.sessions.get(session_id).message_count)
                vault.messages.last(session_id, 20)
            except memvault.MemvaultError as exc:
                errors.append(repr(exc))
    return len(seen), seen == sorted(seen), errors


@pytest.mark.parametrize("engine", ["sqlite", "pg18"])
def test_writers_and_readers_across_processes(engine: str, tmp_path: Path,
                                             request: pytest.FixtureRequest) -> None:  # fmt: skip
    if engine == "sqlite":
        url = f"sqlite:///{tmp_path / 'many.db'}"
    else:
        from tests.conftest import engine_url

        url = engine_url(engine, tmp_path, request.getfixturevalue("pg_databases"))
    with memvault.open(url) as vault:
        session_id = vault.sessions.create(vault.users.create("many").id).id
    ctx = mp.get_context("spawn")
    start = time.perf_counter()
    with ctx.Pool(WRITERS + READERS) as pool:
        readers = [pool.apply_async(_reader, (url, session_id, 6.0)) for _ in range(READERS)]
        writers = [pool.apply_async(_writer, (url, session_id, w)) for w in range(WRITERS)]
        written = [w.get(600) for w in writers]
        elapsed = time.perf_counter() - start
        read = [r.get(600) for r in readers]
    errors = [e for _, _, errs in written for e in errs] + [e for _, _, errs in read for e in errs]
    assert errors == []  # no "database is locked" (or anything else) reached a caller
    ids = [i for got, _, _ in written for i in got]
    assert len(ids) == len(set(ids)) == 2 * WRITERS * TRANSACTIONS
    assert all(monotonic for _, monotonic, _ in read)
    with memvault.open(url) as vault:
        counts = vault.stats().counts
        expected = WRITERS * TRANSACTIONS
        assert counts["messages"] == counts["memories"] == counts["embeddings"] == expected
        assert vault.sessions.get(session_id).message_count == expected
        with vault.store.read() as tx:
            orphans = tx.scalar(
                "SELECT count(*) FROM embeddings e LEFT JOIN memories m ON m.id = e.memory_id "
                "WHERE m.id IS NULL"
            ) + tx.scalar(
                "SELECT count(*) FROM memories m LEFT JOIN messages g ON g.id = m.message_id "
                "WHERE g.id IS NULL"
            )
        assert orphans == 0
        assert vault.check() == []
    latencies = sorted(x for _, lat, _ in written for x in lat)
    report(
        f"concurrency {engine}",
        writers=WRITERS, readers=READERS, transactions=expected, lost=0, duplicate_ids=0,
        orphans=0, lock_errors=0, tx_per_s=round(expected / elapsed),
        p99_ms=round(latencies[int(len(latencies) * 0.99)] * 1e3, 1),
    )  # fmt: skip
