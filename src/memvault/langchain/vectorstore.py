"""`MemvaultVectorStore`: a LangChain `VectorStore` whose documents are memvault memories.

    vault = memvault.open(url)
    store = MemvaultVectorStore(vault, MemvaultEmbeddings(), collection="docs")
    store.add_documents([Document("…", metadata={"source": "a.md"})], ids=["a-1"])
    store.similarity_search("…", k=4, filter={"source": "a.md"})

A document is a keyed memory (`vault.memories.put`) of the store's owner: its key is
`langchain/<collection>/<document id>`, its content the page content, its metadata the
document's metadata exactly, its vector the LangChain embedding's, stored under the
embedding's model name. So re-adding an id replaces the document (no content
de-duplication between ids), deleting an unknown id is not an error, every write shows in the
memory's history, and memvault's own tools (search, export, retention, `erase_user`) see the
documents. With `MemvaultEmbeddings` the vectors are memvault's default model's, so
`MemvaultRetriever` and `vault.memories.search` search them in hybrid mode too.

The async methods embed through the embedding's own async methods, and run the database work
on a worker thread (LangChain's `run_in_executor`): the event loop never waits on the store.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.runnables.config import run_in_executor
from langchain_core.vectorstores import VectorStore
from langchain_core.vectorstores.utils import maximal_marginal_relevance

from memvault import validate
from memvault.errors import InvalidInput
from memvault.filters import named_as
from memvault.ids import new_id
from memvault.langchain.embeddings import MemvaultEmbeddings
from memvault.records import Memory
from memvault.search.vectors import check_model

if TYPE_CHECKING:
    from memvault.vault import Vault

COLLECTION = re.compile(r"^[A-Za-z0-9_.\-]{1,200}$")
KEY_ROOT = "langchain/"


def model_of(embedding: Embeddings) -> str:
    """The model name memvault stores a LangChain embedding's vectors under: memvault's own
    model for `MemvaultEmbeddings`, else `langchain/<class name>`."""
    if isinstance(embedding, MemvaultEmbeddings):
        return embedding.model
    return f"langchain/{type(embedding).__name__}"


def translate_filter(flt: dict[str, Any] | None) -> dict[str, Any] | None:
    """A LangChain metadata filter as memvault's filter language. A field is one literal
    metadata key, as in other LangChain stores (`{"a.b": 1}` matches the key "a.b"); a dict
    of fields as its value matches inside nested metadata (`{"a": {"b": 1}}`); Mongo-style
    operators (`{"year": {"$gte": 2020, "$lt": 2030}}`) and `$and`/`$or` pass through."""
    if flt is None:
        return None
    if not isinstance(flt, dict):
        raise InvalidInput("filter", flt, "expected a dict of metadata field: condition")
    parts: list[dict[Any, Any]] = []
    for field, cond in flt.items():
        if field in ("$and", "$or"):
            if not isinstance(cond, list):
                raise InvalidInput("filter", flt, f"{field} takes a list of filters")
            parts.append({field: [translate_filter(part) for part in cond]})
        elif not isinstance(field, str) or field.startswith("$"):
            raise InvalidInput("filter", flt, f"unknown operator {field} at the top level")
        else:
            _field_conditions(flt, (field,), cond, parts)
    return {"$and": parts} if parts else {}


def _field_conditions(
    flt: dict[str, Any], path: tuple[str, ...], cond: Any, out: list[dict[Any, Any]]
) -> None:
    """Append the conditions of one field: a tuple path names literal keys (see
    `memvault.filters`), so a dot in a LangChain field is part of the key."""
    if not isinstance(cond, dict):
        out.append({("metadata", *path): cond})
        return
    operators = [str(k).startswith("$") for k in cond]
    if not cond or (any(operators) and not all(operators)):
        raise InvalidInput(
            "filter", flt, f"field {path[0]!r}: give operators ($eq, $in, ...) or nested fields"
        )
    for key, value in cond.items():
        if all(operators):
            out.append({("metadata", *path): {key: value}})
        elif not isinstance(key, str):
            raise InvalidInput("filter", flt, f"metadata keys are strings, not {key!r}")
        else:
            _field_conditions(flt, (*path, key), value, out)


class MemvaultVectorStore(VectorStore):
    """A LangChain `VectorStore` over a memvault vault (see the module doc).

    `vault`: a sync `memvault.Vault`; a `memvault.aio` vault is refused when the store is
    made (an async app passes its AsyncVault's `.sync`); `aadd_texts` and the other async
    methods run off the event loop.
    `embedding`: the LangChain `Embeddings` documents and queries are embedded with.
    `user_id`: the memvault user owning the documents (None: the shared base layer).
    `collection`: the store's name within that owner (letters, digits, `_ . -`): two
    stores with different collections never see each other's documents.
    `kind`: the memory kind documents are stored as. `model`: the name their vectors are
    stored under (default: `model_of(embedding)`). `approximate`: let searches use
    memvault's approximate index when one is built (`memvault reindex --ann`); None: the
    vault's default."""

    def __init__(
        self,
        vault: Vault,
        embedding: Embeddings,
        *,
        user_id: str | None = None,
        collection: str = "default",
        kind: str = "note",
        model: str | None = None,
        approximate: bool | None = None,
    ) -> None:
        if not isinstance(collection, str) or not COLLECTION.match(collection):
            raise InvalidInput(
                "collection", collection, "expected 1-200 letters, digits and _ . - characters"
            )
        self.vault = validate.sync_vault("MemvaultVectorStore", vault)
        self.embedding = embedding
        self.user_id = user_id
        self.collection = collection
        self.kind = kind
        self.model = check_model(model or model_of(embedding))
        self.approximate = approximate
        self.key_prefix = f"{KEY_ROOT}{collection}/"

    @property
    def embeddings(self) -> Embeddings:
        """The LangChain embedding documents and queries are embedded with."""
        return self.embedding

    # -- identity ---------------------------------------------------------------------------

    def key_of(self, doc_id: str) -> str:
        """The memory key of a document id in this store."""
        if not isinstance(doc_id, str) or not doc_id:
            raise InvalidInput("ids", doc_id, "a document id is a non-empty string")
        return self.key_prefix + doc_id

    def document_of(self, memory: Memory) -> Document:
        """A stored memory as the LangChain document it holds (`id` set, metadata as given)."""
        key = memory.key or ""
        doc_id = key[len(self.key_prefix) :] if key.startswith(self.key_prefix) else memory.id
        return Document(id=doc_id, page_content=memory.content, metadata=dict(memory.metadata))

    # -- writing ----------------------------------------------------------------------------

    def _ids_for(self, count: int, ids: Sequence[str | None] | None) -> list[str]:
        if ids is not None and len(ids) != count:
            raise InvalidInput("ids", f"<{len(ids)} ids>", f"expected one id per text ({count})")
        given = list(ids) if ids is not None else [None] * count
        return [i if i else new_id() for i in given]

    def _put(
        self,
        texts: list[str],
        metadatas: Sequence[dict[str, Any] | None],
        ids: list[str],
        vectors: list[list[float]],
    ) -> list[str]:
        if len(vectors) != len(texts):
            raise InvalidInput("embedding", f"<{len(vectors)} vectors>", "one per text expected")
        items = [
            {
                "key": self.key_of(doc_id),
                "kind": self.kind,
                "content": text,
                "metadata": dict(meta or {}),
                "embedding": vector,
                "embedding_model": self.model,
            }
            for text, meta, doc_id, vector in zip(texts, metadatas, ids, vectors, strict=True)
        ]
        if items:
            self.vault.memories.put_many(self.user_id, items)
        return ids

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Embed and store texts, in one transaction; an id already stored is replaced
        (text, metadata and vector). Returns the ids (new UUIDv7s for the missing ones)."""
        texts = list(texts)
        metas = _metadatas(metadatas, len(texts))
        doc_ids = self._ids_for(len(texts), ids)
        _check_texts(texts, ids)
        vectors = self.embedding.embed_documents(texts) if texts else []
        return self._put(texts, metas, doc_ids, vectors)

    async def aadd_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """`add_texts`, embedding with the embedding's async method."""
        texts = list(texts)
        metas = _metadatas(metadatas, len(texts))
        doc_ids = self._ids_for(len(texts), ids)
        _check_texts(texts, ids)
        vectors = await self.embedding.aembed_documents(texts) if texts else []
        return await run_in_executor(None, self._put, texts, metas, doc_ids, vectors)

    def add_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        """Store documents (each `Document.id` is used unless `ids=` is given)."""
        ids = kwargs.pop("ids", None)
        if ids is None and any(d.id for d in documents):
            ids = [d.id for d in documents]
        texts = [d.page_content for d in documents]
        return self.add_texts(texts, [d.metadata for d in documents], ids=ids, **kwargs)

    async def aadd_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        """Async `add_documents`."""
        ids = kwargs.pop("ids", None)
        if ids is None and any(d.id for d in documents):
            ids = [d.id for d in documents]
        texts = [d.page_content for d in documents]
        return await self.aadd_texts(texts, [d.metadata for d in documents], ids=ids, **kwargs)

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Delete documents by id (unknown ids are not an error); None deletes every
        document of this store. Each deletion is recorded in the memory's history."""
        if ids is None:
            self.vault.memories.delete_many(self.user_id, key_prefix=self.key_prefix)
        elif ids:
            self.vault.memories.delete_many(self.user_id, keys=[self.key_of(i) for i in ids])
        return True

    async def adelete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Async `delete`."""
        return await run_in_executor(None, self.delete, ids, **kwargs)

    # -- reading ----------------------------------------------------------------------------

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The stored documents among `ids` (missing ones are left out)."""
        keys = list(dict.fromkeys(self.key_of(i) for i in ids))
        if not keys:
            return []
        memories = self.vault.memories.list(
            self.user_id, keys=keys, limit=len(keys), track_access=False
        )
        return [self.document_of(m) for m in memories]

    async def aget_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """Async `get_by_ids`."""
        return await run_in_executor(None, self.get_by_ids, ids)

    def _search(
        self, vector: Sequence[float], k: int, filter: dict[str, Any] | None
    ) -> list[tuple[Memory, float]]:
        with named_as("filter", filter):
            hits = self.vault.memories.search(
                self.user_id,
                "",
                k=k,
                mode="vector",
                query_vector=np.asarray(vector, dtype=np.float32),
                model=self.model,
                key_prefix=self.key_prefix,
                filters=translate_filter(filter),
                track_access=False,
                approximate=self.approximate,
            )
        return [(hit.item, float(hit.score)) for hit in hits]

    def similarity_search_with_score_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        filter: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[tuple[Document, float]]:
        """The `k` documents nearest to a vector, with their cosine similarity, best first;
        `filter` on metadata (`{"source": "a.md"}`, `{"year": {"$gte": 2020}}`)."""
        return [(self.document_of(m), s) for m, s in self._search(embedding, k, filter)]

    def similarity_search_with_score(
        self, query: str, k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """The `k` documents most similar to `query`, with their cosine similarity."""
        vector = self.embedding.embed_query(query)
        return self.similarity_search_with_score_by_vector(vector, k, filter, **kwargs)

    def similarity_search(
        self, query: str, k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[Document]:
        """The `k` documents most similar to `query`, best first."""
        return [d for d, _ in self.similarity_search_with_score(query, k, filter, **kwargs)]

    def similarity_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        filter: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """The `k` documents nearest to a vector, best first."""
        pairs = self.similarity_search_with_score_by_vector(embedding, k, filter, **kwargs)
        return [d for d, _ in pairs]

    async def asimilarity_search_with_score(
        self, query: str, k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """Async `similarity_search_with_score` (the query embedded asynchronously)."""
        vector = await self.embedding.aembed_query(query)
        return await run_in_executor(
            None, self.similarity_search_with_score_by_vector, vector, k, filter
        )

    async def asimilarity_search(
        self, query: str, k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[Document]:
        """Async `similarity_search`."""
        pairs = await self.asimilarity_search_with_score(query, k, filter, **kwargs)
        return [d for d, _ in pairs]

    async def asimilarity_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        filter: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """Async `similarity_search_by_vector`."""
        return await run_in_executor(None, self.similarity_search_by_vector, embedding, k, filter)

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        # Scores are cosine similarities already (1 - cosine distance), as LangChain's
        # cosine relevance function would make them.
        return _identity

    # -- maximal marginal relevance ---------------------------------------------------------

    def max_marginal_relevance_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """`k` documents among the `fetch_k` nearest, chosen for relevance and diversity."""
        found = self._search(embedding, max(fetch_k, k), filter)
        if not found:
            return []
        vectors: list[list[float]] = []
        for memory, _ in found:
            vec = self.vault.embeddings.get(
                model=self.model, memory_id=memory.id, user_id=self.user_id
            )
            vectors.append([0.0] * len(embedding) if vec is None else vec.tolist())
        chosen = maximal_marginal_relevance(
            np.asarray(embedding, dtype=np.float32), vectors, lambda_mult=lambda_mult, k=k
        )
        return [self.document_of(found[i][0]) for i in chosen]

    def max_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """`max_marginal_relevance_search_by_vector` of the query's vector."""
        vector = self.embedding.embed_query(query)
        return self.max_marginal_relevance_search_by_vector(
            vector, k, fetch_k, lambda_mult, filter, **kwargs
        )

    async def amax_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """Async `max_marginal_relevance_search`."""
        vector = await self.embedding.aembed_query(query)
        return await run_in_executor(
            None,
            self.max_marginal_relevance_search_by_vector,
            vector,
            k,
            fetch_k,
            lambda_mult,
            filter,
        )

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        vault: Vault | None = None,
        url: str | None = None,
        **kwargs: Any,
    ) -> MemvaultVectorStore:
        """A store over `vault` (or `memvault.open(url)`) holding `texts`; `kwargs` are the
        constructor's (`user_id`, `collection`, …)."""
        if vault is None:
            from memvault.vault import Vault as _Vault

            vault = _Vault(url)
        store = cls(vault, embedding, **kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store


def _identity(score: float) -> float:
    return score


def _check_texts(texts: Sequence[Any], ids: Sequence[str | None] | None) -> None:
    """Refuse a text that is not a str before anything is embedded or written (an embedding
    would fail deep inside, or worse, embed the value's repr)."""
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            doc_id = ids[i] if ids is not None else None
            of = f" of document id {doc_id!r}" if doc_id else ""
            raise InvalidInput(
                f"texts[{i}]", text, f"the text{of} must be a str, not {type(text).__name__}"
            )


def _metadatas(metadatas: Sequence[dict[str, Any] | None] | None, count: int) -> list[Any]:
    if metadatas is None:
        return [None] * count
    if len(metadatas) != count:
        raise InvalidInput(
            "metadatas", f"<{len(metadatas)} dicts>", f"expected one per text ({count})"
        )
    return list(metadatas)
