"""WAL size under steady writes: N short appends by one or more Vaults on one file.

    .venv/bin/python bench/wal.py [--appends 20000] [--vaults 1]
    PYTHONPATH=OLD/src .venv/bin/python bench/wal.py     # the same loop on another tree

Prints the WAL's peak during the loop (sampled every 5 ms), its size 3 s after the last
append (the Vaults still open), the store's size and the appends per second.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import memvault


def wal_mb(db: Path) -> float:
    try:
        return os.stat(f"{db}-wal").st_size / 1e6
    except FileNotFoundError:
        return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=20_000)
    parser.add_argument("--vaults", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "wal.db"
        vaults = [memvault.open(db) for _ in range(args.vaults)]
        user = vaults[0].users.ensure("steady", "Steady")
        session = vaults[0].sessions.create(user.id).id
        peak, stop = [0.0], threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], wal_mb(db))
                time.sleep(0.005)

        def write(vault: memvault.Vault, k: int) -> None:
            for i in range(args.appends // args.vaults):
                vault.messages.append(session, "user", f"vault {k} message {i}: short")

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        writers = [threading.Thread(target=write, args=(v, k)) for k, v in enumerate(vaults)]
        for w in writers:
            w.start()
        for w in writers:
            w.join()
        seconds = time.perf_counter() - started
        stop.set()
        sampler.join()
        time.sleep(3)
        after = wal_mb(db)
        print(f"memvault {memvault.__file__}")
        print(f"load {os.getloadavg()[0]:.1f}, {args.appends} appends by {args.vaults} Vault(s): "
              f"{args.appends / seconds:,.0f}/s, WAL peak {max(peak[0], after):.1f} MB, "
              f"3 s later {after:.1f} MB, store {db.stat().st_size / 1e6:.1f} MB")  # fmt: skip
        for v in vaults:
            v.close()


if __name__ == "__main__":
    main()
