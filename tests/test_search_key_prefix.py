"""`memories.search(..., key_prefix=)`: both legs of a search restricted to keyed memories whose
key starts with the prefix, literally (what the LangChain vector store and the LangGraph store
need to search one collection or namespace of an owner), on every engine."""

from __future__ import annotations

import numpy as np
import pytest

import memvault
from memvault.errors import InvalidInput

MODEL = "test-4"


def vec(*xs: float) -> list[float]:
    v = np.asarray(xs, dtype=np.float32)
    return list(v / np.linalg.norm(v))


@pytest.fixture
def keyed(vault: memvault.Vault) -> str:
    user = vault.users.ensure("kp").id
    rows = [
        ("docs/1", "red apple pie", vec(1, 0, 0, 0)),
        ("docs/2", "green apple tart", vec(0.9, 0.1, 0, 0)),
        ("notes/1", "apple of my eye", vec(1, 0.01, 0, 0)),
        ("docs%/1", "apple with a percent key", vec(1, 0, 0.01, 0)),
        ("dOcs/3", "apple with another case", vec(1, 0, 0, 0.01)),
    ]
    vault.memories.put_many(
        user,
        [{"key": k, "kind": "note", "content": c, "embedding": e, "embedding_model": MODEL}
         for k, c, e in rows],
    )  # fmt: skip
    vault.memories.add(user, "note", "apple without a key", embedding=vec(1, 0, 0, 0.02),
                       embedding_model=MODEL)  # fmt: skip
    return user


@pytest.mark.parametrize("mode", ["hybrid", "text", "vector"])
def test_every_leg_keeps_to_the_prefix(vault: memvault.Vault, keyed: str, mode: str) -> None:
    def keys(prefix: str | None) -> set[str | None]:
        hits = vault.memories.search(
            keyed, "apple", k=10, mode=mode, key_prefix=prefix,
            query_vector=vec(1, 0, 0, 0), model=MODEL,
        )  # fmt: skip
        return {h.item.key for h in hits}

    assert keys("docs/") == {"docs/1", "docs/2"}
    assert keys("docs%") == {"docs%/1"}  # literal: % is no wildcard, case counts
    assert keys("") == {"docs/1", "docs/2", "notes/1", "docs%/1", "dOcs/3"}
    assert None in keys(None)
    assert keys("nothing/") == set()


def test_a_bad_prefix_is_invalid_input(vault: memvault.Vault, keyed: str) -> None:
    with pytest.raises(InvalidInput, match="key_prefix"):
        vault.memories.search(keyed, "apple", key_prefix="a\x00", mode="text")
