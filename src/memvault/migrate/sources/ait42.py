"""AIT42 Editor session history (LEGACY_FORMATS.md §1; contract §8).

Files, in this order: `home/.ait42/sessions/<hash16>.json` (v3), `home/.ait42/sessions.json`
(v2) and `projects/*/.ait42/sessions.json` (v1). A session becomes a SessionRec of kind
competition/ensemble/debate; each instance a child SessionRec of kind `instance`; chat
messages belong to the session.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

from memvault.migrate.sources._base import (
    Scan,
    ScanContext,
    ScanOptions,
    as_int,
    child,
    clean_json,
    clean_text,
    dump,
    key,
    sorted_files,
)
from memvault.migrate.sources._json import Item, iter_top_array, iter_top_object
from memvault.migrate.sources._time import parse_any, parse_iso
from memvault.migrate.sources.records import MessageRec, ProjectRec, Record, SessionRec

FORMAT = "ait42"
SESSION_TYPES = frozenset({"competition", "ensemble", "debate"})
SESSION_STATUSES = frozenset({"running", "completed", "failed", "paused"})
INSTANCE_STATUSES = frozenset({"idle", "running", "completed", "failed", "paused", "archived"})
SQLITE_INSTANCE_STATUSES = frozenset({"running", "completed", "failed", "timeout"})
ROLES = frozenset({"user", "assistant", "system"})
SQLITE_MAX_CONTENT = 10_000
_SESSION_KEYS = frozenset(
    {"id", "type", "task", "status", "createdAt", "updatedAt", "completedAt", "instances",
     "chatHistory"}
)  # fmt: skip
_INSTANCE_KEYS = frozenset({"agentName", "status", "startTime", "endTime"})


def workspace_hash(path: str | Path) -> str:
    """AIT42's workspace hash: sha256 of the canonical path, first 16 hex characters."""
    candidate = Path(path)
    text = str(candidate.resolve()) if candidate.exists() else str(path).rstrip("/") or "/"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


LAYOUTS = (
    "~/.ait42 (sessions/<hash16>.json, sessions.json, workspace_mapping.json), "
    "or the folder holding it (your home)",
    "~/.ait42/sessions (the <hash16>.json files)",
    "one session file: <hash16>.json or sessions.json",
    "a tree: home/.ait42/… and projects/*/.ait42/sessions.json",
)
_HASH16 = frozenset("0123456789abcdef")


def scan(root: Path, options: ScanOptions | None = None) -> Scan:
    """Scan a session file, `~/.ait42`, its `sessions/` folder, a home folder holding
    `.ait42/`, or an `ait42/` tree (holding `home/` and `projects/`)."""
    return Scan(FORMAT, root, _produce, options)


def is_hash_file(path: Path) -> bool:
    """True for a v3 file name: 16 lowercase hex digits, `.json`."""
    return path.suffix == ".json" and len(path.stem) == 16 and set(path.stem) <= _HASH16


def home_of(root: Path) -> Path:
    """The `.ait42` folder of a scan root: `home/.ait42` in a tree, `.ait42` in a home
    folder, or the root itself when it is one (holds sessions/ or sessions.json)."""
    for cand in (root / "home" / ".ait42", root / ".ait42", root):
        if (cand / "sessions").is_dir() or (cand / "sessions.json").is_file():
            return cand
    return root / "home" / ".ait42"


def _v3_files(ctx: ScanContext, home: Path) -> list[Path]:
    if ctx.only is not None:
        return [ctx.only] if is_hash_file(ctx.only) else []
    if home == ctx.root / "home" / ".ait42" and not home.is_dir():
        # The root may be the sessions/ folder itself.
        return [p for p in sorted_files(ctx.root, "*.json") if is_hash_file(p)]
    return sorted_files(home / "sessions", "*.json")


class _File:
    def __init__(self, path: Path, layout: str, project: ProjectRec | None, hash16: str | None):
        self.path = path
        self.layout = layout
        self.project = project
        self.hash16 = hash16
        self.unmapped = False
        self.loaded = 0


class _State:
    def __init__(self, ctx: ScanContext) -> None:
        self.ctx = ctx
        self.seen_sessions: set[str] = set()
        self.seen_messages: set[str] = set()
        self.projects: set[str] = set()


def _produce(ctx: ScanContext) -> Iterator[Record]:
    home = ctx.root if ctx.only is not None else home_of(ctx.root)
    v3 = _v3_files(ctx, home)
    if v3 and v3[0].parent != home / "sessions":
        home = v3[0].parent.parent  # a sessions/ folder or a file in one: ../ holds the map
    mapping = yield from _mapping(ctx, home / "workspace_mapping.json")
    for cand in ctx.options.workspace_candidates:
        mapping.setdefault(workspace_hash(cand), str(cand))
    files: list[_File] = []
    for path in v3:
        hash16 = path.stem
        ws = mapping.get(hash16)
        pkey = key(FORMAT, "workspace", ws) if ws else key(FORMAT, "workspace-hash", hash16)
        project = ProjectRec(
            source_key=pkey,
            name=(Path(ws).name or ws) if ws else hash16,
            path=ws,
            metadata={"workspace_hash": hash16},
        )
        entry = _File(path, "v3", project, hash16)
        entry.unmapped = ws is None
        files.append(entry)
    v2 = home / "sessions.json" if ctx.only is None else ctx.only
    if v2.is_file() and not (ctx.only is not None and v3):
        files.append(_File(v2, "v2", None, None))
    projects = ctx.root / "projects"
    for path in [] if ctx.only else sorted_files(projects, "*/.ait42/sessions.json"):
        folder = path.parent.parent
        ws = str(folder.resolve())
        project = ProjectRec(
            source_key=key(FORMAT, "workspace", ws),
            name=folder.name,
            path=ws,
            metadata={"workspace_hash": workspace_hash(folder)},
        )
        files.append(_File(path, "v1", project, None))

    state = _State(ctx)
    yield from ctx.user(ctx.options.default_user)
    for entry in files:
        items, bad = ctx.read_json(entry.path, iter_top_array)
        if bad is not None:
            ctx.report.add("bad_records", "session_files_corrupt")
            yield bad
            continue
        assert items is not None
        for item in items:
            yield from _session(state, entry, item)
        if entry.loaded and entry.layout in ("v1", "v3"):
            ctx.report.add("entities", "workspaces")
            if entry.unmapped:
                ctx.report.add("warnings", "workspace_hashes_unmapped")


def _mapping(ctx: ScanContext, path: Path) -> Generator[Record, None, dict[str, str]]:
    """Read workspace_mapping.json (hash → path); a corrupt one is listed and ignored."""
    mapping: dict[str, str] = {}
    if not path.is_file():
        return mapping
    items, bad = ctx.read_json(path, lambda js: iter_top_object(js, frozenset()))
    if bad is not None:
        yield bad
        return mapping
    assert items is not None
    for name, item in items:
        if isinstance(item.value, str) and item.value:
            mapping[name] = item.value
    return mapping


def _member(value: Any, allowed: frozenset[str]) -> bool:
    return isinstance(value, str) and value in allowed


def _invalid_session(value: Any) -> tuple[str, str] | None:
    """(field, reason) when the session breaks the contract, else None."""
    if not isinstance(value, dict):
        return "", "session is not an object"
    for name in ("id", "type", "task"):
        if not isinstance(value.get(name), str) or not value[name]:
            return name, f"{name} must be a non-empty string"
    if value["type"] not in SESSION_TYPES:
        return "type", f"unknown session type {value['type']!r}"
    if not _member(value.get("status"), SESSION_STATUSES):
        return "status", f"session status {value.get('status')!r} not allowed"
    for name in ("createdAt", "updatedAt", "instances", "chatHistory"):
        if name not in value:
            return name, f"required key {name} missing"
    for name in ("instances", "chatHistory"):
        if not isinstance(value[name], list):
            return name, f"{name} must be an array"
    for i, inst in enumerate(value["instances"]):
        if not isinstance(inst, dict):
            return f"instances[{i}]", "instance is not an object"
        if not _member(inst.get("status"), INSTANCE_STATUSES):
            return f"instances[{i}].status", f"instance status {inst.get('status')!r} not allowed"
    return None


def _invalid_message(msg: Any) -> tuple[str, str] | None:
    if not isinstance(msg, dict):
        return "", "message is not an object"
    for name in ("id", "content"):
        if not isinstance(msg.get(name), str) or not msg[name]:
            return name, f"{name} must be a non-empty string"
    if not _member(msg.get("role"), ROLES):
        return "role", f"role {msg.get('role')!r} not allowed"
    if not isinstance(msg.get("timestamp"), str):
        return "timestamp", "timestamp must be a string"
    return None


def _session(state: _State, entry: _File, item: Item) -> Iterator[Record]:
    ctx = state.ctx
    rel = ctx.rel(entry.path)
    value = item.value
    problem = _invalid_session(value)
    if problem is not None:
        ctx.report.add("bad_records", "sessions_invalid")
        yield ctx.quarantine(
            rel, problem[1], item.text, index=item.index, line=item.line, field=problem[0]
        )
        return
    sid: str = value["id"]
    if sid in state.seen_sessions:
        ctx.report.add("duplicates", "sessions_dropped")
        return
    state.seen_sessions.add(sid)
    value = clean_json(value, item.text)
    entry.loaded += 1
    ctx.report.add("entities", "sessions")
    if entry.project is not None and entry.project.source_key not in state.projects:
        state.projects.add(entry.project.source_key)
        yield entry.project
    if entry.layout == "v2":
        ctx.report.add("warnings", "sessions_without_workspace")
    owner = ctx.options.default_user
    session_key = key(FORMAT, "session", sid)
    meta = {k: v for k, v in value.items() if k not in _SESSION_KEYS}
    meta.update(legacy_id=sid, file=rel, layout=entry.layout)
    if isinstance(value["updatedAt"], str):  # its own text (chrono's digits), for an export
        meta["updated_at_text"] = value["updatedAt"]
    if entry.hash16:
        meta["workspace_hash"] = entry.hash16
    yield SessionRec(
        source_key=session_key,
        user_handle=owner,
        kind=value["type"],
        title=value["task"],
        status=value["status"],
        project_source_key=entry.project.source_key if entry.project else None,
        created_at=parse_iso(value["createdAt"]),
        updated_at=parse_iso(value["updatedAt"]),
        ended_at=parse_iso(value.get("completedAt")),
        metadata=meta,
    )
    for i, inst in enumerate(value["instances"]):
        ctx.report.add("entities", "instances")
        if inst["status"] not in SQLITE_INSTANCE_STATUSES:
            ctx.report.add("warnings", "instances_status_outside_sqlite_check")
        imeta = {k: v for k, v in inst.items() if k not in _INSTANCE_KEYS}
        yield SessionRec(
            source_key=child(session_key, "instance", i),
            user_handle=owner,
            kind="instance",
            title=inst.get("agentName") if isinstance(inst.get("agentName"), str) else None,
            status=inst["status"],
            project_source_key=entry.project.source_key if entry.project else None,
            parent_source_key=session_key,
            created_at=parse_any(inst.get("startTime")),
            ended_at=parse_any(inst.get("endTime")),
            metadata=imeta,
            instance_no=i,  # its place in the session's list: unique within the parent
        )
    yield from _messages(state, rel, item, session_key, value["chatHistory"])


def _messages(
    state: _State, rel: str, item: Item, session_key: str, history: list[Any]
) -> Iterator[Record]:
    ctx = state.ctx
    in_session: dict[str, int] = {}
    for i, msg in enumerate(history):
        problem = _invalid_message(msg)
        if problem is not None:
            ctx.report.add("bad_records", "chat_messages_invalid")
            yield ctx.quarantine(
                rel,
                problem[1],
                dump(msg),
                index=item.index,
                line=item.line,
                field=f"chatHistory[{i}].{problem[0]}".rstrip("."),
            )
            continue
        mid: str = msg["id"]
        rekeyed = mid in state.seen_messages
        if rekeyed:
            ctx.report.add("duplicates", "message_ids_rekeyed")
        else:
            state.seen_messages.add(mid)
        content = clean_text(msg["content"])
        if len(content) > SQLITE_MAX_CONTENT:
            ctx.report.add("warnings", "chat_messages_over_10000_chars")
        ctx.report.add("entities", "chat_messages")
        n = in_session.get(mid, 0) + 1
        in_session[mid] = n
        # Its place in the legacy history, so a message quarantined later (or fixed) shifts
        # no other message's seq: a gap stays where it was.
        seq = i + 1
        yield MessageRec(
            source_key=child(session_key, "message", mid if n == 1 else f"{mid}#{n}"),
            session_source_key=session_key,
            user_handle=ctx.options.default_user,
            seq=seq,
            role=msg["role"],
            content=content,
            created_at=parse_iso(msg["timestamp"]),
            metadata={
                "legacy_id": mid,
                "instance_id": as_int(msg.get("instanceId")),
                "id_rekeyed": rekeyed,
            },
        )
