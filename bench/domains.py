"""Domain benchmarks (issue 3): routing suggestions and emotional patterns at scale.

1. `vault.routing.suggest(query)` in a store holding 100k actions and 10k routing scores
   (global and per-user rows), with queries of 3–8 words.
2. `vault.emotions.patterns(user)` over 100k emotion events of ONE user (the worst case: every
   event is aggregated), with 100k more events of 99 other users in the table. The events
   are a year old and the user has imported legacy (EdgeSoul) trends, so every emotion's
   trend comes from the legacy look-up (revision 0010's partial index).
3. For context: `vault.actions.stats()` over the 100k actions, and `vault.routing.update()`.

Each on SQLite (a temp file) and on PostgreSQL when `--pg URL` (an empty database) is given.
Goal (AIT42 targets): p50 < 10 ms, p95 < 50 ms, p99 < 100 ms.

    .venv/bin/python bench/domains.py [--pg postgresql://…] [--reps 200] [--quick]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import each, header, lat, table
from tests.emotion_patterns_oracle import patterns_reference

import memvault
from memvault.domain import insert_sql
from memvault.tools import ACTION_COLUMNS

EMOTIONS = ["joy", "sadness", "anger", "fear", "surprise", "calm", "anxiety", "love"]
TRIGGERS = [f"trigger {i}" for i in range(60)]
TOOLS = [f"tool_{i}" for i in range(40)]
VOCAB = [f"kw{i}" for i in range(1_000)] + ["deploy", "test", "fichier", "search", "build"]


def load(vault: memvault.Vault, n_events: int, n_actions: int, n_scores: int) -> dict[str, Any]:
    """Fill the store; returns what the timed loops need."""
    rng = random.Random(7)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    target = vault.users.create("bench-target")
    others = [vault.users.create(f"bench-{i}") for i in range(99)]
    t = time.perf_counter()
    batch = 5_000
    for owner, count in [(target.id, n_events)] + [(o.id, n_events // 99) for o in others]:
        for lo in range(0, count, batch):
            vault.emotions.record_many(
                owner,
                [
                    {
                        "emotion": rng.choice(EMOTIONS),
                        "intensity": rng.random(),
                        "trigger": rng.choice(TRIGGERS) if rng.random() < 0.7 else None,
                        "occurred_at": start + timedelta(minutes=rng.randrange(525_600)),
                    }
                    for _ in range(min(batch, count - lo))
                ],
            )
    # The heavy user's history came partly from EdgeSoul: one imported pattern per emotion
    # keeps its legacy trend on a baseline event, which patterns() shows while the trend
    # window (the last 7 days before now) holds no event of that emotion — here, every one.
    vault.emotions.record_many(
        target.id,
        [
            {"emotion": e, "intensity": 0.5, "occurred_at": start - timedelta(days=1),
             "metadata": {"legacy_pattern": {"trend": rng.choice(["increasing", "decreasing"])}}}
            for e in EMOTIONS
        ],
    )  # fmt: skip
    events_s = time.perf_counter() - t
    t = time.perf_counter()
    sql = insert_sql("actions", ACTION_COLUMNS)
    for lo in range(0, n_actions, batch):
        with vault.transaction() as tx:
            tx.executemany(
                sql,
                [
                    {
                        "id": memvault.new_id(),
                        "user_id": None if i % 4 else rng.choice(others).id,
                        "project_id": None,
                        "session_id": None,
                        "tool_name": rng.choice(TOOLS),
                        "tool_type": "builtin",
                        "input": "x",
                        "file_paths": tx.json([]),
                        "exit_code": 0 if rng.random() < 0.9 else 1,
                        "duration_ms": rng.lognormvariate(3, 1),
                        "metadata": tx.json({}),
                        "created_at": tx.ts(start + timedelta(seconds=i * 30)),
                    }
                    for i in range(lo, min(lo + batch, n_actions))
                ],
            )
    actions_s = time.perf_counter() - t
    t = time.perf_counter()
    pairs = set()
    while len(pairs) < n_scores:
        owner = None if rng.random() < 0.8 else target.id
        pairs.add((owner, rng.choice(VOCAB), rng.choice(TOOLS)))
    with vault.transaction() as tx:
        tx.executemany(
            "INSERT INTO routing_scores (id, user_id, keyword, tool_name, tool_type, weight, "
            "usage_count, success_count, last_used_at) VALUES (:id, :u, :k, :t, 'builtin', "
            ":w, :n, :s, NULL)",
            [
                {"id": memvault.new_id(), "u": u, "k": k, "t": tool,
                 "w": rng.uniform(-2, 10), "n": 10, "s": 5}
                for u, k, tool in sorted(pairs, key=str)
            ],
        )  # fmt: skip
    scores_s = time.perf_counter() - t
    if vault.engine == "postgresql":
        with vault.transaction() as tx:
            tx.execute("ANALYZE")
    else:
        with vault.transaction() as tx:
            tx.execute("ANALYZE")
    return {
        "target": target.id,
        "typical": others[0].id,
        "rng": rng,
        "load": f"events {events_s:.0f}s, actions {actions_s:.0f}s, scores {scores_s:.1f}s",
    }


def run(url: str, label: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    with memvault.open(url) as vault:
        state = load(vault, args.events, args.actions, args.scores)
        rng: random.Random = state["rng"]
        counts = vault.stats().counts
        print(f"{label}: loaded {counts['emotion_events']:,} emotion events, "
              f"{counts['actions']:,} actions, {counts['routing_scores']:,} routing scores "
              f"({state['load']})")  # fmt: skip
        queries = [
            " ".join(rng.choice(VOCAB) for _ in range(rng.randint(3, 8))) for _ in range(args.reps)
        ]
        vault.routing.suggest(queries[0])  # warm up
        hits = 0

        def suggest(i: int) -> None:
            nonlocal hits
            hits += bool(vault.routing.suggest(queries[i]))

        rows.append({"engine": label, "operation": "routing.suggest (global)",
                     **lat(each(suggest, args.reps))})  # fmt: skip
        target = state["target"]
        rows.append({"engine": label, "operation": "routing.suggest (user + global)",
                     **lat(each(lambda i: vault.routing.suggest(queries[i], user_id=target),
                                args.reps))})  # fmt: skip
        report = vault.emotions.patterns(target)
        assert report.total == args.events + len(EMOTIONS), report.total
        assert all(p.trend_delta is None and p.trend != "stable" for p in report.patterns)
        ref = patterns_reference(vault, target)
        assert [(p.emotion, p.count, p.top_triggers, p.hours) for p in report.patterns] == [
            (p.emotion, p.count, p.top_triggers, p.hours) for p in ref.patterns
        ]
        reps = max(20, args.reps // 4)
        heavy = f"emotions.patterns (heavy user, {args.events:,} events)"
        rows.append({"engine": label, "operation": heavy,
                     **lat(each(lambda i: vault.emotions.patterns(target), reps))})  # fmt: skip
        # Before revision 0005: the same report from a scan of the events (kept as reference).
        scan = heavy.replace("patterns", "patterns, event scan")
        rows.append({"engine": label, "operation": scan,
                     **lat(each(lambda i: patterns_reference(vault, target), reps))})  # fmt: skip
        typical = state["typical"]
        n_typical = vault.emotions.patterns(typical).total
        name = f"emotions.patterns (typical user, {n_typical:,} events)"
        rows.append({"engine": label, "operation": name,
                     **lat(each(lambda i: vault.emotions.patterns(typical), reps))})  # fmt: skip
        rows.append({"engine": label, "operation": "emotions.patterns (heavy user, 30 days)",
                     **lat(each(lambda i: vault.emotions.patterns(
                         target, since=datetime(2024, 12, 1, tzinfo=UTC),
                         until=datetime(2024, 12, 31, tzinfo=UTC)), reps))})  # fmt: skip
        rows.append({"engine": label, "operation": f"actions.stats ({args.actions:,} actions)",
                     **lat(each(lambda i: vault.actions.stats(memvault.ANY), 10))})  # fmt: skip
        rows.append({"engine": label, "operation": "routing.update (5 keywords)",
                     **lat(each(lambda i: vault.routing.update(queries[i], "Bash", i % 3 > 0),
                                min(args.reps, 200)))})  # fmt: skip
        print(f"  suggest returned tools for {hits}/{args.reps} queries")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg", help="PostgreSQL URL of an empty database for the PG figures")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--actions", type=int, default=100_000)
    parser.add_argument("--scores", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if args.quick:
        args.events, args.actions, args.scores, args.reps = 5_000, 5_000, 1_000, 40
    header("memvault domain benchmarks (issue 3)")
    rows = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DATA")) as tmp:
        rows += run(f"sqlite:///{Path(tmp) / 'domains.db'}", "SQLite", args)
    if args.pg:
        rows += run(args.pg, "PostgreSQL", args)
    table(rows, "latency per call")


if __name__ == "__main__":
    main()
