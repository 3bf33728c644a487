"""Bulk writes, each one transaction: messages.append_many and clear, memories.put_many and
delete_many, and several calls in vault.transaction(); every engine."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

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


def _item(key: str, content: str, vector: list[float] | None = None, **more: Any) -> dict[str, Any]:
    item = {"key": key, "kind": "note", "content": content, **more}
    item.update({"embedding": vector, "embedding_model": "m4"} if vector else {"embedding": False})
    return item


def test_put_many_of_new_and_stored_keys_equals_one_put_each(
    vault: memvault.Vault, alice: str
) -> None:
    """put_many writes the items naming new keys in a few statements per run of them: the
    rows, vectors, history and events are those of one `put` per item, in order."""
    from tests.invariants import assert_vectors_current

    bob = vault.users.create("bob").id
    events: list[tuple[str | None, str, str]] = []
    vault.events.subscribe(lambda e: events.append((e.user_id, e.kind, e.ids["memory_id"])),
                           ["memory"])  # fmt: skip
    batch = [
        _item("a", "alpha", [1.0, 0, 0, 0], metadata={"first": True}),
        _item("k1", "k one changed", [0, 1.0, 0, 0]),
        _item("b", "beta", [0, 0, 1.0, 0], context="ctx", importance=0.9),
        # the same key later in the batch: replaces
        _item("a", "alpha again", [0, 0, 0, 1.0], metadata={"n": [1, {"x": None}], "s": "é"}),
        _item("k3", "k three"),  # unchanged
        _item("c", "gamma"),
    ]
    for user in (alice, bob):
        vault.memories.put(user, "k1", "note", "k one", embedding=[1.0, 1, 0, 0],
                           embedding_model="m4")  # fmt: skip
        vault.memories.put(user, "k3", "note", "k three", embedding=False)
    events.clear()
    written = vault.memories.put_many(alice, batch)
    by_put = [vault.memories.put(bob, **item) for item in batch]
    assert [m.key for m in written] == [i["key"] for i in batch]

    def shape(m: memvault.Memory) -> tuple[Any, ...]:
        return (m.key, m.kind, m.content, m.context, m.importance, m.metadata, m.dedupe)

    assert [shape(m) for m in written] == [shape(m) for m in by_put]
    for user, mems in ((alice, written), (bob, by_put)):
        stored = {m.key: m for m in vault.memories.list(user)}
        assert sorted(stored) == ["a", "b", "c", "k1", "k3"]
        assert stored["a"].metadata == {"n": [1, {"x": None}], "s": "é"}
        assert [shape(m) for m in mems[3:]] == [shape(stored[m.key]) for m in mems[3:]]
        vec = vault.embeddings.get(model="m4", memory_id=stored["a"].id)
        assert vec is not None and vec.tolist() == [0, 0, 0, 1.0]
        assert vault.embeddings.get(model="m4", memory_id=stored["c"].id) is None
    ops = {u: {k: [h.op for h in vault.memories.history(m.id)] for k, m in
               ((m.key, m) for m in vault.memories.list(u))} for u in (alice, bob)}  # fmt: skip
    assert ops[alice] == ops[bob] == {"a": ["create", "update"], "b": ["create"],
                                      "c": ["create"], "k1": ["create", "update"],
                                      "k3": ["create"]}  # fmt: skip
    key_of = {m.id: m.key for u in (alice, bob) for m in vault.memories.list(u)}
    seen = {u: [(kind, key_of[i]) for who, kind, i in events if who == u] for u in (alice, bob)}
    assert seen[alice] == seen[bob] == [
        ("memory.added", "a"), ("memory.updated", "k1"), ("memory.added", "b"),
        ("memory.updated", "a"), ("memory.added", "c"),
    ]  # fmt: skip
    assert_vectors_current(vault)


def test_put_many_new_keys_check_each_item_in_order_and_write_nothing(
    vault: memvault.Vault, alice: str
) -> None:
    with pytest.raises(InvalidInput, match="4-dimensional"):
        vault.memories.put_many(alice, [_item("x", "x", [1.0, 0, 0, 0]),
                                        _item("y", "y", [1.0, 0, 0])])  # fmt: skip
    with pytest.raises(NotFound, match="session"):
        vault.memories.put_many(alice, [_item("x", "x", [1.0, 0, 0, 0]),
                                        _item("y", "y", session_id=memvault.new_id())])  # fmt: skip
    assert vault.memories.count(alice) == 0


def test_put_many_replaces_a_key_stored_after_its_probe(
    vault: memvault.Vault, alice: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key another writer stored since the batch looked (PostgreSQL's concurrent
    transactions) is replaced, as put does, not an error nor a second memory."""
    old = vault.memories.put(alice, "k", "note", "old", embedding=[1.0, 0, 0, 0],
                             embedding_model="m4")  # fmt: skip
    monkeypatch.setattr(vault.memories, "_stored_keys", lambda *a: set())
    got = vault.memories.put_many(alice, [_item("n", "new", [0, 1.0, 0, 0]),
                                          _item("k", "replaced", [0, 0, 1.0, 0])])  # fmt: skip
    assert [m.key for m in got] == ["n", "k"] and got[1].id == old.id
    assert got[1].content == "replaced" and vault.memories.count(alice) == 2
    assert [h.op for h in vault.memories.history(old.id)] == ["create", "update"]
    vec = vault.embeddings.get(model="m4", memory_id=old.id)
    assert vec is not None and vec.tolist() == [0, 0, 1.0, 0]


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
