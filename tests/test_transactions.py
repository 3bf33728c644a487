"""Nested writes: every API call inside `vault.transaction()` (or inside another write) runs in a
SAVEPOINT, so a failed inner call leaves no row and no event behind, and the outer transaction
goes on and commits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import memvault
from memvault import Event, InvalidInput, StoreError


@pytest.fixture
def events(vault: memvault.Vault) -> Iterator[list[Event]]:
    seen: list[Event] = []
    sub = vault.events.subscribe(seen.append)
    yield seen
    sub.close()


def count(vault: memvault.Vault, table: str) -> int:
    with vault.store.read() as tx:
        return int(tx.scalar(f"SELECT count(*) FROM {table}"))


def test_a_failed_call_inside_a_transaction_leaves_nothing_and_the_rest_commits(
    vault: memvault.Vault, events: list[Event]
) -> None:
    user = vault.users.create("alice")
    events.clear()
    with vault.transaction():
        kept = vault.memories.add(user.id, "fact", "kept", embedding=False)
        with pytest.raises(InvalidInput, match="model"):
            # The memory row is written before the vector's model is refused.
            vault.memories.add(user.id, "fact", "refused", embedding=[0.1, 0.2],
                               embedding_model="no spaces allowed")  # fmt: skip
        also = vault.memories.add(user.id, "fact", "also kept", embedding=False)
        assert events == []  # nothing is published before the commit
    assert {m.content for m in vault.memories.list(user.id)} == {"kept", "also kept"}
    assert count(vault, "memories") == 2
    # Every stored memory has its history row; the refused one left neither.
    assert count(vault, "memory_history") == 2
    assert len(vault.memories.history(kept.id)) == len(vault.memories.history(also.id)) == 1
    assert [e.ids["memory_id"] for e in events if e.kind == "memory.added"] == [kept.id, also.id]


def test_an_engine_error_inside_a_transaction_leaves_it_usable(vault: memvault.Vault) -> None:
    # PostgreSQL aborts the whole transaction on a failed statement unless a savepoint
    # takes it back: the writes after the error must still go through.
    user = vault.users.create("alice")
    with vault.transaction() as tx:
        vault.sessions.create(user.id, title="before")
        with pytest.raises(StoreError), vault.store.write() as inner:
            inner.execute("INSERT INTO no_such_table (x) VALUES (1)")
        vault.sessions.create(user.id, title="after")
        assert tx.scalar("SELECT count(*) FROM sessions") == 2
    assert sorted(s.title or "" for s in vault.sessions.list(user_id=user.id)) == [
        "after",
        "before",
    ]


def test_savepoints_nest_several_levels(vault: memvault.Vault, events: list[Event]) -> None:
    user = vault.users.create("alice")
    events.clear()
    store = vault.store
    with vault.transaction():
        vault.sessions.create(user.id, title="level 0")
        with store.write():
            vault.sessions.create(user.id, title="level 1")
            with pytest.raises(RuntimeError), store.write():
                vault.sessions.create(user.id, title="level 2, rolled back")
                with store.write():
                    vault.sessions.create(user.id, title="level 3, released then rolled back")
                raise RuntimeError("undo levels 2 and 3")
            with store.write():
                vault.sessions.create(user.id, title="level 2, kept")
                with pytest.raises(InvalidInput), store.write():
                    vault.sessions.create(user.id, title="level 3, kept")
                    vault.sessions.create(user.id, kind="no such kind")
    titles = sorted(s.title or "" for s in vault.sessions.list(user_id=user.id))
    assert titles == ["level 0", "level 1", "level 2, kept"]
    published = sorted(e.ids["session_id"] for e in events if e.kind == "session.created")
    stored = sorted(s.id for s in vault.sessions.list(user_id=user.id))
    assert published == stored  # no event of a rolled-back part


def test_an_outer_failure_undoes_the_inner_calls_and_publishes_nothing(
    vault: memvault.Vault, events: list[Event]
) -> None:
    user = vault.users.create("alice")
    events.clear()
    with pytest.raises(RuntimeError), vault.transaction():
        vault.sessions.create(user.id, title="gone")
        vault.memories.add(user.id, "fact", "gone too", embedding=False)
        raise RuntimeError("abort")
    assert count(vault, "sessions") == count(vault, "memories") == 0
    assert events == []
    # The store is fine afterwards.
    vault.sessions.create(user.id, title="next")
    assert count(vault, "sessions") == 1


def test_a_write_inside_a_read_transaction_is_refused(vault: memvault.Vault) -> None:
    with vault.store.read(), pytest.raises(StoreError, match="read transaction"):
        vault.users.create("alice")
    assert count(vault, "users") == 0


def test_without_savepoints_nested_writes_join_as_they_are(vault: memvault.Vault) -> None:
    # For a caller that rolls everything back on any failure (the append writer): no
    # savepoint is taken, so a caught failure inside leaves what it wrote before failing.
    user = vault.users.create("alice")
    with vault.store.write(savepoints=False) as tx:
        with pytest.raises(RuntimeError), vault.store.write():
            vault.sessions.create(user.id, title="stays")
            raise RuntimeError("caught")
        assert tx.savepoints == 0
    assert [s.title for s in vault.sessions.list(user_id=user.id)] == ["stays"]
