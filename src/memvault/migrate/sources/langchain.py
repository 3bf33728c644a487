"""LangChain `FileChatMessageHistory` files (LEGACY_FORMATS.md §7; contract §8).

Files: `**/*.json` under the root; each parsed file is one history (a SessionRec) whose
valid `{"type", "data"}` entries become MessageRecs. Files that are not UTF-8 are read as
cp1252 with the warning `files_not_utf8`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memvault.migrate.sources._base import (
    Scan,
    ScanContext,
    ScanOptions,
    child,
    clean_json,
    is_blank_file,
    key,
    sorted_files,
)
from memvault.migrate.sources._json import Item, iter_top_array
from memvault.migrate.sources.records import MessageRec, Record, SessionRec

FORMAT = "langchain"
BASE_TYPES = ("human", "ai", "system", "chat", "function", "tool", "remove")
CHUNK_TYPES = {
    "HumanMessageChunk": "human",
    "AIMessageChunk": "ai",
    "SystemMessageChunk": "system",
    "ChatMessageChunk": "chat",
    "FunctionMessageChunk": "function",
    "ToolMessageChunk": "tool",
}
ROLE_OF = {"human": "user", "ai": "assistant", "system": "system", "function": "function",
           "tool": "tool", "remove": "system"}  # fmt: skip
ROLES = frozenset({"user", "assistant", "system", "tool", "function"})


LAYOUTS = (
    "one history file (FileChatMessageHistory's .json)",
    "a folder: every *.json below it is one history",
)


def scan(root: Path, options: ScanOptions | None = None) -> Scan:
    """Scan one history file, or a folder: every `*.json` below it is one history."""
    return Scan(FORMAT, root, _produce, options)


def message_type(value: Any) -> str | None:
    """The base LangChain type of a valid message entry, else None."""
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    base = kind if kind in BASE_TYPES else CHUNK_TYPES.get(kind) if isinstance(kind, str) else None
    data = value.get("data")
    if base is None or not isinstance(data, dict) or "content" not in data:
        return None
    return base


def text_of(content: Any) -> str:
    """Message text from a string or a list of content blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            b if isinstance(b, str) else b["text"]
            for b in content
            if isinstance(b, str) or (isinstance(b, dict) and isinstance(b.get("text"), str))
        ]
        return "\n".join(texts)
    return "" if content is None else json.dumps(content, ensure_ascii=False)


def _produce(ctx: ScanContext) -> Iterator[Record]:
    owner = ctx.options.default_user
    yield from ctx.user(owner)
    for path in ctx.candidates(sorted_files(ctx.root, "**/*.json")):
        blank = is_blank_file(path)
        items, bad, encoding = ctx.read_json_any(path, iter_top_array, ("utf-8", "cp1252"))
        if bad is not None:
            yield bad
            continue
        assert items is not None
        rel = ctx.rel(path)
        ctx.report.add("entities", "histories")
        if blank:
            ctx.report.add("warnings", "files_zero_bytes")
        meta: dict[str, Any] = {"file": rel}
        if encoding != "utf-8":
            ctx.report.add("warnings", "files_not_utf8")
            meta["encoding"] = encoding
        session_key = key(FORMAT, rel)
        yield SessionRec(
            source_key=session_key,
            user_handle=owner,
            kind="chat",
            title=path.stem,
            status="active",
            updated_at=datetime.fromtimestamp(path.stat().st_mtime, UTC),
            metadata=meta,
        )
        seq = 0
        for item in items:
            rec = _message(ctx, rel, session_key, item, seq + 1)
            if isinstance(rec, MessageRec):
                seq += 1
            yield rec


def _message(ctx: ScanContext, rel: str, session_key: str, item: Item, seq: int) -> Record:
    base = message_type(item.value)
    if base is None:
        ctx.report.add("bad_records", "messages_invalid")
        value = item.value
        field = "type"
        kind = value.get("type") if isinstance(value, dict) else None
        if isinstance(kind, str) and (kind in BASE_TYPES or kind in CHUNK_TYPES):
            field = "data.content" if isinstance(value.get("data"), dict) else "data"
        reason = "not a message object" if not isinstance(value, dict) else f"invalid {field}"
        return ctx.quarantine(rel, reason, item.text, index=item.index, line=item.line, field=field)
    value = clean_json(item.value, item.text)
    data: dict[str, Any] = value["data"]
    ctx.report.add("entities", "messages")
    if base != "remove":
        ctx.report.add("entities", f"messages_{base}")
    meta: dict[str, Any] = {"langchain_type": value["type"]}
    meta.update({k: v for k, v in data.items() if k != "content" and v not in (None, {}, [])})
    if isinstance(data["content"], list):
        meta["content_blocks"] = data["content"]
    role = ROLE_OF.get(base, "user")
    if base == "chat":
        speaker = data.get("role")
        role = speaker if isinstance(speaker, str) and speaker in ROLES else "user"
    return MessageRec(
        source_key=child(session_key, item.index),
        session_source_key=session_key,
        user_handle=ctx.options.default_user,
        seq=seq,
        role=role,
        content=text_of(data["content"]),
        metadata=meta,
    )
