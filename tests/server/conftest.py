"""A real service on a loopback port: uvicorn in a thread over the engine's Vault, with keys."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

import memvault
from memvault.keys import ApiKeys
from memvault.server import create_app
from memvault.server.app import uvicorn_options


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """A running service: its URL, its vault, two users and a key for each, an admin key."""

    url: str
    vault: memvault.Vault
    alice: memvault.User
    bob: memvault.User
    admin_key: str
    alice_key: str
    bob_key: str

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


class ServerThread:
    """uvicorn serving `app` on 127.0.0.1:`port` in a daemon thread."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, **uvicorn_options())
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def serve(vault: memvault.Vault, **options: Any) -> Iterator[Served]:
    alice = vault.users.create("alice", "Alice")
    bob = vault.users.create("bob", "Bob")
    keys = ApiKeys(vault)
    admin_key = keys.create(admin=True, name="test admin")[1]
    alice_key = keys.create(alice.id)[1]
    bob_key = keys.create(bob.id)[1]
    with ServerThread(create_app(vault, **options)) as server:
        yield Served(f"http://127.0.0.1:{server.port}", vault, alice, bob, admin_key, alice_key,
                     bob_key)  # fmt: skip


@pytest.fixture
def served(vault: memvault.Vault) -> Iterator[Served]:
    """The service over each engine in turn (SQLite, pg15, pg18)."""
    yield from serve(vault)


@pytest.fixture
def served_sqlite(sqlite_vault: memvault.Vault) -> Iterator[Served]:
    """The service over a SQLite file (for tests whose subject is not the engine)."""
    yield from serve(sqlite_vault)
