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
   (embedding excluded).
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


def load_memories(vault: memvault.Vault, user: str, texts: list[str], vecs: np.ndarray) -> None:
    ts = vault.clock()
    batch = 20_000
    for start in range(0, len(texts), batch):
        with vault.store.write() as tx:
            t = tx.ts(ts)
            mem_rows, emb_rows = [], []
            for i in range(start, min(start + batch, len(texts))):
                mid = new_id()
                mem_rows.append({"id": mid, "u": user, "c": texts[i], "h": f"h{i}", "t": t})
                emb_rows.append(
                    {"id": new_id(), "u": user, "m": mid, "v": vecs[i].tobytes(), "t": t}
                )
            tx.executemany(
                "INSERT INTO memories (id, user_id, kind, content, content_hash, created_at, "
                "updated_at) VALUES (:id, :u, 'fact', :c, :h, :t, :t)", mem_rows)  # fmt: skip
            tx.executemany(
                "INSERT INTO embeddings (id, user_id, memory_id, model, dim, vector, created_at) "
                f"VALUES (:id, :u, :m, '{MODEL}', {DIM}, :v, :t)", emb_rows)  # fmt: skip


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


QUERIES = {
    "rare word": VOCAB[700],
    "medium word": VOCAB[40],
    "common word": VOCAB[0],
    "two-word AND": f"{VOCAB[3]} {VOCAB[9]}",
    "phrase (common)": f'"{VOCAB[0]} {VOCAB[1]}"',
    "prefix": VOCAB[5][:4] + "*",
}


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
            ts = timed(lambda q=q: vault.messages.search(me, q, mode="text", k=20), 40)
            hits = len(vault.messages.search(me, q, mode="text", k=20))
            rows.append({"engine": label, "messages": n, "owner holds": f"{n // owners_n:,}",
                         "query": name, **lat(ts), "hits": hits, "load s": build})  # fmt: skip
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
    x = embeddings(n, seed=5)
    texts = sentences(n, seed=2)
    vault = memvault.open(url)
    u = vault.users.create(f"hyb{n}").id
    load_memories(vault, u, texts, x)
    qv = embeddings(60, seed=77)
    qt = [VOCAB[700], VOCAB[40], VOCAB[0], f"{VOCAB[3]} {VOCAB[9]}"] * 15
    rows = []
    for access in (True, False):
        vault.memories.search(u, qt[0], query_vector=qv[0], model=MODEL, track_access=access)
        ts = []
        for q, v in zip(qt, qv, strict=True):
            t = now()
            vault.memories.search(u, q, query_vector=v, model=MODEL, k=10, track_access=access)
            ts.append(now() - t)
        rows.append({"engine": label, "memories": n, "access recorded": access, **lat(ts)})
    vault.close()
    reset(url)
    return rows


def reset(url: str) -> None:
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[1]
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    else:
        import psycopg

        from memvault.store.schema import metadata

        with psycopg.connect(url, autocommit=True) as conn:
            names = ", ".join(t.name for t in metadata.sorted_tables)
            conn.execute(f"TRUNCATE {names}, vector_clock, vector_tombstones CASCADE")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--million", action="store_true")
    ap.add_argument("--pg", default=os.environ.get("MEMVAULT_TEST_PG18_URL"))
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--only", default="vectors,fulltext,hybrid")
    args = ap.parse_args()
    os.makedirs(DATA, exist_ok=True)
    sizes = [10_000, 100_000] + ([1_000_000] if args.million else [])
    fts_n = 1_000_000 if args.million else 100_000
    la = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"# memvault search bench  {time.strftime('%Y-%m-%d %H:%M')}  cpus {os.cpu_count()}  "
          f"loadavg {la}  numpy {np.__version__}")  # fmt: skip
    targets = [] if args.no_sqlite else [("sqlite", f"sqlite:///{DATA}/search_bench.db")]
    if args.pg and not args.no_pg:
        from tests._servers import fresh_database

        targets.append(("postgresql", fresh_database(args.pg, "mv_bench_search")))
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
            for n in [100_000] + ([1_000_000] if args.million else []):
                table(
                    bench_hybrid(url, label, n),
                    f"{label}: hybrid top-10 over {n:,} memories of one user (vector given)",
                )
    shutil.rmtree(os.path.join(DATA, "unused"), ignore_errors=True)


if __name__ == "__main__":
    main()
