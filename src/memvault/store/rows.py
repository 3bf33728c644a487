"""Rows into records: one decoder per record type, compiled once per engine from the record's
annotations.

    memory_from_row = row_decoder(Memory)
    memory = memory_from_row(tx, row)

A record's fields are its columns (same names). The first time a decoder meets a transaction
of an engine, it compiles a plan for that engine: one generated function that reads each
column by name and converts it as the field's annotation says, using the engine's own value
decoders (`Tx.ts_out`, `Tx.json_out`). Later rows pay one dictionary lookup and that
function, no introspection; the plan does exactly what the hand-written converters did.

| annotation                     | value                                                   |
| ------------------------------ | ------------------------------------------------------- |
| `datetime`                     | `Tx.ts_out` (SQLite ISO text, PostgreSQL timestamptz)   |
| `dict[...]` / `list[...]`      | `Tx.json_out`, NULL → `{}` / `[]`                       |
| `Any`                          | `Tx.json_out` (a JSON value: a result, a payload)       |
| `str`, field `id` or `*_id`    | `str` (a PostgreSQL uuid becomes its text)              |
| `str`                          | as stored                                               |
| `int` / `float` / `bool`       | `int` / `float` / `bool` (SQLite has 0/1 for booleans)  |

With `| None` a NULL stays None (a JSON field then keeps None instead of `{}` / `[]`).
Any other annotation is a `TypeError` naming the field, at the first decode.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Generic, TypeVar

from memvault.store.base import Row, Tx

R = TypeVar("R")
Plan = Callable[[Row], Any]


def columns(record: type[Any], *, without: Iterable[str] = ()) -> tuple[str, ...]:
    """The column names of `record` (its fields, in order), less `without`."""
    skip = frozenset(without)
    unknown = skip - {f.name for f in dataclasses.fields(record)}
    if unknown:
        raise TypeError(f"{record.__name__} has no field {', '.join(sorted(unknown))}")
    return tuple(f.name for f in dataclasses.fields(record) if f.name not in skip)


class RowDecoder(Generic[R]):
    """`(tx, row) -> record`: decodes rows into `record`, with one compiled plan per engine."""

    __slots__ = ("_plans", "record")

    def __init__(self, record: type[R]) -> None:
        self.record = record
        self._plans: dict[type[Tx], Plan] = {}

    def __call__(self, tx: Tx, row: Row) -> R:
        try:
            plan = self._plans[tx.__class__]
        except KeyError:
            plan = self._plans[tx.__class__] = compile_plan(self.record, tx.__class__)
        result: R = plan(row)
        return result

    def __repr__(self) -> str:
        return f"row_decoder({self.record.__name__})"


_decoders: dict[type[Any], RowDecoder[Any]] = {}


def row_decoder(record: type[R]) -> RowDecoder[R]:
    """The decoder of `record` rows (one per record type, shared)."""
    decoder = _decoders.get(record)
    if decoder is None:
        decoder = _decoders[record] = RowDecoder(record)
    return decoder


def compile_plan(record: type[Any], tx_class: type[Tx]) -> Plan:
    """Generate the function decoding one row of `record` for the engine of `tx_class`."""
    hints = typing.get_type_hints(record)
    namespace: dict[str, Any] = {
        "_record": record,
        "_ts": tx_class.ts_out,
        "_json": tx_class.json_out,
    }
    args = [
        _expression(record, f.name, hints[f.name]) for f in dataclasses.fields(record) if f.init
    ]
    body = "".join(f"        {arg},\n" for arg in args)
    source = f"def decode(row):\n    return _record(\n{body}    )\n"
    exec(compile(source, f"<row decoder of {record.__name__}>", "exec"), namespace)
    plan: Plan = namespace["decode"]
    plan.__qualname__ = f"decode_{record.__name__}"
    return plan


def _expression(record: type[Any], name: str, annotation: Any) -> str:
    """The expression converting column `name` as `annotation` says."""
    value = f"row[{name!r}]"
    base, optional = _unwrap(annotation)
    if base is datetime:
        return f"_ts({value})"
    origin = typing.get_origin(base) or base
    if origin is dict or origin is list:
        empty = "{}" if origin is dict else "[]"
        return f"_json({value})" if optional else f"(_json({value}) or {empty})"
    if base is Any:
        return f"_json({value})"
    if base is str:
        cast = "str" if name == "id" or name.endswith("_id") else ""
    elif base in (int, float, bool):
        cast = base.__name__
    else:
        raise TypeError(
            f"{record.__name__}.{name}: no row conversion for {annotation!r} "
            "(see memvault.store.rows)"
        )
    if not cast:
        return value
    if optional:
        return f"(None if (v := {value}) is None else {cast}(v))"
    return f"{cast}({value})"


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the annotation without `| None`, whether None was allowed)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], len(args) < len(typing.get_args(annotation))
    return annotation, False
