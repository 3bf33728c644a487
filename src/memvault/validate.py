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


MAX_JSON_DEPTH = 100  # levels of nested objects and arrays in one JSON value
INT64 = 2**63  # JSON integers must fit a signed 64-bit integer (as over HTTP)


def text(field: str, value: Any, *, allow_empty: bool = False, max_len: int = MAX_TEXT) -> str:
    """A string, non-empty unless allowed, that every engine can store: no NUL character
    (PostgreSQL refuses it in text and jsonb) and no lone surrogate (not UTF-8)."""
    if not isinstance(value, str):
        raise InvalidInput(field, value, "expected a string")
    if not allow_empty and not value.strip():
        raise InvalidInput(field, value, "must not be empty")
    if len(value) > max_len:
        raise InvalidInput(field, value[:40], f"longer than {max_len} characters")
    if "\x00" in value:
        raise InvalidInput(field, value, "must not contain NUL characters")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput(field, value, "not valid Unicode text (a lone surrogate)") from None
    return value


def optional_text(field: str, value: Any, **kw: Any) -> str | None:
    return None if value is None else text(field, value, **kw)


MAX_KEY = 1000


def key(field: str, value: Any) -> str:
    """A caller-chosen key (of a memory or a session): non-empty text of at most MAX_KEY
    characters, kept exactly as given (no case or spacing folded)."""
    return text(field, value, max_len=MAX_KEY)


def optional_key(field: str, value: Any) -> str | None:
    return None if value is None else key(field, value)


def key_prefix(field: str, value: Any) -> str:
    """A key prefix: any text ("" matches every key), at most MAX_KEY characters."""
    return text(field, value, allow_empty=True, max_len=MAX_KEY)


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


def integer(field: str, value: Any, *, minimum: int | None = None, bits: int = 64) -> int:
    """An int (not a bool) that fits a signed integer column of `bits` bits (32: PostgreSQL's
    `integer`), at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, value, "expected an integer")
    if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        raise InvalidInput(field, value, f"integer outside the signed {bits}-bit range")
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
    """A JSON-storable mapping (None → {}): see `json_value`."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(field, value, "expected a JSON object (a dict)")
    json_value(field, value)
    return dict(value)


def json_value(field: str, value: Any) -> Any:
    """A value every engine stores as JSON and gives back unchanged: objects with string
    keys, arrays (lists, tuples), strings (checked as `text`), integers within the signed
    64-bit range, finite floats, booleans and null, nested at most `MAX_JSON_DEPTH` levels.
    Other values orjson can serialise (datetimes, UUIDs) are accepted as their JSON form.
    NaN and infinities are refused (not JSON). `InvalidInput` names `field` and, in its
    reason, where in the value the problem is."""
    try:
        _check_json(value, 0)
    except _Refused as refused:
        steps = [f"[{step!r}]" for step in reversed(refused.path)]
        if len(steps) > 6:
            steps = [*steps[:3], "…", *steps[-2:]]
        where = field + "".join(steps)
        raise InvalidInput(field, refused.value, f"{refused.reason} (at {where})") from None
    return value


class _Refused(Exception):
    """A JSON value refused; `path` collects the keys and indexes on the way out."""

    def __init__(self, value: Any, reason: str) -> None:
        self.value = value
        self.reason = reason
        self.path: list[str | int] = []


def _check_json(value: Any, depth: int) -> None:
    # Exact types first (isinstance against Mapping is slow); plain leaves are checked in
    # the loops without a call. Only a refusal pays for building the path to it.
    kind = type(value)
    if kind is dict or kind is list or kind is tuple:
        if depth >= MAX_JSON_DEPTH:
            raise _Refused("…", f"nested deeper than {MAX_JSON_DEPTH} levels")
        pairs = value.items() if kind is dict else enumerate(value)
        for key, item in pairs:
            try:
                if kind is dict and not (type(key) is str and key.isascii() and "\x00" not in key):
                    if not isinstance(key, str):
                        raise _Refused(key, "JSON object keys must be strings")
                    _check_text(key)
                leaf = type(item)
                if leaf is str:
                    if not item.isascii() or "\x00" in item:
                        _check_text(item)
                elif leaf is int:
                    if not -INT64 <= item < INT64:
                        raise _Refused(item, "integer outside the signed 64-bit range")
                elif leaf is float:
                    if not math.isfinite(item):
                        raise _Refused(item, "NaN and infinity are not JSON")
                elif item is not None and leaf is not bool:
                    _check_json(item, depth + 1)
            except _Refused as refused:
                refused.path.append(key)
                raise
    elif value is None or kind is bool:
        return
    elif isinstance(value, str):
        _check_text(value)
    elif isinstance(value, int):
        if not -INT64 <= value < INT64:
            raise _Refused(value, "integer outside the signed 64-bit range")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise _Refused(value, "NaN and infinity are not JSON")
    elif isinstance(value, Mapping | list | tuple):  # subclasses: checked as their base
        _check_json(dict(value) if isinstance(value, Mapping) else list(value), depth)
    else:
        try:
            orjson.dumps(value)
        except TypeError as exc:
            raise _Refused(value, f"not JSON-serialisable: {exc}") from None


def _check_text(value: str) -> None:
    if "\x00" in value:
        raise _Refused(value, "must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Refused(value, "not valid Unicode text (a lone surrogate)") from None


def sync_vault(owner: str, vault: Any) -> Any:
    """`vault` when it is a sync `memvault.Vault`; an async one (`memvault.aio`) is refused
    now, naming the vault to pass, rather than failing at first use (its calls are
    coroutines). `owner` names the class being made."""
    from memvault.aio import AsyncVault

    if isinstance(vault, AsyncVault):
        raise InvalidInput(
            "vault",
            vault,
            f"{owner} needs a sync memvault.Vault (memvault.open(url)), not a memvault.aio"
            " AsyncVault; its async methods already run off the event loop. Pass the"
            " AsyncVault's `.sync` Vault, or open one with memvault.open(url)",
        )
    return vault
