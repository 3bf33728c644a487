"""Embedding throughput, before and after, alternated in one run: `memvault embed` over a store
of memories without vectors, and `memvault serve` answering concurrent POST /api/memories that
embed their content.

    git archive main | tar -x -C /tmp/oldsrc      # the code to compare against ("before")
    .venv/bin/python bench/embed_throughput.py --old /tmp/oldsrc/src [--rows 1500] [--rounds 2]
        [--clients 8] [--posts 40] [--hog]

"before" and "after" are the same commands run by the same interpreter, with PYTHONPATH set to
`--old` or to this checkout's src/ (each process prints which memvault it imported, checked).
`memvault embed`: the wall time of the whole command (start-up, model load, reading, embedding,
writing) on a fresh copy of one SQLite store holding `--rows` memories without vectors; rows/s.
Service: a real `memvault serve` on a free loopback port, on a fresh copy of an empty store;
`--clients` keep-alive clients each POST `--posts` memories (distinct texts, embedded on write),
all at once; requests/s over the batch and the latency of each POST. Beside the rates, the CPU
time per row (the `embed` process) and per POST (the server process, during the load): less
sensitive than wall time to a shared machine's load. `--hog`: a subprocess
spinning on one core during every measurement (started by the bench, killed at the end).
Loops are bounded in count and time; only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import header, pct

HOST = "127.0.0.1"
NEW = str(Path(__file__).resolve().parents[1] / "src")
HOG = "import time\nend = time.monotonic() + {s}\nwhile time.monotonic() < end:\n    pass\n"
CLI = "import sys, memvault.entry as e; sys.argv[0] = 'memvault'; sys.exit(e.main())"
WORDS = [
    "tea", "coffee", "bread", "cheese", "lentils", "rice", "pasta", "soup", "apples", "garden",
    "bicycle", "train", "office", "music", "piano", "guitar", "chess", "football", "running",
    "swimming", "mountains", "sea", "river", "Lyon", "Paris", "Berlin", "cats", "dogs", "books",
    "novels", "poetry", "cinema", "theatre", "cooking", "baking", "painting", "photography",
    "meeting", "sister", "brother", "weekend", "holiday", "project", "deadline", "doctor",
    "dentist", "birthday", "recipe", "allergy",
]  # fmt: skip
MAX_SECONDS = 300.0
MAKE = """import sys
sys.path.append({bench!r})
import memvault
from memvault.keys import ApiKeys
from embed_throughput import make_store
make_store(sys.argv[1], int(sys.argv[3]))
with memvault.open("sqlite:///" + sys.argv[2]) as vault:
    user = vault.users.create("bench").id
    print(ApiKeys(vault).create(user, name="bench")[1])
"""


def sentence(i: int) -> str:
    w = [WORDS[(i * k + k * k) % len(WORDS)] for k in (3, 7, 11, 13, 17)]
    return (f"The user said that {w[0]} and {w[1]} matter to them, that they often think "
            f"about {w[2]} after {w[3]}, and asked to remember {w[4]} (note {i})")  # fmt: skip


def env_for(src: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = src
    for key in ("MEMVAULT_EMBED_THREADS", "MEMVAULT_BLAS_THREADS"):
        env.pop(key, None)
    return env


def check_import(src: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import memvault; print(memvault.__file__)"],
        env=env_for(src), capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if not out.startswith(str(Path(src).resolve())):
        raise SystemExit(f"PYTHONPATH={src} imports {out}: not the code asked for")


def make_store(path: str | Path, rows: int) -> None:
    import memvault

    with memvault.open(f"sqlite:///{path}", embed_memories=False) as vault:
        user = vault.users.create("bench").id
        with vault.transaction():
            for i in range(rows):
                vault.memories.add(user, "fact", sentence(i))


def upgrade(src: str, db: Path) -> None:
    """Bring a copy of the stores (made by the older tree) to `src`'s schema, untimed."""
    subprocess.run([sys.executable, "-c", CLI, "upgrade", "--db", f"sqlite:///{db}"],
                   env=env_for(src), capture_output=True, check=True)  # fmt: skip


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process `pid`."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_embed(src: str, store: Path, work: Path) -> tuple[float, float]:
    db = work / "embed.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copy(store, db)
    upgrade(src, db)
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CLI, "embed", "--db", f"sqlite:///{db}", "--json"],
        env=env_for(src), capture_output=True, text=True, timeout=MAX_SECONDS,
    )  # fmt: skip
    took = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(f"memvault embed failed: {out.stderr[-2000:]}")
    done = json.loads(out.stdout)["embedded"]["memory"]
    cpu = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
    return float(done) / took, cpu * 1000 / done


# -- the service ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


async def post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, key: str,
               body: bytes) -> int:  # fmt: skip
    head = (
        f"POST /api/memories HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode() + body)
    status = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(status.split()[1])


async def load(port: int, key: str, clients: int, posts: int, tag: str
               ) -> tuple[list[float], float]:  # fmt: skip
    lat: list[float] = []

    async def client(c: int) -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            for i in range(posts):
                text = f"{tag} client {c}: " + sentence(c * 100_000 + i)
                body = json.dumps({"kind": "fact", "content": text}).encode()
                t0 = time.perf_counter()
                status = await post(reader, writer, key, body)
                lat.append(time.perf_counter() - t0)
                if status != 201:
                    raise RuntimeError(f"POST /api/memories answered {status}")
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(client(c) for c in range(clients))), MAX_SECONDS)
    return lat, time.perf_counter() - t0


def run_service(src: str, store: Path, key: str, work: Path, clients: int, posts: int,
                tag: str) -> tuple[list[float], float, float]:  # fmt: skip
    db = work / "serve.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copy(store, db)
    upgrade(src, db)
    port = free_port()
    args = [sys.executable, "-c", CLI, "serve", "--host", HOST, "--port", str(port),
            "--db", f"sqlite:///{db}"]  # fmt: skip
    proc = subprocess.Popen(args, env=env_for(src), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection((HOST, port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the service did not start") from None
                time.sleep(0.1)
        asyncio.run(load(port, key, 1, 2, f"warm {tag}"))  # loads the model
        cpu0 = proc_cpu(proc.pid)
        lat, took = asyncio.run(load(port, key, clients, posts, tag))
        cpu = proc_cpu(proc.pid) - cpu0
        return lat, clients * posts / took, cpu * 1000 / (clients * posts)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--old", required=True, help="src/ of the code to compare against")
    ap.add_argument("--rows", type=int, default=1500, help="memories for `memvault embed`")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--posts", type=int, default=40, help="POSTs per client")
    ap.add_argument("--hog", action="store_true", help="keep one core busy meanwhile")
    ap.add_argument("--skip", choices=["embed", "serve"], default=None)
    args = ap.parse_args()
    sides = {"before": str(Path(args.old).resolve()), "after": NEW}
    for src in sides.values():
        check_import(src)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        store = work / "store.db"
        empty = work / "empty.db"
        # made by the older tree, whose schema both trees open (the newer one upgrades
        # each run's copy; an older memvault refuses a newer schema)
        key = subprocess.run(
            [sys.executable, "-c", MAKE.format(bench=str(Path(__file__).resolve().parent)),
             str(store), str(empty), str(args.rows)],
            env=env_for(sides["before"]), capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        header("Embedding throughput: `memvault embed` and `memvault serve`, before / after")
        hog = subprocess.Popen([sys.executable, "-c", HOG.format(s=3600)]) if args.hog else None
        load0 = os.getloadavg()
        rates: dict[str, list[float]] = {s: [] for s in sides}
        served: dict[str, list[float]] = {s: [] for s in sides}
        lats: dict[str, list[float]] = {s: [] for s in sides}
        cpus: dict[str, list[float]] = {s: [] for s in sides}
        scpus: dict[str, list[float]] = {s: [] for s in sides}
        try:
            for r in range(args.rounds):
                order = list(sides) if r % 2 == 0 else list(reversed(sides))
                for side in order:
                    if args.skip != "embed":
                        rate, cpu = run_embed(sides[side], store, work)
                        rates[side].append(rate)
                        cpus[side].append(cpu)
                        print(f"round {r + 1} {side:6} memvault embed: {rate:7.1f} rows/s, "
                              f"{cpu:.1f} CPU ms/row", flush=True)  # fmt: skip
                    if args.skip != "serve":
                        tag = f"{side}-{r}"
                        lat, rps, cpu = run_service(
                            sides[side], empty, key, work, args.clients, args.posts, tag
                        )
                        served[side].append(rps)
                        scpus[side].append(cpu)
                        lats[side] += lat
                        print(f"round {r + 1} {side:6} serve: {rps:6.1f} POST/s, "
                              f"{cpu:.1f} server CPU ms/POST, p50 "
                              f"{pct(lat, 50) * 1e3:.0f} ms, p95 {pct(lat, 95) * 1e3:.0f} ms",
                              flush=True)  # fmt: skip
        finally:
            if hog is not None:
                hog.kill()
                hog.wait()
        load1 = os.getloadavg()
    hogs = "one CPU hog (started by the bench)" if args.hog else "no CPU hog"
    print(f"\n{os.cpu_count()} cores, {hogs}; load average {load0[0]:.2f} before, "
          f"{load1[0]:.2f} after (1 min)")  # fmt: skip
    if args.skip != "embed":
        b, a = statistics.median(rates["before"]), statistics.median(rates["after"])
        print(f"memvault embed ({args.rows:,} memories), median rows/s: before {b:.1f}, "
              f"after {a:.1f}: {a / b:.2f}x; CPU ms/row before "
              f"{statistics.median(cpus['before']):.1f}, after "
              f"{statistics.median(cpus['after']):.1f}")  # fmt: skip
    if args.skip != "serve":
        b, a = statistics.median(served["before"]), statistics.median(served["after"])
        print(f"serve, {args.clients} clients x {args.posts} POST /api/memories (embedded), "
              f"median POST/s: before {b:.1f}, after {a:.1f}: {a / b:.2f}x; server CPU ms/POST "
              f"before {statistics.median(scpus['before']):.1f}, after "
              f"{statistics.median(scpus['after']):.1f}; latency p50/p95 "
              f"before {pct(lats['before'], 50) * 1e3:.0f}/{pct(lats['before'], 95) * 1e3:.0f} "
              f"ms, after {pct(lats['after'], 50) * 1e3:.0f}/"
              f"{pct(lats['after'], 95) * 1e3:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
