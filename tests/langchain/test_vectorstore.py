"""`MemvaultVectorStore` under langchain-tests' `VectorStoreIntegrationTests` (all 25, sync and
async, unchanged) on SQLite, PostgreSQL 15 (no pgvector: vectors in `embeddings`, memvault's
in-process exact index) and PostgreSQL 18 (pgvector), then what the suite does not check:
ids against memvault's content de-duplication, exact metadata, history, filters, collections,
owners, the approximate index and bad input."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import memvault
from tests.langchain.conftest import require_langchain

require_langchain(module=True)

from langchain_core.documents import Document  # noqa: E402
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings  # noqa: E402
from langchain_tests.integration_tests import VectorStoreIntegrationTests  # noqa: E402

from memvault.embed import HashingEmbedder  # noqa: E402
from memvault.errors import InvalidInput  # noqa: E402
from memvault.langchain import (  # noqa: E402
    MemvaultEmbeddings,
    MemvaultRetriever,
    MemvaultVectorStore,
)

STANDARD_TESTS = 25


class TestMemvaultVectorStoreStandard(VectorStoreIntegrationTests):
    """LangChain's suite, once per engine (the `vault` fixture is parametrized by engine)."""

    @pytest.fixture
    def vectorstore(self, vault: memvault.Vault) -> Iterator[MemvaultVectorStore]:
        store = MemvaultVectorStore(vault, self.get_embeddings())
        try:
            yield store
        finally:
            store.delete()


def test_the_standard_suite_is_the_full_25() -> None:
    # A newer langchain-tests that adds or drops tests shows here, not as a silent change.
    names = [n for n in dir(VectorStoreIntegrationTests) if n.startswith("test_")]
    assert len(names) == STANDARD_TESTS
    assert not [
        n
        for n in names
        if getattr(TestMemvaultVectorStoreStandard, n)
        is not getattr(VectorStoreIntegrationTests, n)
    ]


# -- beyond the suite -------------------------------------------------------------------------


def fake() -> DeterministicFakeEmbedding:
    return DeterministicFakeEmbedding(size=16)


@pytest.fixture
def store(vault: memvault.Vault) -> MemvaultVectorStore:
    return MemvaultVectorStore(vault, fake())


def test_two_ids_with_the_same_text_are_two_documents(store: MemvaultVectorStore) -> None:
    store.add_documents(
        [Document("same words", metadata={"n": 1}), Document("Same  WORDS", metadata={"n": 2})],
        ids=["a", "b"],
    )
    got = sorted(store.get_by_ids(["a", "b"]), key=lambda d: str(d.id))
    assert [(d.id, d.page_content, d.metadata) for d in got] == [
        ("a", "same words", {"n": 1}),
        ("b", "Same  WORDS", {"n": 2}),
    ]
    # Updating one to the other's text is not a Conflict either.
    store.add_documents([Document("same words", metadata={"n": 3})], ids=["b"])
    assert [d.metadata for d in store.get_by_ids(["b"])] == [{"n": 3}]
    assert len(store.similarity_search("same words", k=10)) == 2


def test_metadata_comes_back_exactly_and_re_adding_replaces_it(store: MemvaultVectorStore) -> None:
    meta: dict[str, Any] = {
        "int": 7, "float": 0.25, "big": 2**53 + 1, "neg": -3, "bool": True, "none": None,
        "text": "école ☃", "list": [1, "two", [3.5]], "nested": {"a": {"b": []}}, "empty": {},
    }  # fmt: skip
    store.add_documents([Document("doc one", metadata=meta)], ids=["x"])
    (doc,) = store.get_by_ids(["x"])
    assert doc.metadata == meta
    assert json.dumps(doc.metadata) == json.dumps(meta)  # key order too, on every engine
    assert [type(doc.metadata[k]) for k in ("int", "float", "big", "bool")] == [
        int, float, int, bool,
    ]  # fmt: skip
    (hit,) = store.similarity_search("doc one", k=1)
    assert hit.metadata == meta and hit.id == "x"
    store.add_documents([Document("doc one, rewritten", metadata={"only": 1})], ids=["x"])
    (doc,) = store.get_by_ids(["x"])
    assert (doc.page_content, doc.metadata) == ("doc one, rewritten", {"only": 1})


def test_writes_and_deletes_show_in_the_memorys_history(
    store: MemvaultVectorStore, vault: memvault.Vault
) -> None:
    store.add_texts(["v1"], ids=["h"])
    memory = vault.memories.by_key(None, store.key_of("h"))
    assert memory is not None and memory.kind == "note"
    store.add_texts(["v2"], ids=["h"])
    store.delete(["h", "never-stored"])
    assert store.get_by_ids(["h"]) == []
    ops = [(c.op, c.old_content, c.new_content) for c in vault.memories.history(memory.id)]
    assert ops == [("create", None, "v1"), ("update", "v1", "v2"), ("delete", "v2", None)]


def test_the_replaced_vector_follows_the_new_text(store: MemvaultVectorStore) -> None:
    store.add_texts(["alpha", "beta"], ids=["1", "2"])
    store.add_texts(["gamma"], ids=["1"])
    (top,) = store.similarity_search("gamma", k=1)
    assert (top.id, top.page_content) == ("1", "gamma")
    (top,) = store.similarity_search_by_vector(fake().embed_query("gamma"), k=1)
    assert top.id == "1"


def test_filters_on_metadata(store: MemvaultVectorStore) -> None:
    docs = [
        Document("a", metadata={"source": "x.md", "year": 2019}),
        Document("b", metadata={"source": "y.md", "year": 2021}),
        Document("c", metadata={"source": "x.md", "year": 2023}),
    ]
    store.add_documents(docs, ids=["a", "b", "c"])

    def ids(flt: dict[str, Any]) -> list[str]:
        return sorted(str(d.id) for d in store.similarity_search("a", k=10, filter=flt))

    assert ids({"source": "x.md"}) == ["a", "c"]
    assert ids({"year": {"$gte": 2021}}) == ["b", "c"]
    assert ids({"source": "x.md", "year": {"$lt": 2020}}) == ["a"]
    assert ids({"$or": [{"year": 2019}, {"source": "y.md"}]}) == ["a", "b"]
    assert ids({"source": {"$in": ["y.md", "z.md"]}}) == ["b"]
    assert ids({"source": {"$ne": "x.md"}}) == ["b"]
    with pytest.raises(InvalidInput, match="filter"):
        store.similarity_search("a", filter={"$nor": []})


def test_a_filter_field_is_one_literal_key_and_nested_dicts_match_nested_metadata(
    store: MemvaultVectorStore,
) -> None:
    docs = [
        Document("a", metadata={"a.b": 1, "a": {"b": 2}, "v 1.0": "x"}),
        Document("b", metadata={"a": {"b": 1, "c": {"d": "deep"}}}),
        Document("c", metadata={"a.b": 2}),
    ]
    store.add_documents(docs, ids=["a", "b", "c"])

    def ids(flt: dict[str, Any]) -> list[str]:
        return sorted(str(d.id) for d in store.similarity_search("a", k=10, filter=flt))

    assert ids({"a.b": 1}) == ["a"]  # the key "a.b", as other LangChain stores read it
    assert ids({"a.b": {"$gte": 1, "$lt": 3}}) == ["a", "c"]
    assert ids({"a": {"b": 1}}) == ["b"]  # "b" inside "a"
    assert ids({"a": {"b": {"$in": [1, 2]}}}) == ["a", "b"]
    assert ids({"a": {"c": {"d": "deep"}}}) == ["b"]
    assert ids({"v 1.0": "x"}) == ["a"]
    assert ids({"$or": [{"a.b": 2}, {"a": {"b": 1}}]}) == ["b", "c"]
    with pytest.raises(InvalidInput, match="nested fields"):
        ids({"a": {"b": 1, "$eq": 2}})
    with pytest.raises(InvalidInput, match="control characters"):
        ids({'say "hi"': 1})
    # errors name the filter as the caller wrote it, not memvault's translation of it
    with pytest.raises(InvalidInput) as err:
        ids({"a": {"b": {"$in": 3}}})
    assert str(err.value) == "invalid filter={'a': {'b': {'$in': 3}}}: 'in' takes a list"


def test_collections_and_owners_do_not_see_each_other(vault: memvault.Vault) -> None:
    alice = vault.users.ensure("alice").id
    bob = vault.users.ensure("bob").id
    stores = {
        ("alice", "docs"): MemvaultVectorStore(vault, fake(), user_id=alice, collection="docs"),
        ("alice", "notes"): MemvaultVectorStore(vault, fake(), user_id=alice, collection="notes"),
        ("bob", "docs"): MemvaultVectorStore(vault, fake(), user_id=bob, collection="docs"),
    }
    for (who, coll), s in stores.items():
        s.add_texts([f"{who} {coll}"], ids=["1"])
    for (who, coll), s in stores.items():
        assert [d.page_content for d in s.similarity_search("x", k=10)] == [f"{who} {coll}"]
        assert [d.page_content for d in s.get_by_ids(["1"])] == [f"{who} {coll}"]
    stores["alice", "docs"].delete()  # None: this collection only
    assert stores["alice", "docs"].similarity_search("x", k=10) == []
    assert len(stores["alice", "notes"].get_by_ids(["1"])) == 1
    assert len(stores["bob", "docs"].get_by_ids(["1"])) == 1
    with pytest.raises(InvalidInput, match="collection"):
        MemvaultVectorStore(vault, fake(), collection="a/b")


def test_a_bad_document_stores_nothing_of_its_batch(store: MemvaultVectorStore) -> None:
    with pytest.raises(InvalidInput, match=r"items\[1\]\.content"):
        store.add_texts(["fine", "   "], ids=["ok", "empty"])
    assert store.get_by_ids(["ok", "empty"]) == []
    with pytest.raises(InvalidInput, match="metadata"):
        store.add_texts(["fine"], metadatas=[{"when": object()}], ids=["ok"])
    assert store.get_by_ids(["ok"]) == []


class NeverCalled(Embeddings):
    """An embedding that fails the test if it is asked for anything."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise AssertionError(f"embedded {texts!r}")

    def embed_query(self, text: str) -> list[float]:
        raise AssertionError(f"embedded {text!r}")


def test_a_text_that_is_not_a_str_is_refused_before_it_is_embedded(
    vault: memvault.Vault,
) -> None:
    store = MemvaultVectorStore(vault, NeverCalled())
    with pytest.raises(InvalidInput, match=r"texts\[1\]=123: .*'n'.* not int"):
        store.add_texts(["fine", 123], ids=["ok", "n"])  # type: ignore[list-item]
    with pytest.raises(InvalidInput, match=r"texts\[0\]=None: .* not NoneType"):
        asyncio.run(store.aadd_texts([None]))  # type: ignore[list-item]
    assert store.get_by_ids(["ok", "n"]) == []


def test_max_marginal_relevance_prefers_diverse_documents(vault: memvault.Vault) -> None:
    store = MemvaultVectorStore(vault, MemvaultEmbeddings(HashingEmbedder(64, "hash-64")))
    store.add_texts(
        ["red apples", "red apples!", "red apples again", "green pears"],
        ids=["1", "2", "3", "4"],
    )
    plain = [d.id for d in store.similarity_search("red apples", k=2)]
    diverse = [
        d.id
        for d in store.max_marginal_relevance_search("red apples", k=2, fetch_k=4, lambda_mult=0.25)
    ]
    assert plain[0] == diverse[0] == "1"
    assert plain[1] in ("2", "3") and diverse[1] == "4"


def test_with_memvault_embeddings_the_documents_are_memvaults_own_memories(
    vault: memvault.Vault,
) -> None:
    store = MemvaultVectorStore(vault, MemvaultEmbeddings(), collection="kb")
    assert store.model == vault.search.embed_model()
    store.add_texts(
        ["The cat sleeps on the sofa", "Paris is the capital of France", "Bread needs yeast"],
        metadatas=[{"t": 1}, {"t": 2}, {"t": 3}],
        ids=["cat", "paris", "bread"],
    )
    # memvault's own hybrid search finds them, vector leg included (same model).
    hits = vault.memories.search(None, "where does the kitten nap", k=1, key_prefix="langchain/kb/")
    assert hits[0].item.key == "langchain/kb/cat" and "vector" in hits[0].matched
    retriever = MemvaultRetriever.from_vectorstore(store, k=2)
    docs = retriever.invoke("capital city of France")
    assert docs[0] == Document(id="paris", page_content="Paris is the capital of France",
                               metadata={"t": 2})  # fmt: skip
    assert len(docs) == 2


def test_the_approximate_index_finds_the_same_nearest_documents(
    vault: memvault.Vault, tmp_path: Path
) -> None:
    vault.search.ann_dir = tmp_path / "ann"
    emb = MemvaultEmbeddings(HashingEmbedder(32, "hash-32"))
    words = [f"w{i} x{i % 7} y{i % 11}" for i in range(400)]
    exact = MemvaultVectorStore(vault, emb, approximate=False)
    exact.add_texts(words, ids=[str(i) for i in range(400)])
    assert vault.search.build_approximate("hash-32", min_rows=100)
    approx = MemvaultVectorStore(vault, emb, approximate=True)
    for q in ("w3 x3 y3", "w77 x0 y0", "w250 x5 y8"):
        want = [d.id for d in exact.similarity_search(q, k=5)]
        got = [d.id for d in approx.similarity_search(q, k=5)]
        assert got[0] == want[0]
        assert len(set(got) & set(want)) >= 4


def test_async_writers_at_once_lose_nothing(store: MemvaultVectorStore) -> None:
    async def main() -> list[list[str]]:
        return await asyncio.gather(
            *(store.aadd_texts([f"doc {i}-{j}" for j in range(5)],
                               ids=[f"{i}-{j}" for j in range(5)]) for i in range(6))
        )  # fmt: skip

    ids = [i for batch in asyncio.run(main()) for i in batch]
    assert len(store.get_by_ids(ids)) == 30
    asyncio.run(store.adelete(ids[:10]))
    assert len(store.get_by_ids(ids)) == 20
    assert np.isfinite(store.similarity_search_with_score("doc 1-1", k=1)[0][1])


def test_from_documents_and_langchains_own_retriever(vault: memvault.Vault) -> None:
    emb = MemvaultEmbeddings(HashingEmbedder(64, "hash-64"))
    docs = [
        Document("apples and pears", id="fruit", metadata={"n": 1}),
        Document("trains and buses", id="transport", metadata={"n": 2}),
    ]
    store = MemvaultVectorStore.from_documents(docs, emb, vault=vault, collection="fd")
    assert sorted(str(d.id) for d in store.get_by_ids(["fruit", "transport"])) == [
        "fruit",
        "transport",
    ]
    retriever = store.as_retriever(search_kwargs={"k": 1})
    assert retriever.invoke("pears") == [docs[0]]
    scored = store.similarity_search_with_relevance_scores("buses and", k=2)
    assert scored[0][0] == docs[1] and 0 <= scored[1][1] < scored[0][1] <= 1.0001
