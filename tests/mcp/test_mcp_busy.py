"""`memvault mcp` while another process holds the SQLite store's write lock: a write tool
fails within its bounded wait (`--busy-timeout`, default 5 s, not the library's 30 s) with a
message saying the store is busy and to try again, writing nothing; every read tool answers
at once. The lock is held by a separate process (plain sqlite3, `BEGIN IMMEDIATE`), the
server is the real `memvault mcp` driven by the SDK's stdio client."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio

import memvault
from memvault.cli.agents import MCP_BUSY_TIMEOUT
from memvault.ownerview import OwnerView
from tests.mcp.conftest import error_text, result, stdio_session

HOLD = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
"""


@contextmanager
def write_lock(path: Path) -> Iterator[None]:
    """Another process holding the store's write lock until the block ends."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield
    finally:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.close()
        holder.wait(30)
        holder.stdout.close()


def _store(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "v.db"
    with memvault.open(f"sqlite:///{path}") as vault:
        view = OwnerView.for_handle(vault, "alice")
        view.add_memory("fact", "Alice deploys on Fridays")
        session = view.conversation("standup", create=True)
        assert session is not None
        view.log_message(session.id, "user", "what did I do yesterday?")
    return path, f"sqlite:///{path}"


def test_a_write_fails_fast_and_clearly_while_reads_do_not_wait(tmp_path: Path) -> None:
    path, url = _store(tmp_path)

    async def check() -> None:
        async with stdio_session("--db", url, "--user", "alice") as s:
            memory_id = result(await s.call_tool("list_memories", {}))["memories"][0]["id"]
            with write_lock(path):
                reads = {
                    "search_memories": {"query": "deploys", "mode": "text"},
                    "list_memories": {},
                    "memory_history": {"memory_id": memory_id},
                    "recent_messages": {"conversation": "standup"},
                    "suggest_tools": {"request": "deploy the app"},
                }
                for name, arguments in reads.items():
                    started = time.monotonic()
                    answer = result(await s.call_tool(name, arguments))
                    assert time.monotonic() - started < 2.5, name  # no wait for the lock
                    assert answer, name
                started = time.monotonic()
                call = await s.call_tool("add_memory", {"content": "Alice likes rye bread"})
                waited = time.monotonic() - started
                text = error_text(call)
                assert "the store is busy" in text and "try again" in text, text
                # The bounded wait, not the library's 30 s.
                assert MCP_BUSY_TIMEOUT - 0.5 <= waited < MCP_BUSY_TIMEOUT + 7, waited
            # Nothing was written; once the lock is free the same call succeeds.
            listed = result(await s.call_tool("list_memories", {}))["memories"]
            assert [m["content"] for m in listed] == ["Alice deploys on Fridays"]
            added = result(await s.call_tool("add_memory", {"content": "Alice likes rye bread"}))
            assert added["content"] == "Alice likes rye bread"

    anyio.run(check)


def test_the_wait_is_configurable(tmp_path: Path) -> None:
    path, url = _store(tmp_path)

    async def check() -> None:
        async with stdio_session("--db", url, "--user", "alice", "--busy-timeout", "0.5") as s:
            with write_lock(path):
                started = time.monotonic()
                call = await s.call_tool("log_message", {"conversation": "standup",
                                                         "content": "shipped it"})  # fmt: skip
                waited = time.monotonic() - started
            assert "the store is busy" in error_text(call)
            assert waited < MCP_BUSY_TIMEOUT - 1, waited
            recent = result(await s.call_tool("recent_messages", {"conversation": "standup"}))
            assert [m["content"] for m in recent["messages"]] == ["what did I do yesterday?"]

    anyio.run(check)
