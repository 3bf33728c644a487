"""A memory's history outlives it (ending with a delete entry), and still goes with its user
(erase_user), with expiry (purge_expired) and with a retention policy; every engine."""

from __future__ import annotations

from datetime import timedelta

import pytest

import memvault
from memvault import NotFound


@pytest.fixture
def alice(vault: memvault.Vault) -> str:
    return vault.users.create("alice").id


def test_delete_and_delete_many_leave_delete_entries(vault: memvault.Vault, alice: str) -> None:
    one = vault.memories.put(alice, "k1", "note", "first text", embedding=False)
    two = vault.memories.put(alice, "k2", "note", "second text", embedding=False)
    vault.memories.delete(one.id, reason="user asked")
    assert vault.memories.delete_many(alice, keys=["k2"], reason="adapter delete") == 1
    for memory, reason in ((one, "user asked"), (two, "adapter delete")):
        history = vault.memories.history(memory.id, user_id=alice)
        assert [c.op for c in history] == ["create", "delete"]
        assert (history[-1].old_content, history[-1].reason) == (memory.content, reason)
    bob = vault.users.create("bob").id
    with pytest.raises(NotFound):
        vault.memories.history(one.id, user_id=bob)  # another owner's history
    with pytest.raises(NotFound):
        vault.memories.history(memvault.new_id())
    # the key is free again
    assert vault.memories.put(alice, "k1", "note", "reborn", embedding=False).id != one.id


def test_erase_user_removes_the_history_of_deleted_memories(
    vault: memvault.Vault, alice: str
) -> None:
    bob = vault.users.create("bob").id
    gone = vault.memories.add(alice, "fact", "alice secret", embedding=False)
    vault.memories.delete(gone.id)
    vault.memories.add(bob, "fact", "bob keeps", embedding=False)
    assert vault.stats().counts["memory_history"] == 3
    removed = vault.erase_user(alice, vacuum=False)
    assert removed.get("memory_history") == 2
    assert vault.stats().counts["memory_history"] == 1
    with vault.store.read() as tx:
        texts = [r["old_content"] for r in tx.all("SELECT old_content FROM memory_history")]
    assert "alice secret" not in texts


def test_export_user_includes_the_history_of_deleted_memories(
    vault: memvault.Vault, alice: str
) -> None:
    gone = vault.memories.add(alice, "fact", "exported then deleted", embedding=False)
    vault.memories.delete(gone.id)
    exported = vault.export_user(alice)
    assert [r["op"] for r in exported["memory_history"]] == ["create", "delete"]


def test_purge_expired_removes_memories_with_their_history(
    vault: memvault.Vault, alice: str
) -> None:
    short = vault.memories.add(alice, "fact", "short lived", ttl=timedelta(minutes=1),
                               embedding=False)  # fmt: skip
    in_an_hour = vault.clock() + timedelta(hours=1)
    fixed = vault.memories.add(alice, "fact", "fixed", expires_at=in_an_hour, embedding=False)
    lasting = vault.memories.add(alice, "fact", "forever", embedding=False)
    assert vault.memories.purge_expired(now=vault.clock()) == 0
    assert vault.memories.purge_expired(alice, now=vault.clock() + timedelta(minutes=2)) == 1
    with pytest.raises(NotFound):
        vault.memories.history(short.id)
    assert vault.memories.purge_expired(now=vault.clock() + timedelta(days=1)) == 1
    assert [m.id for m in vault.memories.list(alice, include_expired=True)] == [lasting.id]
    assert fixed.id not in {m.id for m in vault.memories.list(alice, include_expired=True)}


def test_retention_ages_memory_history(vault: memvault.Vault, alice: str) -> None:
    kept = vault.memories.add(alice, "fact", "still here", embedding=False)
    gone = vault.memories.add(alice, "fact", "deleted long ago", embedding=False)
    vault.memories.delete(gone.id)
    vault.retention.set("memory_history", max_age_days=30)
    report = vault.retention.prune(now=vault.clock() + timedelta(days=31))
    assert report.removed["memory_history"] == 3
    assert vault.memories.get(kept.id).content == "still here"  # memories are not touched
