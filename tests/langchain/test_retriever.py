"""`MemvaultRetriever` under langchain-tests' `RetrieversIntegrationTests` (unchanged) on SQLite,
PostgreSQL 15 and PostgreSQL 18, then memvault's filters and modes through it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import memvault
from tests.langchain.conftest import require_langchain

require_langchain(module=True)

from langchain_core.documents import Document  # noqa: E402
from langchain_tests.integration_tests import RetrieversIntegrationTests  # noqa: E402

from memvault.langchain import MemvaultRetriever  # noqa: E402

FACTS = [
    ("fact", "The cat likes to sleep on the warm windowsill", {"topic": "pets"}),
    ("fact", "The dog barks at the postman every morning", {"topic": "pets"}),
    ("preference", "Alice prefers green tea to coffee", {"topic": "food"}),
    ("fact", "Alice's sister lives in Lyon", {"topic": "family"}),
    ("preference", "Alice likes cats more than dogs", {"topic": "pets"}),
    ("event", "Alice adopted a kitten named Miso in March", {"topic": "pets"}),
]


def remember(vault: memvault.Vault) -> str:
    """A user holding FACTS, embedded by memvault's default model on write."""
    user = vault.users.ensure("alice").id
    for kind, text, meta in FACTS:
        vault.memories.add(user, kind, text, metadata=meta)
    return user


class TestMemvaultRetrieverStandard(RetrieversIntegrationTests):
    """LangChain's suite, once per engine: the autouse fixture fills the engine's vault."""

    @pytest.fixture(autouse=True)
    def _alices_memories(self, vault: memvault.Vault) -> None:
        self.vault = vault
        self.user = remember(vault)

    @property
    def retriever_constructor(self) -> type[MemvaultRetriever]:
        return MemvaultRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"vault": self.vault, "user_id": self.user}

    @property
    def retriever_query_example(self) -> str:
        return "what does Alice think of cats?"


# -- beyond the suite -------------------------------------------------------------------------


@pytest.fixture
def alice(vault: memvault.Vault) -> str:
    return remember(vault)


def contents(docs: list[Document]) -> list[str]:
    return [d.page_content for d in docs]


def test_hybrid_by_default_with_memvaults_filters(vault: memvault.Vault, alice: str) -> None:
    retriever = MemvaultRetriever(vault=vault, user_id=alice, k=3)
    top = retriever.invoke("kitten")
    # "kitten" is a word of one memory (text leg) and near the cat ones (vector leg).
    assert top[0].page_content == "Alice adopted a kitten named Miso in March"
    hits = vault.memories.search(alice, "kitten", k=3)
    assert contents(top) == [h.item.content for h in hits]
    assert {"text", "vector"} <= {m for h in hits for m in h.matched}

    prefs = retriever.invoke("cats", kinds=["preference"])
    assert set(contents(prefs)) <= {t for k, t, _ in FACTS if k == "preference"}
    pets = MemvaultRetriever(vault=vault, user_id=alice, k=10, filters={"metadata.topic": "food"})
    assert contents(pets.invoke("what does she drink")) == ["Alice prefers green tea to coffee"]
    text_only = retriever.invoke("postman", mode="text")
    assert contents(text_only) == ["The dog barks at the postman every morning"]


def test_documents_carry_the_memory_metadata_and_id(vault: memvault.Vault, alice: str) -> None:
    (doc,) = MemvaultRetriever(vault=vault, user_id=alice, k=1).invoke("Lyon", mode="text")
    memory = vault.memories.list(alice, filters={"content": {"contains": "Lyon"}})[0]
    assert doc == Document(id=memory.id, page_content=memory.content, metadata={"topic": "family"})


def test_owners_and_the_base_layer(vault: memvault.Vault, alice: str) -> None:
    bob = vault.users.ensure("bob").id
    vault.memories.add(bob, "fact", "Bob's cat is called Pixel")
    vault.memories.add(None, "fact", "Cats are obligate carnivores")
    mine = MemvaultRetriever(vault=vault, user_id=alice, k=10).invoke("cat")
    assert not {"Bob's cat is called Pixel", "Cats are obligate carnivores"} & set(contents(mine))
    layered = MemvaultRetriever(vault=vault, user_id=alice, k=10, base=True).invoke("cat")
    assert "Cats are obligate carnivores" in contents(layered)
    assert "Bob's cat is called Pixel" not in contents(layered)


def test_async_gives_the_sync_documents_and_unknown_options_are_refused(
    vault: memvault.Vault, alice: str
) -> None:
    retriever = MemvaultRetriever(vault=vault, user_id=alice, k=4, track_access=False)
    assert asyncio.run(retriever.ainvoke("tea")) == retriever.invoke("tea")
    with pytest.raises(TypeError, match="colour"):
        retriever.invoke("tea", colour="red")
