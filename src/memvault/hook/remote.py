"""`memvault hook --server URL --key KEY`: post events to a running `memvault serve` instead of
opening the store (the route DCM's own hook took, with the key's user as the owner).

- a tool call: `POST /api/actions` with DCM's body (`project_path` from `cwd`, the agent's
  `session_id` kept in the action's metadata by the service);
- routing: the service cannot know which prompt a tool followed, so the hook keeps the
  session's last prompt in a small state file beside the spool and posts
  `POST /api/routing/feedback` once per prompt, tool and outcome, as the local mode learns;
- `SessionStart` with context: the key's memories (`GET /api/memories`).

Prompts are not stored as messages in this mode (the service keys no session by the agent's
id). Unreachable service, 5xx or 429, or a key it refuses (401, 403: fix `--key`): the event is
spooled and replayed by the next call; any other refusal (the event itself is bad) sets it
aside (`<spool>.rejected`). Standard library only (urllib).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from memvault.hook.event import text, tool_call
from memvault.hook.spool import Spool, make_dir, write_private

TIMEOUT = 2.0  # seconds per request: DCM's hook used curl --max-time 2


class Transient(Exception):
    """The service could not take the event now (unreachable, 5xx, 429)."""


class KeyRefused(Transient):
    """The service refused the key (401, 403): the hook's setting, not the event, is wrong;
    the event waits in the spool until the key is corrected."""

    headline = "the service refused --key (correct it; the next call replays the spool)"


class UserMismatch(Transient):
    """`--user` names another user than the key's: posting would file the events under the
    key's user. They wait in the spool until the key or the option is corrected."""

    headline = "--user does not match --key"


class Refused(Exception):
    """The service refused the event for good (4xx other than 401 and 403)."""


def request(opts: argparse.Namespace, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body, default=str).encode()
    req = urllib.request.Request(opts.server.rstrip("/") + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if opts.key:
        req.add_header("Authorization", f"Bearer {opts.key}")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:500].decode("utf-8", "replace")
        if exc.code >= 500 or exc.code == 429:
            raise Transient(f"HTTP {exc.code}: {detail}") from exc
        if exc.code in (401, 403):
            raise KeyRefused(f"HTTP {exc.code}: {detail}") from exc
        raise Refused(f"HTTP {exc.code}: {detail}") from exc
    except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections
        raise Transient(str(exc)) from exc
    return json.loads(raw) if raw else None


def state_path(spool: Spool) -> Path:
    return spool.path.with_name(spool.path.name + ".prompts.json")


def load_state(spool: Spool) -> dict[str, Any]:
    try:
        state = json.loads(state_path(spool).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def save_state(spool: Spool, state: dict[str, Any]) -> None:
    # Keep the last 50 agent sessions: a state file, not a history.
    state = dict(list(state.items())[-50:])
    tmp = state_path(spool).with_suffix(".tmp")
    make_dir(tmp.parent)
    write_private(tmp, json.dumps(state).encode())  # it holds prompts: 0600, as the spool
    tmp.replace(state_path(spool))


def key_owner(spool: Spool, opts: argparse.Namespace) -> str | None:
    """The handle of the key's user (None: an admin key, which has none), asked of the
    service once per key and kept beside the spool (by a digest of the key, not the key)."""
    from memvault.hook.run import _sha256

    digest = str(_sha256(f"{opts.server}|{opts.key}".encode()).hexdigest()[:32])
    path = spool.path.with_name(spool.path.name + ".identity.json")
    try:
        known = json.loads(path.read_text("utf-8"))
        if isinstance(known, dict) and known.get("key") == digest:
            handle = known.get("handle")
            return handle if isinstance(handle, str) else None
    except (OSError, ValueError):
        pass
    me = request(opts, "GET", "/api/whoami")
    user_id = me.get("user_id") if isinstance(me, dict) else None
    handle = None
    if isinstance(user_id, str):
        user = request(opts, "GET", f"/api/users/{user_id}")
        handle = user.get("handle") if isinstance(user, dict) else None
    make_dir(path.parent)
    write_private(path, json.dumps({"key": digest, "handle": handle}).encode())
    return handle if isinstance(handle, str) else None


def check_user(spool: Spool, opts: argparse.Namespace) -> None:
    """An explicit `--user` must be the key's user: the service files what it is sent under
    the key's user, whatever the hook is told."""
    if not getattr(opts, "user_given", False):
        return
    owner = key_owner(spool, opts)
    if owner == opts.user:
        return
    whose = f"belongs to {owner!r}" if owner else "is an admin key (it writes no user's rows)"
    raise UserMismatch(
        f"--user {opts.user!r} but the key {whose}: give {opts.user!r}'s key (the next call "
        f"replays the spool), or replay the spool as the key's user with `memvault hook "
        f"--server {opts.server} --key KEY --spool {spool.path} < /dev/null`"
    )


def post(entry: dict[str, Any], spool: Spool, opts: argparse.Namespace) -> dict[str, Any] | None:
    """Deliver one event; returns the JSON to print for the agent, if any."""
    check_user(spool, opts)
    event = entry.get("event")
    if not isinstance(event, dict):
        return None
    name = text(event.get("hook_event_name")) or ""
    sid = text(event.get("session_id"))
    if name == "UserPromptSubmit" and sid and isinstance(event.get("prompt"), str):
        state = load_state(spool)
        state.pop(sid, None)
        state[sid] = {"prompt": event["prompt"][:10_000], "learned": []}
        save_state(spool, state)
    elif name in ("PostToolUse", "PostToolUseFailure"):
        call = tool_call(event)
        if call is None:
            return None
        request(opts, "POST", "/api/actions", {
            "tool_name": call.tool_name, "tool_type": call.tool_type, "input": call.input,
            "file_paths": call.file_paths, "exit_code": call.exit_code,
            "duration_ms": call.duration_ms, "session_id": sid,
            "project_path": text(event.get("cwd")), "created_at": entry.get("received_at"),
            "metadata": {**call.metadata, "hook_event": name},
        })  # fmt: skip
        state = load_state(spool)
        current = state.get(sid or "")
        mark = f"{call.tool_name}|{call.succeeded}"
        if isinstance(current, dict) and mark not in current.get("learned", []):
            # A prompt without keywords is refused (400): it teaches nothing.
            with contextlib.suppress(Refused):
                request(opts, "POST", "/api/routing/feedback", {
                    "query": current.get("prompt", ""), "tool_name": call.tool_name,
                    "tool_type": call.tool_type, "success": call.succeeded,
                })  # fmt: skip
            current.setdefault("learned", []).append(mark)
            save_state(spool, state)
    elif name == "SessionStart" and opts.context:
        page = request(opts, "GET", "/api/memories?limit=200")
        items = page.get("items", []) if isinstance(page, dict) else []
        items.sort(key=lambda m: -(m.get("importance", 0) * m.get("confidence", 0)))
        if items:
            lines = ["What memvault remembers about the user (most relevant first):"]
            lines += [f"- [{m.get('kind')}] {m.get('content')}" for m in items[:10]]
            return {"hookSpecificOutput": {"hookEventName": "SessionStart",
                                           "additionalContext": "\n".join(lines)}}  # fmt: skip
    return None


def deliver_to_server(entry: dict[str, Any] | None, spool: Spool, opts: argparse.Namespace) -> None:
    """Replay the spool, then post `entry`; spool it when the service cannot take it now."""
    from memvault.hook.run import deliver

    deliver(entry, spool, lambda event, new: post(event, spool, opts), Transient,
            "service not available")  # fmt: skip
