"""Tenant isolation over every operation of the OpenAPI schema: with Bob's key, every path
that names one of Alice's rows is refused and no response carries Alice's text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import memvault
from tests.reliability.conftest import report

SECRET = "secret"  # in every text Alice wrote; Bob's requests never say it


@pytest.fixture
def http(vault: memvault.Vault) -> Iterator[Any]:
    from tests.server.conftest import serve

    yield from serve(vault)


def test_every_operation_refuses_another_users_rows(http: Any) -> None:
    from tests.server.test_isolation import alice_world

    world = alice_world(http)
    ids = {
        "user_id": http.alice.id,
        "session_id": world["session"]["id"],
        "memory_id": world["memory"]["id"],
        "message_id": world["message"]["id"],
        "action_id": world["action"]["id"],
        "pattern_id": world["pattern"]["id"],
        "request_id": world["request"]["id"],
        "task_list_id": world["wave"]["id"],
        "subtask_id": world["subtask"]["id"],
    }
    agent_message = world["agent_msg"]["id"]
    spec = httpx.get(f"{http.url}/openapi.json").json()
    probed = refused = 0
    with httpx.Client(base_url=http.url, timeout=30,
                      headers={"Authorization": f"Bearer {http.bob_key}"}) as bob:  # fmt: skip
        for template, operations in spec["paths"].items():
            for method in operations:
                path = template
                names_alice = False
                for name, value in ids.items():
                    if "{" + name + "}" in path:
                        path = path.replace("{" + name + "}", value)
                        names_alice = True
                if "/agent-messages/{message_id}" in template:
                    path = template.replace("{message_id}", agent_message)
                    names_alice = True
                path = (path.replace("{agent_id}", "a2").replace("{topic}", "zebra")
                        .replace("{name}", "curiosity").replace("{key_id}", memvault.new_id())
                        .replace("{run_id}", memvault.new_id()))  # fmt: skip
                body = {"content": "pwned", "title": "pwned", "status": "completed",
                        "role": "user", "description": "x", "value": 0.1}  # fmt: skip
                response = bob.request(method.upper(), path, json=body, params={"q": "zebra"})
                probed += 1
                assert response.status_code < 500, (method, path, response.text)
                if names_alice:
                    assert response.status_code in (403, 404, 422), (method, path, response.text)
                    refused += 1
                if response.status_code < 300:
                    assert SECRET not in response.text, (method, path, response.text[:300])
                    if not names_alice:
                        leaked = [
                            k for k, v in ids.items() if v in response.text and k != "user_id"
                        ]
                        assert not leaked and agent_message not in response.text, (method, path)
    with httpx.Client(base_url=http.url, timeout=30,
                      headers={"Authorization": f"Bearer {http.alice_key}"}) as alice:  # fmt: skip
        memory = alice.get(f"/api/memories/{ids['memory_id']}").json()
        assert memory["content"] == "secret zebra ranch"  # nothing of Alice's was changed
        session = alice.get(f"/api/sessions/{ids['session_id']}").json()
        assert session["title"] == "secret plans"
    report(f"isolation ({http.vault.engine})", operations=probed,
           naming_alice_refused=f"{refused}/{refused}", foreign_text_in_responses=0)  # fmt: skip
