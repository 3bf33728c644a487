"""DCM's Claude Code routing database `routing.db` (LEGACY_FORMATS.md §5; contract §8).

Every `**/routing.db` under the root (normally `home/.claude/routing.db`). `tool_usage`
rows become ActionRecs (with a SessionRec per distinct session id and a ProjectRec per
distinct project path); `keyword_tool_scores` rows are merged on (keyword, tool_name),
the highest row id winning, into global (owner None) RoutingScoreRecs.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from memvault.migrate.sources._base import (
    SQLITE_ERRORS,
    Scan,
    ScanContext,
    ScanOptions,
    as_int,
    as_number,
    clean_text,
    dump,
    key,
    sorted_files,
    table_columns,
)
from memvault.migrate.sources._time import parse_any
from memvault.migrate.sources.records import (
    ActionRec,
    ProjectRec,
    Record,
    RoutingScoreRec,
    SessionRec,
)

FORMAT = "dcm"
TOOL_TYPES = frozenset({"builtin", "mcp", "command", "agent", "skill"})
BUILTIN_TOOLS = frozenset(
    {"Read", "Write", "Edit", "Glob", "Grep", "Bash", "Task", "TodoRead", "TodoWrite"}
)
_AGENT_SUFFIXES = ("-specialist", "-expert", "-dev", "-admin")


LAYOUTS = (
    "~/.claude, your home, or any folder holding routing.db below it",
    "routing.db itself (or a copy such as routing.db.backup)",
)


def scan(root: Path, options: ScanOptions | None = None) -> Scan:
    """Scan a folder holding `**/routing.db` (e.g. `~/.claude`), or the database file."""
    return Scan(FORMAT, root, _produce, options)


def classify_tool(name: str) -> str:
    """DCM's tool_type classification by tool name."""
    if name in BUILTIN_TOOLS:
        return "builtin"
    if name.startswith("mcp__"):
        return "mcp"
    if name.startswith("/"):
        return "command"
    if name.endswith(_AGENT_SUFFIXES):
        return "agent"
    return "skill"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return clean_text(str(value)).strip()


def _rows(conn: sqlite3.Connection, table: str, order: str) -> Iterator[dict[str, Any]]:
    if not table_columns(conn, table):
        return
    sql = f'SELECT rowid AS "__rowid", * FROM "{table}" ORDER BY {order}'
    for row in conn.execute(sql):
        yield {name: row[name] for name in row.keys()}  # noqa: SIM118


def _produce(ctx: ScanContext) -> Iterator[Record]:
    yield from ctx.user(ctx.options.default_user)
    seen: tuple[set[str], set[str]] = (set(), set())
    for path in ctx.candidates(sorted_files(ctx.root, "**/routing.db")):
        try:
            conn = ctx.open_sqlite(path)
        except sqlite3.Error as exc:
            yield ctx.corrupt(path, f"not a readable SQLite database: {exc}")
            continue
        try:
            yield from _tool_usage(ctx, conn, ctx.rel(path), seen)
            yield from _scores(ctx, conn, ctx.rel(path))
        except SQLITE_ERRORS as exc:
            yield ctx.corrupt(path, f"SQLite error while reading: {exc}")
        finally:
            conn.close()


def _file_paths(value: Any) -> tuple[tuple[str, ...], bool]:
    """(paths, comma_separated)."""
    text = _text(value)
    if not text:
        return (), False
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            return tuple(clean_text(str(p)) for p in parsed if p is not None), False
    return tuple(p.strip() for p in text.split(",") if p.strip()), True


def _tool_usage(
    ctx: ScanContext, conn: sqlite3.Connection, rel: str, seen: tuple[set[str], set[str]]
) -> Iterator[Record]:
    owner = ctx.options.default_user
    sessions, projects = seen
    for row in _rows(conn, "tool_usage", '"__rowid"'):
        row_id = row["__rowid"]
        tool = _text(row.get("tool_name"))
        if not tool:
            ctx.report.add("bad_records", "tool_usage_invalid")
            yield ctx.quarantine(rel, "empty tool_name", dump(row), index=row_id, field="tool_name")
            continue
        ctx.report.add("entities", "tool_usage")
        meta: dict[str, Any] = {"legacy_row_id": row_id, "table": "tool_usage"}
        exit_raw = row.get("exit_code")
        if isinstance(exit_raw, str) and not exit_raw.strip():
            ctx.report.add("warnings", "tool_usage_exit_code_empty")
            meta["exit_code_raw"] = exit_raw
        exit_code = as_int(exit_raw)
        if exit_code is None and isinstance(exit_raw, str) and exit_raw.strip():
            exit_code = as_int(as_number(_number(exit_raw)))
            meta["exit_code_raw"] = exit_raw
        paths, comma = _file_paths(row.get("file_paths"))
        if comma:
            ctx.report.add("warnings", "tool_usage_file_paths_comma_separated")
            meta["file_paths_raw"] = _text(row.get("file_paths"))
        project = _text(row.get("project_path"))
        project_key = key(FORMAT, "project", project) if project else None
        if project and project not in projects:
            projects.add(project)
            ctx.report.add("entities", "projects")
            yield ProjectRec(
                source_key=key(FORMAT, "project", project),
                name=PurePosixPath(project).name or project,
                path=project,
            )
        session = _text(row.get("session_id"))
        session_key = key(FORMAT, "session", session) if session else None
        when = parse_any(row.get("created_at"))
        if session and session not in sessions:
            sessions.add(session)
            ctx.report.add("entities", "sessions")
            yield SessionRec(
                source_key=key(FORMAT, "session", session),
                user_handle=owner,
                kind="agent",
                title=None,
                status="completed",
                project_source_key=project_key,
                created_at=when,
                metadata={"claude_session_id": session},
            )
        tool_type = _text(row.get("tool_type"))
        if tool_type not in TOOL_TYPES:
            if tool_type:
                meta["tool_type_raw"] = tool_type
            tool_type = classify_tool(tool)
        duration = as_number(_number(row.get("duration_ms")))
        yield ActionRec(
            source_key=key(FORMAT, db_identity(rel), "tool_usage", row_id),
            owner_handle=owner,
            tool_name=tool,
            tool_type=tool_type,
            session_source_key=session_key,
            project_source_key=project_key,
            file_paths=paths,
            exit_code=exit_code,
            duration_ms=duration if duration is None or duration >= 0 else None,
            created_at=when,
            metadata=meta,
        )


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return value


def db_identity(rel: str) -> str:
    """The name a routing.db's rows are keyed by: its path below its `.claude` folder (DCM
    keeps it at ~/.claude/routing.db), else its path in the tree. The same database imported
    from `~`, from `~/.claude`, as the file itself, or from a rollback export's
    `home/.claude/routing.db` keys its rows alike, so a re-import or `verify --against` of
    any of them matches the rows already stored."""
    parts = PurePosixPath(rel).parts
    if ".claude" in parts:
        last = len(parts) - 1 - parts[::-1].index(".claude")
        return "/".join(parts[last + 1 :])
    return rel


def _scores(ctx: ScanContext, conn: sqlite3.Connection, rel: str) -> Iterator[Record]:
    group: list[dict[str, Any]] = []
    for row in _rows(conn, "keyword_tool_scores", 'keyword, tool_name, "__rowid"'):
        keyword, tool = _text(row.get("keyword")), _text(row.get("tool_name"))
        if not keyword or not tool:
            ctx.report.add("bad_records", "keyword_scores_invalid")
            yield ctx.quarantine(
                rel,
                "empty keyword" if not keyword else "empty tool_name",
                dump(row),
                index=row["__rowid"],
                field="keyword" if not keyword else "tool_name",
            )
            continue
        row["__key"] = (keyword, tool)
        if group and group[-1]["__key"] != row["__key"]:
            yield _score(ctx, rel, group)
            group = []
        group.append(row)
    if group:
        yield _score(ctx, rel, group)


def _score(ctx: ScanContext, rel: str, group: list[dict[str, Any]]) -> Record:
    """The winner (highest row id) of one (keyword, tool_name) group."""
    row = group[-1]
    keyword, tool = row["__key"]
    ctx.report.add("entities", "keyword_tool_scores")
    ctx.report.add("duplicates", "keyword_scores_merged", len(group) - 1)
    meta: dict[str, Any] = {"legacy_row_id": row["__rowid"], "table": "keyword_tool_scores"}
    if len(group) > 1:
        meta["merged_row_ids"] = [r["__rowid"] for r in group[:-1]]
    last_used = row.get("last_used")
    if last_used is None:
        ctx.report.add("warnings", "keyword_scores_last_used_null")
    elif isinstance(last_used, str) and "T" in last_used and last_used.rstrip().endswith("Z"):
        ctx.report.add("warnings", "keyword_scores_last_used_iso")
        meta["last_used_raw"] = last_used
    usage = max(0, as_int(_number(row.get("usage_count"))) or 0)
    success = max(0, as_int(_number(row.get("success_count"))) or 0)
    if success > usage:
        meta["success_count_raw"] = success
        success = usage
    tool_type = _text(row.get("tool_type"))
    if tool_type not in TOOL_TYPES:
        if tool_type:
            meta["tool_type_raw"] = tool_type
        tool_type = classify_tool(tool)
    weight = as_number(_number(row.get("score")))
    return RoutingScoreRec(
        source_key=key(FORMAT, "routing", keyword, tool),
        owner_handle=None,
        keyword=keyword,
        tool_name=tool,
        tool_type=tool_type,
        weight=1.0 if weight is None else weight,
        usage_count=usage,
        success_count=success,
        last_used_at=parse_any(last_used),
        metadata=meta,
    )
