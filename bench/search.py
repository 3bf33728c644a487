"""memvault search benchmarks, side by side with their floors in one run.

    python bench/search.py                       # 10k and 100k, SQLite + PostgreSQL (if reachable)
    python bench/search.py --million             # adds the 1M rows (vectors, messages, hybrid p99)
    python bench/search.py --pg URL | --no-pg    # PostgreSQL (default $MEMVAULT_TEST_PG18_URL)

1. Vector top-10 over N x 384 float32 (clustered synthetic data, as in anchors-bench):
   numpy brute force (the floor), memvault exact search (index only, and the whole API call
   with hydration), sqlite-vec vec0 exact.
2. Full-text top-20 over N messages: one owner among 100 (1% of the rows) and one owner holding
   every row, for rare / medium / common words, a two-word AND and a phrase; beside them a
   naive FTS5 `ORDER BY rank LIMIT 20` over the whole index.
3. Hybrid (text + vector, RRF, access recorded) over N memories of one user, query vector given
   (embedding excluded), with the numpy scan of the same matrix timed in the same loop.
4. On PostgreSQL with pgvector: HNSW through `approximate=True` (build time, latency, recall@10
   against the exact top-10), for vectors and for hybrid.
Data lives in $BENCH_DATA (default /tmp/bench-data) and is deleted at the end.
"""

# ruff: noqa: B023  (timing closures are called within the iteration that defines them)

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from typing import Any

import numpy as np

import memvault
from memvault.ids import new_id

DATA = os.environ.get("BENCH_DATA", "/tmp/bench-data")
DIM = 384
MODEL = "bench-384"
now = time.perf_counter


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


def lat(xs: list[float]) -> dict[str, float]:
    return {"p50 ms": statistics.median(xs) * 1e3, "p95 ms": pct(xs, 95) * 1e3,
            "p99 ms": pct(xs, 99) * 1e3}  # fmt: skip


def table(rows: list[dict[str, Any]], title: str) -> None:
    print(f"\n## {title}")
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols]

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}" if abs(v) < 1 else f"{v:.2f}"
        return f"{v:,}" if isinstance(v, int) else str(v)

    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(fmt(r.get(c, "")) for c in cols) + " |")
    sys.stdout.flush()


def embeddings(n: int, seed: int = 0, clusters: int = 1000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = np.random.default_rng(12345).standard_normal((clusters, DIM)).astype(np.float32)
    x = centers[rng.integers(0, clusters, n)] + rng.standard_normal((n, DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


VOCAB = [f"{a}{b}{c}" for a in ("ka", "lo", "mi", "nu", "po", "ra", "si", "tu")
         for b in ("ba", "de", "fi", "go", "hu", "ja", "ke", "li", "mo", "ne")
         for c in ("r", "s", "t", "x", "l", "n", "m", "k", "p", "z")]  # fmt: skip


def sentences(n: int, seed: int) -> list[str]:
    """Zipf-distributed words, 6-14 per text (VOCAB[0] is in ~16% of texts)."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, len(VOCAB) + 1) ** 1.07
    weights /= weights.sum()
    lengths = rng.integers(6, 15, n)
    words = rng.choice(len(VOCAB), size=int(lengths.sum()), p=weights)
    out, i = [], 0
    for ln in lengths:
        out.append(" ".join(VOCAB[w] for w in words[i : i + ln]))
        i += ln
    return out


def has_vec(vault: memvault.Vault) -> bool:
    from memvault.search import vectors

    with vault.store.read() as tx:
        return vectors.has_pgvector(tx)


def load_memories(vault: memvault.Vault, user: str, texts: list[str], vecs: np.ndarray) -> None:
    """Memories with their vectors, 20k per transaction; on PostgreSQL with pgvector the
    `vec` column is filled too, as `vectors.put` does."""
    ts = vault.clock()
    batch = 20_000
    pgv = has_vec(vault)
    lit = "[" + ",".join(["%.8g"] * vecs.shape[1]) + "]"
    for start in range(0, len(texts), batch):
        with vault.store.write() as tx:
            t = tx.ts(ts)
            mem_rows, emb_rows = [], []
            for i in range(start, min(start + batch, len(texts))):
                mid = new_id()
                mem_rows.append({"id": mid, "u": user, "c": texts[i], "h": f"h{i}", "t": t})
                row = {"id": new_id(), "u": user, "m": mid, "v": vecs[i].tobytes(), "t": t}
                if pgv:
                    row["vec"] = lit % tuple(vecs[i].tolist())
                emb_rows.append(row)
            tx.executemany(
                "INSERT INTO memories (id, user_id, kind, content, content_hash, created_at, "
                "updated_at) VALUES (:id, :u, 'fact', :c, :h, :t, :t)", mem_rows)  # fmt: skip
            vcol, vval = (", vec", ", CAST(:vec AS vector)") if pgv else ("", "")
            tx.executemany(
                "INSERT INTO embeddings (id, user_id, memory_id, model, dim, vector, created_at"
                f"{vcol}) VALUES (:id, :u, :m, '{MODEL}', {DIM}, :v, :t{vval})",
                emb_rows,
            )
    analyze(vault, "memories", "embeddings")


def analyze(vault: memvault.Vault, *tables: str) -> None:
    """PostgreSQL: planner statistics, as autovacuum would gather shortly after a bulk load.
    Without them every `@@` is estimated at 0.5 % of rows and a common word takes the GIN
    bitmap path over all its matches (67 ms instead of 3 ms over 100k rows of one owner)."""
    if vault.engine == "postgresql":
        with vault.store.write() as tx:
            for name in tables:
                tx.execute(f"ANALYZE {name}")


def load_messages(vault: memvault.Vault, owners: list[str], texts: list[str]) -> None:
    sessions = {o: vault.sessions.create(o).id for o in owners}
    seq = dict.fromkeys(owners, 0)
    batch = 50_000
    for start in range(0, len(texts), batch):
        with vault.store.write() as tx:
            t = tx.ts(vault.clock())
            rows = []
            for i in range(start, min(start + batch, len(texts))):
                o = owners[i % len(owners)]
                seq[o] += 1
                rows.append({"id": new_id(), "s": sessions[o], "u": o, "q": seq[o], "c": texts[i],
                             "t": t})  # fmt: skip
            tx.executemany(
                "INSERT INTO messages (id, session_id, user_id, seq, role, content, created_at) "
                "VALUES (:id, :s, :u, :q, 'user', :c, :t)", rows)  # fmt: skip
        with vault.store.write() as tx:
            for o in owners:
                tx.execute("UPDATE sessions SET last_seq = :q, message_count = :q WHERE id = :s",
                           {"q": seq[o], "s": sessions[o]})  # fmt: skip
    analyze(vault, "messages")


def timed(fn: Any, reps: int) -> list[float]:
    fn()
    out = []
    for _ in range(reps):
        t = now()
        fn()
        out.append(now() - t)
    return out


def bench_vectors(url: str, label: str, sizes: list[int], vec0: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    queries = embeddings(100, seed=99)
    for n in sizes:
        x = embeddings(n)
        vault = memvault.open(url)
        u = vault.users.create(f"vec{n}").id
        t = now()
        load_memories(vault, u, [f"m{i}" for i in range(n)], x)
        build = now() - t
        nq = 100 if n <= 100_000 else 30
        files_build = build_ann_files(vault, u) if PG_FILES or not has_vec(vault) else None

        def floor(q: np.ndarray) -> Any:
            s = x @ q
            top = np.argpartition(-s, 10)[:10]
            return top[np.argsort(-s[top])]

        ts = []
        for q in queries[:nq]:
            t = now()
            floor(q)
            ts.append(now() - t)
        fl = statistics.median(ts)
        rows.append({"engine": label, "N": n, "method": "numpy x @ q (floor)", **lat(ts)})
        if ANN_ONLY and files_build is not None:
            rows += bench_ann_files(vault, u, x, queries, n, label, fl, files_build)
            vault.close()
            continue
        with vault.store.read() as tx:
            t = now()
            vault.search.index.search(tx, u, MODEL, "memory", queries[0], 10)
            first = now() - t
        ts = []
        for q in queries[:nq]:
            with vault.store.read() as tx:
                t = now()
                vault.search.index.search(tx, u, MODEL, "memory", q, 10)
                ts.append(now() - t)
        rows.append({"engine": label, "N": n, "method": "memvault exact (index)", **lat(ts),
                     "x floor": statistics.median(ts) / fl, "first load s": first,
                     "insert s": build})  # fmt: skip
        ts = []
        for q in queries[:nq]:
            t = now()
            vault.memories.search(u, "", mode="vector", query_vector=q, model=MODEL, k=10,
                                  track_access=False)  # fmt: skip
            ts.append(now() - t)
        rows.append({"engine": label, "N": n, "method": "memvault vector search (API)",
                     **lat(ts), "x floor": statistics.median(ts) / fl})  # fmt: skip
        if has_vec(vault):
            rows += bench_ann(vault, u, x, queries[:nq], n, label, fl)
        if files_build is not None:
            rows += bench_ann_files(vault, u, x, queries, n, label, fl, files_build)
        vault.close()
        if vec0:
            import sqlean
            import sqlite_vec

            path = os.path.join(DATA, f"vec0_{n}.db")
            if os.path.exists(path):
                os.remove(path)
            conn = sqlean.connect(path)
            conn.enable_load_extension(True)
            sqlite_vec.load(conn)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA cache_size=-3000000")
            conn.execute(
                f"CREATE VIRTUAL TABLE v USING vec0(e float[{DIM}] distance_metric=cosine)"
            )
            with conn:
                conn.executemany("INSERT INTO v(rowid, e) VALUES (?, ?)",
                                 ((i, x[i].tobytes()) for i in range(n)))  # fmt: skip
            knn = "SELECT rowid, distance FROM v WHERE e MATCH ? AND k = 10"
            m = {10_000: 50, 100_000: 20}.get(n, 5)
            ts = timed(lambda: conn.execute(knn, (queries[0].tobytes(),)).fetchall(), m)
            rows.append({"engine": "sqlite", "N": n, "method": "sqlite-vec vec0 (exact)",
                         **lat(ts), "x floor": statistics.median(ts) / fl})  # fmt: skip
            conn.close()
            os.remove(path)
    return rows


def build_ann(vault: memvault.Vault) -> float:
    """Build the HNSW index of MODEL (pgvector defaults m=16, ef_construction=64); seconds."""
    from memvault.search import vectors

    t = now()
    with vault.store.write() as tx:
        tx.execute("SET LOCAL maintenance_work_mem = '3GB'")
        vectors.ann_index(tx, MODEL, DIM)
    return now() - t


def bench_ann(vault: memvault.Vault, u: str, x: np.ndarray, queries: np.ndarray, n: int,
              label: str, fl: float) -> list[dict[str, Any]]:  # fmt: skip
    """pgvector HNSW through `memories.search(approximate=True)`: latency and recall@10
    against the exact top-10 (numpy), at two ef_search values."""
    from memvault.search import vectors

    build = build_ann(vault)
    truth = []
    for q in queries:
        s = x @ q
        truth.append(set(np.argpartition(-s, 10)[:10].tolist()))
    with vault.store.read() as tx:
        rows = tx.all("SELECT memory_id, content FROM memories m JOIN embeddings e "
                      "ON e.memory_id = m.id WHERE m.user_id = :u", {"u": u})  # fmt: skip
    pos = {str(r["memory_id"]): int(r["content"][1:]) for r in rows}  # content is f"m{i}"
    out = []
    for ef in EF_SEARCH:
        vault.search.ef_search = ef
        ts, rec = [], []
        for q, tr in zip(queries, truth, strict=True):
            t = now()
            hits = vault.memories.search(u, "", mode="vector", query_vector=q, model=MODEL, k=10,
                                         track_access=False, approximate=True)  # fmt: skip
            ts.append(now() - t)
            rec.append(len({pos[h.item.id] for h in hits} & tr) / 10)
        out.append({"engine": label, "N": n, "method": f"HNSW approximate (API), ef_search "
                    f"{max(ef, 30)}", **lat(ts), "x floor": statistics.median(ts) / fl,
                    "recall@10": float(np.mean(rec)), "build s": build})  # fmt: skip
    vault.search.ef_search = 100
    with vault.store.write() as tx:  # the next size loads without an index to maintain
        tx.execute(f"DROP INDEX IF EXISTS {vectors.ann_index_name(MODEL, DIM)}")
    return out


def build_ann_files(vault: memvault.Vault, user: str) -> float:
    """Build the approximate index files of MODEL (search/ann.py) for `user`; seconds.
    Built before the exact matrix is loaded, so that the two never sit in memory together."""
    t = now()
    vault.search.ann_build(MODEL, user_id=user)
    return now() - t


ANN_PROBES = [1, 2, 4, 8, 16]  # index-file lists scanned per query (--probes)
ANN_ONLY = False  # --ann-only: the vector section measures the floor and the index files only
PG_FILES = False  # --pg-files: with pgvector too, measure the index files instead of HNSW


def bench_ann_files(vault: memvault.Vault, u: str, x: np.ndarray, queries: np.ndarray, n: int,
                    label: str, fl: float, build: float) -> list[dict[str, Any]]:  # fmt: skip
    """Index files through `memories.search(approximate=True)`: latency and recall@10
    against the exact top-10 (numpy), over every query (100), per `probes` value."""
    truth = []
    for q in queries:
        s = x @ q
        truth.append(set(np.argpartition(-s, 10)[:10].tolist()))
    with vault.store.read() as tx:
        rows = tx.all("SELECT id, content FROM memories WHERE user_id = :u", {"u": u})
    pos = {str(r["id"]): int(r["content"][1:]) for r in rows}  # content is f"m{i}"
    out = []
    folder = vault.search.ann_folder()
    assert folder is not None
    for probes in ANN_PROBES:
        vault.search.ann_probes = probes
        ts = []
        for q in queries:
            with vault.store.read() as tx:
                t = now()
                vault.search.ann.search(folder, tx, u, MODEL, "memory", q, 10, probes=probes)
                ts.append(now() - t)
        out.append({"engine": label, "N": n, "method": f"index files (index), probes {probes}",
                    **lat(ts), "x floor": statistics.median(ts) / fl})  # fmt: skip
        ts, rec = [], []
        for q, tr in zip(queries, truth, strict=True):
            t = now()
            hits = vault.memories.search(u, "", mode="vector", query_vector=q, model=MODEL, k=10,
                                         track_access=False, approximate=True)  # fmt: skip
            ts.append(now() - t)
            rec.append(len({pos[h.item.id] for h in hits} & tr) / 10)
        out.append({"engine": label, "N": n, "method": f"index files (API), probes {probes}",
                    **lat(ts), "x floor": statistics.median(ts) / fl,
                    "recall@10": float(np.mean(rec)), "build s": build})  # fmt: skip
    vault.search.ann_probes = 8
    return out


EF_SEARCH = [40, 100]  # pgvector ef_search values measured (--ef)


QUERIES = {
    "rare word": VOCAB[700],
    "medium word": VOCAB[40],
    "common word": VOCAB[0],
    "two-word AND": f"{VOCAB[3]} {VOCAB[9]}",
    "phrase (common)": f'"{VOCAB[0]} {VOCAB[1]}"',
    "prefix (2 chars)": VOCAB[5][:2] + "*",
    "prefix (3 chars)": VOCAB[5][:3] + "*",
    "prefix (4 chars)": VOCAB[5][:4] + "*",
}


def timed_pairs(calls: dict[str, Any], reps: int) -> tuple[dict[str, list[float]],
                                                             dict[str, list[float]]]:  # fmt: skip
    """Wall and CPU (this thread's) seconds of each call, the calls interleaved per
    repetition so that both see the same load; one warm-up call each first."""
    wall: dict[str, list[float]] = {k: [] for k in calls}
    cpu: dict[str, list[float]] = {k: [] for k in calls}
    for fn in calls.values():
        fn()
    for _ in range(reps):
        for key, fn in calls.items():
            t, c = now(), time.thread_time()
            fn()
            cpu[key].append(time.thread_time() - c)
            wall[key].append(now() - t)
    return wall, cpu


def bm25_window(vault: memvault.Vault, owner: str, query: str) -> list[Any]:
    """The previous SQLite full-text query (before search/bm25.py): FTS5's bm25() over
    the same window, with the owner's scope in the MATCH."""
    from memvault.search import fulltext, syntax

    node = syntax.parse(query)
    assert node is not None
    fq = f'(scope : "{fulltext.owner_token(owner)}") AND ' + syntax.to_fts5(node, "{content}")
    sql = (
        "SELECT id, score FROM (SELECT t.id AS id, t.rowid AS rid, -bm25(messages_fts, 1.0, "
        "0.0) AS score FROM messages_fts CROSS JOIN messages t ON t.rowid = messages_fts.rowid "
        "WHERE messages_fts MATCH :q AND t.user_id = :o ORDER BY messages_fts.rowid DESC "
        "LIMIT 4000) ORDER BY score DESC, rid DESC LIMIT 20"
    )
    with vault.store.read() as tx:
        return tx.all(sql, {"q": fq, "o": owner})


def bench_fulltext(url: str, label: str, n: int, naive: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    texts = sentences(n, seed=1)
    for owners_n in (100, 1):
        vault = memvault.open(url)
        owners = [vault.users.create(f"fts{owners_n}_{i}").id for i in range(owners_n)]
        t = now()
        load_messages(vault, owners, texts)
        build = now() - t
        me = owners[0]
        for name, q in QUERIES.items():
            # The first query of a word also counts its documents (SQLite: for IDF, then
            # cached in vault.search.doc_counts); it is reported apart, as "first ms".
            t = now()
            hits = len(vault.messages.search(me, q, mode="text", k=20))
            first = (now() - t) * 1e3
            row: dict[str, Any] = {"engine": label, "messages": n,
                                   "owner holds": f"{n // owners_n:,}", "query": name}  # fmt: skip
            calls = {"memvault": lambda q=q: vault.messages.search(me, q, mode="text", k=20)}
            if vault.engine == "sqlite":
                calls["bm25() window"] = lambda q=q: bm25_window(vault, me, q)
                new = [h.item.id for h in vault.messages.search(me, q, mode="text", k=20)]
                row["same top-20"] = new == [str(r["id"]) for r in bm25_window(vault, me, q)]
            wall, cpu = timed_pairs(calls, 40)
            for key in calls:
                cpu_p50 = statistics.median(cpu[key]) * 1e3
                if key == "memvault":
                    rows.append({**row, **lat(wall[key]), "first ms": first,
                                 "cpu p50 ms": cpu_p50, "hits": hits, "load s": build})  # fmt: skip
                else:
                    rows.append({**row, "query": f"{name}, previous: {key}", **lat(wall[key]),
                                 "cpu p50 ms": cpu_p50})  # fmt: skip
        if naive and owners_n == 1 and vault.engine == "sqlite":
            conn = vault.store.raw_connection()  # type: ignore[attr-defined]
            for name in ("common word", "phrase (common)"):
                fq = 'content : ' + (QUERIES[name] if name.startswith("phrase")
                                     else f'"{QUERIES[name]}"')  # fmt: skip
                sql = (
                    "SELECT m.id FROM (SELECT rowid AS r FROM messages_fts WHERE messages_fts "
                    "MATCH ? ORDER BY rank LIMIT 20) f JOIN messages m ON m.rowid = f.r"
                )
                ts = timed(lambda fq=fq: conn.execute(sql, (fq,)).fetchall(), 10)
                rows.append({"engine": label, "messages": n, "owner holds": "(all, no owner)",
                             "query": f"naive bm25 top-20: {name}", **lat(ts)})  # fmt: skip
        vault.close()
        reset(url)
    return rows


def bench_hybrid(url: str, label: str, n: int) -> list[dict[str, Any]]:
    """Hybrid top-10 over n memories of one user (query vector given), with the numpy top-30
    scan of the same matrix (the vector leg's floor) timed in the same loop."""
    x = embeddings(n, seed=5)
    texts = sentences(n, seed=2)
    vault = memvault.open(url)
    u = vault.users.create(f"hyb{n}").id
    load_memories(vault, u, texts, x)
    qv = embeddings(60, seed=77)
    qt = [VOCAB[700], VOCAB[40], VOCAB[0], f"{VOCAB[3]} {VOCAB[9]}"] * 15
    variants: list[tuple[str, dict[str, Any]]] = [
        ("yes", {"track_access": True}), ("no", {"track_access": False})]  # fmt: skip
    if has_vec(vault) and n <= 100_000 and not PG_FILES:  # at 1M the HNSW build takes 8-17 min
        build = build_ann(vault)
        print(f"HNSW build over {n:,} x {DIM}: {build:.0f} s")
        variants.append(("yes, approximate (HNSW)", {"track_access": True, "approximate": True}))
    elif PG_FILES or not has_vec(vault):
        build = build_ann_files(vault, u)
        print(f"index files build over {n:,} x {DIM}: {build:.0f} s")
        variants.append(("yes, approximate (index files)",
                         {"track_access": True, "approximate": True}))  # fmt: skip
    rows = []
    for name, opts in variants:
        vault.memories.search(u, qt[0], query_vector=qv[0], model=MODEL, **opts)
        ts, fl = [], []
        for _rep in range(2 if n <= 100_000 else 1):
            for q, v in zip(qt, qv, strict=True):
                t = now()
                np.argpartition(-(x @ v), 30)[:30]
                fl.append(now() - t)
                t = now()
                vault.memories.search(u, q, query_vector=v, model=MODEL, k=10, **opts)
                ts.append(now() - t)
        rows.append({"engine": label, "memories": n, "access recorded": name, **lat(ts),
                     "numpy floor p50": statistics.median(fl) * 1e3,
                     "floor p95": pct(fl, 95) * 1e3})  # fmt: skip
    vault.close()
    reset(url)
    return rows


def reset(url: str) -> None:
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[1]
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        shutil.rmtree(path + ".ann", ignore_errors=True)  # approximate index files
    else:
        import psycopg

        from memvault.store.schema import metadata

        with psycopg.connect(url, autocommit=True) as conn:
            names = ", ".join(t.name for t in metadata.sorted_tables)
            conn.execute(f"TRUNCATE {names} CASCADE")
            for (ix,) in conn.execute("SELECT indexname FROM pg_indexes "
                                      "WHERE indexname LIKE 'ix_embeddings_hnsw_%'"):  # fmt: skip
                conn.execute(f"DROP INDEX {ix}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--million", action="store_true")
    ap.add_argument("--million-only", action="store_true", help="only the 1M rows (no 10k/100k)")
    ap.add_argument("--pg", default=os.environ.get("MEMVAULT_TEST_PG18_URL"))
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--only", default="vectors,fulltext,hybrid")
    ap.add_argument("--pg-db", default="mv_bench_search", help="database created on --pg")
    ap.add_argument("--ef", default="40,100", help="pgvector ef_search values to measure")
    ap.add_argument("--ann-only", action="store_true", help="vectors: floor and index files")
    ap.add_argument("--probes", default="1,2,4,8,16", help="index-file probes to measure")
    ap.add_argument(
        "--pg-files",
        action="store_true",
        help="PostgreSQL with pgvector: index files (needs $MEMVAULT_ANN_DIR), no HNSW",
    )
    args = ap.parse_args()
    EF_SEARCH[:] = [int(e) for e in args.ef.split(",")]
    ANN_PROBES[:] = [int(e) for e in args.probes.split(",")]
    global ANN_ONLY, PG_FILES
    ANN_ONLY = args.ann_only
    PG_FILES = args.pg_files
    os.makedirs(DATA, exist_ok=True)
    args.million = args.million or args.million_only
    sizes = ([] if args.million_only else [10_000, 100_000]) + ([1_000_000] if args.million else [])
    fts_n = 1_000_000 if args.million else 100_000
    la = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"# memvault search bench  {time.strftime('%Y-%m-%d %H:%M')}  cpus {os.cpu_count()}  "
          f"loadavg {la}  numpy {np.__version__}")  # fmt: skip
    targets = [] if args.no_sqlite else [("sqlite", f"sqlite:///{DATA}/search_bench.db")]
    if args.pg and not args.no_pg:
        from tests._servers import fresh_database

        targets.append(("postgresql", fresh_database(args.pg, args.pg_db)))
    only = set(args.only.split(","))
    for label, url in targets:
        memvault.open(url).close()  # create the schema
        reset(url)
        if "vectors" in only:
            table(bench_vectors(url, label, sizes, vec0=label == "sqlite"),
                  f"{label}: vector top-10, N x {DIM} float32, one query at a time")  # fmt: skip
            reset(url)
        if "fulltext" in only:
            table(bench_fulltext(url, label, fts_n, naive=True),
                  f"{label}: full-text top-20 over {fts_n:,} messages")  # fmt: skip
        if "hybrid" in only:
            for n in [n for n in sizes if n >= 100_000]:
                table(
                    bench_hybrid(url, label, n),
                    f"{label}: hybrid top-10 over {n:,} memories of one user (vector given)",
                )
    shutil.rmtree(os.path.join(DATA, "unused"), ignore_errors=True)


if __name__ == "__main__":
    main()
