"""memvault transfer as a property: stores of random shapes go SQLite → PostgreSQL → SQLite.

A shape says how many users there are and how many rows each table gets (0 included), and
which table is the largest: the transfer copies the largest table on a second connection,
and which one that is changed whether it worked (emotion events first: their trigger
writes rollups whose foreign key to users stays in force during the load). Every store is
built through the public Vault API, transferred to PG15 and PG18 and back, and must come
back verified with the same checksums and the same export of every user.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import memvault
from memvault.migrate.transfer import checksum_store, transfer
from memvault.store.schema import metadata
from tests._servers import drop_database, fresh_database, in_ci

TABLES = ("messages", "memories", "emotion_events", "actions", "users")


@dataclass(frozen=True)
class Shape:
    users: int
    messages: int
    memories: int
    emotion_events: int
    actions: int
    patterns: int
    traits: int


@st.composite
def shapes(draw: st.DrawFn) -> Shape:
    counts = {
        "users": draw(st.integers(1, 4)),
        "messages": draw(st.integers(0, 12)),
        "memories": draw(st.integers(0, 8)),
        "emotion_events": draw(st.integers(0, 12)),
        "actions": draw(st.integers(0, 8)),
    }
    largest = draw(st.sampled_from(TABLES))
    counts[largest] = max(counts.values()) + draw(st.integers(1, 25))
    return Shape(**counts, patterns=draw(st.integers(0, 3)), traits=draw(st.integers(0, 2)))


def build(url: str, shape: Shape) -> list[str]:
    """The store of `shape`, through the public API; returns the user ids."""
    with memvault.open(url) as vault:
        users = [vault.users.ensure(f"user{u}", f"User {u}").id for u in range(shape.users)]
        sessions = [vault.sessions.create(u, title=f"chat of {u[-4:]}").id for u in users]
        for i in range(shape.messages):
            vault.messages.append(sessions[i % len(sessions)], ("user", "assistant")[i % 2],
                                  f"message {i}: café ☕ {i * 7}")  # fmt: skip
        for i in range(shape.memories):
            owner, session = users[i % len(users)], sessions[i % len(sessions)]
            vault.memories.add(owner, "fact", f"fact number {i}", confidence=(i % 10) / 10,
                               session_id=session)  # fmt: skip
        for k, user in enumerate(users):
            events = [
                {"emotion": ("joy", "calm", "anger")[i % 3], "intensity": (i % 9) / 8,
                 "trigger": f"t{i}", "session_id": sessions[k] if i % 2 else None}
                for i in range(k, shape.emotion_events, len(users))
            ]  # fmt: skip
            if events:
                vault.emotions.record_many(user, events)
        for i in range(shape.actions):
            owner, session = users[i % len(users)], sessions[i % len(sessions)]
            vault.actions.record(f"tool{i % 3}", user_id=owner, exit_code=i % 2,
                                 duration_ms=float(i), session_id=session)  # fmt: skip
        for i in range(shape.patterns):
            vault.patterns.add(users[i % len(users)], f"intent{i}", f"ctx {i}", f"reply {i}")
        for i in range(shape.traits):
            vault.traits.set(users[i % len(users)], f"trait{i}", 0.25 * (i + 1))
        return users


def exports(url: str, users: list[str]) -> list[dict[str, Any]]:
    with memvault.open(url) as vault:
        return [vault.export_user(u) for u in users]


@dataclass
class PgStore:
    """One database of one server with memvault's schema, made empty for each example."""

    base: str
    name: str
    url: str = ""

    def create(self) -> None:
        self.url = fresh_database(self.base, self.name)
        memvault.open(self.url).close()

    def empty(self) -> str:
        """Every table emptied (the schema stays, as a fresh store's would). A transfer that
        failed leaves its indexes and foreign keys dropped: then the database is made anew,
        so one failing example cannot make the next ones fail."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            unfinished = conn.execute(
                "SELECT count(*) FROM import_runs WHERE status <> 'completed'"
            ).fetchone()
            if not unfinished or not unfinished[0]:
                tables = ", ".join(t.name for t in metadata.sorted_tables)
                conn.execute(f"TRUNCATE {tables} CASCADE")
                return self.url
        self.create()
        return self.url


@pytest.fixture(scope="module", params=["pg15", "pg18"])
def pg_store(request: pytest.FixtureRequest, pg_servers: dict[str, str]) -> Iterator[PgStore]:
    server = str(request.param)
    if server not in pg_servers:
        if in_ci():
            pytest.fail(f"PostgreSQL server {server} is not available in CI")
        pytest.skip(f"PostgreSQL server {server} not available")
    store = PgStore(pg_servers[server], f"mv_shapes_{server}_{os.getpid()}")
    store.create()
    try:
        yield store
    finally:
        drop_database(store.base, store.name)


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite store with the schema, copied for each example (creating the schema
    runs every revision: seconds, the bulk of an example's time otherwise)."""
    path = tmp_path_factory.mktemp("template") / "empty.db"
    memvault.open(f"sqlite:///{path}").close()  # closing the last connection removes the WAL
    return path


ISSUE = Shape(users=2, messages=10, memories=4, emotion_events=40, actions=0, patterns=0,
              traits=0)  # fmt: skip


SLOW_OK = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


# Each example is two full transfers (~1-2 s, most of it fixed cost): few, small stores.
@settings(max_examples=6, deadline=None, suppress_health_check=SLOW_OK)
@example(ISSUE)
@example(Shape(users=30, messages=0, memories=0, emotion_events=5, actions=0, patterns=0,
               traits=0))  # fmt: skip
@given(shape=shapes())
def test_any_shape_goes_to_postgresql_and_back(
    pg_store: PgStore, sqlite_template: Path, shape: Shape
) -> None:
    pg = pg_store.empty()
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("src.db", "back.db"):
            shutil.copyfile(sqlite_template, Path(tmp) / name)
        src = f"sqlite:///{Path(tmp) / 'src.db'}"
        back = f"sqlite:///{Path(tmp) / 'back.db'}"
        users = build(src, shape)
        there = transfer(src, pg)
        assert there.ok, there.as_dict()
        home = transfer(pg, back)
        assert home.ok, home.as_dict()
        sums = checksum_store(src)
        assert checksum_store(pg) == sums
        assert checksum_store(back) == sums
        assert sums["emotion_events"][0] == shape.emotion_events
        assert exports(back, users) == exports(src, users)
