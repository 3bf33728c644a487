"""A real-embedding benchmark set for approximate search: real paragraphs embedded once with
the default model, cached outside the repository.

    .venv/bin/python bench/realset.py [--size 100000] [--queries 400] [--threads 2]

Texts: the sentences of the docstrings of every Python module under the venv's site-packages
and /usr/lib/python3*, and of the text files under /usr/share/doc; whitespace collapsed,
6 to 30 words, at most 200 characters, mostly letters, deduplicated (case-insensitive), shuffled
with a fixed seed. The first `--queries` become the held-out queries (they are not in the
corpus), the next `--size` the corpus.

Everything lands in $MEMVAULT_BENCH_CACHE (default ~/.cache/memvault-bench/realset/):
`corpus.txt`, `queries.txt` (one text per line), `corpus.npy`, `queries.npy` (float32, L2-normed,
384 dimensions, multilingual-e5-small through memvault's default embedder). Embedding is done
in chunks saved as they finish (`parts/`), so an interrupted run resumes; `--threads` bounds the
engine threads (each worker embeds with one engine thread). `load()` reads the set for the
benchmarks (bench/ann_real.py).
"""

from __future__ import annotations

import argparse
import ast
import glob
import gzip
import os
import random
import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

CACHE = Path(os.environ.get("MEMVAULT_BENCH_CACHE", Path.home() / ".cache" / "memvault-bench"))
SET = CACHE / "realset"
CHUNK = 256
WS = re.compile(r"\s+")
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def _paragraphs(text: str) -> Iterator[str]:
    """The sentences of `text`'s paragraphs: 6 to 30 words, at most 200 characters, mostly
    letters (short texts: embedding 100k of them must fit in an hour on 2 shared cores)."""
    for para in re.split(r"\n\s*\n", text):
        flat = WS.sub(" ", para).strip()
        for sent in SENTENCE.split(flat):
            words = sent.split(" ")
            if (
                6 <= len(words) <= 30
                and len(sent) <= 200
                and (sum(c.isalpha() or c == " " for c in sent) > 0.85 * len(sent))
            ):
                yield sent


def _docstrings(path: str) -> Iterator[str]:
    try:
        with open(path, encoding="utf-8", errors="strict") as f:
            tree = ast.parse(f.read())
    except (SyntaxError, UnicodeDecodeError, ValueError, OSError, RecursionError):
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node)
            if doc:
                yield from _paragraphs(doc)


def _docs(path: str) -> Iterator[str]:
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rt", encoding="utf-8", errors="strict") as f:
                text = f.read(2_000_000)
        else:
            with open(path, encoding="utf-8", errors="strict") as f:
                text = f.read(2_000_000)
    except (OSError, UnicodeDecodeError, EOFError):
        return
    yield from _paragraphs(text)


def collect() -> list[str]:
    """Every candidate paragraph, deduplicated, in a deterministic order."""
    roots = sorted(glob.glob(str(Path(sys.prefix) / "lib" / "python3*" / "site-packages")))
    roots += sorted(glob.glob("/usr/lib/python3*"))
    seen: set[str] = set()
    out: list[str] = []

    def add(text: str) -> None:
        key = text.lower()
        if key not in seen:
            seen.add(key)
            out.append(text)

    for root in roots:
        for path in sorted(glob.glob(f"{root}/**/*.py", recursive=True)):
            for text in _docstrings(path):
                add(text)
    for path in sorted(glob.glob("/usr/share/doc/**/*", recursive=True)):
        if os.path.isfile(path) and not path.endswith((".html", ".png", ".svg", ".js", ".css")):
            for text in _docs(path):
                add(text)
    return out


def _write_lines(path: Path, texts: list[str]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(t + "\n" for t in texts), encoding="utf-8")
    tmp.replace(path)


def _read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def load() -> tuple[list[str], npt.NDArray[np.float32], list[str], npt.NDArray[np.float32]]:
    """(corpus texts, corpus vectors, query texts, query vectors) of the cached set."""
    if not (SET / "corpus.npy").exists():
        raise SystemExit(f"no real-embedding set in {SET}: run bench/realset.py first")
    return (
        _read_lines(SET / "corpus.txt"),
        np.load(SET / "corpus.npy"),
        _read_lines(SET / "queries.txt"),
        np.load(SET / "queries.npy"),
    )


def embed_all(texts: list[str], parts: Path, threads: int) -> npt.NDArray[np.float32]:
    from memvault.embed import E5SmallEmbedder

    parts.mkdir(parents=True, exist_ok=True)
    chunks = list(range(0, len(texts), CHUNK))
    todo = [s for s in chunks if not (parts / f"{s:08d}.npy").exists()]
    lock = threading.Lock()
    started = time.perf_counter()
    done = [0]

    def worker() -> None:
        emb = E5SmallEmbedder(threads=1)
        while True:
            with lock:
                if not todo:
                    return
                start = todo.pop(0)
            vecs = emb.embed(texts[start : start + CHUNK])
            np.save(parts / f"{start:08d}.tmp.npy", vecs)
            os.replace(parts / f"{start:08d}.tmp.npy", parts / f"{start:08d}.npy")
            with lock:
                done[0] += len(vecs)
                rate = done[0] / (time.perf_counter() - started)
                print(f"{parts.name}: {done[0]:,} embedded, {rate:.0f}/s", flush=True)

    workers = [threading.Thread(target=worker) for _ in range(max(1, threads))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return np.concatenate([np.load(parts / f"{s:08d}.npy") for s in chunks]).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=100_000, help="corpus texts")
    ap.add_argument("--queries", type=int, default=400, help="held-out query texts")
    ap.add_argument("--threads", type=int, default=1, help="workers (1 engine thread each)")
    args = ap.parse_args()
    SET.mkdir(parents=True, exist_ok=True)
    if not (SET / "corpus.txt").exists():
        t0 = time.perf_counter()
        texts = collect()
        random.Random(16).shuffle(texts)
        need = args.queries + args.size
        print(f"{len(texts):,} distinct paragraphs in {time.perf_counter() - t0:.0f} s")
        if len(texts) < need:
            raise SystemExit(f"only {len(texts):,} paragraphs, {need:,} wanted")
        _write_lines(SET / "queries.txt", texts[: args.queries])
        _write_lines(SET / "corpus.txt", texts[args.queries : need])
    queries, corpus = _read_lines(SET / "queries.txt"), _read_lines(SET / "corpus.txt")
    qv = embed_all(queries, SET / "parts-queries", args.threads)
    np.save(SET / "queries.npy", qv)
    cv = embed_all(corpus, SET / "parts-corpus", args.threads)
    np.save(SET / "corpus.npy", cv)
    sample = cv[np.random.default_rng(0).choice(len(cv), 2000, replace=False)]
    sims = sample @ sample.T
    mean = (sims.sum() - len(sample)) / (len(sample) * (len(sample) - 1))
    print(f"set ready in {SET}: {len(corpus):,} corpus, {len(queries):,} queries; "
          f"mean pairwise cosine {mean:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
