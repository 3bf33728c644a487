"""`memvault mcp` end to end: the SDK's stdio and streamable-HTTP clients against a real server
process, on SQLite and both PostgreSQL servers: tools and schemas, every tool called, bad
arguments, memvault's errors, the delete-everything flag, and two users kept apart."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import anyio
import pytest

import memvault
from tests.mcp.conftest import (
    MEMVAULT,
    error_text,
    http_session,
    result,
    server_env,
    stdio_session,
)

TOOLS = {
    "add_memory", "search_memories", "list_memories", "update_memory", "delete_memory",
    "memory_history", "log_message", "recent_messages", "suggest_tools",
}  # fmt: skip
MISSING = "01a237f7-7454-73bf-b8b7-083d13d2c660"  # a well-formed id that names nothing


def run(fn: Any) -> None:
    anyio.run(fn)


def test_tools_have_descriptions_and_typed_schemas(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    memvault.open(url).close()

    async def check() -> None:
        async with stdio_session("--db", url, "--user", "alice") as s:
            tools = {t.name: t for t in (await s.list_tools()).tools}
        assert set(tools) == TOOLS  # no delete_all_memories without --allow-delete-all
        for tool in tools.values():
            assert tool.description and len(tool.description) > 20, tool.name
            schema = tool.input_schema
            assert schema["type"] == "object"
            # The user is the server's configuration, never an argument.
            assert not {"user", "user_id", "owner"} & set(schema.get("properties", {}))
            for name, prop in schema.get("properties", {}).items():
                assert prop.get("description") or prop.get("type") or prop.get("anyOf"), name
        add = tools["add_memory"].input_schema
        assert add["required"] == ["content"]
        assert "preference" in add["properties"]["kind"]["enum"]
        assert add["properties"]["importance"]["maximum"] == 1
        search = tools["search_memories"].input_schema
        assert search["properties"]["mode"]["enum"] == ["hybrid", "text", "vector"]
        assert search["properties"]["kinds"]["anyOf"][0]["items"]["enum"][0] == "fact"
        assert set(tools["update_memory"].input_schema["required"]) == {"memory_id", "reason"}
        assert tools["delete_memory"].annotations.destructive_hint is True
        assert tools["search_memories"].annotations.read_only_hint is True

    run(check)


def test_every_tool_end_to_end(vault_url: str) -> None:
    with memvault.open(vault_url) as vault:
        alice = vault.users.ensure("alice")
        vault.routing.update("deploy the web app to staging", "Bash", True, user_id=alice.id)
        vault.routing.update("deploy the web app to staging", "mcp__k8s__apply", True,
                             user_id=alice.id)  # fmt: skip
        vault.routing.update("deploy the web app", "mcp__k8s__apply", True, user_id=alice.id)

    async def check() -> None:
        async with stdio_session("--db", vault_url, "--user", "alice") as s:
            call = s.call_tool
            added = result(await call("add_memory", {
                "content": "Alice prefers tabs over spaces in Python code",
                "kind": "preference", "importance": 0.9, "metadata": {"topic": "style"},
            }))  # fmt: skip
            assert added["kind"] == "preference" and added["importance"] == 0.9
            assert "user_id" not in added
            fact = result(await call("add_memory", {"content": "Alice lives in Lyon"}))
            assert fact["kind"] == "fact"
            again = result(await call("add_memory", {"content": "Alice lives in Lyon"}))
            assert again["id"] == fact["id"]

            found = result(await call("search_memories", {"query": "tabs or spaces?"}))
            assert found["results"][0]["id"] == added["id"]
            assert found["results"][0]["score"] > 0 and found["results"][0]["matched"]
            only = result(await call("search_memories", {"query": "Lyon tabs",
                                                         "kinds": ["fact"]}))  # fmt: skip
            assert [r["id"] for r in only["results"]] == [fact["id"]]
            filtered = result(await call("search_memories", {
                "query": "Alice", "mode": "text", "filters": {"metadata.topic": "style"},
            }))  # fmt: skip
            assert [r["id"] for r in filtered["results"]] == [added["id"]]

            listed = result(await call("list_memories", {"limit": 10}))
            assert {m["id"] for m in listed["memories"]} == {added["id"], fact["id"]}
            prefs = result(await call("list_memories", {"kinds": ["preference"]}))
            assert [m["id"] for m in prefs["memories"]] == [added["id"]]

            changed = result(await call("update_memory", {
                "memory_id": fact["id"], "content": "Alice lives in Grenoble",
                "reason": "she moved in March",
            }))  # fmt: skip
            assert changed["content"] == "Alice lives in Grenoble"
            history = result(await call("memory_history", {"memory_id": fact["id"]}))
            last = history["history"][-1]
            assert last["op"] == "update" and last["reason"] == "she moved in March"
            assert last["old_content"] == "Alice lives in Lyon"

            first = result(await call("log_message", {"conversation": "trip planning",
                                                      "content": "Book the train"}))  # fmt: skip
            assert first["seq"] == 1 and first["role"] == "user"
            result(await call("log_message", {"conversation": "trip planning",
                                              "content": "Done: 8:04 TGV",
                                              "role": "assistant"}))  # fmt: skip
            recent = result(await call("recent_messages", {"conversation": "trip planning"}))
            assert [m["content"] for m in recent["messages"]] == ["Book the train",
                                                                  "Done: 8:04 TGV"]  # fmt: skip
            by_id = result(await call("recent_messages", {"conversation": recent["session_id"],
                                                          "limit": 1}))  # fmt: skip
            assert [m["seq"] for m in by_id["messages"]] == [2]

            suggested = result(await call("suggest_tools", {"request": "deploy the app"}))
            names = [s["tool_name"] for s in suggested["suggestions"]]
            assert names == ["mcp__k8s__apply", "Bash"]
            assert suggested["suggestions"][0]["matched"]

            gone = result(await call("delete_memory", {"memory_id": added["id"]}))
            assert gone == {"deleted": added["id"]}
            left = result(await call("list_memories", {}))
            assert [m["id"] for m in left["memories"]] == [fact["id"]]

    run(check)
    with memvault.open(vault_url) as vault:
        alice = vault.users.get_by_handle("alice")
        assert vault.memories.count(alice.id) == 1


def test_bad_arguments_and_memvault_errors_reach_the_client(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    memvault.open(url).close()

    async def check() -> None:
        async with stdio_session("--db", url, "--user", "alice") as s:
            call = s.call_tool
            # Schema violations: the SDK names the argument.
            text = error_text(await call("add_memory", {"content": "x", "kind": "gossip"}))
            assert "kind" in text
            text = error_text(await call("add_memory", {"kind": "fact"}))
            assert "content" in text
            text = error_text(await call("search_memories", {"query": "x", "k": 0}))
            assert "k" in text
            # memvault's own errors: its message, with the field and the value, and no
            # "Error executing tool …:" before it (finding 4: one format with the above).
            text = error_text(await call("add_memory", {"content": "   "}))
            assert text.startswith("invalid content='   ': must not be empty"), text
            text = error_text(
                await call("update_memory", {"memory_id": MISSING, "reason": "r", "content": "y"})
            )
            assert text.startswith(f"memory '{MISSING}' not found"), text
            text = error_text(await call("update_memory", {"memory_id": "nope", "reason": "r"}))
            assert "invalid memory_id='nope'" in text
            # An update to the values it already holds changes nothing, and is refused.
            kept = result(await call("add_memory", {"content": "tea", "importance": 0.5}))
            same = {"memory_id": kept["id"], "reason": "r", "content": "tea", "importance": 0.5}
            text = error_text(await call("update_memory", same))
            assert text.startswith("invalid content='tea': nothing to change"), text
            assert "nothing was written" in text
            changed = result(await call("update_memory", {**same, "importance": 0.6}))
            assert changed["importance"] == 0.6
            await call("delete_memory", {"memory_id": kept["id"]})
            text = error_text(
                await call("search_memories", {"query": "x", "filters": {"owner": "bob"}})
            )
            assert "invalid filters=" in text and "owner" in text
            text = error_text(await call("recent_messages", {"conversation": "never"}))
            assert "conversation 'never' not found" in text
            text = error_text(
                await call("delete_all_memories", {"confirm": "delete all my memories"})
            )
            assert "delete_all_memories" in text  # unknown tool without the flag
            # The server is still serving after all that.
            assert result(await call("list_memories", {})) == {"memories": []}

    run(check)


def test_delete_everything_only_behind_the_server_flag(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    with memvault.open(url) as vault:
        alice, bob = vault.users.ensure("alice"), vault.users.ensure("bob")
        for i in range(3):
            vault.memories.add(alice.id, "fact", f"alice fact {i}", embedding=False)
        vault.memories.add(bob.id, "fact", "bob fact", embedding=False)

    async def check() -> None:
        async with stdio_session("--db", url, "--user", "alice", "--allow-delete-all") as s:
            names = {t.name for t in (await s.list_tools()).tools}
            assert names == TOOLS | {"delete_all_memories"}
            text = error_text(await s.call_tool("delete_all_memories", {"confirm": "yes"}))
            assert "confirm" in text
            done = result(
                await s.call_tool("delete_all_memories", {"confirm": "delete all my memories"})
            )
            assert done == {"deleted": 3}

    run(check)
    with memvault.open(url) as vault:
        assert vault.memories.count(vault.users.get_by_handle("alice").id) == 0
        assert vault.memories.count(vault.users.get_by_handle("bob").id) == 1


def test_two_servers_for_two_users_never_see_each_other(vault_url: str) -> None:
    memvault.open(vault_url).close()

    async def check() -> None:
        async with (
            stdio_session("--db", vault_url, "--user", "alice") as alice,
            stdio_session("--db", vault_url, "--user", "bob") as bob,
        ):
            mine = result(await alice.call_tool("add_memory", {
                "content": "Alice's door code is 4711", "kind": "fact"}))  # fmt: skip
            said = result(
                await alice.call_tool(
                    "log_message", {"conversation": "secrets", "content": "code 4711"}
                )
            )
            result(await bob.call_tool("add_memory", {"content": "Bob likes jazz"}))

            seen = result(await bob.call_tool("search_memories", {"query": "door code 4711"}))
            assert all("4711" not in r["content"] for r in seen["results"])
            listed = result(await bob.call_tool("list_memories", {}))
            assert [m["content"] for m in listed["memories"]] == ["Bob likes jazz"]
            for name, args in (
                ("update_memory", {"memory_id": mine["id"], "content": "x", "reason": "r"}),
                ("delete_memory", {"memory_id": mine["id"]}),
                ("memory_history", {"memory_id": mine["id"]}),
            ):
                text = error_text(await bob.call_tool(name, args))
                assert f"memory '{mine['id']}' not found" in text, name
            for conversation in ("secrets", said["session_id"]):
                text = error_text(
                    await bob.call_tool("recent_messages", {"conversation": conversation})
                )
                assert "not found" in text
            # Bob writing to a conversation of Alice's id opens one of his own.
            own = result(await bob.call_tool("log_message", {"conversation": said["session_id"],
                                                             "content": "hi"}))  # fmt: skip
            assert own["session_id"] != said["session_id"]
            # Alice's data is untouched and still hers.
            kept = result(await alice.call_tool("memory_history", {"memory_id": mine["id"]}))
            assert [h["op"] for h in kept["history"]] == ["create"]
            back = result(await alice.call_tool("recent_messages", {"conversation": "secrets"}))
            assert [m["content"] for m in back["messages"]] == ["code 4711"]

    run(check)


@pytest.mark.parametrize("engine", ["sqlite", "pg18"])
def test_streamable_http_on_loopback(vault_url: str, http_server: Any) -> None:
    memvault.open(vault_url).close()
    alice = http_server("--db", vault_url, "--user", "alice")
    bob = http_server("--db", vault_url, "--user", "bob")

    async def check() -> None:
        async with http_session(alice.url) as s:
            assert {t.name for t in (await s.list_tools()).tools} == TOOLS
            added = result(await s.call_tool("add_memory", {"content": "Alice flies to Oslo"}))
            found = result(await s.call_tool("search_memories", {"query": "Oslo flight"}))
            assert found["results"][0]["id"] == added["id"]
            text = error_text(await s.call_tool("memory_history", {"memory_id": MISSING}))
            assert MISSING in text
        async with http_session(bob.url) as s:
            found = result(await s.call_tool("search_memories", {"query": "Oslo flight"}))
            assert found["results"] == []

    run(check)


def test_http_refuses_an_address_beyond_loopback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    memvault.open(url).close()
    done = subprocess.run(
        [MEMVAULT, "mcp", "--http", "--host", "0.0.0.0", "--db", url, "--user", "alice"],
        capture_output=True, text=True, timeout=60, env=server_env(), stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode != 0
    assert "invalid host='0.0.0.0'" in done.stderr and "loopback" in done.stderr
    assert "Traceback" not in done.stderr
