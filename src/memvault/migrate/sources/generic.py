"""A user-described JSON / NDJSON source: a mapping names which fields hold what.

Example mapping (e.g. from a JSON file given on the command line)::

    {"files": ["**/*.jsonl"], "target": "message", "id": "uuid", "content": "text",
     "role": "author", "session": "thread_id", "created_at": "ts", "timestamp_unit": "ms"}

`.jsonl`/`.ndjson` files are read line by line (a bad line is one bad record); other files
hold a JSON array, or an object whose `records_key` member is the array. Fields are
dotted paths (`"meta.created"`). With target `message`, records are grouped into one
SessionRec per `session` value (or per file); with target `memory`, each record is a
MemoryRec of kind `kind` (a field) or `default_kind`.

Each row keeps its source record in `metadata.record`, less the top-level field mapped to
`content` (that text is the row's `content`; keeping it twice doubled the store's size).
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from memvault.errors import InvalidInput
from memvault.migrate.sources._base import (
    Scan,
    ScanContext,
    ScanOptions,
    as_number,
    as_str,
    clean_json,
    is_blank_file,
    key,
    part,
    sorted_files,
    unit,
)
from memvault.migrate.sources._json import Item, JsonStream, iter_top_array, iter_top_object
from memvault.migrate.sources._time import from_epoch, parse_iso
from memvault.migrate.sources.records import (
    MEMORY_KINDS,
    MemoryRec,
    MessageRec,
    Record,
    SessionRec,
)

FORMAT = "generic"
ROLES = frozenset({"user", "assistant", "system", "tool", "function"})
NDJSON_SUFFIXES = (".jsonl", ".ndjson")


@dataclass(frozen=True, slots=True, kw_only=True)
class GenericMapping:
    """Where a user's records are and which field holds what."""

    files: tuple[str, ...] = ("**/*.json", "**/*.jsonl", "**/*.ndjson")
    target: str = "message"
    records_key: str | None = None
    id: str | None = None
    content: str = "content"
    role: str | None = "role"
    session: str | None = None
    title: str | None = None
    user: str | None = None
    created_at: str | None = None
    timestamp_unit: str = "auto"
    kind: str | None = None
    default_kind: str = "note"
    confidence: str | None = None
    role_map: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Any) -> GenericMapping:
        """Build and check a mapping from parsed JSON; raises InvalidInput."""
        if not isinstance(raw, dict):
            raise InvalidInput("mapping", raw, "expected an object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise InvalidInput(f"mapping.{unknown[0]}", raw[unknown[0]], "unknown key")
        values = dict(raw)
        if isinstance(values.get("files"), str):
            values["files"] = (values["files"],)
        if "files" in values:
            values["files"] = tuple(values["files"])
        mapping = cls(**values)
        mapping.check()
        return mapping

    def check(self) -> None:
        """Raise InvalidInput when the mapping is inconsistent."""
        if self.target not in ("message", "memory"):
            raise InvalidInput("mapping.target", self.target, "must be 'message' or 'memory'")
        if self.timestamp_unit not in ("auto", "s", "ms"):
            raise InvalidInput("mapping.timestamp_unit", self.timestamp_unit, "auto, s or ms")
        if self.default_kind not in MEMORY_KINDS:
            raise InvalidInput("mapping.default_kind", self.default_kind, "not a memory kind")
        if not self.files or not all(isinstance(f, str) and f for f in self.files):
            raise InvalidInput("mapping.files", self.files, "need at least one glob")
        if not isinstance(self.content, str) or not self.content:
            raise InvalidInput("mapping.content", self.content, "need the content field")


def scan(root: Path, mapping: GenericMapping, options: ScanOptions | None = None) -> Scan:
    """Scan `root` for records described by `mapping`."""
    mapping.check()
    return Scan(FORMAT, root, partial(_produce, mapping=mapping), options)


def get_path(value: Any, path: str | None) -> Any:
    """The value at a dotted `path` inside nested objects (None when absent)."""
    if path is None:
        return None
    for name in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value


class _State:
    def __init__(self, ctx: ScanContext, mapping: GenericMapping) -> None:
        self.ctx = ctx
        self.mapping = mapping
        self.ids: set[str] = set()
        self.seqs: dict[str, int] = {}
        self.users: set[str] = set()
        self.session_keys: dict[str | int, str] = {}
        self.get = {name: _getter(getattr(mapping, name)) for name in _PATHS}
        # The field that holds the content, when it is a top-level one: its value is the
        # row's content, so the copy of the record kept in metadata leaves it out.
        self.content_key = mapping.content if "." not in mapping.content else None


_PATHS = ("id", "content", "role", "session", "title", "user", "created_at", "kind", "confidence")
_Getter = Callable[[dict[str, Any]], Any]


def _none(_value: dict[str, Any]) -> None:
    return None


def _getter(path: str | None) -> _Getter:
    """`get_path(value, path)` for a record already known to be an object, compiled once."""
    if path is None:
        return _none
    if "." not in path:
        return operator.methodcaller("get", path)
    return partial(get_path, path=path)


def _files(root: Path, mapping: GenericMapping) -> list[Path]:
    found: set[Path] = set()
    for pattern in mapping.files:
        found.update(sorted_files(root, pattern))
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _produce(ctx: ScanContext, mapping: GenericMapping) -> Iterator[Record]:
    state = _State(ctx, mapping)
    yield from ctx.user(ctx.options.default_user)
    for path in ctx.candidates(_files(ctx.root, mapping)):
        rel = ctx.rel(path)
        ctx.opened(path)
        if is_blank_file(path):
            ctx.report.add("warnings", "files_zero_bytes")
            continue
        if path.suffix.lower() in NDJSON_SUFFIXES:
            yield from _ndjson(state, path, rel)
            continue
        walk = partial(_walk, records_key=mapping.records_key)
        items, bad = ctx.read_json(path, walk)
        if bad is not None:
            yield bad
            continue
        assert items is not None
        for item in items:
            yield from _record(state, rel, item.value, item.index, item.line, item.text)


def _walk(js: JsonStream, records_key: str | None) -> Iterator[Item]:
    if records_key is None:
        yield from iter_top_array(js)
        return
    for name, item in iter_top_object(js, frozenset({records_key})):
        if name == records_key and item.index >= 0:
            yield item


_BAD = object()
_BOM = b"\xef\xbb\xbf"
# orjson gives a float for an integer beyond 64 bits where json gives the int: lines with such
# a digit run (or anything orjson refuses: NaN, lone surrogates, deep nesting, bad UTF-8) are
# parsed by json, so every line gets exactly the value json.loads gives.
_LONG_DIGITS = re.compile(rb"\d{19}")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _parse_line(raw: bytes, first: bool) -> Any:
    """The value of one NDJSON line (`_BAD` when it is not JSON): json.loads's answer."""
    data = raw[3:] if first and raw.startswith(_BOM) else raw
    if not _LONG_DIGITS.search(data):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(raw.decode("utf-8-sig" if first else "utf-8"))
    except (ValueError, RecursionError):
        return _BAD


def _line_text(raw: bytes, first: bool, bad: bool) -> str:
    """A line as the text quarantine keeps."""
    if bad:
        return raw.decode("utf-8", "replace").rstrip("\r\n")
    return raw.decode("utf-8-sig" if first else "utf-8").rstrip("\r\n")


def _ndjson(state: _State, path: Path, rel: str) -> Iterator[Record]:
    """The records of an NDJSON file: one per non-blank line (a bad line is one bad record)."""
    try:
        with path.open("rb") as fh:
            index = 0
            for line_no, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                first = line_no == 1
                value = _parse_line(raw, first)
                yield from _record(state, rel, value, index, line_no, raw, first)
                index += 1
    except OSError:
        state.ctx.report.corrupt_files.append(rel)


def _record(
    state: _State,
    rel: str,
    value: Any,
    index: int,
    line: int,
    raw: str | bytes,
    first: bool = False,
) -> Iterator[Record]:
    """The records of one source record. `raw` is its JSON text, or the bytes of its NDJSON
    line (decoded only when needed: quarantine, lone surrogates)."""
    ctx, mapping, get = state.ctx, state.mapping, state.get
    problem = None
    if value is _BAD:
        problem = ("", "line is not valid JSON")
    elif not isinstance(value, dict):
        problem = ("", "record is not an object")
    elif not isinstance(get["content"](value), str):
        problem = (mapping.content, "content must be a string")
    if problem is not None:
        ctx.report.add("bad_records", "records_invalid")
        text = raw if isinstance(raw, str) else _line_text(raw, first, value is _BAD)
        yield ctx.quarantine(rel, problem[1], text, index=index, line=line, field=problem[0])
        return
    if isinstance(raw, str):
        value = clean_json(value, raw)
    elif b"\\u" in raw and _SURROGATE_ESCAPE.search(raw):
        value = clean_json(value)
    counts = ctx.report.entities
    kept = _without(value, state.content_key)
    native = get["id"](value)
    ident = None if native is None or isinstance(native, dict | list) else str(native)
    if ident is not None:
        if ident in state.ids:
            ctx.report.add("duplicates", "records_duplicate_id")
            return
        state.ids.add(ident)
    counts["records"] += 1
    record_key = _ID_PREFIX + part(ident) if ident is not None else key(FORMAT, rel, index)
    when = _time(get["created_at"](value), mapping.timestamp_unit)
    if when is None and mapping.created_at is not None:
        ctx.report.add("warnings", "timestamps_missing")
    user = as_str(get["user"](value)) or ctx.options.default_user
    if user not in state.users:
        state.users.add(user)
        yield from ctx.user(user)
    content: str = get["content"](value)
    if mapping.target == "memory":
        counts["memories"] += 1
        kind = as_str(get["kind"](value)) or mapping.default_kind
        score = as_number(get["confidence"](value))
        yield MemoryRec(
            source_key=record_key,
            owner_handle=user,
            kind=kind if kind in MEMORY_KINDS else mapping.default_kind,
            content=content,
            confidence=1.0 if score is None else unit(score, scale100=True),
            created_at=when,
            metadata={"record": kept, "file": rel},
        )
        return
    group = get["session"](value)
    if isinstance(group, str | int) and not isinstance(group, bool):
        session_key = state.session_keys.get(group)
        if session_key is None:
            session_key = state.session_keys[group] = key(FORMAT, "session", group)
    else:
        session_key = key(FORMAT, "file", rel)
    seq = state.seqs.get(session_key)
    if seq is None:
        seq = 0
        counts["sessions"] += 1
        yield SessionRec(
            source_key=session_key,
            user_handle=user,
            kind="chat",
            title=as_str(get["title"](value)),
            created_at=when,
            metadata={"first_file": rel},
        )
    raw_role = as_str(get["role"](value)) or "user"
    role = mapping.role_map.get(raw_role, raw_role)
    counts["messages"] += 1
    seq += 1
    state.seqs[session_key] = seq
    yield MessageRec(
        source_key=record_key,
        session_source_key=session_key,
        user_handle=user,
        seq=seq,
        role=role if role in ROLES else "user",
        content=content,
        created_at=when,
        metadata={"record": kept, "file": rel, "role_raw": raw_role}
        if role not in ROLES
        else {"record": kept, "file": rel},
    )


_ID_PREFIX = key(FORMAT, "id", "")


def _without(record: dict[str, Any], name: str | None) -> dict[str, Any]:
    """`record` less its member `name` (the same object when there is none)."""
    if name is None or name not in record:
        return record
    return {k: v for k, v in record.items() if k != name}


def _time(value: Any, unit_name: str) -> datetime | None:
    if isinstance(value, str):
        return parse_iso(value)
    if unit_name == "auto":
        number = as_number(value)
        return None if number is None else from_epoch(number, "ms" if abs(number) > 1e11 else "s")
    return from_epoch(value, unit_name)
