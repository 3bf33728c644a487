"""Answers that agree with each other: a body that is not JSON, another user's ids in a body,
and search's `limit`."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from memvault.ids import new_id
from tests.server.conftest import Served


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b'{"title": "x",,}', "line 1, column 15"),
        (b'{\n  "title": "x"\n  "kind": "chat"\n}', "line 3, column 3"),
        (b"{role: user", "line 1, column 2"),
        (b'{"title": "x"', "line 1, column 14"),
        (b'{"a": 1}\n{"b": 2}', "line 2, column 1"),
        (b'{"title": "\xff"}', "not UTF-8 text"),
    ],
)
def test_a_body_that_is_not_json_answers_400_with_where(
    served_sqlite: Served, body: bytes, where: str
) -> None:
    s = served_sqlite
    with s.client(s.alice_key) as c:
        session = c.post("/api/sessions", json={"title": "t"}).json()
        # Warm the append fast path (key and session cached) so that it, too, is exercised.
        assert c.post(f"/api/sessions/{session['id']}/messages",
                      json={"role": "user", "content": "hi"}).status_code == 201  # fmt: skip
        for path in ("/api/sessions", f"/api/sessions/{session['id']}/messages", "/api/actions"):
            r = c.post(path, content=body, headers={"Content-Type": "application/json"})
            assert r.status_code == 400, (path, r.text)
            answer = r.json()
            assert answer["error"] == "bad_request" and "field" not in answer, answer
            assert answer["detail"].startswith("the request body is not valid JSON: "), answer
            assert answer["detail"].endswith(where), answer


def _same_shape(a: dict[str, Any], b: dict[str, Any], *ids: str) -> tuple[Any, Any]:
    def norm(body: dict[str, Any]) -> Any:
        text = str(body)
        for i in ids:
            text = text.replace(i, "ID")
        return re.sub(r"'(id|created_at|updated_at|\w+_at)': '[^']*'", r"'\1': X", text)

    return norm(a), norm(b)


def test_another_users_id_in_a_body_answers_as_an_unknown_id(served: Served) -> None:
    s = served
    v, bob = s.vault, s.bob.id
    bob_session = v.sessions.create(bob, title="bob's")
    bob_message = v.messages.append(bob_session.id, "user", "bob's secret")
    bob_project = v.projects.create("/bob/project", user_id=bob)
    bob_request = v.tasks.create_request("bob's work", user_id=bob)
    bob_wave = v.tasks.add_wave(bob_request.id, user_id=bob)
    bob_agent_message = v.agents.send("b1", to_agent="a2", user_id=bob)
    # (method, path, body with the id under test as {id}, the foreign id)
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", "/api/memories", {"kind": "fact", "content": "u", "user_id": "{id}"}, bob),
        ("POST", "/api/sessions", {"parent_id": "{id}"}, bob_session.id),
        ("POST", "/api/sessions", {"project_id": "{id}"}, bob_project.id),
        ("POST", "/api/memories", {"kind": "fact", "content": "c", "session_id": "{id}"},
         bob_session.id),
        ("POST", "/api/memories", {"kind": "fact", "content": "c2", "message_id": "{id}"},
         bob_message.id),
        ("POST", "/api/emotions", {"emotion": "joy", "intensity": 0.5, "session_id": "{id}"},
         bob_session.id),
        ("POST", "/api/requests", {"prompt": "p", "project_id": "{id}"}, bob_project.id),
        ("POST", "/api/requests", {"prompt": "p", "session_id": "{id}"}, bob_session.id),
        ("POST", "/api/agent-messages", {"from_agent": "a1", "to_agent": "a2",
                                         "project_id": "{id}"}, bob_project.id),
        ("POST", "/api/actions", {"tool_name": "Edit", "project_id": "{id}"}, bob_project.id),
        ("POST", "/api/agents/a2/read", {"message_ids": ["{id}"]}, bob_agent_message.id),
        ("POST", "/api/agents/a2/claim", {"task_list_id": "{id}"}, bob_wave.id),
        ("POST", "/api/sessions/{id}/messages", {"role": "user", "content": "x"},
         bob_session.id),
    ]  # fmt: skip
    with s.client(s.alice_key) as c:
        for method, path, template, foreign in cases:
            unknown = new_id()

            def call(i: str, method: str = method, path: str = path, template: Any = template
                     ) -> Any:  # fmt: skip
                body = json.loads(json.dumps(template).replace("{id}", i))
                return c.request(method, path.replace("{id}", i), json=body)

            mine, theirs = call(unknown), call(foreign)
            assert theirs.status_code == mine.status_code, (path, template, mine.text, theirs.text)
            assert theirs.status_code in (404, 200), (path, theirs.text)
            a, b = _same_shape(mine.json(), theirs.json(), unknown, foreign)
            assert a == b, (path, template)
        # Claude Code's own session id, or another user's session: both only noted.
        for sid in (new_id(), bob_session.id):
            r = c.post("/api/actions", json={"tool_name": "Edit", "session_id": sid})
            assert r.status_code == 201 and r.json()["session_id"] is None, r.text
            assert r.json()["metadata"]["external_session_id"] == sid


def test_search_takes_limit_and_keeps_k(served_sqlite: Served) -> None:
    s = served_sqlite
    session = s.vault.sessions.create(s.alice.id)
    for i in range(12):
        s.vault.memories.add(s.alice.id, "fact", f"zebra fact {i}")
        s.vault.messages.append(session.id, "user", f"zebra message {i}")
    with s.client(s.alice_key) as c:
        for kind in ("memories", "messages"):
            path = f"/api/search/{kind}"
            q = {"q": "zebra", "mode": "text"}
            assert len(c.get(path, params=q).json()) == 10
            assert len(c.get(path, params={**q, "limit": 3}).json()) == 3
            assert len(c.get(path, params={**q, "k": 4}).json()) == 4
            assert len(c.get(path, params={**q, "limit": 5, "k": 2}).json()) == 5
            r = c.get(path, params={**q, "limit": 0})
            assert r.status_code == 422 and r.json()["field"] == "limit"
