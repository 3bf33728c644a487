"""Reading hook events: tool types, file paths, exit codes and durations, leniently."""

from __future__ import annotations

from typing import Any

import pytest

from memvault.hook.event import classify, file_paths, tool_call


@pytest.mark.parametrize(
    ("name", "tool_input", "expected"),
    [
        ("Read", {}, ("Read", "builtin", {})),
        ("WebFetch", {}, ("WebFetch", "builtin", {})),
        ("mcp__github__create_issue", {},
         ("mcp__github__create_issue", "mcp",
          {"mcp_server": "github", "mcp_tool": "create_issue"})),
        ("mcp__memvault__search_memories", {},
         ("mcp__memvault__search_memories", "mcp",
          {"mcp_server": "memvault", "mcp_tool": "search_memories"})),
        ("Task", {"subagent_type": "code-reviewer", "prompt": "review"},
         ("code-reviewer", "agent", {"agent_tool": "Task"})),
        ("Task", {}, ("Task", "agent", {})),
        ("Skill", {"skill": "pdf"}, ("pdf", "skill", {"agent_tool": "Skill"})),
        ("/review", {}, ("/review", "command", {})),
        ("backend-specialist", {}, ("backend-specialist", "agent", {})),
    ],
)  # fmt: skip
def test_tool_types_follow_dcm(name: str, tool_input: dict[str, Any], expected: Any) -> None:
    assert classify(name, tool_input) == expected


def test_file_paths_from_the_input() -> None:
    assert file_paths({"file_path": "/a.py", "old_string": "x"}) == ["/a.py"]
    assert file_paths({"notebook_path": "/n.ipynb"}) == ["/n.ipynb"]
    assert file_paths({"pattern": "*.py", "path": "/src"}) == ["/src"]
    assert file_paths({"paths": ["/a", "/b", "/a", 3, ""]}) == ["/a", "/b"]
    assert file_paths({"command": "ls"}) == []
    assert file_paths({"file_path": 12}) == []


def test_a_successful_call_with_everything() -> None:
    call = tool_call({
        "hook_event_name": "PostToolUse", "tool_name": "Bash",
        "tool_input": {"command": "pytest -q", "description": "run tests"},
        "tool_response": {"stdout": "ok", "exit_code": 0, "duration_ms": 1234.5},
        "tool_use_id": "toolu_01",
    })  # fmt: skip
    assert call is not None
    assert (call.tool_name, call.tool_type, call.exit_code, call.duration_ms) == (
        "Bash", "builtin", 0, 1234.5)  # fmt: skip
    assert call.input == '{"command":"pytest -q","description":"run tests"}'
    assert call.metadata == {"tool_use_id": "toolu_01"} and call.succeeded


def test_failures_get_a_nonzero_exit_code_and_keep_the_error() -> None:
    failed = tool_call({"hook_event_name": "PostToolUseFailure", "tool_name": "Bash",
                        "tool_input": {"command": "false"}, "error": "Exit code 2"})  # fmt: skip
    assert failed is not None and failed.exit_code == 2 and not failed.succeeded
    # the text gives no code: 1, as for any failure
    vague = tool_call({"hook_event_name": "PostToolUseFailure", "tool_name": "Bash",
                       "error": "exit code 0? no: Permission denied"})  # fmt: skip
    assert vague is not None and vague.exit_code == 1
    assert failed.metadata["error"] == "Exit code 2"
    explicit = tool_call({"tool_name": "Bash", "tool_response": {"exitCode": "2"}})
    assert explicit is not None and explicit.exit_code == 2
    errored = tool_call({"tool_name": "mcp__x__y", "tool_response": {"isError": True}})
    assert errored is not None and errored.exit_code == 1


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"tool_name": None},
        {"tool_name": ""},
        {"tool_name": ["Read"]},
    ],
)
def test_no_tool_name_no_call(event: dict[str, Any]) -> None:
    assert tool_call(event) is None


def test_odd_fields_are_tolerated() -> None:
    call = tool_call({
        "tool_name": "Edit", "tool_input": "not json", "tool_response": ["a", "list"],
        "duration_ms": -5, "exit_code": True, "error": {"code": 1}, "extra": object(),
    })  # fmt: skip
    assert call is not None
    assert call.input == "not json" and call.file_paths == [] and call.duration_ms is None
    assert call.exit_code == 1 and call.metadata["error"] == '{"code": 1}'
    big = tool_call({"tool_name": "Write", "tool_input": {"content": "x" * 10_000}})
    assert big is not None and big.input is not None and len(big.input) == 2048
    textual = tool_call({"tool_name": "Read", "tool_input": '{"file_path": "/x"}'})
    assert textual is not None and textual.file_paths == ["/x"]
