"""A user-described JSON / NDJSON source: a mapping names which fields hold what.

Example mapping (e.g. from a JSON file given on the command line)::

    {"files": ["**/*.jsonl"], "target": "message", "id": "uuid", "content": "text",
     "role": "author", "session": "thread_id", "created_at": "ts", "timestamp_unit": "ms"}

`.jsonl`/`.ndjson` files are read line by line (a bad line is one bad record); other files
hold a JSON array, or an object whose `records_key` member is the array. Fields are
dotted paths (`"meta.created"`). With target `message`, records are grouped into one
SessionRec per `session` value (or per file); with target `memory`, each record is a
MemoryRec of kind `kind` (a field) or `default_kind`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

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


def _files(root: Path, mapping: GenericMapping) -> list[Path]:
    found: set[Path] = set()
    for pattern in mapping.files:
        found.update(sorted_files(root, pattern))
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _produce(ctx: ScanContext, mapping: GenericMapping) -> Iterator[Record]:
    state = _State(ctx, mapping)
    yield from ctx.user(ctx.options.default_user)
    for path in _files(ctx.root, mapping):
        rel = ctx.rel(path)
        if is_blank_file(path):
            ctx.report.add("warnings", "files_zero_bytes")
            continue
        if path.suffix.lower() in NDJSON_SUFFIXES:
            for item in _ndjson(state, path, rel):
                yield from _record(state, rel, item)
            continue
        walk = partial(_walk, records_key=mapping.records_key)
        items, bad = ctx.read_json(path, walk)
        if bad is not None:
            yield bad
            continue
        assert items is not None
        for item in items:
            yield from _record(state, rel, item)


def _walk(js: JsonStream, records_key: str | None) -> Iterator[Item]:
    if records_key is None:
        yield from iter_top_array(js)
        return
    for name, item in iter_top_object(js, frozenset({records_key})):
        if name == records_key and item.index >= 0:
            yield item


_BAD = object()


def _ndjson(state: _State, path: Path, rel: str) -> Iterator[Item]:
    """One Item per non-blank line; a line that does not parse yields value `_BAD`."""
    try:
        with path.open("rb") as fh:
            index = 0
            for line_no, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                try:
                    text = raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
                    value = json.loads(text)
                except (ValueError, RecursionError):
                    text, value = raw.decode("utf-8", "replace"), _BAD
                yield Item(value, index, line_no, text.rstrip("\r\n"))
                index += 1
    except OSError:
        state.ctx.report.corrupt_files.append(rel)


def _record(state: _State, rel: str, item: Item) -> Iterator[Record]:
    ctx, mapping = state.ctx, state.mapping
    value = item.value
    problem = None
    if value is _BAD:
        problem = ("", "line is not valid JSON")
    elif not isinstance(value, dict):
        problem = ("", "record is not an object")
    elif not isinstance(get_path(value, mapping.content), str):
        problem = (mapping.content, "content must be a string")
    if problem is not None:
        ctx.report.add("bad_records", "records_invalid")
        yield ctx.quarantine(
            rel, problem[1], item.text, index=item.index, line=item.line, field=problem[0]
        )
        return
    value = clean_json(value, item.text)
    native = get_path(value, mapping.id)
    ident = None if native is None or isinstance(native, dict | list) else str(native)
    if ident is not None:
        if ident in state.ids:
            ctx.report.add("duplicates", "records_duplicate_id")
            return
        state.ids.add(ident)
    ctx.report.add("entities", "records")
    record_key = key(FORMAT, "id", ident) if ident is not None else key(FORMAT, rel, item.index)
    when = _time(get_path(value, mapping.created_at), mapping.timestamp_unit)
    if mapping.created_at is not None and when is None:
        ctx.report.add("warnings", "timestamps_missing")
    user = as_str(get_path(value, mapping.user)) or ctx.options.default_user
    yield from ctx.user(user)
    content: str = get_path(value, mapping.content)
    if mapping.target == "memory":
        ctx.report.add("entities", "memories")
        kind = as_str(get_path(value, mapping.kind)) or mapping.default_kind
        score = as_number(get_path(value, mapping.confidence))
        yield MemoryRec(
            source_key=record_key,
            owner_handle=user,
            kind=kind if kind in MEMORY_KINDS else mapping.default_kind,
            content=content,
            confidence=1.0 if score is None else unit(score, scale100=True),
            created_at=when,
            metadata={"record": value, "file": rel},
        )
        return
    group = get_path(value, mapping.session)
    session_key = (
        key(FORMAT, "session", group)
        if isinstance(group, str | int) and not isinstance(group, bool)
        else key(FORMAT, "file", rel)
    )
    if session_key not in state.seqs:
        state.seqs[session_key] = 0
        ctx.report.add("entities", "sessions")
        yield SessionRec(
            source_key=session_key,
            user_handle=user,
            kind="chat",
            title=as_str(get_path(value, mapping.title)),
            created_at=when,
            metadata={"first_file": rel},
        )
    raw_role = as_str(get_path(value, mapping.role)) or "user"
    role = mapping.role_map.get(raw_role, raw_role)
    ctx.report.add("entities", "messages")
    state.seqs[session_key] += 1
    yield MessageRec(
        source_key=record_key,
        session_source_key=session_key,
        user_handle=user,
        seq=state.seqs[session_key],
        role=role if role in ROLES else "user",
        content=content,
        created_at=when,
        metadata={
            "record": value,
            "file": rel,
            **({"role_raw": raw_role} if role not in ROLES else {}),
        },
    )


def _time(value: Any, unit_name: str) -> datetime | None:
    if isinstance(value, str):
        return parse_iso(value)
    if unit_name == "auto":
        number = as_number(value)
        return None if number is None else from_epoch(number, "ms" if abs(number) > 1e11 else "s")
    return from_epoch(value, unit_name)
