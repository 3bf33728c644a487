"""The core checks text and JSON itself (`memvault/validate.py`), whatever the entry point: every
domain write refuses a lone surrogate, a NUL, JSON nested deeper than `MAX_JSON_DEPTH`, NaN or
infinity, an integer beyond 64 bits and a value JSON cannot hold, with `InvalidInput` naming the
field, and stores nothing — on SQLite, PostgreSQL 15 and PostgreSQL 18."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import memvault
from memvault import InvalidInput, validate
from memvault.store.schema import metadata
from tests.conftest import ENGINES, engine_url


def nested(levels: int) -> dict[str, Any]:
    """A JSON object holding `levels` more objects, one inside the other."""
    value: dict[str, Any] = {}
    for _ in range(levels):
        value = {"a": value}
    return value


BAD_TEXT: dict[str, str] = {
    "lone surrogate": "a\ud800b",
    "NUL": "a\x00b",
}
BAD_JSON: dict[str, Any] = {
    "lone surrogate": {"k": ["a\udfffb"]},
    "lone surrogate key": {"\ud800": 1},
    "NUL": {"k": "a\x00b"},
    "NUL key": {"\x00": 1},
    "too deep": nested(validate.MAX_JSON_DEPTH),
    "NaN": {"n": math.nan},
    "infinity": {"n": [-math.inf]},
    "integer beyond 64 bits": {"n": 2**64},
    "not serialisable": {"n": object()},
    "a set": {"n": {1, 2}},
    "key not text": {1: "one"},
}


@dataclass
class Ctx:
    """What the write entry points write into: one of each parent record."""

    vault: memvault.Vault
    user: str
    session: str
    message: str
    memory: str
    pattern: str
    request: str
    wave: str
    subtask: str


Call = Callable[[Ctx, Any], object]

# (entry point, field, call with the bad value in that field)
TEXT_WRITES: list[tuple[str, str, Call]] = [
    ("users.create", "handle", lambda c, x: c.vault.users.create(x)),
    ("users.create", "display_name", lambda c, x: c.vault.users.create("h2", x)),
    ("users.update", "display_name", lambda c, x: c.vault.users.update(c.user, display_name=x)),
    ("projects.create", "name", lambda c, x: c.vault.projects.create(x)),
    ("projects.create", "path", lambda c, x: c.vault.projects.create("p", path=x)),
    ("sessions.create", "title", lambda c, x: c.vault.sessions.create(c.user, title=x)),
    ("sessions.create", "key",
     lambda c, x: c.vault.sessions.create(c.user, key=x)),
    ("sessions.update", "title", lambda c, x: c.vault.sessions.update(c.session, title=x)),
    ("messages.append", "content", lambda c, x: c.vault.messages.append(c.session, "user", x)),
    ("messages.append", "emotion",
     lambda c, x: c.vault.messages.append(c.session, "user", "hi", emotion=x)),
    ("messages.edit", "content", lambda c, x: c.vault.messages.edit(c.message, x)),
    ("memories.add", "content", lambda c, x: c.vault.memories.add(c.user, "fact", x)),
    ("memories.add", "context",
     lambda c, x: c.vault.memories.add(c.user, "fact", "m2", context=x)),
    ("memories.update", "content", lambda c, x: c.vault.memories.update(c.memory, content=x)),
    ("memories.update", "context", lambda c, x: c.vault.memories.update(c.memory, context=x)),
    ("memories.update", "reason",
     lambda c, x: c.vault.memories.update(c.memory, content="new", reason=x)),
    ("patterns.add", "intent", lambda c, x: c.vault.patterns.add(c.user, x, "t", "r")),
    ("patterns.add", "trigger_context", lambda c, x: c.vault.patterns.add(c.user, "i", x, "r")),
    ("patterns.add", "response_text", lambda c, x: c.vault.patterns.add(c.user, "i", "t", x)),
    ("patterns.update", "response_text",
     lambda c, x: c.vault.patterns.update(c.pattern, user_id=c.user, response_text=x)),
    ("emotions.record", "emotion", lambda c, x: c.vault.emotions.record(c.user, x, 0.5)),
    ("emotions.record", "trigger",
     lambda c, x: c.vault.emotions.record(c.user, "joy", 0.5, trigger=x)),
    ("emotions.record", "context",
     lambda c, x: c.vault.emotions.record(c.user, "joy", 0.5, context=x)),
    ("emotions.record_many", "trigger",
     lambda c, x: c.vault.emotions.record_many(
         c.user, [{"emotion": "joy", "intensity": 0.5}, {"emotion": "joy", "intensity": 0.5,
                                                          "trigger": x}])),
    ("traits.set", "name", lambda c, x: c.vault.traits.set(c.user, x, 0.5)),
    ("traits.set", "agent", lambda c, x: c.vault.traits.set(c.user, "warmth", 0.5, agent=x)),
    ("traits.set", "reason", lambda c, x: c.vault.traits.set(c.user, "warmth", 0.5, reason=x)),
    ("traits.adjust", "name", lambda c, x: c.vault.traits.adjust(c.user, x, 0.1)),
    ("profiles.add_interests", "interests",
     lambda c, x: c.vault.profiles.add_interests(c.user, "chess", x)),
    ("profiles.add_dislikes", "dislikes", lambda c, x: c.vault.profiles.add_dislikes(c.user, x)),
    ("profiles.set_voice", "voice.voice", lambda c, x: c.vault.profiles.set_voice(c.user, voice=x)),
    ("profiles.set_personality", "levels",
     lambda c, x: c.vault.profiles.set_personality(c.user, {x: 0.5})),
    ("actions.record", "tool_name", lambda c, x: c.vault.actions.record(x, user_id=c.user)),
    ("actions.record", "input",
     lambda c, x: c.vault.actions.record("Bash", user_id=c.user, input=x)),
    ("actions.record", "file_paths",
     lambda c, x: c.vault.actions.record("Bash", user_id=c.user, file_paths=["ok", x])),
    ("routing.update", "tool_name",
     lambda c, x: c.vault.routing.update("read a file", x, True, user_id=c.user)),
    ("tasks.create_request", "prompt",
     lambda c, x: c.vault.tasks.create_request(x, user_id=c.user)),
    ("tasks.create_request", "prompt_type",
     lambda c, x: c.vault.tasks.create_request("p", user_id=c.user, prompt_type=x)),
    ("tasks.add_wave", "name", lambda c, x: c.vault.tasks.add_wave(c.request, user_id=c.user,
                                                                    name=x)),
    ("tasks.add_subtask", "description",
     lambda c, x: c.vault.tasks.add_subtask(c.wave, x, user_id=c.user)),
    ("tasks.add_subtask", "agent_type",
     lambda c, x: c.vault.tasks.add_subtask(c.wave, "d", user_id=c.user, agent_type=x)),
    ("tasks.add_subtask", "agent_id",
     lambda c, x: c.vault.tasks.add_subtask(c.wave, "d", user_id=c.user, agent_id=x)),
    ("agents.send", "from_agent", lambda c, x: c.vault.agents.send(x, topic="t", user_id=c.user)),
    ("agents.send", "to_agent",
     lambda c, x: c.vault.agents.send("a", to_agent=x, user_id=c.user)),
    ("agents.send", "topic", lambda c, x: c.vault.agents.send("a", topic=x, user_id=c.user)),
    ("agents.send", "message_type",
     lambda c, x: c.vault.agents.send("a", topic="t", message_type=x, user_id=c.user)),
    ("agents.subscribe", "agent_id", lambda c, x: c.vault.agents.subscribe(x, "t",
                                                                          user_id=c.user)),
    ("agents.subscribe", "topic", lambda c, x: c.vault.agents.subscribe("a", x, user_id=c.user)),
]  # fmt: skip

JSON_WRITES: list[tuple[str, str, Call]] = [
    ("users.create", "profile", lambda c, x: c.vault.users.create("h2", profile=x)),
    ("users.update", "profile", lambda c, x: c.vault.users.update(c.user, profile=x)),
    ("projects.create", "metadata", lambda c, x: c.vault.projects.create("p", metadata=x)),
    ("sessions.create", "metadata", lambda c, x: c.vault.sessions.create(c.user, metadata=x)),
    ("sessions.update", "metadata", lambda c, x: c.vault.sessions.update(c.session, metadata=x)),
    ("messages.append", "metadata",
     lambda c, x: c.vault.messages.append(c.session, "user", "hi", metadata=x)),
    ("messages.edit", "metadata", lambda c, x: c.vault.messages.edit(c.message, "e", metadata=x)),
    ("memories.add", "metadata",
     lambda c, x: c.vault.memories.add(c.user, "fact", "m2", metadata=x)),
    ("memories.update", "metadata", lambda c, x: c.vault.memories.update(c.memory, metadata=x)),
    ("patterns.add", "metadata",
     lambda c, x: c.vault.patterns.add(c.user, "i", "t", "r", metadata=x)),
    ("patterns.update", "metadata",
     lambda c, x: c.vault.patterns.update(c.pattern, user_id=c.user, metadata=x)),
    ("emotions.record", "metadata",
     lambda c, x: c.vault.emotions.record(c.user, "joy", 0.5, metadata=x)),
    ("actions.record", "metadata",
     lambda c, x: c.vault.actions.record("Bash", user_id=c.user, metadata=x)),
    ("tasks.create_request", "metadata",
     lambda c, x: c.vault.tasks.create_request("p", user_id=c.user, metadata=x)),
    ("tasks.set_status", "result",
     lambda c, x: c.vault.tasks.set_status(c.subtask, "completed", user_id=c.user, result=x)),
    ("agents.send", "payload",
     lambda c, x: c.vault.agents.send("a", topic="t", payload=x, user_id=c.user)),
]  # fmt: skip

CASES = [
    pytest.param(call, field, bad, id=f"{entry}.{field}-{name}")
    for entry, field, call in TEXT_WRITES
    for name, bad in BAD_TEXT.items()
] + [
    pytest.param(call, field, bad, id=f"{entry}.{field}-{name}")
    for entry, field, call in JSON_WRITES
    for name, bad in BAD_JSON.items()
]

# One bad value of each kind per entry point is enough to show the transaction goes on.
IN_TRANSACTION = [
    pytest.param(call, field, next(iter(bad.values())), id=f"{entry}.{field}")
    for writes, bad in ((TEXT_WRITES, BAD_TEXT), (JSON_WRITES, BAD_JSON))
    for entry, field, call in writes
]


@pytest.fixture(scope="module", params=ENGINES)
def ctx(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ctx]:
    """One vault per engine for the whole module (every test leaves it unchanged)."""
    tmp: Path = tmp_path_factory.mktemp("validation")
    pg = {} if request.param == "sqlite" else request.getfixturevalue("pg_databases")
    vault = memvault.open(engine_url(request.param, tmp, pg))
    user = vault.users.create("alice").id
    session = vault.sessions.create(user, title="s").id
    message = vault.messages.append(session, "user", "hello").id
    memory = vault.memories.add(user, "fact", "the sky is blue", embedding=False).id
    pattern = vault.patterns.add(user, "greet", "hello", "hi there").id
    req = vault.tasks.create_request("build it", user_id=user).id
    wave = vault.tasks.add_wave(req, user_id=user, name="w1").id
    subtask = vault.tasks.add_subtask(wave, "step one", user_id=user).id
    yield Ctx(vault, user, session, message, memory, pattern, req, wave, subtask)
    vault.close()


def snapshot(vault: memvault.Vault) -> dict[str, list[str]]:
    """Every row of every table, as text: equal snapshots mean nothing was written."""
    out = {}
    with vault.store.read() as tx:
        for table in metadata.sorted_tables:
            rows = tx.all(f"SELECT * FROM {table.name}")
            out[table.name] = sorted(repr(sorted(dict(r).items())) for r in rows)
    return out


@pytest.mark.parametrize(("call", "field", "bad"), CASES)
def test_every_write_refuses_what_no_engine_stores(
    ctx: Ctx, call: Call, field: str, bad: Any
) -> None:
    before = snapshot(ctx.vault)
    with pytest.raises(InvalidInput) as caught:
        call(ctx, bad)
    assert caught.value.field == field, caught.value
    assert snapshot(ctx.vault) == before


@pytest.mark.parametrize(("call", "field", "bad"), IN_TRANSACTION)
def test_inside_a_transaction_the_refusal_leaves_it_usable(
    ctx: Ctx, call: Call, field: str, bad: Any
) -> None:
    # A caller who catches the error inside `vault.transaction()` goes on and commits.
    before = snapshot(ctx.vault)
    with pytest.raises(RuntimeError), ctx.vault.transaction():
        with pytest.raises(InvalidInput):
            call(ctx, bad)
        ctx.vault.sessions.create(ctx.user, title="written, then rolled back")
        raise RuntimeError("leave the module's vault as it was")
    assert snapshot(ctx.vault) == before


def test_the_limits_hold_at_their_edge(sqlite_vault: memvault.Vault) -> None:
    user = sqlite_vault.users.create("alice")
    deepest = nested(validate.MAX_JSON_DEPTH - 1)  # the outer object is level 1
    good = {"big": 2**63 - 1, "small": -(2**63), "text": "é ✓ 🚀", "t": (1, 2)}
    for value, stored in ((deepest, deepest), (good, {**good, "t": [1, 2]})):
        memory = sqlite_vault.memories.add(user.id, "fact", repr(value)[:50], metadata=value,
                                           embedding=False)  # fmt: skip
        assert sqlite_vault.memories.get(memory.id).metadata == stored


def test_the_error_says_where_in_the_value(sqlite_vault: memvault.Vault) -> None:
    user = sqlite_vault.users.create("alice")
    with pytest.raises(InvalidInput, match=r"NaN.*at metadata\['a'\]\[1\]\['b'\]"):
        sqlite_vault.memories.add(user.id, "fact", "x", metadata={"a": [0, {"b": math.nan}]})
