"""The mem0 facade with default settings (the vault's default embedder, multilingual e5), as a
user measures it: `Memory(path).add(..., infer=False)` 200 times for one user, then 100
searches (top_k=5). Prints p50/p95 in ms. mem0ai itself is not run here: its default
embedder is OpenAI's API (no offline equivalent); bench/mem0.py compares the stores with the
same injected embedder.

    .venv/bin/python bench/mem0_defaults.py /tmp/m0.db
"""

from __future__ import annotations

import statistics
import sys
import time

from memvault.compat.mem0 import Memory


def p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95)]


def main() -> None:
    m = Memory(sys.argv[1])
    adds, searches = [], []
    for i in range(200):
        text = f"Dana note {i}: prefers order {i * 7} shipped by {'air' if i % 2 else 'sea'}"
        start = time.perf_counter()
        m.add(text, user_id="dana", infer=False)
        adds.append((time.perf_counter() - start) * 1000)
    for i in range(100):
        start = time.perf_counter()
        m.search(f"how is order {i} shipped", filters={"user_id": "dana"}, top_k=5)
        searches.append((time.perf_counter() - start) * 1000)
    print(
        f"add p50 {statistics.median(adds):.1f} ms p95 {p95(adds):.1f} ms; "
        f"search p50 {statistics.median(searches):.1f} ms p95 {p95(searches):.1f} ms"
    )


if __name__ == "__main__":
    main()
