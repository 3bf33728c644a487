"""A newcomer at the command line, default store ./memvault.db in a fresh folder: asks for
help and the version, finds that reading commands do not make a store, creates one, adds a
user and memories, corrects and deletes one, reads the history, lists sessions and reads the
demo's conversation, and manages API keys in an 80-column terminal."""

from __future__ import annotations

from pathlib import Path

from tests.journeys.conftest import Cli, user_env


def test_a_newcomer_at_the_command_line(cli: Cli, tmp_path: Path) -> None:
    version = cli.ok("--version").stdout
    assert version.startswith("memvault ")
    helped = cli.ok("-h").stdout
    for group in ("users", "sessions", "memories", "keys"):
        assert group in helped
    assert "history" in cli.ok("memories", "-h").stdout

    # Reading before anything exists: refused, naming the command that creates the store.
    for argv in (["stats"], ["users", "list"], ["sessions", "list"], ["keys", "list"]):
        refused = cli(*argv)
        assert refused.returncode == 1, argv
        assert "memvault init" in refused.stderr, (argv, refused.stderr)
        assert "Traceback" not in refused.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    typo = cli("import", "legacy", "--format", "chatgtp")
    assert typo.returncode == 1 and "--format" in typo.stderr
    assert not (tmp_path / "memvault.db").exists()

    cli.ok("init")
    assert (tmp_path / "memvault.db").exists()
    cli.ok("users", "add", "alice", "--name", "Alice")
    taken = cli("users", "add", "alice")
    assert taken.returncode == 1 and "alice" in taken.stderr
    users = cli.json("users", "list")
    assert [u["handle"] for u in users] == ["alice"]

    fact = cli.json("memories", "add", "fact", "Alice is vegetarian", "--user", "alice")
    cli.ok("memories", "add", "preference", "Prefers trains to planes", "--user", "alice")
    cli.ok("memories", "edit", fact["id"], "--content", "Alice is vegan",
           "--reason", "corrected herself")  # fmt: skip
    history = cli.ok("memories", "history", fact["id"]).stdout
    assert "Alice is vegetarian" in history and "Alice is vegan" in history
    assert "corrected herself" in history
    listed = cli.ok("memories", "list", "--user", "alice").stdout
    assert "Alice is vegan" in listed and "Prefers trains" in listed
    not_asked = cli("memories", "delete", fact["id"], input="n\n")
    assert not_asked.returncode == 1
    assert "Alice is vegan" in cli.ok("memories", "show", fact["id"]).stdout
    cli.ok("memories", "delete", fact["id"], "--yes")
    gone = cli("memories", "show", fact["id"])
    assert gone.returncode == 1 and "not found" in gone.stderr
    assert [m["content"] for m in cli.json("memories", "list", "--user", "alice")] == [
        "Prefers trains to planes"
    ]
    shown = cli.ok("users", "show", "alice").stdout
    assert "memories: 1" in shown

    # The demo's conversation, found and read back.
    cli.ok("demo")
    sessions = cli.json("sessions", "list", "--user", "demo")
    assert [s["title"] for s in sessions] == ["memvault demo"]
    conversation = cli.ok("sessions", "show", sessions[0]["id"]).stdout
    assert conversation.index("planning a trip to Lyon") < conversation.index("Les Halles")
    hits = cli.ok("search", "vegetarian", "--user", "demo", "--messages", "--mode", "text").stdout
    assert "memvault demo" in hits

    # API keys in an 80-column terminal: the list fits, and revoke takes what it shows.
    narrow = Cli(tmp_path, env=user_env(COLUMNS="80"))
    created = narrow.json("keys", "create", "--admin", "--name", "laptop")
    narrow.ok("keys", "create", "--user", "alice")
    table = narrow.ok("keys", "list").stdout
    assert max(len(line) for line in table.splitlines()) <= 80
    shown_key = f"mv_{created['prefix']}"
    assert shown_key in table
    narrow.ok("keys", "revoke", shown_key)
    states = {k["prefix"]: k["revoked_at"] for k in narrow.json("keys", "list")}
    assert states[created["prefix"]] is not None
    assert sum(v is None for v in states.values()) == 1
