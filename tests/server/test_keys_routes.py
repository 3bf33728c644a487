"""REST: keys and metadata filters on the list endpoints, put/get by key, batch append and
clear of a session's messages; every engine, through a real server on loopback."""

from __future__ import annotations

import json

import httpx

from tests.server.conftest import Served


def test_memories_by_key_and_filtered_lists(served: Served) -> None:
    with served.client(served.alice_key) as c:

        def put(key: str, content: str, n: int) -> httpx.Response:
            body = {"kind": "note", "content": content, "metadata": {"n": n}, "embed": False}
            return c.put(f"/api/memories/by-key/{key}", json=body)

        r = put("ns/a/1", "one", 1)
        assert r.status_code == 200, r.text
        first = r.json()
        assert first["key"] == "ns/a/1" and first["dedupe"] is False
        again = put("ns/a/1", "uno", 2)
        assert again.json()["id"] == first["id"] and again.json()["metadata"] == {"n": 2}
        put("ns/b/2", "two", 5)
        got = c.get("/api/memories/by-key/ns/a/1")
        assert got.status_code == 200 and got.json()["content"] == "uno"
        assert c.get("/api/memories/by-key/ns/zzz").status_code == 404
        listed = c.get("/api/memories", params={"key_prefix": "ns/"}).json()["items"]
        assert sorted(m["key"] for m in listed) == ["ns/a/1", "ns/b/2"]
        flt = json.dumps({"metadata.n": {"$gte": 3}})
        listed = c.get("/api/memories", params={"filters": flt}).json()["items"]
        assert [m["key"] for m in listed] == ["ns/b/2"]
        listed = c.get("/api/memories", params=[("key", "ns/a/1"), ("key", "nope")]).json()
        assert [m["key"] for m in listed["items"]] == ["ns/a/1"]
        history = c.get(f"/api/memories/{first['id']}/history").json()
        assert [h["op"] for h in history] == ["create", "update"]
        # explicit de-duplication over HTTP
        body = {"kind": "fact", "content": "same", "embed": False}
        assert c.post("/api/memories", json=body).status_code == 201
        assert c.post("/api/memories", json={**body, "dedupe": "raise"}).status_code == 409
        copy = c.post("/api/memories", json={**body, "dedupe": False})
        assert copy.status_code == 201
        bad = c.get("/api/memories", params={"filters": "{not json"})
        assert bad.status_code in (400, 422)


def test_sessions_by_key_batch_and_clear(served: Served) -> None:
    with served.client(served.alice_key) as c:
        session = c.post("/api/sessions", json={"key": "thread-1", "metadata": {"t": "x"}}).json()
        c.post("/api/sessions", json={"key": "other-1"})
        assert c.post("/api/sessions", json={"key": "thread-1"}).status_code == 409
        assert c.get("/api/sessions/by-key/thread-1").json()["id"] == session["id"]
        assert c.get("/api/sessions/by-key/nope").status_code == 404
        listed = c.get("/api/sessions", params={"key_prefix": "thread-"}).json()["items"]
        assert [s["id"] for s in listed] == [session["id"]]
        flt = json.dumps({"metadata.t": "x"})
        listed = c.get("/api/sessions", params={"filters": flt}).json()["items"]
        assert [s["id"] for s in listed] == [session["id"]]
        sid = session["id"]
        batch = c.post(f"/api/sessions/{sid}/messages/batch", json={"messages": [
            {"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]})  # fmt: skip
        assert batch.status_code == 201, batch.text
        assert [m["seq"] for m in batch.json()] == [1, 2]
        bad = c.post(f"/api/sessions/{sid}/messages/batch", json={"messages": [
            {"role": "user", "content": "c"}, {"role": "robot", "content": "d"}]})  # fmt: skip
        assert bad.status_code in (400, 422)
        assert len(c.get(f"/api/sessions/{sid}/messages").json()["items"]) == 2
        cleared = c.delete(f"/api/sessions/{sid}/messages")
        assert cleared.json() == {"removed": 2}
        assert c.get(f"/api/sessions/{sid}/messages").json()["items"] == []
        assert c.get(f"/api/sessions/{sid}").json()["message_count"] == 0


def test_an_admin_put_by_key_writes_the_user_it_names_never_the_base_layer_by_default(
    served: Served,
) -> None:
    """newcomer14 finding 15: `PUT …/by-key/K?user_id=A` with an admin key ignored the query
    and wrote the shared base layer, which every user's layered reads then showed."""
    alice = served.alice.id
    body = {"kind": "note", "content": "rest doc", "embed": False}
    with served.client(served.admin_key) as c:
        r = c.put("/api/memories/by-key/rest/1", params={"user_id": alice}, json=body)
        assert r.status_code == 200, r.text
        assert r.json()["user_id"] == alice
        nobody = c.put("/api/memories/by-key/rest/2", json=body)
        assert nobody.status_code in (400, 422) and "user_id" in nobody.text, nobody.text
        clash = c.put("/api/memories/by-key/rest/3", params={"user_id": alice},
                      json={**body, "user_id": served.bob.id})  # fmt: skip
        assert clash.status_code in (400, 422) and "user_id" in clash.text, clash.text
        shared = c.put("/api/memories/by-key/rest/4", params={"base": "true"}, json=body)
        assert shared.status_code == 200 and shared.json()["user_id"] is None, shared.text
    with served.client(served.bob_key) as c:
        seen = c.get("/api/memories", params={"layered": "true"}).json()["items"]
        assert [m["key"] for m in seen] == ["rest/4"]
        assert c.put("/api/memories/by-key/rest/5", params={"base": "true"},
                     json=body).status_code == 403  # fmt: skip
    with served.client(served.alice_key) as c:
        assert c.get("/api/memories/by-key/rest/1").json()["content"] == "rest doc"
