"""A stateful property test: random sequences of memory, search, emotion and trait operations
run against memvault and against a plain in-memory model must never diverge (SQLite and
PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

import memvault
from memvault.memories import content_hash

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
KINDS = ["fact", "preference", "note"]
EMOTIONS = ["joy", "sadness", "anger", "calm"]
TRAITS = ["empathy", "humor", "formality"]
SENTENCE = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)


def make_machine(vault: memvault.Vault) -> type[RuleBasedStateMachine]:
    class VaultVersusModel(RuleBasedStateMachine):
        memories = Bundle("memories")

        def __init__(self) -> None:
            super().__init__()
            self.users = [vault.users.create(f"u-{uuid.uuid4().hex[:12]}").id for _ in range(2)]
            self.model: dict[str, tuple[str, str, str]] = {}  # id -> (owner, kind, content)
            self.emotions: dict[str, int] = dict.fromkeys(self.users, 0)
            self.traits: dict[tuple[str, str], float] = {}
            self.trait_changes: dict[tuple[str, str], int] = {}

        def _same(self, owner: str, kind: str, content: str) -> str | None:
            for mid, (o, k, c) in self.model.items():
                if o == owner and k == kind and content_hash(c) == content_hash(content):
                    return mid
            return None

        @rule(target=memories, user=st.integers(0, 1), kind=st.sampled_from(KINDS),
              content=SENTENCE)  # fmt: skip
        def add(self, user: int, kind: str, content: str) -> str:
            owner = self.users[user]
            existing = self._same(owner, kind, content)
            memory = vault.memories.add(owner, kind, content)
            if existing is not None:
                assert memory.id == existing  # de-duplicated
            else:
                self.model[memory.id] = (owner, kind, content)
            return memory.id

        @rule(memory_id=memories, content=SENTENCE)
        def update(self, memory_id: str, content: str) -> None:
            if memory_id not in self.model:
                with pytest.raises(memvault.NotFound):
                    vault.memories.update(memory_id, content=content)
                return
            owner, kind, _old = self.model[memory_id]
            clash = self._same(owner, kind, content)
            if clash is not None and clash != memory_id:
                with pytest.raises(memvault.Conflict):
                    vault.memories.update(memory_id, content=content)
                return
            vault.memories.update(memory_id, content=content, reason="stateful")
            self.model[memory_id] = (owner, kind, content)

        @rule(memory_id=consumes(memories))
        def delete(self, memory_id: str) -> None:
            if memory_id in self.model:
                vault.memories.delete(memory_id)
                del self.model[memory_id]
            else:
                with pytest.raises(memvault.NotFound):
                    vault.memories.delete(memory_id)

        @rule(user=st.integers(0, 1), word=st.sampled_from(WORDS))
        def search(self, user: int, word: str) -> None:
            owner = self.users[user]
            hits = vault.memories.search(owner, word, mode="text", k=100, track_access=False)
            found = {h.item.id for h in hits}
            expected = {
                mid for mid, (o, _, c) in self.model.items() if o == owner and word in c.split()
            }
            assert found == expected

        @rule(user=st.integers(0, 1), emotion=st.sampled_from(EMOTIONS),
              intensity=st.floats(0, 1))  # fmt: skip
        def feel(self, user: int, emotion: str, intensity: float) -> None:
            vault.emotions.record(self.users[user], emotion, intensity)
            self.emotions[self.users[user]] += 1

        @rule(user=st.integers(0, 1), name=st.sampled_from(TRAITS),
              value=st.sampled_from([0.0, 0.25, 0.5, 1.0]))  # fmt: skip
        def set_trait(self, user: int, name: str, value: float) -> None:
            key = (self.users[user], name)
            vault.traits.set(key[0], name, value, reason="stateful")
            if self.traits.get(key) != value:
                self.trait_changes[key] = self.trait_changes.get(key, 0) + 1
            self.traits[key] = value

        @invariant()
        def same_memories(self) -> None:
            for owner in self.users:
                stored = {m.id: m.content for m in
                          vault.memories.list(owner, limit=1000, track_access=False)}  # fmt: skip
                assert stored == {mid: c for mid, (o, _, c) in self.model.items() if o == owner}

        @invariant()
        def same_affect(self) -> None:
            for owner in self.users:
                assert len(vault.emotions.list(owner, limit=10_000)) == self.emotions[owner]
            for (owner, name), value in self.traits.items():
                assert vault.traits.get(owner, name).value == value
                history = vault.traits.history(owner, name)
                assert len(history) == self.trait_changes[(owner, name)]

    return VaultVersusModel


@pytest.fixture(params=["sqlite", "pg15", "pg18"])
def any_vault(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[memvault.Vault]:  # fmt: skip
    from tests.conftest import engine_url

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('stateful') / 's.db'}"
    else:
        url = engine_url(request.param, tmp_path_factory.mktemp("pg"),
                         request.getfixturevalue("pg_databases"))  # fmt: skip
    vault = memvault.open(url)
    yield vault
    vault.close()


def test_vault_never_diverges_from_the_model(any_vault: memvault.Vault) -> None:
    machine = make_machine(any_vault)
    machine.TestCase.settings = settings(
        max_examples=25, stateful_step_count=30, deadline=None, derandomize=True
    )
    machine.TestCase().runTest()
