"""API keys in the core and on the command line: shown once, stored hashed, revocable."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import memvault
from memvault.cli import app
from memvault.errors import InvalidInput, NotFound
from memvault.keys import ApiKeys, hash_key, looks_like_key


def test_create_returns_the_key_once_and_stores_only_its_hash(vault: memvault.Vault) -> None:
    alice = vault.users.create("alice")
    keys = ApiKeys(vault)
    record, clear = keys.create(alice.id, name="laptop")
    assert looks_like_key(clear) and clear.startswith(f"mv_{record.prefix}_")
    assert record.scope == "user" and record.user_id == alice.id and record.active
    with vault.store.read() as tx:
        rows = tx.all("SELECT * FROM api_keys")
    assert len(rows) == 1
    stored = {k: rows[0][k] for k in rows[0].keys()}  # noqa: SIM118  (a Row, not a dict)
    assert stored["key_hash"] == hashlib.sha256(clear.encode()).hexdigest()
    assert all(clear not in str(value) for value in stored.values())
    assert all(clear not in repr(k) for k in keys.list())


def test_authenticate_matches_only_the_exact_active_key(vault: memvault.Vault) -> None:
    alice = vault.users.create("alice")
    keys = ApiKeys(vault)
    record, clear = keys.create(alice.id)
    found = keys.authenticate(clear)
    assert found is not None and found.id == record.id and found.last_used_at is not None
    assert keys.authenticate(clear[:-1] + ("A" if clear[-1] != "A" else "B")) is None
    assert keys.authenticate("") is None
    assert keys.authenticate("Bearer " + clear) is None
    assert keys.authenticate("mv_zzzzzzzz_" + "x" * 43) is None
    keys.revoke(record.id)
    assert keys.authenticate(clear) is None
    assert keys.revoke(record.id).revoked_at is not None  # idempotent


def test_admin_keys_have_no_user_and_user_keys_need_one(vault: memvault.Vault) -> None:
    keys = ApiKeys(vault)
    record, clear = keys.create(admin=True)
    assert record.is_admin and record.user_id is None
    assert keys.authenticate(clear) is not None
    with pytest.raises(InvalidInput) as err:
        keys.create(None)
    assert err.value.field == "user_id"
    with pytest.raises(NotFound):
        keys.create(memvault.new_id())


def test_revoke_scoped_to_the_owner(vault: memvault.Vault) -> None:
    alice, bob = vault.users.create("alice"), vault.users.create("bob")
    keys = ApiKeys(vault)
    record, _ = keys.create(alice.id)
    with pytest.raises(NotFound):
        keys.revoke(record.id, user_id=bob.id)
    assert keys.list(user_id=bob.id) == []


def test_hash_is_sha256_hex() -> None:
    assert hash_key("mv_x") == hashlib.sha256(b"mv_x").hexdigest()


def test_cli_create_list_revoke(tmp_path: os.PathLike[str]) -> None:
    url = f"sqlite:///{tmp_path}/v.db"
    with memvault.open(url) as vault:
        vault.users.create("alice")
    runner = CliRunner()
    created = runner.invoke(app, ["keys", "create", "--user", "alice", "--db", url, "--json"])
    assert created.exit_code == 0, created.output
    key = created.output.split('"key": "')[1].split('"')[0]
    assert looks_like_key(key)
    listed = runner.invoke(app, ["keys", "list", "--db", url, "--json"])
    assert listed.exit_code == 0 and key not in listed.output and '"scope": "user"' in listed.output
    key_id = listed.output.split('"id": "')[1].split('"')[0]
    assert runner.invoke(app, ["keys", "revoke", key_id, "--db", url]).exit_code == 0
    with memvault.open(url) as vault:
        assert ApiKeys(vault).authenticate(key) is None
    both = runner.invoke(app, ["keys", "create", "--db", url])
    assert both.exit_code != 0 and "exactly one" in both.output


def test_serve_refuses_a_public_address_without_a_key(tmp_path: os.PathLike[str]) -> None:
    url = f"sqlite:///{tmp_path}/v.db"
    memvault.open(url).close()
    # A real process: had the refusal failed, it would bind; the timeout would catch that.
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "memvault"), "serve", "--host", "0.0.0.0", "--port", "1",
         "--db", url],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "refusing to listen on 0.0.0.0" in proc.stderr
    assert "memvault keys create" in proc.stderr
