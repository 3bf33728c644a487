"""Approximate search on real embeddings: recall@10 against exact search and latency of each
approximate path, on the set made by bench/realset.py.

    .venv/bin/python bench/ann_real.py [--partial] [--million] [--pg URL] [--probes 8,16,32]

1. Index files (search/ann.py), scanned in memory exactly as `FileIndex` does (one BLAS
   thread): the former layout (√N lists, k-means on the raw rows) and the current one (lists
   clustered around the mean, `ann.lists_for(N)` lists), for several probe counts, beside the
   exact numpy scan (the floor every approximate path must beat).
2. `--million`: the same at 1M rows, synthetic rows made from the real ones (each a real row
   plus Gaussian noise, renormalised: the same anisotropy), with the same held-out queries;
   exact top-10 by brute force.
3. `--pg URL` (PostgreSQL 18 with pgvector): the real rows in a table with an HNSW index
   (vector_cosine_ops), for (m, ef_construction) pairs and several ef_search; build time,
   recall@10, p50 latency of the SQL query.

`--partial` uses the chunks embedded so far when the set is not complete yet.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import header
from realset import SET, load

from memvault.search import ann
from memvault.threads import one_blas_thread

F32 = npt.NDArray[np.float32]


def partial() -> tuple[F32, F32]:
    parts = sorted((SET / "parts-corpus").glob("*[0-9].npy"))
    cv = np.concatenate([np.load(p) for p in parts]).astype(np.float32)
    qv = np.concatenate(
        [np.load(p) for p in sorted((SET / "parts-queries").glob("*[0-9].npy"))]
    ).astype(np.float32)
    return cv, qv


def exact_top(x: F32, q: F32, k: int = 10) -> npt.NDArray[np.int64]:
    out = np.empty((q.shape[0], k), dtype=np.int64)
    for i in range(0, q.shape[0], 50):
        s = q[i : i + 50] @ x.T
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        order = np.take_along_axis(s, top, 1).argsort(axis=1)[:, ::-1]
        out[i : i + 50] = np.take_along_axis(top, order, 1)
    return out


def built_from(x: F32, lists: int, centred: bool) -> ann.Built:
    if centred:
        order, cent, bounds, _ = ann.organise(x, lists)
    else:  # the former build: k-means on the raw rows
        cent = ann.kmeans(x, lists)
        assign = ann._assign(x, cent)
        order = np.argsort(assign, kind="stable")
        bounds = np.searchsorted(assign[order], np.arange(cent.shape[0] + 1)).astype(np.int64)
    data = np.ascontiguousarray(x[order])
    ids = np.array([str(i).encode() for i in order], dtype="S")
    return ann.Built({"seq": 0}, data, ids, cent, bounds)


def measure(b: ann.Built, q: F32, truth: npt.NDArray[np.int64], probes: int) -> dict[str, Any]:
    lat: list[float] = []
    hits = 0
    with one_blas_thread():
        for i in range(q.shape[0]):
            t0 = time.perf_counter()
            pos, _, _ = b.candidates(q[i], 10, probes)
            lat.append(time.perf_counter() - t0)
            got = {int(b.ids[p]) for p in pos[:10]}
            hits += len(got & set(truth[i].tolist()))
    return {"recall@10": hits / truth.size, "p50 ms": statistics.median(lat) * 1e3,
            "p95 ms": sorted(lat)[int(0.95 * (len(lat) - 1))] * 1e3}  # fmt: skip


def exact_latency(x: F32, q: F32) -> float:
    lat = []
    with one_blas_thread():
        for i in range(min(100, q.shape[0])):
            t0 = time.perf_counter()
            s = x @ q[i]
            np.argpartition(-s, 9)[:10]
            lat.append(time.perf_counter() - t0)
    return statistics.median(lat) * 1e3


def files(name: str, x: F32, q: F32, probes: list[int], layouts: list[tuple[str, int, bool]]
          ) -> None:  # fmt: skip
    t0 = time.perf_counter()
    truth = exact_top(x, q)
    print(f"\n### {name}: {x.shape[0]:,} rows, {q.shape[0]} queries "
          f"(exact top-10 in {time.perf_counter() - t0:.1f} s); exact numpy scan p50 "
          f"{exact_latency(x, q):.2f} ms, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print("| layout | lists | build s | probes | recall@10 | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, lists, centred in layouts:
        t0 = time.perf_counter()
        b = built_from(x, lists, centred)
        took = time.perf_counter() - t0
        for p in probes:
            m = measure(b, q, truth, p)
            print(f"| {label} | {lists:,} | {took:.1f} | {p} | {m['recall@10']:.3f} | "
                  f"{m['p50 ms']:.2f} | {m['p95 ms']:.2f} |", flush=True)  # fmt: skip


def pgvector(url: str, x: F32, q: F32, pairs: list[tuple[int, int]], efs: list[int]) -> None:
    import psycopg

    truth = exact_top(x, q)
    print(f"\n### pgvector HNSW on PostgreSQL 18: {x.shape[0]:,} rows, {q.shape[0]} queries, "
          f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print("| m | ef_construction | build s | ef_search | recall@10 | p50 ms |")
    print("|---:|---:|---:|---:|---:|---:|")
    lit = [("[" + ",".join(f"{v:.7g}" for v in row) + "]") for row in x]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute("DROP TABLE IF EXISTS bench_ann_real")
        conn.execute("CREATE TABLE bench_ann_real (id int PRIMARY KEY, v vector(384))")
        with conn.cursor().copy("COPY bench_ann_real (id, v) FROM STDIN") as cp:
            for i, s in enumerate(lit):
                cp.write_row((i, s))
        conn.execute("SET maintenance_work_mem = '1GB'")
        for m, efc in pairs:
            conn.execute("DROP INDEX IF EXISTS bench_ann_real_hnsw")
            t0 = time.perf_counter()
            conn.execute(
                f"CREATE INDEX bench_ann_real_hnsw ON bench_ann_real USING hnsw "
                f"(v vector_cosine_ops) WITH (m = {m}, ef_construction = {efc})"
            )
            took = time.perf_counter() - t0
            for ef in efs:
                conn.execute(f"SET hnsw.ef_search = {ef}")
                lat, hits = [], 0
                for i in range(q.shape[0]):
                    ql = "[" + ",".join(f"{v:.7g}" for v in q[i]) + "]"
                    t0 = time.perf_counter()
                    rows = conn.execute(
                        "SELECT id FROM bench_ann_real ORDER BY v <=> %s::vector LIMIT 10", (ql,)
                    ).fetchall()
                    lat.append(time.perf_counter() - t0)
                    hits += len({r[0] for r in rows} & set(truth[i].tolist()))
                print(f"| {m} | {efc} | {took:.0f} | {ef} | {hits / truth.size:.3f} | "
                      f"{statistics.median(lat) * 1e3:.2f} |", flush=True)  # fmt: skip
        conn.execute("DROP TABLE bench_ann_real")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--partial", action="store_true", help="use the chunks embedded so far")
    ap.add_argument("--million", action="store_true")
    ap.add_argument("--pg", default=None, help="PostgreSQL 18 URL with pgvector")
    ap.add_argument("--probes", default="8,16,32,64")
    ap.add_argument("--skip-files", action="store_true")
    ap.add_argument("--min-scan", type=int, default=None, help="rows scanned at least")
    args = ap.parse_args()
    if args.min_scan is not None:
        ann.MIN_SCAN = args.min_scan
    if args.partial:
        x, q = partial()
    else:
        _, x, _, q = load()
    probes = [int(p) for p in args.probes.split(",")]
    header(f"Approximate search on real embeddings ({x.shape[0]:,} rows)")
    sample = x[np.random.default_rng(0).choice(x.shape[0], min(2000, x.shape[0]), replace=False)]
    sims = sample @ sample.T
    mean = (sims.sum() - len(sample)) / (len(sample) * (len(sample) - 1))
    print(f"mean pairwise cosine {mean:.3f}; rows scanned at least {ann.MIN_SCAN:,}")
    n = x.shape[0]
    old = max(1, min(4096, round(n**0.5)))
    if not args.skip_files:
        files("Index files, real rows", x, q, probes, [
            ("before: raw k-means, √N lists", old, False),
            ("centred, √N lists", old, True),
            ("after: centred, lists_for(N)", ann.lists_for(n), True),
        ])  # fmt: skip
    if args.million:
        rng = np.random.default_rng(1)
        big = np.empty((1_000_000, x.shape[1]), dtype=np.float32)
        for i in range(0, big.shape[0], 50_000):
            src = x[rng.integers(0, n, 50_000)]
            noisy = src + rng.standard_normal(src.shape).astype(np.float32) * 0.02
            big[i : i + 50_000] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
        files("Index files, 1M rows made from the real ones", big, q, probes, [
            ("before: raw k-means, √N lists", 1000, False),
            ("after: centred, lists_for(N)", ann.lists_for(1_000_000), True),
        ])  # fmt: skip
        del big
    if args.pg:
        pgvector(args.pg, x, q, [(16, 64), (16, 200), (32, 200)], [40, 100, 200, 400])


if __name__ == "__main__":
    main()
