"""Newcomer journey 15b: memvault as the memory of coding agents and chatbots.

What a new user does with only README.md, docs/ and `--help`: register `memvault mcp` and
drive every tool over stdio (and streamable HTTP) with good and bad arguments, two servers
for two users, a writer holding the SQLite lock; feed a Claude-Code-like session through
`memvault hook` (spool when the store is missing or locked, replay, `--background`,
`--server`), install it into a settings file that already holds other hooks; port a mem0
script by changing one import. SQLite files and the real PostgreSQL servers.

Tests for the problems found assert the correct behaviour and are marked xfail(strict=True)
with the number of the finding in /work/notes/newcomer15b.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from tests._servers import drop_database, fresh_database
from tests.journeys.conftest import MEMVAULT, Cli, user_env

pytestmark = pytest.mark.slow

mcp = pytest.importorskip("mcp")
from mcp.client.stdio import stdio_client  # noqa: E402

from mcp import ClientSession, StdioServerParameters  # noqa: E402

# --------------------------------------------------------------------------- helpers


def hook_env(home: Path) -> dict[str, str]:
    """A shell whose home (and so the default spool folder) is `home`."""
    env = user_env(HOME=str(home))
    env.pop("XDG_STATE_HOME", None)
    return env


def spool_dir(home: Path) -> Path:
    return home / ".local" / "state" / "memvault"


SID = "5f1c2d7e-1111-4a2b-9c3d-aaaaaaaaaaaa"


def claude_session(sid: str = SID, cwd: str = "/work/acme/billing") -> list[dict[str, Any]]:
    """A realistic Claude Code session: 3 prompts, 12 tool calls (Pre + Post or Failure),
    3 failures with `error`, Stop after each turn, SessionEnd."""
    base = {
        "session_id": sid,
        "transcript_path": f"/home/ana/.claude/projects/billing/{sid}.jsonl",
        "cwd": cwd,
        "permission_mode": "default",
    }
    events: list[dict[str, Any]] = []
    n = 0

    def ev(name: str, **kw: Any) -> None:
        events.append({**base, "hook_event_name": name, **kw})

    def tool(name: str, inp: dict[str, Any], resp: Any = None, err: str | None = None) -> None:
        nonlocal n
        n += 1
        tid = f"toolu_{sid[:4]}{n:04d}"
        ev("PreToolUse", tool_name=name, tool_input=inp, tool_use_id=tid)
        if err is None:
            ev(
                "PostToolUse",
                tool_name=name,
                tool_input=inp,
                tool_response=resp or {},
                tool_use_id=tid,
            )
        else:
            ev(
                "PostToolUseFailure",
                tool_name=name,
                tool_input=inp,
                tool_use_id=tid,
                error=err,
                is_interrupt=False,
            )

    ev("SessionStart", source="startup")
    ev("UserPromptSubmit", prompt="Run the billing test suite and fix the invoice rounding failure")
    tool(
        "Bash",
        {"command": "pytest -x -q tests/test_invoice.py"},
        err="Command failed with exit code 1: FAILED tests/test_invoice.py::test_round",
    )
    tool("Read", {"file_path": f"{cwd}/billing/invoice.py"}, {"type": "text"})
    tool(
        "Edit",
        {
            "file_path": f"{cwd}/billing/invoice.py",
            "old_string": "round(x, 2)",
            "new_string": "quantize(x)",
        },
        {"filePath": f"{cwd}/billing/invoice.py"},
    )
    tool("Bash", {"command": "pytest -x -q tests/test_invoice.py"}, {"stdout": "12 passed"})
    ev("Stop", stop_hook_active=False)
    ev(
        "UserPromptSubmit",
        prompt="Ask a subagent to review the diff, then check the GitHub issues about rounding",
    )
    tool(
        "Task",
        {
            "description": "Review diff",
            "prompt": "Review the rounding change",
            "subagent_type": "code-reviewer",
        },
        {"content": [{"type": "text", "text": "LGTM"}]},
    )
    tool("mcp__github__search_issues", {"q": "rounding repo:acme/billing"}, {"items": []})
    tool("mcp__github__create_issue", {"title": "x"}, err="MCP error -32603: permission denied")
    tool("Grep", {"pattern": "quantize", "path": cwd}, {"numFiles": 2})
    tool("Bash", {"command": "git diff --stat"}, {"stdout": " billing/invoice.py | 4 ++--"})
    ev("Stop", stop_hook_active=False)
    ev("UserPromptSubmit", prompt="run the tests again and commit")
    tool("Bash", {"command": "pytest -q"}, {"stdout": "240 passed"})
    tool("Bash", {"command": "git commit -am 'fix: invoice rounding'"}, {"stdout": "[main abc123]"})
    tool(
        "Bash",
        {"command": "git push"},
        err="Command failed with exit code 128: fatal: could not read Username",
    )
    ev("Stop", stop_hook_active=False)
    ev("SessionEnd", reason="prompt_input_exit")
    return events


def feed(
    cli: Cli, events: list[dict[str, Any]], *args: str
) -> list[subprocess.CompletedProcess[str]]:
    """Each event through its own `memvault hook` process, as the agent runs it."""
    out = []
    for e in events:
        r = cli("hook", *args, input=json.dumps(e))
        assert r.returncode == 0, (e["hook_event_name"], r.stderr)
        out.append(r)
    return out


def counts(cli: Cli, db: str) -> dict[str, int]:
    data = cli.json("stats", "--db", db)
    table = data.get("counts", data)
    return {k: table[k] for k in ("actions", "messages", "sessions")}


def actions(cli: Cli, db: str) -> list[dict[str, Any]]:
    return json.loads(cli.ok("actions", "list", "--db", db, "--limit", "500", "--json").stdout)


def tool_text(result: Any) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


async def mcp_session(
    stack: AsyncExitStack, db: str, user: str, *extra: str, cwd: Path
) -> ClientSession:
    params = StdioServerParameters(
        command=MEMVAULT,
        args=["mcp", "--user", user, "--db", db, *extra],
        env=user_env(),
        cwd=str(cwd),
    )
    read, write = await stack.enter_async_context(stdio_client(params))
    session = await stack.enter_async_context(ClientSession(read, write))
    await session.initialize()
    return session


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database on the PostgreSQL server named by the test's `server` param."""
    servers = request.getfixturevalue("pg_servers")
    name = request.param
    if name not in servers:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL server {name} is not available in CI")
        pytest.skip(f"PostgreSQL server {name} not available")
    db = f"nc15b_{name}_{os.getpid()}"
    url = fresh_database(servers[name], db)
    yield url
    drop_database(servers[name], db)


# --------------------------------------------------------------------------- help


def test_help_descriptions_are_not_hard_wrapped_mid_sentence(cli: Cli) -> None:
    top = cli.ok("-h").stdout  # COLUMNS=200: every description fits on one line
    check_line = next(line for line in top.splitlines() if "│ check " in line)
    assert "exits 1 when anything is wrong" in check_line
    hook = cli.ok("hook", "-h").stdout
    install_line = next(line for line in hook.splitlines() if "│ install " in line)
    assert "SessionEnd" in install_line


def test_hook_help_lists_the_busy_timeout_the_readme_names(cli: Cli) -> None:
    assert "--busy-timeout" in cli.ok("hook", "-h").stdout


def test_mcp_lets_the_user_shorten_the_30s_lock_wait(cli: Cli) -> None:
    assert "--busy-timeout" in cli.ok("mcp", "-h").stdout


# --------------------------------------------------------------------------- MCP


def test_mcp_stdio_every_tool_good_and_bad(tmp_path: Path) -> None:
    db = str(tmp_path / "agent" / "me.db")  # a new file in a new folder: created on start

    async def go() -> None:
        async with AsyncExitStack() as st:
            s = await mcp_session(st, db, "ana", "--allow-delete-all", cwd=tmp_path)
            tools = {t.name: t for t in (await s.list_tools()).tools}
            assert set(tools) == {
                "add_memory",
                "search_memories",
                "list_memories",
                "update_memory",
                "delete_memory",
                "memory_history",
                "log_message",
                "recent_messages",
                "suggest_tools",
                "delete_all_memories",
            }
            assert "user_id" not in json.dumps([t.input_schema for t in tools.values()])
            assert tools["add_memory"].input_schema["properties"]["kind"]["enum"][0] == "fact"
            c = s.call_tool
            a = await c(
                "add_memory",
                {
                    "content": "Prefers pytest; runs tests with -x -q",
                    "kind": "preference",
                    "importance": 0.8,
                    "metadata": {"topic": "testing"},
                },
            )
            assert not a.is_error
            mid = a.structured_content["id"]
            again = await c(
                "add_memory",
                {"content": "Prefers pytest; runs tests with -x -q", "kind": "preference"},
            )
            assert again.structured_content["id"] == mid
            await c(
                "add_memory",
                {
                    "content": "billing deploys with GitHub Actions to Fly.io",
                    "metadata": {"topic": "deploy"},
                },
            )
            bad = {
                "kind": ("add_memory", {"content": "x", "kind": "gossip"}),
                "content": ("add_memory", {"content": "   "}),
                "importance": ("add_memory", {"content": "y", "importance": 3}),
                "user_id": ("add_memory", {"content": "sneaky", "user_id": "bob"}),
                "metadata": ("add_memory", {"content": "m", "metadata": "topic=x"}),
                "filters": ("search_memories", {"query": "d", "filters": {"nonsense": 1}}),
                "mode": ("search_memories", {"query": "d", "mode": "fuzzy"}),
                "since": ("search_memories", {"query": "d", "since": "yesterday"}),
                "reason": ("update_memory", {"memory_id": mid, "content": "zzz"}),
                "memory_id": (
                    "update_memory",
                    {"memory_id": "nope", "reason": "r", "content": "c"},
                ),
                "role": ("log_message", {"conversation": "c", "content": "x", "role": "boss"}),
                "conversation": ("log_message", {"conversation": "", "content": "x"}),
                "request": ("suggest_tools", {"request": ""}),
                "confirm": ("delete_all_memories", {"confirm": "yes"}),
            }
            for field, (name, args) in bad.items():
                r = await c(name, args)
                assert r.is_error, (field, tool_text(r))
                assert field in tool_text(r), (field, tool_text(r))
                assert "Traceback" not in tool_text(r)
            hits = await c(
                "search_memories", {"query": "deploy", "filters": {"metadata.topic": "deploy"}}
            )
            assert [h["content"] for h in hits.structured_content["results"]] == [
                "billing deploys with GitHub Actions to Fly.io"
            ]
            up = await c(
                "update_memory",
                {
                    "memory_id": mid,
                    "reason": "new flags",
                    "content": "Prefers pytest; runs tests with -n auto",
                },
            )
            assert not up.is_error
            await c("log_message", {"conversation": "standup", "content": "fixed rounding"})
            await c(
                "log_message", {"conversation": "standup", "content": "next?", "role": "assistant"}
            )
            rec = await c("recent_messages", {"conversation": "standup"})
            assert [m["content"] for m in rec.structured_content["messages"]] == [
                "fixed rounding",
                "next?",
            ]
            assert (await c("recent_messages", {"conversation": "never"})).is_error
            assert not (await c("delete_memory", {"memory_id": mid, "reason": "obsolete"})).is_error
            hist = await c("memory_history", {"memory_id": mid})
            ops = [h["op"] for h in hist.structured_content["history"]]
            assert ops[0] == "create" and ops[-1] == "delete"
            gone = await c("delete_all_memories", {"confirm": "delete all my memories"})
            assert not gone.is_error
            assert (await c("list_memories", {})).structured_content["memories"] == []

    run(go())


def test_mcp_errors_have_one_format(tmp_path: Path) -> None:
    async def go() -> list[str]:
        async with AsyncExitStack() as st:
            s = await mcp_session(st, str(tmp_path / "m.db"), "ana", cwd=tmp_path)
            return [
                tool_text(await s.call_tool("add_memory", {"content": "x", "kind": "gossip"})),
                tool_text(await s.call_tool("add_memory", {"content": "   "})),
            ]

    schema_error, memvault_error = run(go())
    assert schema_error.startswith("invalid kind=")
    assert memvault_error.startswith("invalid content=")


def test_mcp_update_that_changes_nothing_is_refused(tmp_path: Path) -> None:
    async def go() -> Any:
        async with AsyncExitStack() as st:
            s = await mcp_session(st, str(tmp_path / "m.db"), "ana", cwd=tmp_path)
            a = await s.call_tool("add_memory", {"content": "likes green tea"})
            mid = a.structured_content["id"]
            same = {"memory_id": mid, "reason": "same", "content": "likes green tea"}
            refused = await s.call_tool("update_memory", same)
            hist = await s.call_tool("memory_history", {"memory_id": mid})
            return refused, [h["op"] for h in hist.structured_content["history"]]

    refused, ops = run(go())
    assert refused.is_error
    assert "nothing to change" in tool_text(refused)
    assert "nothing was written" in tool_text(refused)
    assert ops == ["create"]


def test_mcp_two_servers_two_users_are_isolated(tmp_path: Path) -> None:
    db = str(tmp_path / "shared.db")

    async def go() -> None:
        async with AsyncExitStack() as st:
            alice = await mcp_session(st, db, "alice", cwd=tmp_path)
            bob = await mcp_session(st, db, "bob", cwd=tmp_path)
            secret = await alice.call_tool(
                "add_memory", {"content": "Alice's AWS account is 1234-5678"}
            )
            sid = secret.structured_content["id"]
            await bob.call_tool("add_memory", {"content": "Bob likes Rust"})
            await alice.call_tool(
                "log_message", {"conversation": "standup", "content": "alice only"}
            )
            found = await bob.call_tool("search_memories", {"query": "AWS account"})
            assert "1234" not in tool_text(found)
            listed = await bob.call_tool("list_memories", {})
            assert [m["content"] for m in listed.structured_content["memories"]] == [
                "Bob likes Rust"
            ]
            for name, args in [
                ("memory_history", {"memory_id": sid}),
                ("update_memory", {"memory_id": sid, "reason": "x", "content": "hacked"}),
                ("delete_memory", {"memory_id": sid}),
                ("recent_messages", {"conversation": "standup"}),
            ]:
                r = await bob.call_tool(name, args)
                assert r.is_error and "not found" in tool_text(r), (name, tool_text(r))
            mine = await alice.call_tool("list_memories", {})
            assert [m["content"] for m in mine.structured_content["memories"]] == [
                "Alice's AWS account is 1234-5678"
            ]

    run(go())


def test_mcp_reads_go_on_and_writes_wait_while_another_process_writes(tmp_path: Path) -> None:
    db = tmp_path / "locked.db"

    async def go() -> None:
        async with AsyncExitStack() as st:
            s = await mcp_session(st, str(db), "ana", cwd=tmp_path)
            await s.call_tool("add_memory", {"content": "written before the lock"})
            con = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
            con.execute("BEGIN IMMEDIATE")
            threading.Thread(target=lambda: (time.sleep(3), con.execute("ROLLBACK"))).start()

            async def write() -> tuple[float, Any]:
                t0 = time.monotonic()
                r = await s.call_tool("add_memory", {"content": "written while locked"})
                return time.monotonic() - t0, r

            async def read() -> tuple[float, Any]:
                await asyncio.sleep(0.5)
                t0 = time.monotonic()
                r = await s.call_tool("list_memories", {"limit": 5})
                return time.monotonic() - t0, r

            (wt, wr), (rt, rr) = await asyncio.gather(write(), read())
            con.close()
            assert not wr.is_error and wt >= 2.0, wt
            assert not rr.is_error and rt < 2.0, rt
            contents = [
                m["content"]
                for m in (await s.call_tool("list_memories", {})).structured_content["memories"]
            ]
            assert set(contents) == {"written before the lock", "written while locked"}

    run(go())


def test_mcp_streamable_http_and_its_refusals(cli: Cli, tmp_path: Path) -> None:
    from tests.journeys.conftest import free_port

    try:
        from mcp.client.streamable_http import streamable_http_client as http_client
    except ImportError:  # pragma: no cover - older SDK name
        from mcp.client.streamable_http import streamablehttp_client as http_client  # type: ignore

    port = free_port()
    db = str(tmp_path / "h.db")
    proc = subprocess.Popen(
        [MEMVAULT, "mcp", "--http", "--port", str(port), "--user", "carol", "--db", db],
        cwd=tmp_path,
        env=user_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/mcp"

        async def go() -> None:
            deadline = time.monotonic() + 60
            while True:
                try:
                    async with (
                        http_client(url) as streams,
                        ClientSession(streams[0], streams[1]) as s,
                    ):
                        await s.initialize()
                        r = await s.call_tool("add_memory", {"content": "Carol deploys on Fridays"})
                        assert not r.is_error
                        hits = await s.call_tool(
                            "search_memories", {"query": "when does carol deploy"}
                        )
                        assert "Fridays" in tool_text(hits)
                        r = await s.call_tool("add_memory", {"content": "z", "user_id": "dave"})
                        assert r.is_error and "user_id" in tool_text(r)
                        return
                except Exception:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise
                    await asyncio.sleep(0.5)

        run(go())
        busy = Cli(tmp_path)("mcp", "--http", "--port", str(port), "--user", "carol", "--db", db)
        assert busy.returncode == 1 and "Address already in use" in busy.stderr
        public = Cli(tmp_path)(
            "mcp",
            "--http",
            "--host",
            "0.0.0.0",
            "--port",
            str(free_port()),
            "--user",
            "carol",
            "--db",
            db,
        )
        assert public.returncode != 0 and "loopback" in public.stderr
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.mark.parametrize("pg_url", ["pg15", "pg18"], indirect=True)
def test_mcp_on_postgresql(cli: Cli, tmp_path: Path, pg_url: str) -> None:
    refused = cli("mcp", "--user", "ana", "--db", pg_url, input="")
    assert refused.returncode != 0 and "memvault init" in refused.stderr
    cli.ok("init", "--db", pg_url)

    async def go() -> None:
        async with AsyncExitStack() as st:
            ana = await mcp_session(st, pg_url, "ana", cwd=tmp_path)
            bob = await mcp_session(st, pg_url, "bob", cwd=tmp_path)
            a = await ana.call_tool(
                "add_memory",
                {"content": "Ana's staging DB is on port 6543", "metadata": {"topic": "infra"}},
            )
            assert not a.is_error
            hits = await ana.call_tool("search_memories", {"query": "staging port", "mode": "text"})
            assert "6543" in tool_text(hits)
            assert "6543" not in tool_text(
                await bob.call_tool("search_memories", {"query": "staging port"})
            )
            r = await bob.call_tool("delete_memory", {"memory_id": a.structured_content["id"]})
            assert r.is_error and "not found" in tool_text(r)
            r = await ana.call_tool(
                "search_memories", {"query": "x", "filters": {"importance": {"between": 1}}}
            )
            assert r.is_error and "between" in tool_text(r)

    run(go())


# --------------------------------------------------------------------------- hooks


def test_hook_session_spooled_while_store_missing_then_replayed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    cli = Cli(tmp_path, hook_env(home))
    db = str(tmp_path / "later" / "hook.db")
    events = claude_session()
    results = feed(cli, events, "--db", db, "--user", "ana")
    # PreToolUse only notes its call's start (beside the spool); every other event is spooled
    kept = [e for e in events if e["hook_event_name"] != "PreToolUse"]
    assert all(("spooled" in r.stderr) == (e in kept) for e, r in zip(events, results, strict=True))
    spools = list(spool_dir(home).glob("hook-*.jsonl"))
    assert len(spools) == 1 and len(spools[0].read_text().splitlines()) == len(kept)
    assert stat.S_IMODE(spools[0].stat().st_mode) == 0o600
    cli.ok("init", "--db", db)
    replay = cli.ok("hook", "replay", "--db", db, "--user", "ana")
    assert f"replayed {len(kept)} event" in " ".join(replay.stdout.split())
    assert counts(cli, db) == {"actions": 12, "messages": 3, "sessions": 1}
    acts = actions(cli, db)
    types = {a["tool_name"]: a["tool_type"] for a in acts}
    assert types["code-reviewer"] == "agent" and types["mcp__github__search_issues"] == "mcp"
    assert types["Bash"] == "builtin"
    assert sum(1 for a in acts if a["exit_code"] not in (0, None)) == 3
    assert any(
        a["file_paths"] == ["/work/acme/billing/billing/invoice.py"]
        for a in acts
        if a["tool_name"] == "Edit"
    )
    session = cli.json("sessions", "list", "--db", db, "--user", "ana")[0]
    assert session["key"] == f"agent:claude-code:{SID}" and session["title"].startswith(
        "billing: Run the"
    )
    route = cli.json("route", "run the tests", "--db", db, "--user", "ana")
    assert route[0]["tool_name"] == "Bash"
    # the same session delivered again: tool calls are recorded once
    feed(cli, events, "--db", db, "--user", "ana")
    assert counts(cli, db)["actions"] == 12


def test_hook_session_start_gives_memories_and_times_per_event(tmp_path: Path) -> None:
    home = tmp_path / "home"
    cli = Cli(tmp_path, hook_env(home))
    db = str(tmp_path / "hook.db")
    cli.ok("init", "--db", db)
    cli.ok("users", "add", "ana", "--db", db)
    cli.ok(
        "memories",
        "add",
        "fact",
        "billing rounds invoices with ROUND_HALF_EVEN",
        "--user",
        "ana",
        "--db",
        db,
    )
    events = claude_session("6a2b0000-2222-4a2b-9c3d-bbbbbbbbbbbb")
    walls = []
    for e in events:
        t0 = time.monotonic()
        r = cli("hook", "--db", db, "--user", "ana", input=json.dumps(e))
        walls.append(time.monotonic() - t0)
        assert r.returncode == 0 and not r.stderr, r.stderr
        if e["hook_event_name"] == "SessionStart":
            ctx = json.loads(r.stdout)["hookSpecificOutput"]["additionalContext"]
            assert "ROUND_HALF_EVEN" in ctx
    walls.sort()
    print(
        f"hook wall p50={walls[len(walls) // 2]:.3f}s p95={walls[int(len(walls) * 0.95)]:.3f}s "
        f"load={os.getloadavg()[0]:.1f}"
    )
    assert counts(cli, db)["actions"] == 12
    # --background: the same number of calls end up stored
    feed(
        cli,
        claude_session("7b3c0000-3333-4a2b-9c3d-cccccccccccc"),
        "--db",
        db,
        "--user",
        "ana",
        "--background",
    )
    deadline = time.monotonic() + 60
    while counts(cli, db)["actions"] < 24 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert counts(cli, db)["actions"] == 24


def test_hook_spools_while_locked_and_loses_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    cli = Cli(tmp_path, hook_env(home))
    db = tmp_path / "hook.db"
    cli.ok("init", "--db", str(db))
    events = claude_session("8c4d0000-4444-4a2b-9c3d-dddddddddddd")
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    try:
        done = feed(cli, events[:6], "--db", str(db), "--user", "ana")
        for e, r in zip(events[:6], done, strict=True):
            # PreToolUse only notes its call's start, beside the spool: it writes no store
            assert ("spooled" in r.stderr) == (e["hook_event_name"] != "PreToolUse")
    finally:
        con.execute("ROLLBACK")
        con.close()
    feed(cli, events[6:], "--db", str(db), "--user", "ana")
    assert counts(cli, db=str(db)) == {"actions": 12, "messages": 3, "sessions": 1}


def test_hook_session_start_gives_context_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    cli = Cli(tmp_path, hook_env(tmp_path / "home"))
    db = tmp_path / "hook.db"
    cli.ok("init", "--db", str(db))
    cli.ok("users", "add", "ana", "--db", str(db))
    cli.ok(
        "memories",
        "add",
        "fact",
        "billing rounds with ROUND_HALF_EVEN",
        "--user",
        "ana",
        "--db",
        str(db),
    )
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    try:
        r = cli("hook", "--db", str(db), "--user", "ana", input=json.dumps(claude_session()[0]))
    finally:
        con.execute("ROLLBACK")
        con.close()
    assert "ROUND_HALF_EVEN" in r.stdout
    assert "spooled" in r.stderr  # the write waited for the lock; the event is kept


def test_hook_keeps_the_exit_code_the_failure_names(tmp_path: Path) -> None:
    cli = Cli(tmp_path, hook_env(tmp_path / "home"))
    db = str(tmp_path / "hook.db")
    cli.ok("init", "--db", db)
    feed(cli, claude_session(), "--db", db, "--user", "ana")
    push = next(a for a in actions(cli, db) if a["input"] and "git push" in a["input"])
    assert push["exit_code"] == 128


def test_route_usage_count_counts_what_the_readme_says(tmp_path: Path) -> None:
    """Finding 15: the README said calls; it counts (prompt, tool, outcome) once each, and
    now says so: three Bash calls after one prompt teach one success."""
    cli = Cli(tmp_path, hook_env(tmp_path / "home"))
    db = str(tmp_path / "hook.db")
    cli.ok("init", "--db", db)
    base = {"session_id": "u1", "cwd": "/work/acme/infra", "transcript_path": "/x"}
    events = [
        {**base, "hook_event_name": "SessionStart", "source": "startup"},
        {**base, "hook_event_name": "UserPromptSubmit", "prompt": "deploy the staging cluster"},
    ]
    events += [
        {
            **base,
            "hook_event_name": "PostToolUse",
            "tool_name": "Bash",
            "tool_use_id": f"t{i}",
            "tool_input": {"command": f"kubectl apply -f {i}.yaml"},
            "tool_response": {"stdout": "ok"},
        }
        for i in range(3)
    ]
    feed(cli, events, "--db", db, "--user", "ana")
    top = cli.json("route", "deploy staging", "--db", db, "--user", "ana")[0]
    assert (top["tool_name"], top["usage_count"], top["success_count"]) == ("Bash", 1, 1)
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert "once per prompt, tool and outcome" in readme


def test_hook_event_with_a_refused_user_is_kept(tmp_path: Path) -> None:
    home = tmp_path / "home"
    cli = Cli(tmp_path, hook_env(home))
    db = str(tmp_path / "hook.db")
    cli.ok("init", "--db", db)
    cli.ok("users", "add", "ana", "--db", db)
    r = cli("hook", "--db", db, "--user", " ana ", input=json.dumps(claude_session()[1]))
    assert r.returncode == 0
    kept = [p for p in spool_dir(home).glob("hook-*.jsonl*") if not p.name.endswith(".lock")]
    assert sum(len(p.read_text().splitlines()) for p in kept) == 1


def test_hook_nul_prompt_is_refused_naming_prompt(tmp_path: Path) -> None:
    cli = Cli(tmp_path, hook_env(tmp_path / "home"))
    db = str(tmp_path / "hook.db")
    cli.ok("init", "--db", db)
    event = {**claude_session()[1], "prompt": "a\x00b"}
    r = cli("hook", "--db", db, "--user", "ana", input=json.dumps(event))
    assert "invalid prompt=" in r.stderr, r.stderr


def test_hook_install_keeps_other_hooks_and_uninstall_restores(tmp_path: Path) -> None:
    cli = Cli(tmp_path, hook_env(tmp_path / "home"))
    settings = tmp_path / "proj" / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    original = {
        "permissions": {"allow": ["Bash(pytest:*)"], "deny": []},
        "hooks": {
            "PreToolUse": [
                {
                    "matcher": "Bash",
                    "hooks": [{"type": "command", "command": "~/.claude/hooks/guard.sh"}],
                }
            ],
            "PostToolUse": [
                {
                    "matcher": "Edit|Write",
                    "hooks": [{"type": "command", "command": "ruff format", "timeout": 30}],
                }
            ],
            "SessionStart": [
                {"hooks": [{"type": "command", "command": "memvault hook --db /old.db --user ana"}]}
            ],
            "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
        },
        "model": "sonnet",
    }
    settings.write_text(json.dumps(original, indent=4))
    db_dir = tmp_path / "my store"
    r = cli.ok(
        "hook",
        "install",
        "--settings",
        str(settings),
        "--db",
        str(db_dir / "me's.db"),
        "--user",
        "ana",
    )
    assert (db_dir / "me's.db").exists()
    installed = json.loads(settings.read_text())
    assert installed["hooks"]["PreToolUse"][0] == original["hooks"]["PreToolUse"][0]
    assert installed["hooks"]["Stop"] == original["hooks"]["Stop"]
    managed = [
        h["command"]
        for entries in installed["hooks"].values()
        for e in entries
        for h in e["hooks"]
        if h["command"].endswith("--managed")
    ]
    assert len(managed) == 6
    assert any(
        c
        for c in installed["hooks"]["SessionStart"][0]["hooks"]
        if c["command"].startswith("memvault hook --db /old.db")
    )
    before = settings.read_bytes()
    assert (
        "already installed"
        in cli.ok(
            "hook",
            "install",
            "--settings",
            str(settings),
            "--db",
            str(db_dir / "me's.db"),
            "--user",
            "ana",
        ).stdout
    )
    assert settings.read_bytes() == before
    # the installed command runs as the agent would run it (through a shell, from the project)
    cmd = managed[0]
    done = subprocess.run(
        cmd,
        shell=True,
        input=json.dumps(claude_session()[0]),
        capture_output=True,
        text=True,
        cwd=settings.parent.parent,
        env=cli.env,
    )
    assert done.returncode == 0 and "spooled" not in done.stderr, done.stderr
    cli.ok("hook", "uninstall", "--settings", str(settings))
    assert json.loads(settings.read_text()) == original
    assert r.returncode == 0


def _server_setup(cli: Cli, service: Any) -> tuple[Any, str, str]:
    db = str(cli.cwd / "srv.db")
    cli.ok("init", "--db", db)
    cli.ok("users", "add", "ana", "--db", db)
    key = cli.ok("keys", "create", "--user", "ana", "--db", db).stdout.split()[-1]
    assert key.startswith("mv_")
    return service("--db", db), db, key


def test_hook_posts_to_a_running_serve(tmp_path: Path, service: Any) -> None:
    cli = Cli(tmp_path, hook_env(tmp_path / "home"))
    srv, db, key = _server_setup(cli, service)
    feed(cli, claude_session(), "--server", srv.url, "--key", key)
    assert counts(cli, db)["actions"] == 12
    assert cli.json("route", "run the tests", "--db", db, "--user", "ana")[0]["tool_name"] == "Bash"


def test_hook_server_mode_files_are_owner_only(tmp_path: Path, service: Any) -> None:
    home = tmp_path / "home"
    cli = Cli(tmp_path, hook_env(home))
    srv, _db, key = _server_setup(cli, service)
    feed(cli, claude_session(), "--server", srv.url, "--key", key)
    files = [p for p in spool_dir(home).iterdir() if p.is_file()]
    assert files
    loose = {
        p.name: oct(stat.S_IMODE(p.stat().st_mode))
        for p in files
        if stat.S_IMODE(p.stat().st_mode) & 0o077
    }
    assert loose == {}


def test_hook_events_refused_for_a_bad_key_are_stored_once_the_key_is_right(
    tmp_path: Path, service: Any
) -> None:
    cli = Cli(tmp_path, hook_env(tmp_path / "home"))
    srv, db, key = _server_setup(cli, service)
    events = claude_session()
    feed(cli, events[:4], "--server", srv.url, "--key", "mv_deadbeef_wrong")
    feed(cli, events[4:], "--server", srv.url, "--key", key)
    assert counts(cli, db)["actions"] == 12


def test_hook_server_mode_says_when_user_and_key_disagree(tmp_path: Path, service: Any) -> None:
    cli = Cli(tmp_path, hook_env(tmp_path / "home"))
    srv, _db, key = _server_setup(cli, service)
    r = cli(
        "hook",
        "--server",
        srv.url,
        "--key",
        key,
        "--user",
        "bob",
        input=json.dumps(claude_session()[3]),
    )
    assert "bob" in r.stderr


@pytest.mark.parametrize("pg_url", ["pg15", "pg18"], indirect=True)
def test_hook_on_postgresql_spools_until_init(tmp_path: Path, pg_url: str) -> None:
    cli = Cli(tmp_path, hook_env(tmp_path / "home"))
    events = claude_session("9e6f0000-6666-4a2b-9c3d-ffffffffffff")
    first = feed(cli, events[:1], "--db", pg_url, "--user", "ana")[0]
    assert "memvault init" in first.stderr and "spooled" in first.stderr
    cli.ok("init", "--db", pg_url)
    feed(cli, events[1:], "--db", pg_url, "--user", "ana")
    assert counts(cli, pg_url) == {"actions": 12, "messages": 3, "sessions": 1}


# --------------------------------------------------------------------------- mem0

MEM0_SCRIPT = r"""
import json, sys
from memvault.compat.mem0 import Memory   # was: from mem0 import Memory
m = Memory(sys.argv[1])
out = {}
r = m.add([{"role": "user", "content": "I'm vegetarian and allergic to peanuts"},
           {"role": "assistant", "content": "Noted, no peanut dishes."}],
          user_id="alice", metadata={"topic": "food"}, infer=False)
out["add_msgs"] = [x["event"] for x in r["results"]]
mid = m.add("Alice's sister Maria lives in Porto", user_id="alice", metadata={"topic": "family"},
            infer=False)["results"][0]["id"]
m.add("Prefers bullet points", user_id="alice", agent_id="support-bot", run_id="run-42",
      infer=False)
m.add("Refunds within 30 days", agent_id="support-bot", infer=False)
dup = m.add("i'm VEGETARIAN   and allergic to peanuts", user_id="alice", infer=False)
out["dup"] = dup["results"][0]["event"]
out["get"] = m.get(mid)["memory"]
out["all"] = len(m.get_all(filters={"user_id": "alice"})["results"])
food = m.get_all(filters={"user_id": "alice", "topic": "food"}, top_k=20)["results"]
out["food"] = sorted(x["memory"] for x in food)
agent = m.get_all(filters={"agent_id": "support-bot"})["results"]
out["agent"] = [x["memory"] for x in agent]
out["top1"] = len(m.get_all(filters={"user_id": "alice"}, top_k=1)["results"])
hits = m.search("what food can alice not eat", filters={"user_id": "alice"}, top_k=3)["results"]
out["search_n"] = len(hits)
out["thr"] = m.search("what food can alice not eat", filters={"user_id": "alice"},
                      threshold=0.999)["results"]
m.update(mid, data="Alice's sister Maria moved to Lisbon")
out["hist"] = [h["event"] for h in m.history(mid)]
m.delete(mid)
out["hist_del"] = [h["event"] for h in m.history(mid)]
m.delete_all(user_id="alice", run_id="run-42")
out["after_run"] = len(m.get_all(filters={"user_id": "alice"})["results"])
errors = {}
mistakes = {
    "user_id": lambda: m.add("x", infer=False),
    "infer": lambda: m.add("x", user_id="bob"),
    "filters": lambda: m.get_all(),
    "threshold": lambda: m.search("t", filters={"user_id": "bob"}, threshold=2),
    "memory_id": lambda: m.get("nope"),
}
for name, f in mistakes.items():
    try:
        f(); errors[name] = None
    except ValueError as e:
        errors[name] = str(e)
out["errors"] = errors
import asyncio
from memvault.compat.mem0 import AsyncMemory
async def am():
    a = AsyncMemory(sys.argv[1])
    await a.add("carol exists first", user_id="carol", infer=False)  # finding 27: not concurrently
    await asyncio.gather(*[a.add(f"fact {i}", user_id="carol", infer=False) for i in range(10)])
    n = len((await a.get_all(filters={"user_id": "carol"}, top_k=100))["results"])
    await a.delete_all(user_id="carol")
    left = len((await a.get_all(filters={"user_id": "carol"}))["results"])
    a.close()
    return n, left
out["async"] = asyncio.run(am())
m.reset()
out["reset"] = m.get_all(filters={"user_id": "alice"})["results"]
m.close()
print(json.dumps(out))
"""


@pytest.fixture(params=["sqlite", "pg15", "pg18"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mem0.db'}"
        return
    from tests.conftest import engine_url

    # the session's PostgreSQL database, schema created, tables emptied
    yield engine_url(request.param, tmp_path, request.getfixturevalue("pg_databases"))


def test_mem0_script_ported_by_changing_one_import(tmp_path: Path, store_url: str) -> None:
    script = tmp_path / "app.py"
    script.write_text(MEM0_SCRIPT)
    import sys

    done = subprocess.run(
        [sys.executable, str(script), store_url],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=user_env(),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["add_msgs"] == ["ADD", "ADD"] and out["dup"] == "NONE"
    assert out["get"] == "Alice's sister Maria lives in Porto"
    assert out["all"] == 4 and out["top1"] == 1
    assert out["food"] == ["I'm vegetarian and allergic to peanuts", "Noted, no peanut dishes."]
    assert out["agent"] == ["Refunds within 30 days"]
    assert out["search_n"] == 3 and out["thr"] == []
    assert out["hist"] == ["ADD", "UPDATE"] and out["hist_del"] == ["ADD", "UPDATE", "DELETE"]
    assert out["after_run"] == 2
    for field, message in out["errors"].items():
        assert message and field in message, (field, message)
    assert out["async"] == [11, 0]
    assert out["reset"] == []


def test_mem0_history_entries_do_not_change_when_the_memory_is_deleted(tmp_path: Path) -> None:
    from memvault.compat.mem0 import Memory

    m = Memory(f"sqlite:///{tmp_path / 'h.db'}")
    mid = m.add("Maria lives in Porto", user_id="alice", infer=False)["results"][0]["id"]
    m.add("an unrelated later memory", user_id="alice", infer=False)
    m.update(mid, data="Maria moved to Lisbon")
    before = m.history(mid)
    m.delete(mid)
    after = m.history(mid)
    m.close()
    assert after[: len(before)] == before


def test_mem0_user_id_with_spaces_is_refused(tmp_path: Path) -> None:
    from memvault.compat.mem0 import Memory

    m = Memory(f"sqlite:///{tmp_path / 'h.db'}")
    m.add("Bob likes tea", user_id="bob", infer=False)
    try:
        with pytest.raises(ValueError, match="user_id"):
            m.add("abc", user_id=" bob ", infer=False)
    finally:
        m.close()


def test_mem0_memories_are_the_users_memories_everywhere(tmp_path: Path) -> None:
    from memvault.compat.mem0 import Memory

    db = f"sqlite:///{tmp_path / 'shared.db'}"
    m = Memory(db)
    m.add("Dana works night shifts", user_id="dana", infer=False)
    m.close()
    cli = Cli(tmp_path)
    listed = cli.json("memories", "list", "--user", "dana", "--db", db)
    assert [x["content"] for x in listed] == ["Dana works night shifts"]

    async def go() -> str:
        async with AsyncExitStack() as st:
            s = await mcp_session(st, db, "dana", cwd=tmp_path)
            return tool_text(
                await s.call_tool("search_memories", {"query": "night shifts", "mode": "text"})
            )

    assert "night shifts" in run(go())


def test_mem0_concurrent_first_adds_for_a_new_user_all_land(store_url: str) -> None:
    """Finding 27: on PostgreSQL the callers that lost the race to create the user failed."""
    from memvault.compat.mem0 import Memory

    m = Memory(store_url)
    errors: list[str] = []
    for u in range(5):
        barrier = threading.Barrier(12)

        def add(i: int, user: str = f"newcomer{u}", barrier: Any = barrier) -> None:
            barrier.wait()
            try:
                m.add(f"fact {i} of {user}", user_id=user, infer=False)
            except Exception as e:
                errors.append(str(e))

        threads = [threading.Thread(target=add, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    try:
        assert errors == []
        assert all(
            len(m.get_all(filters={"user_id": f"newcomer{u}"}, top_k=100)["results"]) == 12
            for u in range(5)
        )
    finally:
        m.close()
