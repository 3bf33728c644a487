"""LangGraph checkpointers side by side: a 100-step graph run's saver calls.

Each step does what a LangGraph async run does per superstep: `aput` a checkpoint (three
channels of a few KB, two of them changed), `aput_writes` a task's writes to it, and
`aget_tuple` the thread's latest. MemvaultSaver is run against langgraph's own savers on the
same engine — `AsyncSqliteSaver` (langgraph-checkpoint-sqlite) on a SQLite file and
`AsyncPostgresSaver` (langgraph-checkpoint-postgres) on PostgreSQL — alternating runs in
one process, and the medians of steps/s are compared.

    .venv/bin/python bench/saver.py --rounds 7 [--pg postgresql://…/db]

Needs `pip install langgraph-checkpoint-sqlite langgraph-checkpoint-postgres` (bench only).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _common import header

STEPS = 100


def _payload(step: int) -> dict[str, Any]:
    text = f"step {step}: the assistant considered the request and wrote a note. " * 40
    return {
        "messages": [
            {"role": "user", "content": text[:1500]},
            {"role": "ai", "content": text[:1500]},
        ],
        "scratch": text[:2500],
        "context": {"facts": [f"fact {i} of step {step}" for i in range(60)]},
    }


async def run_graph(saver: Any) -> float:
    """One 100-step run on a new thread; returns steps per second."""
    from langgraph.checkpoint.base import empty_checkpoint

    thread = f"bench-{uuid.uuid4()}"
    config: dict[str, Any] = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
    checkpoint = empty_checkpoint()
    versions: dict[str, Any] = {}
    start = time.perf_counter()
    for step in range(STEPS):
        values = _payload(step)
        changed = ["messages", "scratch"] if step else ["messages", "scratch", "context"]
        checkpoint = dict(checkpoint)  # type: ignore[assignment]
        checkpoint["id"] = str(uuid.uuid6()) if hasattr(uuid, "uuid6") else _uuid6()
        checkpoint["channel_values"] = values
        new_versions = {}
        for channel in changed:
            versions[channel] = saver.get_next_version(versions.get(channel), None)
            new_versions[channel] = versions[channel]
        checkpoint["channel_versions"] = dict(versions)
        stored = await saver.aput(
            config, checkpoint, {"source": "loop", "step": step}, new_versions
        )
        await saver.aput_writes(
            stored, [("messages", values["messages"][-1]), ("scratch", "x" * 1000)], f"task-{step}"
        )
        got = await saver.aget_tuple({"configurable": {"thread_id": thread, "checkpoint_ns": ""}})
        assert got is not None and got.checkpoint["id"] == checkpoint["id"], "wrong checkpoint"
        assert len(got.pending_writes or []) == 2
        config = stored
    return STEPS / (time.perf_counter() - start)


def _uuid6() -> str:
    from langgraph.checkpoint.base.id import uuid6

    return str(uuid6())


@asynccontextmanager
async def memvault_aio(url: str) -> AsyncIterator[Any]:
    import memvault.aio
    from memvault.langgraph import MemvaultSaver

    async with memvault.aio.open(url) as vault:
        saver = MemvaultSaver(vault)
        try:
            yield saver
        finally:
            saver.close()


@asynccontextmanager
async def memvault_threads(url: str) -> AsyncIterator[Any]:
    import memvault
    from memvault.langgraph import MemvaultSaver

    with memvault.open(url) as vault, MemvaultSaver(vault) as saver:
        yield saver


@asynccontextmanager
async def sqlite_peer(path: str) -> AsyncIterator[Any]:
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async with AsyncSqliteSaver.from_conn_string(path) as saver:
        await saver.setup()
        yield saver


@asynccontextmanager
async def postgres_peer(url: str) -> AsyncIterator[Any]:
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    async with AsyncPostgresSaver.from_conn_string(url) as saver:
        await saver.setup()
        yield saver


async def compare(
    contenders: dict[str, Callable[[], AbstractAsyncContextManager[Any]]], rounds: int
) -> dict[str, list[float]]:
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, open_saver in contenders.items():  # alternate, one run each per round
            async with open_saver() as saver:
                rates[name].append(await run_graph(saver))
    return rates


def report(title: str, rates: dict[str, list[float]], peer: str) -> None:
    header(title)
    base = statistics.median(rates[peer])
    print("| saver | steps/s per run | median steps/s | ÷ peer |")
    print("|---|---|---|---|")
    for name, xs in rates.items():
        med = statistics.median(xs)
        runs = ", ".join(f"{x:.0f}" for x in xs)
        print(f"| {name} | {runs} | {med:.0f} | {med / base:.2f}× |")
    print(f"\nload after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--pg", help="an empty PostgreSQL database's URL (skipped when absent)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        mv, peer = Path(tmp) / "memvault.db", Path(tmp) / "langgraph.db"
        rates = asyncio.run(
            compare(
                {
                    "MemvaultSaver (memvault.aio)": lambda: memvault_aio(f"sqlite:///{mv}"),
                    "AsyncSqliteSaver": lambda: sqlite_peer(str(peer)),
                },
                args.rounds,
            )
        )
        report(
            "SQLite: 100-step run, put + put_writes + get_tuple per step", rates, "AsyncSqliteSaver"
        )
    if args.pg:
        rates = asyncio.run(
            compare(
                {
                    "MemvaultSaver (memvault.aio, native)": lambda: memvault_aio(args.pg),
                    "AsyncPostgresSaver": lambda: postgres_peer(args.pg),
                    "MemvaultSaver (sync Vault, threads)": lambda: memvault_threads(args.pg),
                },
                args.rounds,
            )
        )
        report("PostgreSQL 18: the same run", rates, "AsyncPostgresSaver")


if __name__ == "__main__":
    main()
