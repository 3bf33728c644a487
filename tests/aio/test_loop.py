"""The event loop stays responsive while a slow database call runs through memvault.aio.

A second connection holds a lock for `HOLD` seconds; meanwhile an async call that needs it
waits on the database, and a ticker coroutine measures the longest gap between its 5 ms
sleeps. The call must have been slow (it waited for the lock) while the loop never stalled.
The control calls the sync API in the loop and shows the measure catches a blocked loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import memvault
import memvault.aio

HOLD = 0.6
STALL = 0.15  # a responsive loop's longest gap, with room for a loaded machine


@contextmanager
def _locked(url: str, table: str) -> Iterator[threading.Event]:
    """Hold `table`'s write lock from another connection for HOLD seconds."""
    held = threading.Event()
    vault = memvault.open(url)

    def hold() -> None:
        with vault.store.write() as tx:
            if tx.engine == "postgresql":
                tx.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
            else:  # BEGIN IMMEDIATE already holds SQLite's write lock; make it real
                tx.execute("UPDATE users SET display_name = display_name WHERE 0")
            held.set()
            time.sleep(HOLD)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(10)
        yield held
    finally:
        thread.join()
        vault.close()


async def _measure(call: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    """(seconds the call took, the loop's longest gap meanwhile)."""
    gaps: list[float] = []
    done = asyncio.Event()

    async def tick() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.02)
    start = time.perf_counter()
    await call()
    took = time.perf_counter() - start
    done.set()
    await ticker
    return took, max(gaps)


def test_a_domain_call_waiting_on_a_lock_leaves_the_loop_free(vault_url: str) -> None:
    async def scenario() -> tuple[tuple[float, float], tuple[float, float]]:
        async with memvault.aio.open(vault_url) as vault:
            user = await vault.users.create("loop-aio")
            with _locked(vault_url, "memories"):
                slow = await _measure(lambda: vault.memories.add(user.id, "fact", "waited"))
            with _locked(vault_url, "memories"):

                async def blocking() -> None:
                    vault.sync.memories.add(user.id, "fact", "blocked the loop")

                control = await _measure(blocking)
            return slow, control

    (took, gap), (_, control_gap) = asyncio.run(scenario())
    assert took >= HOLD * 0.6, f"the call did not wait on the lock ({took:.3f} s)"
    assert gap < STALL, f"the loop stalled {gap:.3f} s during an async call"
    assert control_gap >= HOLD * 0.6, "the measure missed a blocked loop"


def test_the_savers_native_put_waiting_on_a_lock_leaves_the_loop_free(vault_url: str) -> None:
    from langgraph.checkpoint.base import empty_checkpoint

    from memvault.langgraph import MemvaultSaver

    async def scenario() -> tuple[float, float]:
        async with memvault.aio.open(vault_url) as vault:
            saver = MemvaultSaver(vault)
            config: Any = {"configurable": {"thread_id": "loop", "checkpoint_ns": ""}}
            checkpoint = empty_checkpoint()
            try:
                with _locked(vault_url, "graph_checkpoints"):
                    measured = await _measure(lambda: saver.aput(config, checkpoint, {}, {}))
                assert await saver.aget_tuple(config) is not None
                return measured
            finally:
                saver.close()

    took, gap = asyncio.run(scenario())
    assert took >= HOLD * 0.6, f"the put did not wait on the lock ({took:.3f} s)"
    assert gap < STALL, f"the loop stalled {gap:.3f} s during aput"
