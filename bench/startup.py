"""Start-up benchmark: wall time of short `memvault` processes, two source trees side by side.

    git archive main src | tar -x -C /tmp/mv-old        # the code to compare against
    python bench/startup.py --old /tmp/mv-old/src [--new src] [--rounds 5]

Each case runs as a fresh interpreter with PYTHONPATH set to one tree, old and new
alternating, best of `--rounds` (the machine is shared: the minimum is the least disturbed
run). Both trees are byte-compiled first, as an installed package is. Every SQLite case
opens an up-to-date store (a copy of a template made by the new code), so no schema
migration runs; the import reads 200 NDJSON messages with the generic mapping.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import header

MAIN = "import sys; from memvault.cli import main; sys.exit(main())"


def cases(work: Path) -> list[tuple[str, Callable[[Path], list[str]]]]:
    py = sys.executable
    src, mapping = work / "src", work / "mapping.json"

    def url(db: Path) -> str:
        return f"sqlite:///{db}"

    return [
        ("`python -c 'import memvault.cli'`", lambda db: [py, "-c", "import memvault.cli"]),
        ("`import memvault.cli` + open a SQLite vault",
         lambda db: [py, "-c", f"import memvault.cli, memvault; memvault.open({url(db)!r})"]),
        ("`memvault --help`", lambda db: [py, "-c", MAIN, "--help"]),
        ("`memvault stats --db sqlite:///x.db`",
         lambda db: [py, "-c", MAIN, "stats", "--db", url(db)]),
        ("`memvault import` of 200 messages",
         lambda db: [py, "-c", MAIN, "import", str(src), "--format", "generic", "--mapping",
                     str(mapping), "--db", url(db), "--json"]),
    ]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", required=True, help="src/ of the code to compare against")
    ap.add_argument("--new", default=str(Path(__file__).parents[1] / "src"))
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    trees = {"old": Path(args.old).resolve(), "new": Path(args.new).resolve()}
    for tree in trees.values():
        compileall.compile_dir(tree, quiet=1)
    work = Path(tempfile.mkdtemp(prefix="memvault-bench-startup-"))
    (work / "src").mkdir()
    lines = [json.dumps({"id": f"m{i}", "thread": f"t{i % 10}", "role": "user",
                         "text": f"message {i} about the café"}) for i in range(200)]  # fmt: skip
    (work / "src" / "chats.ndjson").write_text("\n".join(lines) + "\n", "utf-8")
    (work / "mapping.json").write_text(json.dumps(
        {"files": ["*.ndjson"], "id": "id", "content": "text", "role": "role",
         "session": "thread"}))  # fmt: skip
    template = work / "template.db"
    env = {k: v for k, v in os.environ.items() if k != "MEMVAULT_URL"}
    subprocess.run([sys.executable, "-c", f"import memvault; memvault.open({str(template)!r})"],
                   env={**env, "PYTHONPATH": str(trees["new"])}, check=True)  # fmt: skip

    header("Start-up: short memvault processes, old and new code alternating")
    print(f"old: {trees['old']}\nnew: {trees['new']}\nbest of {args.rounds}\n")
    print("| command | old s | new s | old ÷ new |\n| --- | --- | --- | --- |")
    for name, command in cases(work):
        best = {tag: float("inf") for tag in trees}
        for _ in range(args.rounds):
            for tag, tree in trees.items():
                db = work / f"{tag}.db"
                shutil.copy(template, db)
                shutil.rmtree(work / f"{tag}.db.import-backups", ignore_errors=True)
                start = time.perf_counter()
                proc = subprocess.run(command(db), env={**env, "PYTHONPATH": str(tree)},
                                      capture_output=True, text=True)  # fmt: skip
                wall = time.perf_counter() - start
                if proc.returncode != 0:
                    raise SystemExit(f"{tag}: {name} failed:\n{proc.stderr[-2000:]}")
                best[tag] = min(best[tag], wall)
        print(f"| {name} | {best['old']:.3f} | {best['new']:.3f} | "
              f"{best['old'] / best['new']:.1f}× |")  # fmt: skip
    load = os.getloadavg()
    print(f"\nload after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
