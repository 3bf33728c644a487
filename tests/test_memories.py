"""Memories: de-duplication, history, access tracking, filters, base layer; every engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import memvault
from memvault import Conflict, InvalidInput, NotFound


@pytest.fixture
def alice(vault: memvault.Vault) -> memvault.User:
    return vault.users.create("alice")


def test_add_and_get_round_trip(vault: memvault.Vault, alice: memvault.User) -> None:
    session = vault.sessions.create(alice.id)
    message = vault.messages.append(session.id, "user", "I'm vegetarian")
    memory = vault.memories.add(
        alice.id, "fact", "Alice is vegetarian", context="said at dinner", confidence=0.9,
        importance=0.8, session_id=session.id, message_id=message.id, metadata={"src": "chat"},
    )  # fmt: skip
    got = vault.memories.get(memory.id, track_access=False)
    assert got == memory
    assert (got.kind, got.confidence, got.importance) == ("fact", 0.9, 0.8)
    assert (got.session_id, got.message_id) == (session.id, message.id)


def test_same_content_twice_returns_the_existing_memory(
    vault: memvault.Vault, alice: memvault.User
) -> None:
    first = vault.memories.add(alice.id, "preference", "Loves hiking")
    again = vault.memories.add(alice.id, "preference", "  loves   HIKING ")
    other_kind = vault.memories.add(alice.id, "fact", "Loves hiking")
    assert again.id == first.id
    assert other_kind.id != first.id
    assert vault.memories.count(alice.id) == 2
    assert len(vault.memories.history(first.id)) == 1


def test_update_records_history_in_order(vault: memvault.Vault, alice: memvault.User) -> None:
    memory = vault.memories.add(alice.id, "fact", "Lives in Paris", confidence=0.6)
    vault.memories.update(memory.id, content="Lives in Lyon", reason="moved")
    vault.memories.update(memory.id, confidence=0.95, reason="confirmed")
    history = vault.memories.history(memory.id)
    assert [h.op for h in history] == ["create", "update", "update"]
    assert (history[1].old_content, history[1].new_content) == ("Lives in Paris", "Lives in Lyon")
    assert history[1].reason == "moved"
    assert history[2].changes == {"confidence": [0.6, 0.95]}
    current = vault.memories.get(memory.id, track_access=False)
    assert (current.content, current.confidence) == ("Lives in Lyon", 0.95)
    assert current.content_hash != memory.content_hash


def test_update_to_existing_content_is_a_conflict(
    vault: memvault.Vault, alice: memvault.User
) -> None:
    a = vault.memories.add(alice.id, "fact", "one")
    vault.memories.add(alice.id, "fact", "two")
    with pytest.raises(Conflict):
        vault.memories.update(a.id, content="TWO")
    assert vault.memories.get(a.id, track_access=False).content == "one"
    assert len(vault.memories.history(a.id)) == 1


def test_access_is_tracked_on_reads(vault: memvault.Vault, alice: memvault.User) -> None:
    memory = vault.memories.add(alice.id, "fact", "x")
    assert memory.access_count == 0
    vault.memories.get(memory.id)
    vault.memories.list(alice.id)
    got = vault.memories.get(memory.id)
    assert got.access_count == 3
    assert got.last_accessed_at is not None
    assert vault.memories.get(memory.id, track_access=False).access_count == 3


def test_filters(vault: memvault.Vault, alice: memvault.User) -> None:
    old = datetime(2024, 1, 1, tzinfo=UTC)
    vault.memories.add(alice.id, "fact", "old fact", created_at=old, confidence=0.4)
    vault.memories.add(alice.id, "preference", "likes tea", confidence=0.9)
    vault.memories.add(alice.id, "event", "went to Lyon", confidence=0.7)
    by_kind = vault.memories.list(alice.id, kinds=["fact", "event"], track_access=False)
    assert sorted(m.content for m in by_kind) == ["old fact", "went to Lyon"]
    recent = vault.memories.list(alice.id, since=old + timedelta(days=1), track_access=False)
    assert sorted(m.content for m in recent) == ["likes tea", "went to Lyon"]
    before = vault.memories.list(alice.id, until=old + timedelta(days=1), track_access=False)
    assert [m.content for m in before] == ["old fact"]
    confident = vault.memories.list(alice.id, min_confidence=0.8, track_access=False)
    assert [m.content for m in confident] == ["likes tea"]
    with pytest.raises(InvalidInput, match="kinds"):
        vault.memories.list(alice.id, kinds=["fact'; DROP TABLE memories; --"])


def test_expired_memories_are_hidden_by_default(
    vault: memvault.Vault, alice: memvault.User
) -> None:
    past = datetime.now(UTC) - timedelta(minutes=1)
    vault.memories.add(alice.id, "note", "temporary", expires_at=past)
    vault.memories.add(alice.id, "note", "lasting")
    assert [m.content for m in vault.memories.list(alice.id)] == ["lasting"]
    assert len(vault.memories.list(alice.id, include_expired=True)) == 2


def test_base_layer_and_layered_reads(vault: memvault.Vault, alice: memvault.User) -> None:
    bob = vault.users.create("bob")
    base = vault.memories.add(None, "fact", "Water boils at 100 °C at sea level")
    mine = vault.memories.add(alice.id, "preference", "Alice likes tea")
    vault.memories.add(bob.id, "preference", "Bob likes coffee")
    assert [m.id for m in vault.memories.list(alice.id)] == [mine.id]
    assert [m.id for m in vault.memories.list(None)] == [base.id]
    layered = vault.memories.list(alice.id, layered=True)
    assert [m.id for m in layered] == [mine.id, base.id]  # the user's layer first
    assert vault.memories.get(base.id, user_id=alice.id, layered=True).id == base.id
    with pytest.raises(NotFound):
        vault.memories.get(base.id, user_id=alice.id)  # not without asking for layers
    with pytest.raises(NotFound):
        vault.memories.get(mine.id, user_id=bob.id)
    with pytest.raises(NotFound):
        vault.memories.update(mine.id, content="hacked", user_id=bob.id)
    with pytest.raises(NotFound):
        vault.memories.delete(mine.id, user_id=bob.id)
    assert vault.memories.get(mine.id, track_access=False).content == "Alice likes tea"


def test_delete_leaves_a_delete_entry_in_history(
    vault: memvault.Vault, alice: memvault.User
) -> None:
    memory = vault.memories.add(alice.id, "fact", "to forget")
    vault.memories.update(memory.id, content="to forget soon")
    vault.memories.delete(memory.id, reason="asked to")
    with pytest.raises(NotFound):
        vault.memories.get(memory.id)
    counts = vault.stats().counts
    assert counts["memories"] == 0 and counts["memory_history"] == 3
    history = vault.memories.history(memory.id)
    ops = [(c.op, c.old_content, c.new_content, c.reason) for c in history]
    assert ops[-1] == ("delete", "to forget soon", None, "asked to")
    assert [o[0] for o in ops] == ["create", "update", "delete"]


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("confidence", {"confidence": 1.5}),
        ("confidence", {"confidence": -0.1}),
        ("confidence", {"confidence": float("nan")}),
        ("importance", {"importance": 2}),
        ("metadata", {"metadata": {"x": float("inf")}}),
        ("metadata", {"metadata": ["not", "a", "dict"]}),
        ("session_id", {"session_id": "nope"}),
    ],
)
def test_bad_values_name_the_field_and_write_nothing(
    vault: memvault.Vault, alice: memvault.User, field: str, kwargs: dict[str, object]
) -> None:
    with pytest.raises(InvalidInput, match=field):
        vault.memories.add(alice.id, "fact", "x", **kwargs)  # type: ignore[arg-type]
    assert vault.memories.count() == 0


def test_unknown_kind_and_empty_content(vault: memvault.Vault, alice: memvault.User) -> None:
    with pytest.raises(InvalidInput, match="kind='gossip'"):
        vault.memories.add(alice.id, "gossip", "x")
    with pytest.raises(InvalidInput, match="content"):
        vault.memories.add(alice.id, "fact", "   ")
    with pytest.raises(NotFound, match="session"):
        vault.memories.add(alice.id, "fact", "x", session_id=memvault.new_id())
    assert vault.memories.count() == 0


def test_list_takes_the_filters_of_search(vault: memvault.Vault, alice: memvault.User) -> None:
    food = vault.memories.add(alice.id, "fact", "likes tea", metadata={"topic": "food", "n": 3})
    vault.memories.add(alice.id, "fact", "plays chess", metadata={"topic": "games", "n": 9})
    vault.memories.add(None, "fact", "tea is a drink", metadata={"topic": "food"})

    def listed(spec: object) -> list[str]:
        return [m.id for m in vault.memories.list(alice.id, filters=spec, track_access=False)]

    assert listed({"metadata.topic": "food"}) == [food.id]  # the owner rule still holds
    assert listed({"and": [{"metadata.n": {"gte": 1}}, {"metadata.n": {"lt": 5}}]}) == [food.id]
    assert len(listed(None)) == 2
    with pytest.raises(InvalidInput, match="filters"):
        listed({"metadata.topic; DROP": "x"})
