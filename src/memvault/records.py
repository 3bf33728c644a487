"""Frozen records returned by the API. Plain data: no connection, no lazy loading."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


def to_dict(record: Any) -> dict[str, Any]:
    """A record as a JSON-ready dict (times as ISO-8601 strings)."""
    out = asdict(record)
    for key, value in out.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
    return out


@dataclass(frozen=True, slots=True)
class User:
    id: str
    handle: str
    display_name: str | None
    profile: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    user_id: str | None
    name: str
    path: str | None
    metadata: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    user_id: str | None
    project_id: str | None
    parent_id: str | None
    kind: str
    title: str | None
    status: str
    metadata: dict[str, Any]
    message_count: int
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    instance_no: int | None = None  # a sub-agent instance's number, unique within its parent
    instance_count: int = 0  # child sessions (instances)
    legacy_key: str | None = None  # the legacy record this session mirrors (dual-write)


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    session_id: str
    user_id: str | None
    seq: int
    role: str
    content: str
    emotion: str | None
    metadata: dict[str, Any]
    created_at: datetime
    edited_at: datetime | None


@dataclass(frozen=True, slots=True)
class Memory:
    id: str
    user_id: str | None
    kind: str
    content: str
    context: str | None
    confidence: float
    importance: float
    access_count: int
    last_accessed_at: datetime | None
    session_id: str | None
    message_id: str | None
    content_hash: str
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None

    @property
    def is_base(self) -> bool:
        """True for a memory of the shared base layer."""
        return self.user_id is None


@dataclass(frozen=True, slots=True)
class MemoryChange:
    id: str
    memory_id: str
    op: str
    old_content: str | None
    new_content: str | None
    changes: dict[str, Any]
    reason: str | None
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class Stats:
    engine: str
    url: str
    schema_version: str
    size_bytes: int
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Event:
    """One write, as published on the Vault's event stream."""

    kind: str  # e.g. "message.appended", "memory.updated"
    user_id: str | None
    ids: dict[str, str]
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)
