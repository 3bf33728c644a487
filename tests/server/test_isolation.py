"""Tenant isolation across endpoints: with Bob's key, Alice's ids answer 404 and lists,
searches and exports hold none of her rows. Runs on every engine."""

from __future__ import annotations

from typing import Any

from tests.server.conftest import Served


def alice_world(s: Served) -> dict[str, Any]:
    """Alice's rows of every kind, written through the API with her key."""
    with s.client(s.alice_key) as c:
        session = c.post("/api/sessions", json={"title": "secret plans", "key": "k-1"}).json()
        message = c.post(f"/api/sessions/{session['id']}/messages",
                         json={"role": "user", "content": "my secret zebra"}).json()  # fmt: skip
        memory = c.post("/api/memories", json={"kind": "fact", "content": "secret zebra farm",
                                               "confidence": 0.8, "key": "k-1"}).json()  # fmt: skip
        c.patch(f"/api/memories/{memory['id']}", json={"content": "secret zebra ranch"})
        emotion = c.post("/api/emotions", json={"emotion": "joy", "intensity": 0.7}).json()
        c.put("/api/traits/curiosity", json={"value": 0.9})
        action = c.post("/api/actions", json={"tool_name": "Zebra", "project_path": "/z"}).json()
        c.post("/api/routing/feedback", json={"query": "zebra secret", "tool_name": "Zebra",
                                              "success": True})  # fmt: skip
        pattern = c.post("/api/patterns", json={"intent": "greet", "trigger_context": "zebra",
                                                "response_text": "hi"}).json()  # fmt: skip
        request = c.post("/api/requests", json={"prompt": "secret zebra task"}).json()
        wave = c.post(f"/api/requests/{request['id']}/waves", json={"name": "w1"}).json()
        subtask = c.post(f"/api/waves/{wave['id']}/subtasks", json={"description": "d"}).json()
        agent_msg = c.post("/api/agent-messages", json={"from_agent": "a1", "topic": "zebra",
                                                        "payload": {"x": 1}}).json()  # fmt: skip
        c.post("/api/agents/a2/subscriptions", json={"topic": "zebra"})
    return {"session": session, "message": message, "memory": memory, "emotion": emotion,
            "action": action, "pattern": pattern, "request": request, "wave": wave,
            "subtask": subtask, "agent_msg": agent_msg}  # fmt: skip


def test_another_users_ids_answer_404(served: Served) -> None:
    s = served
    w = alice_world(s)
    assert all("id" in v for v in w.values()), w
    sid, mid = w["session"]["id"], w["memory"]["id"]
    probes = [
        ("GET", f"/api/users/{s.alice.id}"),
        ("PATCH", f"/api/users/{s.alice.id}"),
        ("GET", f"/api/users/{s.alice.id}/export"),
        ("GET", f"/api/users/{s.alice.id}/profile"),
        ("GET", f"/api/sessions/{sid}"),
        ("PATCH", f"/api/sessions/{sid}"),
        ("DELETE", f"/api/sessions/{sid}"),
        ("GET", f"/api/sessions/{sid}/messages"),
        ("POST", f"/api/sessions/{sid}/messages"),
        ("GET", f"/api/sessions/{sid}/context"),
        ("GET", f"/api/messages/{w['message']['id']}"),
        ("GET", f"/api/memories/{mid}"),
        ("PATCH", f"/api/memories/{mid}"),
        ("DELETE", f"/api/memories/{mid}"),
        ("GET", f"/api/memories/{mid}/history"),
        ("GET", f"/api/actions/{w['action']['id']}"),
        ("GET", f"/api/patterns/{w['pattern']['id']}"),
        ("POST", f"/api/patterns/{w['pattern']['id']}/use"),
        ("DELETE", f"/api/patterns/{w['pattern']['id']}"),
        ("GET", f"/api/requests/{w['request']['id']}"),
        ("PATCH", f"/api/requests/{w['request']['id']}"),
        ("POST", f"/api/requests/{w['request']['id']}/waves"),
        ("GET", f"/api/requests/{w['request']['id']}/waves"),
        ("PATCH", f"/api/waves/{w['wave']['id']}"),
        ("POST", f"/api/waves/{w['wave']['id']}/subtasks"),
        ("GET", f"/api/subtasks/{w['subtask']['id']}"),
        ("PATCH", f"/api/subtasks/{w['subtask']['id']}"),
        ("GET", f"/api/agent-messages/{w['agent_msg']['id']}"),
        ("GET", f"/api/memories?user_id={s.alice.id}"),
        ("GET", f"/api/emotions?user_id={s.alice.id}"),
        ("GET", f"/api/actions?user_id={s.alice.id}"),
        ("GET", f"/api/search/memories?q=zebra&user_id={s.alice.id}"),
        ("GET", f"/api/keys?user_id={s.alice.id}"),
    ]
    # A body each route accepts (bodies refuse unknown fields), so the answer is about
    # whose id it is, not about the body.
    bodies = {("PATCH", "users"): {"display_name": "pwned"},
              ("PATCH", "sessions"): {"title": "pwned"},
              ("POST", "messages"): {"role": "user", "content": "x"},
              ("PATCH", "memories"): {"content": "pwned"},
              ("POST", "use"): {"outcome": 1},
              ("PATCH", "requests"): {"status": "completed"},
              ("POST", "waves"): {"name": "x"},
              ("PATCH", "waves"): {"status": "completed"},
              ("POST", "subtasks"): {"description": "x"},
              ("PATCH", "subtasks"): {"status": "completed"}}  # fmt: skip

    def body(method: str, path: str) -> Any:
        parts = path.split("?")[0].split("/")
        return bodies.get((method, parts[-1])) or bodies.get((method, parts[-2]))

    with s.client(s.bob_key) as c:
        for method, path in probes:
            r = c.request(method, path, json=body(method, path))
            assert r.status_code == 404, (method, path, r.status_code, r.text)
            assert r.json()["error"] == "not_found"
    # Nothing of Alice's was changed by those attempts.
    with s.client(s.alice_key) as c:
        assert c.get(f"/api/sessions/{sid}").json()["title"] == "secret plans"
        assert c.get(f"/api/memories/{mid}").json()["content"] == "secret zebra ranch"
        assert c.get(f"/api/sessions/{sid}/messages").json()["items"][0]["content"] == (
            "my secret zebra"
        )


def test_lists_searches_and_exports_hold_no_foreign_row(served: Served) -> None:
    s = served
    w = alice_world(s)
    alice_ids = {v["id"] for v in w.values()}
    lists = [
        "/api/users", "/api/sessions", "/api/memories", "/api/memories?layered=true",
        "/api/emotions", "/api/traits", "/api/traits/history", "/api/actions?limit=100",
        "/api/actions/stats", "/api/routing/scores", "/api/routing/suggest?q=zebra+secret",
        "/api/patterns", "/api/requests", "/api/subtasks", "/api/tasks/overview",
        "/api/agents/a2/inbox", "/api/agent-subscriptions", "/api/keys",
        "/api/search/memories?q=zebra&mode=text", "/api/search/memories?q=zebra",
        "/api/search/messages?q=zebra&mode=text", "/api/search/messages?q=zebra",
        f"/api/users/{s.bob.id}/export", "/stats",
    ]  # fmt: skip
    with s.client(s.bob_key) as c:
        for path in lists:
            r = c.get(path)
            assert r.status_code == 200, (path, r.text)
            text = r.text
            echo = text.replace('"query":"zebra secret"', "")  # the suggestion echoes the query
            assert "zebra" not in echo, path
            assert s.alice.id not in text, path
            assert not any(i in text for i in alice_ids), path
        stats = c.get("/stats").json()
        assert stats["scope"] == "user" and stats["counts"]["memories"] == 0
    # The same lists with Alice's key do show her rows: the filters are not just empty.
    with s.client(s.alice_key) as c:
        assert len(c.get("/api/memories").json()["items"]) == 1
        assert len(c.get("/api/search/memories?q=zebra").json()) == 1
        assert c.get(f"/api/users/{s.alice.id}/export").json()["user"]["id"] == s.alice.id
        assert len(c.get("/api/agents/a2/inbox").json()["items"]) == 1


def test_an_admin_key_reads_any_user_and_writes_the_base_layer(served: Served) -> None:
    s = served
    alice_world(s)
    with s.client(s.admin_key) as c:
        assert len(c.get(f"/api/memories?user_id={s.alice.id}").json()["items"]) == 1
        base = c.post("/api/memories", params={"base": "true"},
                      json={"kind": "fact", "content": "zebras are striped"})  # fmt: skip
        assert base.status_code == 201 and base.json()["user_id"] is None
    with s.client(s.bob_key) as c:
        layered = c.get("/api/memories?layered=true").json()["items"]
        assert [m["content"] for m in layered] == ["zebras are striped"]
        own = c.post("/api/memories", json={"kind": "fact", "content": "mine", "user_id": None})
        assert own.json()["user_id"] == s.bob.id  # a user key cannot write the base layer
        r = c.patch(f"/api/memories/{base.json()['id']}", json={"content": "zebras are plain"})
        assert r.status_code == 404
