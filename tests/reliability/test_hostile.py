"""Hostile input at the library and the CLI: SQL injection through filter fields, operators,
values, memory kinds and search text never reaches SQL; schema and rows stay as they were."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import memvault
from memvault.store.schema import metadata
from tests.reliability.conftest import report

PAYLOADS = [
    "'; DROP TABLE memories; --",
    "x' OR '1'='1",
    "1; DELETE FROM users",
    'kind") OR 1=1 --',
    "memories WHERE 1=1; --",
    '" OR ""="',
    "%' --",
    "(SELECT password FROM pg_shadow)",
    "metadata.a'); DROP TABLE users; --",
    "$$; DROP TABLE users; $$",
    "*) OR rowid > 0 --",
    "NEAR(a b) OR content MATCH '*'",
]


def _fingerprint(vault: memvault.Vault) -> tuple[list[str], dict[str, int]]:
    with vault.store.read() as tx:
        if tx.engine == "sqlite":
            names = [r["name"] for r in tx.all("SELECT name FROM sqlite_master ORDER BY name")]
        else:
            names = [r["tablename"] for r in tx.all(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "ORDER BY tablename")]  # fmt: skip
    return names, vault.stats().counts


def _attempts(vault: memvault.Vault, user_id: str, payload: str) -> list[str]:
    """Call every entry point that takes user-controlled strings; return outcome names."""
    calls: list[Any] = [
        lambda: vault.memories.search(user_id, payload, mode="text"),
        lambda: vault.memories.search(user_id, "apples", mode="text", filters={payload: "x"}),
        lambda: vault.memories.search(
            user_id, "apples", mode="text", filters={"kind": {payload: "fact"}}
        ),
        lambda: vault.memories.search(user_id, "apples", mode="text", filters={"kind": payload}),
        lambda: vault.memories.search(
            user_id, "apples", mode="text", filters={f"metadata.{payload}": 1}
        ),
        lambda: vault.memories.search(
            user_id, "apples", mode="text", filters={"metadata.topic": {"in": [payload, 1]}}
        ),
        lambda: vault.memories.search(
            user_id, "apples", mode="text", filters={"content": {"contains": payload}}
        ),
        lambda: vault.memories.list(user_id, kinds=[payload]),
        lambda: vault.messages.search(user_id, payload, mode="text"),
        lambda: vault.users.get_by_handle(payload),
        lambda: vault.memories.add(user_id, "note", payload, metadata={payload: payload}),
    ]
    outcomes = []
    for call in calls:
        try:
            call()
            outcomes.append("ok")
        except memvault.InvalidInput:
            outcomes.append("refused")
        except memvault.NotFound:
            outcomes.append("not found")
    return outcomes


def test_injection_through_the_library_changes_nothing(vault: memvault.Vault) -> None:
    alice = vault.users.create("alice")
    bob = vault.users.create("bob")
    vault.memories.add(alice.id, "fact", "Alice likes apples", metadata={"topic": "food"})
    vault.memories.add(bob.id, "fact", "Bob's secret: the apples are poisoned")
    before_names, _ = _fingerprint(vault)
    tried = refused = 0
    for payload in PAYLOADS:
        outcomes = _attempts(vault, alice.id, payload)
        tried += len(outcomes)
        refused += outcomes.count("refused")
        try:
            hits = vault.memories.search(alice.id, payload, mode="text")
        except memvault.InvalidInput:  # a query that does not parse is refused, clearly
            hits = []
        assert all(h.item.user_id == alice.id for h in hits)  # never Bob's rows
    names, counts = _fingerprint(vault)
    assert names == before_names
    assert counts["users"] == 2
    assert counts["memories"] == 2 + len(PAYLOADS)  # only the memories added on purpose
    stored = {m.content for m in vault.memories.list(alice.id, kinds=["note"], limit=100)}
    assert stored == set(PAYLOADS)  # payloads stored as inert text, byte for byte
    report(f"injection ({vault.engine})", payloads=len(PAYLOADS), calls=tried,
           refused_as_invalid=refused, schema_changed=0, foreign_rows=0)  # fmt: skip


def test_unknown_filter_fields_and_operators_are_named(vault: memvault.Vault) -> None:
    user = vault.users.create("u")
    with pytest.raises(memvault.InvalidInput, match="password"):
        vault.memories.search(user.id, "x", mode="text", filters={"password": "x"})
    with pytest.raises(memvault.InvalidInput, match="regex"):
        vault.memories.search(user.id, "x", mode="text", filters={"kind": {"regex": ".*"}})


MEMVAULT = shutil.which("memvault", path=os.path.dirname(sys.executable)) or "memvault"


def test_injection_through_the_cli_changes_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    with memvault.open(db) as vault:
        alice = vault.users.create("alice")
        vault.memories.add(alice.id, "fact", "Alice likes apples")
        before = _fingerprint(vault)
    for payload in PAYLOADS:
        for args in (["search", payload, "--user", "alice", "--mode", "text", "--json"],
                     ["search", "apples", "--user", payload, "--mode", "text"],
                     ["search", "apples", "--user", "alice", "--kind", payload]):  # fmt: skip
            out = subprocess.run([MEMVAULT, *args, "--db", db], capture_output=True, text=True,
                                 timeout=60)  # fmt: skip
            assert "Traceback" not in out.stderr
            if out.returncode == 0 and "--json" in args:
                hits = json.loads(out.stdout)
                assert all("apples" in json.dumps(h) for h in hits)
    with memvault.open(db) as vault:
        assert _fingerprint(vault) == before
    assert {t.name for t in metadata.sorted_tables} <= set(before[0])


@pytest.fixture
def http(vault: memvault.Vault) -> Iterator[Any]:
    from tests.server.conftest import serve

    yield from serve(vault)


def test_injection_through_the_http_api_changes_nothing(http: Any) -> None:
    import httpx

    vault = http.vault
    vault.memories.add(http.alice.id, "fact", "Alice likes apples", metadata={"topic": "food"})
    vault.memories.add(http.bob.id, "fact", "Bob's secret apples")
    before = _fingerprint(vault)
    statuses: dict[int, int] = {}
    with httpx.Client(
        base_url=http.url, timeout=30, headers={"Authorization": f"Bearer {http.alice_key}"}
    ) as alice:
        for payload in PAYLOADS:
            attempts = [
                {"q": payload, "mode": "text"},
                {"q": "apples", "mode": "text", "kind": payload},
                {"q": "apples", "mode": "text", "filters": json.dumps({payload: "x"})},
                {"q": "apples", "mode": "text", "filters": json.dumps({"kind": {payload: "fact"}})},
                {"q": "apples", "mode": "text", "filters": json.dumps({"kind": payload})},
                {"q": "apples", "mode": "text", "filters": payload},
                {"q": "apples", "mode": "text", "user_id": payload},
                {"q": "apples", "mode": "text", "session_id": payload},
                {"q": "apples", "mode": "text", "sort": payload, "order_by": payload},
            ]
            for params in attempts:
                response = alice.get("/api/search/memories", params=params)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                assert response.status_code < 500, response.text
                assert "Traceback" not in response.text
                if response.status_code == 200:
                    for hit in response.json():
                        assert hit["memory"]["user_id"] == http.alice.id
            listed = alice.get("/api/memories", params={"kind": payload})
            assert listed.status_code in (200, 422)
    assert _fingerprint(vault) == before
    report(
        f"http injection ({vault.engine})",
        requests=sum(statuses.values()),
        statuses=dict(sorted(statuses.items())),
        server_errors=0,
        foreign_rows=0,
    )
