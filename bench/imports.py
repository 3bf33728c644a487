"""Import benchmark: 100k chat messages from NDJSON, memvault import vs `sqlite-utils insert`.

    python bench/imports.py                 # 100k messages, side by side
    python bench/imports.py --big 1024      # + peak RSS of memvault import on a ~1 GB file

Each tool runs in a child process (wall time measured around it, peak RSS from the child's
`resource.getrusage(RUSAGE_CHILDREN)`), on the same file, into a fresh database in /tmp.
memvault's figure includes everything its import does: validation of every record, derived
ids, sessions with exact counts, full-text indexing (FTS5 triggers), the source copy with its
SHA-256 manifest and the target backup (unless --no-backup), and the read-back verification
of every row. sqlite-utils (CLI defaults, `--nl`) validates nothing and indexes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
WORDS = (  # noqa: SIM905  (a sentence reads better than a list)
    "the a memory vault import message session user assistant bonjour déjà vu café naïve "
    "🚀 ✨ planning réunion Lyon tomorrow deadline code review merge branch test failing fix "
    "please thanks could you help me with this quick question about"
).split()


def generate(path: Path, n: int, threads: int, words: tuple[int, int], with_id: bool) -> int:
    rng = random.Random(42)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            rec: dict[str, object] = {
                "thread": f"t{i % threads}",
                "role": "user" if i % 2 == 0 else "assistant",
                "text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(*words))),
                "ts": 1_700_000_000_000 + i * 1000,
            }
            if with_id:
                rec = {"id": f"m{i}", **rec}
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path.stat().st_size


def child(cmd: list[str]) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in MB of the child, exit code)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode not in (0, 2):
        sys.stderr.write(proc.stderr[-2000:])
    # ru_maxrss of the children is a max over all of them: run the biggest last, or alone.
    return wall, max(peak, before) // 1024, proc.returncode


def memvault_import(
    src: Path, mapping: Path, db: Path, *extra: str
) -> tuple[float, int, dict[str, object]]:
    cmd = [str(BIN / "memvault"), "import", str(src), "--format", "generic", "--mapping",
           str(mapping), "--db", f"sqlite:///{db}", "--json", *extra]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 2):
        raise SystemExit(f"memvault import failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall, proc.returncode, json.loads(proc.stdout)


def count(db: Path, table: str) -> int:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--big", type=int, default=0, help="also measure RSS on a file of this many MB")
    ap.add_argument("--dir", default="/tmp/memvault-bench-imports")
    args = ap.parse_args()
    work = Path(args.dir)
    shutil.rmtree(work, ignore_errors=True)
    src = work / "src"
    size = generate(src / "chats.ndjson", args.messages, 500, (5, 40), with_id=True)
    mapping = work / "mapping.json"
    spec = {"files": ["*.ndjson"], "id": "id", "content": "text", "role": "role",
            "session": "thread", "created_at": "ts"}  # fmt: skip
    mapping.write_text(json.dumps(spec))
    n = args.messages
    print(f"input: {n:,} messages, {size / 1e6:.1f} MB NDJSON, 500 threads")

    su_db = work / "su.db"
    wall, _, code = child([str(BIN / "sqlite-utils"), "insert", str(su_db), "messages",
                           str(src / "chats.ndjson"), "--nl"])  # fmt: skip
    su_rows = count(su_db, "messages")
    print(
        f"sqlite-utils insert --nl      {wall:6.2f} s  {su_rows / wall:9,.0f} rows/s  "
        f"({su_rows:,} rows, exit {code})"
    )

    rows = {}
    for label, extra in (
        ("memvault import", ()),
        ("memvault import --no-backup", ("--no-backup",)),
    ):
        db = work / f"mv{len(rows)}.db"
        import memvault

        memvault.open(f"sqlite:///{db}").close()  # schema creation is not part of the import
        wall, code, report = memvault_import(src, mapping, db, *extra)
        run = report["run"]
        assert isinstance(run, dict)
        stored = count(db, "messages")
        assert stored == n and run["verification"]["ok"], run
        rows[label] = n / wall
        print(
            f"{label:<30}{wall:6.2f} s  {n / wall:9,.0f} rows/s  ({stored:,} messages, "
            f"{count(db, 'sessions')} sessions, verified {run['store']['messages']['verified']:,}, "
            f"exit {code})"
        )

    if args.big:
        big = work / "big"
        target = args.big * 1024 * 1024
        per_line = 1100
        lines = target // per_line
        size = generate(big / "chats.ndjson", lines, 5000, (140, 170), with_id=False)
        bmap = work / "big-mapping.json"
        bmap.write_text(json.dumps({"files": ["*.ndjson"], "content": "text", "role": "role",
                                    "session": "thread", "created_at": "ts"}))  # fmt: skip
        db = work / "big.db"
        import memvault

        memvault.open(f"sqlite:///{db}").close()
        cmd = [str(BIN / "memvault"), "import", str(big), "--format", "generic", "--mapping",
               str(bmap), "--db", f"sqlite:///{db}", "--json"]  # fmt: skip
        timed = ["/usr/bin/time", "-v", *cmd] if os.path.exists("/usr/bin/time") else cmd
        start = time.perf_counter()
        proc = subprocess.run(timed, capture_output=True, text=True)
        wall = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
        for line in proc.stderr.splitlines():
            if "Maximum resident set size" in line:
                peak = int(line.split(":")[1]) // 1024
        stored = count(db, "messages")
        print(
            f"big: {size / 2**20:,.0f} MiB, {lines:,} messages -> {stored:,} stored in "
            f"{wall:.1f} s ({stored / wall:,.0f} rows/s), exit {proc.returncode}, "
            f"peak RSS {peak} MB"
        )


if __name__ == "__main__":
    main()
