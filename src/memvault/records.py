"""Frozen records returned by the API. Plain data: no connection, no lazy loading.

Every record of every domain lives here, so that a record has one shape: the row decoder
(`memvault.store.rows`) reads its fields' annotations, and `to_dict` / `to_json` turn any of
them into JSON-ready data (`to_json` for the nested ones and lists).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, field
from datetime import datetime
from typing import Any, Generic, TypeVar

# Each record becomes a dataclass on first use (`memvault.deferred`): building all 35 here
# was most of the start-up of `memvault hook`, which runs once per tool call and needs a
# dozen. The type checker sees plain dataclasses.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from dataclasses import dataclass
else:
    from memvault.deferred import Deferred

    dataclass = Deferred(globals())

T = TypeVar("T")


def to_dict(record: Any) -> dict[str, Any]:
    """A record as a JSON-ready dict (times as ISO-8601 strings)."""
    out = asdict(record)
    for key, value in out.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
    return out


def to_json(record: Any) -> Any:
    """A record (or list of records), nested ones included, as JSON-ready data."""
    if isinstance(record, list | tuple):
        return [to_json(r) for r in record]
    if hasattr(record, "__dataclass_fields__"):
        return _iso(asdict(record))
    return _iso(record)


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_iso(v) for v in value]
    return value


# --- owners, conversations, memories -------------------------------------------------------


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
    key: str | None = None  # the caller's name for the session, unique per owner


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
    key: str | None = None  # the caller's name for the memory, unique per owner
    dedupe: bool = True  # takes part in content de-duplication (see Memories.add)
    ttl_seconds: float | None = None  # sliding expiry: a refreshing read sets now + ttl

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


# --- affect -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmotionEvent:
    id: str
    user_id: str
    session_id: str | None
    emotion: str
    intensity: float  # always 0–1 once stored
    trigger: str | None
    context: str | None
    metadata: dict[str, Any]
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class TriggerCount:
    trigger: str
    count: int


@dataclass(frozen=True, slots=True)
class EmotionPattern:
    """What the events of one emotion say about a user (computed, never stored)."""

    emotion: str
    count: int
    frequency: float  # share of the user's events in the range, 0–1
    avg_intensity: float
    max_intensity: float
    first_at: datetime
    last_at: datetime
    top_triggers: list[TriggerCount]
    hours: list[int]  # 24 counts, UTC hour of day
    trend: str  # "increasing" | "decreasing" | "stable"
    trend_delta: float | None  # avg intensity of the recent half minus the earlier half


@dataclass(frozen=True, slots=True)
class EmotionalPatterns:
    user_id: str
    since: datetime | None
    until: datetime | None
    total: int
    dominant: str | None
    window_days: float
    patterns: list[EmotionPattern]


@dataclass(frozen=True, slots=True)
class TrajectoryPoint:
    at: datetime
    emotion: str
    intensity: float | None  # None when taken from a message's emotion label
    source: str  # "event" or "message"


@dataclass(frozen=True, slots=True)
class Trait:
    id: str
    user_id: str | None
    agent: str
    name: str
    value: float
    updated_at: datetime
    metadata: dict[str, Any] = field(default_factory=dict)  # e.g. an imported "description"


@dataclass(frozen=True, slots=True)
class TraitChange:
    id: str
    trait_id: str
    user_id: str | None
    agent: str
    name: str
    old_value: float | None
    new_value: float
    reason: str | None
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class Personality:
    user_id: str | None
    agent: str
    traits: dict[str, float]
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class UsageStats:
    conversations: int
    messages: int
    avg_messages_per_session: float
    avg_session_seconds: float  # from started_at to ended_at (or last update when open)
    first_session_at: datetime | None
    last_activity_at: datetime | None


@dataclass(frozen=True, slots=True)
class Profile:
    user_id: str
    personality: dict[str, float]
    voice: dict[str, Any]
    interests: list[str]
    dislikes: list[str]
    usage: UsageStats


@dataclass(frozen=True, slots=True)
class ConversationContext:
    session_id: str
    user_id: str | None
    messages: list[Message]
    topics: list[str]
    current_emotion: str | None
    trajectory: list[TrajectoryPoint]


# --- learned behaviour --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResponsePattern:
    id: str
    user_id: str | None
    intent: str
    trigger_context: str
    response_text: str
    success_score: float
    usage_count: int
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    last_used_at: datetime | None

    @property
    def is_base(self) -> bool:
        """True for a pattern of the shared base layer."""
        return self.user_id is None


@dataclass(frozen=True, slots=True)
class PatternUse:
    """One user's uses of a pattern: how many, the mean outcome, the last time."""

    pattern_id: str
    user_id: str
    usage_count: int
    success_total: float
    last_used_at: datetime | None

    @property
    def success_rate(self) -> float:
        return self.success_total / self.usage_count if self.usage_count else 0.0


# --- tools and routing --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Action:
    id: str
    user_id: str | None
    project_id: str | None
    session_id: str | None
    tool_name: str
    tool_type: str
    input: str | None
    file_paths: list[str]
    exit_code: int | None
    duration_ms: float | None
    metadata: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ToolStats:
    """Per-tool statistics. Success: exit code 0; failure: any other code; an action with no
    exit code is *unknown* and left out of the success rate."""

    tool_name: str
    tool_type: str
    count: int
    successes: int
    failures: int
    unknown: int
    success_rate: float | None  # successes / (successes + failures); None when none known
    avg_ms: float | None
    median_ms: float | None  # nearest-rank percentiles over actions with a duration
    p95_ms: float | None
    last_at: datetime | None


@dataclass(frozen=True, slots=True)
class RoutingScore:
    id: str
    user_id: str | None
    keyword: str
    tool_name: str
    tool_type: str
    weight: float
    usage_count: int
    success_count: int
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class Suggestion:
    tool_name: str
    tool_type: str
    score: float
    matched: list[str]  # the query keywords that voted for this tool, strongest first
    usage_count: int
    success_count: int


# --- coordination -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    id: str
    user_id: str | None
    project_id: str | None
    session_id: str | None
    prompt: str
    prompt_type: str | None
    status: str
    metadata: dict[str, Any]
    created_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class TaskList:
    id: str
    request_id: str
    user_id: str | None
    wave: int
    name: str | None
    status: str
    created_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Subtask:
    id: str
    task_list_id: str
    user_id: str | None
    agent_type: str | None
    agent_id: str | None
    description: str
    status: str
    result: Any
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to completion, when both are known."""
        if self.started_at is None or self.completed_at is None:
            return None
        return (self.completed_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class RequestOverview:
    request: Request
    waves: int
    subtasks: dict[str, int] = field(default_factory=dict)  # status → count


@dataclass(frozen=True, slots=True)
class AgentMessage:
    id: str
    user_id: str | None
    project_id: str | None
    from_agent: str
    to_agent: str | None
    topic: str | None
    message_type: str
    payload: Any
    priority: int
    created_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class AgentSubscription:
    id: str
    user_id: str | None
    agent_id: str
    topic: str
    created_at: datetime


# --- search -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hit(Generic[T]):
    """One search result: the record, its score and which signals found it."""

    item: T
    score: float  # RRF score in hybrid mode, BM25-style in text mode, cosine in vector mode
    matched: tuple[str, ...]  # "text", "vector"
    text_score: float | None = None
    vector_score: float | None = None
    text_rank: int | None = None
    vector_rank: int | None = None


class Hits(list["Hit[T]"]):  # a string: `Hit` is built on first use
    """The hits of a search, best first (a list), with `notes`: what the caller should know
    about how they were found, e.g. that the vector leg had no vector to search."""

    def __init__(self, hits: Iterable[Hit[T]] = (), notes: Sequence[str] = ()) -> None:
        super().__init__(hits)
        self.notes: list[str] = list(notes)


@dataclass(frozen=True, slots=True)
class Pattern:
    """A response pattern as returned by `search.patterns`."""

    id: str
    user_id: str | None
    intent: str
    trigger_context: str
    response_text: str
    success_score: float


# --- retention ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    id: str
    entity: str
    max_age_days: int | None
    keep_last: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PruneReport:
    dry_run: bool
    at: datetime
    removed: dict[str, int]  # entity → rows removed (or that would be, on a dry run)
    policies: list[RetentionPolicy]

    @property
    def total(self) -> int:
        return sum(self.removed.values())


if not TYPE_CHECKING:
    __getattr__, __dir__ = dataclass.seal()
    del dataclass, Deferred
del TYPE_CHECKING  # not a record
