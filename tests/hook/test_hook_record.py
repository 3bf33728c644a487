"""What a session of hook events leaves in the store, on SQLite and PostgreSQL: the agent's
session, its prompts, its tool calls, and routing scores learned from which tools followed
each prompt (as DCM's hook taught them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import memvault
from memvault.hook.record import record
from memvault.ownerview import OwnerView

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BASE = {"session_id": "c0ffee-1", "transcript_path": "/home/me/.claude/t.jsonl",
        "cwd": "/home/me/shop"}  # fmt: skip


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ev(name: str, **fields: Any) -> dict[str, Any]:
    return {**BASE, "hook_event_name": name, **fields}


def tool(name: str, ok: bool = True, **tool_input: Any) -> dict[str, Any]:
    if ok:
        return ev("PostToolUse", tool_name=name, tool_input=tool_input, tool_response={})
    return ev("PostToolUseFailure", tool_name=name, tool_input=tool_input, error="failed")


def test_a_session_of_events(vault: memvault.Vault) -> None:
    view = OwnerView.for_handle(vault, "me")
    assert record(view, ev("SessionStart", source="startup"), at(0)) is None  # no memories
    record(view, ev("UserPromptSubmit", prompt="Fix the failing checkout tests"), at(1))
    record(view, tool("Read", file_path="/home/me/shop/checkout.py"), at(2))
    record(view, tool("Bash", ok=False, command="pytest tests/checkout"), at(3))
    record(view, tool("Bash", command="pytest tests/checkout"), at(4))
    record(view, tool("Bash", command="pytest -x"), at(5))  # same prompt, tool, outcome
    record(view, tool("Task", subagent_type="test-runner", prompt="run all"), at(6))
    record(view, ev("UserPromptSubmit", prompt="now update the changelog"), at(7))
    record(view, tool("Edit", file_path="/home/me/shop/CHANGELOG.md"), at(8))
    record(view, ev("Stop"), at(9))  # accepted, ignored
    record(view, ev("SessionEnd", reason="exit"), at(10))

    [session] = vault.sessions.list(user_id=view.user_id)
    assert session.kind == "agent" and session.status == "completed"
    assert session.key == "agent:claude-code:c0ffee-1"
    assert session.metadata["claude_session_id"] == "c0ffee-1"
    assert session.metadata["source"] == "startup"
    project = vault.projects.get(session.project_id or "")
    assert project.name == "/home/me/shop" and project.user_id == view.user_id
    prompts = vault.messages.list(session.id)
    assert [m.content for m in prompts] == ["Fix the failing checkout tests",
                                            "now update the changelog"]  # fmt: skip
    assert {m.role for m in prompts} == {"user"}
    assert prompts[0].created_at == at(1)

    actions = list(reversed(vault.actions.list(view.user_id)))
    assert [(a.tool_name, a.tool_type, a.exit_code) for a in actions] == [
        ("Read", "builtin", 0), ("Bash", "builtin", 1), ("Bash", "builtin", 0),
        ("Bash", "builtin", 0), ("test-runner", "agent", 0), ("Edit", "builtin", 0),
    ]  # fmt: skip
    assert all(a.session_id == session.id and a.project_id == project.id for a in actions)
    assert actions[0].file_paths == ["/home/me/shop/checkout.py"]
    assert actions[0].created_at == at(2)
    assert actions[1].metadata["error"] == "failed"
    assert actions[4].metadata["agent_tool"] == "Task"
    assert actions[5].metadata["prompt_message_id"] == prompts[1].id

    def weight(keyword: str, tool_name: str) -> float | None:
        rows = vault.routing.scores(view.user_id, keyword=keyword, tool_name=tool_name)
        return rows[0].weight if rows else None

    # Once per prompt, tool and outcome: Bash failed once (-0.5), then succeeded (+1, once).
    assert weight("checkout", "Read") == 1.0
    assert weight("checkout", "Bash") == 0.5
    assert weight("checkout", "test-runner") == 1.0
    assert weight("changelog", "Edit") == 1.0 and weight("changelog", "Bash") is None
    assert weight("checkout", "Edit") is None  # Edit followed another prompt
    suggested = vault.routing.suggest("update the changelog", user_id=view.user_id)
    assert [s.tool_name for s in suggested] == ["Edit"]


def test_session_start_puts_the_most_relevant_memories_in_context(
    vault: memvault.Vault,
) -> None:
    view = OwnerView.for_handle(vault, "me")
    other = OwnerView.for_handle(vault, "someone-else")
    other.add_memory("fact", "someone else's secret", embedding=False)
    view.add_memory("preference", "Prefers small commits", importance=0.9, embedding=False)
    view.add_memory("fact", "The shop project deploys with make release", importance=0.2,
                    embedding=False)  # fmt: skip
    view.add_memory("note", "Trivia", importance=0.1, embedding=False)
    out = record(view, ev("SessionStart", source="startup"), at(0))
    assert out is not None
    context = out["hookSpecificOutput"]
    assert context["hookEventName"] == "SessionStart"
    lines = context["additionalContext"].splitlines()
    assert lines[1:] == [
        "- [fact] The shop project deploys with make release",  # names the project (cwd)
        "- [preference] Prefers small commits",
        "- [note] Trivia",
    ]
    assert record(view, ev("SessionStart"), at(1), context=False) is None


def test_events_without_a_session_or_with_odd_fields(vault: memvault.Vault) -> None:
    view = OwnerView.for_handle(vault, "me")
    record(view, {"hook_event_name": "PostToolUse", "tool_name": "Read"}, at(0))
    record(view, {"hook_event_name": "UserPromptSubmit", "prompt": "no session"}, at(1))
    record(view, {"hook_event_name": "PostToolUse", "session_id": "s", "tool_name": 7}, at(2))
    record(view, {"hook_event_name": "UserPromptSubmit", "session_id": "s", "prompt": "!!"}, at(3))
    record(view, {"hook_event_name": "PostToolUse", "session_id": "s", "tool_name": "Grep"}, at(4))
    record(view, {"hook_event_name": "Notification", "message": "hi"}, at(5))
    record(view, {"hook_event_name": None}, at(6))
    names = [a.tool_name for a in vault.actions.list(view.user_id)]
    assert names == ["Grep", "Read"]  # a prompt without keywords teaches no route
    assert vault.routing.scores(view.user_id) == []
