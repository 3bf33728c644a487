"""`MemvaultStore` against langgraph's `PostgresStore` and `InMemoryStore`, side by side.

    .venv/bin/python bench/langgraph_store.py --pg postgresql://postgres@127.0.0.1:54318/postgres \
        [--items 1000] [--rounds 3]

Each round runs the same phases on the three stores in turn (the order rotates every round,
so the machine's load falls on all alike), each store on a fresh namespace root:
- put: `--items` single `put` calls (a value of a few fields, one text field indexed),
- get: one `get` per item,
- batch: the same number of items again in `batch` calls of 50 `PutOp` (items per second),
- filter: `search(prefix, filter={"n": {"$gte": …}, "tag": …}, limit=10)`, `--items`/10 calls,
- semantic: `search(prefix, query=…, limit=10)`, `--items`/10 calls.
Semantic search embeds with the same deterministic `HashingEmbedder` (64 dims) on all three,
so the embedding costs the same and the difference is the store. memvault and PostgresStore
each use their own new database on the same PostgreSQL server (PostgresStore's vectors in
pgvector, memvault's exact search over its own vectors). Medians of the rounds are reported,
with memvault's ratio to each peer (> 1: memvault faster).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import header

DIMS = 64
TAGS = ["tea", "coffee", "trains", "jazz", "garden", "cats", "budget", "travel"]


def embed(texts: Any) -> list[list[float]]:
    from memvault.embed import HashingEmbedder

    return [[float(x) for x in r] for r in HashingEmbedder(DIMS).embed(list(texts))]


def value(i: int) -> dict[str, Any]:
    tag = TAGS[i % len(TAGS)]
    return {"text": f"note {i} about {tag} and {TAGS[(i * 7) % len(TAGS)]}", "n": i, "tag": tag}


def phases(store: Any, root: str, items: int, wanted: list[str]) -> dict[str, float]:
    """Operations per second of each phase on `store`."""
    from langgraph.store.base import PutOp

    ns = [(root, f"u{i % 10}") for i in range(items)]
    rates: dict[str, float] = {}

    def timed(name: str, calls: int, run: Callable[[int], Any]) -> None:
        if name not in wanted:
            return
        start = time.perf_counter()
        for i in range(calls):
            run(i)
        rates[name] = calls / (time.perf_counter() - start)

    timed("put", items, lambda i: store.put(ns[i], f"k{i}", value(i)))
    timed("get", items, lambda i: store.get(ns[i], f"k{i}"))

    def put_batch(b: int) -> None:  # 50 puts in one batch (items counted, not batches)
        store.batch([PutOp(ns[i], f"b{i}", value(i)) for i in range(b * 50, b * 50 + 50)])

    timed("batch", items // 50, put_batch)
    if "batch" in rates:
        rates["batch"] *= 50
    queries = max(items // 10, 1)
    flt = lambda i: {"n": {"$gte": (i * 37) % items}, "tag": TAGS[i % len(TAGS)]}  # noqa: E731
    timed("filter", queries, lambda i: store.search((root,), filter=flt(i), limit=10))
    ask = lambda i: f"{TAGS[i % 8]} {TAGS[(i + 3) % 8]}"  # noqa: E731
    timed("semantic", queries, lambda i: store.search((root,), query=ask(i), limit=10))
    return rates


def fresh_database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.rsplit("/", 1)[0] + "/" + name


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pg", required=True, help="a PostgreSQL server URL (with pgvector)")
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--phases", default="put,get,batch,filter,semantic")
    args = ap.parse_args()

    from langgraph.store.memory import InMemoryStore
    from langgraph.store.postgres import PostgresStore

    import memvault
    from memvault.langgraph import MemvaultStore

    index: Any = {"dims": DIMS, "embed": embed, "fields": ["text"]}
    mv_url = fresh_database(args.pg, "bench_lgstore_memvault")
    lg_url = fresh_database(args.pg, "bench_lgstore_langgraph")
    vault = memvault.open(mv_url, embed_memories=False)
    user = vault.users.ensure("bench").id
    stores: dict[str, Any] = {
        "MemvaultStore": MemvaultStore(vault, user_id=user, index=index),
        "InMemoryStore": InMemoryStore(index=index),
    }
    with PostgresStore.from_conn_string(lg_url, index=index) as pg_store:
        pg_store.setup()
        stores["PostgresStore"] = pg_store
        header(f"LangGraph stores, {args.items} items, {args.rounds} rounds (ops/s)")
        results: dict[str, list[dict[str, float]]] = {name: [] for name in stores}
        names = list(stores)
        kinds = args.phases.split(",")
        for r in range(args.rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                root = f"r{r}{uuid.uuid4().hex[:6]}"
                results[name].append(phases(stores[name], root, args.items, kinds))
            print(f"round {r + 1}: " + ", ".join(
                f"{n} put {results[n][-1]['put']:.0f}" for n in order))  # fmt: skip
    print()
    med = {n: {k: statistics.median(x[k] for x in results[n]) for k in kinds} for n in stores}
    print("| phase | MemvaultStore | PostgresStore | InMemoryStore | memvault / Postgres |"
          " memvault / InMemory |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|")
    for k in kinds:
        m, p, i = med["MemvaultStore"][k], med["PostgresStore"][k], med["InMemoryStore"][k]
        print(f"| {k} | {m:,.0f} | {p:,.0f} | {i:,.0f} | {m / p:.2f}x | {m / i:.3f}x |")
    stores["MemvaultStore"].close()
    vault.close()


if __name__ == "__main__":
    main()
