"""`memvault hook` process time per event, from spawn to exit (issue 15: p95 ≤ 150 ms).

    .venv/bin/python bench/hook.py [--events 200] [--pg URL] [--before OTHER_TREE/src]

A coding agent runs the hook once per tool call and waits for it, so the whole process
counts: interpreter start, imports, opening the store, the writes, exit. Each event is a
fresh `memvault hook` process (the installed entry point) fed a realistic Claude Code event
on stdin, cycling through a session: one prompt, then tool calls (Read, Grep, Edit, Bash,
an MCP tool, a sub-agent). Side by side in the same run, the floors: a bare `python -c pass`,
`import memvault` (every `memvault.*` module runs the package's `__init__` first, so no hook
can start faster) and `memvault --version` (the Typer CLI's start-up). `--background` spools
the event and leaves the store to a detached child, which is let finish (untimed) before the
next event, as tool calls seconds apart would; the store is checked complete after.
The source tree is byte-compiled first, as an installed package is.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, pct

MEMVAULT = shutil.which("memvault", path=os.path.dirname(sys.executable)) or "memvault"
SRC = Path(__file__).resolve().parent.parent / "src"


def events(n: int) -> list[dict[str, object]]:
    base = {"session_id": "bench-session", "transcript_path": "/tmp/t.jsonl",
            "cwd": "/home/dev/shop"}  # fmt: skip
    tools: list[tuple[str, dict[str, object]]] = [
        ("Read", {"file_path": "/home/dev/shop/checkout.py"}),
        ("Grep", {"pattern": "def pay", "path": "/home/dev/shop"}),
        (
            "Edit",
            {"file_path": "/home/dev/shop/checkout.py", "old_string": "a", "new_string": "b"},
        ),
        ("Bash", {"command": "pytest -q tests/test_checkout.py"}),
        ("mcp__memvault__search_memories", {"query": "checkout conventions"}),
        ("Task", {"subagent_type": "code-reviewer", "prompt": "review the diff"}),
    ]
    out: list[dict[str, object]] = []
    i = 0
    while len(out) < n:
        if i % 7 == 0:
            out.append(
                {
                    **base,
                    "hook_event_name": "UserPromptSubmit",
                    "prompt": f"fix the failing checkout payment test number {i}",
                }
            )
        else:
            name, tool_input = tools[i % len(tools)]
            out.append({**base, "hook_event_name": "PostToolUse", "tool_name": name,
                        "tool_input": tool_input, "tool_response": {"stdout": "ok"},
                        "tool_use_id": f"toolu_{i}"})  # fmt: skip
        i += 1
    return out


def timed(argv: list[str], stdin: bytes, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system of the process and its waited-for children) seconds."""
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, input=stdin, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or b"spooled" in done.stderr or b"set aside" in done.stderr:
        raise SystemExit(f"{argv}: {done.returncode} {done.stderr.decode()[-500:]}")
    cpu = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
    return elapsed, cpu


def row(name: str, xs: list[tuple[float, float]]) -> None:
    wall, cpu = [x[0] for x in xs], [x[1] for x in xs]
    ms = [pct(wall, 50), pct(wall, 95), pct(wall, 99), pct(cpu, 50), pct(cpu, 95)]
    print(f"| {name} | {len(xs)} | " + " | ".join(f"{1e3 * x:.1f}" for x in ms) + " |")


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _empty(url: str) -> None:
    import psycopg

    from memvault.store.schema import metadata

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(t.name for t in metadata.sorted_tables)} CASCADE")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--pg", help="also measure against this PostgreSQL URL (emptied first)")
    ap.add_argument("--before", help="a source tree (its src/) to time side by side, e.g. main's")
    args = ap.parse_args()
    compileall.compile_dir(str(SRC), quiet=1)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MEMVAULT_URL", "MEMVAULT_USER", "PYTHONDONTWRITEBYTECODE")
    }
    header(f"memvault hook: process time per event ({args.events} events a store)")
    print(f"load average at start: {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        # Every case in turn for each event (floors, each hook mode, and with --before SRC
        # the same hook from that source tree), so that the load hits them all alike.
        cases: dict[str, tuple[list[str], dict[str, str], str | None]] = {
            "floor: `python -c pass`": ([sys.executable, "-c", "pass"], env, None),
            "floor: `python -c 'import memvault'`": (
                [sys.executable, "-c", "import memvault"], env, None),
            "floor: `memvault --version` (Typer CLI)": ([MEMVAULT, "--version"], env, None),
        }  # fmt: skip
        sides = [("", env)]
        if args.before:
            compileall.compile_dir(args.before, quiet=1)
            sides.append((" (before)", {**env, "PYTHONPATH": args.before}))
        stores = [("SQLite", "sqlite")]
        if args.pg:
            stores.append(("PostgreSQL", args.pg))
        pg_used = False
        for label, kind in stores:
            for side, side_env in sides:
                for mode in ("", "--background"):
                    if kind == "sqlite":
                        url = f"sqlite:///{tmp}/hook{mode}{side.strip(' ()')}.db"
                    elif pg_used:
                        continue  # one PostgreSQL database: the first side and mode only
                    else:
                        url, pg_used = kind, True
                    # The store made by the side's own code (its schema revision).
                    make = f"import memvault; memvault.open({url!r}).close()"
                    subprocess.run([sys.executable, "-c", make], env=side_env, check=True)
                    spool = f"{tmp}/spool-{label}{mode}{side.strip(' ()')}.jsonl"
                    argv = [MEMVAULT, "hook", "--db", url, "--user", "dev", "--spool", spool]
                    argv += [mode] if mode else []
                    name = f"`memvault hook {mode}` on {label}{side}".replace(" `", "`")
                    cases[name] = (argv, side_env, spool)
        payloads = [json.dumps(e).encode() for e in events(args.events)]
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        for i, p in enumerate(payloads):
            for name, (argv, case_env, spool) in cases.items():
                x = timed(argv, p if spool else b"", case_env)
                if i:  # the first event creates the user, session and project
                    results[name].append(x)
                # An agent's tool calls are seconds apart: let the detached writer finish
                # (untimed) so that it does not steal the next case's CPU on 2 cores.
                while spool and Path(spool).exists():
                    time.sleep(0.01)
        print(f"load average at end: {load()}\n")
        print("| case | n | p50 ms | p95 ms | p99 ms | CPU p50 ms | CPU p95 ms |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for name, xs in results.items():
            row(name, xs)
        notes = []
        for name, (argv, case_env, spool) in cases.items():
            if spool is None:
                continue
            url = argv[argv.index("--db") + 1]
            code = (f"import memvault; v = memvault.open({url!r}); "
                    "print(len(v.actions.list(memvault.ANY, limit=100_000)))")  # fmt: skip
            n = subprocess.run([sys.executable, "-c", code], env=case_env, capture_output=True,
                               text=True, check=True).stdout.strip()  # fmt: skip
            left = "empty" if not Path(spool).exists() else "NOT EMPTY"
            notes.append(f"{name}: {n} actions stored, spool {left}")
        if args.pg:
            _empty(args.pg)
        print("\n" + "; ".join(notes))


if __name__ == "__main__":
    main()
