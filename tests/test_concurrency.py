"""Several processes appending to one SQLite file: nothing lost, nothing duplicated,
no "database is locked" reaching a caller."""

from __future__ import annotations

import multiprocessing as mp
import threading
from pathlib import Path

import memvault

PROCESSES = 4
APPENDS = 300


def _appender(url: str, session_ids: list[str], worker: int) -> tuple[int, list[str], list[str]]:
    errors: list[str] = []
    ids: list[str] = []
    with memvault.open(url, busy_timeout=60) as vault:
        for i in range(APPENDS):
            session_id = session_ids[i % len(session_ids)]
            try:
                message = vault.messages.append(session_id, "user", f"w{worker} m{i}")
                ids.append(message.id)
                if i % 10 == 0:
                    vault.memories.add(None, "note", f"w{worker} note {i}")
            except memvault.MemvaultError as exc:
                errors.append(repr(exc))
    return worker, ids, errors


def test_processes_appending_lose_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    with memvault.open(url) as vault:
        user = vault.users.create("shared")
        sessions = [vault.sessions.create(user.id).id for _ in range(3)]
    ctx = mp.get_context("spawn")
    with ctx.Pool(PROCESSES) as pool:
        results = pool.starmap(_appender, [(url, sessions, w) for w in range(PROCESSES)])
    errors = [e for _, _, errs in results for e in errs]
    assert errors == []
    ids = [i for _, got, _ in results for i in got]
    assert len(ids) == len(set(ids)) == PROCESSES * APPENDS
    with memvault.open(url) as vault:
        counts = vault.stats().counts
        assert counts["messages"] == PROCESSES * APPENDS
        assert counts["memories"] == PROCESSES * (APPENDS // 10)
        total = 0
        for session_id in sessions:
            session = vault.sessions.get(session_id)
            messages = vault.messages.list(session_id, limit=10_000)
            # per-session sequence numbers are dense and unique: no two writers got one seq
            assert [m.seq for m in messages] == list(range(1, len(messages) + 1))
            assert session.message_count == len(messages)
            total += len(messages)
        assert total == PROCESSES * APPENDS
        assert vault.check() == []


def test_threads_share_one_vault(tmp_path: Path) -> None:
    with memvault.open(tmp_path / "threads.db") as vault:
        user = vault.users.create("t")
        session = vault.sessions.create(user.id)
        errors: list[BaseException] = []

        def work(n: int) -> None:
            try:
                for i in range(200):
                    vault.messages.append(session.id, "user", f"{n}-{i}")
                    vault.messages.last(session.id, 5)
            except BaseException as exc:  # pragma: no cover - asserted below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert vault.sessions.get(session.id).message_count == 1200
        seqs = [m.seq for m in vault.messages.list(session.id, limit=5000)]
        assert seqs == list(range(1, 1201))


def _use_after_fork(vault: memvault.Vault, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    try:
        vault.users.list()
        queue.put("used")
    except memvault.StoreError as exc:
        queue.put(f"refused: {exc}")


def test_a_vault_used_after_fork_is_refused(tmp_path: Path) -> None:
    with memvault.open(tmp_path / "fork.db") as vault:
        vault.users.create("parent")
        ctx = mp.get_context("fork")
        queue = ctx.Queue()
        child = ctx.Process(target=_use_after_fork, args=(vault, queue))
        child.start()
        child.join(30)
        answer = queue.get(timeout=5)
        assert answer.startswith("refused") and "fork" in answer
        assert vault.users.get_by_handle("parent")  # the parent still works
