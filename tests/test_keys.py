"""Caller-chosen keys on memories and sessions: unique per owner, by_key, put (upsert), the
key prefix of list; every engine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

import memvault
from memvault import Conflict, InvalidInput
from memvault.embed.base import HashingEmbedder


@pytest.fixture
def kv(vault_url: str) -> Iterator[memvault.Vault]:
    """A vault embedding with a small deterministic embedder (vectors follow texts)."""
    v = memvault.open(vault_url, embedder=HashingEmbedder(16))
    try:
        yield v
    finally:
        v.close()


@pytest.fixture
def alice(kv: memvault.Vault) -> str:
    return kv.users.create("alice").id


@pytest.fixture
def bob(kv: memvault.Vault) -> str:
    return kv.users.create("bob").id


def _vector_text_digest(vault: memvault.Vault, memory_id: str) -> object:
    got = vault.embeddings.get(model=HashingEmbedder(16).name, memory_id=memory_id)
    return None if got is None else got.tolist()


def test_a_key_is_unique_per_owner_and_found_again(
    kv: memvault.Vault, alice: str, bob: str
) -> None:
    mine = kv.memories.add(alice, "fact", "tea", key="doc-1")
    assert mine.key == "doc-1"
    assert kv.memories.add(bob, "fact", "coffee", key="doc-1").key == "doc-1"  # bob's own
    assert kv.memories.add(None, "fact", "base fact", key="doc-1").user_id is None
    with pytest.raises(Conflict, match="doc-1"):
        kv.memories.add(alice, "fact", "something else", key="doc-1")
    with pytest.raises(Conflict, match="doc-1"):
        kv.memories.add(None, "fact", "another base fact", key="doc-1")
    found = kv.memories.by_key(alice, "doc-1")
    assert found is not None and found.id == mine.id
    assert kv.memories.by_key(alice, "nope") is None
    assert kv.memories.by_key(alice, "DOC-1") is None  # exact, not folded
    base = kv.memories.by_key(None, "doc-1")
    assert base is not None and base.content == "base fact"


def test_put_creates_then_replaces_with_history_and_exact_metadata(
    kv: memvault.Vault, alice: str
) -> None:
    first = kv.memories.put(alice, "lc:1", "note", "Paris is in France",
                            metadata={"a": 1, "nested": {"x": [1, 2]}})  # fmt: skip
    assert (first.key, first.dedupe, first.metadata) == (
        "lc:1",
        False,
        {"a": 1, "nested": {"x": [1, 2]}},
    )
    vector_before = _vector_text_digest(kv, first.id)
    assert vector_before is not None
    same = kv.memories.put(alice, "lc:1", "note", "Paris is in France",
                           metadata={"a": 1, "nested": {"x": [1, 2]}})  # fmt: skip
    assert same.id == first.id
    assert [c.op for c in kv.memories.history(first.id)] == ["create"]  # nothing changed
    second = kv.memories.put(alice, "lc:1", "fact", "Lyon is in France", metadata={"b": None},
                             reason="re-added")  # fmt: skip
    assert second.id == first.id and second.created_at == first.created_at
    assert (second.kind, second.content, second.metadata) == (
        "fact",
        "Lyon is in France",
        {"b": None},
    )
    assert kv.memories.get(first.id, track_access=False).metadata == {"b": None}  # replaced
    history = kv.memories.history(first.id)
    assert [c.op for c in history] == ["create", "update"]
    assert (history[1].old_content, history[1].new_content, history[1].reason) == (
        "Paris is in France", "Lyon is in France", "re-added"
    )  # fmt: skip
    assert history[1].changes["kind"] == ["note", "fact"]
    assert _vector_text_digest(kv, first.id) != vector_before  # the vector follows the text
    hits = kv.memories.search(alice, "Lyon", mode="vector")
    assert [h.item.id for h in hits][:1] == [first.id]


def test_put_never_deduplicates_nor_conflicts_on_equal_text(kv: memvault.Vault, alice: str) -> None:
    one = kv.memories.put(alice, "id-1", "note", "same words")
    two = kv.memories.put(alice, "id-2", "note", "Same   WORDS")
    assert one.id != two.id
    three = kv.memories.put(alice, "id-3", "note", "other")
    updated = kv.memories.put(alice, "id-3", "note", "same words")  # another's text: fine
    assert updated.id == three.id and updated.content == "same words"
    assert kv.memories.update(three.id, content="SAME words").content == "SAME words"
    # a de-duplicated add still finds none of them: they are outside de-duplication
    added = kv.memories.add(alice, "note", "same words")
    assert added.id not in {one.id, two.id, three.id} and added.dedupe


def test_a_keyed_add_is_never_deduplicated_and_keeps_its_key(
    kv: memvault.Vault, alice: str
) -> None:
    # the newcomer's finding: the key was silently dropped and another memory returned
    plain = kv.memories.add(alice, "fact", "Zed is vegetarian")
    diet = kv.memories.add(alice, "fact", "zed IS  vegetarian", key="diet")
    assert diet.id != plain.id and diet.key == "diet" and not diet.dedupe
    found = kv.memories.by_key(alice, "diet")
    assert found is not None and found.id == diet.id
    drink = kv.memories.add(alice, "fact", "Zed likes tea", key="drink")
    drink2 = kv.memories.add(alice, "fact", "Zed likes tea", key="drink2", dedupe="raise")
    assert drink2.id != drink.id and drink2.key == "drink2"
    assert {m.key for m in kv.memories.list(alice, key_prefix="drink")} == {"drink", "drink2"}
    # an add without a key never returns (nor alters) a keyed memory: it stores its own,
    # which later unkeyed adds of that text do de-duplicate onto
    tea = kv.memories.add(alice, "fact", "Zed likes tea")
    assert tea.id not in {drink.id, drink2.id} and tea.key is None and tea.dedupe
    assert kv.memories.add(alice, "fact", "ZED likes tea").id == tea.id
    assert kv.memories.add(alice, "fact", "Zed is vegetarian").id == plain.id
    kept = kv.memories.by_key(alice, "drink")
    assert kept is not None and kept.content == "Zed likes tea" and kept.id == drink.id
    # a taken key is still a Conflict, whatever the text
    with pytest.raises(Conflict, match="drink"):
        kv.memories.add(alice, "fact", "Zed likes tea", key="drink")


def test_put_validates_and_names_the_field(kv: memvault.Vault, alice: str) -> None:
    with pytest.raises(InvalidInput) as err:
        kv.memories.put(alice, "", "note", "x")
    assert err.value.field == "key"
    with pytest.raises(InvalidInput) as err:
        kv.memories.put_many(alice, [{"key": "k", "kind": "note", "content": "x"},
                                     {"key": "k2", "kind": "gossip", "content": "y"}])  # fmt: skip
    assert err.value.field == "items[1].kind"
    with pytest.raises(InvalidInput) as err:
        kv.memories.put_many(alice, [{"key": "k", "kind": "note", "content": "x", "colour": 1}])
    assert err.value.field == "items[0].colour"
    with pytest.raises(InvalidInput) as err:
        kv.memories.put(alice, "k", "note", "x", ttl=timedelta(seconds=5), expires_at=kv.clock())
    assert err.value.field == "ttl"
    assert kv.memories.list(alice, track_access=False) == []  # nothing stored


def test_key_prefix_and_keys_on_list_are_literal(kv: memvault.Vault, alice: str) -> None:
    for key in ("ns/a/1", "ns/a/2", "ns/b/1", "ns%a", "NS/a/3", "other"):
        kv.memories.put(alice, key, "note", f"text of {key}")
    kv.memories.add(alice, "note", "no key at all")

    def keys(**kw: object) -> list[str | None]:
        return sorted(m.key or "-" for m in kv.memories.list(alice, track_access=False, **kw))  # type: ignore[arg-type]

    assert keys(key_prefix="ns/a/") == ["ns/a/1", "ns/a/2"]
    assert keys(key_prefix="ns%") == ["ns%a"]  # % is not a wildcard
    assert keys(key_prefix="ns_a") == []  # nor is _
    assert keys(key_prefix="ns/") == ["ns/a/1", "ns/a/2", "ns/b/1"]  # case-sensitive
    assert len(keys(key_prefix="")) == 6  # every keyed memory
    assert keys(keys=["ns/b/1", "other", "missing"]) == ["ns/b/1", "other"]
    assert keys(keys=[]) == []


def test_session_key_is_one_concept_with_put_and_prefix(kv: memvault.Vault, alice: str) -> None:
    made = kv.sessions.put(alice, "lc-thread-1", title="first", metadata={"x": 1})
    assert made.key == "lc-thread-1" and made.title == "first"
    again = kv.sessions.put(alice, "lc-thread-1")  # get-or-create: unchanged
    assert again.id == made.id and again.title == "first" and again.metadata == {"x": 1}
    changed = kv.sessions.put(alice, "lc-thread-1", title="second", metadata={"y": 2})
    assert changed.id == made.id and changed.title == "second" and changed.metadata == {"y": 2}
    found = kv.sessions.by_key(alice, "lc-thread-1")
    assert found is not None and found.id == made.id
    with pytest.raises(Conflict):
        kv.sessions.create(alice, key="lc-thread-1")
    kv.sessions.create(alice, key="import:ait42:xyz")
    kv.sessions.create(alice)
    base = kv.sessions.put(None, "lc-thread-1")
    assert base.user_id is None and base.id != made.id
    with pytest.raises(Conflict):  # the base layer is one owner too
        kv.sessions.create(None, key="lc-thread-1")
    listed = kv.sessions.list(alice, key_prefix="lc-")
    assert [s.key for s in listed] == ["lc-thread-1"]
    assert sorted(s.key for s in kv.sessions.list(alice, key_prefix="")) == [
        "import:ait42:xyz", "lc-thread-1"
    ]  # fmt: skip


def test_vectors_follow_texts_through_put_and_put_many(kv: memvault.Vault, alice: str) -> None:
    """The vector invariant (tests/invariants.py) after every path of put: create, same
    text, new text, new context, a caller's vector, embedding off, and put_many's batch."""
    from tests.invariants import assert_vectors_current

    kv.memories.put(alice, "a", "note", "first text")
    kv.memories.put(alice, "a", "note", "first text")  # unchanged: keeps its vector
    kv.memories.put(alice, "a", "note", "second text", context="with context")
    kv.memories.put(alice, "b", "note", "no vector", embedding=False)
    kv.memories.put(alice, "b", "note", "still none", embedding=False)
    kv.memories.put(alice, "c", "note", "c text", embedding=True)
    kv.memories.put_many(alice, [
        {"key": "a", "kind": "note", "content": "third text"},
        {"key": "d", "kind": "note", "content": "d text", "context": "dc"},
        {"key": "a", "kind": "note", "content": "fourth text"},
    ])  # fmt: skip
    assert_vectors_current(kv)
    model = HashingEmbedder(16).name
    assert kv.embeddings.get(model=model, memory_id=kv.memories.by_key(alice, "b").id) is None  # type: ignore[union-attr]
    assert kv.search.missing("memory", model) == 1  # "b": counted, so `memvault embed` repairs it
