"""`memories.add` on PostgreSQL (what a mem0 facade `add` is) is one round trip: the owner
check, the model's dimension check, the memory, its vector and its history entry in one
statement, sent without BEGIN/COMMIT. Counted on the wire with libpq's protocol trace, as
tests/test_append_round_trips.py counts an append; every invariant of the general path is
checked on the same calls (history, vector, event, de-duplication, owner, dimension)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import memvault
from memvault import Conflict, InvalidInput, NotFound
from memvault.compat.mem0 import Memory
from memvault.embed.base import HashingEmbedder
from tests.test_append_round_trips import round_trips

DIM = 16
MODEL = HashingEmbedder(DIM).name


@pytest.fixture
def pg_vault(vault_url: str) -> Iterator[memvault.Vault]:
    with memvault.open(vault_url, pool_size=1, embedder=HashingEmbedder(DIM)) as vault:
        yield vault


def _rows(vault: memvault.Vault, table: str) -> int:
    with vault.store.read() as tx:
        return int(tx.scalar(f"SELECT count(*) FROM {table}"))


@pytest.mark.parametrize("engine", ["pg15", "pg18"], indirect=True)
def test_a_facade_add_is_one_round_trip_with_its_vector_and_history(
    pg_vault: memvault.Vault,
) -> None:
    mem = Memory(pg_vault)
    mem.add("warm the pool and the user", user_id="ada", infer=False)
    seen: list[memvault.Event] = []
    pg_vault.events.subscribe(seen.append)
    out: dict[str, object] = {}
    assert round_trips(pg_vault, lambda: out.update(
        mem.add("ada likes trains", user_id="ada", agent_id="a1", infer=False))) == 1  # fmt: skip
    [result] = out["results"]  # type: ignore[misc]
    assert result["event"] == "ADD"
    memory = pg_vault.memories.get(result["id"], track_access=False)
    ada = pg_vault.users.get_by_handle("ada")
    meta = {"user_id": "ada", "agent_id": "a1", "role": "user"}
    assert (memory.user_id, memory.content, memory.metadata) == (ada.id, "ada likes trains", meta)
    vector = pg_vault.embeddings.get(model=MODEL, memory_id=memory.id)
    assert vector is not None and np.allclose(vector, HashingEmbedder(DIM).embed(
        ["ada likes trains"])[0])  # fmt: skip
    assert [(c.op, c.new_content) for c in pg_vault.memories.history(memory.id)] == [
        ("create", "ada likes trains")]  # fmt: skip
    assert [(e.kind, e.ids) for e in seen] == [("memory.added", {"memory_id": memory.id})]
    assert [h.item.id for h in pg_vault.search.memories(
        ada.id, "ada likes trains", k=1, mode="vector")] == [memory.id]  # fmt: skip
    # The same text again: the stored memory, nothing written, no event.
    rows = (_rows(pg_vault, "memories"), _rows(pg_vault, "memory_history"),
            _rows(pg_vault, "embeddings"))  # fmt: skip
    again = mem.add("ADA likes  trains", user_id="ada", infer=False)["results"][0]
    assert (again["id"], again["event"]) == (memory.id, "NONE") and len(seen) == 1
    assert rows == (_rows(pg_vault, "memories"), _rows(pg_vault, "memory_history"),
                    _rows(pg_vault, "embeddings"))  # fmt: skip


@pytest.mark.parametrize("engine", ["pg15", "pg18"], indirect=True)
def test_add_keeps_the_owner_dimension_and_key_rules_in_its_one_statement(
    pg_vault: memvault.Vault,
) -> None:
    ada = pg_vault.users.ensure("ada")
    pg_vault.memories.add(ada.id, "fact", "warm", key="k1")
    # The base layer: one round trip too.
    assert round_trips(pg_vault, lambda: pg_vault.memories.add(None, "fact", "shared")) == 1
    rows = (_rows(pg_vault, "memories"), _rows(pg_vault, "memory_history"),
            _rows(pg_vault, "embeddings"))  # fmt: skip
    with pytest.raises(NotFound, match="user"):
        pg_vault.memories.add(memvault.new_id(), "fact", "nobody's")
    with pytest.raises(InvalidInput, match="already stores 16-dimensional"):
        pg_vault.memories.add(ada.id, "fact", "wrong size", embedding=[1.0, 2.0],
                              embedding_model=MODEL)  # fmt: skip
    with pytest.raises(Conflict, match="k1"):
        pg_vault.memories.add(ada.id, "fact", "another text", key="k1")
    with pytest.raises(RuntimeError), pg_vault.transaction():
        pg_vault.memories.add(ada.id, "fact", "rolled back")
        raise RuntimeError
    # Nothing of any of them was written.
    assert rows == (_rows(pg_vault, "memories"), _rows(pg_vault, "memory_history"),
                    _rows(pg_vault, "embeddings"))  # fmt: skip
    # dedupe="raise" answers the stored memory, as on the general path.
    with pytest.raises(memvault.Duplicate) as dup:
        pg_vault.memories.add(None, "fact", "Shared", dedupe="raise")
    assert dup.value.existing.content == "shared"


def test_add_stores_the_memory_its_vector_and_history_on_every_engine(
    vault_url: str,
) -> None:
    with memvault.open(vault_url, embedder=HashingEmbedder(DIM)) as vault:
        ada = vault.users.ensure("ada")
        memory = vault.memories.add(ada.id, "fact", "ada climbs")
        assert vault.embeddings.get(model=MODEL, memory_id=memory.id) is not None
        assert [c.op for c in vault.memories.history(memory.id)] == ["create"]
        assert vault.memories.add(ada.id, "fact", "Ada  climbs").id == memory.id
