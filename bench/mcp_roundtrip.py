"""MCP `search_memories` round trip over stdio at 10k memories of one user (issue 15).

    .venv/bin/python bench/mcp_roundtrip.py [--memories 10000] [--queries 200] [--pg URL]

One user's memories (short facts over a few hundred topics, every one embedded with the
default model, as `memories.add` stores them), then the same hybrid queries two ways side by
side: through a real `memvault mcp` process with the SDK's stdio client (`call_tool`, the
round trip a coding agent pays: JSON-RPC over pipes, argument validation, the search,
structured output), and in process with `vault.memories.search` (the floor).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, pct

MEMVAULT = shutil.which("memvault", path=os.path.dirname(sys.executable)) or "memvault"
TOPICS = ["coffee", "python", "lyon", "trains", "jazz", "tests", "parser", "deploy", "garden",
          "cats", "budget", "travel", "kids", "school", "music", "climbing"]  # fmt: skip


def seed(url: str, n: int) -> list[str]:
    import memvault

    rng = random.Random(7)
    queries = []
    with memvault.open(url) as vault:
        user = vault.users.ensure("bench")
        for i in range(n):
            a, b = rng.sample(TOPICS, 2)
            vault.memories.add(user.id, "fact", f"note {i}: the user links {a} with {b} "
                               f"(case {rng.randrange(10_000)})", embedding=False)  # fmt: skip
            if i % (n // 50 or 1) == 0:
                queries.append(f"what about {a} and {b}?")
        vault.search.embed_missing("memory", batch=128)
    return queries


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--memories", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--pg", help="a PostgreSQL URL instead of a SQLite file (emptied first)")
    args = ap.parse_args()
    import anyio
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    import memvault

    header(f"MCP search_memories round trip, {args.memories:,} memories of one user")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.pg or f"sqlite:///{tmp}/mcp.db"
        t = time.perf_counter()
        queries = seed(url, args.memories)
        print(f"seeded and embedded in {time.perf_counter() - t:.0f} s\n")
        asked = [queries[i % len(queries)] for i in range(args.queries)]

        with memvault.open(url) as vault:
            user = vault.users.get_by_handle("bench")
            vault.memories.search(user.id, asked[0], k=10)  # warm: model, caches
            local = []
            for q in asked:
                start = time.perf_counter()
                vault.memories.search(user.id, q, k=10)
                local.append(time.perf_counter() - start)

        remote: list[float] = []

        async def over_mcp() -> None:
            env = {k: v for k, v in os.environ.items() if k != "MEMVAULT_URL"}
            params = StdioServerParameters(
                command=MEMVAULT, env=env, args=["mcp", "--db", url, "--user", "bench"]
            )
            with open(os.devnull, "w") as errlog:
                async with (
                    stdio_client(params, errlog=errlog) as (read, write),
                    ClientSession(read, write) as session,
                ):
                    await session.initialize()
                    await session.call_tool("search_memories", {"query": asked[0]})  # warm
                    for q in asked:
                        start = time.perf_counter()
                        got = await session.call_tool("search_memories", {"query": q, "k": 10})
                        remote.append(time.perf_counter() - start)
                        assert not got.is_error, got.content

        anyio.run(over_mcp)
    print("| path | n | p50 ms | p95 ms | p99 ms |\n| --- | --- | --- | --- | --- |")
    for name, xs in (("in process: `vault.memories.search` (hybrid, k=10)", local),
                     ("MCP over stdio: `search_memories` (hybrid, k=10)", remote)):  # fmt: skip
        print(f"| {name} | {len(xs)} | {pct(xs, 50) * 1e3:.1f} | {pct(xs, 95) * 1e3:.1f} | "
              f"{pct(xs, 99) * 1e3:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
