"""Typed legacy records → canonical rows, written in batches that commit with their checkpoint.

The `Loader` turns each record of `memvault.migrate.sources.records` into one row of a
canonical table, with an id derived from the record's source key (`ids.derived_id`), so that
a re-run or a resume produces the same ids and `INSERT … ON CONFLICT DO NOTHING` makes it a
no-op. References (a message's session, a memory's embedding, a trait's changes) are resolved
through small in-memory maps of source key → id; only owners, projects, sessions, traits and
memories are remembered, never messages, so memory stays bounded by the number of
conversations, not of messages.

Rows whose natural key already exists in the store are *merged*, not duplicated: a user with
the same handle, a project with the same name, a trait with the same (agent, name), a memory
with the same content hash, a routing score with the same (keyword, tool). References then
point at the existing row.

Every row written is also appended, as (table, id, digest), to a `Spool` (a temporary file),
which `verify` reads back after the load: each row must be in the store, by id, with the same
content. Session message counts are recomputed from the stored messages in the batch that
writes them, so `message_count` and `last_seq` are exact however the run was interrupted.
"""

from __future__ import annotations

import base64
import marshal
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from hashlib import blake2b
from typing import IO, Any

from memvault.ids import derived_id
from memvault.memories import content_hash
from memvault.migrate.rowdigest import render_time
from memvault.migrate.sources.records import (
    ActionRec,
    EmbeddingRec,
    EmotionPatternRec,
    EmotionRec,
    MemoryRec,
    MessageRec,
    ProjectRec,
    Quarantined,
    Record,
    ResponsePatternRec,
    RoutingScoreRec,
    SessionRec,
    TraitChangeRec,
    TraitRec,
    UserRec,
)
from memvault.store.base import Row, Store, Tx

# Tables in foreign-key order: a batch is written table by table in this order.
TABLES = (
    "users", "projects", "sessions", "messages", "memories", "embeddings", "emotion_events",
    "traits", "trait_changes", "response_patterns", "actions", "routing_scores", "quarantine",
)  # fmt: skip

COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("id", "handle", "display_name", "profile", "created_at", "updated_at"),
    "projects": ("id", "user_id", "name", "path", "metadata", "created_at"),
    "sessions": (
        "id", "user_id", "project_id", "parent_id", "kind", "title", "status", "metadata",
        "message_count", "last_seq", "started_at", "updated_at", "ended_at", "instance_no",
    ),
    "messages": (
        "id", "session_id", "user_id", "seq", "role", "content", "emotion", "metadata",
        "created_at",
    ),
    "memories": (
        "id", "user_id", "kind", "content", "context", "confidence", "importance",
        "access_count", "last_accessed_at", "session_id", "content_hash", "metadata",
        "created_at", "updated_at",
    ),
    "embeddings": (
        "id", "user_id", "memory_id", "model", "dim", "vector", "metadata", "created_at",
    ),
    "emotion_events": (
        "id", "user_id", "session_id", "emotion", "intensity", "trigger", "context", "metadata",
        "occurred_at",
    ),
    "traits": ("id", "user_id", "agent", "name", "value", "metadata", "updated_at"),
    "trait_changes": (
        "id", "trait_id", "user_id", "old_value", "new_value", "reason", "metadata",
        "changed_at",
    ),
    "response_patterns": (
        "id", "user_id", "intent", "trigger_context", "response_text", "success_score",
        "usage_count", "metadata", "created_at", "updated_at",
    ),
    "actions": (
        "id", "user_id", "project_id", "session_id", "tool_name", "tool_type", "input",
        "file_paths", "exit_code", "duration_ms", "metadata", "created_at",
    ),
    "routing_scores": (
        "id", "user_id", "keyword", "tool_name", "tool_type", "weight", "usage_count",
        "success_count", "metadata", "last_used_at",
    ),
    "quarantine": ("id", "run_id", "file", "location", "field", "reason", "raw", "created_at"),
}  # fmt: skip

# The columns whose values a verification compares (times and JSON are left out: their
# text form differs between engines).
DIGEST: dict[str, tuple[str, ...]] = {
    "users": ("handle",),
    "projects": ("name", "path"),
    # (message_count and last_seq are recomputed from the stored messages in the batch
    # that writes them, and each message is verified: a session may also hold messages
    # the source no longer has, kept.)
    "sessions": ("user_id", "kind", "title", "status"),
    "messages": ("session_id", "seq", "role", "content"),
    "memories": ("user_id", "kind", "content", "content_hash"),
    "embeddings": ("memory_id", "model", "dim", "vector"),
    "emotion_events": ("user_id", "emotion", "intensity"),
    "traits": ("user_id", "agent", "name", "value"),
    "trait_changes": ("trait_id", "old_value", "new_value"),
    "response_patterns": ("user_id", "intent", "trigger_context", "response_text", "metadata"),
    "actions": ("tool_name", "tool_type", "input", "exit_code"),
    "routing_scores": ("user_id", "keyword", "tool_name", "weight", "usage_count"),
    "quarantine": ("run_id", "file", "location", "reason", "raw"),
}

# Rows a re-import brings up to date when the legacy side changed them since the last import
# (same id, so the same legacy entity): the columns compared and rewritten. Other tables'
# rows are immutable records (messages, actions, ...) that a legacy tool appends, never edits.
UPDATABLE: dict[str, tuple[str, ...]] = {
    "users": ("profile", "display_name"),  # profile merged: the legacy keys over the stored
    "sessions": ("title", "status", "ended_at"),  # (+ updated_at when the source has one)
    "messages": ("role", "content", "emotion"),  # a legacy tool that lets a message be edited
    "memories": ("content", "context", "confidence", "importance", "content_hash"),
    "routing_scores": ("tool_type", "weight", "usage_count", "success_count", "last_used_at"),
    "traits": ("value",),
    "response_patterns": ("intent", "trigger_context", "response_text", "success_score",
                          "usage_count"),
    "emotion_events": ("emotion", "intensity", "trigger", "occurred_at"),
}  # fmt: skip
UPDATE_ALSO: dict[str, tuple[str, ...]] = {  # set, not compared
    "traits": ("updated_at",),
    "memories": ("updated_at",),
}
# Tables whose legacy fields kept in `metadata` (an EdgeSoul pattern's trend, an AIT42
# session's completedAt text, a Workly entity's occurrences) are compared too.
METADATA_COMPARED = frozenset({"sessions", "messages", "memories", "emotion_events"})
MEMORY_UPDATE_REASON = "re-import: the legacy record changed"
# metadata: a digest of what the legacy record said when it was imported, so a re-import
# rewrites a memory only when the legacy side changed, never to undo an edit made here.
LEGACY_DIGEST_KEY = "legacy_digest"
DUPLICATES_KEY = "duplicates_in_source"  # metadata: the records merged into this memory
DUPLICATES_KEPT = 100
UPDATE_LOG_KEY = "import_updates"  # metadata: what each re-import changed (the last 20)
UPDATE_LOG_LIMIT = 20

# Sessions are spooled when the run ends (their message counts are known only then).
PATTERN_EMBEDDING_KEY = "embedding"


def norm(value: Any, *, metadata: bool = False) -> str:
    """One value as the text a digest hashes, identical whichever engine returned it."""
    if value is None:
        return "\x00"
    if metadata:
        # Only the response-pattern vector (kept in metadata) is compared.
        if isinstance(value, str | bytes):
            import orjson

            value = orjson.loads(value)
        vector = value.get(PATTERN_EMBEDDING_KEY, {}) if isinstance(value, dict) else {}
        return str(vector.get("vector", "")) if isinstance(vector, dict) else ""
    if isinstance(value, bool):
        return repr(float(value))
    if isinstance(value, int | float):
        return repr(float(value))
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


_IS_METADATA = {t: tuple(c == "metadata" for c in cols) for t, cols in DIGEST.items()}


def digest(table: str, values: Sequence[Any]) -> bytes:
    """The 16-byte content digest of a row of `table` (values in `DIGEST[table]` order)."""
    if table == "messages" and len(values) == 4:
        # The row an import builds 100k times: session id, seq, role, content (text, int,
        # text, text) joined as `norm` would, without the generic loop.
        sid, seq, role, content = values
        if type(sid) is str and type(seq) is int and type(role) is str and type(content) is str:
            text = f"{sid}\x1f{float(seq)!r}\x1f{role}\x1f{content}"
            return blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    flags = _IS_METADATA[table]
    if len(values) != len(flags):
        raise ValueError(f"{table}: {len(values)} values for {len(flags)} digest columns")
    pairs = zip(values, flags, strict=True)
    # Plain text, the common case, is its own norm(): skip the call.
    text = "\x1f".join([v if type(v) is str and not m else norm(v, metadata=m) for v, m in pairs])
    return blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class Spool:
    """An append-only temporary file of (table, id, digest) for the verification pass."""

    def __init__(self) -> None:
        self._fh: IO[bytes] = tempfile.TemporaryFile(  # noqa: SIM115  (closed by close())
            prefix="memvault-import-", suffix=".spool"
        )
        self.rows = 0

    def write(self, entries: list[tuple[str, str, bytes]]) -> None:
        if entries:
            marshal.dump(entries, self._fh)
            self.rows += len(entries)

    def read(self) -> Iterator[list[tuple[str, str, bytes]]]:
        """The entries, in the chunks they were written."""
        self._fh.flush()
        self._fh.seek(0)
        while True:
            try:
                chunk: list[tuple[str, str, bytes]] = marshal.load(self._fh)
            except EOFError:
                return
            yield chunk

    def close(self) -> None:
        self._fh.close()


@dataclass(slots=True)
class TableCounts:
    """Rows of one table: built from the source, new in the store, merged into an existing
    row with the same natural key, already present (of which `updated`: brought up to date
    because the legacy row changed since the last import), and (after verification) found /
    missing / different."""

    expected: int = 0
    new: int = 0
    merged: int = 0
    updated: int = 0
    verified: int = 0
    missing: int = 0
    different: int = 0

    @property
    def present(self) -> int:
        """Rows that were already in the store under the same id (a re-run or a resume)."""
        return max(0, self.expected - self.new - self.merged)

    def as_dict(self) -> dict[str, int]:
        return {
            "expected": self.expected,
            "new": self.new,
            "already_present": self.present,
            "updated": self.updated,
            "unchanged": max(0, self.present - self.updated),
            "merged": self.merged,
            "verified": self.verified,
            "missing": self.missing,
            "different": self.different,
        }


@dataclass(slots=True)
class _Session:
    id: str
    user_id: str | None
    kind: str
    title: str | None
    status: str
    messages: int = 0
    last_seq: int = 0
    started: datetime | None = None


@dataclass(slots=True)
class Encoders:
    """How this engine wants times and JSON (taken from a transaction once)."""

    ts: Callable[[datetime | None], Any]
    json: Callable[[Any], Any]

    @classmethod
    def of(cls, store: Store) -> Encoders:
        with store.read() as tx:
            return cls(ts=tx.ts, json=tx.json)


@dataclass(slots=True)
class Batch:
    """Rows waiting to be written, per table, with their spool entries."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    count: int = 0
    sessions: set[str] = field(default_factory=set)

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.rows.setdefault(table, []).append(row)
        self.count += 1


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


LOOKUP_CHUNK = 900


class Loader:
    """Builds canonical rows from records and writes them batch by batch.

    `write=False` (a dry run) builds and counts the rows but never touches the store.
    """

    def __init__(
        self,
        store: Store,
        run_id: str,
        *,
        default_user: str = "default",
        now: datetime | None = None,
        write: bool = True,
        spool: Spool | None = None,
        source: str = "",
    ) -> None:
        self.store = store
        self.source = source  # what was imported (quarantine rows are keyed by it)
        self.engine = store.engine
        self.run_id = run_id
        self.default_user = default_user
        self.now = now or datetime.now(UTC)
        self.write = write
        self.spool = spool
        self.enc = Encoders.of(store)
        self.counts: dict[str, TableCounts] = {t: TableCounts() for t in TABLES}
        self.users: dict[str, str] = {}
        self.user_state: dict[str, str] = {}  # handle → "new" | "existing" (before this run)
        self.projects: dict[str, str] = {}
        self.sessions: dict[str, _Session] = {}
        self._timeless: set[str] = set()  # sessions without a start time: their messages'
        self.memories: dict[str, str] = {}
        self.traits: dict[str, tuple[str, str | None]] = {}
        self._memory_keys: dict[tuple[str | None, str, str], str] = {}
        self._embedding_keys: set[tuple[str, str]] = set()
        self._routing_keys: set[tuple[str | None, str, str]] = set()
        self.batch = Batch()
        self.bytes_estimate = 0
        self.embedding_dims: dict[str, int] = {}
        self.pattern_embeddings = 0
        self._pending_pattern: dict[str, dict[str, Any]] = {}
        self._pending_memories: dict[str, dict[str, Any]] = {}  # id → row, this batch
        self._entries: list[tuple[str, str, bytes]] = []

    # -- lookups ----------------------------------------------------------------------------

    def _lookup(self, sql: str, params: dict[str, Any]) -> str | None:
        with self.store.read() as tx:
            row = tx.one(sql, params)
        return None if row is None else str(row["id"])

    def user_id(self, handle: str | None) -> str | None:
        """The id of the user `handle` (None for the base layer); created when unknown."""
        if handle is None:
            return None
        known = self.users.get(handle)
        if known is not None:
            return known
        self.add(UserRec(source_key=f"user:{handle}", handle=handle))
        return self.users[handle]

    # -- records → rows ---------------------------------------------------------------------

    def add(self, rec: Record) -> None:
        """Turn one record into its row (added to the current batch)."""
        handler = _HANDLERS[type(rec)]
        handler(self, rec)

    def _row(self, table: str, row: dict[str, Any], text: int = 0) -> None:
        self.counts[table].expected += 1
        self.bytes_estimate += 120 + text
        self.batch.add(table, row)

    def _user(self, rec: UserRec) -> None:
        if rec.handle in self.users:
            return
        uid = derived_id(f"user:{rec.handle}", rec.created_at)
        existing = self._lookup("SELECT id FROM users WHERE handle = :h", {"h": rec.handle})
        self.users[rec.handle] = existing or uid
        self.user_state[rec.handle] = "existing" if existing else "new"
        profile = {**rec.profile, **_imported(rec.metadata)}
        created = rec.created_at or self.now
        row = {
            "id": existing or uid,
            "handle": rec.handle,
            "display_name": rec.display_name,
            "profile": self.enc.json(profile),
            "created_at": self.enc.ts(created),
            "updated_at": self.enc.ts(rec.updated_at or created),
            "_profile": profile,
        }
        if existing is not None and existing != uid:
            # The same handle from another source (or memvault): one user, whose profile
            # takes the legacy profile's keys (in flush: `_update_changed`).
            self.counts["users"].expected += 1
            self.counts["users"].merged += 1
            if rec.profile or rec.display_name:
                self.batch.add("users", row)
            return
        self._row("users", row)

    def _project(self, rec: ProjectRec) -> None:
        owner = self.user_id(self.default_user)
        pid = derived_id(rec.source_key)
        existing = self._lookup(
            "SELECT id FROM projects WHERE user_id = :u AND name = :n", {"u": owner, "n": rec.name}
        )
        self.projects[rec.source_key] = existing or pid
        if existing is not None and existing != pid:
            self.counts["projects"].expected += 1
            self.counts["projects"].merged += 1
            return
        meta = {**rec.metadata, "source_key": rec.source_key}
        self._row(
            "projects",
            {
                "id": pid,
                "user_id": owner,
                "name": rec.name,
                "path": rec.path,
                "metadata": self.enc.json(meta),
                "created_at": self.enc.ts(self.now),
            },
        )

    def _session(self, rec: SessionRec) -> None:
        sid = derived_id(rec.source_key, rec.created_at)
        uid = self.user_id(rec.user_handle)
        parent = self.sessions.get(rec.parent_source_key) if rec.parent_source_key else None
        # No start time in the source: the parent's (a sub-agent instance), else the
        # messages' (set when they are written), else the import's.
        started = rec.created_at or (parent.started if parent else None) or self.now
        meta = {**rec.metadata, "source_key": rec.source_key}
        if rec.created_at is None:  # said, so that an export back writes no start time
            meta["started_at_inferred"] = "parent" if parent else "messages"
        self.sessions[rec.source_key] = _Session(
            sid, uid, rec.kind, rec.title, rec.status, started=started
        )
        if rec.created_at is None:
            self._timeless.add(sid)
        self._row(
            "sessions",
            {
                "id": sid,
                "user_id": uid,
                "project_id": self.projects.get(rec.project_source_key or ""),
                "parent_id": parent.id if parent else None,
                "kind": rec.kind,
                "title": rec.title,
                "status": rec.status,
                "metadata": self.enc.json(meta),
                "message_count": 0,
                "last_seq": 0,
                "started_at": self.enc.ts(started),
                "updated_at": self.enc.ts(rec.updated_at or started),
                "ended_at": self.enc.ts(rec.ended_at),
                "instance_no": rec.instance_no if parent else None,
                "_meta": meta,
                "_update": (*UPDATABLE["sessions"], "updated_at") if rec.updated_at else None,
            },
            len(rec.title or ""),
        )

    def _message(self, rec: MessageRec) -> None:
        session = self.sessions[rec.session_source_key]
        mid = derived_id(rec.source_key, rec.created_at)
        session.messages += 1
        session.last_seq = max(session.last_seq, rec.seq)
        self.batch.sessions.add(session.id)
        content = self._text(rec.content)
        meta = {**rec.metadata, "source_key": rec.source_key}
        self._row(
            "messages",
            {
                "id": mid,
                "session_id": session.id,
                "user_id": self.user_id(rec.user_handle),
                "seq": rec.seq,
                "role": rec.role,
                "content": content,
                "emotion": rec.emotion,
                "metadata": self.enc.json(meta),
                "created_at": self.enc.ts(rec.created_at or self.now),
                "_meta": meta,
            },
            len(content),
        )
        self._spool("messages", mid, (session.id, rec.seq, rec.role, content))

    def _memory_row(
        self,
        source_key: str,
        owner: str | None,
        kind: str,
        content: str,
        *,
        context: str | None = None,
        confidence: float = 1.0,
        importance: float = 0.5,
        access_count: int = 0,
        last_accessed_at: datetime | None = None,
        session_key: str | None = None,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
        metadata: dict[str, Any],
    ) -> None:
        content = self._text(content)
        uid = self.user_id(owner)
        digest_key = content_hash(content)
        mid = derived_id(source_key, created_at)
        natural = (uid, kind, digest_key)
        first = self._memory_keys.get(natural)
        if first is not None:  # the same memory twice in this source: one row
            self.memories[source_key] = first
            self.counts["memories"].expected += 1
            self.counts["memories"].merged += 1
            kept = self._pending_memories.get(first)
            if kept is not None and len(kept["_meta"].get(DUPLICATES_KEY, ())) < DUPLICATES_KEPT:
                # The merged record's own fields, so an export can write it again (Workly
                # never de-duplicates its preferences: 4 in the legacy file, 4 back).
                twin = {**metadata, "source_key": source_key, "context": context}
                kept["_meta"].setdefault(DUPLICATES_KEY, []).append(twin)
                kept["metadata"] = self.enc.json(kept["_meta"])
            return
        self._memory_keys[natural] = mid
        self.memories[source_key] = mid
        session = self.sessions.get(session_key) if session_key else None
        created = created_at or self.now
        meta = {**metadata, "source_key": source_key}
        meta[LEGACY_DIGEST_KEY] = _legacy_digest(content, context, confidence, importance, meta)
        self._row(
            "memories",
            {
                "id": mid,
                "user_id": uid,
                "kind": kind,
                "content": content,
                "context": context,
                "confidence": confidence,
                "importance": importance,
                "access_count": access_count,
                "last_accessed_at": self.enc.ts(last_accessed_at),
                "session_id": session.id if session else None,
                "content_hash": digest_key,
                "metadata": self.enc.json(meta),
                "created_at": self.enc.ts(created),
                "updated_at": self.enc.ts(updated_at or created),
                "_key": source_key,
                "_meta": meta,
            },
            len(content),
        )
        self._pending_memories[mid] = self.batch.rows["memories"][-1]

    def _memory(self, rec: MemoryRec) -> None:
        self._memory_row(
            rec.source_key,
            rec.owner_handle,
            rec.kind,
            rec.content,
            context=rec.context,
            confidence=rec.confidence,
            importance=rec.importance,
            access_count=rec.access_count,
            last_accessed_at=rec.last_accessed_at,
            session_key=rec.session_source_key,
            created_at=rec.created_at,
            updated_at=rec.updated_at,
            metadata=rec.metadata,
        )

    def _emotion_pattern(self, rec: EmotionPatternRec) -> None:
        """A legacy aggregate (EdgeSoul's `emotional_patterns` row) becomes the baseline
        events `emotions.patterns()` aggregates: `frequency` events at the pattern's average
        intensity, spread over its hour-of-day profile (the latest such hour at or before
        `last_occurrence`; hours the profile does not cover at `last_occurrence`), carrying
        its triggers one per event. Events recorded later extend the same pattern. Each
        event's metadata names the legacy pattern (`baseline_of`); the first one keeps the
        legacy row as it was (trend included, which the API recomputes from recent events)."""
        uid = self.user_id(rec.owner_handle or self.default_user)
        last = rec.last_occurrence or self.now
        hours: list[int] = []
        for label, n in sorted(rec.time_patterns.items()):
            hour = _hour_of(label)
            if hour is not None and n > 0:
                hours.extend([hour] * n)
        legacy = {
            "emotion": rec.emotion,
            "frequency": rec.frequency,
            "avg_intensity": rec.avg_intensity,
            "triggers": list(rec.triggers),
            "time_patterns": rec.time_patterns,
            "trend": rec.trend,
            "last_occurrence": rec.last_occurrence.isoformat() if rec.last_occurrence else None,
            **rec.metadata,
        }
        for i in range(rec.frequency):
            if i < len(hours):
                at = last.replace(hour=hours[i], minute=0, second=0, microsecond=0)
                if at > last:
                    at -= timedelta(days=1)
            else:
                at = last
            source_key = f"{rec.source_key}#{i}"
            meta: dict[str, Any] = {"source_key": source_key, "baseline_of": rec.source_key}
            if i == 0:
                meta["legacy_pattern"] = legacy
            trigger = rec.triggers[i] if i < len(rec.triggers) else None
            self._row(
                "emotion_events",
                {
                    "id": derived_id(source_key),
                    "user_id": uid,
                    "session_id": None,
                    "emotion": rec.emotion,
                    "intensity": rec.avg_intensity,
                    "trigger": trigger,
                    "context": None,
                    "metadata": self.enc.json(meta),
                    "occurred_at": self.enc.ts(at),
                    "_meta": meta,
                },
                len(trigger or ""),
            )

    def _embedding(self, rec: EmbeddingRec) -> None:
        self.embedding_dims[str(rec.dim)] = self.embedding_dims.get(str(rec.dim), 0) + 1
        if rec.target_kind == "response_pattern":
            self._pattern_embedding(rec)
            return
        if rec.target_kind != "memory":
            raise ValueError(f"embeddings of {rec.target_kind} records are not supported")
        target = self.memories[rec.target_source_key]
        eid = derived_id(rec.source_key, rec.created_at)
        if (target, rec.model) in self._embedding_keys:
            self.counts["embeddings"].expected += 1
            self.counts["embeddings"].merged += 1
            return
        self._embedding_keys.add((target, rec.model))
        self._row(
            "embeddings",
            {
                "id": eid,
                "user_id": None,  # the memory's owner, set when the batch is written
                "memory_id": target,
                "model": rec.model,
                "dim": rec.dim,
                "vector": rec.as_float32(),
                "metadata": self.enc.json({**rec.metadata, "source_key": rec.source_key}),
                "created_at": self.enc.ts(rec.created_at or self.now),
            },
            4 * rec.dim,
        )

    def _pattern_embedding(self, rec: EmbeddingRec) -> None:
        row = self._pending_pattern.get(rec.target_source_key)
        if row is None:
            raise ValueError(f"embedding {rec.source_key} arrived after its pattern was written")
        meta = row["_meta"]
        meta[PATTERN_EMBEDDING_KEY] = {
            "model": rec.model,
            "dim": rec.dim,
            "vector": base64.b64encode(rec.as_float32()).decode("ascii"),
        }
        row["metadata"] = self.enc.json(meta)
        self.pattern_embeddings += 1
        self.bytes_estimate += 4 * rec.dim

    def _emotion(self, rec: EmotionRec) -> None:
        eid = derived_id(rec.source_key, rec.created_at)
        session = self.sessions.get(rec.session_source_key or "")
        meta = {**rec.metadata, "source_key": rec.source_key}
        if rec.confidence is not None:
            meta["confidence"] = rec.confidence
        if rec.source is not None:
            meta["source"] = rec.source
        self._row(
            "emotion_events",
            {
                "id": eid,
                "user_id": self.user_id(rec.owner_handle or self.default_user),
                "session_id": session.id if session else None,
                "emotion": rec.emotion,
                "intensity": rec.intensity,
                "trigger": rec.trigger,
                "context": rec.context,
                "metadata": self.enc.json(meta),
                "occurred_at": self.enc.ts(rec.created_at or self.now),
                "_meta": meta,
            },
            len(rec.context or "") + len(rec.trigger or ""),
        )

    def _trait(self, rec: TraitRec) -> None:
        uid = self.user_id(rec.owner_handle)
        tid = derived_id(rec.source_key)
        params = {"u": uid, "a": rec.agent, "n": rec.name}
        where = "user_id = :u" if uid is not None else "user_id IS NULL"
        existing = self._lookup(
            f"SELECT id FROM traits WHERE {where} AND agent = :a AND name = :n", params
        )
        self.traits[rec.source_key] = (existing or tid, uid)
        if existing is not None and existing != tid:
            self.counts["traits"].expected += 1
            self.counts["traits"].merged += 1
            return
        meta = {**rec.metadata, "source_key": rec.source_key}
        if rec.description is not None:
            meta["description"] = rec.description
        self._row(
            "traits",
            {
                "id": tid,
                "user_id": uid,
                "agent": rec.agent,
                "name": rec.name,
                "value": rec.value,
                "metadata": self.enc.json(meta),
                "updated_at": self.enc.ts(rec.updated_at or self.now),
                "_meta": meta,
            },
        )

    def _trait_change(self, rec: TraitChangeRec) -> None:
        trait_id, uid = self.traits[rec.trait_source_key]
        cid = derived_id(rec.source_key, rec.created_at)
        self._row(
            "trait_changes",
            {
                "id": cid,
                "trait_id": trait_id,
                "user_id": uid,
                "old_value": rec.old_value,
                "new_value": rec.new_value,
                "reason": rec.reason,
                "metadata": self.enc.json({**rec.metadata, "source_key": rec.source_key}),
                "changed_at": self.enc.ts(rec.created_at or self.now),
            },
        )

    def _pattern(self, rec: ResponsePatternRec) -> None:
        pid = derived_id(rec.source_key, rec.created_at)
        created = rec.created_at or self.now
        meta = {**rec.metadata, "source_key": rec.source_key}
        row = {
            "id": pid,
            "user_id": self.user_id(rec.owner_handle),
            "intent": rec.intent,
            "trigger_context": self._text(rec.trigger_context),
            "response_text": self._text(rec.response_text),
            "success_score": rec.success_score,
            "usage_count": rec.usage_count,
            "metadata": self.enc.json(meta),
            "created_at": self.enc.ts(created),
            "updated_at": self.enc.ts(rec.updated_at or created),
            "_meta": meta,
        }
        self._pending_pattern[rec.source_key] = row
        self._row("response_patterns", row, len(rec.trigger_context) + len(rec.response_text))

    def _action(self, rec: ActionRec) -> None:
        aid = derived_id(rec.source_key, rec.created_at)
        session = self.sessions.get(rec.session_source_key or "")
        self._row(
            "actions",
            {
                "id": aid,
                "user_id": self.user_id(rec.owner_handle),
                "project_id": self.projects.get(rec.project_source_key or ""),
                "session_id": session.id if session else None,
                "tool_name": rec.tool_name,
                "tool_type": rec.tool_type,
                "input": rec.input,
                "file_paths": self.enc.json(list(rec.file_paths)),
                "exit_code": rec.exit_code,
                "duration_ms": rec.duration_ms,
                "metadata": self.enc.json({**rec.metadata, "source_key": rec.source_key}),
                "created_at": self.enc.ts(rec.created_at or self.now),
            },
            len(rec.input or ""),
        )

    def _routing(self, rec: RoutingScoreRec) -> None:
        uid = self.user_id(rec.owner_handle)
        natural = (uid, rec.keyword, rec.tool_name)
        if natural in self._routing_keys:
            self.counts["routing_scores"].expected += 1
            self.counts["routing_scores"].merged += 1
            return
        self._routing_keys.add(natural)
        meta = {**rec.metadata, "source_key": rec.source_key}
        self._row(
            "routing_scores",
            {
                "id": derived_id(rec.source_key, rec.last_used_at),
                "user_id": uid,
                "keyword": rec.keyword,
                "tool_name": rec.tool_name,
                "tool_type": rec.tool_type,
                "weight": rec.weight,
                "usage_count": rec.usage_count,
                "success_count": min(rec.success_count, rec.usage_count),
                "metadata": self.enc.json(meta),
                "last_used_at": self.enc.ts(rec.last_used_at),
                "_key": rec.source_key,
                "_meta": meta,
            },
        )

    def quarantined(self, rec: Quarantined, file: str) -> None:
        """A bad record of the source: one quarantine row, the first run's that met it (its
        id follows the source, file, record and reason, so a re-import adds none)."""
        if rec.whole_file:
            location = "file"
        else:
            parts = []
            if rec.record_index is not None:
                parts.append(f"record {rec.record_index}")
            if rec.line is not None:
                parts.append(f"line {rec.line}")
            location = ", ".join(parts) or "?"
        reason = rec.reason + (" (raw bytes truncated)" if rec.raw_truncated else "")
        qid = derived_id(f"quarantine:{self.source}:{file}:{location}:{rec.field}:{reason}")
        self._row(
            "quarantine",
            {
                "id": qid,
                "run_id": self.run_id,
                "file": file,
                "location": location,
                "field": rec.field or None,
                "reason": reason,
                "raw": rec.raw,
                "created_at": self.enc.ts(self.now),
            },
            len(rec.raw),
        )

    def _text(self, value: str) -> str:
        # PostgreSQL text cannot hold NUL; SQLite's FTS would stop at it.
        return value.replace("\x00", "\ufffd") if "\x00" in value else value

    def _spool(self, table: str, rid: str, values: Sequence[Any]) -> None:
        if self.spool is not None:
            self._entries.append((table, rid, digest(table, values)))

    # -- writing ----------------------------------------------------------------------------

    def flush(
        self, checkpoint: Callable[[Tx, dict[str, int]], None] | None = None, *, skip: bool = False
    ) -> None:
        """Resolve natural keys, write the batch and run `checkpoint` in the same transaction.

        `skip=True` (records a resumed run had already committed) resolves and spools the
        rows but writes nothing.
        """
        batch = self.batch
        self.batch = Batch()
        self._pending_pattern = {}
        self._pending_memories = {}
        if not self.write:
            self._entries = []
            return
        with self.store.write() if not skip else self.store.read() as tx:
            self._resolve(tx, batch)
            new: dict[str, int] = {}
            for table in TABLES:
                rows = batch.rows.get(table)
                if not rows:
                    continue
                if not skip:
                    added = self._insert(tx, table, rows)
                    if added:
                        self.counts[table].new += added
                        new[table] = added
                    if added < len(rows) and table in UPDATABLE:
                        self.counts[table].updated += self._update_changed(tx, table, rows)
                    if added < len(rows) and table == "quarantine":
                        self._earlier_quarantine(tx, rows)
                self._spool_rows(table, rows)
            if batch.sessions and not skip:
                tx.executemany(
                    "UPDATE sessions SET "
                    "message_count = (SELECT count(*) FROM messages WHERE session_id = :id), "
                    "last_seq = (SELECT coalesce(max(seq), 0) FROM messages "
                    "WHERE session_id = :id) "
                    "WHERE id = :id",
                    [{"id": sid} for sid in sorted(batch.sessions)],
                )
                timeless = sorted(batch.sessions & self._timeless)
                if timeless:
                    # Not the import's time: the first and last message's (an EdgeSoul
                    # browser export has no session time of its own).
                    tx.executemany(
                        "UPDATE sessions SET "
                        "started_at = coalesce((SELECT min(created_at) FROM messages "
                        "WHERE session_id = :id), started_at), "
                        "updated_at = coalesce((SELECT max(created_at) FROM messages "
                        "WHERE session_id = :id), updated_at) "
                        "WHERE id = :id",
                        [{"id": sid} for sid in timeless],
                    )
            if checkpoint is not None and not skip:
                checkpoint(tx, new)
        if not skip:
            self.store.settle()
        if self.spool is not None:
            self.spool.write(self._entries)
        self._entries = []

    def _insert(self, tx: Tx, table: str, rows: list[dict[str, Any]]) -> int:
        """Insert the rows of `table` that conflict with no stored row; returns how many."""
        cols = COLUMNS[table]
        return tx.insert_new(table, cols, [{c: r[c] for c in cols} for r in rows])

    def _update_changed(self, tx: Tx, table: str, rows: list[dict[str, Any]]) -> int:
        """Rewrite the stored rows (same ids) whose `UPDATABLE` columns (and, for
        `METADATA_COMPARED` tables, legacy metadata) differ from what the source gives now;
        each update is logged in the row's metadata (old → new values, run, time), and a
        memory's in its history with a reason. Returns how many rows were updated."""
        every = UPDATABLE[table]
        also = UPDATE_ALSO.get(table, ())
        stored: dict[str, Row] = {}
        for part in _chunks(rows, LOOKUP_CHUNK):
            params: dict[str, Any] = {}
            listed = tx.expand("i", [r["id"] for r in part], params)
            cols: list[str] = ["id", *every]
            if table != "users":
                cols.append("metadata")
            if table == "sessions":
                cols.append("updated_at")  # compared when the source has one
            sql = f"SELECT {', '.join(cols)} FROM {table} WHERE id IN ({listed})"
            for row in tx.all(sql, params):
                stored[str(row["id"])] = row
        updates: list[dict[str, Any]] = []
        for row in rows:
            old = stored.get(row["id"])
            if old is None:
                continue
            if table == "users":
                before = _json_dict(tx, old["profile"])
                after = {**before, **row["_profile"]}
                name = row["display_name"] or old["display_name"]
                if after == before and name == old["display_name"]:
                    continue
                updates.append(
                    {"id": row["id"], "profile": self.enc.json(after), "display_name": name}
                )
                continue
            compared = row.get("_update") or every
            changed: dict[str, Any] = {
                c: [_plain(tx, c, old[c]), _plain(tx, c, row[c])]
                for c in compared
                if not _same_value(tx, c, old[c], row[c])
            }
            stored_meta = _json_dict(tx, old["metadata"])
            log = stored_meta.pop(UPDATE_LOG_KEY, None)
            imported = stored_meta.pop(LEGACY_DIGEST_KEY, None)
            source_meta = {k: v for k, v in row["_meta"].items() if k != LEGACY_DIGEST_KEY}
            if imported is not None and imported == row["_meta"].get(LEGACY_DIGEST_KEY):
                continue  # the legacy record is as it was imported: what differs was edited here
            if table in METADATA_COMPARED and _jsonish(stored_meta) != _jsonish(source_meta):
                changed["metadata"] = {
                    k: [stored_meta.get(k), source_meta.get(k)]
                    for k in sorted(stored_meta.keys() | source_meta.keys())
                    if _jsonish(stored_meta.get(k)) != _jsonish(source_meta.get(k))
                }
            changed.pop("content_hash", None)  # follows the content
            if not changed:
                continue
            meta = dict(row["_meta"])
            entries = list(log) if isinstance(log, list) else []
            entries.append({"run_id": self.run_id, "at": self.now.isoformat(), "changed": changed})
            meta[UPDATE_LOG_KEY] = entries[-UPDATE_LOG_LIMIT:]
            params = {c: row[c] for c in (*compared, *also)}
            params.update(id=row["id"], metadata=self.enc.json(meta))
            if table == "memories":
                if not self._memory_updatable(tx, old, row):
                    continue
                self._memory_history(tx, old, row, changed)
            updates.append(params)
        if updates and table == "users":
            tx.executemany(
                "UPDATE users SET profile = :profile, display_name = :display_name WHERE id = :id",
                updates,
            )
        elif updates:
            by_cols: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for params in updates:
                by_cols.setdefault(tuple(k for k in params if k != "id"), []).append(params)
            for keys, group in by_cols.items():
                sets = ", ".join(f"{c} = :{c}" for c in keys)
                tx.executemany(f"UPDATE {table} SET {sets} WHERE id = :id", group)
        return len(updates)

    def _earlier_quarantine(self, tx: Tx, rows: list[dict[str, Any]]) -> None:
        """Quarantine rows an earlier run had written keep its run id (verified as such)."""
        earlier: dict[str, Any] = {}
        for part in _chunks(rows, LOOKUP_CHUNK):
            params: dict[str, Any] = {}
            listed = tx.expand("i", [r["id"] for r in part], params)
            sql = f"SELECT id, run_id FROM quarantine WHERE id IN ({listed})"
            earlier.update((str(r["id"]), r["run_id"]) for r in tx.all(sql, params))
        for row in rows:
            row["run_id"] = earlier.get(row["id"], row["run_id"])

    def _memory_updatable(self, tx: Tx, old: Row, row: dict[str, Any]) -> bool:
        """A memory's new text must not be another memory's (one text per user and kind)."""
        if old["content_hash"] == row["content_hash"]:
            return True
        where = "user_id = :u" if row["user_id"] is not None else "user_id IS NULL"
        other = tx.one(
            f"SELECT id FROM memories WHERE {where} AND kind = :k AND content_hash = :h "
            "AND id <> :id",
            {"u": row["user_id"], "k": row["kind"], "h": row["content_hash"], "id": row["id"]},
        )
        return other is None  # else left as it is: the verification reports it

    def _memory_history(
        self, tx: Tx, old: Row, row: dict[str, Any], changed: dict[str, Any]
    ) -> None:
        """The memory's history row for a re-import update; its vectors embedded the old
        text, so they go (the import embeds the new text afterwards)."""
        content_changed = old["content"] != row["content"]
        others = {k: v for k, v in changed.items() if k != "content"}
        tx.execute(
            "INSERT INTO memory_history (id, memory_id, user_id, op, old_content, new_content, "
            "changes, reason, changed_at) VALUES (:id, :m, :u, 'update', :old, :new, :ch, "
            ":why, :t)",
            {
                "id": derived_id(f"{row['_key']}:update:{self.run_id}"),
                "m": row["id"],
                "u": row["user_id"],
                "old": old["content"] if content_changed else None,
                "new": row["content"] if content_changed else None,
                "ch": self.enc.json(others),
                "why": f"{MEMORY_UPDATE_REASON} (import run {self.run_id})",
                "t": self.enc.ts(self.now),
            },
        )
        if content_changed or old["context"] != row["context"]:
            tx.execute("DELETE FROM embeddings WHERE memory_id = :m", {"m": row["id"]})

    def _resolve(self, tx: Tx, batch: Batch) -> None:
        """Memories and routing scores whose natural key is already stored are merged."""
        memories = batch.rows.get("memories")
        if memories:
            stored: dict[tuple[str | None, str, str], str] = {}
            hashes = sorted({r["content_hash"] for r in memories})
            for chunk in _chunks(hashes, LOOKUP_CHUNK):
                params: dict[str, Any] = {}
                listed = tx.expand("h", chunk, params)
                sql = (
                    "SELECT id, user_id, kind, content_hash FROM memories "
                    f"WHERE content_hash IN ({listed})"
                )
                for row in tx.all(sql, params):
                    uid = tx.id_out(row["user_id"])
                    stored[(uid, row["kind"], row["content_hash"])] = str(row["id"])
            kept = []
            remap: dict[str, str] = {}
            for row in memories:
                existing = stored.get((row["user_id"], row["kind"], row["content_hash"]))
                if existing is not None and existing != row["id"]:
                    remap[row["id"]] = existing
                    self.memories[row["_key"]] = existing
                    self._memory_keys[(row["user_id"], row["kind"], row["content_hash"])] = existing
                    self.counts["memories"].merged += 1
                    batch.count -= 1
                else:
                    kept.append(row)
            batch.rows["memories"] = kept
            if remap:
                for emb in batch.rows.get("embeddings", []):
                    emb["memory_id"] = remap.get(emb["memory_id"], emb["memory_id"])
        embeddings = batch.rows.get("embeddings")
        if embeddings:
            owners = {r["id"]: r["user_id"] for r in batch.rows.get("memories", [])}
            mine = {r["id"] for r in embeddings}
            targets = sorted({r["memory_id"] for r in embeddings})
            taken: set[tuple[str, str]] = set()
            for chunk in _chunks(targets, LOOKUP_CHUNK):
                params = {}
                listed = tx.expand("m", chunk, params)
                sql = f"SELECT id, user_id FROM memories WHERE id IN ({listed})"
                for row in tx.all(sql, params):
                    owners.setdefault(str(row["id"]), tx.id_out(row["user_id"]))
                sql = f"SELECT id, memory_id, model FROM embeddings WHERE memory_id IN ({listed})"
                for row in tx.all(sql, params):
                    if str(row["id"]) not in mine:
                        taken.add((str(row["memory_id"]), row["model"]))
            kept = []
            for row in embeddings:
                row["user_id"] = owners.get(row["memory_id"])
                if (row["memory_id"], row["model"]) in taken:
                    self.counts["embeddings"].merged += 1
                    batch.count -= 1
                else:
                    kept.append(row)
            batch.rows["embeddings"] = kept
        scores = batch.rows.get("routing_scores")
        if scores:
            keywords = sorted({r["keyword"] for r in scores})
            stored_scores: dict[tuple[str | None, str, str], str] = {}
            stored_sources: dict[tuple[str | None, str, str], str] = {}
            for chunk in _chunks(keywords, LOOKUP_CHUNK):
                params = {}
                listed = tx.expand("k", chunk, params)
                sql = (
                    "SELECT id, user_id, keyword, tool_name, metadata FROM routing_scores "
                    f"WHERE keyword IN ({listed})"
                )
                for row in tx.all(sql, params):
                    uid = tx.id_out(row["user_id"])
                    natural = (uid, row["keyword"], row["tool_name"])
                    stored_scores[natural] = str(row["id"])
                    source = _json_dict(tx, row["metadata"]).get("source_key")
                    if isinstance(source, str):
                        stored_sources[natural] = source
            kept = []
            for row in scores:
                natural = (row["user_id"], row["keyword"], row["tool_name"])
                existing = stored_scores.get(natural)
                if existing is not None and stored_sources.get(natural) == row["_key"]:
                    # The same legacy score, imported before (its id follows its last use):
                    # the stored row is the one to bring up to date.
                    row["id"] = existing
                    kept.append(row)
                elif existing is not None and existing != row["id"]:
                    self.counts["routing_scores"].merged += 1
                    batch.count -= 1
                else:
                    kept.append(row)
            batch.rows["routing_scores"] = kept

    def _spool_rows(self, table: str, rows: list[dict[str, Any]]) -> None:
        if self.spool is None or table in ("sessions", "messages"):
            return  # messages are spooled as built; sessions when the run ends
        cols = DIGEST[table]
        for row in rows:
            if table == "response_patterns":
                values = [row[c] if c != "metadata" else row["_meta"] for c in cols]
            else:
                values = [row[c] for c in cols]
            self._entries.append((table, row["id"], digest(table, values)))

    def finish(self) -> None:
        """Spool the sessions, now that their message counts are known."""
        if self.spool is None:
            return
        entries = []
        for s in self.sessions.values():
            values = (s.user_id, s.kind, s.title, s.status)
            entries.append(("sessions", s.id, digest("sessions", values)))
            if len(entries) >= 5000:
                self.spool.write(entries)
                entries = []
        self.spool.write(entries)


def _hour_of(label: str) -> int | None:
    """The hour of an EdgeSoul time-pattern key (`"14:00"`), or None."""
    head = label.strip().split(":", 1)[0]
    return int(head) if head.isdigit() and int(head) < 24 else None


def _json_dict(tx: Tx, value: Any) -> dict[str, Any]:
    decoded = tx.json_out(value) if value is not None else None
    return decoded if isinstance(decoded, dict) else {}


def _legacy_digest(
    content: str, context: str | None, confidence: float, importance: float, meta: dict[str, Any]
) -> str:
    """What a legacy memory record says, as a short digest (see LEGACY_DIGEST_KEY)."""
    import orjson

    fields = [content, context, confidence, importance, meta]
    text = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS, default=str)
    return blake2b(text, digest_size=12).hexdigest()


def _jsonish(value: Any) -> Any:
    """A value as JSON gives it back (tuples as lists), for comparing metadata."""
    import orjson

    return orjson.loads(orjson.dumps(value, default=str))


def _same_value(tx: Tx, column: str, stored: Any, new: Any) -> bool:
    """Whether a stored value equals the value about to be written (engine-independent)."""
    if stored is None or new is None:
        return stored is None and new is None
    if column.endswith("_at"):
        return render_time(stored) == render_time(new)
    if isinstance(stored, float) or isinstance(new, float):
        return abs(float(stored) - float(new)) <= 1e-12 * max(1.0, abs(float(new)))
    return bool(stored == new)


def _plain(tx: Tx, column: str, value: Any) -> Any:
    """A value as JSON can hold it (times as PostgreSQL-style text), for the update log."""
    if value is None:
        return None
    if column.endswith("_at"):
        return render_time(value)
    return value


def _imported(metadata: dict[str, Any]) -> dict[str, Any]:
    return {"imported": metadata} if metadata else {}


_HANDLERS: dict[type, Callable[[Loader, Any], None]] = {
    UserRec: Loader._user,
    ProjectRec: Loader._project,
    SessionRec: Loader._session,
    MessageRec: Loader._message,
    MemoryRec: Loader._memory,
    EmotionPatternRec: Loader._emotion_pattern,
    EmbeddingRec: Loader._embedding,
    EmotionRec: Loader._emotion,
    TraitRec: Loader._trait,
    TraitChangeRec: Loader._trait_change,
    ResponsePatternRec: Loader._pattern,
    ActionRec: Loader._action,
    RoutingScoreRec: Loader._routing,
}


def verify(store: Store, spool: Spool, counts: dict[str, TableCounts]) -> list[str]:
    """Read every spooled row back by id and compare digests; returns the problems found
    (empty when the store holds exactly what was loaded) and fills the counts."""
    problems: list[str] = []
    for chunk in spool.read():
        by_table: dict[str, list[tuple[str, bytes]]] = {}
        for table, rid, dig in chunk:
            by_table.setdefault(table, []).append((rid, dig))
        with store.read() as tx:
            for table, entries in by_table.items():
                cols = DIGEST[table]
                decoders = [(c, _decoder(tx, c)) for c in cols]
                got: dict[str, bytes] = {}
                for part in _chunks(entries, LOOKUP_CHUNK):
                    params: dict[str, Any] = {}
                    listed = tx.expand("i", [rid for rid, _ in part], params)
                    sql = f"SELECT id, {', '.join(cols)} FROM {table} WHERE id IN ({listed})"
                    for row in tx.all(sql, params):
                        values = [row[c] if f is None else f(row[c]) for c, f in decoders]
                        got[str(row["id"])] = digest(table, values)
                c = counts[table]
                for rid, dig in entries:
                    stored = got.get(rid)
                    if stored is None:
                        c.missing += 1
                        if len(problems) < 20:
                            problems.append(f"{table} {rid}: missing from the store")
                    elif stored != dig:
                        c.different += 1
                        if len(problems) < 20:
                            legacy = _legacy_name(tx, table, rid)
                            problems.append(f"{table} {rid}{legacy}: stored content differs")
                    else:
                        c.verified += 1
    return problems


def _legacy_name(tx: Tx, table: str, rid: str) -> str:
    """` (legacy <source key>)`: the legacy file and record a stored row came from."""
    if "metadata" not in COLUMNS[table]:
        return ""
    row = tx.one(f"SELECT metadata FROM {table} WHERE id = :id", {"id": rid})
    meta = _json_dict(tx, row["metadata"]) if row is not None else {}
    key = meta.get("source_key")
    return f" (legacy {key})" if isinstance(key, str) else ""


def _decoder(tx: Tx, column: str) -> Callable[[Any], Any] | None:
    """How a stored value of `column` is decoded before its digest (None: as it is)."""
    if column == "metadata":
        return tx.json_out
    if column.endswith("_id") or column == "id":
        return tx.id_out
    return None
