"""`messages.append` on PostgreSQL is one round trip: the session bump and the insert in one
statement, sent without BEGIN/COMMIT. Counted on the wire with libpq's own protocol trace
(every frontend Sync or simple Query waits for the server: one round trip each)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

import memvault
from memvault import NotFound


def round_trips(vault: memvault.Vault, call: Callable[[], Any]) -> int:
    """Round trips `call` makes on the vault's one pooled connection (pool_size=1)."""
    with tempfile.TemporaryFile("w+") as trace:
        with vault.store.pool.connection() as conn:  # type: ignore[attr-defined]
            conn.pgconn.trace(trace.fileno())
            conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            call()
        finally:
            with vault.store.pool.connection() as conn:  # type: ignore[attr-defined]
                conn.pgconn.untrace()
        trace.seek(0)
        lines = [line.split("\t") for line in trace.read().splitlines()]
    return sum(1 for f in lines if len(f) > 2 and f[0] == "F" and f[2] in ("Sync", "Query"))


@pytest.fixture
def pg_vault(vault_url: str) -> Any:
    with memvault.open(vault_url, pool_size=1) as vault:
        yield vault


@pytest.mark.parametrize("engine", ["pg15", "pg18"], indirect=True)
def test_an_append_is_one_round_trip(pg_vault: memvault.Vault) -> None:
    user = pg_vault.users.ensure("ada")
    other = pg_vault.users.ensure("bob")
    session = pg_vault.sessions.create(user.id)
    pg_vault.messages.append(session.id, "user", "warm the pool")
    seen: list[memvault.Event] = []
    pg_vault.events.subscribe(seen.append)
    assert round_trips(pg_vault, lambda: pg_vault.messages.append(
        session.id, "assistant", "one trip", metadata={"k": 1}, user_id=user.id)) == 1  # fmt: skip
    assert [(e.kind, e.data["seq"]) for e in seen] == [("message.appended", 2)]
    got = pg_vault.messages.list(session.id)
    assert [(m.seq, m.role, m.content, m.metadata) for m in got] == [
        (1, "user", "warm the pool", {}), (2, "assistant", "one trip", {"k": 1})]  # fmt: skip
    assert pg_vault.sessions.get(session.id).message_count == 2
    # Another owner's session, or none: NotFound, nothing written, no event.
    with pytest.raises(NotFound):
        pg_vault.messages.append(session.id, "user", "not mine", user_id=other.id)
    with pytest.raises(NotFound):
        pg_vault.messages.append(memvault.new_id(), "user", "nowhere")
    assert pg_vault.sessions.get(session.id).message_count == 2 and len(seen) == 1
    # Inside an open transaction it joins it (and goes with it on a rollback).
    with pytest.raises(RuntimeError), pg_vault.transaction():
        pg_vault.messages.append(session.id, "user", "rolled back")
        raise RuntimeError
    assert [m.seq for m in pg_vault.messages.list(session.id)] == [1, 2] and len(seen) == 1


def test_appends_number_messages_in_order_on_every_engine(vault: memvault.Vault) -> None:
    user = vault.users.ensure("ada")
    session = vault.sessions.create(user.id)
    for i in range(5):
        assert vault.messages.append(session.id, "user", f"m{i}").seq == i + 1
    assert [m.content for m in vault.messages.list(session.id)] == [f"m{i}" for i in range(5)]
