"""UTC time, injectable so tests can pin it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


Clock = Callable[[], datetime]


def as_utc(value: datetime, field: str = "time") -> datetime:
    """Return `value` in UTC; a naive datetime is taken to be UTC already."""
    from memvault.errors import InvalidInput

    if not isinstance(value, datetime):
        raise InvalidInput(field, value, "expected a datetime")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
