"""Transfer benchmark: a 1M-row memvault SQLite store → PostgreSQL, memvault vs pgloader.

    eval "$(python3 scripts/pgservers.py env)"
    .venv/bin/python bench/transfer.py [--rows 1000000] [--server pg18] [--rounds 3]

Builds (once, cached under $TMPDIR/memvault_bench/) a realistic store: users, sessions,
~80% messages (unicode, emoji), memories, 384-dim embeddings, emotion events, actions and
routing scores. Then, each into a fresh database of the same server:

* `memvault transfer` (COPY, verification of counts + content checksums included);
* `pgloader` (Debian package) on the same file and the same tables, its defaults, then the
  same work memvault does for search: the tsvector column and its GIN index on messages and
  memories (`PEER_FTS`); plain pgloader is kept as a second line.

Both are timed wall-clock end to end; rows lost are counted per table afterwards. With
`--rounds N` the sides alternate who goes first and the medians are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg
import sqlean

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests._servers import drop_database, fresh_database, postgres_urls  # noqa: E402

from memvault.ids import new_id  # noqa: E402
from memvault.migrate.transfer import table_specs, transfer  # noqa: E402
from memvault.store import migrator  # noqa: E402
from memvault.store.engine import open_store, parse_url  # noqa: E402
from memvault.store.migrator import ensure  # noqa: E402

WORDS = [
    *[
        "the",
        "and",
        "you",
        "memory",
        "hello",
        "merci",
        "café",
        "bonjour",
        "today",
        "plan",
        "tea",
        "lyon",
        "trip",
    ],
    *[
        "déjà",
        "vu",
        "naïve",
        "東京",
        "привет",
        "🎉",
        "😀",
        "☕",
        "projet",
        "réunion",
        "demain",
        "python",
        "sqlite",
    ],
]
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def ts(sec: float) -> str:
    return (T0 + timedelta(seconds=sec)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def text(rng: random.Random, lo: int, hi: int) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(lo, hi)))


def build(path: Path, rows: int) -> dict[str, int]:
    """Write a memvault store of about `rows` rows at `path` (schema through the migrator)."""
    store = open_store(parse_url(f"sqlite:///{path}"))
    ensure(store)
    store.close()
    rng = random.Random(42)
    n_users = max(10, rows // 1000)
    n_sessions = max(20, rows // 50)
    n_memories = rows // 10
    n_embeddings = rows // 100
    n_emotions = rows // 50
    n_actions = rows // 25
    n_routing = rows // 200
    n_messages = rows - (n_users + n_sessions + n_memories + n_embeddings + n_emotions
                         + n_actions + n_routing)  # fmt: skip
    conn = sqlean.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    users = [new_id() for _ in range(n_users)]
    conn.executemany(
        "INSERT INTO users (id, handle, display_name, profile, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(u, f"user{i}", f"Utilisateur {i} 😀", json.dumps({"lang": "fr", "n": i}),
          ts(i), ts(i + 1)) for i, u in enumerate(users)],
    )  # fmt: skip
    sessions = [new_id() for _ in range(n_sessions)]
    per_session = [n_messages // n_sessions] * n_sessions
    per_session[0] += n_messages - sum(per_session)
    conn.executemany(
        "INSERT INTO sessions (id, user_id, kind, title, status, metadata, message_count, "
        "last_seq, started_at, updated_at) VALUES (?, ?, 'chat', ?, 'active', ?, ?, ?, ?, ?)",
        [(s, users[i % n_users], text(rng, 2, 5), '{"source":"bench"}', per_session[i],
          per_session[i], ts(1000 + i), ts(2000 + i)) for i, s in enumerate(sessions)],
    )  # fmt: skip
    roles = ("user", "assistant")
    batch: list[tuple[object, ...]] = []
    msg_ids: list[str] = []
    for i, s in enumerate(sessions):
        owner = users[i % n_users]
        for seq in range(1, per_session[i] + 1):
            mid = new_id()
            if seq == 1:
                msg_ids.append(mid)
            batch.append((mid, s, owner, seq, roles[seq % 2], text(rng, 5, 30),
                          ts(5000 + i * 100 + seq + rng.random())))  # fmt: skip
            if len(batch) >= 50_000:
                conn.executemany(
                    "INSERT INTO messages (id, session_id, user_id, seq, role, content, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", batch)  # fmt: skip
                batch = []
    if batch:
        conn.executemany(
            "INSERT INTO messages (id, session_id, user_id, seq, role, content, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", batch)  # fmt: skip
    mems = [new_id() for _ in range(n_memories)]
    conn.executemany(
        "INSERT INTO memories (id, user_id, kind, content, context, confidence, importance, "
        "content_hash, metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(m, users[i % n_users], ("fact", "preference", "event")[i % 3], f"{text(rng, 4, 20)} #{i}",
          text(rng, 0, 6) or None, rng.random(), rng.random(), f"{i:064x}",
          json.dumps({"i": i, "tags": ["a", "b"]}), ts(9000 + i), ts(9000 + i))
         for i, m in enumerate(mems)],
    )  # fmt: skip
    emb = []
    for i in range(n_embeddings):
        v = np.asarray(rng.choices(range(-1000, 1000), k=384), dtype="<f4") / 1000.0
        emb.append((new_id(), users[i % n_users], mems[i], "all-MiniLM-L6-v2", 384,
                    v.astype("<f4").tobytes(), ts(20000 + i)))  # fmt: skip
    conn.executemany(
        "INSERT INTO embeddings (id, user_id, memory_id, model, dim, vector, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)", emb)  # fmt: skip
    conn.executemany(
        "INSERT INTO emotion_events (id, user_id, emotion, intensity, trigger, metadata, "
        "occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(new_id(), users[i % n_users], ("joy", "sorrow", "fun")[i % 3], rng.random(),
          text(rng, 2, 8), "{}", ts(30000 + i)) for i in range(n_emotions)],
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO actions (id, user_id, session_id, tool_name, tool_type, input, file_paths, "
        "exit_code, duration_ms, metadata, created_at) VALUES (?, ?, ?, ?, 'builtin', ?, ?, ?, "
        "?, '{}', ?)",
        [(new_id(), users[i % n_users], sessions[i % n_sessions], ("Read", "Edit", "Bash")[i % 3],
          text(rng, 1, 6), json.dumps([f"/src/f{i}.py"]), i % 2, rng.random() * 1e4,
          ts(40000 + i)) for i in range(n_actions)],
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO routing_scores (id, user_id, keyword, tool_name, weight, usage_count, "
        "success_count) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(new_id(), users[i % n_users], f"kw{i}", "Read", rng.random(), 10, 5)
         for i in range(n_routing)],
    )  # fmt: skip
    conn.execute("COMMIT")
    counts = {
        s.name: int(conn.execute(f"SELECT count(*) FROM {s.name}").fetchone()[0])
        for s in table_specs()
    }
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {k: v for k, v in counts.items() if v}


def pg_counts(url: str, tables: list[str]) -> dict[str, int]:
    out = {}
    with psycopg.connect(url) as conn:
        for t in tables:
            try:
                out[t] = int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0])  # type: ignore[index]
            except psycopg.Error:
                conn.rollback()
                out[t] = 0
    return out


def run_pgloader(db: Path, url: str, tables: list[str]) -> tuple[float, int, str]:
    names = ", ".join(f"'{t}'" for t in tables)
    with tempfile.NamedTemporaryFile("w", suffix=".load", delete=False) as fh:
        fh.write(f"LOAD DATABASE FROM sqlite://{db} INTO {url}\n"
                 f" INCLUDING ONLY TABLE NAMES LIKE {names};\n")  # fmt: skip
        cmd = fh.name
    t = time.perf_counter()
    proc = subprocess.run(["pgloader", cmd], capture_output=True, text=True)
    return time.perf_counter() - t, proc.returncode, (proc.stdout + proc.stderr)[-3000:]


# What a pgloader user adds to get memvault's full-text search on the loaded tables: the same
# tsvector ('simple', accents folded by unaccent) as a stored generated column, and its GIN
# index on (user_id, fts) (btree_gin), as memvault's schema has on messages and memories.
PEER_FTS = (
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    "CREATE OR REPLACE FUNCTION peer_tsv(text) RETURNS tsvector LANGUAGE sql IMMUTABLE "
    "PARALLEL SAFE AS $$ SELECT to_tsvector('simple'::regconfig, "
    "public.unaccent('public.unaccent'::regdictionary, coalesce($1, ''))) $$",
    "ALTER TABLE messages ADD COLUMN fts tsvector GENERATED ALWAYS AS (peer_tsv(content)) STORED",
    "CREATE INDEX ix_peer_messages_fts ON messages USING gin (user_id, fts)",
    "ALTER TABLE memories ADD COLUMN fts tsvector GENERATED ALWAYS AS "
    "(setweight(peer_tsv(content), 'A') || setweight(peer_tsv(context), 'B')) STORED",
    "CREATE INDEX ix_peer_memories_fts ON memories USING gin (user_id, fts)",
)


def peer_fts(url: str) -> float:
    """Seconds to add the tsvector columns and GIN indexes after pgloader."""
    t = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")
        for sql in PEER_FTS:
            conn.execute(sql)  # type: ignore[arg-type]
    return time.perf_counter() - t


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--server", default="pg18")
    ap.add_argument("--skip-pgloader", action="store_true")
    ap.add_argument("--batch", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=1, help="side-by-side rounds (alternating)")
    args = ap.parse_args()
    cache = Path(tempfile.gettempdir()) / "memvault_bench"
    cache.mkdir(exist_ok=True)
    # Keyed by schema revision: a store built by an older memvault is not transferable.
    db = cache / f"transfer_{args.rows}_r{migrator.head()}.db"
    if not db.exists():
        t = time.perf_counter()
        tmp = db.with_suffix(".partial.db")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)
        build(tmp, args.rows)
        shutil.move(tmp, db)
        print(f"built {db} in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    conn = sqlean.connect(str(db))
    counts = {s.name: int(conn.execute(f"SELECT count(*) FROM {s.name}").fetchone()[0])
              for s in table_specs()}  # fmt: skip
    conn.close()
    counts = {k: v for k, v in counts.items() if v}
    total = sum(counts.values())
    base = postgres_urls()[args.server]
    peer = not args.skip_pgloader and shutil.which("pgloader") is not None
    label = "pgloader"
    if peer:
        version = subprocess.run(["pgloader", "--version"], capture_output=True, text=True)
        label = " ".join(version.stdout.split()[:3])
    print(
        f"## SQLite → PostgreSQL ({args.server}), {total:,} rows, {db.stat().st_size / 1e6:.0f} MB"
    )
    print(f"{os.cpu_count()} cores · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · "
          f"load before {load()}\n")  # fmt: skip
    print("| round | tool | seconds | rows/s | rows lost | exit | notes |")
    print("|---:|---|---:|---:|---:|---:|---|")
    times: dict[str, list[float]] = {}

    def memvault_side(rnd: int) -> None:
        name = f"mv_bench_transfer_{os.getpid()}"
        url = fresh_database(base, name)
        try:
            t = time.perf_counter()
            result = transfer(f"sqlite:///{db}", url, batch=args.batch)
            secs = time.perf_counter() - t
            got = pg_counts(url, list(counts))
            lost = sum(max(0, counts[k] - got.get(k, 0)) for k in counts)
            times.setdefault("memvault", []).append(secs)
            print(f"| {rnd} | memvault transfer (verified) | {secs:.1f} | {total / secs:,.0f} | "
                  f"{lost} | 0 | copy {result.copy_seconds:.1f} s + verify "
                  f"{result.verify_seconds:.1f} s, {result.indexes_rebuilt} indexes rebuilt, "
                  f"checksums ok={result.ok}, load {load()} |")  # fmt: skip
        finally:
            drop_database(base, name)

    def peer_side(rnd: int) -> None:
        name = f"mv_bench_pgloader_{os.getpid()}"
        url = fresh_database(base, name)
        try:
            secs, code, log = run_pgloader(db, url, list(counts))
            got = pg_counts(url, list(counts))
            lost = sum(max(0, counts[k] - got.get(k, 0)) for k in counts)
            fts = peer_fts(url) if {"messages", "memories"} <= {k for k, v in got.items() if v} \
                else float("nan")  # fmt: skip
            times.setdefault("pgloader", []).append(secs)
            times.setdefault("same", []).append(secs + fts)
            print(f"| {rnd} | {label} | {secs:.1f} | {total / secs:,.0f} | {lost} | {code} | "
                  f"no verification, no full-text column |")  # fmt: skip
            print(f"| {rnd} | {label} + tsvector/GIN (same work) | {secs + fts:.1f} | "
                  f"{total / (secs + fts):,.0f} | {lost} | {code} | pgloader {secs:.1f} s + "
                  f"tsvector columns and GIN on messages, memories {fts:.1f} s, "
                  f"load {load()} |")  # fmt: skip
            if code != 0 or lost:
                print("\n```\n" + log + "\n```\n")
        finally:
            drop_database(base, name)

    for rnd in range(1, args.rounds + 1):
        sides = (memvault_side, peer_side) if rnd % 2 else (peer_side, memvault_side)
        for side in sides:
            if side is peer_side and not peer:
                continue
            side(rnd)
    print(f"\nload after: {load()}")
    if not times.get("memvault"):
        return
    mv = statistics.median(times["memvault"])
    print(f"\nmedians of {args.rounds} round(s): memvault {mv:.1f} s", end="")
    if peer:
        same, plain = statistics.median(times["same"]), statistics.median(times["pgloader"])
        print(f"; {label} + tsvector/GIN {same:.1f} s (**{same / mv:.2f}x** the same work); "
              f"plain {label} {plain:.1f} s ({plain / mv:.2f}x)")  # fmt: skip
    else:
        print()


if __name__ == "__main__":
    main()
