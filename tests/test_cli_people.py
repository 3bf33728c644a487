"""users, sessions and memories command groups, keys list/revoke, message search hits: on
every engine, each a thin layer over the Vault API (what the CLI shows, Python reads back)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

import memvault
from memvault.cli import app

runner = CliRunner(env={"COLUMNS": "80"})


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def as_json(*args: str) -> Any:
    return json.loads(run(*args, "--json"))


def test_users_add_list_show(vault_url: str) -> None:
    memvault.open(vault_url).close()
    out = run("users", "add", "alice", "--name", "Alice", "--db", vault_url)
    assert "created user alice" in out
    bob = as_json("users", "add", "bob", "--db", vault_url)
    assert bob["handle"] == "bob"
    result = runner.invoke(app, ["users", "add", "alice", "--db", vault_url])
    assert result.exit_code != 0  # the handle is taken: Conflict, nothing changed
    assert [u["handle"] for u in as_json("users", "list", "--db", vault_url)] == ["alice", "bob"]
    out = run("users", "list", "--db", vault_url)
    assert "Alice" in out and bob["id"] in out and max(map(len, out.splitlines())) <= 80
    shown = as_json("users", "show", bob["id"], "--db", vault_url)
    assert (shown["handle"], shown["sessions"], shown["memories"]) == ("bob", 0, 0)
    assert "sessions: 0  memories: 0" in run("users", "show", "alice", "--db", vault_url)


def test_memories_add_edit_history_delete(vault_url: str) -> None:
    with memvault.open(vault_url) as v:
        v.users.create("alice")
    db = ("--db", vault_url)
    fact = as_json("memories", "add", "fact", "Alice is vegetarian", "--user", "alice", *db)
    base = as_json("memories", "add", "fact", "Lyon is in France", "--base", *db)
    assert base["user_id"] is None
    run("memories", "add", "fact", "x", *db, code=1)  # neither --user nor --base
    edited = as_json("memories", "edit", fact["id"], "--content", "Alice is vegan",
                     "--reason", "corrected herself", *db)  # fmt: skip
    assert edited["content"] == "Alice is vegan"
    run("memories", "edit", fact["id"], *db, code=1)  # nothing to change
    history = as_json("memories", "history", fact["id"], *db)
    assert [h["op"] for h in history] == ["create", "update"]
    assert (history[1]["old_content"], history[1]["new_content"], history[1]["reason"]) == (
        "Alice is vegetarian", "Alice is vegan", "corrected herself")  # fmt: skip
    out = run("memories", "history", fact["id"], *db)
    assert "- Alice is vegetarian" in out and "+ Alice is vegan" in out and "why:" in out
    listed = as_json("memories", "list", "--user", "alice", "--layered", *db)
    assert [m["content"] for m in listed] == ["Alice is vegan", "Lyon is in France"]
    shown = as_json("memories", "show", fact["id"], *db)
    assert shown["access_count"] == 0  # reading from the CLI is not an access
    run("memories", "delete", fact["id"], *db, code=1)  # asks; no answer: nothing deleted
    assert as_json("memories", "show", fact["id"], *db)["content"] == "Alice is vegan"
    assert "deleted" in run("memories", "delete", fact["id"], "--yes", *db)
    with memvault.open(vault_url) as v:
        assert [m.content for m in v.memories.list(None)] == ["Lyon is in France"]
        assert v.memories.count() == 1
    result = runner.invoke(app, ["memories", "show", fact["id"], *db])
    assert result.exit_code != 0


def test_sessions_list_and_show_and_message_hits_name_the_conversation(vault_url: str) -> None:
    with memvault.open(vault_url) as v:
        alice = v.users.create("alice")
        chat = v.sessions.create(alice.id, title="Trip planning")
        v.messages.append(chat.id, "user", "I love the food markets of Lyon")
        v.messages.append(chat.id, "assistant", "Les Halles it is")
        v.sessions.create(v.users.create("bob").id, title="Other")
    db = ("--db", vault_url)
    listed = as_json("sessions", "list", "--user", "alice", *db)
    assert [(s["title"], s["message_count"]) for s in listed] == [("Trip planning", 2)]
    assert len(as_json("sessions", "list", *db)) == 2
    out = run("sessions", "list", *db)
    assert chat.id in out and max(map(len, out.splitlines())) <= 80
    shown = run("sessions", "show", chat.id, *db)
    assert "Trip planning" in shown and "alice" in shown
    assert shown.index("food markets") < shown.index("Les Halles")
    data = as_json("sessions", "show", chat.id, *db)
    assert [m["seq"] for m in data["messages"]] == [1, 2]
    hits = run("search", "markets", "--user", "alice", "--messages", "--mode", "text", *db)
    assert "Trip planning" in hits and f"{chat.started_at:%Y-%m-%d}" in hits
    found = as_json("search", "markets", "--user", "alice", "--messages", "--mode", "text", *db)
    assert found[0]["session_title"] == "Trip planning"


def test_keys_list_fits_80_columns_and_revoke_takes_what_it_shows(vault_url: str) -> None:
    with memvault.open(vault_url) as v:
        v.users.create("alice")
    db = ("--db", vault_url)
    admin = as_json("keys", "create", "--admin", "--name", "ops", *db)
    user = as_json("keys", "create", "--user", "alice", *db)
    out = run("keys", "list", *db)
    assert max(map(len, out.splitlines())) <= 80
    assert f"mv_{admin['prefix']}" in out and f"mv_{user['prefix']}" in out
    assert "…" not in out
    run("keys", "revoke", "mv_zzzz", *db, code=1)
    shown = f"mv_{admin['prefix']}"
    assert f"revoked key {shown}" in run("keys", "revoke", shown, *db)
    assert "revoked" in run("keys", "revoke", user["prefix"][:5], *db)  # a unique beginning
    assert all(k["revoked_at"] for k in as_json("keys", "list", *db))


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_and_version(flag: str) -> None:
    assert "memories" in run(flag)
    assert "add" in run("memories", flag)
    assert run("--version").startswith("memvault ")
