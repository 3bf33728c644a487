"""Input checks shared by the domain modules: each failure names the field and the value."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import orjson

from memvault.clock import as_utc
from memvault.errors import InvalidInput
from memvault.ids import is_id

MAX_TEXT = 10_000_000  # 10 MB of text in one field is a bug, not a memory


def text(field: str, value: Any, *, allow_empty: bool = False, max_len: int = MAX_TEXT) -> str:
    """A string, non-empty unless allowed, without NUL bytes."""
    if not isinstance(value, str):
        raise InvalidInput(field, value, "expected a string")
    if not allow_empty and not value.strip():
        raise InvalidInput(field, value, "must not be empty")
    if "\x00" in value:
        raise InvalidInput(field, value, "must not contain NUL bytes")
    if len(value) > max_len:
        raise InvalidInput(field, value[:40], f"longer than {max_len} characters")
    return value


def optional_text(field: str, value: Any, **kw: Any) -> str | None:
    return None if value is None else text(field, value, **kw)


def choice(field: str, value: Any, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise InvalidInput(field, value, f"expected one of {', '.join(allowed)}")
    return str(value)


def unit(field: str, value: Any) -> float:
    """A finite number between 0 and 1."""
    number = number_(field, value)
    if not 0.0 <= number <= 1.0:
        raise InvalidInput(field, value, "must be between 0 and 1")
    return number


def number_(field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(field, value, "expected a number")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInput(field, value, "must be finite")
    return number


def integer(field: str, value: Any, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, value, "expected an integer")
    if minimum is not None and value < minimum:
        raise InvalidInput(field, value, f"must be at least {minimum}")
    return value


def id_(field: str, value: Any) -> str:
    if not is_id(value):
        raise InvalidInput(field, value, "expected a UUID string")
    return str(value)


def optional_id(field: str, value: Any) -> str | None:
    return None if value is None else id_(field, value)


def when(field: str, value: Any) -> datetime:
    return as_utc(value, field)


def optional_when(field: str, value: Any) -> datetime | None:
    return None if value is None else as_utc(value, field)


def json_object(field: str, value: Any) -> dict[str, Any]:
    """A JSON-serialisable mapping (None → {})."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(field, value, "expected a JSON object (a dict)")
    json_value(field, value)
    return dict(value)


def json_value(field: str, value: Any) -> Any:
    """Any JSON-serialisable value; NaN and infinities are refused (not JSON)."""
    try:
        orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError as exc:
        raise InvalidInput(field, value, f"not JSON-serialisable: {exc}") from exc
    _no_nan(field, value)
    return value


def _no_nan(field: str, value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(field, value, "NaN and infinity are not JSON")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(field, key, "JSON object keys must be strings")
            _no_nan(field, item)
    elif isinstance(value, list | tuple):
        for item in value:
            _no_nan(field, item)
