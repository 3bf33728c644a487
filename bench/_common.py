"""Shared helpers for memvault's benchmarks: timing, percentiles, tables, synthetic text."""

from __future__ import annotations

import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

WORDS = [f"w{i}" for i in range(20_000)]
COMMON = ["the", "and", "you", "memory", "hello", "merci", "café", "bonjour", "today", "plan"]


def header(title: str) -> None:
    load = os.getloadavg()
    print(f"## {title}")
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · Python {platform.python_version()} · "
        f"{os.cpu_count()} cores · load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n"
    )


def pct(xs: Sequence[float], p: float) -> float:
    ordered = sorted(xs)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def lat(xs: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99 in milliseconds and the mean rate per second."""
    return {
        "p50 ms": pct(xs, 50) * 1e3,
        "p95 ms": pct(xs, 95) * 1e3,
        "p99 ms": pct(xs, 99) * 1e3,
        "mean ms": statistics.fmean(xs) * 1e3,
        "per s": len(xs) / sum(xs) if sum(xs) else float("nan"),
    }


def each(fn: Callable[[int], Any], n: int) -> list[float]:
    """Time `fn(i)` for i in range(n), one measurement per call."""
    out = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - t)
    return out


def fmt(v: Any) -> str:
    if isinstance(v, float):
        if v != v:
            return "–"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        if abs(v) >= 0.1:
            return f"{v:.2f}"
        return f"{v:.3f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def table(rows: Iterable[dict[str, Any]], title: str | None = None) -> None:
    rows = list(rows)
    if title:
        print(f"### {title}\n")
    if not rows:
        print("(no rows)\n")
        return
    cols: list[str] = []
    for row in rows:
        cols += [c for c in row if c not in cols]
    print("| " + " | ".join(cols) + " |")
    print("|" + "|".join(" --- " for _ in cols) + "|")
    for row in rows:
        print("| " + " | ".join(fmt(row.get(c, "")) for c in cols) + " |")
    print()


def text(rng: random.Random, nbytes: int = 200) -> str:
    """About `nbytes` of chat-like text: a Zipf-ish mix of common and rare words."""
    words: list[str] = []
    size = 0
    while size < nbytes:
        word = (
            rng.choice(COMMON)
            if rng.random() < 0.3
            else WORDS[int(rng.paretovariate(1.1)) % 20_000]
        )
        words.append(word)
        size += len(word) + 1
    return " ".join(words)


def chat(n: int, sessions: int = 100, seed: int = 1) -> Iterable[dict[str, Any]]:
    """n chat messages as dicts, spread over `sessions` conversations."""
    rng = random.Random(seed)
    for i in range(n):
        yield {
            "session": i % sessions,
            "role": "user" if i % 2 == 0 else "assistant",
            "content": text(rng),
            "metadata": {"model": "gpt-x", "tokens": rng.randint(5, 80)},
        }


def empty_pg(url: str) -> None:
    """Drop and recreate the public schema of the PostgreSQL database at `url` (with
    pgvector), so that a benchmark run starts from an empty store."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
