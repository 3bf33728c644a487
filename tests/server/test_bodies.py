"""Every request body feeds its core method by field name (`Body.feeds`, `Body.fields()`).

A route passes a body on with `**body.fields()`, so each field must be a parameter of the core
method the body names: a field added to a body but not to the core fails here, not as a
TypeError on the first request (nor is it dropped silently, as a re-listed call would drop it).
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import memvault
from memvault.keys import ApiKeys
from memvault.server import app as _app  # noqa: F401  (imports every router, so every body)
from memvault.server.routers import core
from memvault.server.routers.tasks import StatusIn
from memvault.server.schemas import Body
from tests.server.conftest import Served

# Core methods a body feeds besides its own `feeds` (a route reusing the body).
ALSO: dict[type[Body], list[str]] = {StatusIn: ["tasks.set_wave_status"]}


def bodies() -> list[type[Body]]:
    found, todo = [], list(Body.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("memvault."):
            found.append(cls)
        todo += cls.__subclasses__()
    return sorted(found, key=lambda cls: cls.__name__)


def parameters(vault: memvault.Vault, feeds: str) -> set[str]:
    if feeds.startswith("keys."):
        method = getattr(ApiKeys(vault), feeds.split(".")[1])
    else:
        method = core(vault, feeds)
    return set(inspect.signature(method).parameters)


def test_there_are_bodies() -> None:
    assert len(bodies()) >= 24, [cls.__name__ for cls in bodies()]


@pytest.mark.parametrize("body", bodies(), ids=lambda cls: cls.__name__)
def test_fields_are_parameters_of_the_core_method(
    body: type[Body], sqlite_vault: memvault.Vault
) -> None:
    assert "feeds" in vars(body), f"{body.__name__} names no core method (feeds)"
    fields = set(body.model_fields)
    assert body.derived <= fields, f"{body.__name__}.derived names no field"
    for feeds in [body.feeds, *ALSO.get(body, [])]:
        missing = fields - body.derived - parameters(sqlite_vault, feeds)
        assert not missing, f"{body.__name__} → {feeds} takes no {sorted(missing)}"


def test_fields_all_or_sent_without_derived_with_given() -> None:
    class Sample(Body):
        derived = frozenset({"dropped"})
        a: int = 1
        b: int | None = None
        dropped: bool = True

    body: Any = Sample.model_validate({"b": 2, "dropped": False})
    assert body.fields() == {"a": 1, "b": 2}
    assert body.fields(sent=True) == {"b": 2}
    assert body.fields(sent=True, a=5, c=6) == {"a": 5, "b": 2, "c": 6}


def test_an_unknown_field_is_refused_by_name_not_dropped(served: Served) -> None:
    """newcomer14 finding 16: `ttl_seconds` (the name the responses use) in a POST body was
    dropped with a 201, so the memory never expired."""
    with served.client(served.alice_key) as c:
        body = {"kind": "note", "content": "expires soon", "embed": False, "ttl_seconds": 60}
        r = c.post("/api/memories", json=body)
        assert r.status_code == 422 and "ttl_seconds" in r.text, r.text
        assert c.get("/api/memories").json()["items"] == []
        body["ttl"] = body.pop("ttl_seconds")
        r = c.post("/api/memories", json=body)
        assert r.status_code == 201 and r.json()["expires_at"] is not None, r.text
