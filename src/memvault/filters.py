"""User filters compiled to SQL: allow-listed fields and operators, values always bound.

A filter is a dict. Each key is a field, or `and` / `or` with a list of filters; several keys
in one dict are ANDed. A field maps to a value (equality) or to `{operator: value}`:

    {"kind": {"in": ["fact", "preference"]},
     "metadata.topic": "food",
     "or": [{"confidence": {"gte": 0.8}}, {"metadata.tags": {"contains": "urgent"}}]}

Operators: eq, ne, lt, lte, gt, gte, in, contains (substring of a text, or member of a JSON
array). Each may be written with a leading `$` (`$eq`, `$gte`, …, and `$and` / `$or`), as
LangGraph, MongoDB and Chroma write them. On a metadata key, `ne` with a value also matches
the rows where the key is absent or holds another type (as LangGraph's and MongoDB's `$ne`
do); the ordering operators compare numbers with numbers and text with text only.
Fields: the columns listed per table below, and `metadata.<key>[.<key>…]` with keys of
letters, digits, `_` and `-`. From Python, a metadata path may also be a tuple
`("metadata", key, …)` whose every element is one literal key of up to 64 characters (dots
and spaces included; no `"`, backslash or control character): `("metadata", "a.b")` is the
key "a.b", not "b" inside "a" (the LangChain vector store's filters use it). Anything else
raises `InvalidInput` naming the filter; no value or key is ever spliced into SQL (JSON
paths are bound parameters too).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from memvault.clock import as_utc
from memvault.errors import InvalidInput
from memvault.store.base import Tx

OPS = {"eq": "=", "ne": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
ALL_OPS = (*OPS, "in", "contains")
# field -> value kind
FIELDS: dict[str, dict[str, str]] = {
    "memories": {
        "kind": "text", "content": "text", "context": "text", "confidence": "number",
        "importance": "number", "access_count": "number", "created_at": "time",
        "updated_at": "time", "last_accessed_at": "time", "expires_at": "time",
        "session_id": "id", "message_id": "id", "key": "text",
    },
    "sessions": {
        "kind": "text", "status": "text", "title": "text", "key": "text",
        "project_id": "id", "parent_id": "id", "message_count": "number",
        "started_at": "time", "updated_at": "time", "ended_at": "time",
    },
    "messages": {
        "role": "text", "content": "text", "emotion": "text", "seq": "number",
        "session_id": "id", "created_at": "time", "edited_at": "time",
    },
    "response_patterns": {
        "intent": "text", "trigger_context": "text", "response_text": "text",
        "success_score": "number", "usage_count": "number", "created_at": "time",
        "updated_at": "time", "last_used_at": "time",
    },
}  # fmt: skip
META_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
# A literal key of a tuple path: anything SQLite's quoted JSON path label can hold.
LITERAL_KEY = re.compile(r'[^"\\\x00-\x1f]{1,64}')
MAX_DEPTH = 8
MAX_IN = 1000


class Compiler:
    """Compiles filters for one table and one transaction into bound SQL."""

    def __init__(self, tx: Tx, table: str, params: dict[str, Any], alias: str = "t") -> None:
        self.tx = tx
        self.table = table
        self.fields = FIELDS[table]
        self.params = params
        self.alias = alias
        self.n = 0

    def bind(self, value: Any) -> str:
        name = f"flt{self.n}"
        self.n += 1
        self.params[name] = value
        return f":{name}"

    def error(self, where: Any, reason: str) -> InvalidInput:
        return InvalidInput("filters", where, reason)

    def compile(self, spec: Any, depth: int = 0) -> str:
        if depth > MAX_DEPTH:
            raise self.error(spec, f"nested deeper than {MAX_DEPTH} levels")
        if not isinstance(spec, Mapping):
            raise self.error(spec, "expected a dict of field: condition")
        parts = []
        for key, cond in spec.items():
            if isinstance(key, str) and key in ("$and", "$or"):
                key = key[1:]
            if key in ("and", "or"):
                if not isinstance(cond, list | tuple) or not cond:
                    raise self.error({key: cond}, f"{key!r} takes a non-empty list of filters")
                inner = [self.compile(c, depth + 1) for c in cond]
                joiner = " AND " if key == "and" else " OR "
                parts.append("(" + joiner.join(inner) + ")")
            else:
                parts.append(self.field(key, cond))
        return "(" + " AND ".join(parts) + ")" if parts else "1 = 1"

    def field(self, key: Any, cond: Any) -> str:
        if not isinstance(key, str | tuple):
            raise self.error(key, "field names are strings")
        if isinstance(cond, Mapping):
            if len(cond) != 1:
                raise self.error({key: cond}, "one operator per condition (use 'and')")
            op, value = next(iter(cond.items()))
        else:
            op, value = "eq", cond
        if isinstance(op, str) and op.startswith("$"):
            op = op[1:]
        if op not in ALL_OPS:
            raise self.error({key: cond}, f"unknown operator {op!r}; allowed: {', '.join(ALL_OPS)}")
        if isinstance(key, tuple):
            return self.literal_meta(key, op, value)
        if key.startswith("metadata."):
            return self.meta(key, op, value)
        kind = self.fields.get(key)
        if kind is None:
            allowed = ", ".join([*self.fields, "metadata.<key>"])
            raise self.error(key, f"unknown field for {self.table}; allowed: {allowed}")
        col = f"{self.alias}.{key}"
        if op == "contains":
            if kind != "text" or not isinstance(value, str):
                raise self.error({key: cond}, "contains needs a text field and a string")
            fn = "instr" if self.tx.engine == "sqlite" else "strpos"
            return f"{fn}({col}, {self.bind(value)}) > 0"
        if op == "in":
            values = self.list_of(key, value)
            names = [self.bind(self.scalar(key, kind, x)) for x in values]
            return f"{col} IN ({', '.join(names)})" if names else "1 = 0"
        return f"{col} {OPS[op]} {self.bind(self.scalar(key, kind, value))}"

    def list_of(self, key: str, value: Any) -> list[Any]:
        if not isinstance(value, list | tuple | set | frozenset):
            raise self.error({key: value}, "'in' takes a list")
        if len(value) > MAX_IN:
            raise self.error(key, f"'in' takes at most {MAX_IN} values")
        return list(value)

    def scalar(self, key: str, kind: str, value: Any) -> Any:
        if kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self.error({key: value}, "expected a number")
            return value
        if kind == "time":
            if isinstance(value, str):
                try:
                    value = datetime.fromisoformat(value)
                except ValueError as exc:
                    raise self.error({key: value}, "expected an ISO-8601 time") from exc
            if not isinstance(value, datetime):
                raise self.error({key: value}, "expected a datetime")
            return self.tx.ts(as_utc(value))
        if not isinstance(value, str):
            raise self.error({key: value}, "expected a string")
        if "\x00" in value:
            raise self.error(key, "contains a NUL byte")
        return value

    def meta(self, key: str, op: str, value: Any) -> str:
        path = key.split(".")[1:]
        if not path or not all(META_KEY.match(p) for p in path):
            raise self.error(key, "metadata keys are 1-64 letters, digits, '_' or '-'")
        return self.meta_at(key, path, op, value)

    def literal_meta(self, key: tuple[Any, ...], op: str, value: Any) -> str:
        path = list(key[1:])
        if key[:1] != ("metadata",) or not path:
            raise self.error(key, "a tuple field is ('metadata', key, ...)")
        if not all(isinstance(p, str) and LITERAL_KEY.fullmatch(p) for p in path):
            raise self.error(
                key, "metadata keys are 1-64 characters without '\"', '\\' or control characters"
            )
        return self.meta_at(str(key), path, op, value)

    def meta_at(self, key: str, path: list[str], op: str, value: Any) -> str:
        """The condition on the metadata value at `path` (`key`: the field as written)."""
        if op == "ne" and self._json_scalar(key, value) is not None:
            # Absent, null or of another type is "not equal" too: NOT (equal, unknown = no).
            false = "0" if self.tx.engine == "sqlite" else "false"
            return f"NOT coalesce({self.meta_at(key, path, 'eq', value)}, {false})"
        if self.tx.engine == "sqlite":
            return self._meta_sqlite(key, path, op, value)
        return self._meta_pg(key, path, op, value)

    def _json_scalar(self, key: str, value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float | str):
            if isinstance(value, str) and "\x00" in value:
                raise self.error(key, "contains a NUL byte")
            return value
        raise self.error({key: value}, "metadata values are strings, numbers, booleans or null")

    def _meta_sqlite(self, key: str, path: list[str], op: str, value: Any) -> str:
        col = f"{self.alias}.metadata"
        p = self.bind("$." + ".".join(f'"{x}"' for x in path))
        ext = f"json_extract({col}, {p})"
        if op == "contains":
            v = self.bind(self._json_scalar(key, value))
            return (
                f"(CASE json_type({col}, {p}) WHEN 'array' THEN EXISTS (SELECT 1 FROM "
                f"json_each({col}, {p}) je WHERE je.value = {v}) "
                f"WHEN 'text' THEN instr({ext}, {v}) > 0 ELSE 0 END)"
            )
        if op == "in":
            names = [self.bind(self._json_scalar(key, x)) for x in self.list_of(key, value)]
            return f"{ext} IN ({', '.join(names)})" if names else "1 = 0"
        value = self._json_scalar(key, value)
        if value is None:
            if op not in ("eq", "ne"):
                raise self.error({key: value}, "null only compares with eq / ne")
            return f"{ext} IS {'NOT ' if op == 'ne' else ''}NULL"
        if isinstance(value, bool):
            value = int(value)
            typed = f"json_type({col}, {p}) IN ('true', 'false')"
            return f"({typed} AND {ext} {OPS[op]} {self.bind(value)})"
        # SQLite orders any text above any number: compare like with like, as PostgreSQL does.
        types = "'text'" if isinstance(value, str) else "'integer', 'real'"
        return f"(json_type({col}, {p}) IN ({types}) AND {ext} {OPS[op]} {self.bind(value)})"

    def _meta_pg(self, key: str, path: list[str], op: str, value: Any) -> str:
        from psycopg.types.json import Jsonb  # PostgreSQL only: SQLite never loads psycopg

        col = f"CAST({self.alias}.metadata AS jsonb)"  # json since revision 0012
        p = self.bind(path)
        node = f"({col} #> CAST({p} AS text[]))"
        if op == "contains":
            v = self._json_scalar(key, value)
            arr, txt = self.bind(Jsonb([v])), self.bind(str(v))
            return (
                f"(CASE jsonb_typeof({node}) WHEN 'array' THEN {node} @> {arr} "
                f"WHEN 'string' THEN strpos({node} #>> '{{}}', {txt}) > 0 ELSE false END)"
            )
        if op == "in":
            names = [self.bind(Jsonb(self._json_scalar(key, x))) for x in self.list_of(key, value)]
            return f"{node} IN ({', '.join(names)})" if names else "1 = 0"
        value = self._json_scalar(key, value)
        if value is None:
            if op not in ("eq", "ne"):
                raise self.error({key: value}, "null only compares with eq / ne")
            cond = f"({node} IS NULL OR {node} = 'null'::jsonb)"
            return f"NOT {cond}" if op == "ne" else cond
        jtype = "boolean" if isinstance(value, bool) else (
            "string" if isinstance(value, str) else "number")  # fmt: skip
        return f"(jsonb_typeof({node}) = '{jtype}' AND {node} {OPS[op]} {self.bind(Jsonb(value))})"


@contextmanager
def named_as(field: str, spec: Any) -> Iterator[None]:
    """Re-raise a filter error as the caller wrote the filter: `field` and `spec` are the
    caller's (a LangGraph `filter={"tags": …}`), not the `filters={"metadata.tags": …}`
    an adapter translated it into; the reason is kept."""
    try:
        yield
    except InvalidInput as exc:
        if exc.field != "filters":
            raise
        raise InvalidInput(field, spec, exc.reason) from None


def compile_filters(tx: Tx, table: str, spec: Any, params: dict[str, Any], alias: str = "t") -> str:
    """SQL condition for `spec` on `table` (alias `alias`), binding values into `params`."""
    if spec is None:
        return ""
    return Compiler(tx, table, params, alias).compile(spec)
