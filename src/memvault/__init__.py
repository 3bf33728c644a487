"""memvault: a durable, searchable store for an AI assistant's state, on SQLite or PostgreSQL.

Open a store with `memvault.open()` (``./memvault.db``, ``$MEMVAULT_URL`` or a URL), then use
the domain APIs hung on the returned `Vault`: ``vault.users``, ``vault.sessions``,
``vault.messages``, ``vault.memories`` and the others listed in the README.
"""

from memvault.domain import ANY
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
from memvault.vault import Vault, open

__version__ = "0.1.0"

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
