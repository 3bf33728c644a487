"""`MemvaultRetriever`: memvault's hybrid memory search as a LangChain retriever.

    retriever = MemvaultRetriever(vault=vault, user_id=alice.id, k=5,
                                  kinds=["fact", "preference"],
                                  filters={"metadata.topic": "food"})
    retriever.invoke("what does she eat?")        # list[Document], best first
    retriever.invoke("…", k=2)                    # per call

It calls `vault.memories.search`: full-text and vector legs fused by reciprocal rank
(`mode="hybrid"`, the default), or `"text"` / `"vector"` alone, with memvault's filters
(kinds, time range, confidence, session, metadata and columns, key prefix, the base layer).
Queries are embedded by the vault's embedder, unless `embeddings` is given (the model of a
`MemvaultVectorStore` whose documents it searches: see `from_vectorstore`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables.config import run_in_executor
from pydantic import ConfigDict, Field

from memvault import validate
from memvault.records import Memory

if TYPE_CHECKING:
    from memvault.langchain.vectorstore import MemvaultVectorStore

SEARCH_OPTIONS = (
    "kinds", "since", "until", "min_confidence", "base", "filters", "session_id",
    "key_prefix", "min_similarity", "approximate", "mode",
)  # fmt: skip


class MemvaultRetriever(BaseRetriever):
    """A LangChain retriever over one memvault owner's memories (see the module doc).

    `vault`: an open `memvault.Vault` (not a `memvault.aio` one: refused when made).
    `user_id`: whose memories (None: the base layer; `base=True` adds the base layer to a
    user's). `k`: how many documents. `mode`:
    `hybrid` (default), `text` or `vector`. The other fields are `memories.search`'s
    filters. `embeddings`/`model`: embed queries with a LangChain embedding whose vectors
    are stored under `model` instead of the vault's embedder.

    Each document's `page_content` is the memory's content, its `metadata` the memory's
    metadata exactly, its `id` the memory's key (without `key_prefix`), else its memvault id.
    Every keyword of `memories.search` above may also be given per call:
    `retriever.invoke(query, k=3, kinds=["fact"])`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    vault: Any
    user_id: str | None = None
    k: int = 4
    mode: Literal["hybrid", "text", "vector"] = "hybrid"
    kinds: list[str] | None = None
    since: datetime | None = None
    until: datetime | None = None
    min_confidence: float | None = None
    base: bool = False
    filters: dict[str, Any] | None = None
    session_id: str | None = None
    key_prefix: str | None = None
    min_similarity: float | None = None
    approximate: bool | None = None
    track_access: bool = True
    embeddings: Embeddings | None = Field(default=None, exclude=True)
    model: str | None = None

    def __init__(self, **fields: Any) -> None:
        # Before pydantic, so the refusal is memvault's InvalidInput, not a ValidationError.
        validate.sync_vault("MemvaultRetriever", fields.get("vault"))
        super().__init__(**fields)

    @classmethod
    def from_vectorstore(cls, store: MemvaultVectorStore, **fields: Any) -> MemvaultRetriever:
        """A hybrid retriever over the documents of a `MemvaultVectorStore` (its vault,
        owner, collection and embedding); `fields` as the constructor's."""
        base: dict[str, Any] = {
            "vault": store.vault,
            "user_id": store.user_id,
            "key_prefix": store.key_prefix,
            "embeddings": store.embedding,
            "model": store.model,
            "approximate": store.approximate,
            "track_access": False,
        }
        return cls(**{**base, **fields})

    def _options(self, overrides: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(overrides) - {"k", *SEARCH_OPTIONS})
        if unknown:
            raise TypeError(f"MemvaultRetriever got unknown search options: {unknown}")
        opts = {name: getattr(self, name) for name in ("k", *SEARCH_OPTIONS)}
        opts.update(overrides)
        if opts["key_prefix"] is None:
            del opts["key_prefix"]
        return opts

    def _search(
        self, query: str, vector: list[float] | None, opts: dict[str, Any]
    ) -> list[Document]:
        extra: dict[str, Any] = {}
        if vector is not None:
            extra = {"query_vector": np.asarray(vector, dtype=np.float32), "model": self.model}
        hits = self.vault.memories.search(
            self.user_id, query, track_access=self.track_access, **opts, **extra
        )
        prefix = opts.get("key_prefix") or ""
        return [_document(hit.item, prefix) for hit in hits]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        opts = self._options(kwargs)
        vector = None
        if self.embeddings is not None and opts["mode"] != "text":
            vector = self.embeddings.embed_query(query)
        return self._search(query, vector, opts)

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        opts = self._options(kwargs)
        vector = None
        if self.embeddings is not None and opts["mode"] != "text":
            vector = await self.embeddings.aembed_query(query)
        return await run_in_executor(None, self._search, query, vector, opts)


def _document(memory: Memory, prefix: str) -> Document:
    key = memory.key
    doc_id = memory.id if key is None else key[len(prefix) :] if key.startswith(prefix) else key
    return Document(id=doc_id, page_content=memory.content, metadata=dict(memory.metadata))
