"""Values between engines: canonical times, what each destination refuses, pgvector text.

Times are rendered `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC); text holding NUL, JSON that does not
parse and NaN for SQLite are refused (`Refused`), so the caller can name the table, row and
column. See the package docstring for the rules."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from memvault.migrate.transfer.errors import Refused
from memvault.migrate.transfer.tables import TableSpec
from memvault.store.base import UnreadableTime

Converter = Callable[[Any], Any]
# (column, reason) of a refused value → raises (the caller adds table and row).
OnRefused = Callable[[Sequence[Any], str, str], None]


def canonical_time(value: Any) -> str:
    """A stored time as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC); raises Refused when it is not
    a time (or not representable in years 1–9999)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        if len(value) == 27 and value[26] == "Z" and value[10] == "T" and value[19] == ".":
            return value  # memvault's own format (a PostgreSQL destination still checks it)
        try:
            moment = datetime.fromisoformat(value.replace("z", "Z"))
        except ValueError:
            raise Refused(f"not an ISO-8601 time: {value!r}") from None
    elif isinstance(value, UnreadableTime):
        raise Refused(f"time {value.text!r} is outside the years 1-9999 that SQLite text "
                      "times and Python can hold")  # fmt: skip
    else:
        raise Refused(f"expected a time, found {type(value).__name__} {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise Refused(f"time {value!r} leaves years 1-9999 once converted to UTC") from None
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def converters(spec: TableSpec, src: str, dst: str) -> list[Converter | None]:
    """Per column: None (copy as is) or a function source value → destination value."""

    def time_(v: Any) -> Any:
        return canonical_time(v)

    def text_to_pg(v: Any) -> Any:
        if isinstance(v, str):
            if "\x00" in v:
                raise Refused(
                    f"contains a NUL byte (U+0000) at offset {v.index(chr(0))}, which "
                    "PostgreSQL text cannot store; remove it from the source row and run "
                    "the transfer again"
                )
            return v
        if isinstance(v, bytes):
            raise Refused("holds a BLOB in a text column")
        return v

    def json_check(v: Any) -> Any:
        if isinstance(v, str):
            if dst == "postgresql" and ("\x00" in v or "\\u0000" in v):
                raise Refused("JSON holds a NUL (U+0000), which PostgreSQL jsonb cannot store")
            try:
                orjson.loads(v)
            except orjson.JSONDecodeError:
                try:
                    json.loads(v)
                except ValueError as exc:
                    raise Refused(f"not valid JSON ({exc}): {v[:80]!r}") from None
        return v

    def float_to_sqlite(v: Any) -> Any:
        if isinstance(v, float) and math.isnan(v):
            raise Refused("is NaN, which SQLite cannot store (it would become NULL)")
        return v

    out: list[Converter | None] = []
    for col in spec.columns:
        fn: Converter | None = None
        if col.kind == "time":
            fn = time_
        elif col.kind == "text" and dst == "postgresql" and src == "sqlite":
            fn = text_to_pg
        elif col.kind == "json" and src == "sqlite":
            fn = json_check
        elif col.kind == "bool" and dst == "postgresql" and src == "sqlite":
            fn = _bool_to_pg
        elif col.kind == "float" and dst == "sqlite":
            fn = float_to_sqlite
        elif col.kind == "blob" and src == "postgresql" and dst == "sqlite":
            fn = bytes
        out.append(fn)
    return out


def vec_literal(v: Any) -> str:
    """pgvector's text form of float32 bytes. Nine significant digits identify every float32
    (FLT_DECIMAL_DIG), and pgvector reads them back with strtof: the same bits, in a third of
    the time `repr` of the widened doubles takes."""
    import numpy as np

    values = np.frombuffer(bytes(v), dtype="<f4").tolist()
    return "[" + ("%.9g," * len(values) % tuple(values))[:-1] + "]"


def convert(
    spec: TableSpec,
    chunk: Sequence[Sequence[Any]],
    convs: list[Converter | None],
    vec: bool,
    refused: OnRefused,
) -> list[tuple[Any, ...]]:
    """The destination's rows for a chunk of source rows (with pgvector's `vec` appended when
    `vec`); a refused value calls `refused(row, column, reason)`, which raises."""
    active = [(i, f) for i, f in enumerate(convs) if f is not None]
    blob_at = spec.column_names.index("vector") if vec else -1
    out = []
    for row in chunk:
        values = list(row)
        for i, fn in active:
            v = values[i]
            if v is not None:
                try:
                    values[i] = fn(v)
                except Refused as exc:
                    refused(row, spec.columns[i].name, str(exc))
        if vec:
            values.append(vec_literal(values[blob_at]))
        out.append(tuple(values))
    return out


def _bool_to_pg(v: Any) -> Any:
    """SQLite's 0/1 of a boolean column as the bool PostgreSQL's column takes."""
    return bool(v) if isinstance(v, int) else v
