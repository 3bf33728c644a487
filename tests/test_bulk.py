"""Bulk writes, each one transaction: messages.append_many and clear, memories.put_many and
delete_many, and several calls in vault.transaction(); every engine."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import memvault
from memvault import InvalidInput, NotFound
from memvault.embed.base import HashingEmbedder


@pytest.fixture
def alice(vault: memvault.Vault) -> str:
    return vault.users.create("alice").id


def test_append_many_numbers_in_order_in_one_transaction(vault: memvault.Vault, alice: str) -> None:
    chat = vault.sessions.create(alice)
    vault.messages.append(chat.id, "user", "first")
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    added = vault.messages.append_many(chat.id, [
        {"role": "user", "content": "hello", "metadata": {"id": "m1", "tool_calls": [{"a": 1}]}},
        {"role": "assistant", "content": "", "emotion": "joy", "created_at": when},
        {"role": "tool", "content": "42"},
    ])  # fmt: skip
    assert [m.seq for m in added] == [2, 3, 4]
    stored = vault.messages.list(chat.id)
    assert [(m.seq, m.role, m.content) for m in stored] == [
        (1, "user", "first"), (2, "user", "hello"), (3, "assistant", ""), (4, "tool", "42")
    ]  # fmt: skip
    assert stored[1] == added[0] and stored[1].metadata == {"id": "m1", "tool_calls": [{"a": 1}]}
    assert stored[2].created_at == when and stored[2].emotion == "joy"
    assert vault.sessions.get(chat.id).message_count == 4


def test_append_many_is_all_or_nothing(vault: memvault.Vault, alice: str) -> None:
    chat = vault.sessions.create(alice)
    with pytest.raises(InvalidInput) as err:
        vault.messages.append_many(
            chat.id, [{"role": "user", "content": "ok"}, {"role": "robot", "content": "x"}]
        )
    assert err.value.field == "messages[1].role"
    assert vault.messages.list(chat.id) == []
    assert vault.sessions.get(chat.id).message_count == 0
    with pytest.raises(NotFound):
        vault.messages.append_many(memvault.new_id(), [{"role": "user", "content": "x"}])
    assert vault.messages.append_many(chat.id, []) == []


def test_clear_keeps_the_session_and_goes_on_numbering(vault: memvault.Vault, alice: str) -> None:
    chat = vault.sessions.create(alice, title="kept")
    other = vault.sessions.create(alice)
    vault.messages.append_many(chat.id, [{"role": "user", "content": f"m{i}"} for i in range(5)])
    vault.messages.append(other.id, "user", "untouched")
    assert vault.messages.clear(chat.id) == 5
    assert vault.messages.list(chat.id) == []
    assert vault.sessions.get(chat.id).message_count == 0
    assert vault.sessions.get(chat.id).title == "kept"
    assert vault.messages.append(chat.id, "user", "again").seq == 6  # never reused
    assert [m.content for m in vault.messages.list(other.id)] == ["untouched"]
    assert vault.messages.search(alice, "m3", mode="text") == []  # full-text follows
    assert vault.messages.clear(chat.id) == 1
    bob = vault.users.create("bob").id
    with pytest.raises(NotFound):
        vault.messages.clear(other.id, user_id=bob)


def test_put_many_writes_in_order_and_embeds_in_one_batch(vault_url: str) -> None:
    calls: list[int] = []

    class Counting(HashingEmbedder):
        def embed(self, texts):  # type: ignore[no-untyped-def]
            calls.append(len(texts))
            return super().embed(texts)

    with memvault.open(vault_url, embedder=Counting(16)) as vault:
        alice = vault.users.create("alice").id
        items = [{"key": f"doc-{i}", "kind": "note", "content": f"document {i}",
                  "metadata": {"i": i}} for i in range(20)]  # fmt: skip
        written = vault.memories.put_many(alice, items)
        assert [m.key for m in written] == [f"doc-{i}" for i in range(20)]
        assert calls == [20]
        # again with two texts changed: only those are embedded
        items[3]["content"] = "changed three"
        items[7]["content"] = "changed seven"
        again = vault.memories.put_many(alice, [*items, {"key": "doc-3", "kind": "note",
                                                         "content": "last wins"}])  # fmt: skip
        assert calls == [20, 3]
        assert [m.id for m in again[:20]] == [m.id for m in written]
        assert vault.memories.by_key(alice, "doc-3").content == "last wins"  # type: ignore[union-attr]
        assert vault.memories.count(alice) == 20


def test_put_many_is_all_or_nothing(vault: memvault.Vault, alice: str) -> None:
    vault.memories.put(alice, "keep", "note", "kept text", embedding=False)
    with pytest.raises(NotFound):
        vault.memories.put_many(alice, [
            {"key": "keep", "kind": "note", "content": "overwritten?", "embedding": False},
            {"key": "new", "kind": "note", "content": "x", "session_id": memvault.new_id(),
             "embedding": False},
        ])  # fmt: skip
    assert vault.memories.by_key(alice, "keep").content == "kept text"  # type: ignore[union-attr]
    assert vault.memories.by_key(alice, "new") is None


def test_delete_many_by_keys_prefix_kinds_filters(vault: memvault.Vault, alice: str) -> None:
    bob = vault.users.create("bob").id
    for i in range(6):
        vault.memories.put(alice, f"ns/{i % 2}/{i}", "note" if i < 4 else "fact", f"t{i}",
                           metadata={"i": i}, embedding=False)  # fmt: skip
    vault.memories.put(bob, "ns/0/0", "note", "bob's", embedding=False)
    assert vault.memories.delete_many(alice, keys=["ns/0/0", "missing"]) == 1
    assert (
        vault.memories.delete_many(alice, key_prefix="ns/1/", filters={"metadata.i": {"$gt": 2}})
        == 2
    )
    assert vault.memories.delete_many(alice, kinds=["fact"]) == 1
    assert sorted(m.key for m in vault.memories.list(alice)) == ["ns/0/2", "ns/1/1"]  # type: ignore[type-var]
    assert vault.memories.delete_many(alice, ids=[memvault.new_id()]) == 0  # not an error
    assert vault.memories.by_key(bob, "ns/0/0") is not None  # bob's untouched
    with pytest.raises(InvalidInput):
        vault.memories.delete_many(alice)  # no selector: no accidental delete-all
    with pytest.raises(InvalidInput):
        vault.memories.delete_many(memvault.ANY, key_prefix="ns/")
    assert vault.memories.delete_many(alice, filters={}) == 2


def test_batch_of_puts_and_deletes_in_one_transaction(vault: memvault.Vault, alice: str) -> None:
    vault.memories.put(alice, "old", "note", "old", embedding=False)
    with pytest.raises(RuntimeError), vault.transaction():
        vault.memories.put_many(alice, [{"key": "a", "kind": "note", "content": "a",
                                         "embedding": False}])  # fmt: skip
        vault.memories.delete_many(alice, keys=["old"])
        raise RuntimeError("abort the batch")
    assert vault.memories.by_key(alice, "a") is None
    assert vault.memories.by_key(alice, "old") is not None
    with vault.transaction():
        vault.memories.put_many(alice, [{"key": "a", "kind": "note", "content": "a",
                                         "embedding": False}])  # fmt: skip
        vault.memories.delete_many(alice, keys=["old"])
    assert vault.memories.by_key(alice, "a") is not None
    assert vault.memories.by_key(alice, "old") is None
