"""Every route, found in the OpenAPI schema, called with Bob's (user) key and Alice's ids.

A route missing from `ROUTES` fails `test_every_route_is_walked`, so a new endpoint is covered
when it is added. Each call must answer 404 (`MISSING`), or 2xx/404 with none of Alice's rows
(`CLEAN`), or 403 for an admin-only route (`ADMIN`); afterwards Alice's data is exactly as
before. Runs on every engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from memvault.keys import ApiKeys
from memvault.server import create_app
from tests.server.conftest import Served
from tests.server.test_isolation import alice_world

MISSING, CLEAN, ADMIN = "missing", "clean", "admin"
W = dict[str, Any]
Request = Callable[[W], dict[str, Any]]  # Alice's world → httpx keyword arguments


def _none(w: W) -> dict[str, Any]:
    return {}


def _json(body: Callable[[W], Any]) -> Request:
    return lambda w: {"json": body(w)}


def _params(params: Callable[[W], dict[str, Any]]) -> Request:
    return lambda w: {"params": params(w)}


ROUTES: dict[str, tuple[str, Request]] = {
    "GET /health": (CLEAN, _none),
    "GET /api/stats": (CLEAN, _none),
    "GET /stats": (CLEAN, _none),
    "GET /api/whoami": (CLEAN, _none),
    "GET /api/keys": (CLEAN, _none),
    "POST /api/keys": (ADMIN, _json(lambda w: {"user_id": w["alice"]})),
    "DELETE /api/keys/{key_id}": (MISSING, _none),
    "GET /api/users": (CLEAN, _none),
    "POST /api/users": (ADMIN, _json(lambda w: {"handle": "mallory"})),
    "GET /api/users/{user_id}": (MISSING, _none),
    "PATCH /api/users/{user_id}": (MISSING, _json(lambda w: {"display_name": "pwned"})),
    "GET /api/users/{user_id}/profile": (MISSING, _none),
    "GET /api/users/{user_id}/usage": (MISSING, _none),
    "GET /api/users/{user_id}/personality": (MISSING, _none),
    "GET /api/users/{user_id}/export": (MISSING, _none),
    "GET /api/sessions": (CLEAN, _none),
    "POST /api/sessions": (MISSING, _json(lambda w: {"parent_id": w["session"]})),
    "GET /api/sessions/{session_id}": (MISSING, _none),
    "PATCH /api/sessions/{session_id}": (MISSING, _json(lambda w: {"title": "pwned"})),
    "DELETE /api/sessions/{session_id}": (MISSING, _none),
    "GET /api/sessions/{session_id}/messages": (MISSING, _none),
    "DELETE /api/sessions/{session_id}/messages": (MISSING, _none),
    "POST /api/sessions/{session_id}/messages/batch": (MISSING, _json(
        lambda w: {"messages": [{"role": "user", "content": "pwned"}]})),
    "GET /api/sessions/by-key/{key}": (CLEAN, _none),
    "GET /api/memories/by-key/{key}": (CLEAN, _none),
    "PUT /api/memories/by-key/{key}": (CLEAN, _json(lambda w: {"kind": "fact", "content": "b"})),
    "POST /api/sessions/{session_id}/messages": (MISSING, _json(
        lambda w: {"role": "user", "content": "pwned"})),
    "GET /api/messages/{message_id}": (MISSING, _none),
    "GET /api/sessions/{session_id}/context": (MISSING, _none),
    "GET /api/sessions/{session_id}/trajectory": (MISSING, _none),
    "GET /api/memories": (CLEAN, _params(lambda w: {"layered": "true"})),
    "POST /api/memories": (MISSING, _json(
        lambda w: {"kind": "fact", "content": "b", "session_id": w["session"]})),
    "GET /api/memories/{memory_id}": (MISSING, _none),
    "PATCH /api/memories/{memory_id}": (MISSING, _json(lambda w: {"content": "pwned"})),
    "DELETE /api/memories/{memory_id}": (MISSING, _none),
    "GET /api/memories/{memory_id}/history": (MISSING, _none),
    "GET /api/search/memories": (CLEAN, _params(lambda w: {"q": "zebra", "base": "true"})),
    "GET /api/search/messages": (CLEAN, _params(
        lambda w: {"q": "zebra", "mode": "text", "session_id": w["session"]})),
    "GET /api/emotions": (CLEAN, _params(lambda w: {"session_id": w["session"]})),
    "POST /api/emotions": (MISSING, _json(
        lambda w: {"emotion": "joy", "intensity": 0.5, "session_id": w["session"]})),
    "GET /api/emotions/patterns": (CLEAN, _none),
    "GET /api/traits": (CLEAN, _none),
    "PUT /api/traits/{name}": (CLEAN, _json(lambda w: {"value": 0.1})),
    "GET /api/traits/history": (CLEAN, _none),
    "GET /api/patterns": (CLEAN, _params(lambda w: {"text": "zebra"})),
    "POST /api/patterns": (CLEAN, _json(
        lambda w: {"intent": "greet", "trigger_context": "bob", "response_text": "yo"})),
    "GET /api/patterns/{pattern_id}": (MISSING, _none),
    "PATCH /api/patterns/{pattern_id}": (MISSING, _json(lambda w: {"response_text": "pwned"})),
    "DELETE /api/patterns/{pattern_id}": (MISSING, _none),
    "POST /api/patterns/{pattern_id}/use": (MISSING, _json(lambda w: {"outcome": 1})),
    "POST /api/actions": (MISSING, _json(
        lambda w: {"tool_name": "t", "project_id": w["project"]})),
    "GET /api/actions": (CLEAN, _params(lambda w: {"project_id": w["project"]})),
    "GET /api/actions/stats": (CLEAN, _none),
    "GET /api/actions/{action_id}": (MISSING, _none),
    "GET /api/routing/suggest": (CLEAN, _params(lambda w: {"q": "zebra"})),
    "POST /api/routing/feedback": (CLEAN, _json(
        lambda w: {"query": "bob words", "tool_name": "Hammer", "success": True})),
    "GET /api/routing/scores": (CLEAN, _none),
    "POST /api/requests": (MISSING, _json(lambda w: {"prompt": "b", "session_id": w["session"]})),
    "GET /api/requests": (CLEAN, _none),
    "GET /api/requests/{request_id}": (MISSING, _none),
    "PATCH /api/requests/{request_id}": (MISSING, _json(lambda w: {"status": "active"})),
    "POST /api/requests/{request_id}/waves": (MISSING, _json(lambda w: {"name": "b"})),
    "GET /api/requests/{request_id}/waves": (MISSING, _none),
    "PATCH /api/waves/{task_list_id}": (MISSING, _json(lambda w: {"status": "running"})),
    "POST /api/waves/{task_list_id}/subtasks": (MISSING, _json(lambda w: {"description": "b"})),
    "GET /api/subtasks": (CLEAN, _params(lambda w: {"request_id": w["request"]})),
    "GET /api/subtasks/{subtask_id}": (MISSING, _none),
    "PATCH /api/subtasks/{subtask_id}": (MISSING, _json(lambda w: {"status": "running"})),
    "POST /api/agents/{agent_id}/claim": (CLEAN, _json(lambda w: {"task_list_id": w["wave"]})),
    "GET /api/tasks/overview": (CLEAN, _none),
    "POST /api/agent-messages": (MISSING, _json(
        lambda w: {"from_agent": "b", "to_agent": "a2", "project_id": w["project"]})),
    "GET /api/agent-messages": (CLEAN, _none),
    "GET /api/agent-messages/{message_id}": (MISSING, _none),
    "GET /api/agents/{agent_id}/inbox": (CLEAN, _params(lambda w: {"unread_only": "false"})),
    "POST /api/agents/{agent_id}/read": (MISSING, _json(
        lambda w: {"message_ids": [w["agent_msg"]]})),
    "GET /api/agent-subscriptions": (CLEAN, _none),
    "POST /api/agents/{agent_id}/subscriptions": (CLEAN, _json(lambda w: {"topic": "news"})),
    "DELETE /api/agents/{agent_id}/subscriptions/{topic}": (CLEAN, _none),
    "GET /api/imports": (ADMIN, _none),
    "GET /api/imports/{run_id}": (ADMIN, _none),
    "GET /api/projects": (CLEAN, _none),
    "GET /api/projects/{project_id}": (MISSING, _none),
}  # fmt: skip


def routes(s: Served) -> list[str]:
    app = create_app(s.vault)
    return [f"{m.upper()} {p}" for p, ops in app.openapi()["paths"].items() for m in ops]


def test_every_route_is_walked(served_sqlite: Served) -> None:
    found = set(routes(served_sqlite))
    assert sorted(found - set(ROUTES)) == [], "add these routes to ROUTES"
    assert sorted(set(ROUTES) - found) == [], "these routes are gone: drop them from ROUTES"


def _world(s: Served) -> W:
    w = alice_world(s)
    ids: W = {k: v["id"] for k, v in w.items()}
    ids["alice"] = s.alice.id
    ids["project"] = w["action"]["project_id"]
    ids["key"] = ApiKeys(s.vault).list(user_id=s.alice.id)[0].id
    return ids


def _path(template: str, w: W) -> str:
    values = {
        "user_id": w["alice"], "session_id": w["session"], "memory_id": w["memory"],
        "message_id": w["agent_msg"] if "agent-messages" in template else w["message"],
        "name": "curiosity", "pattern_id": w["pattern"], "action_id": w["action"],
        "request_id": w["request"], "task_list_id": w["wave"], "subtask_id": w["subtask"],
        "agent_id": "a2", "topic": "zebra", "key_id": w["key"], "project_id": w["project"],
        "run_id": "01a23a92-f2f7-728b-93d9-72ea55f43a29", "key": "k-1",
    }  # fmt: skip
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), template)


def _leaks(text: str, w: W) -> list[str]:
    text = text.replace('"query":"zebra"', "")  # the suggestion echoes the query
    marks = ["zebra", "secret", *(str(v) for v in w.values())]
    return [m for m in marks if m in text.lower() or m in text]


def test_a_user_key_reaches_nothing_of_another_user(served: Served) -> None:
    s = served
    w = _world(s)
    before = s.vault.export_user(s.alice.id)
    failures = []
    with s.client(s.bob_key) as c:
        for route in routes(s):
            expect, request = ROUTES[route]
            method, template = route.split(" ", 1)
            kwargs = request(w)
            tries = [kwargs]
            if expect == CLEAN and method == "GET":  # and naming Alice as the owner
                tries.append({"params": {**kwargs.get("params", {}), "user_id": s.alice.id}})
            for kw in tries:
                r = c.request(method, _path(template, w), **kw)
                if expect == ADMIN:
                    ok = r.status_code == 403
                elif expect == MISSING:
                    ok = r.status_code == 404
                else:
                    ok = r.status_code == 404 or (r.is_success and not _leaks(r.text, w))
                if not ok:
                    failures.append(f"{route} {kw}: {r.status_code} {r.text[:300]}")
    assert failures == [], "\n".join(failures)
    assert s.vault.export_user(s.alice.id) == before, "Bob's calls changed Alice's rows"
    with s.client(s.alice_key) as c:  # and Alice still reaches all of it
        assert c.get(f"/api/sessions/{w['session']}").status_code == 200
        assert len(c.get("/api/agent-subscriptions").json()["items"]) == 1
