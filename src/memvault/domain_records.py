"""Frozen records of the affect, patterns, tools, coordination and retention domains.

Plain data like `memvault.records`: no connection, no lazy loading; `records.to_dict` turns
any of them into JSON-ready data (use `to_json` for the nested ones).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from memvault.records import Message


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
