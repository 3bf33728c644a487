"""`memvault.compat.mem0` against real mem0ai, side by side in one run (issue 15).

    .venv/bin/python bench/mem0.py [--memories 10000] [--queries 200] [--dim 384] [--pg URL]

One user's memories, added one `add(text, user_id=…, infer=False)` call at a time to both,
interleaved (memory i to mem0, then to the facade), so that the machine's load falls on both
alike; then the same `search(query, filters={"user_id": …}, top_k=10)` calls, interleaved too.
Both embed with the same deterministic `HashingEmbedder` (tests/compat/mem0_real.py), so the
embedding costs the same on both sides and the difference is the store. mem0 runs offline as
the differential test runs it: its local Qdrant in a folder (on disk), its SQLite history, no
telemetry, no LLM call.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
# This file is named mem0.py: with its folder first on sys.path, `import mem0` would find it
# instead of mem0ai. The folder is replaced by the repository root (for tests.compat).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(BENCH.parent))
from bench._common import header, pct  # noqa: E402

TOPICS = ["coffee", "python", "lyon", "trains", "jazz", "tests", "parser", "deploy", "garden",
          "cats", "budget", "travel", "kids", "school", "music", "climbing"]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--memories", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--pg", help="a PostgreSQL URL for the facade instead of a SQLite file")
    args = ap.parse_args()
    os.environ["MEM0_TELEMETRY"] = "False"
    logging.disable(logging.WARNING)  # mem0 warns once per search that spaCy is missing

    from tests.compat.mem0_real import real_memory

    import memvault
    from memvault.compat.mem0 import Memory
    from memvault.embed.base import HashingEmbedder

    header(f"mem0 facade vs mem0ai, {args.memories:,} memories of one user")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        emb = HashingEmbedder(args.dim)
        url = args.pg or f"sqlite:///{folder / 'vault.db'}"
        vault = memvault.open(url, embedder=emb)
        ours = Memory(vault)
        ours.reset()
        real = real_memory(folder / "mem0", emb)
        rng = random.Random(7)
        texts, queries = [], []
        for i in range(args.memories):
            a, b = rng.sample(TOPICS, 2)
            texts.append(f"note {i}: the user links {a} with {b} (case {rng.randrange(10_000)})")
        for _ in range(args.queries):
            a, b = rng.sample(TOPICS, 2)
            queries.append(f"what about {a} and {b}?")

        add: dict[str, list[float]] = {"mem0ai": [], "facade": []}
        started = time.perf_counter()
        for i, text in enumerate(texts):
            for name, m in (("mem0ai", real), ("facade", ours)):
                t = time.perf_counter()
                m.add(text, user_id="bench", infer=False)
                add[name].append(time.perf_counter() - t)
            if (i + 1) % 2000 == 0:
                print(f"  {i + 1:,} added ({time.perf_counter() - started:.0f} s)", flush=True)

        search: dict[str, list[float]] = {"mem0ai": [], "facade": []}
        same_top = 0
        for query in queries:
            tops = []
            for name, m in (("mem0ai", real), ("facade", ours)):
                t = time.perf_counter()
                found = m.search(query, filters={"user_id": "bench"}, top_k=10)
                search[name].append(time.perf_counter() - t)
                tops.append(found["results"][0]["memory"] if found["results"] else None)
            same_top += tops[0] == tops[1]

        load = os.getloadavg()
        engine = "PostgreSQL" if args.pg else "SQLite"
        print(f"\nfacade on {engine}; embedder HashingEmbedder({args.dim}) on both sides; "
              f"load after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")  # fmt: skip
        print("| operation | mem0ai p50 ms | facade p50 ms | × p50 | mem0ai p99 ms | "
              "facade p99 ms | × p99 |")  # fmt: skip
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for label, runs in (
            (f"add ({args.memories:,})", add),
            (f"search ({args.queries})", search),
        ):
            r50, f50 = pct(runs["mem0ai"], 50) * 1e3, pct(runs["facade"], 50) * 1e3
            r99, f99 = pct(runs["mem0ai"], 99) * 1e3, pct(runs["facade"], 99) * 1e3
            print(f"| {label} | {r50:.2f} | {f50:.2f} | {r50 / f50:.1f}× | {r99:.2f} | "
                  f"{f99:.2f} | {r99 / f99:.1f}× |")  # fmt: skip
        print(f"\nsame top hit for {same_top} of {len(queries)} queries (ties may differ)")
        real.close()
        real.vector_store.client.close()
        vault.close()


if __name__ == "__main__":
    main()
