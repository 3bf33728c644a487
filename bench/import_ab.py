"""A/B: CPU (user+sys) of `memvault import --no-backup` of bench/imports.py's 100k file, sides alternating.

Usage: python bench/import_ab.py ROUNDS LABEL=SRC_DIR LABEL=SRC_DIR  (each side run with PYTHONPATH=SRC_DIR
on a fresh database made by memvault.open; run bench/imports.py once first for the input).
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

W = Path("/tmp/memvault-bench-imports")
SRC = str(W / "src")
PY = sys.executable
sides = dict(a.split("=", 1) for a in sys.argv[2:])  # label=srcdir
rounds = int(sys.argv[1])
res = {k: [] for k in sides}
for r in range(rounds):
    order = list(sides) if r % 2 == 0 else list(sides)[::-1]
    for label in order:
        db = W / f"ab-{label}.db"
        for p in W.glob(f"ab-{label}.db*"):
            p.unlink()
        env = {**os.environ, "PYTHONPATH": sides[label]}
        subprocess.run(
            [PY, "-c", f"import memvault; memvault.open('sqlite:///{db}').close()"],
            env=env,
            check=True,
        )
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.time()
        out = subprocess.run(
            [
                PY,
                "-c",
                "from memvault.entry import main; main()",
                "import",
                SRC,
                "--format",
                "generic",
                "--mapping",
                str(W / "mapping.json"),
                "--db",
                f"sqlite:///{db}",
                "--json",
                "--no-backup",
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        wall = time.time() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        rep = json.loads(out.stdout)
        m = rep["report"]["tables"]["messages"] if "report" in rep else None
        ok = out.returncode == 0 and '"verified": 100000' in out.stdout
        res[label].append(cpu)
        print(
            f"round {r + 1} {label}: wall {wall:.1f} s cpu {cpu:.2f} s load {load:.1f} exit {out.returncode} verified-100k {ok}",
            flush=True,
        )
for k, v in res.items():
    print(f"{k}: median CPU {statistics.median(v):.2f} s ({min(v):.2f}-{max(v):.2f})")
print("load after", os.getloadavg())
