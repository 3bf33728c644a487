"""Timestamp normalisation: every legacy style to an aware UTC datetime (or None)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, tzinfo
from typing import Any

_FRACTION = re.compile(r"(\.\d{6})\d+")
_MIN_EPOCH = -62_135_596_800.0  # 0001-01-01
_MAX_EPOCH = 253_402_300_799.0  # 9999-12-31


def parse_iso(value: Any, naive_tz: tzinfo = UTC) -> datetime | None:
    """Parse ISO 8601 / SQLite datetime text; naive values are taken in `naive_tz`.

    Accepts `Z` and offsets, `T` or space separators, and 0–9 fractional digits (more
    than 6 are truncated). Returns None when `value` is not such a string.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not 10 <= len(text) <= 64:
        return None
    text = _FRACTION.sub(r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return _to_utc(parsed, naive_tz)


def from_epoch(value: Any, unit: str = "s") -> datetime | None:
    """Seconds (`unit="s"`) or milliseconds (`"ms"`) since the epoch → UTC; None if not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    seconds = float(value) / (1000.0 if unit == "ms" else 1.0)
    if math.isnan(seconds) or not _MIN_EPOCH <= seconds <= _MAX_EPOCH:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def parse_any(value: Any, naive_tz: tzinfo = UTC) -> datetime | None:
    """ISO text, or an epoch number (milliseconds when it is larger than 10^11)."""
    if isinstance(value, str):
        return parse_iso(value, naive_tz)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return from_epoch(value, "ms" if abs(value) > 1e11 else "s")
    return None


def _to_utc(value: datetime, naive_tz: tzinfo) -> datetime | None:
    try:
        if value.tzinfo is None:
            value = value.replace(tzinfo=naive_tz)
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
