"""`auto` detection: which legacy formats a folder holds, and where each one's root is."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FORMATS = ("ait42", "lilith", "edgesoul", "workly", "dcm", "chatgpt", "langchain")
_SNIFF = 4096


@dataclass(frozen=True, slots=True)
class Detection:
    """A format found under `root` (the folder to hand to that format's `scan`)."""

    format: str
    root: Path
    reason: str


def _any(root: Path, *patterns: str) -> str | None:
    for pattern in patterns:
        try:
            for path in root.glob(pattern):
                if path.is_file():
                    return path.relative_to(root).as_posix()
        except OSError:
            continue
    return None


def _head(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            return fh.read(_SNIFF).decode("utf-8", "replace")
    except OSError:
        return ""


def _langchain(root: Path) -> str | None:
    for path in sorted(root.glob("**/*.json"))[:50]:
        head = _head(path).lstrip()
        if head.startswith("[") and '"type"' in head and '"data"' in head:
            return path.relative_to(root).as_posix()
    return None


def _chatgpt(root: Path) -> str | None:
    top = [root / "conversations.json"] if (root / "conversations.json").is_file() else []
    for path in top + sorted(root.glob("*/conversations.json")):
        head = _head(path)
        if '"mapping"' in head or head.strip() in ("", "[]"):
            return path.relative_to(root).as_posix()
    return None


def _edgesoul(root: Path) -> str | None:
    found = _any(root, "**/edgesoul.db")
    if found:
        return found
    for path in sorted(root.glob("exports/*.json")) + sorted(root.glob("*.json")):
        if '"userMessage"' in _head(path):
            return path.relative_to(root).as_posix()
    return None


def _is_ait42(head: str) -> bool:
    # Sessions start with their instances, whose tmux output can fill the sniffed head.
    return '"chatHistory"' in head or '"worktreePath"' in head


def _ait42(root: Path) -> str | None:
    found = _any(
        root,
        "home/.ait42/sessions/*.json",
        "home/.ait42/sessions.json",
        "projects/*/.ait42/sessions.json",
        ".ait42/sessions/*.json",
        ".ait42/sessions.json",
    )
    if found:
        return found
    # ~/.ait42 itself, or its sessions/ folder
    for path in sorted(root.glob("sessions/*.json")) + sorted(root.glob("*.json")):
        if path.name != "workspace_mapping.json" and _is_ait42(_head(path)):
            return path.relative_to(root).as_posix()
    return None


_WORKLY_SIGNS = {
    "conversations.json": '"segments"',
    "facts.json": '"entities"',
    "embeddings.json": '"embeddings"',
    "emotion_history.json": '"entries"',
    "personality.json": '"traits"',
}


def _workly(root: Path) -> str | None:
    found = _any(root, *(f"data/memory/{n}" for n in _WORKLY_SIGNS))
    if found:
        return found
    for name, sign in _WORKLY_SIGNS.items():  # the data/memory/ folder itself
        if (root / name).is_file() and sign in _head(root / name):
            return name
    return None


SIGNATURES: dict[str, Callable[[Path], str | None]] = {
    "ait42": _ait42,
    "lilith": lambda r: _any(
        r,
        "response_patterns.json",
        "data/**/response_patterns.json",
        "data/base/patterns.json",
        "data/servers/*/patterns.json",
    ),
    "edgesoul": _edgesoul,
    "workly": _workly,
    "dcm": lambda r: _any(r, "**/routing.db"),
    "chatgpt": _chatgpt,
    "langchain": _langchain,
}


def _sqlite_tables(path: Path) -> set[str]:
    try:
        with path.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                return set()
        conn = sqlite3.connect(f"file:{path.resolve().as_posix()}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            return {str(r[0]) for r in rows}
        finally:
            conn.close()
    except (OSError, sqlite3.Error):
        return set()


def detect_file(path: Path) -> str | None:
    """The format of one file (what its start or its tables look like), else None."""
    tables = _sqlite_tables(path)
    if tables:
        if tables & {"keyword_tool_scores", "tool_usage"}:
            return "dcm"
        if tables & {"user_profiles", "emotional_patterns", "conversation_contexts"}:
            return "edgesoul"
        return None
    head = _head(path)
    body = head.lstrip("\ufeff \t\r\n")
    if '"mapping"' in head:
        return "chatgpt"
    if _is_ait42(head):
        return "ait42"
    if '"fragment_id"' in head:
        return "lilith"
    if '"userMessage"' in head:
        return "edgesoul"
    sign = _WORKLY_SIGNS.get(path.name)
    if sign is not None and body.startswith("{") and sign in head:
        return "workly"
    if body.startswith("[") and '"type"' in head and '"data"' in head:
        return "langchain"
    if body in ("", "[]") and path.name == "conversations.json":
        return "chatgpt"
    return None


def detect(root: Path) -> list[Detection]:
    """Formats under `root`: one per `<format>/` sub-folder that looks like it, or else the
    formats `root` itself looks like (a folder can match several). A file is one format
    at most (see `detect_file`)."""
    root = Path(root)
    if root.is_file():
        fmt = detect_file(root)
        return [Detection(fmt, root, root.name)] if fmt else []
    found: list[Detection] = []
    for fmt in FORMATS:
        sub = root / fmt
        if sub.is_dir():
            hit = SIGNATURES[fmt](sub)
            found.append(Detection(fmt, sub, f"folder {fmt}/" + (f" ({hit})" if hit else "")))
    if found:
        return found
    for fmt in FORMATS:
        if fmt == "langchain" and found:
            continue  # other formats' JSON files would look like histories
        hit = SIGNATURES[fmt](root)
        if hit:
            found.append(Detection(fmt, root, hit))
    return found


__all__ = ["FORMATS", "Detection", "detect", "detect_file"]
