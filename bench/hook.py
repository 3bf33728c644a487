"""`memvault hook` process time per event, from spawn to exit (issue 15: p95 ≤ 150 ms).

    .venv/bin/python bench/hook.py [--events 200] [--pg URL]

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


def timed(argv: list[str], stdin: bytes, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, input=stdin, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or b"spooled" in done.stderr or b"set aside" in done.stderr:
        raise SystemExit(f"{argv}: {done.returncode} {done.stderr.decode()[-500:]}")
    return elapsed


def row(name: str, xs: list[float]) -> None:
    print(f"| {name} | {len(xs)} | {pct(xs, 50) * 1e3:.1f} | {pct(xs, 95) * 1e3:.1f} | "
          f"{pct(xs, 99) * 1e3:.1f} |")  # fmt: skip


def _empty(url: str) -> None:
    import psycopg

    from memvault.store.schema import metadata

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(t.name for t in metadata.sorted_tables)} CASCADE")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--pg", help="also measure against this PostgreSQL URL (emptied first)")
    args = ap.parse_args()
    compileall.compile_dir(str(SRC), quiet=1)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MEMVAULT_URL", "MEMVAULT_USER", "PYTHONDONTWRITEBYTECODE")
    }
    header(f"memvault hook: process time per event ({args.events} events a store)")
    print("| case | n | p50 ms | p95 ms | p99 ms |\n| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        floor = [timed([sys.executable, "-c", "pass"], b"", env) for _ in range(30)]
        row("floor: `python -c pass`", floor)
        package = [timed([sys.executable, "-c", "import memvault"], b"", env) for _ in range(30)]
        row("floor: `python -c 'import memvault'` (the package's own imports)", package)
        version = [timed([MEMVAULT, "--version"], b"", env) for _ in range(30)]
        row("floor: `memvault --version` (Typer CLI)", version)
        stores = [("SQLite", f"sqlite:///{tmp}/hook.db")]
        if args.pg:
            stores.append(("PostgreSQL", args.pg))
        import memvault

        notes = []
        for label, url in stores:
            for mode in ("", "--background"):
                if url.startswith("sqlite"):
                    url = f"sqlite:///{tmp}/hook{mode}.db"
                memvault.open(url).close()
                spool = f"{tmp}/spool-{label}{mode}.jsonl"
                argv = [MEMVAULT, "hook", "--db", url, "--user", "dev", "--spool", spool]
                argv += [mode] if mode else []
                payloads = [json.dumps(e).encode() for e in events(args.events)]
                timed(argv, payloads[0], env)  # creates the user, session and project
                xs = []
                for p in payloads[1:]:
                    xs.append(timed(argv, p, env))
                    # An agent's tool calls are seconds apart: let the detached writer finish
                    # (untimed) so that it does not steal the next event's CPU on 2 cores.
                    while mode and Path(spool).exists():
                        time.sleep(0.01)
                row(f"`memvault hook {mode}` on {label}".replace(" `", "`"), xs)
                deadline = time.monotonic() + 120
                while Path(spool).exists() and time.monotonic() < deadline:
                    time.sleep(0.2)  # the background writer finishing
                with memvault.open(url) as vault:
                    n = len(vault.actions.list(memvault.ANY, limit=100_000))
                notes.append(
                    f"{label} {mode or 'foreground'}: {n} actions stored, spool "
                    f"{'empty' if not Path(spool).exists() else 'NOT EMPTY'}"
                )
                if url == args.pg:
                    _empty(url)
        print("\n" + "; ".join(notes))


if __name__ == "__main__":
    main()
