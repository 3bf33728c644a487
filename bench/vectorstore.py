"""LangChain vector stores at 100k documents: memvault against Chroma and InMemoryVectorStore.

    .venv/bin/python bench/vectorstore.py [--n 100000] [--queries 300] [--rounds 3] [--k 10]
                                          [--batch 1000] [--pg URL]
    (needs `pip install chromadb`: not a memvault dependency)

Every system gets the same precomputed vectors (384-d, clustered synthetic data as in
bench/search.py) and the same texts and metadata: the embedding cost is excluded from every
figure. memvault and InMemoryVectorStore are driven through their LangChain `VectorStore`
(`add_texts` in batches of `--batch`, with a LangChain `Embeddings` that looks the
precomputed vector up; `similarity_search_by_vector`); Chroma through its own client
(`chromadb.PersistentClient`, `collection.add` in the same batches, `collection.query`), which
spares it the LangChain wrapper. memvault writes to a SQLite file (or `--pg`); Chroma to its
persistent folder; both in the same temporary directory.

Measured, per round (the systems' order rotates each round, so none always runs first):
- add: documents per second over all batches (memvault: memory row, history row, full-text
  row and vector row per document, one transaction per batch);
- search: p50/p99 of `--queries` top-k queries (`--inmemory-queries` for InMemoryVectorStore,
  whose pure-Python scan takes seconds per query at 100k) after 5 warm-up queries, and
  recall@k against numpy's exact top-k; memvault exact (its in-memory matrix: int8 first
  pass then exact re-scoring, then again with the float32 first pass, and numpy's
  `x @ q` + argpartition on one BLAS thread in the same process: the floor), and memvault
  approximate after `vault.search.build_approximate()` (index files of search/ann.py on
  SQLite and PostgreSQL without pgvector, pgvector HNSW on PostgreSQL with it), its build
  time reported.
Medians over the rounds are printed last, with the ratios of the goals.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _common import empty_pg, pct  # noqa: E402
from langchain_core.embeddings import Embeddings  # noqa: E402
from langchain_core.vectorstores import InMemoryVectorStore  # noqa: E402

import memvault  # noqa: E402
from memvault.langchain import MemvaultVectorStore  # noqa: E402
from memvault.search.vectors import QUANTIZED_FROM  # noqa: E402
from memvault.threads import one_blas_thread  # noqa: E402

DIM = 384


def dataset(n: int, queries: int, clusters: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centers = np.random.default_rng(12345).standard_normal((clusters, DIM)).astype(np.float32)
    x = centers[rng.integers(0, clusters, n)] + rng.standard_normal((n, DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = centers[rng.integers(0, clusters, queries)]
    q = q + rng.standard_normal((queries, DIM)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return x, q


class Precomputed(Embeddings):
    """The precomputed vector of each text (a dict lookup: no embedding cost)."""

    def __init__(self, texts: list[str], vectors: np.ndarray) -> None:
        self.rows = {t: i for i, t in enumerate(texts)}
        self.vectors = vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = self.vectors[[self.rows[t] for t in texts]].tolist()
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def load() -> str:
    a, b, c = os.getloadavg()
    return f"{a:.1f}/{b:.1f}/{c:.1f}"


def searches(
    search: Callable[[list[float]], list[str]], queries: np.ndarray, truth: list[set[str]]
) -> dict[str, float]:
    qs = queries.tolist()
    for v in qs[:5]:
        search(v)
    times, hits = [], 0
    for v, want in zip(qs, truth, strict=True):
        t = time.perf_counter()
        got = search(v)
        times.append(time.perf_counter() - t)
        hits += len(set(got) & want)
    k = len(truth[0])
    return {
        "p50 ms": pct(times, 50) * 1e3,
        "p99 ms": pct(times, 99) * 1e3,
        "recall": hits / (k * len(truth)),
    }


def batches(n: int, size: int) -> list[range]:
    return [range(s, min(s + size, n)) for s in range(0, n, size)]


def run_memvault(
    folder: Path, pg: str | None, texts: list[str], x: np.ndarray, metas: list[dict[str, Any]],
    ids: list[str], queries: np.ndarray, truth: list[set[str]], k: int, size: int,
) -> dict[str, Any]:  # fmt: skip
    if pg:
        empty_pg(pg)
        url = pg
    else:
        url = f"sqlite:///{folder / 'memvault.db'}"
    vault = memvault.open(url, embed_memories=False)
    vault.search.ann_dir = folder / "ann"
    store = MemvaultVectorStore(vault, Precomputed(texts, x), collection="bench", model="bench-384")
    load_before = load()
    t = time.perf_counter()
    for part in batches(len(texts), size):
        store.add_texts(
            [texts[i] for i in part], [metas[i] for i in part], ids=[ids[i] for i in part]
        )
    add_s = time.perf_counter() - t
    out: dict[str, Any] = {"add docs/s": len(texts) / add_s, "load": load_before}
    exact = searches(
        lambda v: [str(d.id) for d in store.similarity_search_by_vector(v, k)], queries, truth
    )
    out.update({f"exact {key}": val for key, val in exact.items()})
    # The same exact search with a float32 first pass (the scan before the int8 one), and
    # the numpy floor of that scan (x @ q and the top k, one BLAS thread), in this process
    # at this load: what the exact path costs against memory bandwidth.
    vault.search.index.quantized_from = 10**12
    vault.search.index.clear()
    f32 = searches(
        lambda v: [str(d.id) for d in store.similarity_search_by_vector(v, k)], queries, truth
    )
    vault.search.index.quantized_from = QUANTIZED_FROM
    vault.search.index.clear()
    out["exact f32 p50 ms"] = f32["p50 ms"]
    out["numpy floor p50 ms"] = floor(x, ids, queries, truth, k)["p50 ms"]
    t = time.perf_counter()
    built = vault.search.build_approximate("bench-384", min_rows=1000)
    out["ann build s"] = time.perf_counter() - t
    out["ann"] = ",".join(sorted({str(next(iter(b))) for b in built})) or "none"
    approx_store = MemvaultVectorStore(
        vault, store.embedding, collection="bench", model="bench-384", approximate=True
    )
    approx = searches(
        lambda v: [str(d.id) for d in approx_store.similarity_search_by_vector(v, k)],
        queries,
        truth,
    )
    out.update({f"approx {key}": val for key, val in approx.items()})
    vault.close()
    return out


def floor(
    x: np.ndarray, ids: list[str], queries: np.ndarray, truth: list[set[str]], k: int
) -> dict[str, float]:
    """numpy's brute force: one float32 matrix-vector product and argpartition."""

    def search(v: list[float]) -> list[str]:
        with one_blas_thread():
            scores = x @ np.asarray(v, dtype=np.float32)
        top = np.argpartition(-scores, k)[:k]
        return [ids[i] for i in top[np.argsort(-scores[top])]]

    return searches(search, queries, truth)


def run_chroma(
    folder: Path, texts: list[str], x: np.ndarray, metas: list[dict[str, Any]], ids: list[str],
    queries: np.ndarray, truth: list[set[str]], k: int, size: int,
) -> dict[str, Any]:  # fmt: skip
    import chromadb

    client = chromadb.PersistentClient(path=str(folder / "chroma"))
    coll = client.create_collection("bench", configuration={"hnsw": {"space": "cosine"}})
    load_before = load()
    t = time.perf_counter()
    for part in batches(len(texts), size):
        coll.add(
            ids=[ids[i] for i in part],
            embeddings=x[part.start : part.stop],
            documents=[texts[i] for i in part],
            metadatas=[metas[i] for i in part],
        )
    add_s = time.perf_counter() - t
    out: dict[str, Any] = {"add docs/s": len(texts) / add_s, "load": load_before}

    def search(v: list[float]) -> list[str]:
        res = coll.query(query_embeddings=[v], n_results=k)
        return list(res["ids"][0])

    approx = searches(search, queries, truth)
    out.update({f"approx {key}": val for key, val in approx.items()})
    return out


def run_inmemory(
    texts: list[str], x: np.ndarray, metas: list[dict[str, Any]], ids: list[str],
    queries: np.ndarray, truth: list[set[str]], k: int, size: int,
) -> dict[str, Any]:  # fmt: skip
    store = InMemoryVectorStore(Precomputed(texts, x))
    load_before = load()
    t = time.perf_counter()
    for part in batches(len(texts), size):
        store.add_texts(
            [texts[i] for i in part], [metas[i] for i in part], ids=[ids[i] for i in part]
        )
    add_s = time.perf_counter() - t
    out: dict[str, Any] = {"add docs/s": len(texts) / add_s, "load": load_before}
    exact = searches(
        lambda v: [str(d.id) for d in store.similarity_search_by_vector(v, k)], queries, truth
    )
    out.update({f"exact {key}": val for key, val in exact.items()})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--pg", help="run memvault on this PostgreSQL database (its schema is reset)")
    ap.add_argument("--only", help="comma-separated subset of memvault,chroma,inmemory")
    ap.add_argument(
        "--inmemory-queries", type=int, default=20,
        help="queries for InMemoryVectorStore (a Python scan: seconds per query at 100k)",
    )  # fmt: skip
    args = ap.parse_args()

    x, queries = dataset(args.n, args.queries)
    texts = [f"document {i} about topic {i % 1000}" for i in range(args.n)]
    metas = [{"i": i, "source": f"s{i % 10}"} for i in range(args.n)]
    ids = [f"doc-{i}" for i in range(args.n)]
    top = np.argsort(-(queries @ x.T), axis=1)[:, : args.k]
    truth = [{ids[j] for j in row} for row in top]
    engine = "PostgreSQL" if args.pg else "SQLite"
    print(f"# vector stores, {args.n:,} documents x {DIM} float32, top-{args.k}, "
          f"{args.queries} queries, batches of {args.batch}; memvault on {engine}")  # fmt: skip
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"start load {load()}, {os.cpu_count()} cores, {now}")
    systems = ["memvault", "chroma", "inmemory"]
    if args.only:
        systems = [s for s in systems if s in args.only.split(",")]
    results: dict[str, list[dict[str, Any]]] = {s: [] for s in systems}
    for r in range(args.rounds):
        order = systems[r % len(systems) :] + systems[: r % len(systems)]
        for name in order:
            folder = Path(tempfile.mkdtemp(prefix=f"mv-vs-{name}-"))
            try:
                if name == "memvault":
                    res = run_memvault(folder, args.pg, texts, x, metas, ids, queries, truth,
                                       args.k, args.batch)  # fmt: skip
                elif name == "chroma":
                    res = run_chroma(folder, texts, x, metas, ids, queries, truth, args.k,
                                     args.batch)  # fmt: skip
                else:
                    m = args.inmemory_queries
                    res = run_inmemory(texts, x, metas, ids, queries[:m], truth[:m], args.k,
                                       args.batch)  # fmt: skip
            finally:
                shutil.rmtree(folder, ignore_errors=True)
                gc.collect()
            res["load after"] = load()
            results[name].append(res)
            cells = ", ".join(
                f"{key} {val:.4g}" if isinstance(val, float) else f"{key} {val}"
                for key, val in res.items()
            )
            print(f"round {r + 1} {name}: {cells}", flush=True)

    print("\n| system | add docs/s | exact p50 ms | exact p99 ms | approx p50 ms | approx p99 ms"
          " | recall@k exact / approx |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    med: dict[str, dict[str, float]] = {}
    for name, runs in results.items():
        keys = [key for key, val in runs[0].items() if isinstance(val, float)]
        med[name] = {key: statistics.median(run[key] for run in runs) for key in keys}
        m = med[name]

        def cell(key: str, m: dict[str, float] = m) -> str:
            return f"{m[key]:.3g}" if key in m else "–"

        print(f"| {name} | {m['add docs/s']:,.0f} | {cell('exact p50 ms')} | "
              f"{cell('exact p99 ms')} | {cell('approx p50 ms')} | {cell('approx p99 ms')} | "
              f"{cell('exact recall')} / {cell('approx recall')} |")  # fmt: skip
    if "memvault" in med:
        mv = med["memvault"]
        print(f"memvault exact: int8 first pass {mv['exact p50 ms']:.3g} ms, float32 first "
              f"pass {mv['exact f32 p50 ms']:.3g} ms, numpy floor {mv['numpy floor p50 ms']:.3g}"
              " ms (p50, medians)")  # fmt: skip
    if "memvault" in med and "chroma" in med:
        mv, ch = med["memvault"], med["chroma"]
        print(f"\nmedians of {args.rounds} rounds. add: memvault / Chroma = "
              f"{mv['add docs/s'] / ch['add docs/s']:.2f}x (goal >= 2). "
              "search p50: memvault exact / Chroma = "
              f"{mv['exact p50 ms'] / ch['approx p50 ms']:.2f}"
              f" (goal <= 2), memvault approximate / Chroma = "
              f"{mv['approx p50 ms'] / ch['approx p50 ms']:.2f} (goal < 1); "
              f"ann build {mv['ann build s']:.1f} s")  # fmt: skip
    print(f"end load {load()}")


if __name__ == "__main__":
    main()
