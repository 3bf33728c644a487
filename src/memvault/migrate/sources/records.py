"""Typed records yielded by every source reader, already in memvault's canonical model.

Every record has a `source_key`: a stable string derived from the record's identity in the
legacy data (format, file and native id, or a content hash when there is no id). The
pipeline derives deterministic ids from it, so a re-run never duplicates anything.

Ordering guarantee: a record is always yielded after every record it references by key
(users and projects before sessions, a session before its messages and child sessions, a
memory before its embedding, a trait before its changes).

Owners: `owner_handle`/`user_handle` is a user handle; `None` means the shared *base* layer
(base response patterns, global routing scores). Times are timezone-aware UTC or `None`
when the source has no time for the record.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Metadata = dict[str, Any]

MEMORY_KINDS = frozenset(
    {"fact", "preference", "event", "relation", "pattern", "summary", "emotional",
     "conversation", "note"}
)  # fmt: skip


def _meta() -> Metadata:
    return {}


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRec:
    """An owner. Yielded once per handle, before anything owned by it."""

    source_key: str
    handle: str
    display_name: str | None = None
    profile: Metadata = field(default_factory=_meta)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    metadata: Metadata = field(default_factory=_meta)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectRec:
    """A workspace or project (AIT42 workspace, DCM project path)."""

    source_key: str
    name: str
    path: str | None = None
    metadata: Metadata = field(default_factory=_meta)


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRec:
    """A conversation or task session; `parent_source_key` is set for sub-agent instances,
    and `instance_no` numbers an instance among its parent's (unique within the parent)."""

    source_key: str
    user_handle: str | None
    kind: str
    title: str | None = None
    status: str = "active"
    project_source_key: str | None = None
    parent_source_key: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    ended_at: datetime | None = None
    metadata: Metadata = field(default_factory=_meta)
    instance_no: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageRec:
    """One message; `seq` is its 1-based position in its session, in source order."""

    source_key: str
    session_source_key: str
    user_handle: str | None
    seq: int
    role: str
    content: str
    created_at: datetime | None = None
    emotion: str | None = None
    metadata: Metadata = field(default_factory=_meta)


@dataclass(frozen=True, slots=True, kw_only=True)
class MemoryRec:
    """A memory (fact, preference, event, relation, pattern, summary, emotional, ...)."""

    source_key: str
    owner_handle: str | None
    kind: str
    content: str
    context: str | None = None
    confidence: float = 1.0
    importance: float = 0.5
    access_count: int = 0
    last_accessed_at: datetime | None = None
    session_source_key: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    metadata: Metadata = field(default_factory=_meta)


@dataclass(frozen=True, slots=True, kw_only=True)
class EmbeddingRec:
    """A vector for a memory, a message or a response pattern."""

    source_key: str
    target_source_key: str
    target_kind: Literal["memory", "message", "response_pattern"]
    model: str
    dim: int
    vector: tuple[float, ...]
    created_at: datetime | None = None
    metadata: Metadata = field(default_factory=_meta)

    def as_float32(self) -> bytes:
        """The vector as little-endian float32 bytes (4 × dim)."""
        return struct.pack(f"<{len(self.vector)}f", *self.vector)


@dataclass(frozen=True, slots=True, kw_only=True)
class EmotionRec:
    """One emotion event; `intensity` and `confidence` are on a 0–1 scale."""

    source_key: str
    owner_handle: str | None
    emotion: str
    intensity: float
    confidence: float | None = None
    trigger: str | None = None
    context: str | None = None
    source: str | None = None
    session_source_key: str | None = None
    created_at: datetime | None = None
    metadata: Metadata = field(default_factory=_meta)


@dataclass(frozen=True, slots=True, kw_only=True)
class EmotionPatternRec:
    """A legacy aggregate of emotion events (EdgeSoul); `avg_intensity` is on a 0–1 scale."""

    source_key: str
    owner_handle: str | None
    emotion: str
    frequency: int
    avg_intensity: float
    triggers: tuple[str, ...] = ()
    time_patterns: dict[str, int] = field(default_factory=dict)
    trend: str | None = None
    last_occurrence: datetime | None = None
    metadata: Metadata = field(default_factory=_meta)


@dataclass(frozen=True, slots=True, kw_only=True)
class TraitRec:
    """A personality trait's current value (0–1)."""

    source_key: str
    owner_handle: str | None
    agent: str
    name: str
    value: float
    description: str | None = None
    updated_at: datetime | None = None
    metadata: Metadata = field(default_factory=_meta)


@dataclass(frozen=True, slots=True, kw_only=True)
class TraitChangeRec:
    """One step of a trait's evolution; `old_value` is None for the initial value."""

    source_key: str
    trait_source_key: str
    name: str
    old_value: float | None
    new_value: float
    reason: str | None = None
    created_at: datetime | None = None
    metadata: Metadata = field(default_factory=_meta)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponsePatternRec:
    """A learned response pattern; owner None is the base layer."""

    source_key: str
    owner_handle: str | None
    intent: str
    trigger_context: str
    response_text: str
    success_score: float
    usage_count: int
    created_at: datetime | None = None
    updated_at: datetime | None = None
    metadata: Metadata = field(default_factory=_meta)


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRec:
    """One tool use."""

    source_key: str
    owner_handle: str | None
    tool_name: str
    tool_type: str
    session_source_key: str | None = None
    project_source_key: str | None = None
    input: str | None = None
    file_paths: tuple[str, ...] = ()
    exit_code: int | None = None
    duration_ms: float | None = None
    created_at: datetime | None = None
    metadata: Metadata = field(default_factory=_meta)


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingScoreRec:
    """A keyword → tool routing weight; owner None is the global (base) table."""

    source_key: str
    owner_handle: str | None
    keyword: str
    tool_name: str
    tool_type: str
    weight: float
    usage_count: int
    success_count: int
    last_used_at: datetime | None = None
    metadata: Metadata = field(default_factory=_meta)


@dataclass(frozen=True, slots=True, kw_only=True)
class Quarantined:
    """Something that could not be loaded: a bad record, or a whole corrupt file.

    `file` is relative to the source root; `record_index` is the 0-based index in its
    array (or the SQLite row id), `line` the 1-based line where the record starts, when
    known. `raw` holds the record's bytes (at most `ScanOptions.max_raw_bytes`).
    """

    source_key: str
    format: str
    file: str
    reason: str
    raw: bytes
    record_index: int | None = None
    line: int | None = None
    field: str | None = None
    raw_truncated: bool = False
    whole_file: bool = False


Record = (
    UserRec | ProjectRec | SessionRec | MessageRec | MemoryRec | EmbeddingRec | EmotionRec
    | EmotionPatternRec | TraitRec | TraitChangeRec | ResponsePatternRec | ActionRec
    | RoutingScoreRec | Quarantined
)  # fmt: skip

__all__ = [
    "MEMORY_KINDS",
    "ActionRec",
    "EmbeddingRec",
    "EmotionPatternRec",
    "EmotionRec",
    "MemoryRec",
    "MessageRec",
    "Metadata",
    "ProjectRec",
    "Quarantined",
    "Record",
    "ResponsePatternRec",
    "RoutingScoreRec",
    "SessionRec",
    "TraitChangeRec",
    "TraitRec",
    "UserRec",
]
