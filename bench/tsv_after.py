"""Is a tsvector cheaper computed during the COPY (memvault's stored generated `fts` column)
or added after it, for an empty destination (ALTER TABLE … ADD COLUMN … GENERATED, as a
pgloader user would)? Both sides build the same GIN (user_id, fts) index afterwards.

    source /tmp/pgenv.sh   # or: eval "$(python3 scripts/pgservers.py env)"
    .venv/bin/python bench/tsv_after.py [--rows 200000] [--server pg18] [--rounds 3]

The rows are messages like bench/transfer.py's (unicode, emoji, 5-30 words), sent with COPY
from this process into a fresh database whose schema memvault made (so `memvault_tsv`, with
unaccent, is the real one). Sides alternate; medians are printed.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests._servers import drop_database, fresh_database, postgres_urls  # noqa: E402

from memvault.store.engine import open_store, parse_url  # noqa: E402
from memvault.store.migrator import ensure  # noqa: E402

WORDS = ["the", "and", "you", "memory", "hello", "merci", "café", "bonjour", "today", "plan",
         "tea", "lyon", "trip", "déjà", "vu", "naïve", "東京", "привет", "🎉", "😀", "☕",
         "projet", "réunion", "demain", "python", "sqlite"]  # fmt: skip

GENERATED = "tsvector GENERATED ALWAYS AS (memvault_tsv(content)) STORED"


def rows(n: int) -> list[tuple[str, str, str]]:
    rng = random.Random(42)
    users = [str(uuid.uuid4()) for _ in range(100)]
    return [(str(uuid.uuid4()), users[i % 100], " ".join(rng.choices(WORDS, k=rng.randint(5, 30))))
            for i in range(n)]  # fmt: skip


def copy(conn: psycopg.Connection, table: str, data: list[tuple[str, str, str]]) -> None:
    with conn.cursor().copy(f"COPY {table} (id, user_id, content) FROM STDIN") as cp:
        for row in data:
            cp.write_row(row)


def side(url: str, data: list[tuple[str, str, str]], after: bool) -> tuple[float, float]:
    """(seconds for the COPY, seconds for the tsvector and index after it)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS t")
        fts = "" if after else f", fts {GENERATED}"
        conn.execute(f"CREATE TABLE t (id uuid PRIMARY KEY, user_id uuid NOT NULL, "
                     f"content text NOT NULL{fts})")  # type: ignore[arg-type]  # fmt: skip
        conn.execute("SET maintenance_work_mem = '256MB'")
        start = time.perf_counter()
        copy(conn, "t", data)
        copied = time.perf_counter()
        if after:
            conn.execute(f"ALTER TABLE t ADD COLUMN fts {GENERATED}")  # type: ignore[arg-type]
        conn.execute("CREATE INDEX ix_t_fts ON t USING gin (user_id, fts)")
        done = time.perf_counter()
        conn.execute("DROP TABLE t")
    return copied - start, done - copied


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--server", default="pg18")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    base = postgres_urls()[args.server]
    name = f"mv_bench_tsv_{os.getpid()}"
    url = fresh_database(base, name)
    try:
        store = open_store(parse_url(url))
        ensure(store)
        store.close()
        data = rows(args.rows)
        print(f"{args.rows:,} messages, {args.server}, load {os.getloadavg()[0]:.2f}")
        got: dict[bool, list[float]] = {False: [], True: []}
        for rnd in range(args.rounds):
            for after in (False, True) if rnd % 2 == 0 else (True, False):
                c, a = side(url, data, after)
                got[after].append(c + a)
                label = "tsvector added after the COPY" if after else "tsvector during the COPY"
                print(f"round {rnd + 1}  {label:<32} COPY {c:6.2f} s + after {a:6.2f} s "
                      f"= {c + a:6.2f} s  (load {os.getloadavg()[0]:.2f})")  # fmt: skip
        during, after_ = statistics.median(got[False]), statistics.median(got[True])
        print(f"medians: during {during:.2f} s, after {after_:.2f} s "
              f"(after ÷ during {after_ / during:.2f})")  # fmt: skip
    finally:
        drop_database(base, name)


if __name__ == "__main__":
    main()
