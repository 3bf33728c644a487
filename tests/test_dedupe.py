"""memories.add's explicit de-duplication: on (the default), "raise" (learn it happened) and
off; every engine."""

from __future__ import annotations

import pytest

import memvault
from memvault import Conflict, Duplicate, InvalidInput


@pytest.fixture
def alice(vault: memvault.Vault) -> str:
    return vault.users.create("alice").id


def test_default_returns_the_stored_memory(vault: memvault.Vault, alice: str) -> None:
    first = vault.memories.add(alice, "fact", "Alice is vegetarian", embedding=False)
    again = vault.memories.add(alice, "fact", "alice IS   vegetarian", embedding=False)
    assert again.id == first.id and again.content == "Alice is vegetarian"
    assert vault.memories.count(alice) == 1


def test_raise_tells_the_caller_and_hands_over_the_stored_one(
    vault: memvault.Vault, alice: str
) -> None:
    first = vault.memories.add(alice, "fact", "Alice is vegetarian", embedding=False)
    with pytest.raises(Duplicate) as err:
        vault.memories.add(alice, "fact", "ALICE is vegetarian", dedupe="raise", embedding=False)
    assert isinstance(err.value, Conflict)
    assert err.value.existing.id == first.id
    assert vault.memories.count(alice) == 1
    # new content under "raise" is simply stored
    other = vault.memories.add(alice, "fact", "Alice likes tea", dedupe="raise", embedding=False)
    assert other.id != first.id and other.dedupe


def test_off_stores_every_copy_and_never_conflicts(vault: memvault.Vault, alice: str) -> None:
    kept = vault.memories.add(alice, "fact", "same text", embedding=False)
    one = vault.memories.add(alice, "fact", "same text", dedupe=False, embedding=False)
    two = vault.memories.add(alice, "fact", "same text", dedupe=False, embedding=False)
    assert len({kept.id, one.id, two.id}) == 3
    assert (one.dedupe, two.dedupe, kept.dedupe) == (False, False, True)
    assert vault.memories.count(alice) == 3
    # a de-duplicated add still returns the de-duplicated memory, never an off one
    assert vault.memories.add(alice, "fact", "SAME text", embedding=False).id == kept.id
    # updating an off memory to another memory's text is fine …
    other = vault.memories.add(alice, "fact", "different", dedupe=False, embedding=False)
    assert vault.memories.update(other.id, content="same text").content == "same text"
    # … while a de-duplicated one still refuses it
    plain = vault.memories.add(alice, "fact", "plain", embedding=False)
    with pytest.raises(Conflict):
        vault.memories.update(plain.id, content="Same Text")


def test_a_bad_dedupe_value_is_refused(vault: memvault.Vault, alice: str) -> None:
    with pytest.raises(InvalidInput) as err:
        vault.memories.add(alice, "fact", "x", dedupe="sometimes", embedding=False)  # type: ignore[arg-type]
    assert err.value.field == "dedupe"
