"""Every list of the REST API pages the same way, found from the app's own OpenAPI document.

A list route is a GET whose answer has an `items` array (or is an array). Each must take
`limit` and `offset`, answer the `Page` envelope, and paging through a populated store with a
small `limit` must end and give every row exactly once, in the order of a single large page.
A route added later is walked without editing this file; one that cannot be filled in fails.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from memvault.keys import ApiKeys
from memvault.migrate import import_source
from tests.migrate.legacy_data import write_langchain
from tests.server.conftest import Served

ROWS = 5  # of each kind: more than LIMIT, so that every list has several pages
LIMIT = 2

# GET routes answering a bare array on purpose, and why they are not paged.
NOT_PAGED = {
    "/api/search/memories": "a ranking: the best `limit` hits",
    "/api/search/messages": "a ranking: the best `limit` hits",
    "/api/actions/stats": "one aggregate row per tool",
    "/api/memories/{memory_id}/history": "the changes of one memory",
    "/api/sessions/{session_id}/trajectory": "the emotion points of one session",
}
# Routes that only an admin key may list.
ADMIN_ONLY = {"/api/imports", "/api/users"}


def resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def answer_schema(operation: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    content = operation["responses"]["200"].get("content", {})
    return resolve(content.get("application/json", {}).get("schema", {}), doc)


def list_routes(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """path → GET operation, for every GET answering a page (or an array outside NOT_PAGED)."""
    found = {}
    for path, item in doc["paths"].items():
        operation = item.get("get")
        if operation is None or "200" not in operation["responses"]:
            continue
        schema = answer_schema(operation, doc)
        if schema.get("type") == "array":
            assert path in NOT_PAGED, f"{path} answers a bare array: page it or say why not"
            continue
        if resolve(schema.get("properties", {}).get("items", {}), doc).get("type") == "array":
            found[path] = operation
    return found


def populate(s: Served, tmp: Any) -> dict[str, str]:
    """ROWS rows of every listed kind for Alice; returns the values of the path parameters."""
    v, alice = s.vault, s.alice.id
    for i in range(ROWS):
        v.users.create(f"user{i}")
        ApiKeys(v).create(alice, name=f"key{i}")
    session = v.sessions.create(alice, title="paged")
    for i in range(ROWS):
        v.sessions.create(alice, title=f"s{i}")
        v.messages.append(session.id, "user", f"message {i}")
        v.memories.add(alice, "fact", f"fact number {i}")
        v.emotions.record(alice, "joy", 0.1 * (i + 1), trigger=f"t{i}")
        v.traits.set(alice, "warmth", 0.1 * (i + 1))
        v.traits.set(alice, f"trait{i}", 0.5)
        v.actions.record(f"Tool{i}", user_id=alice, exit_code=0)
        v.routing.update([f"word{i}"], "Bash", True, user_id=alice)
        v.patterns.add(alice, "greet", f"hello {i}", f"hi {i}")
        v.projects.create(f"/work/p{i}", user_id=alice)
        v.agents.send("a1", to_agent="a2", payload={"n": i}, user_id=alice)
        v.agents.subscribe("a2", f"topic{i}", user_id=alice)
    request = v.tasks.create_request("build it", user_id=alice)
    for i in range(ROWS):
        v.tasks.create_request(f"request {i}", user_id=alice)
        wave = v.tasks.add_wave(request.id, user_id=alice)
        v.tasks.add_subtask(wave.id, f"subtask {i}", user_id=alice)
    for i in range(ROWS):
        import_source(v, write_langchain(tmp / f"legacy{i}"), format="langchain", backup=False)
    return {"session_id": session.id, "request_id": request.id, "agent_id": "a2"}


def walk(client: httpx.Client, path: str, limit: int) -> list[Any]:
    """Every item of a list, following next_offset; fails if it does not end."""
    items: list[Any] = []
    offset: int | None = 0
    for _ in range(100):
        if offset is None:
            return items
        r = client.get(path, params={"limit": limit, "offset": offset})
        assert r.status_code == 200, (path, r.text)
        body = r.json()
        assert set(body) == {"items", "limit", "offset", "next_offset"}, (path, set(body))
        assert body["limit"] == limit and body["offset"] == offset, (path, body)
        assert len(body["items"]) <= limit, path
        items += body["items"]
        offset = body["next_offset"]
        assert offset is None or offset == body["offset"] + len(body["items"]), (path, body)
    pytest.fail(f"{path}: paging with limit={limit} did not end after 100 pages")


def test_every_list_pages_the_same_way(served: Served, tmp_path: Any) -> None:
    s = served
    values = populate(s, tmp_path)
    with s.client() as c:
        doc = c.get("/openapi.json").json()
    routes = list_routes(doc)
    assert "/api/sessions/{session_id}/messages" in routes and len(routes) >= 15, sorted(routes)
    for path, operation in routes.items():
        params = {p["name"]: p for p in operation.get("parameters", [])}
        assert {"limit", "offset"} <= set(params), f"{path} takes {sorted(params)}"
        assert params["offset"]["in"] == "query", path
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.rsplit("/", 1)[-1].startswith("Page_"), (path, ref)
        filled = path.format(**values)
        key = s.admin_key if path in ADMIN_ONLY else s.alice_key
        with s.client(key) as c:
            whole = c.get(filled, params={"limit": 1000})
            assert whole.status_code == 200, (path, whole.text)
            everything = whole.json()["items"]
            assert whole.json()["next_offset"] is None, path
            assert len(everything) > LIMIT, f"{path}: only {len(everything)} rows to page"
            paged = walk(c, filled, LIMIT)
        assert paged == everything, f"{path}: pages differ from the whole list"
        ids = [item.get("id", repr(item)) if isinstance(item, dict) else item for item in paged]
        assert len(set(map(str, ids))) == len(ids), f"{path}: a row came twice"
