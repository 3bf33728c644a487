"""Install and uninstall `memvault hook` in a coding agent's settings file (Claude Code's
`settings.json`: `{"hooks": {"EventName": [{"matcher": "*", "hooks": [{"type": "command",
"command": "…"}]}]}}`).

Installing adds one entry per event, or updates the command of the entry already there, and
touches nothing else; a second install changes nothing. Uninstalling removes exactly the
entries whose command is `… memvault hook …` (and a group or event left empty by that). Each
change first copies the file to `<file>.memvault-<UTC time>.bak`, then replaces it atomically.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memvault.errors import InvalidInput

# Event -> matcher (None: the event takes no matcher).
EVENTS: dict[str, str | None] = {
    "SessionStart": None,
    "UserPromptSubmit": None,
    "PostToolUse": "*",
    "PostToolUseFailure": "*",
    "SessionEnd": None,
}
TIMEOUT = 10  # seconds the agent waits for the hook (it returns well before: it never blocks)


def default_path() -> Path:
    """Claude Code's user settings, `~/.claude/settings.json`."""
    return Path(os.path.expanduser("~")) / ".claude" / "settings.json"


def is_ours(hook: Any) -> bool:
    """Whether a hook entry runs `memvault hook` (any path to memvault, any options)."""
    if not isinstance(hook, dict) or not isinstance(hook.get("command"), str):
        return False
    try:
        words = shlex.split(hook["command"])
    except ValueError:
        return False
    for i, word in enumerate(words[:-1]):
        if os.path.basename(word) == "memvault" and words[i + 1] == "hook":
            return True
    return False


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


def save(path: Path, data: dict[str, Any], change: Change) -> None:
    """Back the file up, then replace it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        change.backup = path.with_name(f"{path.name}.memvault-{stamp}.bak")
        shutil.copy2(path, change.backup)
    tmp = path.with_name(path.name + ".memvault-tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def install(path: Path, command: str, *, timeout: int = TIMEOUT) -> Change:
    """Add (or update) the `memvault hook` entry of every event in `EVENTS`."""
    data = load(path)
    hooks = data.setdefault("hooks", {})
    change = Change(path)
    for event, matcher in EVENTS.items():
        groups = hooks.setdefault(event, [])
        if not isinstance(groups, list):
            raise InvalidInput("settings", str(path), f"hooks.{event} is not a list; left as is")
        ours = [h for g in groups if isinstance(g, dict) for h in g.get("hooks") or []
                if is_ours(h)]  # fmt: skip
        if not ours:
            group: dict[str, Any] = {} if matcher is None else {"matcher": matcher}
            group["hooks"] = [{"type": "command", "command": command, "timeout": timeout}]
            groups.append(group)
            change.added.append(event)
        elif ours[0].get("command") != command or ours[0].get("timeout") != timeout:
            ours[0].update({"type": "command", "command": command, "timeout": timeout})
            change.updated.append(event)
    if change.changed:
        save(path, data, change)
    return change


def uninstall(path: Path) -> Change:
    """Remove every `memvault hook` entry; groups and events it leaves empty go too."""
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
