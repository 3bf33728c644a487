"""The spool: events the store could not take, kept in a local JSON-lines file and replayed,
in order, by the next hook call that reaches the store.

Appends take a short exclusive lock on `<spool>.lock`. A replayer first takes `<spool>.replay
.lock` without waiting (a second replayer skips: the first is on it), moves the spool aside to
`<spool>.replaying` under the append lock, and works through it without holding that lock, so
that hooks running meanwhile append and return at once. What it could not replay goes back in
front of what was appended meanwhile. A replayer that dies leaves `<spool>.replaying`, which
the next one finishes first.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

# `typing` only for the type checker: `memvault hook --background` imports this module and
# exits before anything heavy; typing alone is a fifth of a bare interpreter's start-up.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locking, one agent at a time
    fcntl = None  # type: ignore[assignment]


def default_dir() -> Path:
    """`$XDG_STATE_HOME/memvault` (default `~/.local/state/memvault`)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local",
                                                            "state")  # fmt: skip
    return Path(base) / "memvault"


@contextlib.contextmanager
def _locked(path: Path, *, wait: bool = True) -> Iterator[bool]:
    make_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if fcntl is None:
            yield True
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def make_dir(folder: Path) -> None:
    """Create the spool's folder, when missing, for its owner only (0700)."""
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def _read(path: Path) -> list[dict[str, Any]]:
    entries = []
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    for line in data.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut by a crash mid-write: the rest is intact
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def _lines(entries: list[dict[str, Any]]) -> bytes:
    return b"".join(
        json.dumps(e, ensure_ascii=False, separators=(",", ":"), default=str).encode() + b"\n"
        for e in entries
    )


class Spool:
    """A spool file of hook events (`{"received_at": …, "event": {…}}` a line)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = path.with_name(path.name + ".lock")
        self._replay_lock = path.with_name(path.name + ".replay.lock")
        self._replaying = path.with_name(path.name + ".replaying")

    def append(self, entry: dict[str, Any]) -> None:
        """Add one event at the end (durably: written and fsynced before returning)."""
        with _locked(self._lock):
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, _lines([entry]))
                os.fsync(fd)
            finally:
                os.close(fd)

    def pending(self) -> list[dict[str, Any]]:
        """What waits to be replayed, oldest first (read only)."""
        return _read(self._replaying) + _read(self.path)

    def __len__(self) -> int:
        return len(self.pending())

    @contextlib.contextmanager
    def replaying(self, *, wait: bool = False) -> Iterator[Replay | None]:
        """The events to replay now (None: nothing, or another process is replaying and
        `wait` is false); call `done()` as each is stored; on leaving, what was not done goes
        back to the front of the spool."""
        if not self.path.exists() and not self._replaying.exists():
            yield None
            return
        with _locked(self._replay_lock, wait=wait) as mine:
            if not mine:
                yield None
                return
            with _locked(self._lock):
                if not self._replaying.exists() and self.path.exists():
                    os.replace(self.path, self._replaying)
            replay = Replay(_read(self._replaying))
            try:
                yield replay
            finally:
                rest = replay.entries[replay.stored :]
                with _locked(self._lock):
                    if rest:
                        tmp = self.path.with_name(self.path.name + ".tmp")
                        write_private(tmp, _lines(rest) + _read_bytes(self.path))
                        os.replace(tmp, self.path)
                    self._replaying.unlink(missing_ok=True)


def write_private(path: Path, data: bytes) -> None:
    """Write `path` readable by its owner only (0600, whatever the umask): spooled events
    hold the user's prompts."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an older file left by a crash may have other bits
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


class Replay:
    """The events a replayer took, and how many of them are stored so far."""

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self.entries = entries
        self.stored = 0

    def done(self) -> None:
        """The next event is stored (or set aside): it is not put back."""
        self.stored += 1
