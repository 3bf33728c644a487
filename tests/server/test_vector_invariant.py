"""Over HTTP: PATCH of a memory's text re-embeds it (found by its new meaning, not its old),
POST embeds unless asked not to, and a search whose vector leg had no vector to search says
so in an `X-Memvault-Note` header. Every engine, the real embedder."""

from __future__ import annotations

from tests.invariants import assert_vectors_current
from tests.server.conftest import Served

EAT = "what does the user eat"
RIDE = "how does the user get to work"
FOOD = "Eats only vegetables, never meat or fish"
BIKE = "Rides a red bicycle to the office every morning"


def test_patch_re_embeds_the_new_text(served: Served) -> None:
    with served.client(served.alice_key) as c:
        food = c.post("/api/memories", json={"kind": "fact", "content": FOOD}).json()
        c.post("/api/memories", json={"kind": "fact", "content": "Has two cats"})
        r = c.get("/api/search/memories", params={"q": EAT, "mode": "vector", "k": 1})
        assert r.json()[0]["memory"]["id"] == food["id"] and "x-memvault-note" not in r.headers
        r = c.patch(f"/api/memories/{food['id']}", json={"content": BIKE, "reason": "misheard"})
        assert r.status_code == 200, r.text
        assert_vectors_current(served.vault)
        name = served.vault.search.embed_model()
        assert served.vault.search.missing("memory", name) == 0
        ride = c.get("/api/search/memories", params={"q": RIDE, "mode": "vector"}).json()
        eat = c.get("/api/search/memories", params={"q": EAT, "mode": "vector"}).json()
    score = {h["memory"]["id"]: h["vector_score"] for h in ride}
    old = {h["memory"]["id"]: h["vector_score"] for h in eat}
    assert ride[0]["memory"]["content"] == BIKE
    assert score[food["id"]] > old[food["id"]]  # its new meaning, not its old one


def test_post_without_embedding_and_the_search_note(served: Served) -> None:
    with served.client(served.alice_key) as c:
        r = c.post("/api/memories", json={"kind": "fact", "content": FOOD, "embed": False})
        assert r.status_code == 201, r.text
        r = c.get("/api/search/memories", params={"q": "vegetables"})
        assert [h["memory"]["content"] for h in r.json()] == [FOOD]
        assert "full-text search alone" in r.headers["x-memvault-note"]
        s = c.post("/api/sessions", json={"title": "t"}).json()
        c.post(f"/api/sessions/{s['id']}/messages", json={"role": "user", "content": "ramen"})
        r = c.get("/api/search/messages", params={"q": "ramen"})
        assert len(r.json()) == 1 and "memvault embed --what messages" in r.headers[
            "x-memvault-note"]  # fmt: skip
        served.vault.search.embed_missing("memory")
        r = c.get("/api/search/memories", params={"q": "vegetables"})
        assert "x-memvault-note" not in r.headers
    assert_vectors_current(served.vault)
