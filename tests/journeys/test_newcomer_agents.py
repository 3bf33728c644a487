"""Newcomer 15's journey with memvault as an agent's memory (issue 15), from the outside: the
CLI as subprocesses and the official MCP SDK client over stdio and HTTP. Each step is one the
newcomer found broken: the README's first run, MCP errors and input checks, the history of a
deleted memory, `hook install` next to the user's own `memvault hook` commands, the spool's
permissions, a search while another process writes, and a stray space in `--user`."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from mcp import ClientSession, StdioServerParameters

MV = shutil.which("memvault", path=os.path.dirname(sys.executable)) or "memvault"


def mv(*args: str, stdin: str | None = None, check: bool = True,
       cwd: Path | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("MEMVAULT_URL", "MEMVAULT_USER")}
    env["COLUMNS"] = "200"
    done = subprocess.run([MV, *args], input=stdin, capture_output=True, text=True, env=env,
                          timeout=120, cwd=cwd)  # fmt: skip
    if check:
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


def text_of(result: Any) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stdio(db: str, user: str) -> StdioServerParameters:
    return StdioServerParameters(command=MV, args=["mcp", "--user", user, "--db", db])


def test_the_readme_first_run_creates_folder_and_store(tmp_path: Path) -> None:
    # `memvault init --db ~/.memvault/me.db` on a fresh machine: the folder is created.
    home = tmp_path / "home"
    done = mv("init", "--db", str(home / ".memvault" / "me.db"))
    assert "store ready" in done.stdout
    # `claude mcp add memvault -- memvault mcp --user me --db <new path>` works as is.
    db = str(tmp_path / "fresh" / "agent.db")

    async def go() -> None:
        async with stdio_client(stdio(db, "me")) as (r, w), ClientSession(r, w) as s:
            await s.initialize()
            added = await s.call_tool("add_memory", {"content": "I use neovim"})
            assert not added.is_error, text_of(added)

    anyio.run(go)
    assert Path(db).is_file()


def test_mcp_errors_inputs_and_delete_history(tmp_path: Path) -> None:
    db = str(tmp_path / "agent.db")
    mv("init", "--db", db)

    async def go() -> None:
        async with stdio_client(stdio(db, "alice")) as (r, w), ClientSession(r, w) as s:
            await s.initialize()
            for tool in (await s.list_tools()).tools:
                assert "  " not in (tool.description or ""), tool.name
            bad = await s.call_tool("add_memory", {"content": "Alice gossips", "kind": "gossip"})
            assert bad.is_error and "invalid kind='gossip'" in text_of(bad)
            assert "pydantic" not in text_of(bad) and "https://" not in text_of(bad)
            bad = await s.call_tool("add_memory", {"content": "x", "importance": 1.5})
            assert bad.is_error and "invalid importance=1.5" in text_of(bad)
            bad = await s.call_tool("update_memory", {"memory_id": "not-a-uuid", "content": "c"})
            assert bad.is_error and "missing reason" in text_of(bad)
            bad = await s.call_tool("add_memory", {"content": "for bob", "user_id": "bob"})
            assert bad.is_error and "invalid user_id='bob'" in text_of(bad)
            assert "fixed by the server" in text_of(bad)
            for tool, args in [
                ("log_message", {"conversation": "", "content": "hi"}),
                ("log_message", {"conversation": "c1", "content": ""}),
                ("suggest_tools", {"request": ""}),
            ]:
                res = await s.call_tool(tool, args)
                assert res.is_error and "must not be empty" in text_of(res), (tool, text_of(res))
            listed = await s.call_tool("list_memories", {})
            assert listed.structured_content["memories"] == []  # nothing stored by the refusals

            mid = await s.call_tool("add_memory", {"content": "Alice's cat is Miso"})
            mid = mid.structured_content["id"]
            same = await s.call_tool("update_memory", {"memory_id": mid, "reason": "nothing"})
            assert same.is_error and "nothing to change" in text_of(same)
            empty = await s.call_tool(
                "update_memory", {"memory_id": mid, "reason": "", "content": "Alice's cat is Mochi"}
            )
            assert empty.is_error and "invalid reason=''" in text_of(empty)
            gone = await s.call_tool("delete_memory", {"memory_id": mid, "reason": "cat rehomed"})
            assert not gone.is_error, text_of(gone)
            history = await s.call_tool("memory_history", {"memory_id": mid})
            assert not history.is_error, text_of(history)
            entries = history.structured_content["history"]
            assert [e["op"] for e in entries] == ["create", "delete"]
            assert entries[-1]["reason"] == "cat rehomed"

    anyio.run(go)


def test_mcp_http_announces_only_once_listening(tmp_path: Path) -> None:
    db = str(tmp_path / "agent.db")
    mv("init", "--db", db)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        p = mv("mcp", "--http", "--port", str(port), "--user", "carol", "--db", db, check=False)
    assert p.returncode == 1 and "MCP server for" not in p.stdout
    assert f"invalid port={port}" in p.stderr and "Traceback" not in p.stderr
    p = mv("mcp", "--http", "--host", "0.0.0.0", "--user", "carol", "--db", db, check=False)
    assert p.returncode == 1 and "loopback only" in p.stderr and p.stdout == ""

    port = free_port()
    srv = subprocess.Popen([MV, "mcp", "--http", "--port", str(port), "--user", "carol",
                            "--db", db], stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert srv.stdout is not None
        line = srv.stdout.readline()
        assert line.strip() == f"memvault MCP server for carol on http://127.0.0.1:{port}/mcp"

        async def go() -> None:
            url = f"http://127.0.0.1:{port}/mcp"
            async with streamable_http_client(url) as (r, w, *_), ClientSession(r, w) as s:
                await s.initialize()
                res = await s.call_tool("add_memory", {"content": "Carol likes Fridays"})
                assert not res.is_error, text_of(res)

        anyio.run(go)
    finally:
        srv.terminate()
        srv.wait(timeout=30)
        if srv.stdout is not None:
            srv.stdout.close()


def test_hook_install_leaves_the_users_own_memvault_hooks(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    mine = {"hooks": {
        "Stop": [{"hooks": [{"type": "command",
                             "command": "memvault hook --db /home/alice/other.db --user alice"}]}],
        "PostToolUse": [{"matcher": "*", "hooks": [
            {"type": "command", "command": "/usr/local/bin/memvault hook --no-context"}]}],
    }}  # fmt: skip
    path.write_text(json.dumps(mine, indent=4) + "\n")
    db = tmp_path / "new" / "hooks.db"  # neither folder nor store exist yet
    done = mv("hook", "install", "--settings", str(path), "--db", str(db), "--user", "alice")
    assert "updated" not in done.stdout and "created the store" in done.stderr and db.is_file()
    assert path.read_text().startswith('{\n    "hooks"')
    data = json.loads(path.read_text())
    assert data["hooks"]["Stop"] == mine["hooks"]["Stop"]
    assert data["hooks"]["PostToolUse"][0] == mine["hooks"]["PostToolUse"][0]
    mv("hook", "install", "--settings", str(path), "--db", str(db), "--user", "alice")
    done = mv("hook", "uninstall", "--settings", str(path))
    assert "Stop" not in done.stdout
    assert json.loads(path.read_text()) == mine
    assert [p.name for p in tmp_path.glob("*.bak")] == ["mine.json.memvault.bak"]
    fresh = tmp_path / "fresh.json"
    done = mv("hook", "install", "--settings", str(fresh), "--db", str(db), "--user", "alice")
    assert "backup" not in done.stdout and f"created {fresh}" in done.stdout


def hold_lock(db: str, seconds: float) -> subprocess.Popen[str]:
    code = ("import sqlite3, sys, time\n"
            f"c = sqlite3.connect({db!r}, isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True)\n"
            f"time.sleep({seconds})\n")  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_spool_stays_private_and_search_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    db = str(tmp_path / "locked.db")
    mv("init", "--db", db)
    mv("users", "add", "alice", "--db", db)  # the user exists: the hook tries a replay first
    mv("memories", "add", "fact", "Alice is allergic to peanuts", "--user", "alice", "--db", db)
    spool = tmp_path / "spool.jsonl"
    event = json.dumps({"session_id": "s", "cwd": "/tmp", "hook_event_name": "UserPromptSubmit",
                        "prompt": "my secret prompt"})  # fmt: skip
    holder = hold_lock(db, 40)
    try:
        for _ in range(3):
            mv("hook", "--db", db, "--user", "alice", "--spool", str(spool),
               "--busy-timeout", "0.2", stdin=event)  # fmt: skip
            assert stat.S_IMODE(spool.stat().st_mode) == 0o600
        assert len(spool.read_text().splitlines()) == 3
        started = time.monotonic()
        found = mv("search", "peanuts", "--user", "alice", "--db", db, "--json")
        assert time.monotonic() - started < 20  # the busy timeout is 30 s
        assert "Alice is allergic to peanuts" in found.stdout
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT access_count FROM memories").fetchone() == (0,)


@pytest.mark.parametrize("handle", ["  alice  ", "ALICE"])
def test_a_stray_space_or_case_in_user_is_refused_everywhere(tmp_path: Path, handle: str) -> None:
    db = str(tmp_path / "u.db")
    mv("init", "--db", db)
    mv("users", "add", "alice", "--db", db)
    # `users add` is a deliberate creation: it refuses stray spaces, but a handle in another
    # case is the user's explicit choice; the entry points that create on demand refuse both.
    explicit = [["users", "add", handle, "--db", db]] if handle.strip() != handle else []
    for args in (["mcp", "--user", handle, "--db", db], *explicit,
                 ["hook", "install", "--settings", str(tmp_path / "s.json"), "--db", db,
                  "--user", handle]):  # fmt: skip
        done = mv(*args, check=False)
        assert done.returncode == 1 and f"invalid handle={handle!r}" in done.stderr, args
    users = json.loads(mv("users", "list", "--db", db, "--json").stdout)
    assert [u["handle"] for u in users] == ["alice"]


def test_hook_session_title_replays_odd_prompts_and_route(tmp_path: Path) -> None:
    db = str(tmp_path / "hooks.db")
    mv("init", "--db", db)
    spool = tmp_path / "spool.jsonl"
    base = {"session_id": "s-1", "cwd": "/home/alice/src/billing"}
    tool = {**base, "hook_event_name": "PostToolUse", "tool_name": "Task",
            "tool_use_id": "toolu_01D", "tool_input": {"subagent_type": "security-reviewer",
                                                       "prompt": "review"},
            "tool_response": {"totalDurationMs": 41250}}  # fmt: skip
    events = [
        {**base, "hook_event_name": "SessionStart", "source": "startup"},
        {**base, "hook_event_name": "UserPromptSubmit", "prompt": 123},
        {**base, "hook_event_name": "UserPromptSubmit",
         "prompt": "review the webhook change for security"},
        tool, tool,  # the same call sent twice (a replay): recorded once
    ]  # fmt: skip
    for event in events:
        mv("hook", "--db", db, "--user", "alice", "--spool", str(spool), "--no-context",
           stdin=json.dumps(event))  # fmt: skip
    rejected = [json.loads(line) for line in Path(f"{spool}.rejected").read_text().splitlines()]
    assert len(rejected) == 1 and rejected[0]["event"]["prompt"] == 123
    assert "invalid prompt=123: expected a string" in rejected[0]["error"]
    sessions = json.loads(mv("sessions", "list", "--db", db, "--json").stdout)
    assert [s["title"] for s in sessions] == ["billing: review the webhook change for security"]
    actions = json.loads(mv("actions", "list", "--db", db, "--json").stdout)
    assert [a["tool_name"] for a in actions] == ["security-reviewer"]

    found = json.loads(mv("route", "review the webhook change for security", "--user", "alice",
                          "--db", db, "--json").stdout)  # fmt: skip
    assert found[0]["tool_name"] == "security-reviewer"
    assert (found[0]["usage_count"], found[0]["success_count"]) == (1, 1)  # one call, once
    plain = mv("route", "review the webhook change for security", "--db", db)
    assert "users with matching scores: alice" in plain.stdout
