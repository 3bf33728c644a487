"""Order-independent content checksums of tables, computable in Python *and* in PostgreSQL SQL.

The transfer (and `memvault verify`) compare a source and a destination table by row count
and by the sum modulo 2^128 of one MD5 digest per row. The digest covers a canonical
rendering of every copied column, defined so that PostgreSQL can compute it server-side
(`pg_checksum_sql`) — no row travels back to Python — and Python can compute the very same
bytes from rows read from SQLite or PostgreSQL (`RowDigest`):

    row    = piece(column 1) || piece(column 2) || ...
    text and json columns (free text):
        piece = 'N' when NULL, else char_length(r) || ':' || r
    other columns (their renderings never contain '|' and are never 'N'):
        piece = coalesce(r, 'N') || '|'

    id     lower-case text (uuid::text)
    text   the text itself
    int    decimal (int::text)
    bool   `true` / `false` (bool::text; SQLite's 1 / 0)
    float  the 16 hex digits of the IEEE-754 binary64 (float8send), -0.0 folded into 0.0
    time   PostgreSQL's own output with TimeZone UTC and DateStyle ISO
           (`2025-01-01 10:00:00.5+00`: trailing zeros of the fraction dropped); a time that
           Python cannot hold renders as PostgreSQL prints it (`infinity`, `... BC`), and
           SQLite text that is no time as `$bad-time:...`
    json   jsonb's text output: keys unique (the last wins), ordered by byte length then
           bytes, `", "` and `": "` separators, numbers as `numeric` prints them
    blob   lower-case hex

A value of an unexpected type (a BLOB in a text column, text in a float column...) renders
`$<kind>:<repr>` (with '|' escaped), so it never equals a well-typed value. MD5 stands for
"this row's content" here, not for a defence against forged collisions.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

import orjson

MASK = (1 << 128) - 1

__all__ = ["MASK", "RowDigest", "jsonb_text", "pg_checksum_sql", "render_time"]


class _Spec(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def columns(self) -> Sequence[Any]: ...  # each with .name and .kind


# --- canonical values, in Python ----------------------------------------------------------


class _BadValue(Exception):
    pass


def _pg_time(canonical: str) -> str:
    """`YYYY-MM-DDTHH:MM:SS.ffffffZ` → PostgreSQL's `YYYY-MM-DD HH:MM:SS[.f]+00`."""
    fraction = canonical[19:26].rstrip("0").rstrip(".")
    return f"{canonical[:10]} {canonical[11:19]}{fraction}+00"


def render_time(value: Any) -> str:
    """A time as PostgreSQL prints it (see the module docstring)."""
    if isinstance(value, str):
        if len(value) == 27 and value[26] == "Z" and value[10] == "T" and value[19] == ".":
            return _pg_time(value)
        try:
            moment = datetime.fromisoformat(value.replace("z", "Z"))
        except ValueError:
            return _bad("time", value)
    elif isinstance(value, datetime):
        moment = value
    elif hasattr(value, "text"):  # a PostgreSQL time Python cannot hold, as PostgreSQL wrote it
        return str(value.text)
    else:
        return _bad("time", value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return _bad("time", value)
    return _pg_time(moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z")


def _bad(kind: str, value: Any) -> str:
    return f"${kind}:{value!r}".replace("|", "\\x7c")


_ESCAPES = {i: f"\\u{i:04x}" for i in range(32)}
_ESCAPES.update({8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"})
_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\"})


def _quote(text: str) -> str:
    return '"' + text.translate(_ESCAPES) + '"'


class _Num:
    """A JSON number as PostgreSQL `numeric` prints it (exact digits, no exponent)."""

    __slots__ = ("text",)

    def __init__(self, token: str) -> None:
        number = Decimal(token)
        text = format(number, "f")
        self.text = text[1:] if number == 0 and text.startswith("-") else text


def _no_constant(token: str) -> Any:
    raise _BadValue(token)


_DECODER = json.JSONDecoder(parse_float=_Num, parse_int=_Num, parse_constant=_no_constant)


class _FloatSeen(Exception):
    pass


def _render_json(value: Any) -> str:
    if isinstance(value, str):
        return _quote(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, _Num):
        return value.text
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        raise _FloatSeen  # orjson parsed it: the original digits are lost, parse exactly
    if isinstance(value, list):
        return "[" + ", ".join(_render_json(v) for v in value) + "]"
    items = sorted(value.items(), key=_jsonb_key_order)
    return "{" + ", ".join(f"{_quote(k)}: {_render_json(v)}" for k, v in items) + "}"


def _jsonb_key_order(item: tuple[str, Any]) -> tuple[int, bytes]:
    key = item[0].encode("utf-8", "surrogatepass")
    return len(key), key


def jsonb_text(value: str) -> str:
    """What PostgreSQL's `jsonb::text` prints for the JSON text `value`; raises ValueError
    when it is not JSON that jsonb accepts."""
    if value in ("{}", "[]"):
        return value
    try:
        return _render_json(orjson.loads(value))
    except (_FloatSeen, orjson.JSONDecodeError):
        pass
    try:
        return _render_json(_DECODER.decode(value))
    except (_BadValue, ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON that jsonb accepts: {value[:80]!r}") from exc


def _r_id(v: Any) -> str:
    return v.lower() if isinstance(v, str) else str(v).lower()


def _r_text(v: Any) -> str:
    return v if isinstance(v, str) else _bad("text", v)


def _r_int(v: Any) -> str:
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else _bad("int", v)


_PACK = struct.Struct(">d").pack


def _r_float(v: Any) -> str:
    if isinstance(v, int) and not isinstance(v, bool):
        v = float(v)
    if isinstance(v, float):
        return "0000000000000000" if v == 0.0 else _PACK(v).hex()
    return _bad("float", v)


def _r_json(v: Any) -> str:
    if isinstance(v, bytes | bytearray | memoryview):
        v = bytes(v).decode("utf-8", "surrogateescape")
    if not isinstance(v, str):
        return _bad("json", v)
    try:
        return jsonb_text(v)
    except ValueError:
        return _bad("json", v)


def _r_blob(v: Any) -> str:
    if isinstance(v, bytes | bytearray | memoryview):
        return bytes(v).hex()
    return _bad("blob", v)


def _r_bool(v: Any) -> str:
    # SQLite stores a boolean as 0/1, PostgreSQL as a bool printed 'true'/'false'.
    if isinstance(v, bool) or (isinstance(v, int) and v in (0, 1)):
        return "true" if v else "false"
    return _bad("bool", v)


RENDER: dict[str, Callable[[Any], str]] = {
    "id": _r_id,
    "bool": _r_bool,
    "text": _r_text,
    "int": _r_int,
    "float": _r_float,
    "time": render_time,
    "json": _r_json,
    "blob": _r_blob,
}


FREE_TEXT = frozenset({"text", "json"})  # renderings that may hold any character


def _piece(kind: str) -> tuple[Callable[[Any], str], str]:
    """(value → its piece of the row, the piece of a NULL)."""
    render = RENDER[kind]
    if kind in FREE_TEXT:

        def framed(v: Any) -> str:
            r = render(v)
            return f"{len(r)}:{r}"

        return framed, "N"

    def ended(v: Any) -> str:
        return render(v) + "|"

    return ended, "N|"


class RowDigest:
    """Count and order-independent checksum of a multiset of rows (tuples in column order)."""

    def __init__(self, spec: _Spec) -> None:
        self.spec = spec
        self.pieces = [_piece(c.kind) for c in spec.columns]
        self.count = 0
        self.total = 0

    def digest_of(self, row: Sequence[Any]) -> bytes:
        """The MD5 digest of one row's canonical rendering (what `add_many` sums)."""
        text = "".join(
            null if v is None else fn(v) for (fn, null), v in zip(self.pieces, row, strict=True)
        )
        return hashlib.md5(text.encode("utf-8", "surrogatepass")).digest()

    def add_many(self, rows: Sequence[Sequence[Any]]) -> None:
        pieces = self.pieces
        md5 = hashlib.md5
        from_bytes = int.from_bytes
        total = self.total
        for row in rows:
            text = "".join(
                null if v is None else fn(v) for (fn, null), v in zip(pieces, row, strict=True)
            )
            total += from_bytes(md5(text.encode("utf-8", "surrogatepass")).digest())
        self.total = total & MASK
        self.count += len(rows)

    def add_sums(self, count: int, parts: Sequence[int]) -> None:
        """Add a checksum computed by `pg_checksum_sql` (count and four 32-bit lane sums)."""
        total = 0
        for part in parts:
            total = (total << 32) + int(part)
        self.total = (self.total + total) & MASK
        self.count += count

    @property
    def hexdigest(self) -> str:
        return f"{self.total:032x}"


# --- the same, in PostgreSQL ---------------------------------------------------------------


def _pg_render(column: str, kind: str) -> str:
    c = f'"{column}"'
    if kind == "float":
        return f"encode(float8send(CASE WHEN {c} = 0 THEN 0::float8 ELSE {c}::float8 END), 'hex')"
    if kind == "json":
        return f"{c}::jsonb::text"
    if kind == "blob":
        return f"encode({c}, 'hex')"
    return f"{c}::text"  # id, int, text; time with the session's TimeZone UTC, DateStyle ISO


def pg_checksum_sql(spec: _Spec, where: str = "") -> str:
    """SELECT count(*) and the four 32-bit lane sums of the rows' MD5 digests (most
    significant lane first), computed by PostgreSQL; feed them to `RowDigest.add_sums`.
    Run it on a connection with TimeZone 'UTC' and DateStyle 'ISO'."""
    # Each rendering is NULL exactly when its value is (see `_pg_render`).
    rendered = ", ".join(
        f"{_pg_render(c.name, c.kind)} AS r{i}" for i, c in enumerate(spec.columns)
    )
    row = " || ".join(
        f"coalesce(char_length(r{i})::text || ':' || r{i}, 'N')"
        if c.kind in FREE_TEXT
        else f"coalesce(r{i}, 'N') || '|'"
        for i, c in enumerate(spec.columns)
    )
    lanes = ", ".join(
        f"coalesce(sum(('x' || substr(h, {1 + 8 * i}, 8))::bit(32)::bigint), 0)" for i in range(4)
    )
    source = f"SELECT {rendered} FROM {spec.name}" + (f" WHERE {where}" if where else "")
    return (f"SELECT count(*), {lanes} FROM (SELECT md5({row}) AS h "
            f"FROM ({source}) AS rendered) AS digests")  # fmt: skip
