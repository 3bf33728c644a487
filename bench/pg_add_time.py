"""Where a mem0 facade `add` on PostgreSQL spends its time (issue 15).

    .venv/bin/python bench/pg_add_time.py --pg URL [--adds 1000] [--dim 384]

One user's memories added with `Memory.add(text, user_id=…, infer=False)`, the facade
interleaved with the same call on a SQLite file (the same Python work, an in-process store)
and a bare `SELECT 1` on an autocommit psycopg connection to the same server (one loopback
round trip, no work: the floor of any call that goes to the server). Within each PostgreSQL
add, the time spent in the driver (`PostgresTx.execute`: the one statement sent, executed,
answered) is timed apart; every 10th add, the same statement is also run under
`EXPLAIN (ANALYZE)` in a rolled-back transaction for the server's own execution time.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import header, pct


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pg", required=True, help="a PostgreSQL URL (its memories are reset)")
    ap.add_argument("--adds", type=int, default=1000)
    ap.add_argument("--dim", type=int, default=384)
    args = ap.parse_args()
    logging.disable(logging.WARNING)

    import psycopg

    import memvault
    from memvault import memories as memories_module
    from memvault.compat.mem0 import Memory
    from memvault.embed.base import HashingEmbedder
    from memvault.store import postgres

    header(f"mem0 facade add on PostgreSQL: where the time goes ({args.adds:,} adds)")
    in_driver: list[float] = []
    real_execute = postgres.PostgresTx.execute

    def timed_execute(self: Any, sql: str, params: Any = None) -> Any:
        t = time.perf_counter()
        try:
            return real_execute(self, sql, params)
        finally:
            in_driver.append(time.perf_counter() - t)

    postgres.PostgresTx.execute = timed_execute  # type: ignore[method-assign]
    emb = HashingEmbedder(args.dim)
    times: dict[str, list[float]] = {k: [] for k in ("select1", "pg", "pg_driver", "sqlite")}
    server: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, psycopg.connect(args.pg, autocommit=True) as raw:
        pg = Memory(memvault.open(args.pg, embedder=emb))
        pg.reset()
        lite = Memory(memvault.open(f"sqlite:///{Path(tmp) / 'v.db'}", embedder=emb))
        for i in range(args.adds):
            text = f"note {i}: the user links trains with jazz (case {i * 7919 % 10_000})"
            t = time.perf_counter()
            raw.execute("SELECT 1").fetchone()
            times["select1"].append(time.perf_counter() - t)
            in_driver.clear()
            t = time.perf_counter()
            pg.add(text, user_id="bench", infer=False)
            times["pg"].append(time.perf_counter() - t)
            if i:  # the first add also creates the user
                assert len(in_driver) == 1, in_driver
                times["pg_driver"].append(in_driver[0])
            t = time.perf_counter()
            lite.add(text, user_id="bench", infer=False)
            times["sqlite"].append(time.perf_counter() - t)
            if i and i % 10 == 0:
                server.append(explain(raw, pg, memories_module, emb, f"explained {i}"))
        load = Path("/proc/loadavg").read_text().split()[:3]
        pg.vault.close()
        lite.vault.close()
    postgres.PostgresTx.execute = real_execute  # type: ignore[method-assign]
    print(f"load after: {' '.join(load)}\n")
    print("| part of a facade add | p50 ms | p99 ms |")
    print("| --- | --- | --- |")
    rows = [
        ("whole `add` on PostgreSQL 18", times["pg"]),
        ("… of which the one statement in the driver (send, execute, answer)", times["pg_driver"]),
        ("… of which the server's execution (`EXPLAIN ANALYZE`, every 10th)", server),
        ("bare `SELECT 1` round trip (loopback floor)", times["select1"]),
        ("whole `add` on SQLite (same Python work, in-process store)", times["sqlite"]),
    ]
    for label, xs in rows:
        print(f"| {label} | {pct(xs, 50) * 1e3:.2f} | {pct(xs, 99) * 1e3:.2f} |")


def explain(raw: Any, pg: Any, memories_module: Any, emb: Any, text: str) -> float:
    """The server's execution time (planning included) of `Memories._add_one`'s statement
    for a new memory of `pg`'s user, in a transaction rolled back after."""
    from memvault.ids import new_id
    from memvault.memories import MEMORY_COLUMNS, content_hash
    from memvault.search import vectors
    from memvault.store.postgres import PostgresTx, to_pyformat

    owner = pg._users["bench"]
    vector = emb.embed([text])[0]
    with raw.transaction(force_rollback=True):
        tx = PostgresTx(raw, True)
        now = pg.vault.clock()
        params: dict[str, Any] = {c: None for c in MEMORY_COLUMNS}
        params.update(
            id=new_id(), user_id=owner, kind="fact", content=text, confidence=1.0,
            importance=0.5, content_hash=content_hash(text), metadata=tx.json({}),
            created_at=now, updated_at=now, dedupe=True, h_id=new_id(),
            h_changes=tx.json({}), h_changed_at=now,
        )  # fmt: skip
        values = vectors.row_params(tx, new_id(), None, None, emb.name, vector, now, text)
        params.update({f"e_{k}": v for k, v in values.items()})
        sql = memories_module._add_one_sql(True, True, "vec" in values)
        plan = raw.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + to_pyformat(sql), params)
        found = plan.fetchone()
        doc = found[0] if isinstance(found, tuple) else next(iter(found.values()))
        doc = json.loads(doc) if isinstance(doc, str) else doc
        return float(doc[0]["Execution Time"] + doc[0]["Planning Time"]) / 1e3


if __name__ == "__main__":
    main()
