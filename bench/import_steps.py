"""Per-call CPU of the import steps changed in 5df8bc5, old vs new, in one process, alternated.

Usage: PYTHONPATH=src python bench/import_steps.py OLD_SRC  (OLD_SRC: e.g. `git archive c71694d src`
unpacked somewhere, its src directory). Medians of 5 rounds of 100k calls, CPU (process_time).
"""

import importlib.util
import statistics
import sys
import time
from datetime import UTC, datetime


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


OLD = sys.argv[1]
from memvault import ids as new_ids
from memvault.migrate import loader as new_loader
from memvault.store.sqlite import SQLiteTx

old_ids = load("old_ids", f"{OLD}/memvault/ids.py")
from hashlib import blake2b


def old_digest(table, values):
    flags = new_loader._IS_METADATA[table]
    if len(values) != len(flags):
        raise ValueError
    pairs = zip(values, flags, strict=True)
    text = "\x1f".join(
        [v if type(v) is str and not m else new_loader.norm(v, metadata=m) for v, m in pairs]
    )
    return blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def old_ts(value):
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


tx = SQLiteTx.__new__(SQLiteTx)
N = 100_000
keys = [f"generic:id:m{i}" for i in range(N)]
ats = [datetime.fromtimestamp(1.7e9 + i, UTC) for i in range(N)]
rows = [
    (
        new_ids.new_id(),
        i % 400 + 1,
        "user",
        "a réunion ✨ 🚀 assistant session with message question fix memory a",
    )
    for i in range(N)
]
cases = {
    "derived_id": (
        lambda: [old_ids.derived_id(k, a) for k, a in zip(keys, ats)],
        lambda: [new_ids.derived_id(k, a) for k, a in zip(keys, ats)],
    ),
    "ts": (lambda: [old_ts(a) for a in ats], lambda: [tx.ts(a) for a in ats]),
    "digest(messages)": (
        lambda: [old_digest("messages", r) for r in rows],
        lambda: [new_loader.digest("messages", r) for r in rows],
    ),
}
for name, (o, n) in cases.items():
    to, tn = [], []
    for r in range(5):
        for f, acc in ((o, to), (n, tn)) if r % 2 == 0 else ((n, tn), (o, to)):
            t = time.process_time()
            f()
            acc.append(time.process_time() - t)
    print(
        f"{name}: old {statistics.median(to):.3f} s, new {statistics.median(tn):.3f} s per 100k calls (median of 5, CPU)"
    )
