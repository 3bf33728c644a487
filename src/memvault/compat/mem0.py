"""mem0's `Memory` and `AsyncMemory` over a memvault store: code written for mem0 (mem0ai
2.x, the open-source `mem0.Memory`) runs by changing one import.

    from memvault.compat.mem0 import Memory     # was: from mem0 import Memory

    m = Memory()                                  # ./memvault.db, $MEMVAULT_URL, or Memory(url)
    m.add("I'm vegetarian", user_id="alice", infer=False)
    m.search("what does alice eat", filters={"user_id": "alice"}, top_k=5, threshold=0.2)

Method names, signatures and return shapes are mem0's: `{"results": [...]}` of dicts with
`id`, `memory`, `hash` (MD5 of the text, as mem0), `metadata`, `score`, `created_at`,
`updated_at` and, when set, `user_id`, `agent_id`, `run_id`, `actor_id`, `role`; `add`
events `ADD` (stored) or `NONE` (already stored); `history` entries with `old_memory`,
`new_memory`, `event` (`ADD`/`UPDATE`), `is_deleted`, `actor_id`, `role`.

How mem0's scoping maps onto memvault (`memvault.scope`):

- `user_id` is a memvault user, found or created by that handle (`vault.users.ensure`);
  its memories are that user's rows, so `vault.scoped(user)` and every other memvault
  surface see them. A memory added without `user_id` (only `agent_id` and/or `run_id`)
  belongs to the shared base layer.
- `agent_id`, `run_id`, `actor_id` (a message's `name`) and `role` are kept in the memory's
  metadata under those keys, next to the caller's `metadata` (whose identity keys are
  dropped, as mem0 drops them); reads promote them back out of `metadata`, as mem0 does.
- A read (`get_all`, `search`, `delete_all`) with `user_id` sees that user's memories,
  narrowed by `agent_id`/`run_id`/`actor_id` and the other filters on metadata; a read
  without `user_id` sees the base layer's (mem0 would also match users' memories that carry
  that `agent_id`). Memories are stored with memvault kind `kind` (default `"fact"`) and the
  facade reads and deletes that kind only.
- `expiration_date` becomes the memory's `expires_at` (the end of that day, UTC).

Where memvault differs, on purpose:

- The same text (case and spacing folded) is stored once per user: adding it again
  answers event `NONE` with the stored memory (mem0 would store a copy).
- `history` of a deleted memory ends in `DELETE`, as mem0's does, but its entries carry no
  `actor_id`/`role` any more (they lived in the memory's metadata).
- `search` ranks by cosine similarity of the vault's embedder and returns it as `score`;
  `threshold` is a minimum cosine similarity (mem0 gates on its vector similarity too, then
  reports a score fused with BM25). `rerank` does nothing (no reranker is configured, as in
  mem0 without one). Filters: equality and `eq`, `ne`, `gt`, `gte`, `lt`, `lte`, `in`,
  `contains`, `AND`, `OR`; mem0's `nin`, `icontains`, `NOT` and `"*"` are refused.
- `reset()` deletes the facade's memories (of its kind, every owner), not the whole store.
- `infer=True` calls the `extractor` you give (`Memory(extractor=...)`, any callable or LLM
  wrapper): it gets the messages (a list of `{"role", "content"}` dicts) and returns facts
  as a list of strings or `{"text": ...}` dicts, or mem0's LLM answer `{"memory": [...]}`
  (a dict or its JSON text). Each new fact is an `ADD`; facts already stored are skipped,
  as mem0 skips them. Without an extractor, `infer=True` is an error naming `infer=False`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

import memvault
from memvault.aio import AsyncVault
from memvault.errors import Duplicate, InvalidInput, NotFound
from memvault.records import Memory as StoredMemory
from memvault.scope import ANY
from memvault.vault import Vault

__all__ = ["AsyncMemory", "Memory", "MemoryNotFound"]

log = logging.getLogger(__name__)

ENTITY_KEYS: Final = ("user_id", "agent_id", "run_id")
IDENTITY_KEYS: Final = frozenset({*ENTITY_KEYS, "actor_id"})
# Payload keys mem0 returns beside `metadata` rather than inside it (mem0/memory/main.py).
PROMOTED_KEYS: Final = (
    "user_id", "agent_id", "run_id", "actor_id", "role", "attributed_to", "expiration_date",
)  # fmt: skip
FILTER_OPS: Final = {
    "eq": "eq", "ne": "ne", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte", "in": "in",
    "contains": "contains",
}  # fmt: skip
BATCH: Final = 1000
# The reason of a delete made by the facade: this prefix, then what the history showed.
DELETED: Final = "mem0 delete; history shows: "

Extractor = Callable[[list[dict[str, Any]]], Any]


class MemoryNotFound(NotFound, ValueError):
    """No memory has this id: a memvault `NotFound` that is also the `ValueError` mem0 raises."""


class _Nobody:
    """A read naming a user the store has never seen: it finds nothing."""


_NOBODY: Final = _Nobody()
_UNSET: Any = object()


class Memory:
    """mem0's `Memory` over a memvault store (see the module doc for the mapping).

    `vault`: an open `memvault.Vault` (left open by `close`), or a URL to open (default:
    `$MEMVAULT_URL`, else `./memvault.db`). `extractor`: what `add(..., infer=True)` calls to
    turn messages into facts. `embedder`: a memvault `Embedder` for the vault opened here
    (default: the vault's). `kind`: the memvault memory kind the facade stores and reads.
    """

    def __init__(
        self,
        vault: Vault | str | None = None,
        *,
        extractor: Extractor | None = None,
        embedder: Any = None,
        kind: str = "fact",
    ) -> None:
        if isinstance(vault, Vault):
            if embedder is not None:
                raise InvalidInput("embedder", embedder, "give it to memvault.open, not here")
            self.vault, self._owns_vault = vault, False
        else:
            options = {"embedder": embedder} if embedder is not None else {}
            self.vault, self._owns_vault = memvault.open(vault, **options), True
        self.extractor = extractor
        self.kind = kind
        self._users: dict[str, str] = {}  # mem0 user_id -> memvault user id

    @classmethod
    def from_config(cls, config_dict: Mapping[str, Any]) -> Memory:
        """A Memory from a dict: `url` (or `vault`), `extractor`, `embedder`, `kind`.

        mem0's own sections (`vector_store`, `llm`, `embedder` as a provider dict, …) configure
        mem0's backends, which memvault replaces: they are refused, naming the key."""
        allowed = {"url", "vault", "extractor", "embedder", "kind"}
        for key, value in config_dict.items():
            if key not in allowed or (key == "embedder" and isinstance(value, Mapping)):
                raise InvalidInput(
                    key, value, f"not a memvault.compat.mem0 option (use {sorted(allowed)})"
                )
        return cls(
            config_dict.get("vault", config_dict.get("url")),
            extractor=config_dict.get("extractor"),
            embedder=config_dict.get("embedder"),
            kind=config_dict.get("kind", "fact"),
        )

    # -- writes ------------------------------------------------------------------------------

    def add(
        self,
        messages: str | dict[str, Any] | list[dict[str, Any]],
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        timestamp: Any = None,
        expiration_date: Any = None,
        infer: bool = True,
        memory_type: str | None = None,
        prompt: str | None = None,
    ) -> dict[str, Any]:
        """Store `messages` (a text, a message dict or a list of them) for the given scope.

        `infer=False` stores each non-system message as one memory; `infer=True` stores the
        facts the `extractor` draws from them. Returns `{"results": [{"id", "memory",
        "event", …}]}`, plus `"skipped": [{"index", "reason"}]` when a message was not a
        dict with role and content (system messages are left out silently, as mem0 does)."""
        if timestamp is not None:
            raise InvalidInput("timestamp", timestamp, "a mem0 platform option, not supported")
        if memory_type is not None:
            raise InvalidInput("memory_type", memory_type, "procedural memories are not supported")
        ids = {
            "user_id": _entity_id(user_id, "user_id"),
            "agent_id": _entity_id(agent_id, "agent_id"),
            "run_id": _entity_id(run_id, "run_id"),
        }
        if not any(ids.values()):
            raise InvalidInput(
                "user_id", None, "at least one of 'user_id', 'agent_id' or 'run_id' must be given"
            )
        base = _without_identity(metadata, "metadata")
        base.update({k: v for k, v in ids.items() if v})
        expires = _expiry(expiration_date)
        if expires is not None:
            base["expiration_date"] = expires[0]
        msgs = _messages(messages)
        owner = self._owner(ids["user_id"], create=True)
        assert not isinstance(owner, _Nobody)
        expires_at = expires[1] if expires else None
        if infer:
            return {"results": self._add_inferred(msgs, owner, base, expires_at, prompt)}
        results = []
        skipped = []
        for index, msg in enumerate(msgs):
            if not isinstance(msg, dict) or msg.get("role") is None or msg.get("content") is None:
                log.warning("skipping a message that is not a dict with role and content")
                skipped.append({"index": index, "reason": "not a dict with role and content"})
                continue
            role = msg["role"]
            if role == "system":
                continue
            meta = dict(base, role=role)
            name = msg.get("name")
            if name:
                meta["actor_id"] = name
            stored, fresh = self._store(owner, msg["content"], meta, expires_at)
            results.append(
                {
                    "id": stored.id,
                    "memory": stored.content,
                    "event": "ADD" if fresh else "NONE",
                    "actor_id": name or None,
                    "role": role,
                }
            )
        # Beyond mem0's shape, and only when it happened: a caller reading `results` alone
        # would otherwise never learn that a message was dropped (finding 23).
        return {"results": results, "skipped": skipped} if skipped else {"results": results}

    def _add_inferred(
        self,
        msgs: list[Any],
        owner: str | None,
        base: dict[str, Any],
        expires_at: datetime | None,
        prompt: str | None,
    ) -> list[dict[str, Any]]:
        if self.extractor is None:
            raise InvalidInput(
                "infer",
                True,
                "infer=True needs a fact extractor (Memory(extractor=callable)): pass "
                "infer=False to store the messages as they are",
            )
        raw = self.extractor(msgs) if prompt is None else self.extractor(msgs, prompt)  # type: ignore[call-arg]
        results = []
        for text, attributed in _facts(raw):
            meta = dict(base, attributed_to=attributed) if attributed else dict(base)
            stored, fresh = self._store(owner, text, meta, expires_at)
            if fresh:  # a fact already stored is skipped, as mem0 skips it
                results.append({"id": stored.id, "memory": stored.content, "event": "ADD"})
        return results

    def _store(
        self, owner: str | None, content: Any, meta: dict[str, Any], expires_at: datetime | None
    ) -> tuple[StoredMemory, bool]:
        """Add one memory; whether it is new (`dedupe="raise"` says when it was not)."""
        try:
            stored = self.vault.memories.add(
                owner, self.kind, content, metadata=meta, expires_at=expires_at, dedupe="raise"
            )
        except Duplicate as dup:
            return dup.existing, False
        return stored, True

    def update(
        self,
        memory_id: str,
        text: str | None = None,
        metadata: dict[str, Any] | None = None,
        expiration_date: Any = _UNSET,
        data: str | None = None,
    ) -> dict[str, Any]:
        """Change a memory's text and/or merge `metadata` into its metadata (`data`: mem0's
        deprecated name for `text`). Unknown id: `MemoryNotFound` (a ValueError)."""
        if text is None:
            text = data
        if text is None and metadata is None and expiration_date is _UNSET:
            raise InvalidInput(
                "text", None, "at least one of text, metadata or expiration_date must be given"
            )
        try:
            old = self.vault.memories.get(memory_id, track_access=False)
        except NotFound:
            raise MemoryNotFound("memory", memory_id) from None
        meta: dict[str, Any] | None = None
        expires: Any = _UNSET
        if metadata is not None or expiration_date is not _UNSET:
            meta = dict(old.metadata)
            meta.update(_without_identity(metadata, "metadata"))
            if expiration_date is not _UNSET:
                found = _expiry(expiration_date)
                meta.pop("expiration_date", None)
                if found is not None:
                    meta["expiration_date"] = found[0]
                expires = found[1] if found else None
        options: dict[str, Any] = {}
        if expires is not _UNSET:
            options["expires_at"] = expires
        self.vault.memories.update(memory_id, content=text, metadata=meta, **options)
        return {"message": "Memory updated successfully!"}

    def delete(self, memory_id: str) -> dict[str, Any]:
        """Delete one memory (its history stays, ending in `DELETE`). Unknown id:
        `MemoryNotFound`."""
        try:
            self._forget(self.vault.memories.get(memory_id, track_access=False))
        except NotFound:
            raise MemoryNotFound("memory", memory_id) from None
        return {"message": "Memory deleted successfully!"}

    def _forget(self, memory: Any) -> None:
        """Delete `memory`, keeping in its `delete` entry's reason what its history entries
        show (created_at, actor_id, role): they must read the same after the delete."""
        kept = {"created_at": _iso(memory.created_at)}
        kept |= {k: memory.metadata.get(k) for k in ("actor_id", "role")}
        self.vault.memories.delete(memory.id, reason=DELETED + json.dumps(kept))

    def delete_all(
        self, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> dict[str, Any]:
        """Delete every memory of a scope (at least one id; `reset()` deletes them all)."""
        filters = {
            k: v
            for k, v in (("user_id", user_id), ("agent_id", agent_id), ("run_id", run_id))
            if _entity_id(v, k)
        }
        if not filters:
            raise InvalidInput(
                "user_id", None, "delete_all needs user_id, agent_id or run_id (reset(): all)"
            )
        owner, spec = self._read_scope(filters)
        if not isinstance(owner, _Nobody):
            self._delete_where(owner, spec)
        return {"message": "Memories deleted successfully!"}

    def reset(self) -> None:
        """Delete every memory of the facade's kind, of every owner (not the rest of the store)."""
        self._delete_where(ANY, None)
        self._users.clear()

    def _delete_where(self, owner: Any, spec: dict[str, Any] | None) -> None:
        while True:
            batch = self.vault.memories.list(
                owner, kinds=[self.kind], filters=spec, include_expired=True, limit=BATCH,
                track_access=False,
            )  # fmt: skip
            for memory in batch:
                with contextlib.suppress(NotFound):  # deleted meanwhile by someone else
                    self._forget(memory)
            if len(batch) < BATCH:
                return

    # -- reads -------------------------------------------------------------------------------

    def get(self, memory_id: str) -> dict[str, Any] | None:
        """One memory by id, or None."""
        try:
            memory = self.vault.memories.get(memory_id, track_access=False)
        except NotFound:
            return None
        return _item(memory, score=None)

    def get_all(
        self,
        *,
        filters: dict[str, Any] | None = None,
        top_k: int = 20,
        show_expired: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Memories of a scope (`filters` names at least one of user_id, agent_id, run_id),
        newest first, at most `top_k`."""
        _no_entity_kwargs(kwargs, "get_all")
        _check_search_params(None, top_k)
        owner, spec = self._read_scope(filters)
        if isinstance(owner, _Nobody) or top_k == 0:
            return {"results": []}
        found = self.vault.memories.list(
            owner, kinds=[self.kind], filters=spec, include_expired=show_expired, limit=top_k,
            track_access=False,
        )  # fmt: skip
        return {"results": [_item(m) for m in found]}

    def search(
        self,
        query: str,
        *,
        top_k: int = 20,
        filters: dict[str, Any] | None = None,
        threshold: float | None = 0.1,
        rerank: bool = False,
        explain: bool = False,
        reference_date: Any = None,
        show_expired: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Memories of a scope most similar to `query`, best first: `score` is the cosine
        similarity, and memories below `threshold` are left out.

        As in mem0, `threshold` applies to the vector store's raw score, so its useful range
        depends on the embedder. memvault's default (multilingual e5) puts unrelated texts
        near 0.8 and related ones at 0.83-0.9: thresholds tuned on OpenAI embeddings (mem0's
        default 0.1, or 0.3) filter nothing; use about 0.84-0.86 here, or rank with `top_k`.
        With embeddings turned off, nothing has a vector: the result is empty and a warning
        says why."""
        if reference_date is not None:
            raise InvalidInput("reference_date", reference_date, "a mem0 platform option")
        _no_entity_kwargs(kwargs, "search")
        threshold = 0.1 if threshold is None else threshold
        _check_search_params(threshold, top_k)
        if not isinstance(query, str) or not query.strip():
            raise InvalidInput("query", query, "must be a non-empty string")
        owner, spec = self._read_scope(filters)
        if isinstance(owner, _Nobody) or top_k == 0:
            return {"results": []}
        hits = self.vault.search.memories(
            owner, query.strip(), k=top_k, mode="vector", kinds=[self.kind], filters=spec,
            include_expired=show_expired, min_similarity=threshold, track_access=False,
        )  # fmt: skip
        if not hits and getattr(hits, "notes", None):
            log.warning("search found nothing: %s", "; ".join(hits.notes))
        results = []
        for hit in hits:
            item = _item(hit.item, score=hit.score)
            if explain:
                item["score_details"] = {
                    "semantic_score": hit.score,
                    "final_score": hit.score,
                    "threshold": threshold,
                }
            results.append(item)
        return {"results": results}

    def history(self, memory_id: str) -> list[dict[str, Any]]:
        """The changes of a memory, oldest first, a deleted one's ending in `DELETE` (`[]`
        for an unknown one)."""
        try:
            changes = self.vault.memories.history(memory_id)
        except NotFound:
            return []
        try:
            memory = self.vault.memories.get(memory_id, track_access=False)
            meta, created = memory.metadata, _iso(memory.created_at)
        except NotFound:  # deleted: its history stays; what it showed is in the delete's reason
            meta, created = {}, _iso(changes[0].changed_at)
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                reason = changes[-1].reason or ""
                if reason.startswith(DELETED):
                    meta = json.loads(reason[len(DELETED) :])
                    created = str(meta.get("created_at") or created)
        events = {"create": "ADD", "update": "UPDATE", "delete": "DELETE"}
        return [
            {
                "id": change.id,
                "memory_id": change.memory_id,
                "old_memory": change.old_content,
                "new_memory": change.new_content,
                "event": events[change.op],
                "created_at": created,
                "updated_at": created if change.op == "create" else _iso(change.changed_at),
                "is_deleted": change.op == "delete",
                "actor_id": None if change.op == "delete" else meta.get("actor_id"),
                "role": None if change.op == "delete" else meta.get("role"),
            }
            for change in changes
        ]

    def _owner(self, user_id: str | None, *, create: bool) -> str | _Nobody | None:
        """The memvault owner of a mem0 user_id: its user (created by a write), or the base
        layer (None) when there is no user_id."""
        if not user_id:
            return None
        known = self._users.get(user_id)
        if known is not None:
            return known
        try:
            user = (
                self.vault.users.ensure(user_id)
                if create
                else self.vault.users.get_by_handle(user_id)
            )
        except NotFound:
            return _NOBODY
        self._users[user_id] = user.id
        return user.id

    def _read_scope(
        self, filters: Mapping[str, Any] | None
    ) -> tuple[str | _Nobody | None, dict[str, Any] | None]:
        """The owner and memvault filters of a mem0 read's `filters`."""
        if not isinstance(filters, Mapping) or not any(
            filters.get(k) is not None for k in ENTITY_KEYS
        ):
            raise InvalidInput(
                "filters",
                filters,
                "must contain at least one of user_id, agent_id, run_id, "
                "e.g. filters={'user_id': 'u1'}",
            )
        rest = dict(filters)
        ids = {k: _entity_id(rest.pop(k, None), k) for k in ENTITY_KEYS}
        owner = self._owner(ids["user_id"], create=False)
        spec: dict[str, Any] = {
            f"metadata.{k}": ids[k] for k in ("agent_id", "run_id") if ids[k] is not None
        }
        if rest.get("actor_id") is not None:
            spec["metadata.actor_id"] = rest.pop("actor_id")
        conditions = _filters(rest)
        if conditions:
            spec = {"and": [spec, conditions]} if spec else conditions
        return owner, spec or None

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the vault if this Memory opened it."""
        if self._owns_vault:
            self.vault.close()

    def __enter__(self) -> Memory:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def chat(self, query: str) -> Any:
        """Not implemented, as in mem0."""
        raise NotImplementedError("Chat function not implemented yet.")


class AsyncMemory:
    """mem0's `AsyncMemory`: the same calls as `Memory`, awaited.

    Its methods are derived from `Memory`'s (same names, signatures and docstrings; a test
    keeps them equal) and run on a `memvault.aio.AsyncVault`'s bounded thread pool: each
    call embeds text (CPU work, best off the loop) and makes a few vault calls, so it is one
    thread hop, and the event loop never waits. `vault`: a URL, a `Vault`, or an
    `AsyncVault` whose pool to share; `workers`: the pool's threads when this makes one.
    Other parameters as `Memory`'s."""

    def __init__(
        self,
        vault: Vault | AsyncVault | str | None = None,
        *,
        extractor: Extractor | None = None,
        embedder: Any = None,
        kind: str = "fact",
        workers: int = 4,
    ) -> None:
        shared = vault if isinstance(vault, AsyncVault) else None
        where = vault.sync if isinstance(vault, AsyncVault) else vault
        sync = Memory(where, extractor=extractor, embedder=embedder, kind=kind)
        self._attach(sync, shared, workers)

    def _attach(self, sync: Memory, shared: AsyncVault | None, workers: int) -> None:
        self.sync = sync
        self._owns_aio = shared is None
        self.aio = shared or AsyncVault(sync.vault, workers=workers, close_vault=False)

    @classmethod
    def from_config(cls, config_dict: Mapping[str, Any]) -> AsyncMemory:
        """An AsyncMemory from a dict (see `Memory.from_config`)."""
        memory = cls.__new__(cls)
        memory._attach(Memory.from_config(config_dict), None, 4)
        return memory

    @property
    def vault(self) -> Vault:
        return self.sync.vault

    def close(self) -> None:
        """See `Memory.close`; stops the thread pool this AsyncMemory made."""
        if self._owns_aio:
            self.aio.close()
        self.sync.close()

    async def __aenter__(self) -> AsyncMemory:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Not on the pool `close` shuts down: a thread of its own.
        await asyncio.to_thread(self.close)

    async def chat(self, query: str) -> Any:
        """Not implemented, as in mem0."""
        raise NotImplementedError("Chat function not implemented yet.")

    if TYPE_CHECKING:  # the awaited methods below are made from Memory's

        def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]: ...


# `Memory`'s calls that `AsyncMemory` awaits: every public method but these.
NOT_AWAITED: Final = frozenset({"close", "chat", "from_config"})


def _awaited(name: str) -> Callable[..., Awaitable[Any]]:
    method = getattr(Memory, name)

    @functools.wraps(method)
    async def call(self: AsyncMemory, *args: Any, **kwargs: Any) -> Any:
        return await self.aio.run(getattr(self.sync, name), *args, **kwargs)

    call.__signature__ = inspect.signature(method)  # type: ignore[attr-defined]
    return call


AWAITED: Final = tuple(
    sorted(
        n
        for n, v in vars(Memory).items()
        if inspect.isfunction(v) and not n.startswith("_") and n not in NOT_AWAITED
    )
)
for _name in AWAITED:
    setattr(AsyncMemory, _name, _awaited(_name))


# -- shapes ----------------------------------------------------------------------------------


def _iso(when: datetime) -> str:
    return when.isoformat()


def _item(memory: StoredMemory, *, score: float | object | None = _UNSET) -> dict[str, Any]:
    """A memory as mem0 returns it: `score` only where mem0 has one (None for `get`, absent
    from `get_all`), identity keys beside `metadata`, `metadata` None when nothing is left."""
    item: dict[str, Any] = {
        "id": memory.id,
        "memory": memory.content,
        "hash": hashlib.md5(memory.content.encode(), usedforsecurity=False).hexdigest(),
        "metadata": None,
    }
    if score is not _UNSET:
        item["score"] = score
    item["created_at"] = _iso(memory.created_at)
    item["updated_at"] = _iso(memory.updated_at)
    rest = dict(memory.metadata)
    for key in PROMOTED_KEYS:
        if key in rest:
            item[key] = rest.pop(key)
    if rest:
        item["metadata"] = rest
    return item


def _entity_id(value: Any, name: str) -> str | None:
    """mem0's id rules: None, or a non-empty string (numbers are coerced) without spaces."""
    if value is None:
        return None
    text = str(value)  # not stripped: " bob " is not bob, as everywhere in memvault
    if not text or any(c.isspace() for c in text):
        raise InvalidInput(name, value, "must be a non-empty identifier without whitespace")
    return text


def _without_identity(metadata: Mapping[str, Any] | None, field: str) -> dict[str, Any]:
    """Caller metadata without the identity keys, which only the id parameters set."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidInput(field, metadata, "expected a dict")
    dropped = IDENTITY_KEYS & metadata.keys()
    if dropped:
        log.warning("ignoring metadata %s: identity is set by user_id/agent_id/run_id", dropped)
    return {k: v for k, v in metadata.items() if k not in IDENTITY_KEYS}


def _messages(messages: Any) -> list[Any]:
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    if isinstance(messages, dict):
        return [messages]
    if isinstance(messages, list):
        return messages
    raise InvalidInput("messages", type(messages).__name__, "must be a str, a dict or a list")


def _expiry(value: Any) -> tuple[str, datetime] | None:
    """mem0's `expiration_date` (a date, datetime or YYYY-MM-DD) as (the date's text, the
    moment it ends): mem0 hides a memory once the date has passed."""
    if value is None:
        return None
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    elif isinstance(value, str):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise InvalidInput("expiration_date", value, "expected YYYY-MM-DD") from None
    else:
        raise InvalidInput("expiration_date", value, "expected YYYY-MM-DD")
    end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return day.isoformat(), end


def _facts(raw: Any) -> list[tuple[str, str | None]]:
    """The facts an extractor returned: texts, `{"text", "attributed_to"}` dicts, or mem0's
    `{"memory": [...]}` answer (a dict or its JSON text)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise InvalidInput("extractor", raw[:80], "returned text that is not JSON") from None
    if isinstance(raw, Mapping):
        raw = raw.get("memory", raw.get("facts", []))
    if not isinstance(raw, list):
        raise InvalidInput("extractor", type(raw).__name__, "must return a list of facts")
    facts = []
    for fact in raw:
        text: Any
        who: Any
        if isinstance(fact, str):
            text, who = fact, None
        elif isinstance(fact, Mapping):
            text, who = fact.get("text"), fact.get("attributed_to")
        else:
            raise InvalidInput("extractor", fact, "a fact is a string or a {'text': ...} dict")
        if isinstance(text, str) and text.strip():
            facts.append((text, who if isinstance(who, str) else None))
    return facts


def _no_entity_kwargs(kwargs: Mapping[str, Any], method: str) -> None:
    """mem0 reads take the scope in `filters` only."""
    entity = sorted(set(ENTITY_KEYS) & kwargs.keys())
    if entity:
        raise InvalidInput(
            entity[0], kwargs[entity[0]], f"{method}() takes it in filters={{'{entity[0]}': ...}}"
        )
    if kwargs:
        raise TypeError(f"{method}() got unexpected keyword arguments {sorted(kwargs)}")


def _check_search_params(threshold: float | None, top_k: int) -> None:
    if threshold is not None and (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not 0 <= threshold <= 1
    ):
        raise InvalidInput("threshold", threshold, "must be a number between 0 and 1")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0:
        raise InvalidInput("top_k", top_k, "must be a non-negative integer")


def _filters(spec: Mapping[str, Any]) -> dict[str, Any]:
    """mem0's metadata filters as memvault filters (`memvault.filters`), ANDed."""
    parts: list[dict[str, Any]] = []
    for key, value in spec.items():
        if key in ("AND", "OR"):
            if not isinstance(value, list) or not value:
                raise InvalidInput("filters", {key: value}, f"{key} takes a non-empty list")
            parts.append({key.lower(): [_filters(part) for part in value]})
        elif key == "NOT" or value == "*":
            raise InvalidInput("filters", {key: value}, "NOT and '*' are not supported")
        elif isinstance(value, Mapping):
            for op, operand in value.items():
                if op not in FILTER_OPS:
                    raise InvalidInput("filters", {key: value}, f"operator {op!r} is not supported")
                parts.append({f"metadata.{key}": {FILTER_OPS[op]: operand}})
        else:
            parts.append({f"metadata.{key}": value})
    if len(parts) == 1:
        return parts[0]
    return {"and": parts} if parts else {}
