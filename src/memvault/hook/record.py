"""Store one hook event through an OwnerView.

- the agent's session becomes the user's memvault session (kind `agent`) keyed
  `agent:<agent>:<session_id>`, in the project of `cwd` (named by its path, as DCM's hook
  route names it);
- `UserPromptSubmit`: the prompt is a `user` message of that session;
- `PostToolUse` / `PostToolUseFailure`: an action (see `memvault.hook.event`); and, as DCM's
  routing learned from tool usage, the keywords of the session's last prompt gain weight for
  the tool (success) or lose some (failure), once per prompt, tool and outcome;
- `SessionStart`: the session is opened and, with `context`, the user's most relevant
  memories are returned as the hook's `additionalContext`;
- `SessionEnd`: the session is marked completed. Other events are accepted and ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from memvault.hook.event import text, tool_call
from memvault.ownerview import AGENT_KEY

if TYPE_CHECKING:
    from memvault.ownerview import OwnerView
    from memvault.records import Memory, Session

CONTEXT_MEMORIES = 10
PROMPT_LIMIT = 100_000
REPLAY_WINDOW = 200  # last messages a re-delivered prompt is looked for in


def agent_session(
    view: OwnerView, event: dict[str, Any], when: datetime, agent: str
) -> Session | None:
    """The memvault session of the agent's session (created on its first event)."""
    sid = text(event.get("session_id"))
    if sid is None:
        return None
    key = AGENT_KEY.format(agent=agent, session_id=sid[:500])
    found = view.session_by_key(key)
    if found is not None:
        return found
    cwd = text(event.get("cwd"))
    project = view.project(cwd[:1000]) if cwd else None
    meta: dict[str, Any] = {"agent": agent, "agent_session_id": sid}
    if agent == "claude-code":
        meta["claude_session_id"] = sid  # as `memvault import dcm` names it
    for name in ("cwd", "transcript_path", "source"):
        value = text(event.get(name))
        if value:
            meta[name] = value
    return view.open_session(key, kind="agent", project_id=project.id if project else None,
                             metadata=meta, started_at=when, title=project_name(cwd))  # fmt: skip


def project_name(cwd: str | None) -> str | None:
    """The project's folder name (`/home/me/src/billing` -> `billing`), the session's first
    title; the first prompt completes it."""
    name = (cwd or "").rstrip("/").rsplit("/", 1)[-1]
    return name[:200] or None


def first_prompt_title(view: OwnerView, session: Session, prompt: str) -> None:
    """Title an untitled (or project-only) session after its first prompt."""
    if session.message_count:
        return
    words = " ".join(prompt.split())
    short = words if len(words) <= 60 else words[:59].rstrip() + "…"
    base = project_name(text(session.metadata.get("cwd")) if session.metadata else None)
    view.retitle(session.id, f"{base}: {short}" if base else short)


def replayed(view: OwnerView, session: Session | None, tool_name: str, tool_use_id: Any) -> bool:
    """Whether this very tool call (same `tool_use_id`, same session) is already recorded:
    a spool replay, or an agent re-sending the event, records it once."""
    if session is None or not isinstance(tool_use_id, str) or not tool_use_id:
        return False
    return any(
        a.session_id == session.id and a.metadata.get("tool_use_id") == tool_use_id
        for a in view.actions_since(tool_name, session.started_at, limit=1000)
    )


def prompt_event_id(event: dict[str, Any], session: Session, prompt: str, when: datetime) -> str:
    """The identity of one prompt event: its session, its text and its time (the agent's
    `timestamp` when it sends one, else when the hook first received it, which a spooled
    event keeps). The same event delivered again has it; the same words typed again later
    (`continue`) do not."""
    from memvault.hook.run import _sha256

    at = text(event.get("timestamp")) or when.isoformat()
    return str(_sha256(f"{session.id}\0{at}\0{prompt}".encode()).hexdigest()[:32])


def prompt_recorded(view: OwnerView, session: Session, event_id: str) -> bool:
    """Whether this very prompt event is already a message of the session: a replay after a
    crash between storing and emptying the spool stores it once. Such a replay follows the
    store at once: the session's last messages are where it would be."""
    return any(
        m.metadata.get("hook_event_id") == event_id
        for m in view.recent_messages(session.id, REPLAY_WINDOW)
    )


def record_tool_call(
    view: OwnerView, event: dict[str, Any], session: Session | None, when: datetime
) -> None:
    call = tool_call(event)
    if call is None or replayed(view, session, call.tool_name, event.get("tool_use_id")):
        return
    meta = dict(call.metadata)
    meta["hook_event"] = text(event.get("hook_event_name")) or "PostToolUse"
    prompt = last_prompt(view, session) if session is not None else None
    learn = prompt is not None and not already_learned(view, session, prompt, call.tool_name,
                                                       call.succeeded)  # fmt: skip
    if prompt is not None:
        meta["prompt_message_id"] = prompt.id
    view.record_action(
        call.tool_name, tool_type=call.tool_type, input=call.input, file_paths=call.file_paths,
        exit_code=call.exit_code, duration_ms=call.duration_ms,
        project_id=session.project_id if session else None,
        session_id=session.id if session else None, metadata=meta, created_at=when,
    )  # fmt: skip
    if learn and prompt is not None:
        from memvault.errors import InvalidInput

        try:
            view.learn_route(prompt.content, call.tool_name, call.succeeded,
                             tool_type=call.tool_type)  # fmt: skip
        except InvalidInput as exc:
            if exc.field != "query_or_keywords":  # a prompt without keywords teaches nothing
                raise


def last_prompt(view: OwnerView, session: Session) -> Any:
    """The session's latest user message (the prompt the next tools follow), or None."""
    for message in reversed(view.recent_messages(session.id, 3)):
        if message.role == "user":
            return message
    return None


def already_learned(
    view: OwnerView, session: Session | None, prompt: Any, tool_name: str, succeeded: bool
) -> bool:
    """Whether this tool already followed this prompt with this outcome (learned then)."""
    if session is None:
        return False
    for action in view.actions_since(tool_name, prompt.created_at):
        if action.session_id == session.id and (action.exit_code in (0, None)) == succeeded:
            return True
    return False


def relevant_memories(view: OwnerView, cwd: str | None) -> list[Memory]:
    """The user's memories worth putting in front of a new session: those naming the
    project first, then by importance × confidence, then the newest."""
    memories = view.list_memories(limit=200, track_access=False)
    project = (cwd or "").rstrip("/").rsplit("/", 1)[-1].casefold()

    def rank(m: Memory) -> tuple[bool, float, float]:
        named = bool(project) and project in (m.content + " " + (m.context or "")).casefold()
        return (not named, -(m.importance * m.confidence), -m.updated_at.timestamp())

    return sorted(memories, key=rank)[:CONTEXT_MEMORIES]


def context_output(view: OwnerView, event: dict[str, Any]) -> dict[str, Any] | None:
    """SessionStart's documented output: `hookSpecificOutput.additionalContext`."""
    memories = relevant_memories(view, text(event.get("cwd")))
    if not memories:
        return None
    lines = ["What memvault remembers about the user (most relevant first):"]
    lines += [f"- [{m.kind}] {m.content}" for m in memories]
    return {
        "hookSpecificOutput": {
            "hookEventName": "SessionStart",
            "additionalContext": "\n".join(lines),
        }
    }


def record(
    view: OwnerView, event: dict[str, Any], when: datetime, *, agent: str = "claude-code",
    context: bool = True,
) -> dict[str, Any] | None:  # fmt: skip
    """Store `event` (received at `when`); returns the JSON to print for the agent, if any."""
    name = text(event.get("hook_event_name")) or ""
    if name not in ("SessionStart", "UserPromptSubmit", "PostToolUse", "PostToolUseFailure",
                    "SessionEnd"):  # fmt: skip
        return None
    session = agent_session(view, event, when, agent)
    if name in ("PostToolUse", "PostToolUseFailure"):
        record_tool_call(view, event, session, when)
    elif name == "UserPromptSubmit":
        prompt = event.get("prompt")
        if prompt is not None and not isinstance(prompt, str):
            from memvault.errors import InvalidInput

            raise InvalidInput("prompt", prompt, "expected a string")  # set aside, not lost
        if prompt and "\x00" in prompt:  # named here: the store would blame the title
            from memvault.errors import InvalidInput

            raise InvalidInput("prompt", prompt, "must not contain NUL characters")
        if session is not None and prompt and prompt.strip():
            event_id = prompt_event_id(event, session, prompt, when)
            if prompt_recorded(view, session, event_id):
                return None
            first_prompt_title(view, session, prompt)
            view.log_message(session.id, "user", prompt[:PROMPT_LIMIT],
                             metadata={"hook_event": name, "hook_event_id": event_id},
                             created_at=when)  # fmt: skip
    elif name == "SessionEnd" and session is not None:
        view.end_session(session.id)
    elif name == "SessionStart" and context:
        return context_output(view, event)
    return None
