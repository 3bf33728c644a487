"""`MemvaultStore` under the store contract (store_contract.py, the suite langgraph's own stores
pass) on SQLite, PostgreSQL 15 (no pgvector: memvault's exact vector search) and PostgreSQL 18.

Each `make_store()` is a store of a new memvault user: an empty store, and the stores of one
test share the vault without seeing each other's items."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import memvault
from tests.langgraph import store_contract as contract


@pytest.fixture
def make_store(vault: memvault.Vault) -> Iterator[Any]:
    from memvault.langgraph import MemvaultStore

    made: list[Any] = []

    def make(index: Any = None, ttl: Any = None) -> Any:
        user = vault.users.ensure(f"lg-contract-{len(made)}")
        store = MemvaultStore(vault, user_id=user.id, index=index, ttl=ttl)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


class TestMemvaultStore(contract.StoreContract):
    pass


class TestMemvaultStoreSemantic(contract.SemanticContract):
    pass


class TestMemvaultStoreTTL(contract.TTLContract):
    pass
