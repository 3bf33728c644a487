"""The one owner rule on REST writes to the layered domains (memories, patterns, traits),
whose shared base layer every user reads: an admin key names the user (query or body
`user_id`) or asks for the base layer with `base=true`; naming nobody is refused, not taken
to mean the base layer. A user key writes its own user's rows and never the base layer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.server.conftest import Served

# what → method, path, body. (`POST /api/routing/feedback` keeps an admin key's global
# scores: DCM's checks and `memvault hook --server` send it with no user.)
WRITES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "memory": ("POST", "/api/memories", {"kind": "fact", "content": "zebras", "embed": False}),
    "pattern": ("POST", "/api/patterns",
                {"intent": "greet", "trigger_context": "zebra", "response_text": "hi"}),
    "trait": ("PUT", "/api/traits/curiosity", {"value": 0.9}),
}  # fmt: skip


def write(c: httpx.Client, what: str, body: dict[str, Any] | None = None,
          **params: str) -> httpx.Response:  # fmt: skip
    method, path, default = WRITES[what]
    return c.request(method, path, params=params, json={**default, **(body or {})})


def owner(r: httpx.Response) -> Any:
    return r.json()["user_id"]


@pytest.mark.parametrize("what", sorted(WRITES))
def test_an_admin_write_names_its_user_or_asks_for_the_base_layer(
    served_sqlite: Served, what: str
) -> None:
    s = served_sqlite
    alice, bob = s.alice.id, s.bob.id
    with s.client(s.admin_key) as c:
        nobody = write(c, what)
        assert nobody.status_code == 422, nobody.text
        assert nobody.json()["field"] == "user_id" and "base=true" in nobody.json()["detail"]
        by_query = write(c, what, user_id=alice)
        assert by_query.status_code in (200, 201) and owner(by_query) == alice, by_query.text
        by_body = write(c, what, {"user_id": bob})
        assert by_body.status_code in (200, 201) and owner(by_body) == bob, by_body.text
        clash = write(c, what, {"user_id": bob}, user_id=alice)
        assert clash.status_code == 422 and clash.json()["field"] == "user_id", clash.text
        both = write(c, what, base="true", user_id=alice)
        assert both.status_code == 422 and both.json()["field"] == "base", both.text
        shared = write(c, what, base="true")
        assert shared.status_code in (200, 201) and owner(shared) is None, shared.text
    with s.client(s.bob_key) as c:
        assert write(c, what, base="true").status_code == 403
        own = write(c, what)
        assert own.status_code in (200, 201) and owner(own) == bob, own.text
        assert write(c, what, user_id=alice).status_code == 404


def test_a_refused_admin_memory_reaches_no_users_layered_read(served_sqlite: Served) -> None:
    """Before the fix, an admin's POST naming nobody wrote the base layer, and every user's
    `layered=true` list then showed it."""
    s = served_sqlite
    with s.client(s.admin_key) as c:
        assert write(c, "memory", {"content": "for alice only"}).status_code == 422
        assert write(c, "memory", {"content": "for everyone"}, base="true").status_code == 201
    with s.client(s.bob_key) as c:
        seen = c.get("/api/memories", params={"layered": "true"}).json()["items"]
        assert [m["content"] for m in seen] == ["for everyone"]
