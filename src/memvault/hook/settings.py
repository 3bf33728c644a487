"""Install and uninstall `memvault hook` in a coding agent's settings file (Claude Code's
`settings.json`: `{"hooks": {"EventName": [{"matcher": "*", "hooks": [{"type": "command",
"command": "…"}]}]}}`).

The entries memvault adds carry a marker: their command runs `memvault hook … --managed`
(`--managed` does nothing else). Installing adds one such entry per event, or updates the
marked one already there; uninstalling removes exactly the marked entries (and a group or
event left empty by that). Any other hook - including the user's own `memvault hook` commands
without the marker - is kept as it is. A second install changes nothing. Each change first
copies the file to `<file>.memvault.bak` (one backup, the file as it was before the last
change), then replaces it atomically, keeping the file's indentation.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memvault.errors import InvalidInput

# Event -> matcher (None: the event takes no matcher).
EVENTS: dict[str, str | None] = {
    "SessionStart": None,
    "UserPromptSubmit": None,
    "PreToolUse": "*",  # notes when the call starts: its PostToolUse then has a duration
    "PostToolUse": "*",
    "PostToolUseFailure": "*",
    "SessionEnd": None,
}
TIMEOUT = 10  # seconds the agent waits for the hook (it returns well before: it never blocks)


def default_path() -> Path:
    """Claude Code's user settings, `~/.claude/settings.json`."""
    return Path(os.path.expanduser("~")) / ".claude" / "settings.json"


MARKER = "--managed"


def _words(hook: Any) -> list[str] | None:
    if not isinstance(hook, dict) or not isinstance(hook.get("command"), str):
        return None
    try:
        return shlex.split(hook["command"])
    except ValueError:
        return None


def _runs_memvault_hook(words: list[str]) -> bool:
    return any(
        os.path.basename(w) == "memvault" and words[i + 1] == "hook"
        for i, w in enumerate(words[:-1])
    )


def is_ours(hook: Any) -> bool:
    """Whether a hook entry is one `memvault hook install` added: a `memvault hook` command
    carrying the `--managed` marker. A user's own `memvault hook` command is not ours."""
    words = _words(hook)
    return words is not None and MARKER in words and _runs_memvault_hook(words)


def unmarked(command: str) -> str:
    """`command` as installs before the marker wrote it (recognised only when exactly equal)."""
    words = shlex.split(command)
    return shlex.join([w for w in words if w != MARKER])


BACKGROUND = "--background"
# Events whose hook prints what the agent reads (SessionStart: the memories): never detached.
FOREGROUND_EVENTS = frozenset({"SessionStart"})


def foreground(command: str) -> str:
    """`command` without `--background`."""
    return shlex.join([w for w in shlex.split(command) if w != BACKGROUND])


def event_command(event: str, command: str) -> str:
    """The command installed for `event`: `command`, in the foreground for an event whose
    output the agent reads."""
    return foreground(command) if event in FOREGROUND_EVENTS else command


@dataclass
class Change:
    """What an install or uninstall did to the settings file."""

    path: Path
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    backup: Path | None = None

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def load(path: Path) -> dict[str, Any]:
    """The settings in `path` ({} when the file does not exist)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise InvalidInput("settings", str(path), f"not valid JSON ({exc}); left as is") from exc
    if not isinstance(data, dict):
        raise InvalidInput("settings", str(path), "not a JSON object; left as is")
    hooks = data.get("hooks", {})
    if not isinstance(hooks, dict):
        raise InvalidInput("settings", str(path), '"hooks" is not an object; left as is')
    return data


def check(path: Path) -> dict[str, Any]:
    """The settings in `path`, refused (InvalidInput) when `install` could not add to them:
    run it before anything else an install does, so a broken file changes nothing."""
    data = load(path)
    for event in EVENTS:
        if not isinstance(data.get("hooks", {}).get(event, []), list):
            raise InvalidInput("settings", str(path), f"hooks.{event} is not a list; left as is")
    return data


def _indent(text: str) -> int | str:
    """The indentation of the file's first indented line (2 when there is none)."""
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" \t")
        if stripped and len(stripped) < len(line):
            unit = line[: len(line) - len(stripped)]
            return len(unit) if set(unit) == {" "} else unit
    return 2


def save(path: Path, data: dict[str, Any], change: Change) -> None:
    """Back the file up (one `<file>.memvault.bak`), then replace it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    indent: int | str = 2
    if path.exists():
        change.backup = path.with_name(f"{path.name}.memvault.bak")
        shutil.copy2(path, change.backup)
        indent = _indent(path.read_text(encoding="utf-8"))
    tmp = path.with_name(path.name + ".memvault-tmp")
    tmp.write_text(json.dumps(data, indent=indent, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def install(path: Path, command: str, *, timeout: int = TIMEOUT) -> Change:
    """Add (or update) memvault's marked entry of every event in `EVENTS`; `command` must
    carry the marker (see `hook_command`). SessionStart's runs without `--background` (the
    agent reads its output). An entry an older install wrote - marked, in the foreground or
    not, or exactly this command minus the marker - is updated in place, never duplicated."""
    if MARKER not in shlex.split(command):
        command = f"{command} {MARKER}"
    data = check(path)
    hooks = data.setdefault("hooks", {})
    change = Change(path)
    for event, matcher in EVENTS.items():
        groups = hooks.setdefault(event, [])
        wanted = event_command(event, command)
        legacy = {unmarked(wanted), unmarked(foreground(wanted))}
        ours = [h for g in groups if isinstance(g, dict) for h in g.get("hooks") or []
                if is_ours(h) or (isinstance(h, dict) and h.get("command") in legacy)]  # fmt: skip
        if not ours:
            group: dict[str, Any] = {} if matcher is None else {"matcher": matcher}
            group["hooks"] = [{"type": "command", "command": wanted, "timeout": timeout}]
            groups.append(group)
            change.added.append(event)
        elif ours[0].get("command") != wanted or ours[0].get("timeout") != timeout:
            ours[0].update({"type": "command", "command": wanted, "timeout": timeout})
            change.updated.append(event)
    if change.changed:
        save(path, data, change)
    return change


def uninstall(path: Path) -> Change:
    """Remove every entry memvault installed (marked); groups and events it leaves empty go
    too; everything else is kept as it is."""
    data = load(path)
    change = Change(path)
    hooks = data.get("hooks")
    if not isinstance(hooks, dict):
        return change
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept_groups = []
        for group in groups:
            inner = group.get("hooks") if isinstance(group, dict) else None
            if not isinstance(inner, list) or not any(is_ours(h) for h in inner):
                kept_groups.append(group)
                continue
            kept = [h for h in inner if not is_ours(h)]
            if event not in change.removed:
                change.removed.append(event)
            if kept:
                kept_groups.append({**group, "hooks": kept})
        if event in change.removed:
            if kept_groups:
                hooks[event] = kept_groups
            else:
                del hooks[event]
    if change.changed:
        if not hooks:
            del data["hooks"]
        save(path, data, change)
    return change
