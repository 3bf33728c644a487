"""memvault: a durable, searchable store for an AI assistant's state, on SQLite or PostgreSQL.

    import memvault
    vault = memvault.open()                       # ./memvault.db, or $MEMVAULT_URL
    alice = vault.users.ensure("alice")
    chat = vault.sessions.create(alice.id, title="first chat")
    vault.messages.append(chat.id, "user", "I love hiking in the Alps")
    vault.memories.add(alice.id, "preference", "Alice loves hiking", confidence=0.9)
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
