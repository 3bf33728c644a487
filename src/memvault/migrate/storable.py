"""A record no engine can store is quarantined, naming its field, instead of failing the import.

The sources keep what a legacy record holds as they read it (`json.loads`'s values: NaN,
integers beyond 64 bits, any nesting), and the loader encodes it straight into rows. The
core's rule (`memvault.validate`) decides what a store can hold; a record that breaks it would
otherwise stop the whole run with a driver's traceback at its batch (or, for NUL in JSON,
only on PostgreSQL).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from memvault import validate
from memvault.errors import InvalidInput
from memvault.migrate.sources._base import Scan
from memvault.migrate.sources.records import Quarantined, Record

# Text the loader repairs itself (NUL → U+FFFD, as PostgreSQL and FTS5 need): not refused.
REPAIRED = frozenset({"content", "trigger_context", "response_text"})
MAX_RAW = 1 << 16  # bytes of the refused value kept in quarantine


def storable(rec: Record, scan: Scan) -> Record:
    """`rec` itself, or a `Quarantined` naming the first field no engine can store (in the
    file `scan` was reading)."""
    if isinstance(rec, Quarantined):
        return rec
    for name in _names(type(rec)):
        value = getattr(rec, name)
        kind = type(value)
        # Plain values need no call: text without NUL (or in a field the loader repairs)
        # that encodes as UTF-8 (no lone surrogate), numbers, None. `_check` says why not.
        if kind is str:
            if "\x00" not in value or name in REPAIRED:
                if value.isascii():
                    continue
                try:
                    value.encode("utf-8")
                    continue
                except UnicodeEncodeError:
                    pass
        elif not isinstance(value, dict | list | tuple | str):
            continue  # numbers, None, times: nothing `_check` refuses
        try:
            _check(name, value)
        except InvalidInput as exc:
            raw = repr(value).encode("utf-8", "backslashreplace")
            files = scan.files_read
            return Quarantined(
                source_key=f"{rec.source_key}:unstorable",
                format=scan.format,
                file=files[-1] if files else "",
                reason=f"{rec.source_key}: {name} cannot be stored: {exc.reason}",
                raw=raw[:MAX_RAW],
                raw_truncated=len(raw) > MAX_RAW,
                field=name,
            )
    return rec


_NAMES: dict[type, tuple[str, ...]] = {}


def _names(kind: type) -> tuple[str, ...]:
    """The field names of a record class (`dataclasses.fields` rebuilds them at every call)."""
    names = _NAMES.get(kind)
    if names is None:
        names = _NAMES[kind] = tuple(spec.name for spec in fields(kind))
    return names


def _check(name: str, value: Any) -> None:
    if isinstance(value, str):
        validate.text(name, value.replace("\x00", "") if name in REPAIRED else value,
                      allow_empty=True, max_len=len(value))  # fmt: skip
    elif isinstance(value, dict | list | tuple):
        validate.json_value(name, value)
