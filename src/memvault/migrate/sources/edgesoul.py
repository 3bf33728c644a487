"""EdgeSoul: the SQLite database and browser chat exports (LEGACY_FORMATS.md §3; §8).

Sources: every `**/edgesoul.db` under the root (backups named `edgesoul_backup_*.db` are
not read) and `exports/*.json`. Profiles become UserRecs, memories MemoryRecs, emotional
patterns EmotionPatternRecs, each conversation context a SessionRec whose exchanges become
a user and an assistant MessageRec, and each user's exported chat records one SessionRec.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from memvault.migrate.sources._base import (
    SQLITE_ERRORS,
    Scan,
    ScanContext,
    ScanOptions,
    as_int,
    as_number,
    as_str,
    child,
    clean_json,
    clean_text,
    dump,
    key,
    sorted_files,
    table_columns,
    unit,
)
from memvault.migrate.sources._json import Item, iter_top_array
from memvault.migrate.sources._time import from_epoch, parse_any, parse_iso
from memvault.migrate.sources.records import (
    MEMORY_KINDS,
    EmotionPatternRec,
    MemoryRec,
    MessageRec,
    Record,
    SessionRec,
)

FORMAT = "edgesoul"
_PROFILE_SKIP = frozenset({"id", "user_id", "name", "created_at", "updated_at"})
_JSON_COLUMNS = frozenset(
    {"interests", "dislikes", "communication_patterns", "memory_metadata", "triggers",
     "time_patterns", "messages", "topics", "emotion_trajectory"}
)  # fmt: skip


LAYOUTS = (
    "a folder holding edgesoul.db anywhere below it (e.g. the backend, or backend/data/)",
    "edgesoul.db itself, or any EdgeSoul SQLite file (a backup)",
    "browser chat exports: one .json file, a folder of them, or exports/*.json",
)


def scan(root: Path, options: ScanOptions | None = None) -> Scan:
    """Scan a folder (`**/edgesoul.db`, `exports/*.json` and chat exports beside it), an
    EdgeSoul database file, or one browser chat export (.json)."""
    return Scan(FORMAT, root, _produce, options)


def is_export(path: Path) -> bool:
    """True when the start of a .json file looks like a browser chat export."""
    try:
        with path.open("rb") as fh:
            return b'"userMessage"' in fh.read(4096)
    except OSError:
        return False


def _produce(ctx: ScanContext) -> Iterator[Record]:
    if ctx.only is not None:
        if ctx.only.suffix.lower() == ".json":
            yield from _exports(ctx, [ctx.only])
        else:
            yield from _database(ctx, ctx.only)
        return
    for path in sorted_files(ctx.root, "**/edgesoul.db"):
        yield from _database(ctx, path)
    beside = [p for p in sorted_files(ctx.root, "*.json") if is_export(p)]
    yield from _exports(ctx, sorted_files(ctx.root / "exports", "*.json") + beside)


def _rows(conn: sqlite3.Connection, table: str) -> Iterator[dict[str, Any]]:
    columns = table_columns(conn, table)
    if not columns:
        return
    order = "id" if "id" in columns else "rowid"
    for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY {order}'):
        values = {name: row[name] for name in row.keys()}  # noqa: SIM118
        for name in _JSON_COLUMNS & values.keys():
            values[name] = _json(values[name])
        yield values


def _json(value: Any) -> Any:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return value
    try:
        return clean_json(json.loads(value))
    except (ValueError, RecursionError):
        return clean_text(value)


def _database(ctx: ScanContext, path: Path) -> Iterator[Record]:
    try:
        conn = ctx.open_sqlite(path)
    except sqlite3.Error as exc:
        yield ctx.corrupt(path, f"not a readable SQLite database: {exc}")
        return
    rel = ctx.rel(path)
    try:
        yield from _profiles(ctx, conn)
        yield from _memories(ctx, conn, rel)
        yield from _emotional_patterns(ctx, conn, rel)
        yield from _contexts(ctx, conn, rel)
    except SQLITE_ERRORS as exc:
        yield ctx.corrupt(path, f"SQLite error while reading: {exc}")
    finally:
        conn.close()


def _handle(value: Any, fallback: str) -> str:
    text = as_str(value) if not isinstance(value, int | float) else str(value)
    return text if text else fallback


def _profiles(ctx: ScanContext, conn: sqlite3.Connection) -> Iterator[Record]:
    local = ctx.options.local_tz
    for row in _rows(conn, "user_profiles"):
        ctx.report.add("entities", "user_profiles")
        handle = _handle(row.get("user_id"), f"user_profile_{row.get('id')}")
        profile = _profile(row)
        yield from ctx.user(
            handle,
            display_name=as_str(row.get("name")),
            profile=profile,
            created_at=parse_iso(row.get("created_at")),  # column default: utcnow()
            updated_at=parse_iso(row.get("updated_at")) or parse_iso(row.get("created_at"), local),
            metadata={"legacy_row_id": row.get("id")},
        )


# EdgeSoul's profile columns → where `vault.profiles` reads them (personality levels 0–1,
# voice preferences); the rest stay at the top level of `users.profile` under their names.
_LEVELS = {f"{name}_level": name for name in
           ("empathy", "humor", "formality", "verbosity", "proactiveness")}  # fmt: skip
_VOICE = {"voice_speed": "speed", "voice_pitch": "pitch", "auto_speak_responses": "auto_speak",
          "voice_enabled": "enabled"}  # fmt: skip
_BOOLEANS = frozenset({"auto_speak_responses", "voice_enabled", "emoji_usage"})
_USAGE = ("total_conversations", "total_messages", "avg_session_length")


def _profile(row: dict[str, Any]) -> dict[str, Any]:
    """A `user_profiles` row as memvault's profile: `personality` (the 0–100 levels on
    memvault's 0–1 scale), `voice` (speed, pitch, auto_speak, enabled), `interests`,
    `dislikes`, EdgeSoul's usage statistics under `legacy_usage` (memvault computes its own
    from the sessions), and every other column under its own name. `edgesoul_levels` keeps
    the levels as EdgeSoul stored them (a value that is not a number stays only there)."""
    profile: dict[str, Any] = {}
    personality: dict[str, float] = {}
    voice: dict[str, Any] = {}
    raw_levels: dict[str, Any] = {}
    usage: dict[str, Any] = {}
    for name, value in row.items():
        if name in _PROFILE_SKIP:
            continue
        if name in _LEVELS:
            raw_levels[name] = value
            number = as_number(value)
            if number is not None:
                personality[_LEVELS[name]] = unit(number / 100.0)  # always 0–100 INTEGER
        elif name in _VOICE:
            if value is not None:
                voice[_VOICE[name]] = bool(value) if name in _BOOLEANS else value
        elif name in _USAGE:
            usage[name] = value
        elif name in _BOOLEANS and isinstance(value, int) and value in (0, 1):
            profile[name] = bool(value)
        else:
            profile[name] = value
    profile["personality"] = personality
    profile["voice"] = voice
    profile["interests"] = _list(profile.get("interests"))
    profile["dislikes"] = _list(profile.get("dislikes"))
    if raw_levels:
        profile["edgesoul_levels"] = raw_levels
    if usage:
        profile["legacy_usage"] = usage
    return profile


def _list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _memories(ctx: ScanContext, conn: sqlite3.Connection, rel: str) -> Iterator[Record]:
    local = ctx.options.local_tz
    for row in _rows(conn, "memories"):
        ctx.report.add("entities", "memories")
        owner = _handle(row.get("user_id"), ctx.options.default_user)
        yield from ctx.user(owner)
        kind = as_str(row.get("memory_type")) or "note"
        meta: dict[str, Any] = {"memory_id": row.get("memory_id"), "legacy_row_id": row.get("id")}
        extra = row.get("memory_metadata")
        if isinstance(extra, dict):
            meta.update(extra)
        elif extra is not None:
            meta["memory_metadata"] = extra
        if kind not in MEMORY_KINDS:
            meta["memory_type"] = kind
            kind = "note"
        content = row.get("content")
        yield MemoryRec(
            source_key=key(FORMAT, rel, "memories", row.get("id")),
            owner_handle=owner,
            kind=kind,
            content=clean_text(content) if isinstance(content, str) else str(content or ""),
            context=as_str(row.get("context")),
            confidence=_unit_or(row.get("confidence"), 1.0),
            importance=_unit_or(row.get("importance"), 0.5),
            access_count=max(0, as_int(row.get("access_count")) or 0),
            last_accessed_at=parse_iso(row.get("last_accessed"), local),
            created_at=parse_iso(row.get("created_at"), local),
            metadata=meta,
        )


def _unit_or(value: Any, default: float) -> float:
    number = as_number(value)
    return default if number is None else unit(number, scale100=True)


def _counts(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, int) and not isinstance(v, bool)}


def _emotional_patterns(ctx: ScanContext, conn: sqlite3.Connection, rel: str) -> Iterator[Record]:
    for row in _rows(conn, "emotional_patterns"):
        ctx.report.add("entities", "emotional_patterns")
        owner = _handle(row.get("user_id"), ctx.options.default_user)
        yield from ctx.user(owner)
        raw = as_number(row.get("avg_intensity"))
        triggers = row.get("triggers")
        times = row.get("time_patterns")
        yield EmotionPatternRec(
            source_key=key(FORMAT, rel, "emotional_patterns", row.get("id")),
            owner_handle=owner,
            emotion=_handle(row.get("emotion"), "unknown"),
            frequency=max(0, as_int(row.get("frequency")) or 0),
            avg_intensity=unit(raw or 0.0, scale100=True),
            triggers=tuple(str(t) for t in triggers) if isinstance(triggers, list) else (),
            time_patterns={
                str(k): v
                for k, v in times.items()
                if isinstance(v, int) and not isinstance(v, bool)
            }
            if isinstance(times, dict)
            else {},
            trend=as_str(row.get("trend")),
            last_occurrence=parse_iso(row.get("last_occurrence"), ctx.options.local_tz),
            metadata={"legacy_row_id": row.get("id"), "avg_intensity_raw": raw},
        )


def _contexts(ctx: ScanContext, conn: sqlite3.Connection, rel: str) -> Iterator[Record]:
    local = ctx.options.local_tz
    for row in _rows(conn, "conversation_contexts"):
        ctx.report.add("entities", "conversation_contexts")
        owner = _handle(row.get("user_id"), ctx.options.default_user)
        yield from ctx.user(owner)
        messages = row.get("messages")
        exchanges = messages if isinstance(messages, list) else []
        ctx.report.add("entities", "context_messages", len(exchanges))
        if not exchanges:
            ctx.report.add("warnings", "conversation_contexts_empty")
        session_key = key(FORMAT, rel, "conversation_contexts", row.get("id"))
        meta: dict[str, Any] = {
            k: row.get(k)
            for k in ("session_id", "topics", "current_emotion", "emotion_trajectory")
            if k in row
        }
        meta["legacy_row_id"] = row.get("id")
        if messages is not None and not isinstance(messages, list):
            meta["messages_raw"] = messages
        yield SessionRec(
            source_key=session_key,
            user_handle=owner,
            kind="chat",
            title=None,
            status="active",
            created_at=parse_iso(row.get("started_at"), local),
            updated_at=parse_iso(row.get("last_activity"), local),
            metadata=meta,
        )
        seq = 0
        for i, exchange in enumerate(exchanges):
            if not isinstance(exchange, dict):
                yield ctx.quarantine(
                    rel, "context message is not an object", dump(exchange), index=i,
                    field=f"conversation_contexts[{row.get('id')}].messages[{i}]",
                )  # fmt: skip
                continue
            when = parse_any(exchange.get("timestamp"), local)
            for role, name in (("user", "user"), ("assistant", "assistant")):
                text = exchange.get(name)
                if text is None:
                    continue
                seq += 1
                yield MessageRec(
                    source_key=child(session_key, i, role),
                    session_source_key=session_key,
                    user_handle=owner,
                    seq=seq,
                    role=role,
                    content=clean_text(text) if isinstance(text, str) else json.dumps(text),
                    created_at=when,
                    emotion=as_str(exchange.get("emotion")) if role == "user" else None,
                    metadata={"exchange_index": i},
                )


def _export_problem(value: Any) -> tuple[str, str] | None:
    if not isinstance(value, dict):
        return "", "export record is not an object"
    for name in ("userId", "userMessage", "aiResponse"):
        if not isinstance(value.get(name), str):
            return name, f"{name} must be a string"
    ts = value.get("timestamp")
    if isinstance(ts, bool) or not isinstance(ts, int | float):
        return "timestamp", "timestamp must be a number"
    if isinstance(value.get("id"), bool) or not isinstance(value.get("id"), int):
        return "id", "id must be an integer"
    return None


def _exports(ctx: ScanContext, paths: list[Path]) -> Iterator[Record]:
    seen: set[tuple[str, int]] = set()
    seqs: dict[str, int] = {}
    for path in paths:
        items, bad = ctx.read_json(path, iter_top_array)
        if bad is not None:
            yield bad
            continue
        assert items is not None
        rel = ctx.rel(path)
        for item in items:
            yield from _export_record(ctx, rel, item, seen, seqs)


def _export_record(
    ctx: ScanContext,
    rel: str,
    item: Item,
    seen: set[tuple[str, int]],
    seqs: dict[str, int],
) -> Iterator[Record]:
    problem = _export_problem(item.value)
    if problem is not None:
        ctx.report.add("bad_records", "chat_export_records_invalid")
        yield ctx.quarantine(
            rel, problem[1], item.text, index=item.index, line=item.line, field=problem[0]
        )
        return
    value: dict[str, Any] = clean_json(item.value, item.text)
    ident = (value["userId"], value["id"])
    if ident in seen:
        ctx.report.add("duplicates", "chat_export_records_dropped")
        return
    seen.add(ident)
    ctx.report.add("entities", "chat_export_records")
    user = value["userId"] or ctx.options.default_user
    yield from ctx.user(user)
    session_key = key(FORMAT, "export", value["userId"])
    if session_key not in seqs:
        seqs[session_key] = 0
        yield SessionRec(
            source_key=session_key,
            user_handle=user,
            kind="chat",
            title="EdgeSoul chat export",
            metadata={"user_id": value["userId"], "first_file": rel},
        )
    when = from_epoch(value["timestamp"], "ms")
    meta = {"export_id": value["id"], "file": rel}
    for role, text in (("user", value["userMessage"]), ("assistant", value["aiResponse"])):
        seqs[session_key] += 1
        yield MessageRec(
            source_key=child(session_key, value["id"], role),
            session_source_key=session_key,
            user_handle=user,
            seq=seqs[session_key],
            role=role,
            content=text,
            created_at=when,
            emotion=as_str(value.get("emotion")) if role == "user" else None,
            metadata=meta,
        )
