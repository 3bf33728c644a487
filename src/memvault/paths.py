"""File paths handed to memvault by callers: backup, restore, import, export and report paths.

With a files root (`Vault(files_root=…)` or `$MEMVAULT_FILES_ROOT`; a service exposed to
others should always set one), every such path must resolve inside it: `../` escapes,
absolute paths elsewhere and symlinks pointing outside are refused. Without one, a local
user's paths are taken as given. Always refused: NUL bytes, and writing through a symlink.
Paths built from stored data (e.g. a legacy file name kept in metadata) go through `inside`,
which confines them to the folder being written whatever the settings.
"""

from __future__ import annotations

import os
from pathlib import Path

from memvault.errors import InvalidInput

ENV = "MEMVAULT_FILES_ROOT"


def files_root(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The configured files root: `explicit`, else `$MEMVAULT_FILES_ROOT`, else None."""
    value = os.fspath(explicit) if explicit is not None else os.environ.get(ENV)
    if not value:
        return None
    if "\x00" in value:
        raise InvalidInput("files_root", value, "contains a NUL byte")
    return Path(value).resolve()


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def confine(
    field: str,
    path: str | os.PathLike[str],
    root: Path | None,
    *,
    write: bool = False,
) -> Path:
    """`path` checked against the rules above; relative paths are taken from `root` if set."""
    text = os.fspath(path)
    if not text or "\x00" in text:
        raise InvalidInput(field, text, "not a usable file path (empty or NUL byte)")
    candidate = Path(text)
    if root is not None and not candidate.is_absolute():
        candidate = root / candidate
    if write and candidate.is_symlink():
        raise InvalidInput(field, text, "is a symbolic link; refusing to write through it")
    if root is None:
        return candidate
    resolved = candidate.resolve()
    if not _within(resolved, root):
        raise InvalidInput(field, text, f"resolves outside the allowed folder {root}")
    return resolved


def inside(folder: Path, relative: str | os.PathLike[str], field: str = "path") -> Path:
    """`folder / relative`, refused unless it stays inside `folder` (no `..`, no absolute
    path, no symlink leading out)."""
    text = os.fspath(relative)
    rel = Path(text)
    if "\x00" in text or rel.is_absolute() or ".." in rel.parts:
        raise InvalidInput(field, text, f"must stay inside {folder}")
    base = folder.resolve()
    target = (folder / rel).resolve()
    if not _within(target, base):
        raise InvalidInput(field, text, f"resolves outside {folder}")
    return folder / rel
