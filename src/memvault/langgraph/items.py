"""How LangGraph store items map onto memvault memories (pure functions, no I/O).

An item `(namespace, key)` is the memory of the store's owner whose memvault key is

    "langgraph/" + ".".join(namespace) + ".." + key

LangGraph forbids "." and empty labels, so the first ".." always ends the namespace, and the
namespace prefix `("a", "b")` is the literal key prefix "langgraph/a.b." (which matches the
namespace itself, `"a.b..k"`, and deeper ones, `"a.b.c..k"`, but never `("a", "bc")`). The
item's value is the memory's metadata, exactly; a filter on the value is a memvault filter on
`metadata.<field>`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from memvault import validate
from memvault.errors import InvalidInput

PREFIX = "langgraph/"
END = ".."  # ends the namespace: labels are never empty and never hold "."
# the namespace's labels joined by "." and the key, together, in a memvault key
MAX_NAME = validate.MAX_KEY - len(PREFIX) - len(END)
OPERATORS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte"})
# memvault's filter language names metadata keys of these characters (filters.py)
FIELD = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def memory_key(namespace: tuple[str, ...], key: str) -> str:
    """The memvault key of the item `key` in `namespace`."""
    return PREFIX + ".".join(namespace) + END + key


def check_put(namespace: tuple[str, ...], key: str, value: Mapping[str, Any]) -> None:
    """Refuse, naming the caller's key, namespace and value field, an item memvault cannot
    store (before anything is embedded or written)."""
    where = f"in namespace {namespace!r}"
    name = memory_key(namespace, key)
    if len(name) > validate.MAX_KEY:
        raise InvalidInput(
            "key", key,
            f"{where}: the namespace (labels joined by '.') and the key take at most "
            f"{MAX_NAME} characters together, here {len(name) - len(PREFIX) - len(END)}",
        )  # fmt: skip
    try:
        validate.key("key", name)
    except InvalidInput as exc:
        raise InvalidInput("key", key, f"{exc.reason} ({where})") from None
    try:
        validate.json_object("value", value)
    except InvalidInput as exc:
        raise InvalidInput(exc.field, exc.value, f"{exc.reason}, for key {key!r} {where}") from None


def storable(memory_key: str) -> bool:
    """Whether memvault can store a memory of this key (else no item has it)."""
    try:
        validate.key("key", memory_key)
    except InvalidInput:
        return False
    return True


def key_prefix(namespace_prefix: tuple[str, ...]) -> str:
    """The memvault key prefix of every item in `namespace_prefix` or below it."""
    return PREFIX + "".join(label + "." for label in namespace_prefix)


def split_key(memory_key: str) -> tuple[tuple[str, ...], str]:
    """(namespace, key) of a memvault key made by `memory_key`."""
    body = memory_key[len(PREFIX) :]
    at = body.index(END)
    return tuple(body[:at].split(".")), body[at + len(END) :]


def matches(namespace: tuple[str, ...], match_type: str, path: tuple[str, ...]) -> bool:
    """Whether `namespace` starts (prefix) or ends (suffix) with `path`; "*" is any label."""
    if len(namespace) < len(path):
        return False
    part = namespace[: len(path)] if match_type == "prefix" else namespace[-len(path) :]
    if match_type not in ("prefix", "suffix"):
        raise InvalidInput("match_type", match_type, "prefix or suffix")
    return all(p == "*" or p == n for n, p in zip(part, path, strict=True))


def literal_prefix(conditions: Iterable[Any]) -> tuple[str, ...]:
    """The labels every matching namespace starts with: a prefix condition up to its first
    wildcard (narrows the keys to read)."""
    for condition in conditions:
        if condition.match_type == "prefix":
            labels: list[str] = []
            for label in condition.path:
                if label == "*":
                    break
                labels.append(label)
            return tuple(labels)
    return ()


def value_filter(spec: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A LangGraph filter (top-level value fields, nested dicts, `$eq $ne $gt $gte $lt
    $lte`) as a memvault filter on the metadata, or None for no filter."""
    if not spec:
        return None
    conditions: list[dict[str, Any]] = []
    for field, wanted in spec.items():
        _conditions([field], wanted, conditions)
    return {"and": conditions}


def _conditions(path: list[str], wanted: Any, out: list[dict[str, Any]]) -> None:
    for part in path:
        if not isinstance(part, str) or not FIELD.match(part):
            raise InvalidInput(
                "filter", ".".join(map(str, path)),
                "memvault filters value fields named by letters, digits, '_' and '-' (1-64)",
            )  # fmt: skip
    field = ".".join(path)
    name = "metadata." + field
    if isinstance(wanted, Mapping) and any(str(k).startswith("$") for k in wanted):
        for op, operand in wanted.items():
            if op not in OPERATORS:
                raise InvalidInput("filter", f"{field} {op}", f"operators: {sorted(OPERATORS)}")
            out.append({name: {op: _operand(field, {op: operand}, operand)}})
    elif isinstance(wanted, Mapping):
        if not wanted:
            raise InvalidInput("filter", name, "an empty object matches nothing definite")
        for sub, value in wanted.items():
            _conditions([*path, sub], value, out)
    else:
        out.append({name: {"$eq": _operand(field, wanted, wanted)}})


def _operand(field: str, condition: Any, operand: Any) -> Any:
    """A filter's value as the metadata holds it: a JSON scalar (datetimes and UUIDs are
    stored as their ISO text, so they are compared as it)."""
    if operand is None or isinstance(operand, bool | int | float | str):
        return operand
    if not isinstance(operand, Mapping | list | tuple | set | frozenset):
        try:
            text = orjson.loads(orjson.dumps(operand))
        except TypeError:
            text = None
        if isinstance(text, str):
            return text
    raise InvalidInput(
        "filter", {field: condition},
        "memvault compares a value field with one string, number, boolean or null; "
        "an array or object value is not matched by equality (LangGraph's InMemoryStore does)",
    )  # fmt: skip
