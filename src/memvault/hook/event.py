"""What a hook event says, read leniently: any field may be missing, of another type, or new.

Claude Code's documented fields: `session_id`, `transcript_path`, `cwd`, `hook_event_name`;
for tool events `tool_name`, `tool_input`, `tool_response`, `tool_use_id`, or `error` when
the tool failed (`PostToolUseFailure`); `prompt` for `UserPromptSubmit`; `source` for
`SessionStart`. Tool types follow DCM's hook (track-action.sh): `mcp__server__tool` is an MCP
tool, `Task` a sub-agent (named by its `subagent_type`), `Skill` a skill (named by `skill`),
`/name` a command, the agent's own tools built-ins.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

INPUT_LIMIT = 2048  # DCM's hook kept the first 2 KB of a tool's input
ERROR_LIMIT = 1000
AGENT_TOOLS = frozenset({"Task", "Agent"})
SKILL_TOOLS = frozenset({"Skill"})
PATH_KEYS = ("file_path", "notebook_path", "path", "filePath")
PATH_LIST_KEYS = ("file_paths", "paths")
EXIT_KEYS = ("exit_code", "exitCode", "returncode", "returnCode")
DURATION_KEYS = ("duration_ms", "durationMs", "totalDurationMs")
AGENT_SUFFIXES = ("-specialist", "-expert", "-dev", "-admin")
FAILURE_EVENTS = frozenset({"PostToolUseFailure"})
# "Command failed with exit code 128: fatal: …", "Exit code 2": the code a failed Bash gives
_EXIT_IN_TEXT = re.compile(r"\bexit code:? (-?\d{1,10})\b", re.IGNORECASE)


def text(value: Any) -> str | None:
    """A non-empty string field, else None."""
    return value if isinstance(value, str) and value.strip() else None


def mapping(value: Any) -> dict[str, Any]:
    """A JSON object field (a JSON string holding one is read too), else {}."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class ToolCall:
    """One tool call as memvault records it."""

    tool_name: str
    tool_type: str
    input: str | None
    file_paths: list[str]
    exit_code: int | None
    duration_ms: float | None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.exit_code in (0, None)


def classify(name: str, tool_input: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(name to record, tool type, extra metadata) of the tool the agent called `name`."""
    if name.startswith("mcp__"):
        parts = name.split("__", 2)
        extra = {"mcp_server": parts[1]} if len(parts) > 1 else {}
        if len(parts) > 2:
            extra["mcp_tool"] = parts[2]
        return name, "mcp", extra
    if name in AGENT_TOOLS:
        agent = text(tool_input.get("subagent_type"))
        return (agent or name), "agent", ({"agent_tool": name} if agent else {})
    if name in SKILL_TOOLS:
        skill = text(tool_input.get("skill")) or text(tool_input.get("command"))
        return (skill or name), "skill", ({"agent_tool": name} if skill else {})
    if name.startswith("/"):
        return name, "command", {}
    if name.endswith(AGENT_SUFFIXES):
        return name, "agent", {}
    return name, "builtin", {}


def file_paths(tool_input: dict[str, Any]) -> list[str]:
    """The file paths a tool's input names, each once, in order."""
    found: list[str] = []
    for key in PATH_KEYS:
        value = text(tool_input.get(key))
        if value:
            found.append(value)
    for key in PATH_LIST_KEYS:
        values = tool_input.get(key)
        if isinstance(values, list):
            found.extend(v for v in values if text(v))
    return list(dict.fromkeys(p[:4096] for p in found))


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and -(2**31) <= value < 2**31:
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return _integer(int(value.strip()))
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 <= value < 1e12 else None


def exit_code(event: dict[str, Any], response: dict[str, Any]) -> int | None:
    """The exit code the tool reported (in its response, or the failure's `error` text);
    else 1 for a failure, 0 for a success."""
    for key in EXIT_KEYS:
        code = _integer(response.get(key))
        if code is None:
            code = _integer(event.get(key))
        if code is not None:
            return code
    failed = (
        event.get("hook_event_name") in FAILURE_EVENTS
        or event.get("error") not in (None, "", False)
        or response.get("is_error") is True
        or response.get("isError") is True
        or response.get("success") is False
        or response.get("interrupted") is True
    )
    if not failed:
        return 0
    error = event.get("error")
    found = _EXIT_IN_TEXT.search(error) if isinstance(error, str) else None
    return _integer(found.group(1)) or 1 if found else 1  # Claude Code: only in `error`


def duration_ms(event: dict[str, Any], response: dict[str, Any]) -> float | None:
    """The tool's duration in milliseconds, where the agent reports one."""
    for key in DURATION_KEYS:
        value = _number(response.get(key))
        if value is None:
            value = _number(event.get(key))
        if value is not None:
            return value
    return None


def tool_call(event: dict[str, Any]) -> ToolCall | None:
    """The tool call a PostToolUse / PostToolUseFailure event reports (None: no tool name)."""
    name = text(event.get("tool_name"))
    if name is None:
        return None
    tool_input = mapping(event.get("tool_input"))
    response = mapping(event.get("tool_response"))
    recorded, tool_type, meta = classify(name[:500], tool_input)
    raw_input = event.get("tool_input")
    if raw_input is None:
        shown = None
    else:
        shown = (
            raw_input
            if isinstance(raw_input, str)
            else json.dumps(raw_input, ensure_ascii=False, separators=(",", ":"), default=str)
        )
        shown = shown[:INPUT_LIMIT]
    tool_use_id = text(event.get("tool_use_id"))
    if tool_use_id:
        meta["tool_use_id"] = tool_use_id
    error = event.get("error")
    if error not in (None, "", False):
        meta["error"] = (error if isinstance(error, str) else json.dumps(error, default=str))[
            :ERROR_LIMIT
        ]
    return ToolCall(
        tool_name=recorded,
        tool_type=tool_type,
        input=shown,
        file_paths=file_paths(tool_input),
        exit_code=exit_code(event, response),
        duration_ms=duration_ms(event, response),
        metadata=meta,
    )
