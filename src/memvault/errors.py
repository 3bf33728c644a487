"""One exception hierarchy for everything memvault raises on purpose."""

from __future__ import annotations

# `typing` only for the type checker: `memvault hook --background` imports this module and
# exits before anything heavy; typing alone is a fifth of a bare interpreter's start-up.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class MemvaultError(Exception):
    """Base of every error memvault raises deliberately."""

    exit_code = 1


class InvalidInput(MemvaultError, ValueError):
    """A value given to the API is not acceptable; names the field and the value."""

    def __init__(self, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        shown = repr(value)
        if len(shown) > 120:
            shown = shown[:117] + "..."
        super().__init__(f"invalid {field}={shown}: {reason}")


class NotFound(MemvaultError, LookupError):
    """The record asked for does not exist (or is not visible to this owner)."""

    def __init__(self, entity: str, key: Any) -> None:
        self.entity = entity
        self.key = key
        super().__init__(f"{entity} {key!r} not found")


class Conflict(MemvaultError):
    """The write would break a uniqueness rule or an allowed state transition."""


class Duplicate(Conflict):
    """`memories.add(..., dedupe="raise")` met the same content already stored for that owner
    and kind; `existing` is the stored memory."""

    def __init__(self, existing: Any) -> None:
        self.existing = existing
        super().__init__(f"memory {existing.id} already holds this content for this owner and kind")


class Forbidden(MemvaultError):
    """The caller may not do this (for example a user writing the shared base layer)."""


class StoreError(MemvaultError):
    """The database could not do what was asked (connection, I/O, corruption)."""


class StoreUnavailable(StoreError):
    """The database server cannot be reached or the URL cannot be opened."""


class StoreBusy(StoreError):
    """The database stayed locked by another writer for longer than the busy timeout."""


class StoreFull(StoreError):
    """The database or its disk is full; committed data is intact."""


class SchemaTooNew(StoreError):
    """The database was written by a newer memvault; this version will not touch it."""


class SchemaError(StoreError):
    """The database schema is missing or not a memvault schema."""


class IntegrityViolation(StoreError):
    """A constraint of the schema refused the write (foreign key, CHECK, UNIQUE)."""
