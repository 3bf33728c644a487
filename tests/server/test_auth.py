"""Every endpoint but /health needs a valid, unrevoked key: 401 otherwise."""

from __future__ import annotations

import time

import pytest

import memvault
from memvault.keys import ApiKeys
from tests.server.conftest import Served, serve

PROTECTED = [
    ("GET", "/stats"),
    ("GET", "/api/stats"),
    ("GET", "/api/users"),
    ("GET", "/api/sessions"),
    ("POST", "/api/sessions"),
    ("GET", "/api/memories"),
    ("GET", "/api/search/memories?q=x"),
    ("GET", "/api/actions?limit=5"),
    ("POST", "/api/actions"),
    ("GET", "/api/routing/suggest?q=test"),
    ("GET", "/api/emotions"),
    ("GET", "/api/traits"),
    ("GET", "/api/patterns"),
    ("GET", "/api/requests"),
    ("GET", "/api/agent-subscriptions"),
    ("GET", "/api/imports"),
    ("GET", "/api/whoami"),
]


def test_health_is_open(served_sqlite: Served) -> None:
    with served_sqlite.client() as c:
        r = c.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "healthy"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Token mv_00000000_" + "a" * 43,
        "Bearer mv_00000000_" + "a" * 43,  # well-formed, unknown
        "Bearer not-a-key",
        "Bearer " + "x" * 5000,
    ],
)
def test_missing_malformed_or_unknown_keys_get_401(
    served_sqlite: Served, header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header}
    with served_sqlite.client() as c:
        for method, path in PROTECTED:
            r = c.request(method, path, headers=headers, json={})
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.headers["www-authenticate"] == "Bearer"
            assert r.json()["error"] == "unauthorized"


def test_a_revoked_key_gets_401_at_once(served_sqlite: Served) -> None:
    s = served_sqlite
    with s.client(s.alice_key) as c:
        assert c.get("/api/whoami").status_code == 200
        key_id = c.get("/api/whoami").json()["key_id"]
        assert c.delete(f"/api/keys/{key_id}").status_code == 200
        r = c.get("/api/whoami")
        assert r.status_code == 401 and r.json()["detail"] == "invalid or revoked API key"


def test_a_key_revoked_from_outside_the_server_gets_401_within_a_second(
    served_sqlite: Served,
) -> None:
    # The service trusts a checked key for 1 s (auth_cache_seconds) without a database read.
    s = served_sqlite
    keys = ApiKeys(s.vault)
    record, clear = keys.create(s.bob.id)
    with s.client(clear) as c:
        assert c.get("/api/sessions").status_code == 200
        keys.revoke(record.id)
        revoked_at = time.monotonic()
        while c.get("/api/sessions").status_code == 200:
            assert time.monotonic() - revoked_at < 1.5
            time.sleep(0.05)
        assert c.get("/api/sessions").status_code == 401


def test_without_the_cache_revocation_is_immediate(sqlite_vault: memvault.Vault) -> None:
    for s in serve(sqlite_vault, auth_cache_seconds=0):
        keys = ApiKeys(s.vault)
        record, clear = keys.create(s.bob.id)
        with s.client(clear) as c:
            assert c.get("/api/sessions").status_code == 200
            keys.revoke(record.id)
            assert c.get("/api/sessions").status_code == 401


def test_whoami_and_key_scopes(served_sqlite: Served) -> None:
    s = served_sqlite
    with s.client(s.alice_key) as c:
        me = c.get("/api/whoami").json()
        assert me["user_id"] == s.alice.id and me["admin"] is False
        assert c.post("/api/users", json={"handle": "carol"}).status_code == 403
        assert c.post("/api/keys", json={"admin": True}).status_code == 403
        assert c.get("/api/imports").status_code == 403
    with s.client(s.admin_key) as c:
        me = c.get("/api/whoami").json()
        assert me["admin"] is True and me["user_id"] is None
        made = c.post("/api/keys", json={"user_id": s.bob.id, "name": "ci"})
        assert made.status_code == 201
        new_key = made.json()["key"]
        assert made.json()["record"]["user_id"] == s.bob.id
        listed = c.get("/api/keys").text
        assert new_key not in listed and s.alice_key not in listed
    with s.client(new_key) as c:
        assert c.get("/api/whoami").json()["user_id"] == s.bob.id
