"""Semantic search as a newcomer meets it: the demo's memories are found by meaning at once,
a search that had no vector to look at says so and how to fix it, and a memory edited over
HTTP is found by its new meaning, not its old one."""

from __future__ import annotations

import json
from typing import Any

from tests.journeys.conftest import Cli

EAT = "what does the user eat"


def search(cli: Cli, query: str, *args: str) -> tuple[list[Any], str]:
    """`memvault search --json`: the hits and what was said on stderr."""
    result = cli.ok("search", query, "--user", "demo", *args, "--json")
    return json.loads(result.stdout), result.stderr


def test_the_demo_is_found_by_meaning(cli: Cli) -> None:
    cli.ok("demo")
    out = cli.ok("search", EAT, "--user", "demo", "--mode", "vector").stdout
    lines = [line for line in out.splitlines() if "│ 1 │" in line]
    assert lines and "Is vegetarian" in lines[0], out
    assert "note:" not in out
    hits, said = search(cli, EAT)  # hybrid: the vector leg finds it, the text leg cannot
    assert hits[0]["item"]["content"] == "Is vegetarian" and said == ""


def test_unembedded_messages_give_the_hint_until_embedded(cli: Cli) -> None:
    cli.ok("demo")  # messages are not embedded on write (their volume)
    out = cli.ok("search", "vegetarian", "--user", "demo", "--messages").stdout
    assert "Food markets, always" in out  # the text leg answers
    assert "note:" in out and "memvault embed --what" in out and "messages" in out, out
    hits, said = search(cli, "what does the user eat", "--messages", "--mode", "vector")
    assert hits == [] and "memvault embed --what messages" in said
    cli.ok("embed", "--what", "messages")
    hits, said = search(cli, "what does the user eat", "--messages", "--mode", "vector")
    assert "vegetarian" in hits[0]["item"]["content"] and said == ""


def test_a_memory_edited_over_http_is_found_by_its_new_meaning(cli: Cli, service: Any) -> None:
    cli.ok("demo")
    key = cli.json("keys", "create", "--user", "demo")["key"]
    hits, _ = search(cli, EAT, "--mode", "vector")
    food = hits[0]["item"]
    assert food["content"] == "Is vegetarian"
    served = service()
    with served.client(key) as http:
        r = http.patch(
            f"/api/memories/{food['id']}",
            json={"content": "Cycles to work on a red bike", "reason": "mixed up"},
        )
        assert r.status_code == 200, r.text
    served.stop()
    hits, _ = search(cli, "how does the user commute", "--mode", "vector")
    assert hits[0]["item"]["id"] == food["id"]
    hits, _ = search(cli, EAT, "--mode", "vector")
    assert hits[0]["item"]["id"] != food["id"], hits  # no longer found by its old meaning
