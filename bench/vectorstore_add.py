"""Vector store add throughput only: memvault (one or two source trees) against Chroma.

    .venv/bin/python bench/vectorstore_add.py [--n 20000] [--rounds 2] [--batch 1000]
                                              [--before OTHER/src] [--pg URL]

The add half of bench/vectorstore.py (same texts, metadata, ids and precomputed 384-d
vectors; memvault through `MemvaultVectorStore.add_texts` with a dict-lookup `Embeddings`,
Chroma through `collection.add`), without the searches, so that a before/after comparison
of the write path takes seconds. Each measurement runs in its own process (a fresh store;
`--before` puts another tree's `src` first on the path), and the systems alternate within
each round, so that the machine's load falls on all of them alike.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(system: str, src: str, n: int, batch: int, pg: str | None) -> None:
    sys.path[:0] = [src, str(ROOT / "bench")]
    # memvault from `src`, imported before vectorstore.py puts this tree's src first
    import memvault  # noqa: I001
    from memvault.langchain import MemvaultVectorStore
    from _common import empty_pg
    from vectorstore import DIM, Precomputed, batches, dataset

    print(f"memvault from {Path(memvault.__file__).parent}", file=sys.stderr)

    x, _ = dataset(n, 1)
    texts = [f"document {i} about topic {i % 1000}" for i in range(n)]
    metas = [{"i": i, "source": f"s{i % 10}"} for i in range(n)]
    ids = [f"doc-{i}" for i in range(n)]
    folder = Path(tempfile.mkdtemp(prefix="vsadd-"))
    if system == "chroma":
        import chromadb

        coll = chromadb.PersistentClient(path=str(folder / "chroma")).create_collection(
            "bench", configuration={"hnsw": {"space": "cosine"}}
        )
        t = time.perf_counter()
        for part in batches(n, batch):
            coll.add(
                ids=[ids[i] for i in part],
                embeddings=x[part.start : part.stop],
                documents=[texts[i] for i in part],
                metadatas=[metas[i] for i in part],
            )
    else:
        url = f"sqlite:///{folder / 'memvault.db'}"
        if pg:
            empty_pg(pg)
            url = pg
        vault = memvault.open(url, embed_memories=False)
        store = MemvaultVectorStore(vault, Precomputed(texts, x), collection="bench",
                                    model=f"bench-{DIM}")  # fmt: skip
        t = time.perf_counter()
        for part in batches(n, batch):
            store.add_texts([texts[i] for i in part], [metas[i] for i in part],
                            ids=[ids[i] for i in part])  # fmt: skip
    rate = n / (time.perf_counter() - t)
    shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps({"docs/s": rate}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--before", help="another tree's src/: measured as 'memvault before'")
    ap.add_argument("--pg", help="PostgreSQL URL for memvault (its public schema is dropped)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.n, args.batch, args.pg)
        return
    systems = [("memvault", str(ROOT / "src"))]
    if args.before:
        systems.append(("memvault before", str(Path(args.before).resolve())))
    if not args.pg:
        systems.append(("chroma", str(ROOT / "src")))
    engine = "PostgreSQL" if args.pg else "SQLite"
    print(f"# add_texts, {args.n:,} documents, batches of {args.batch}, memvault on {engine}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")  # fmt: skip
    print("| round | system | load at start | add docs/s |\n|---|---|---|---|")
    for r in range(args.rounds):
        for name, src in systems[r % len(systems) :] + systems[: r % len(systems)]:
            load = "/".join(f"{v:.1f}" for v in os.getloadavg())
            cmd = [sys.executable, __file__, "--n", str(args.n), "--batch", str(args.batch),
                   "--child", name.split()[0], src]  # fmt: skip
            cmd += ["--pg", args.pg] if args.pg else []
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            rate = json.loads(out.strip().splitlines()[-1])["docs/s"]
            print(f"| {r + 1} | {name} | {load} | {rate:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
