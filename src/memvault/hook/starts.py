"""When each tool call started, so that its PostToolUse can carry a `duration_ms`.

Claude Code reports no duration for most tools. `PreToolUse` (registered by `hook install`)
writes the time its call starts to a private file named by the call's `tool_use_id`, in
`<spool>.starts/` (0700; each file 0600), and does nothing else: no store, no spool, so it
costs about a process start. The call's `PostToolUse` (or `PostToolUseFailure`) takes the
file and sets `duration_ms` in its event before it is stored, spooled, handed to the
background writer or posted to `memvault serve`: every delivery path keeps it. Files of
calls that never ended (an interrupted agent) are dropped at the next session start or end
once a day old.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from memvault.hook.spool import Spool, make_dir

TYPE_CHECKING = False  # not `typing`: the `--background` parent loads no more than it must
if TYPE_CHECKING:
    from typing import Any

TOOL_END_EVENTS = frozenset({"PostToolUse", "PostToolUseFailure"})
STALE_SECONDS = 24 * 3600
MAX_ID = 200


def folder(spool: Spool) -> Path:
    """`<spool>.starts/`, beside the spool of the same target."""
    return spool.path.with_name(spool.path.name + ".starts")


def _name(tool_use_id: Any) -> str | None:
    """The file name of a call: its id, when it is a plain one (`toolu_01A…`), else None."""
    if not isinstance(tool_use_id, str) or not 0 < len(tool_use_id) <= MAX_ID:
        return None
    plain = tool_use_id.replace("_", "").replace("-", "")
    return tool_use_id if plain.isascii() and plain.isalnum() else None


def note_start(spool: Spool, event: dict[str, Any], now: float) -> None:
    """PreToolUse: keep `now` (epoch seconds) as the start of the event's call."""
    name = _name(event.get("tool_use_id"))
    if name is None:
        return
    where = folder(spool)
    make_dir(where)
    fd = os.open(where / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, repr(now).encode())
    finally:
        os.close(fd)


def take_duration(spool: Spool, event: dict[str, Any], now: float) -> None:
    """PostToolUse(Failure): set the event's `duration_ms` from its call's start (when noted,
    and when the agent sent no duration of its own), and forget the start."""
    name = _name(event.get("tool_use_id"))
    if name is None or event.get("hook_event_name") not in TOOL_END_EVENTS:
        return
    path = folder(spool) / name
    try:
        started = float(path.read_bytes())
    except (OSError, ValueError):
        return
    with contextlib.suppress(OSError):
        path.unlink()
    if not _has_duration(event) and 0 <= now - started < STALE_SECONDS:
        event["duration_ms"] = round((now - started) * 1000, 1)


def _has_duration(event: dict[str, Any]) -> bool:
    """Whether the agent reported a duration itself (it is kept: see `event.DURATION_KEYS`)."""
    keys = ("duration_ms", "durationMs", "totalDurationMs")
    response = event.get("tool_response")
    return any(k in event for k in keys) or (
        isinstance(response, dict) and any(k in response for k in keys)
    )


def prune(spool: Spool, now: float) -> None:
    """Drop the starts of calls that never ended (older than a day)."""
    with contextlib.suppress(OSError), os.scandir(folder(spool)) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime > STALE_SECONDS:
                    os.unlink(entry.path)


def handle(spool: Spool, event: dict[str, Any]) -> bool:
    """Note or use a call's start; True when the event needs nothing more (PreToolUse)."""
    now = time.time()
    name = event.get("hook_event_name")
    if name == "PreToolUse":
        note_start(spool, event, now)
        return True
    if name in TOOL_END_EVENTS:
        take_duration(spool, event, now)
    elif name in ("SessionStart", "SessionEnd"):
        prune(spool, now)
    return False
