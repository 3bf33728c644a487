"""memvault: a durable, searchable store for an AI assistant's state, on SQLite or PostgreSQL.

Open a store with `memvault.open()` (``./memvault.db``, ``$MEMVAULT_URL`` or a URL), then use
the domain APIs hung on the returned `Vault`: ``vault.users``, ``vault.sessions``,
``vault.messages``, ``vault.memories`` and the others listed in the README.

`Vault` and `open` load on first use (PEP 562), so that ``import memvault.errors`` and the
CLI's ``--help`` do not import every domain module.
"""

import typing

from memvault.errors import (
    Conflict,
    Duplicate,
    Forbidden,
    IntegrityViolation,
    InvalidInput,
    MemvaultError,
    NotFound,
    SchemaError,
    SchemaTooNew,
    StoreBusy,
    StoreError,
    StoreFull,
    StoreUnavailable,
)
from memvault.events import EventBus, Subscription
from memvault.ids import derived_id, new_id
from memvault.records import (
    Action,
    AgentMessage,
    AgentSubscription,
    ConversationContext,
    EmotionalPatterns,
    EmotionEvent,
    EmotionPattern,
    Event,
    Hit,
    Hits,
    Memory,
    MemoryChange,
    Message,
    Pattern,
    PatternUse,
    Personality,
    Profile,
    Project,
    PruneReport,
    Request,
    RequestOverview,
    ResponsePattern,
    RetentionPolicy,
    RoutingScore,
    Session,
    Stats,
    Subtask,
    Suggestion,
    TaskList,
    ToolStats,
    Trait,
    TraitChange,
    TrajectoryPoint,
    TriggerCount,
    UsageStats,
    User,
    to_dict,
    to_json,
)
from memvault.scope import ANY, Owner, ScopedVault

if typing.TYPE_CHECKING:
    from memvault.vault import Vault, open

__version__ = "0.1.0"


def __getattr__(name: str) -> typing.Any:
    if name in ("Vault", "open"):
        from memvault import vault

        value = getattr(vault, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "ANY",
    "Action",
    "AgentMessage",
    "AgentSubscription",
    "Conflict",
    "ConversationContext",
    "Duplicate",
    "EmotionEvent",
    "EmotionPattern",
    "EmotionalPatterns",
    "Event",
    "EventBus",
    "Forbidden",
    "Hit",
    "Hits",
    "IntegrityViolation",
    "InvalidInput",
    "Memory",
    "MemoryChange",
    "MemvaultError",
    "Message",
    "NotFound",
    "Owner",
    "Pattern",
    "PatternUse",
    "Personality",
    "Profile",
    "Project",
    "PruneReport",
    "Request",
    "RequestOverview",
    "ResponsePattern",
    "RetentionPolicy",
    "RoutingScore",
    "SchemaError",
    "SchemaTooNew",
    "ScopedVault",
    "Session",
    "Stats",
    "StoreBusy",
    "StoreError",
    "StoreFull",
    "StoreUnavailable",
    "Subscription",
    "Subtask",
    "Suggestion",
    "TaskList",
    "ToolStats",
    "Trait",
    "TraitChange",
    "TrajectoryPoint",
    "TriggerCount",
    "UsageStats",
    "User",
    "Vault",
    "__version__",
    "derived_id",
    "new_id",
    "open",
    "to_dict",
    "to_json",
]
