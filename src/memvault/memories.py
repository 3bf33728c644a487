"""Memories (facts, preferences, events, summaries, …) with their history and access tracking.

A memory with no owner belongs to the shared base layer. Reads are scoped to one owner; a
*layered* read returns the user's layer first, then the base layer. The same content added
twice for one owner and kind is stored once (content hash) unless the caller turns that off
(`dedupe=False`, or a memory written by key). A memory may carry a key of the
caller's choosing, unique per owner. Every change — the delete included — is recorded in
`memory_history` in the same transaction as the change, and the history outlives the memory.
A memory may expire at a fixed time (`expires_at`) or slide (`ttl`: each refreshing read
pushes the expiry back).
"""

from __future__ import annotations

import builtins
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache
from types import ModuleType
from typing import Any, Literal

from memvault import scope
from memvault import validate as v
from memvault.domain import Domain, insert_sql, key_prefix_sql
from memvault.errors import Conflict, Duplicate, InvalidInput, NotFound, StoreBusy
from memvault.filters import compile_filters
from memvault.ids import new_id
from memvault.records import Memory, MemoryChange
from memvault.scope import ANY, Owner
from memvault.store.base import Row, Tx
from memvault.store.rows import columns, row_decoder
from memvault.store.vocab import MEMORY_KINDS

MEMORY_COLUMNS = columns(Memory, without=("access_count", "last_accessed_at"))
HISTORY_COLUMNS = (
    "id", "memory_id", "user_id", "op", "old_content", "new_content", "changes", "reason",
    "changed_at",
)  # fmt: skip
UNSET: Any = object()
Dedupe = bool | Literal["raise"]
# What put_many takes per item, besides key, kind and content (all optional).
PUT_FIELDS = frozenset({
    "key", "kind", "content", "context", "confidence", "importance", "metadata",
    "expires_at", "ttl", "session_id", "message_id", "embedding", "embedding_model",
})  # fmt: skip


def content_hash(content: str) -> str:
    """The de-duplication key: SHA-256 of the text with case and spacing folded."""
    folded = " ".join(content.split()).casefold()
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def embed_text(content: str, context: str | None) -> str:
    """The text a memory's vector embeds: its content, then its context when there is one."""
    return content + (f" {context}" if context else "")


memory_from_row = row_decoder(Memory)
change_from_row = row_decoder(MemoryChange)


class Memories(Domain):
    """`vault.memories`: what an assistant has learned, per user and in the shared base."""

    def add(
        self,
        user_id: str | None,
        kind: str,
        content: str,
        *,
        context: str | None = None,
        confidence: float = 1.0,
        importance: float = 0.5,
        session_id: str | None = None,
        message_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        expires_at: datetime | None = None,
        created_at: datetime | None = None,
        embedding: Any = None,
        embedding_model: str | None = None,
        key: str | None = None,
        dedupe: Dedupe = True,
        ttl: timedelta | None = None,
    ) -> Memory:
        """Store a memory for `user_id` (None: the shared base layer).

        `dedupe`: True (default) — the same content (case and spacing folded) already stored
        for this owner and kind is returned instead of a new memory; "raise" — that case
        raises `Duplicate` (a `Conflict`) whose `existing` is the stored memory; False —
        always store a new memory, outside de-duplication for good (later adds never return
        it, `update` never refuses its text).
        `key`: the caller's name for the memory, unique per owner (`by_key`, `put`); a key
        already taken is `Conflict`. A keyed memory is never de-duplicated by content (the
        key is its identity, `dedupe` does not apply): it is stored even when its text is,
        and a later add without a key never returns it — that add stores its own memory.
        `ttl`: a sliding expiry (`expires_at` = now + ttl, pushed back by reads with
        `refresh_ttl=True`); not together with `expires_at`.
        `embedding`: None (default) embeds the content (and context) with the vault's
        embedder when the vault embeds memories on write (`memvault.open(...,
        embed_memories=True)`, the default) and has an embedder; True always embeds (an
        error without an embedder); False stores no vector; or a vector of
        `embedding_model`. The vector is stored in the same transaction as the memory.
        """
        user_id = v.optional_id("user_id", user_id)
        kind = v.choice("kind", kind, MEMORY_KINDS)
        content = v.text("content", content)
        context = v.optional_text("context", context, allow_empty=True)
        confidence = v.unit("confidence", confidence)
        importance = v.unit("importance", importance)
        session_id = v.optional_id("session_id", session_id)
        message_id = v.optional_id("message_id", message_id)
        meta = v.json_object("metadata", metadata)
        key = v.optional_key("key", key)
        if dedupe not in (True, False, "raise"):
            raise InvalidInput("dedupe", dedupe, 'expected True, False or "raise"')
        now = self._now()
        ttl_seconds = _ttl("ttl", ttl)
        expires = _expiry(expires_at, ttl_seconds, now)
        created = v.optional_when("created_at", created_at) or now
        digest = content_hash(content)
        text = embed_text(content, context)
        computed = False  # True: `embedding` is the embedder's vector of `text`
        if embedding is None:
            auto = self._auto_embedder()
            if auto is not None:
                embedding, embedding_model, computed = auto.embed([text])[0], auto.name, True
        elif embedding is True:
            emb = self._vault.search._require_embedder(embedding_model)
            embedding, embedding_model, computed = emb.embed([text])[0], emb.name, True
        elif embedding is False:
            embedding = None
        elif embedding_model is None:
            raise InvalidInput("embedding_model", None, "name the model of the embedding")
        fields = {
            "user_id": user_id, "kind": kind, "content": content, "context": context,
            "confidence": confidence, "importance": importance, "session_id": session_id,
            "message_id": message_id, "content_hash": digest, "key": key,
            "dedupe": bool(dedupe) and key is None, "ttl_seconds": ttl_seconds,
        }  # fmt: skip
        times = {"created_at": created, "updated_at": now, "expires_at": expires}
        if self._store.engine == "postgresql" and session_id is None and message_id is None:
            added = self._add_one(fields, meta, times, embedding, embedding_model, text)
            if added is not None:
                return added
        with self._store.write() as tx:
            self._require_user(tx, user_id)
            self._require_links(tx, user_id, session_id, message_id)
            row = tx.one(
                insert_sql("memories", MEMORY_COLUMNS, "*", conflict=True),
                {
                    **fields,
                    "id": new_id(),
                    "metadata": tx.json(meta),
                    **{name: tx.ts(when) for name, when in times.items()},
                },
            )
            if row is None:  # a unique index refused it: the same content, or the key
                params: dict[str, Any] = {"kind": kind, "h": digest}
                row = (
                    tx.one(
                        scope.where(
                            "SELECT * FROM memories WHERE kind = :kind AND content_hash = :h "
                            "AND dedupe",
                            user_id,
                            params,
                        ),
                        params,
                    )
                    if dedupe and key is None
                    else None
                )
                if row is None:
                    if key is not None and self._key_taken(tx, user_id, key):
                        raise Conflict(f"this owner already has a memory with key {key!r}")
                    raise Conflict("memory de-duplication raced with a delete; retry")
                if dedupe == "raise":
                    raise Duplicate(memory_from_row(tx, row))
                if embedding is not None:
                    self._embed_duplicate(
                        tx, row, embedding, str(embedding_model), text if computed else None
                    )
                return memory_from_row(tx, row)
            memory = memory_from_row(tx, row)
            if embedding is not None:
                self._vault.embeddings.put_in(
                    tx, "memory", memory.id, user_id, embedding, str(embedding_model), text=text
                )
            self._record(tx, memory.id, user_id, "create", None, content, {}, None)
            self._emit(tx, "memory.added", user_id, {"memory_id": memory.id}, {"kind": kind})
            return memory

    def _add_one(
        self,
        fields: dict[str, Any],
        meta: dict[str, Any],
        times: dict[str, datetime | None],
        embedding: Any,
        model: str | None,
        text: str,
    ) -> Memory | None:
        """PostgreSQL: a new memory, its vector and its history entry in one statement sent
        alone (`Store.write_one`, `ADD_ONE`): one round trip instead of seven (BEGIN, the
        owner check, the memory, the model's dimension, the vector, the history, COMMIT). The
        owner check and the dimension check are in the statement; what they find is raised
        after it, nothing having been written. None when a unique index refused the memory
        (the same content, or its key): nothing written, and `add` takes its general path,
        which says which (the stored memory, `Duplicate` or `Conflict`)."""
        from memvault.search import vectors  # numpy: only for a write that stores a vector

        user_id = fields["user_id"]
        vector = None
        if embedding is not None:
            model = vectors.check_model(str(model))
            vector = vectors.as_vector("vector", embedding)
        with self._store.write_one() as tx:
            params: dict[str, Any] = {
                **fields,
                "id": new_id(),
                "metadata": tx.json(meta),
                **{name: tx.ts(when) for name, when in times.items()},
                "h_id": new_id(),
                "h_changes": tx.json({}),
                "h_changed_at": tx.ts(self._now()),
            }
            pgvector = False
            if vector is not None:
                values = vectors.row_params(tx, new_id(), None, None, str(model), vector,
                                            tx.ts(self._now()), text)  # fmt: skip
                params.update({f"e_{name}": value for name, value in values.items()})
                pgvector = "vec" in values
            row = tx.one(_add_one_sql(user_id is not None, vector is not None, pgvector), params)
            assert row is not None  # the statement always answers one row
            if not row["owner_found"]:
                raise NotFound("user", user_id)
            if vector is not None and row["known_dim"] not in (None, vector.size):
                raise vectors.dim_mismatch(str(model), int(row["known_dim"]), vector)
            if row["id"] is None:
                return None
            memory = memory_from_row(tx, row)
            self._emit(tx, "memory.added", user_id, {"memory_id": memory.id},
                       {"kind": memory.kind})  # fmt: skip
            return memory

    def put(
        self,
        user_id: str | None,
        key: str,
        kind: str,
        content: str,
        *,
        context: str | None = None,
        confidence: float = 1.0,
        importance: float = 0.5,
        metadata: dict[str, Any] | None = None,
        expires_at: datetime | None = None,
        ttl: timedelta | None = None,
        session_id: str | None = None,
        message_id: str | None = None,
        embedding: Any = None,
        embedding_model: str | None = None,
        reason: str | None = None,
    ) -> Memory:
        """Write the memory of `user_id` (None: the base layer) named `key`: create it, or
        replace every field listed here of the one already there (metadata replaced
        exactly, not merged; a field not given goes back to its default), recording an
        `update` in its history with `reason` when anything changed.

        A memory written by key is never content-de-duplicated (two keys, the same text:
        two memories) and its text never clashes (no `Conflict`). Its vector follows its
        text as in `add` (`embedding`: None, True, False or a vector of `embedding_model`);
        an unchanged text keeps its vector."""
        item = {
            "key": key, "kind": kind, "content": content, "context": context,
            "confidence": confidence, "importance": importance, "metadata": metadata,
            "expires_at": expires_at, "ttl": ttl, "session_id": session_id,
            "message_id": message_id, "embedding": embedding, "embedding_model": embedding_model,
        }  # fmt: skip
        return self._put(user_id, [item], reason, named=False)[0]

    def put_many(
        self,
        user_id: str | None,
        items: Iterable[Mapping[str, Any]],
        *,
        reason: str | None = None,
    ) -> builtins.list[Memory]:
        """`put` for many memories of one owner in one write transaction (all or none), in
        order; returns the memories as written, one per item. Each item is a mapping with
        `key`, `kind`, `content` and optionally put's other keywords (context, confidence,
        importance, metadata, expires_at, ttl, session_id, message_id, embedding,
        embedding_model); a bad one is `InvalidInput` naming it (`items[3].kind`). The same
        key twice: the later item wins. Texts are embedded in one batch before the write."""
        return self._put(user_id, list(items), reason, named=True)

    def _put(
        self,
        user_id: str | None,
        items: builtins.list[Mapping[str, Any]],
        reason: str | None,
        *,
        named: bool,
    ) -> builtins.list[Memory]:
        user_id = v.optional_id("user_id", user_id)
        reason = v.optional_text("reason", reason, allow_empty=True)
        now = self._now()
        specs = [_put_spec(f"items[{i}]." if named else "", item, now)
                 for i, item in enumerate(items)]  # fmt: skip
        if not specs:
            return []
        self._embed_specs(user_id, specs)
        out: builtins.list[Memory] = []
        with self._store.write() as tx:
            self._require_user(tx, user_id)
            stored = self._stored_keys(tx, user_id, [s["key"] for s in specs])
            run: builtins.list[dict[str, Any]] = []  # consecutive items naming new keys
            for spec in specs:
                if spec["key"] not in stored:
                    stored.add(spec["key"])  # a later item with this key updates it
                    run.append(spec)
                    continue
                out += self._put_new(tx, user_id, run, now, reason)
                run = []
                self._require_links(tx, user_id, spec["session_id"], spec["message_id"])
                out.append(self._put_one(tx, user_id, spec, now, reason))
            out += self._put_new(tx, user_id, run, now, reason)
        return out

    def _stored_keys(self, tx: Tx, user_id: str | None, keys: builtins.list[str]) -> set[str]:
        """Which of `keys` name a memory of `user_id` (None: the base layer) already."""
        found: set[str] = set()
        for i in range(0, len(keys), 500):
            params: dict[str, Any] = {}
            listed = tx.expand("k", keys[i : i + 500], params)
            sql = scope.where(f"SELECT key FROM memories WHERE key IN ({listed})", user_id, params)
            found.update(r["key"] for r in tx.all(sql, params))
        return found

    def _put_new(
        self,
        tx: Tx,
        user_id: str | None,
        specs: builtins.list[dict[str, Any]],
        now: datetime,
        reason: str | None,
    ) -> builtins.list[Memory]:
        """`_put_one` for items whose keys are not stored, in a few statements for all of
        them (memories, vectors, history) instead of four per item; the same rows, history
        and events, in the same order. Each item is checked (links, vector) in order before
        anything is written, so the first bad one raises what `_put_one` would have."""
        if not specs:
            return []
        vectors = _vectors() if any(s.get("vector") is not None for s in specs) else None
        dims: dict[str, int | None] = {}
        for spec in specs:
            self._require_links(tx, user_id, spec["session_id"], spec["message_id"])
            if vectors is not None and spec.get("vector") is not None:
                model = vectors.check_model(str(spec["model"]))
                vector = vectors.as_vector("vector", spec["vector"])
                dim = dims[model] if model in dims else vectors.model_dim(tx, model)
                if dim is not None and dim != vector.size:
                    raise vectors.dim_mismatch(model, dim, vector)
                dims[model] = vector.size
                spec["vector"], spec["model"] = vector, model
        created = tx.ts(now)
        rows = [
            {**self._values(tx, spec, now), "id": new_id(), "user_id": user_id,
             "created_at": created, "key": spec["key"], "dedupe": False}
            for spec in specs
        ]  # fmt: skip
        tx.insert_new("memories", MEMORY_COLUMNS, rows)
        by_id: dict[str, Row] = {}
        for i in range(0, len(rows), 500):
            params: dict[str, Any] = {}
            listed = tx.expand("i", [r["id"] for r in rows[i : i + 500]], params)
            for row in tx.all(f"SELECT * FROM memories WHERE id IN ({listed})", params):
                by_id[str(tx.id_out(row["id"]))] = row
        made = [(s, memory_from_row(tx, by_id[r["id"]])) for s, r in zip(specs, rows, strict=True)
                if r["id"] in by_id]  # fmt: skip
        stamp = tx.ts(self._vault.clock())
        if vectors is not None:
            vectors.put_many(tx, "memory", [
                vectors.row_params(tx, new_id(), user_id, m.id, s["model"], s["vector"], stamp,
                                   s["text"])
                for s, m in made if s.get("vector") is not None
            ])  # fmt: skip
        tx.executemany(insert_sql("memory_history", HISTORY_COLUMNS), [
            self._history_row(tx, m.id, user_id, "create", None, m.content, {}, reason)
            for _, m in made
        ])  # fmt: skip
        for _, m in made:
            self._emit(tx, "memory.added", user_id, {"memory_id": m.id}, {"kind": m.kind})
        if len(made) == len(specs):
            return [m for _, m in made]
        # A key written by another transaction since `_stored_keys` (PostgreSQL's concurrent
        # writers): that item replaces the memory now stored, as `_put_one` does.
        written = {id(s): m for s, m in made}
        return [written.get(id(s)) or self._put_one(tx, user_id, s, now, reason) for s in specs]

    @staticmethod
    def _values(tx: Tx, spec: dict[str, Any], now: datetime) -> dict[str, Any]:
        """The columns a put writes, created or replaced."""
        return {
            "kind": spec["kind"], "content": spec["content"], "context": spec["context"],
            "confidence": spec["confidence"], "importance": spec["importance"],
            "session_id": spec["session_id"], "message_id": spec["message_id"],
            "content_hash": content_hash(spec["content"]), "metadata": tx.json(spec["metadata"]),
            "updated_at": tx.ts(now), "expires_at": tx.ts(spec["expires_at"]),
            "ttl_seconds": spec["ttl_seconds"],
        }  # fmt: skip

    def _embed_specs(self, user_id: str | None, specs: builtins.list[dict[str, Any]]) -> None:
        """Give each spec its vector (`vector`, `model`) before the write transaction: the
        caller's, or the embedder's for a text not already stored under that key."""
        stored: dict[str, str] = {}
        wanted = [s for s in specs if s["embedding"] is None or s["embedding"] is True]
        auto = self._auto_embedder()
        if any(s["embedding"] is None for s in wanted) and auto is not None:
            keys = [s["key"] for s in wanted]
            with self._store.read() as tx:
                for i in range(0, len(keys), 500):
                    params: dict[str, Any] = {}
                    listed = tx.expand("k", keys[i : i + 500], params)
                    sql = scope.where(
                        f"SELECT key, content, context FROM memories WHERE key IN ({listed})",
                        user_id, params,
                    )  # fmt: skip
                    for r in tx.all(sql, params):
                        stored[r["key"]] = embed_text(r["content"], r["context"])
        batches: dict[Any, builtins.list[dict[str, Any]]] = {}
        for spec in specs:
            mode = spec["embedding"]
            if mode is False:
                continue
            if mode is None:
                if auto is None or stored.get(spec["key"]) == spec["text"]:
                    continue  # no embedder, or the stored text (and its vector) unchanged
                batches.setdefault(auto, []).append(spec)
            elif mode is True:
                emb = self._vault.search._require_embedder(spec["embedding_model"])
                batches.setdefault(emb, []).append(spec)
            else:
                spec["vector"], spec["model"] = mode, spec["embedding_model"]
        for emb, group in batches.items():
            vectors = emb.embed([s["text"] for s in group])
            for spec, vector in zip(group, vectors, strict=True):
                spec["vector"], spec["model"] = vector, emb.name

    def _put_one(
        self,
        tx: Tx,
        user_id: str | None,
        spec: dict[str, Any],
        now: datetime,
        reason: str | None,
    ) -> Memory:
        values = self._values(tx, spec, now)
        row = tx.one(
            insert_sql("memories", MEMORY_COLUMNS, "*", conflict=True),
            {
                **values,
                "id": new_id(),
                "user_id": user_id,
                "created_at": tx.ts(now),
                "key": spec["key"],
                "dedupe": False,
            },
        )
        if row is not None:
            memory = memory_from_row(tx, row)
            if spec.get("vector") is not None:
                self._vault.embeddings.put_in(tx, "memory", memory.id, user_id, spec["vector"],
                                              str(spec["model"]), text=spec["text"])  # fmt: skip
            self._record(tx, memory.id, user_id, "create", None, memory.content, {}, reason)
            self._emit(tx, "memory.added", user_id, {"memory_id": memory.id},
                       {"kind": memory.kind})  # fmt: skip
            return memory
        params: dict[str, Any] = {"k": spec["key"]}
        row = tx.one(
            scope.where("SELECT * FROM memories WHERE key = :k", user_id, params) + tx.for_update,
            params,
        )
        if row is None:
            raise Conflict(f"memory key {spec['key']!r} raced with a delete; retry")
        old = memory_from_row(tx, row)
        sets = ", ".join(f"{c} = :{c}" for c in values)
        row = tx.returning(
            f"UPDATE memories SET {sets}, dedupe = :dedupe WHERE id = :id RETURNING *",
            {**values, "id": old.id, "dedupe": False},
        )
        memory = memory_from_row(tx, row)
        changes = {
            f: [_jsonable(getattr(old, f)), _jsonable(getattr(memory, f))]
            for f in ("kind", "context", "confidence", "importance", "metadata", "expires_at",
                      "ttl_seconds", "session_id", "message_id")
            if getattr(old, f) != getattr(memory, f)
        }  # fmt: skip
        text_changed = spec["text"] != embed_text(old.content, old.context)
        if text_changed:
            tx.execute("DELETE FROM embeddings WHERE memory_id = :id", {"id": old.id})
        if spec.get("vector") is not None:
            self._vault.embeddings.put_in(tx, "memory", old.id, user_id, spec["vector"],
                                          str(spec["model"]), text=spec["text"])  # fmt: skip
        if old.content != memory.content or changes:
            self._record(tx, old.id, user_id, "update", old.content, memory.content, changes,
                         reason)  # fmt: skip
            self._emit(tx, "memory.updated", user_id, {"memory_id": old.id})
        return memory

    def _key_taken(self, tx: Tx, user_id: str | None, key: str) -> bool:
        params: dict[str, Any] = {"k": key}
        return tx.one(scope.where("SELECT 1 FROM memories WHERE key = :k", user_id, params),
                      params) is not None  # fmt: skip

    def _auto_embedder(self) -> Any:
        """The embedder that writes embed memories with by default: the vault's, unless the
        vault was opened with `embed_memories=False` or has none (None then)."""
        if not self._vault.embed_memories:
            return None
        return self._vault.search.embedder

    def _embed_duplicate(
        self, tx: Tx, row: Row, vector: Any, model: str, computed_from: str | None
    ) -> None:
        """`add` found the memory already stored (same content up to case and spacing).

        A vector given by the caller replaces the stored one, as before. A vector computed
        from the new text is only kept when the memory has none for `model` yet, and only if
        it embeds the stored text (the stored row keeps its own spelling); otherwise the
        stored text is embedded, so that the vector always belongs to the row's text."""
        memory_id = str(row["id"])
        stored = embed_text(row["content"], row["context"])
        if computed_from is not None:
            if tx.one(
                "SELECT 1 FROM embeddings WHERE memory_id = :id AND model = :m",
                {"id": memory_id, "m": model},
            ):
                return
            if computed_from != stored:
                vector = self._vault.search._require_embedder(model).embed([stored])[0]
        self._vault.embeddings.put_in(
            tx, "memory", memory_id, tx.id_out(row["user_id"]), vector, model, text=stored
        )

    def _require_links(
        self, tx: Tx, user_id: str | None, session_id: str | None, message_id: str | None
    ) -> None:
        if session_id is not None:
            # Another user's id answers as an unknown one (no confirmation that it exists).
            row = tx.one("SELECT user_id FROM sessions WHERE id = :s", {"s": session_id})
            if row is None or (
                user_id is not None and tx.id_out(row["user_id"]) not in (user_id, None)
            ):
                raise NotFound("session", session_id)
        if message_id is not None:
            row = tx.one("SELECT user_id FROM messages WHERE id = :m", {"m": message_id})
            if row is None or (
                user_id is not None and tx.id_out(row["user_id"]) not in (user_id, None)
            ):
                raise NotFound("message", message_id)

    def _record(
        self,
        tx: Tx,
        memory_id: str,
        user_id: str | None,
        op: str,
        old: str | None,
        new: str | None,
        changes: dict[str, Any],
        reason: str | None,
    ) -> None:
        tx.execute(
            insert_sql("memory_history", HISTORY_COLUMNS),
            self._history_row(tx, memory_id, user_id, op, old, new, changes, reason),
        )

    def _history_row(
        self,
        tx: Tx,
        memory_id: str,
        user_id: str | None,
        op: str,
        old: str | None,
        new: str | None,
        changes: dict[str, Any],
        reason: str | None,
    ) -> dict[str, Any]:
        return {
            "id": new_id(),
            "memory_id": memory_id,
            "user_id": user_id,
            "op": op,
            "old_content": old,
            "new_content": new,
            "changes": tx.json(changes),
            "reason": reason,
            "changed_at": tx.ts(self._now()),
        }

    def get(
        self,
        memory_id: str,
        *,
        user_id: Owner = ANY,
        layered: bool = False,
        track_access: bool = True,
        refresh_ttl: bool = False,
    ) -> Memory:
        """A memory by id, visible to `user_id` (and the base layer when `layered`), expired
        or not. `refresh_ttl`: a memory with a `ttl` gets `expires_at` = now + ttl."""
        memory_id = v.id_("memory_id", memory_id)
        params: dict[str, Any] = {"id": memory_id}
        cond = scope.where("id = :id", user_id, params, layered=layered)
        if refresh_ttl:
            found = self._read(f"SELECT * FROM memories WHERE {cond}", params, track_access, True)
            if not found:
                raise NotFound("memory", memory_id)
            return found[0]
        if not track_access:
            with self._store.read() as tx:
                row = tx.one(f"SELECT * FROM memories WHERE {cond}", params)
                if row is None:
                    raise NotFound("memory", memory_id)
                return memory_from_row(tx, row)
        with self._store.write() as tx:
            params["now"] = tx.ts(self._now())
            row = tx.one(
                "UPDATE memories SET access_count = access_count + 1, last_accessed_at = :now "
                f"WHERE {cond} RETURNING *",
                params,
            )
            if row is None:
                raise NotFound("memory", memory_id)
            return memory_from_row(tx, row)

    def by_key(
        self,
        user_id: Owner,
        key: str,
        *,
        include_expired: bool = False,
        refresh_ttl: bool = False,
        track_access: bool = False,
    ) -> Memory | None:
        """The memory of `user_id` (None: the base layer) with key `key`, or None — also when
        it has expired, unless `include_expired`. With `ANY`, the first by id of any owner.
        `refresh_ttl`: a memory with a `ttl` gets `expires_at` = now + ttl; `track_access`:
        count the read as an access (as `get` does by default)."""
        params: dict[str, Any] = {"k": v.key("key", key)}
        sql = scope.where("SELECT * FROM memories WHERE key = :k", user_id, params)
        if not include_expired:
            params["now"] = None  # set by _read, in its transaction
            sql += " AND (expires_at IS NULL OR expires_at > :now)"
        found = self._read(sql + " ORDER BY id LIMIT 1", params, track_access, refresh_ttl)
        return found[0] if found else None

    def _read(
        self, sql: str, params: dict[str, Any], track_access: bool, refresh_ttl: bool
    ) -> builtins.list[Memory]:
        """Run a SELECT of memories (`:now`, when bound to None, is set to the time), then
        record the access and/or refresh the sliding expiries, in one transaction."""
        with self._store.write() if refresh_ttl else self._store.read() as tx:
            if "now" in params and params["now"] is None:
                params["now"] = tx.ts(self._now())
            memories = [memory_from_row(tx, r) for r in tx.all(sql, params)]
            if refresh_ttl:
                memories = self._refresh(tx, memories)
                if track_access:
                    memories = self.touch(tx, memories)
        if track_access and not refresh_ttl:
            memories = self.touch_if_free(memories)
        return memories

    def touch_if_free(self, memories: Sequence[Memory]) -> builtins.list[Memory]:
        """Record one access of each memory when the write lock is free at once; a read
        never waits for another writer for this bookkeeping (the memories come back
        unchanged when the lock is taken)."""
        if not memories:
            return []
        try:
            with self._store.write(wait=False) as tx:
                return self.touch(tx, memories)
        except StoreBusy:
            return builtins.list(memories)

    def _refresh(self, tx: Tx, memories: Sequence[Memory]) -> builtins.list[Memory]:
        """Push back the expiry of each memory that has a ttl: now + ttl (no history entry,
        `updated_at` unchanged: a read, not a change)."""
        now = self._now()
        by_ttl: dict[float, builtins.list[str]] = {}
        for m in memories:
            if m.ttl_seconds is not None:
                by_ttl.setdefault(m.ttl_seconds, []).append(m.id)
        for seconds, ids in by_ttl.items():
            params: dict[str, Any] = {"e": tx.ts(now + timedelta(seconds=seconds))}
            listed = tx.expand("id", ids, params)
            tx.execute(f"UPDATE memories SET expires_at = :e WHERE id IN ({listed})", params)
        return [
            m
            if m.ttl_seconds is None
            else replace(m, expires_at=now + timedelta(seconds=m.ttl_seconds))
            for m in memories
        ]

    def extend(
        self, memory_id: str, by: timedelta | None = None, *, user_id: Owner = ANY
    ) -> Memory:
        """Push one memory's expiry to now + `by` (None: now + its ttl; InvalidInput when it
        has none). A read's bookkeeping, like an access: no history entry."""
        memory_id = v.id_("memory_id", memory_id)
        seconds = _ttl("by", by)
        params: dict[str, Any] = {"id": memory_id}
        with self._store.write() as tx:
            row = tx.one(scope.where("SELECT * FROM memories WHERE id = :id", user_id, params),
                         params)  # fmt: skip
            if row is None:
                raise NotFound("memory", memory_id)
            memory = memory_from_row(tx, row)
            seconds = seconds if seconds is not None else memory.ttl_seconds
            if seconds is None:
                raise InvalidInput("by", None, f"memory {memory_id} has no ttl: say how long")
            expires = self._now() + timedelta(seconds=seconds)
            tx.execute(
                "UPDATE memories SET expires_at = :e WHERE id = :id",
                {"e": tx.ts(expires), "id": memory_id},
            )
            return replace(memory, expires_at=expires)

    def list(
        self,
        user_id: Owner,
        *,
        kinds: Iterable[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        min_confidence: float | None = None,
        layered: bool = False,
        include_expired: bool = False,
        session_id: str | None = None,
        filters: Any = None,
        key_prefix: str | None = None,
        keys: Iterable[str] | None = None,
        limit: int = 100,
        offset: int = 0,
        track_access: bool = True,
        refresh_ttl: bool = False,
    ) -> builtins.list[Memory]:
        """Memories of `user_id` (None: base layer), newest first; with `layered`, the
        user's layer first, then the base layer.

        `filters`: the filter language of `memvault.filters` on `metadata.<key>` and
        the columns (kind, content, confidence, key, created_at, …) with eq, ne, gt, gte,
        lt, lte, in, contains — or `$eq`, `$ne`, … and `$and`/`$or` — e.g.
        `{"metadata.topic": "food", "importance": {"$gte": 0.7}}`. `key_prefix`: only the
        memories whose key starts with it, matched literally (`""`: every keyed memory);
        `keys`: only those keys. `refresh_ttl`: each returned memory with a `ttl` gets
        `expires_at` = now + ttl."""
        params: dict[str, Any] = {
            "limit": v.integer("limit", limit, minimum=1),
            "offset": v.integer("offset", offset, minimum=0),
        }
        where = [scope.clause(user_id, params, layered=layered)]
        with self._store.read() as tx:
            where += self._filters(tx, params, kinds, since, until, min_confidence, session_id)
            where += _key_filters(tx, params, key_prefix, keys)
            where.append(compile_filters(tx, "memories", filters, params, alias="memories"))
            if not include_expired:
                params["now"] = tx.ts(self._now())
                where.append("(expires_at IS NULL OR expires_at > :now)")
        clause = " AND ".join(w for w in where if w) or "1 = 1"
        layer_order = "CASE WHEN user_id IS NULL THEN 1 ELSE 0 END, " if layered else ""
        sql = (
            f"SELECT * FROM memories WHERE {clause} "
            f"ORDER BY {layer_order}created_at DESC, id DESC LIMIT :limit OFFSET :offset"
        )
        return self._read(sql, params, track_access, refresh_ttl)

    def _filters(
        self,
        tx: Tx,
        params: dict[str, Any],
        kinds: Iterable[str] | None,
        since: datetime | None,
        until: datetime | None,
        min_confidence: float | None,
        session_id: str | None,
    ) -> builtins.list[str]:
        where = []
        if kinds is not None:
            kind_list = [v.choice("kinds", k, MEMORY_KINDS) for k in kinds]
            where.append(f"kind IN ({tx.expand('kind', kind_list, params)})")
        if since is not None:
            params["since"] = tx.ts(v.when("since", since))
            where.append("created_at >= :since")
        if until is not None:
            params["until"] = tx.ts(v.when("until", until))
            where.append("created_at < :until")
        if min_confidence is not None:
            params["min_conf"] = v.unit("min_confidence", min_confidence)
            where.append("confidence >= :min_conf")
        if session_id is not None:
            params["session_id"] = v.id_("session_id", session_id)
            where.append("session_id = :session_id")
        return where

    def touch(self, tx: Tx, memories: Sequence[Memory]) -> builtins.list[Memory]:
        """Record one access of each memory (inside the caller's write transaction)."""
        if not memories:
            return []
        params: dict[str, Any] = {"now": tx.ts(self._now())}
        ids = tx.expand("id", [m.id for m in memories], params)
        tx.execute(
            "UPDATE memories SET access_count = access_count + 1, last_accessed_at = :now "
            f"WHERE id IN ({ids})",
            params,
        )
        now = self._now()
        return [replace(m, access_count=m.access_count + 1, last_accessed_at=now) for m in memories]

    def update(
        self,
        memory_id: str,
        *,
        content: str | None = None,
        context: str | None = UNSET,
        confidence: float | None = None,
        importance: float | None = None,
        metadata: dict[str, Any] | None = None,
        expires_at: datetime | None = UNSET,
        reason: str | None = None,
        user_id: Owner = ANY,
        embedding: bool | None = None,
        ttl: timedelta | None = UNSET,
    ) -> Memory:
        """Change a memory; the change (old text, new text, other fields, reason, time) is
        recorded in its history in the same transaction. `ttl`: a new sliding expiry
        (expires_at = now + ttl unless `expires_at` is given too), or None to drop it.

        When the embedded text (content and context) changes, the memory's vectors change
        with it in the same transaction: vectors of other models are dropped (they embed
        the old text; `search.missing` then counts them and `memvault embed` repairs them)
        and the vault's embedder re-embeds the new text (`embedding=None`: when the vault
        embeds memories on write; True: always; False: never, the vector is only dropped)."""
        memory_id = v.id_("memory_id", memory_id)
        reason = v.optional_text("reason", reason, allow_empty=True)
        new: dict[str, Any] = {}
        if content is not None:
            new["content"] = v.text("content", content)
        if context is not UNSET:
            new["context"] = v.optional_text("context", context, allow_empty=True)
        if confidence is not None:
            new["confidence"] = v.unit("confidence", confidence)
        if importance is not None:
            new["importance"] = v.unit("importance", importance)
        if metadata is not None:
            new["metadata"] = v.json_object("metadata", metadata)
        if expires_at is not UNSET:
            new["expires_at"] = v.optional_when("expires_at", expires_at)
        if ttl is not UNSET:
            new["ttl_seconds"] = _ttl("ttl", ttl)
            if new["ttl_seconds"] is not None and "expires_at" not in new:
                new["expires_at"] = self._now() + timedelta(seconds=new["ttl_seconds"])
        params: dict[str, Any] = {"id": memory_id}
        select = scope.where("SELECT * FROM memories WHERE id = :id", user_id, params)
        emb: Any = None
        ready: tuple[str, Any] | None = None  # (text, vector) computed before the write lock
        if "content" in new or "context" in new:
            emb = (
                self._vault.search._require_embedder(None)
                if embedding is True
                else None
                if embedding is False
                else self._auto_embedder()
            )
            if emb is not None:  # embed outside the write transaction: it takes ~10 ms
                with self._store.read() as tx:
                    row = tx.one(select, params)
                if row is not None:
                    text = embed_text(
                        new.get("content", row["content"]), new.get("context", row["context"])
                    )
                    ready = (text, emb.embed([text])[0])
        with self._store.write() as tx:
            row = tx.one(select, params)
            if row is None:
                raise NotFound("memory", memory_id)
            old = memory_from_row(tx, row)
            values: dict[str, Any] = {"id": memory_id, "now": tx.ts(self._now())}
            sets = ["updated_at = :now"]
            changes: dict[str, Any] = {}
            for field, value in new.items():
                before = getattr(old, field)
                if before == value:
                    continue
                if field != "content":
                    changes[field] = [_jsonable(before), _jsonable(value)]
                values[field] = (
                    tx.json(value)
                    if field == "metadata"
                    else tx.ts(value)
                    if field == "expires_at"
                    else value
                )
                sets.append(f"{field} = :{field}")
            content_changed = "content" in values
            if content_changed:
                values["content_hash"] = digest = content_hash(values["content"])
                sets.append("content_hash = :content_hash")
                if old.dedupe:
                    self._refuse_duplicate(tx, old, digest)
            row = tx.returning(
                f"UPDATE memories SET {', '.join(sets)} WHERE id = :id RETURNING *", values
            )
            memory = memory_from_row(tx, row)
            text = embed_text(memory.content, memory.context)
            if text != embed_text(old.content, old.context):
                self._reembed(tx, memory, text, emb, ready)
            if content_changed or changes:
                self._record(
                    tx,
                    memory_id,
                    old.user_id,
                    "update",
                    old.content,
                    memory.content,
                    changes,
                    reason,
                )
                self._emit(tx, "memory.updated", old.user_id, {"memory_id": memory_id})
            return memory

    def _reembed(
        self, tx: Tx, memory: Memory, text: str, emb: Any, ready: tuple[str, Any] | None
    ) -> None:
        """The memory's embedded text changed: no vector may keep embedding the old one."""
        if emb is None:
            tx.execute("DELETE FROM embeddings WHERE memory_id = :id", {"id": memory.id})
            return
        tx.execute(
            "DELETE FROM embeddings WHERE memory_id = :id AND model <> :m",
            {"id": memory.id, "m": emb.name},
        )
        vector = ready[1] if ready is not None and ready[0] == text else emb.embed([text])[0]
        self._vault.embeddings.put_in(
            tx, "memory", memory.id, memory.user_id, vector, emb.name, text=text
        )

    def _refuse_duplicate(self, tx: Tx, old: Memory, digest: str) -> None:
        params: dict[str, Any] = {"kind": old.kind, "h": digest, "id": old.id}
        clash = tx.one(
            scope.where(
                "SELECT id FROM memories WHERE kind = :kind AND content_hash = :h AND dedupe "
                "AND id <> :id",
                old.user_id, params,
            ),
            params,
        )  # fmt: skip
        if clash is not None:
            raise Conflict(f"memory {clash['id']} already holds this content for this owner")

    def delete(self, memory_id: str, *, user_id: Owner = ANY, reason: str | None = None) -> None:
        """Delete a memory and its vectors; its history stays, ending with a `delete` entry
        (the last text as `old_content`, `reason`). `erase_user` removes the history too."""
        memory_id = v.id_("memory_id", memory_id)
        reason = v.optional_text("reason", reason, allow_empty=True)
        params: dict[str, Any] = {"id": memory_id}
        with self._store.write() as tx:
            rows = self._delete_where(tx, scope.where("id = :id", user_id, params), params, reason)
            if not rows:
                raise NotFound("memory", memory_id)

    def delete_many(
        self,
        user_id: Owner,
        *,
        ids: Iterable[str] | None = None,
        keys: Iterable[str] | None = None,
        key_prefix: str | None = None,
        kinds: Iterable[str] | None = None,
        filters: Any = None,
        reason: str | None = None,
    ) -> int:
        """Delete the memories of `user_id` (None: the base layer) that match every selector
        given, in one transaction; returns how many went. Each leaves a `delete` entry in its
        history. Ids or keys that match nothing are not an error. At least one selector is
        required (`filters={}` selects all of the owner's memories); `ANY` (every owner)
        only with `ids` or `keys`."""
        reason = v.optional_text("reason", reason, allow_empty=True)
        if all(x is None for x in (ids, keys, key_prefix, kinds, filters)):
            raise InvalidInput(
                "filters", None, "name what to delete: ids, keys, key_prefix, kinds or filters"
            )
        if user_id is ANY and ids is None and keys is None:
            raise InvalidInput("user_id", "ANY", "deleting across owners needs ids or keys")
        params: dict[str, Any] = {}
        where = [scope.clause(user_id, params)]
        with self._store.write() as tx:
            if ids is not None:
                listed = [v.id_("ids", i) for i in ids]
                where.append(f"id IN ({tx.expand('id', listed, params)})" if listed else "1 = 0")
            where += _key_filters(tx, params, key_prefix, keys)
            where += self._filters(tx, params, kinds, None, None, None, None)
            where.append(compile_filters(tx, "memories", filters, params, alias="memories"))
            clause = " AND ".join(w for w in where if w) or "1 = 1"
            return len(self._delete_where(tx, clause, params, reason))

    def _delete_where(
        self, tx: Tx, clause: str, params: dict[str, Any], reason: str | None
    ) -> builtins.list[Row]:
        """Delete the memories matching `clause`, each with its `delete` history entry and
        event, in the caller's transaction."""
        rows = tx.all(f"DELETE FROM memories WHERE {clause} RETURNING id, user_id, content", params)
        if not rows:
            return rows
        now = tx.ts(self._now())
        tx.executemany(
            insert_sql("memory_history", HISTORY_COLUMNS),
            [
                {
                    "id": new_id(), "memory_id": str(r["id"]), "user_id": tx.id_out(r["user_id"]),
                    "op": "delete", "old_content": r["content"], "new_content": None,
                    "changes": tx.json({}), "reason": reason, "changed_at": now,
                }
                for r in rows
            ],
        )  # fmt: skip
        for r in rows:
            self._emit(tx, "memory.deleted", tx.id_out(r["user_id"]), {"memory_id": str(r["id"])})
        return rows

    def purge_expired(self, user_id: Owner = ANY, *, now: datetime | None = None) -> int:
        """The sweeper: delete the memories whose expiry has passed (of `user_id`, or every
        owner's), with their history and vectors — expiry is retention, nothing is kept.
        Returns how many went."""
        at = v.optional_when("now", now) or self._now()
        params: dict[str, Any] = {}
        owner = scope.clause(user_id, params)
        with self._store.write() as tx:
            params["now"] = tx.ts(at)
            cond = "expires_at IS NOT NULL AND expires_at <= :now" + (
                f" AND {owner}" if owner else ""
            )
            tx.execute(
                "DELETE FROM memory_history WHERE memory_id IN "
                f"(SELECT id FROM memories WHERE {cond})",
                params,
            )
            rows = tx.all(f"DELETE FROM memories WHERE {cond} RETURNING id, user_id", params)
            for r in rows:
                self._emit(tx, "memory.deleted", tx.id_out(r["user_id"]),
                           {"memory_id": str(r["id"])}, {"expired": True})  # fmt: skip
            return len(rows)

    def history(self, memory_id: str, *, user_id: Owner = ANY) -> builtins.list[MemoryChange]:
        """Every recorded change of a memory, oldest first — of a deleted one too, ending
        with its `delete` entry (another owner's or an unknown id: NotFound)."""
        memory_id = v.id_("memory_id", memory_id)
        params: dict[str, Any] = {"id": memory_id}
        sql = scope.where("SELECT * FROM memory_history WHERE memory_id = :id", user_id, params)
        with self._store.read() as tx:
            rows = tx.all(sql + " ORDER BY changed_at, id", params)
            if not rows:
                scope.row(tx, "memories", "memory", memory_id, user_id, columns="1")
            return [change_from_row(tx, r) for r in rows]

    def search(self, user_id: str | None, query: str, **options: Any) -> builtins.list[Any]:
        """Full-text, vector or hybrid search (see `memvault.search.query.Search.memories`)."""
        return self._vault.search.memories(user_id, query, **options)

    def count(self, user_id: Owner = ANY) -> int:
        """How many memories an owner has."""
        params: dict[str, Any] = {}
        where = scope.clause(user_id, params)
        with self._store.read() as tx:
            return int(
                tx.scalar(
                    "SELECT count(*) FROM memories" + (f" WHERE {where}" if where else ""), params
                )
            )


def _vectors() -> ModuleType:
    """memvault.search.vectors, imported by the writes that store a vector: it loads numpy,
    which a CLI command or a hook event without vectors never needs (tests/test_startup.py)."""
    from memvault.search import vectors

    return vectors


@lru_cache(maxsize=8)
def _add_one_sql(owned: bool, embedded: bool, pgvector: bool) -> str:
    """PostgreSQL: `Memories._add_one`'s statement (data-modifying CTEs). The memory is
    inserted only when its owner exists (`owned`: a user, else the base layer) and, with a
    vector (`embedded`), when the model's dimension is that vector's; the vector and the
    history entry are inserted from the inserted memory, so a memory refused by a unique
    index (ON CONFLICT DO NOTHING) leaves no trace. It answers one row: whether the owner
    was found, the model's stored dimension, and the memory's columns (NULL when refused)."""
    owner = "SELECT count(*) AS n FROM users WHERE id = :user_id" if owned else "SELECT 1 AS n"
    known = (
        "SELECT dim FROM embeddings WHERE model = :e_model LIMIT 1"
        if embedded
        else "SELECT CAST(NULL AS integer) AS dim WHERE false"
    )
    fits = "(SELECT n FROM owner) > 0"
    if embedded:
        fits += " AND NOT EXISTS (SELECT 1 FROM known WHERE dim <> :e_dim)"
    cols = ", ".join(MEMORY_COLUMNS)
    values = ", ".join(f":{c}" for c in MEMORY_COLUMNS)
    parts = [
        f"owner AS ({owner})",
        f"known AS ({known})",
        f"ins AS (INSERT INTO memories ({cols}) SELECT {values} WHERE {fits} "
        "ON CONFLICT DO NOTHING RETURNING *)",
        "hist AS (INSERT INTO memory_history (id, memory_id, user_id, op, old_content, "
        "new_content, changes, reason, changed_at) SELECT :h_id, id, user_id, 'create', NULL, "
        "content, :h_changes, NULL, :h_changed_at FROM ins)",
    ]
    if embedded:
        from memvault.search import vectors

        parts.append(f"emb AS ({vectors.insert_from('ins', 'e_', pgvector=pgvector)})")
    return (
        f"WITH {', '.join(parts)} SELECT (SELECT n FROM owner) AS owner_found, "
        "(SELECT dim FROM known) AS known_dim, ins.* FROM (SELECT 1) AS one LEFT JOIN ins ON true"
    )


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _ttl(field: str, ttl: Any) -> float | None:
    """A sliding expiry as seconds (> 0), or None."""
    if ttl is None:
        return None
    if not isinstance(ttl, timedelta):
        raise InvalidInput(field, ttl, "expected a datetime.timedelta")
    seconds = ttl.total_seconds()
    if seconds <= 0:
        raise InvalidInput(field, ttl, "must be positive")
    return seconds


def _expiry(expires_at: Any, ttl_seconds: float | None, now: datetime) -> datetime | None:
    expires = v.optional_when("expires_at", expires_at)
    if ttl_seconds is None:
        return expires
    if expires is not None:
        raise InvalidInput("ttl", ttl_seconds, "give expires_at or ttl, not both")
    return now + timedelta(seconds=ttl_seconds)


def _key_filters(
    tx: Tx, params: dict[str, Any], key_prefix: str | None, keys: Iterable[str] | None
) -> builtins.list[str]:
    where = []
    if key_prefix is not None:
        where.append(key_prefix_sql(v.key_prefix("key_prefix", key_prefix), params))
    if keys is not None:
        listed = [v.key("keys", k) for k in keys]
        where.append(f"key IN ({tx.expand('key', listed, params)})" if listed else "1 = 0")
    return where


def _put_spec(prefix: str, item: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """One item of `put`/`put_many`, validated; field names in errors carry `prefix`."""
    if not isinstance(item, Mapping):
        raise InvalidInput(prefix.rstrip(".") or "item", item, "expected a mapping")
    unknown = set(item) - PUT_FIELDS
    if unknown:
        field = sorted(map(str, unknown))[0]
        raise InvalidInput(prefix + field, item[field], f"allowed: {', '.join(sorted(PUT_FIELDS))}")
    for required in ("key", "kind", "content"):
        if required not in item:
            raise InvalidInput(prefix + required, None, "required")
    ttl_seconds = _ttl(prefix + "ttl", item.get("ttl"))
    expires = v.optional_when(prefix + "expires_at", item.get("expires_at"))
    if ttl_seconds is not None:
        if expires is not None:
            raise InvalidInput(prefix + "ttl", item.get("ttl"), "give expires_at or ttl, not both")
        expires = now + timedelta(seconds=ttl_seconds)
    content = v.text(prefix + "content", item["content"])
    context = v.optional_text(prefix + "context", item.get("context"), allow_empty=True)
    embedding = item.get("embedding")
    model = item.get("embedding_model")
    if embedding is not None and embedding is not True and embedding is not False and model is None:
        raise InvalidInput(prefix + "embedding_model", None, "name the model of the embedding")
    return {
        "key": v.key(prefix + "key", item["key"]),
        "kind": v.choice(prefix + "kind", item["kind"], MEMORY_KINDS),
        "content": content,
        "context": context,
        "confidence": v.unit(prefix + "confidence", item.get("confidence", 1.0)),
        "importance": v.unit(prefix + "importance", item.get("importance", 0.5)),
        "metadata": v.json_object(prefix + "metadata", item.get("metadata")),
        "expires_at": expires,
        "ttl_seconds": ttl_seconds,
        "session_id": v.optional_id(prefix + "session_id", item.get("session_id")),
        "message_id": v.optional_id(prefix + "message_id", item.get("message_id")),
        "embedding": embedding,
        "embedding_model": model,
        "text": embed_text(content, context),
    }
