"""Outgrowing SQLite: a small real store made through the service moves to PostgreSQL and back.

The issue's store, exactly: 2 users, one session of 10 messages, 4 memories and 40 emotion
events, written over HTTP by `memvault serve`. `memvault transfer` into a fresh PostgreSQL
database exited 1 in 5 runs of 5 (the events, the largest table, were copied on a second
connection before their users were committed, and the rollups their trigger writes have a
foreign key to users). Here it must exit 0 on PG15 and on PG18, and back into SQLite.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests._servers import drop_database, fresh_database, in_ci, postgres_urls
from tests.journeys.conftest import Cli


def build_issue_store(cli: Cli, service: Any) -> dict[str, int]:
    """The issue's store in ./memvault.db, through the HTTP API; returns its row counts."""
    cli.ok("init")
    key = cli.json("keys", "create", "--admin")["key"]
    served = service()
    with served.client(key) as http:

        def post(path: str, body: dict[str, Any]) -> Any:
            reply = http.post(path, json=body)
            assert reply.status_code == 201, (path, reply.status_code, reply.text[:300])
            return reply.json()

        users = [post("/api/users", {"handle": h})["id"] for h in ("ana", "ben")]
        session = post("/api/sessions", {"user_id": users[0], "title": "first chat"})["id"]
        for i in range(10):
            role = ("user", "assistant")[i % 2]
            post(f"/api/sessions/{session}/messages", {"role": role, "content": f"turn {i}"})
        for i in range(4):
            post("/api/memories", {"user_id": users[0], "kind": "fact", "content": f"fact {i}"})
        for i in range(40):
            post("/api/emotions", {
                "user_id": users[i % 2], "emotion": ("joy", "calm", "worry", "pride")[i % 4],
                "intensity": (i % 10) / 10, "trigger": f"turn {i % 10}",
                "session_id": session if i % 2 == 0 else None,
            })  # fmt: skip
    assert served.stop() == 0
    counts: dict[str, int] = cli.json("stats")["counts"]
    assert (counts["users"], counts["messages"], counts["memories"]) == (2, 10, 4)
    assert counts["emotion_events"] == 40
    return counts


@pytest.mark.parametrize("server", ["pg15", "pg18"])
def test_issue_store_transfers_to_postgresql_and_back(cli: Cli, service: Any, server: str) -> None:
    urls = postgres_urls()
    if server not in urls:
        if in_ci():
            pytest.fail(f"PostgreSQL server {server} is not available in CI")
        pytest.skip(f"PostgreSQL server {server} not available")
    counts = build_issue_store(cli, service)
    name = f"mv_journey_transfer_{server}_{os.getpid()}"
    pg = fresh_database(urls[server], name)
    try:
        there = cli("transfer", "sqlite:///memvault.db", pg, "--json", "--quiet")
        assert there.returncode == 0, there.stderr[-2000:]
        assert json.loads(there.stdout)["ok"] is True
        back = cli("transfer", pg, "sqlite:///back.db", "--json", "--quiet")
        assert back.returncode == 0, back.stderr[-2000:]
        assert json.loads(back.stdout)["ok"] is True
    finally:
        drop_database(urls[server], name)
    assert cli.json("stats", "--db", "sqlite:///back.db")["counts"] == counts
