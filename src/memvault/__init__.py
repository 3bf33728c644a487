"""memvault: a durable, searchable store for an AI assistant's state, on SQLite or PostgreSQL.

Open a store with `memvault.open()` (``./memvault.db``, ``$MEMVAULT_URL`` or a URL), then use
the domain APIs hung on the returned `Vault`: ``vault.users``, ``vault.sessions``,
``vault.messages``, ``vault.memories`` and the others listed in the README.

`Vault` and `open` load on first use (PEP 562), so that ``import memvault.errors`` and the
CLI's ``--help`` do not import every domain module.
"""

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

# No `import typing` at run time: `memvault hook` starts here (see `_LAZY` below).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

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
    from memvault.vault import Vault, open

__version__ = "0.1.0"

# Where each lazily loaded public name lives. `memvault hook` runs on every tool call of a
# coding agent and starts as `memvault.entry`, which runs this package's `__init__` first:
# importing the records (a hundred dataclasses), the event bus and the vault here cost the
# hook most of its start-up, so every name but the errors loads on first use (PEP 562).
_LAZY = {
    "EventBus": "events",
    "Subscription": "events",
    "derived_id": "ids",
    "new_id": "ids",
    "ANY": "scope",
    "Owner": "scope",
    "ScopedVault": "scope",
    "Vault": "vault",
    "open": "vault",
}


def __getattr__(name: str) -> "Any":
    module = _LAZY.get(name)
    if module is None and name in __all__:
        module = "records"
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # __import__ (not importlib.import_module): `python -X importtime` lists it.
    value = getattr(__import__(f"memvault.{module}", fromlist=[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


del TYPE_CHECKING  # not a public name

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
