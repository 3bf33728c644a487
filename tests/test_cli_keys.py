"""CLI: `memories add --key/--no-dedupe`, `memories list` and `sessions list` with
--key-prefix and --where, `memories delete` keeping the history; every engine."""

from __future__ import annotations

import json

from typer.testing import CliRunner

import memvault
from memvault.cli import app

runner = CliRunner()


def _run(url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--db", url])
    return result.exit_code, result.output


def test_keys_dedupe_and_where_from_the_command_line(vault_url: str) -> None:
    with memvault.open(vault_url, embed_memories=False) as vault:
        al = vault.users.create("al").id
        vault.memories.put(al, "doc/2", "note", "two", metadata={"n": 2})
        vault.sessions.create(al, key="thread-a", metadata={"topic": "food"})
        vault.sessions.create(al, key="other-b", metadata={"topic": "trip"})
    code, out = _run(vault_url, "memories", "add", "fact", "same", "--user", "al",
                     "--key", "doc/1", "--json")  # fmt: skip
    assert code == 0, out
    first = json.loads(out)
    assert first["key"] == "doc/1"
    code, out = _run(vault_url, "memories", "add", "fact", "SAME", "--user", "al", "--json")
    plain = json.loads(out)  # a keyed memory is no de-duplication target: a memory of its own
    assert plain["id"] != first["id"] and plain["key"] is None
    code, out = _run(vault_url, "memories", "add", "fact", "same", "--user", "al", "--json")
    assert json.loads(out)["id"] == plain["id"]  # de-duplicated
    code, out = _run(vault_url, "memories", "add", "fact", "SAME", "--user", "al",
                     "--no-dedupe", "--json")  # fmt: skip
    assert json.loads(out)["id"] not in {first["id"], plain["id"]}
    code, out = _run(vault_url, "memories", "add", "fact", "same", "--user", "al",
                     "--key", "doc/3", "--json")  # fmt: skip
    third = json.loads(out)  # the same text again, by key: stored under that key
    assert code == 0 and third["key"] == "doc/3" and third["id"] != first["id"]
    code, out = _run(vault_url, "memories", "list", "--user", "al", "--key-prefix", "doc/",
                     "--json")  # fmt: skip
    assert sorted(m["key"] for m in json.loads(out)) == ["doc/1", "doc/2", "doc/3"]
    code, out = _run(vault_url, "memories", "list", "--user", "al", "--where",
                     '{"metadata.n": {"$gte": 2}}', "--json")  # fmt: skip
    assert [m["key"] for m in json.loads(out)] == ["doc/2"]
    code, out = _run(vault_url, "memories", "list", "--user", "al", "--where", "{bad")
    assert code != 0 and "--where" in out
    code, out = _run(vault_url, "sessions", "list", "--user", "al", "--key-prefix", "thread-",
                     "--json")  # fmt: skip
    assert [s["key"] for s in json.loads(out)] == ["thread-a"]
    code, out = _run(vault_url, "sessions", "list", "--where", '{"metadata.topic": "trip"}',
                     "--json")  # fmt: skip
    assert [s["key"] for s in json.loads(out)] == ["other-b"]
    code, out = _run(vault_url, "memories", "delete", first["id"], "--yes")
    assert code == 0, out
    code, out = _run(vault_url, "memories", "history", first["id"], "--json")
    assert [c["op"] for c in json.loads(out)] == ["create", "delete"]
