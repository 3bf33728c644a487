"""memvault: a durable, searchable store for an AI assistant's state, on SQLite or PostgreSQL.

Open a store with `memvault.open()` (``./memvault.db``, ``$MEMVAULT_URL`` or a URL), then use
the domain APIs hung on the returned `Vault`: ``vault.users``, ``vault.sessions``,
``vault.messages``, ``vault.memories`` and the others listed in the README.

`Vault` and `open` load on first use (PEP 562), so that ``import memvault.errors`` and the
CLI's ``--help`` do not import every domain module.
"""

from typing import TYPE_CHECKING, Any

from memvault.errors import (
    Conflict,
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
from memvault.ids import derived_id, new_id
from memvault.records import (
    Event,
    Memory,
    MemoryChange,
    Message,
    Project,
    Session,
    Stats,
    User,
)
from memvault.scope import ANY

if TYPE_CHECKING:
    from memvault.vault import Vault, open

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
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
    "Conflict",
    "Event",
    "Forbidden",
    "IntegrityViolation",
    "InvalidInput",
    "Memory",
    "MemoryChange",
    "MemvaultError",
    "Message",
    "NotFound",
    "Project",
    "SchemaError",
    "SchemaTooNew",
    "Session",
    "Stats",
    "StoreBusy",
    "StoreError",
    "StoreFull",
    "StoreUnavailable",
    "User",
    "Vault",
    "__version__",
    "derived_id",
    "new_id",
    "open",
]
