"""`auto` detection: which legacy formats a folder holds, and where each one's root is."""

from __future__ import annotations

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
    for path in sorted(root.glob("*/conversations.json")):
        head = _head(path)
        if '"mapping"' in head or head.strip() in ("", "[]"):
            return path.relative_to(root).as_posix()
    return None


def _edgesoul(root: Path) -> str | None:
    found = _any(root, "**/edgesoul.db")
    if found:
        return found
    for path in sorted(root.glob("exports/*.json")):
        if '"userMessage"' in _head(path):
            return path.relative_to(root).as_posix()
    return None


SIGNATURES: dict[str, Callable[[Path], str | None]] = {
    "ait42": lambda r: _any(
        r,
        "home/.ait42/sessions/*.json",
        "home/.ait42/sessions.json",
        "projects/*/.ait42/sessions.json",
    ),
    "lilith": lambda r: _any(
        r,
        "response_patterns.json",
        "data/**/response_patterns.json",
        "data/base/patterns.json",
        "data/servers/*/patterns.json",
    ),
    "edgesoul": _edgesoul,
    "workly": lambda r: _any(
        r,
        *(
            f"data/memory/{n}.json"
            for n in ("conversations", "facts", "embeddings", "emotion_history", "personality")
        ),
    ),
    "dcm": lambda r: _any(r, "**/routing.db"),
    "chatgpt": _chatgpt,
    "langchain": _langchain,
}


def detect(root: Path) -> list[Detection]:
    """Formats under `root`: one per `<format>/` sub-folder that looks like it, or else the
    formats `root` itself looks like (a folder can match several)."""
    root = Path(root)
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


__all__ = ["FORMATS", "Detection", "detect"]
