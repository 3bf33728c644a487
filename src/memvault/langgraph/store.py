"""`MemvaultStore`: LangGraph's long-term memory store (`BaseStore`) on memvault memories.

    vault = memvault.open(url)
    store = MemvaultStore(vault, user_id=alice.id, index={"dims": 384, "embed": "memvault"})
    graph = builder.compile(checkpointer=MemvaultSaver(vault), store=store)

The owner: every item of a store belongs to the one memvault owner the store was made for,
`user_id` (a user id; None: the shared base layer), and every call goes through
`vault.scoped(user_id)`, the owner rule's view. The namespace never chooses the owner: graph
code and model tool calls write namespaces, and they must not reach another user's memories. A
service with many users makes one store per user (a store is a few attributes; the vault and
its pool are shared) and hands it to the graph run.

An item is a memory (kind "note") with a caller-chosen key (see `memvault.langgraph.items`);
its value is the memory's metadata, exactly; its content is the text it is searched by (the
indexed fields' text, else the value as JSON). So items are ordinary memories: `vault.memories`,
`export_user`, `erase_user`, history and the CLI see them. Writes go through `memories.put_many`
and `memories.delete_many` in one `vault.transaction()` per batch, TTL through memvault's sliding
expiry (`ttl`, `refresh_ttl`, `purge_expired`), semantic search through memvault's vectors.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import orjson
from langgraph.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
    ensure_embeddings,
    get_text_at_path,
    tokenize_path,
    validate_op_namespace,
)

from memvault import validate
from memvault.embed.base import Embedder
from memvault.errors import InvalidInput
from memvault.filters import named_as
from memvault.langgraph import items
from memvault.records import Memory

if TYPE_CHECKING:
    from memvault.vault import Vault

log = logging.getLogger(__name__)

KIND = "note"
PAGE = 1000  # memories read per query when list_namespaces walks the keys
MEMVAULT_EMBED = "memvault"  # index={"embed": "memvault"}: the vault's own embedder


class MemvaultStore(BaseStore):
    """A LangGraph `BaseStore` whose items are memories of one memvault owner.

    `vault`: a sync `memvault.Vault`; a `memvault.aio` vault is refused when the store is
    made (an async app passes its AsyncVault's `.sync`: `abatch`, `aput`, ... run on
    threads, off the event loop).
    `user_id`: the owner of every item (None: the shared base layer); calls go through
    `vault.scoped(user_id)`. `index`: LangGraph's `IndexConfig` (`dims`, `embed`, `fields`)
    for semantic search; `embed` may be `"memvault"` or a memvault `Embedder` (memvault then
    embeds items and queries itself, in the write transaction's batch), or anything LangGraph
    accepts (an `Embeddings`, a function, a provider string), whose vectors are stored as
    `embedding_model` (default: derived from `embed`). `ttl`: LangGraph's `TTLConfig`
    (minutes; `refresh_on_read`, `default_ttl`, `sweep_interval_minutes`). `max_workers`:
    threads the async methods run on."""

    supports_ttl = True

    def __init__(
        self,
        vault: Vault,
        *,
        user_id: str | None = None,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
        embedding_model: str | None = None,
        max_workers: int = 4,
    ) -> None:
        if user_id is not None:
            validate.id_("user_id", user_id)
        self.vault = validate.sync_vault("MemvaultStore", vault)
        self.user_id = user_id
        self.memories: Any = vault.scoped(user_id).memories if user_id else vault.memories
        if ttl:
            check_ttl("ttl.default_ttl", ttl.get("default_ttl"))
        self.ttl_config = ttl
        self.index_config = index
        self._memvault_embeds = False  # True: memvault embeds texts with the vault's embedder
        self._embeddings: Any = None
        self._model: str | None = None
        self._fields: list[tuple[str, Any]] = []
        if index:
            self._setup_index(index, embedding_model)
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="memvault-lgstore"
        )
        self._sweeper: threading.Thread | None = None
        self._stop = threading.Event()

    def _setup_index(self, index: IndexConfig, model: str | None) -> None:
        dims = validate.integer("index.dims", index.get("dims"), minimum=1)
        embed = index.get("embed")
        memvaults = embed == MEMVAULT_EMBED or isinstance(embed, Embedder)
        own = self.vault.search.embedder if memvaults else None  # loads the default model
        if embed == MEMVAULT_EMBED or (
            isinstance(embed, Embedder) and own is not None and embed.name == own.name
        ):
            embedder = own
            if embedder is None:
                raise InvalidInput("index.embed", embed, "this vault has no embedder")
            self._memvault_embeds = True
            self._model = embedder.name
            if embedder.dimension != dims:
                raise InvalidInput("index.dims", dims, f"{embedder.name} has {embedder.dimension}")
        elif isinstance(embed, Embedder):
            if embed.dimension != dims:
                raise InvalidInput("index.dims", dims, f"{embed.name} has {embed.dimension}")
            self._embeddings = ensure_embeddings(_embedder_function(embed))
            self._model = model or embed.name
        else:
            if embed is None:
                raise InvalidInput("index.embed", None, "name the embeddings of the index")
            self._embeddings = ensure_embeddings(embed)
            self._model = model or _model_name(embed, dims)
        self._fields = [(f, tokenize_path(f) if f != "$" else f)
                        for f in (index.get("fields") or ["$"])]  # fmt: skip

    # -- batches ----------------------------------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run `ops`; reads see the store as it was before the batch's writes, which all
        commit in one transaction (the last write of a key wins)."""
        plan = _Plan(ops)
        if self._embeddings is not None:
            plan.vectors = self._vectors_sync(plan)
        return self._run(plan)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """`batch` without blocking the event loop: embeddings through the embedder's async
        API, the database on the store's threads."""
        plan = _Plan(ops)
        if self._embeddings is not None:
            plan.vectors = await self._vectors_async(plan)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._run, plan)

    def _run(self, plan: _Plan) -> list[Result]:
        results: list[Result] = [None] * len(plan.ops)
        gets = [(i, op) for i, op in enumerate(plan.ops) if isinstance(op, GetOp)]
        if gets:
            self._get(gets, results)
        for i, op in enumerate(plan.ops):
            if isinstance(op, SearchOp):
                results[i] = self._search(op, plan.vectors.get(("query", i)))
            elif isinstance(op, ListNamespacesOp):
                results[i] = self._list_namespaces(op)
        if plan.writes:
            self._write(plan)
        return results

    # -- reads ------------------------------------------------------------------------------

    def _get(self, gets: list[tuple[int, GetOp]], results: list[Result]) -> None:
        # a key memvault cannot store (too long, a NUL) names no item: None, as LangGraph's
        names = sorted({items.memory_key(op.namespace, op.key) for _, op in gets})
        names = [n for n in names if items.storable(n)]
        found: dict[str | None, Memory] = {}
        if names:
            listed = self.memories.list(
                self.user_id, keys=names, kinds=[KIND], limit=len(names), track_access=False
            )
            found = {m.key: m for m in listed}
        for i, op in gets:
            memory = found.get(items.memory_key(op.namespace, op.key))
            results[i] = _item(memory) if memory is not None else None
        refreshed = {items.memory_key(op.namespace, op.key) for _, op in gets if op.refresh_ttl}
        self._refresh([found[n] for n in refreshed if n in found])

    def _refresh(self, memories: Sequence[Memory]) -> None:
        """Push back the expiry of the memories read that have a TTL. Read first, refresh
        only those: a read of items without TTL (the common case) stays a read transaction."""
        timed = [str(m.key) for m in memories if m.ttl_seconds is not None]
        if timed:
            self.memories.list(
                self.user_id, keys=timed, limit=len(timed), refresh_ttl=True, track_access=False
            )

    def _search(self, op: SearchOp, query_vector: Any) -> list[SearchItem]:
        limit = validate.integer("limit", op.limit, minimum=0)
        offset = validate.integer("offset", op.offset, minimum=0)
        if limit == 0:
            return []
        prefix = items.key_prefix(op.namespace_prefix)
        filters = items.value_filter(op.filter)
        with named_as("filter", op.filter):
            if op.query and (self._memvault_embeds or query_vector is not None):
                return self._semantic(op, prefix, filters, limit, offset, query_vector)
            found = self.memories.list(
                self.user_id, key_prefix=prefix, kinds=[KIND], filters=filters, limit=limit,
                offset=offset, track_access=False,
            )  # fmt: skip
        if op.refresh_ttl:
            self._refresh(found)
        return [_item(m, SearchItem) for m in found]

    def _semantic(
        self,
        op: SearchOp,
        prefix: str,
        filters: dict[str, Any] | None,
        limit: int,
        offset: int,
        query_vector: Any,
    ) -> list[SearchItem]:
        options: dict[str, Any] = {"model": self._model}
        if query_vector is not None:
            options["query_vector"] = query_vector
        want = offset + limit
        hits = self.memories.search(
            self.user_id, str(op.query), mode="vector", k=want, kinds=[KIND],
            filters=filters, key_prefix=prefix, track_access=False, **options,
        )  # fmt: skip
        found = [_item(h.item, SearchItem, float(h.vector_score)) for h in hits[offset:]]
        read = [h.item for h in hits[offset:]]
        if len(hits) < want:
            # Every scored item is in: as langgraph's InMemoryStore, the items without a
            # vector (put with index=False, or without an indexed field) follow, score None.
            skip = max(0, offset - len(hits))
            scored = {h.item.id for h in hits}
            rest = self.memories.list(
                self.user_id, key_prefix=prefix, kinds=[KIND], filters=filters,
                limit=len(scored) + skip + want - max(offset, len(hits)), track_access=False,
            )  # fmt: skip
            tail = [m for m in rest if m.id not in scored][skip : skip + limit - len(found)]
            found += [_item(m, SearchItem) for m in tail]
            read += tail
        if op.refresh_ttl:
            self._refresh(read)
        return found

    def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        conditions = tuple(op.match_conditions or ())
        prefix = items.key_prefix(items.literal_prefix(conditions))
        found: set[tuple[str, ...]] = set()
        start = 0
        while True:
            page = self.memories.list(
                self.user_id, key_prefix=prefix, kinds=[KIND], limit=PAGE, offset=start,
                track_access=False,
            )  # fmt: skip
            for memory in page:
                namespace = items.split_key(memory.key)[0]
                if all(items.matches(namespace, c.match_type, tuple(c.path)) for c in conditions):
                    found.add(namespace if op.max_depth is None else namespace[: op.max_depth])
            if len(page) < PAGE:
                break
            start += PAGE
        return sorted(found)[op.offset : op.offset + op.limit]

    # -- writes -----------------------------------------------------------------------------

    def _write(self, plan: _Plan) -> None:
        puts: list[dict[str, Any]] = []
        deletes: list[str] = []
        for (namespace, key), op in plan.writes.items():
            name = items.memory_key(namespace, key)
            if op.value is None:
                if items.storable(name):  # else there is no such item to delete
                    deletes.append(name)
                continue
            value = dict(op.value)
            texts = self._texts(op)
            put: dict[str, Any] = {
                "key": name, "kind": KIND, "content": _content(value, texts),
                "metadata": value, "ttl": None if op.ttl is None else timedelta(minutes=op.ttl),
            }  # fmt: skip
            if not texts:
                put["embedding"] = False
            elif self._memvault_embeds:
                put["embedding"] = True
            else:
                put["embedding"] = plan.vectors[("put", namespace, key)]
                put["embedding_model"] = self._model
            puts.append(put)
        # One transaction; the API calls inside join it without savepoints (any failure rolls
        # the whole batch back, so a savepoint per call would be pure cost).
        with self.vault.store.write(savepoints=False):
            if deletes:
                self.memories.delete_many(self.user_id, keys=deletes)
            if puts:
                self.memories.put_many(self.user_id, puts)

    def _texts(self, op: PutOp) -> list[str]:
        """The texts of a put that semantic search embeds: the `index` of the put, else the
        store's fields; none without an index or with `index=False`."""
        if op.value is None or not self.index_config or op.index is False:
            return []
        paths = self._fields if op.index is None else [(p, tokenize_path(p)) for p in op.index]
        value = _json_form(op.value)  # datetimes and UUIDs as their text, as stored
        texts: list[str] = []
        for _, path in paths:
            texts += [t for t in get_text_at_path(value, path) if t.strip()]
        return texts

    # -- embeddings -------------------------------------------------------------------------

    def _to_embed(self, plan: _Plan) -> tuple[list[Any], list[str], list[Any], list[str]]:
        put_keys: list[Any] = []
        put_texts: list[str] = []
        query_keys: list[Any] = []
        queries: list[str] = []
        for (namespace, key), put in plan.writes.items():
            texts = self._texts(put)
            if texts:
                put_keys.append(("put", namespace, key))
                put_texts.append("\n".join(texts))
        for i, op in enumerate(plan.ops):
            if isinstance(op, SearchOp) and op.query:
                query_keys.append(("query", i))
                queries.append(op.query)
        return put_keys, put_texts, query_keys, queries

    def _vectors_sync(self, plan: _Plan) -> dict[Any, Any]:
        put_keys, put_texts, query_keys, queries = self._to_embed(plan)
        out: dict[Any, Any] = {}
        if put_texts:
            out.update(zip(put_keys, self._embeddings.embed_documents(put_texts), strict=True))
        for name, query in zip(query_keys, queries, strict=True):
            out[name] = self._embeddings.embed_query(query)
        return out

    async def _vectors_async(self, plan: _Plan) -> dict[Any, Any]:
        put_keys, put_texts, query_keys, queries = self._to_embed(plan)
        out: dict[Any, Any] = {}
        if put_texts:
            vectors = await self._embeddings.aembed_documents(put_texts)
            out.update(zip(put_keys, vectors, strict=True))
        found = await asyncio.gather(*(self._embeddings.aembed_query(q) for q in queries))
        out.update(zip(query_keys, found, strict=True))
        return out

    # -- TTL --------------------------------------------------------------------------------

    def sweep_ttl(self) -> int:
        """Delete the owner's expired memories now; how many were deleted."""
        return int(self.memories.purge_expired(self.user_id))

    def start_ttl_sweeper(
        self, sweep_interval_minutes: float | None = None
    ) -> concurrent.futures.Future[None]:
        """Sweep expired items every `sweep_interval_minutes` (else the TTL config's
        `sweep_interval_minutes`, else 5) on a daemon thread, until `stop_ttl_sweeper`.
        Returns a future that is done when the sweeper stops (cancelling it stops it)."""
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        if self._sweeper is not None and self._sweeper.is_alive():
            future.add_done_callback(lambda f: self._stop.set() if f.cancelled() else None)
            return future
        config = self.ttl_config or {}
        interval = float(sweep_interval_minutes or config.get("sweep_interval_minutes") or 5)
        self._stop.clear()

        def sweep() -> None:
            while not self._stop.wait(interval * 60):
                try:
                    swept = self.sweep_ttl()
                    if swept:
                        log.info("swept %d expired LangGraph store items", swept)
                except Exception:  # a failed sweep is retried at the next interval
                    log.exception("LangGraph store TTL sweep failed")
            if not future.done():
                future.set_result(None)

        self._sweeper = threading.Thread(target=sweep, daemon=True, name="memvault-ttl-sweeper")
        self._sweeper.start()
        future.add_done_callback(lambda f: self._stop.set() if f.cancelled() else None)
        return future

    def stop_ttl_sweeper(self, timeout: float | None = None) -> bool:
        """Stop the sweeper thread; False when it did not stop within `timeout` seconds."""
        if self._sweeper is None or not self._sweeper.is_alive():
            return True
        self._stop.set()
        self._sweeper.join(timeout)
        if self._sweeper.is_alive():
            return False
        self._sweeper = None
        return True

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the sweeper and the async workers (the vault stays open: it is the caller's)."""
        self.stop_ttl_sweeper()
        self._pool.shutdown(wait=True)

    def __enter__(self) -> MemvaultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> MemvaultStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.close)


class _Plan:
    """A batch's operations, checked, with its writes reduced to the last one per item."""

    def __init__(self, ops: Iterable[Op]) -> None:
        self.ops: list[Op] = list(ops)
        self.writes: dict[tuple[tuple[str, ...], str], PutOp] = {}
        self.vectors: dict[Any, Any] = {}
        for op in self.ops:
            if not isinstance(op, (GetOp, PutOp, SearchOp, ListNamespacesOp)):
                raise InvalidInput(
                    "op", type(op).__name__, "GetOp, PutOp, SearchOp or ListNamespacesOp"
                )
            validate_op_namespace(op)
            if isinstance(op, PutOp):
                if op.value is not None:
                    items.check_put(op.namespace, op.key, op.value)
                    check_ttl("ttl", op.ttl)
                self.writes.pop((op.namespace, op.key), None)  # the last write goes last
                self.writes[(op.namespace, op.key)] = op


def check_ttl(field: str, ttl: Any) -> None:
    """Refuse a LangGraph TTL (minutes) that is not a positive number: memvault's own
    message, naming the value as the caller wrote it (not the timedelta it becomes)."""
    if ttl is None:
        return
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not 0 < ttl < math.inf:
        raise InvalidInput(field, ttl, "a TTL in minutes is a number greater than 0, or None")


def _item(memory: Memory, cls: type[Item] = Item, score: float | None = None) -> Any:
    namespace, key = items.split_key(str(memory.key))
    if cls is SearchItem:
        return SearchItem(namespace, key, dict(memory.metadata), memory.created_at,
                          memory.updated_at, score)  # fmt: skip
    return Item(value=dict(memory.metadata), key=key, namespace=namespace,
                created_at=memory.created_at, updated_at=memory.updated_at)  # fmt: skip


def _content(value: Mapping[str, Any], texts: Sequence[str]) -> str:
    """The memory's text: what the item is embedded by, else its value as JSON."""
    text = "\n".join(texts)
    if text.strip():
        return text
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_json_form)


def _json_form(value: Any) -> Any:
    """What the metadata stores for a value json cannot write (datetimes, UUIDs: ISO text)."""
    return orjson.loads(orjson.dumps(value))


def _embedder_function(embedder: Embedder) -> Any:
    def embed(texts: Sequence[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in embedder.embed(list(texts))]

    return embed


def _model_name(embed: Any, dims: int) -> str:
    """The model name stored with vectors of a LangGraph embed (vectors of different names
    are never compared, so it must not change between runs)."""
    if isinstance(embed, str):
        return embed
    model = getattr(embed, "model", None) or getattr(embed, "model_name", None)
    name = str(model) if model else getattr(embed, "__qualname__", type(embed).__qualname__)
    return f"langgraph:{name}:{dims}"
