"""Core benchmarks (issue 2), side by side in one run so that the ratios hold on a noisy box.

1. Append one message: memvault (SQLite, and PostgreSQL with --pg URL) against the JSON-file
   way the legacy projects used (load the whole file, append, rewrite) at 1k/10k/100k
   messages, LangChain's SQLChatMessageHistory (defaults, and WAL), and raw sqlite3 with an
   FTS5 trigger at the same durability (WAL, synchronous=NORMAL).
2. Read the last 50 messages of one session in a store of --big messages (default 1M).

    .venv/bin/python bench/core.py [--big 1000000] [--pg postgresql://…] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
import warnings
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).parent))
from _common import chat, each, header, lat, pct, table

import memvault

RAW_SCHEMA = """
CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation_id TEXT NOT NULL, role TEXT NOT NULL,
  content TEXT NOT NULL, created_at TEXT NOT NULL, metadata TEXT);
CREATE INDEX messages_conv ON messages(conversation_id, id);
CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='id');
CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
  INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
"""


def json_file_append(tmp: Path, existing: int, reps: int, dumps: str) -> list[float]:
    """The legacy way: every new message rewrites the whole file."""
    path = tmp / f"history-{existing}.json"
    # The shape of the anchors' legacy file: ~370 bytes a message with its metadata.
    msgs = [{"id": i + 1, "conversation_id": f"conv-{m['session']:05d}", "role": m["role"],
             "content": m["content"], "created_at": "2025-01-01T00:00:00",
             "metadata": {**m["metadata"], "emotion": "neutral"}}
            for i, m in enumerate(chat(existing))]  # fmt: skip
    path.write_text(json.dumps(msgs))
    new = {"role": "user", "content": "one more message", "timestamp": "2025-01-01T00:00:01"}

    def append(_: int) -> None:
        if dumps == "json":
            data = json.loads(path.read_text())
            data.append(new)
            path.write_text(json.dumps(data, ensure_ascii=False))
        else:
            data = orjson.loads(path.read_bytes())
            data.append(new)
            path.write_bytes(orjson.dumps(data))

    return each(append, reps)


def langchain_append(tmp: Path, wal: bool, n: int) -> list[float] | None:
    try:
        from langchain_community.chat_message_histories import SQLChatMessageHistory
        from langchain_core.messages import HumanMessage
        from sqlalchemy import create_engine, event
    except ImportError:
        return None
    path = tmp / f"langchain-{wal}.db"
    engine = create_engine(f"sqlite:///{path}")
    if wal:

        @event.listens_for(engine, "connect")
        def _pragmas(conn, _):  # type: ignore[no-untyped-def]
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")

    hist = SQLChatMessageHistory(session_id="s1", connection=engine)
    texts = [m["content"] for m in chat(n)]
    return each(lambda i: hist.add_message(HumanMessage(content=texts[i])), n)


def raw_append(tmp: Path, n: int) -> list[float]:
    conn = sqlite3.connect(tmp / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(RAW_SCHEMA)
    rows = [("conv-1", m["role"], m["content"], "2025-01-01T00:00:00", json.dumps(m["metadata"]))
            for m in chat(n)]  # fmt: skip

    def insert(i: int) -> None:
        conn.execute("BEGIN")
        conn.execute("INSERT INTO messages (conversation_id, role, content, created_at, metadata) "
                     "VALUES (?, ?, ?, ?, ?)", rows[i])  # fmt: skip
        conn.execute("COMMIT")

    out = each(insert, n)
    conn.close()
    return out


def memvault_append(url: str, n: int) -> list[float]:
    with memvault.open(url) as vault:
        user = vault.users.ensure("bench")
        session = vault.sessions.create(user.id)
        msgs = list(chat(n))
        for m in msgs[:200]:  # warm-up: connections, statement caches
            vault.messages.append(session.id, m["role"], m["content"], metadata=m["metadata"])
        return each(
            lambda i: vault.messages.append(
                session.id, msgs[i]["role"], msgs[i]["content"], metadata=msgs[i]["metadata"]
            ),
            n,
        )


def bench_append(tmp: Path, n: int, pg: str | None, quick: bool) -> None:
    rows = []
    mv = lat(memvault_append(f"sqlite:///{tmp / 'mv.db'}", n))
    rows.append({"append one message": "memvault, SQLite (WAL, NORMAL, FTS)", **mv})
    raw = lat(raw_append(tmp, n))
    rows.append({"append one message": "raw sqlite3 + FTS5 trigger (WAL, NORMAL)", **raw})
    if pg:
        rows.append({"append one message": "memvault, PostgreSQL", **lat(memvault_append(pg, n))})
    lc = {}
    for wal in (False, True):
        ts = langchain_append(tmp, wal, min(n, 1000))
        if ts is not None:
            lc[wal] = lat(ts)
            label = "WAL/NORMAL" if wal else "defaults"
            rows.append(
                {"append one message": f"LangChain SQLChatMessageHistory, {label}", **lc[wal]}
            )
    json_rows = {}
    for existing in (1_000, 10_000) + (() if quick else (100_000,)):
        reps = 20 if existing <= 10_000 else 5
        json_rows[existing] = lat(json_file_append(tmp, existing, reps, "json"))
        rows.append({"append one message": f"JSON file rewrite (json), {existing:,} messages",
                     **json_rows[existing]})  # fmt: skip
    rows.append({"append one message": "JSON file rewrite (orjson), 10,000 messages",
                 **lat(json_file_append(tmp, 10_000, 20, "orjson"))})  # fmt: skip
    table(rows, f"append one message ({n:,} appends; JSON: 20 or 5)")
    ratios = [
        {
            "ratio (mean latency)": "JSON rewrite at 10k ÷ memvault",
            "value": json_rows[10_000]["mean ms"] / mv["mean ms"],
            "goal": "≥ 300",
        },
        {
            "ratio (mean latency)": "memvault ÷ raw sqlite3 + FTS",
            "value": mv["mean ms"] / raw["mean ms"],
            "goal": "≤ 4",
        },
    ]
    if False in lc:
        ratios.append(
            {
                "ratio (mean latency)": "LangChain defaults ÷ memvault",
                "value": lc[False]["mean ms"] / mv["mean ms"],
                "goal": "≥ 5",
            }
        )
    table(ratios, "ratios, this run")


def bench_last50(tmp: Path, big: int, sessions: int) -> None:
    path = tmp / "big.db"
    with memvault.open(path) as vault:
        user = vault.users.ensure("bench")
        ids = [vault.sessions.create(user.id).id for _ in range(sessions)]
        t = time.perf_counter()
        with vault.transaction() as tx:  # bulk load through the same schema and triggers
            batch = []
            counters = [0] * sessions
            now = tx.ts(vault.clock())
            for i, m in enumerate(chat(big, sessions=sessions)):
                s = m["session"]
                counters[s] += 1
                batch.append({"id": memvault.new_id(), "session_id": ids[s], "user_id": user.id,
                              "seq": counters[s], "role": m["role"], "content": m["content"],
                              "emotion": None, "metadata": "{}", "created_at": now})  # fmt: skip
                if len(batch) == 50_000 or i == big - 1:
                    tx.executemany(
                        "INSERT INTO messages (id, session_id, user_id, seq, role, content, "
                        "emotion, metadata, created_at) VALUES (:id, :session_id, :user_id, :seq, "
                        ":role, :content, :emotion, :metadata, :created_at)",
                        batch,
                    )
                    batch = []
            for s, count in enumerate(counters):
                tx.execute("UPDATE sessions SET message_count = :n, last_seq = :n WHERE id = :id",
                           {"n": count, "id": ids[s]})  # fmt: skip
        load_s = time.perf_counter() - t
        rng = random.Random(3)
        for _ in range(200):  # warm
            vault.messages.last(rng.choice(ids), 50)
        ts = each(lambda _: vault.messages.last(rng.choice(ids), 50), 5_000)
        size = vault.store.size_bytes()
    result = lat(ts)
    table(
        [
            {
                "query": f"last 50 of one session, {big:,} messages in {sessions:,} sessions",
                **result,
                "goal p99": "≤ 5 ms",
            }
        ],
        f"read the last 50 messages (store loaded in {load_s:.1f} s, {size / 1e6:.0f} MB)",
    )
    assert pct(ts, 99) < 1.0  # a sanity check, not the goal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=1_000)
    parser.add_argument("--appends", type=int, default=3_000)
    parser.add_argument("--pg", help="PostgreSQL URL of an empty database for the PG figures")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if args.quick:
        args.big, args.appends = 20_000, 500
    header("memvault core benchmarks")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DATA")) as tmp:
        bench_append(Path(tmp), args.appends, args.pg, args.quick)
        bench_last50(Path(tmp), args.big, args.sessions)


if __name__ == "__main__":
    main()
