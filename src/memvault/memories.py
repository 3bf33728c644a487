"""Memories (facts, preferences, events, summaries, …) with their history and access tracking.

A memory with no owner belongs to the shared base layer. Reads are scoped to one owner; a
*layered* read returns the user's layer first, then the base layer. The same content added
twice for one owner and kind is stored once (content hash), and every change is recorded in
`memory_history` in the same transaction as the change.
"""

from __future__ import annotations

import builtins
import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from memvault import scope
from memvault import validate as v
from memvault.domain import Domain, insert_sql
from memvault.errors import Conflict, InvalidInput, NotFound
from memvault.ids import new_id
from memvault.records import Memory, MemoryChange
from memvault.scope import ANY, Owner
from memvault.search.filters import compile_filters
from memvault.store.base import Row, Tx
from memvault.store.rows import columns, row_decoder
from memvault.store.vocab import MEMORY_KINDS

MEMORY_COLUMNS = columns(Memory, without=("access_count", "last_accessed_at"))
HISTORY_COLUMNS = (
    "id", "memory_id", "user_id", "op", "old_content", "new_content", "changes", "reason",
    "changed_at",
)  # fmt: skip
UNSET: Any = object()


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
    ) -> Memory:
        """Store a memory for `user_id` (None: the shared base layer).

        Adding the same content again for the same owner and kind returns the stored memory.
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
        expires = v.optional_when("expires_at", expires_at)
        now = self._now()
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
        with self._store.write() as tx:
            self._require_user(tx, user_id)
            self._require_links(tx, user_id, session_id, message_id)
            row = tx.one(
                insert_sql("memories", MEMORY_COLUMNS, "*", conflict=True),
                {
                    "id": new_id(),
                    "user_id": user_id,
                    "kind": kind,
                    "content": content,
                    "context": context,
                    "confidence": confidence,
                    "importance": importance,
                    "session_id": session_id,
                    "message_id": message_id,
                    "content_hash": digest,
                    "metadata": tx.json(meta),
                    "created_at": tx.ts(created),
                    "updated_at": tx.ts(now),
                    "expires_at": tx.ts(expires),
                },
            )
            if row is None:  # already known: de-duplicated
                params: dict[str, Any] = {"kind": kind, "h": digest}
                row = tx.one(
                    scope.where(
                        "SELECT * FROM memories WHERE kind = :kind AND content_hash = :h",
                        user_id, params,
                    ),
                    params,
                )  # fmt: skip
                if row is None:
                    raise Conflict("memory de-duplication raced with a delete; retry")
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
            {
                "id": new_id(),
                "memory_id": memory_id,
                "user_id": user_id,
                "op": op,
                "old_content": old,
                "new_content": new,
                "changes": tx.json(changes),
                "reason": reason,
                "changed_at": tx.ts(self._now()),
            },
        )

    def get(
        self,
        memory_id: str,
        *,
        user_id: Owner = ANY,
        layered: bool = False,
        track_access: bool = True,
    ) -> Memory:
        """A memory by id, visible to `user_id` (and the base layer when `layered`)."""
        memory_id = v.id_("memory_id", memory_id)
        params: dict[str, Any] = {"id": memory_id}
        cond = scope.where("id = :id", user_id, params, layered=layered)
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
        limit: int = 100,
        offset: int = 0,
        track_access: bool = True,
    ) -> builtins.list[Memory]:
        """Memories of `user_id` (None: base layer), newest first; with `layered`, the
        user's layer first, then the base layer. `filters`: the filters of search
        (`memvault.search.filters`, e.g. `{"metadata.topic": "food"}`)."""
        params: dict[str, Any] = {
            "limit": v.integer("limit", limit, minimum=1),
            "offset": v.integer("offset", offset, minimum=0),
        }
        where = [scope.clause(user_id, params, layered=layered)]
        with self._store.read() as tx:
            where += self._filters(tx, params, kinds, since, until, min_confidence, session_id)
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
        if not track_access:
            with self._store.read() as tx:
                return [memory_from_row(tx, r) for r in tx.all(sql, params)]
        with self._store.write() as tx:
            memories = [memory_from_row(tx, r) for r in tx.all(sql, params)]
            return self.touch(tx, memories)

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
        from dataclasses import replace

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
    ) -> Memory:
        """Change a memory; the change (old text, new text, other fields, reason, time) is
        recorded in its history in the same transaction.

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
                "SELECT id FROM memories WHERE kind = :kind AND content_hash = :h AND id <> :id",
                old.user_id, params,
            ),
            params,
        )  # fmt: skip
        if clash is not None:
            raise Conflict(f"memory {clash['id']} already holds this content for this owner")

    def delete(self, memory_id: str, *, user_id: Owner = ANY) -> None:
        """Delete a memory with its history and vectors."""
        memory_id = v.id_("memory_id", memory_id)
        params: dict[str, Any] = {"id": memory_id}
        with self._store.write() as tx:
            row = tx.one(
                scope.where("DELETE FROM memories WHERE id = :id", user_id, params)
                + " RETURNING user_id",
                params,
            )
            if row is None:
                raise NotFound("memory", memory_id)
            self._emit(tx, "memory.deleted", tx.id_out(row["user_id"]), {"memory_id": memory_id})

    def history(self, memory_id: str, *, user_id: Owner = ANY) -> builtins.list[MemoryChange]:
        """Every recorded change of a memory, oldest first."""
        memory_id = v.id_("memory_id", memory_id)
        with self._store.read() as tx:
            scope.row(tx, "memories", "memory", memory_id, user_id, columns="1")
            rows = tx.all(
                "SELECT * FROM memory_history WHERE memory_id = :id ORDER BY changed_at, id",
                {"id": memory_id},
            )
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


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
