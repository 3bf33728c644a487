"""Import benchmark: 100k NDJSON chat messages, memvault import vs sqlite-utils doing the same work.

    python bench/imports.py                 # 100k messages, side by side
    python bench/imports.py --big 1024      # + peak RSS of memvault import on a ~1 GB file
    python bench/imports.py --floor         # + the store's part alone (prebuilt rows, in-process)

Each tool runs in a child process, on the same file, into a fresh database in /tmp: wall
time is measured around it, CPU time (user + system) from `getrusage(RUSAGE_CHILDREN)`.
On a shared, loaded machine the wall time mostly measures the others (sqlite-utils commits
every 100 rows, so it also waits on fsyncs): compare the ratios of one round, and the CPU
ratio, which the load barely moves. `--rounds N` repeats the side-by-side runs.
memvault's figure includes everything its import does: validation of every record, derived
ids, sessions with exact counts, full-text indexing (FTS5 triggers), the source copy with its
SHA-256 manifest and the target backup (unless --no-backup), and the read-back verification
of every row. The peer doing the same work is `sqlite-utils insert --nl` followed by
`sqlite-utils enable-fts db messages text --create-triggers` (a searchable table kept up to
date), timed together; the plain `sqlite-utils insert --nl` (validates nothing, indexes
nothing) stays as a second line. The sides alternate who goes first each round, and the
medians of all rounds are printed with the ratios at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
PLAIN = "sqlite-utils insert --nl"
SAME = "sqlite-utils insert + enable-fts"
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


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def child(cmd: list[str]) -> tuple[float, float, int, str]:
    """(wall seconds, CPU seconds (user + system) of the child, exit code, stdout)."""
    cpu = _cpu()
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 2):
        sys.stderr.write(proc.stderr[-2000:])
    return wall, _cpu() - cpu, proc.returncode, proc.stdout


def memvault_import(
    src: Path, mapping: Path, db: Path, *extra: str
) -> tuple[float, float, int, dict[str, object]]:
    cmd = [str(BIN / "memvault"), "import", str(src), "--format", "generic", "--mapping",
           str(mapping), "--db", f"sqlite:///{db}", "--json", *extra]  # fmt: skip
    wall, cpu, code, out = child(cmd)
    if code not in (0, 2):
        raise SystemExit(f"memvault import failed ({code})")
    return wall, cpu, code, json.loads(out)


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def count(db: Path, table: str) -> int:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def floor(path: Path, work: Path, su_wall: float, su_cpu: float) -> None:
    """The store's own part of an import, in this process: the messages of `path`, as rows
    already built (ids, sessions, JSON metadata), inserted in 5,000-row transactions through
    `Tx.insert_new` as the loader does, into memvault's schema (primary key, unique
    (session_id, seq), foreign keys, checks, the FTS5 trigger with prefix indexes); then the
    same with the full-text trigger dropped. No parsing, validation, verification or
    interpreter start-up: what no import into this schema can go below."""
    import orjson

    import memvault
    from memvault.clock import utcnow
    from memvault.ids import derived_id

    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    for label, fts in (("store floor: insert + FTS5", True), ("store floor: no FTS", False)):
        db = work / f"floor{int(fts)}.db"
        vault = memvault.open(f"sqlite:///{db}")
        try:
            owner = vault.users.create("floor")
            threads = sorted({r["thread"] for r in lines})
            sessions = {t: vault.sessions.create(owner.id).id for t in threads}
            seqs: dict[str, int] = {}
            rows = []
            with vault.store.read() as tx:
                for r in lines:
                    seq = seqs[r["thread"]] = seqs.get(r["thread"], 0) + 1
                    rows.append({"id": derived_id(r["id"]), "session_id": sessions[r["thread"]],
                                 "user_id": owner.id, "seq": seq, "role": r["role"],
                                 "content": r["text"], "emotion": None,
                                 "metadata": tx.json({"file": "chats.ndjson"}),
                                 "created_at": tx.ts(utcnow())})  # fmt: skip
            if not fts:
                with vault.store.write() as tx:
                    tx.execute("DROP TRIGGER messages_fts_ai")
            cols = tuple(rows[0])
            start, cpu = time.perf_counter(), time.process_time()
            for i in range(0, len(rows), 5000):
                with vault.store.write() as tx:
                    tx.insert_new("messages", cols, rows[i : i + 5000])
                vault.store.settle()
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        finally:
            vault.close()
        print(
            f"{label:<36}{wall:6.2f} s  {len(rows) / wall:9,.0f}  {cpu:6.2f}  "
            f"{len(rows) / cpu:10,.0f}  (sqlite-utils insert + enable-fts ÷ this: wall "
            f"{su_wall / wall:.2f}, CPU {su_cpu / cpu:.2f})"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--big", type=int, default=0, help="also measure RSS on a file of this many MB")
    ap.add_argument("--dir", default="/tmp/memvault-bench-imports")
    ap.add_argument("--rounds", type=int, default=1, help="side-by-side rounds")
    ap.add_argument(
        "--floor", action="store_true", help="also time the store's part alone (prebuilt rows)"
    )
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
    print(f"load average before: {load()}")
    print(f"{'':<36}{'wall':>8}  {'rows/s':>9}  {'CPU s':>6}  {'rows/CPU s':>10}")

    results: dict[str, list[tuple[float, float]]] = {}

    def record(label: str, wall: float, cpu: float) -> None:
        results.setdefault(label, []).append((wall, cpu))

    import memvault

    for rnd in range(args.rounds):
        # Alternate who goes first, so a load spike does not always land on the same side.
        order = ("peer", "mv") if rnd % 2 == 0 else ("mv", "peer")
        for side in order:
            if side == "peer":
                su_db = work / f"su{rnd}.db"
                wall, cpu, code, _ = child([str(BIN / "sqlite-utils"), "insert", str(su_db),
                                            "messages", str(src / "chats.ndjson"),
                                            "--nl"])  # fmt: skip
                su_rows = count(su_db, "messages")
                record(PLAIN, wall, cpu)
                print(f"{PLAIN:<36}{wall:6.2f} s  {su_rows / wall:9,.0f}  {cpu:6.2f}  "
                      f"{su_rows / cpu:10,.0f}  ({su_rows:,} rows, exit {code})")  # fmt: skip
                # The same work as memvault's import: the rows plus a full-text index kept by
                # triggers, in a fresh database (insert + enable-fts, timed together).
                fts_db = work / f"sufts{rnd}.db"
                w1, c1, code1, _ = child([str(BIN / "sqlite-utils"), "insert", str(fts_db),
                                          "messages", str(src / "chats.ndjson"),
                                          "--nl"])  # fmt: skip
                w2, c2, code2, _ = child([str(BIN / "sqlite-utils"), "enable-fts", str(fts_db),
                                          "messages", "text", "--create-triggers"])  # fmt: skip
                indexed = count(fts_db, "messages_fts")
                record(SAME, w1 + w2, c1 + c2)
                print(f"{SAME:<36}{w1 + w2:6.2f} s  {su_rows / (w1 + w2):9,.0f}  {c1 + c2:6.2f}  "
                      f"{su_rows / (c1 + c2):10,.0f}  (insert {w1:.2f} s + enable-fts {w2:.2f} s, "
                      f"{indexed:,} indexed, exit {code1}/{code2})")  # fmt: skip
                continue
            for label, extra in (
                ("memvault import", ()),
                ("memvault import --no-backup", ("--no-backup",)),
            ):
                db = work / f"mv{rnd}{len(extra)}.db"
                memvault.open(f"sqlite:///{db}").close()  # schema creation is not the import's
                wall, cpu, code, report = memvault_import(src, mapping, db, *extra)
                run = report["run"]
                assert isinstance(run, dict)
                stored = count(db, "messages")
                assert stored == n and run["verification"]["ok"], run
                verified = run["store"]["messages"]["verified"]
                record(label, wall, cpu)
                print(f"{label:<36}{wall:6.2f} s  {n / wall:9,.0f}  {cpu:6.2f}  {n / cpu:10,.0f}  "
                      f"({stored:,} messages, {count(db, 'sessions')} sessions, verified "
                      f"{verified:,}, exit {code})")  # fmt: skip
        print(f"load average after round {rnd + 1}: {load()}")

    print(f"\nmedians of {args.rounds} round(s); ratio = peer ÷ memvault (> 1: memvault faster)")
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
           for k, v in results.items()}  # fmt: skip
    for label, (wall, cpu) in med.items():
        line = f"{label:<36}{wall:6.2f} s  CPU {cpu:6.2f} s"
        if label.startswith("memvault"):
            for peer in (SAME, PLAIN):
                pw, pc = med[peer]
                line += f"  | vs {peer.split(' (')[0]}: wall {pw / wall:.2f}x, CPU {pc / cpu:.2f}x"
        print(line)
    su_wall, su_cpu = med[SAME]

    if args.floor:
        floor(src / "chats.ndjson", work, su_wall, su_cpu)

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
