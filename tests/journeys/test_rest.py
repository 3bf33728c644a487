"""The REST API as a client developer meets it: `memvault serve` in a subprocess, two users with
a key each, paging by the rules the OpenAPI text states, a typo in a body, another user's ids."""

from __future__ import annotations

from typing import Any

from memvault.ids import new_id
from tests.journeys.conftest import Cli


def test_two_users_page_make_typos_and_probe_each_other(cli: Cli, service: Any) -> None:
    cli.ok("init")
    admin_key = cli.json("keys", "create", "--admin")["key"]
    served = service()
    with served.client(admin_key) as admin:
        keys = {}
        for handle in ("alice", "bob"):
            user = admin.post("/api/users", json={"handle": handle})
            assert user.status_code == 201, user.text
            made = admin.post("/api/keys", json={"user_id": user.json()["id"]})
            keys[handle] = made.json()["key"]
        doc = admin.get("/openapi.json").json()
    assert "`offset=next_offset`" in doc["info"]["description"]

    with served.client(keys["alice"]) as alice:
        session = alice.post("/api/sessions", json={"title": "long chat"}).json()
        for i in range(23):
            r = alice.post(f"/api/sessions/{session['id']}/messages",
                           json={"role": "user" if i % 2 == 0 else "assistant",
                                 "content": f"message {i}"})  # fmt: skip
            assert r.status_code == 201, r.text
        # Page the way the OpenAPI text says: limit + offset until next_offset is null.
        seen: list[dict[str, Any]] = []
        offset: int | None = 0
        pages = 0
        while offset is not None:
            pages += 1
            assert pages <= 10, "paging does not end"
            page = alice.get(f"/api/sessions/{session['id']}/messages",
                             params={"limit": 5, "offset": offset}).json()  # fmt: skip
            seen += page["items"]
            offset = page["next_offset"]
        assert pages == 5
        assert [m["content"] for m in seen] == [f"message {i}" for i in range(23)]
        assert [m["seq"] for m in seen] == list(range(1, 24))

        # A body with a typo (a missing comma on line 3): 400, and where.
        typo = b'{\n  "role": "user",\n  "content": "hi"\n  "emotion": "joy"\n}'
        for path in (f"/api/sessions/{session['id']}/messages", "/api/memories"):
            r = alice.post(path, content=typo, headers={"Content-Type": "application/json"})
            assert r.status_code == 400, r.text
            assert r.json() == {
                "error": "bad_request",
                "detail": "the request body is not valid JSON: "
                "Expecting ',' delimiter at line 4, column 3",
            }
        memory = alice.post("/api/memories", json={"kind": "fact", "content": "alice's",
                                                   "session_id": session["id"]}).json()  # fmt: skip

    with served.client(keys["bob"]) as bob:
        unknown = new_id()

        def same(make: Any) -> None:
            theirs, nobody = make(session["id"]), make(unknown)
            assert theirs.status_code == nobody.status_code == 404, (theirs.text, nobody.text)
            assert theirs.json() == {
                k: v.replace(unknown, session["id"]) if isinstance(v, str) else v
                for k, v in nobody.json().items()
            }

        same(lambda sid: bob.get(f"/api/sessions/{sid}"))
        same(lambda sid: bob.get(f"/api/sessions/{sid}/messages", params={"limit": 5}))
        same(lambda sid: bob.post(f"/api/sessions/{sid}/messages",
                                  json={"role": "user", "content": "hi"}))  # fmt: skip
        fact = {"kind": "fact", "content": "x"}
        same(lambda sid: bob.post("/api/memories", json={**fact, "session_id": sid}))
        same(lambda sid: bob.post("/api/sessions", json={"parent_id": sid}))
        same(lambda sid: bob.post("/api/emotions", json={"emotion": "joy", "intensity": 0.5,
                                                         "session_id": sid}))  # fmt: skip
        r = bob.post("/api/memories", json={"kind": "fact", "content": "y",
                                            "message_id": seen[0]["id"]})  # fmt: skip
        assert r.status_code == 404 and r.json()["detail"].startswith("message "), r.text
        assert bob.get(f"/api/memories/{memory['id']}").status_code == 404
        assert bob.get("/api/sessions").json()["items"] == []
    served.stop()
    stats = cli.json("stats")
    assert stats["counts"]["messages"] == 23 and stats["counts"]["sessions"] == 1
