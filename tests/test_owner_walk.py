"""The owner rule, walked over every public method of every domain (see `memvault.scope`).

`CALLS` maps each method to a call naming user A's ids; the walk finds the methods by
introspection, so a method missing from the table fails `test_every_domain_method_is_walked`
(a new method is covered the day it is written). Each call is made as user B twice — on B's
scoped view (`vault.scoped(B)`, the owner bound by the view) and on the plain vault with
`user_id=B` — and must answer NotFound, or answer without any of A's rows; afterwards A's data
is exactly as before. Runs on SQLite, PostgreSQL 15 and 18.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

import memvault
from memvault import ANY, Forbidden, InvalidInput, NotFound
from memvault.clock import utcnow
from memvault.domain import Domain
from memvault.embed.base import HashingEmbedder
from memvault.scope import ADMIN_ONLY, DOMAINS, UNSCOPED_DOMAINS
from memvault.vault import DomainAttribute, Vault

MARK = "alicesecret"  # in every text of A's rows: no answer to B may contain it


@dataclass
class A:
    """User A's rows of every kind."""

    user: str
    project: str
    session: str
    child: str
    message: str
    memory: str
    event: str
    pattern: str
    action: str
    request: str
    wave: str
    subtask: str
    agent_message: str

    def ids(self) -> list[str]:
        return list(vars(self).values())


def make_a(vault: memvault.Vault) -> A:
    user = vault.users.create("alice").id
    project = vault.projects.create("shared-name", user_id=user).id
    session = vault.sessions.create(user, title=f"{MARK} plans", project_id=project,
                                    key="legacy-1").id  # fmt: skip
    child = vault.sessions.create(user, parent_id=session).id
    message = vault.messages.append(session, "user", f"my {MARK} zebra", emotion="joy").id
    memory = vault.memories.add(user, "fact", f"{MARK} zebra farm", session_id=session,
                                key="walk-key", ttl=timedelta(days=1)).id  # fmt: skip
    vault.memories.update(memory, content=f"{MARK} zebra ranch", reason="moved")
    vault.embeddings.put([1.0, 0.0, 0.0], model="walk-3", memory_id=memory)
    vault.embeddings.put([0.0, 1.0, 0.0], model="walk-3", message_id=message)
    event = vault.emotions.record(user, "joy", 0.7, trigger=MARK, session_id=session).id
    vault.traits.set(user, "warmth", 0.9, reason=MARK)
    pattern = vault.patterns.add(user, "greet", f"{MARK} zebra", f"hi {MARK}").id
    vault.patterns.record_use(pattern, True, user_id=user)
    action = vault.actions.record(f"{MARK}-tool", user_id=user, project_id=project,
                                  session_id=session, input=f"deploy {MARK}").id  # fmt: skip
    vault.routing.update("deploy zebra", f"{MARK}-tool", True, user_id=user)
    request = vault.tasks.create_request(f"{MARK} task", user_id=user, session_id=session).id
    wave = vault.tasks.add_wave(request, name=MARK).id
    subtask = vault.tasks.add_subtask(wave, f"{MARK} step").id
    agent_message = vault.agents.send("planner", to_agent="worker", topic="news",
                                      payload={"x": MARK}, user_id=user).id  # fmt: skip
    vault.agents.subscribe("worker", "news", user_id=user)
    return A(user, project, session, child, message, memory, event, pattern, action, request,
             wave, subtask, agent_message)  # fmt: skip


Call = Callable[[Any, A, dict[str, Any]], Any]
MISSING, CLEAN, ADMIN = "missing", "clean", "admin"


def _me(a: A, o: dict[str, Any]) -> str:
    """The user a user-subject method is called for: B on the plain vault, A on the view
    (which refuses it)."""
    return str(o.get("user_id", a.user))


# method → (what B must get, the call). MISSING: NotFound. CLEAN: NotFound or an answer with
# none of A's rows. ADMIN: not about one user's rows: Forbidden on a scoped view (the plain
# vault is a trusted caller there, not walked).
CALLS: dict[str, tuple[str, Call]] = {
    "users.create": (ADMIN, lambda v, a, o: v.users.create("someone")),
    "users.ensure": (ADMIN, lambda v, a, o: v.users.ensure("alice")),
    "users.get": (CLEAN, lambda v, a, o: v.users.get(_me(a, o))),
    "users.get_by_handle": (ADMIN, lambda v, a, o: v.users.get_by_handle("alice")),
    "users.list": (ADMIN, lambda v, a, o: v.users.list()),
    "users.resolve": (ADMIN, lambda v, a, o: v.users.resolve("alice")),
    "users.update": (CLEAN, lambda v, a, o: v.users.update(_me(a, o), display_name="B")),
    "projects.create": (CLEAN, lambda v, a, o: v.projects.create("b-project", **o)),
    "projects.ensure": (CLEAN, lambda v, a, o: v.projects.ensure("shared-name", **o)),
    "projects.find": (CLEAN, lambda v, a, o: v.projects.find("shared-name", **o)),
    "projects.get": (MISSING, lambda v, a, o: v.projects.get(a.project, **o)),
    "projects.list": (CLEAN, lambda v, a, o: v.projects.list(**o)),
    "sessions.by_key": (CLEAN, lambda v, a, o: v.sessions.by_key(
        key="legacy-1", **o)),
    "sessions.put": (CLEAN, lambda v, a, o: v.sessions.put(key="legacy-1", title="b", **o)),
    "sessions.create": (MISSING, lambda v, a, o: v.sessions.create(parent_id=a.session, **o)),
    "sessions.delete": (MISSING, lambda v, a, o: v.sessions.delete(a.child, **o)),
    "sessions.end": (MISSING, lambda v, a, o: v.sessions.end(a.session, **o)),
    "sessions.get": (MISSING, lambda v, a, o: v.sessions.get(a.session, **o)),
    "sessions.instance": (CLEAN, lambda v, a, o: v.sessions.instance(a.session, 0, **o)),
    "sessions.list": (CLEAN, lambda v, a, o: v.sessions.list(parent_id=a.session, **o)),
    "sessions.search": (CLEAN, lambda v, a, o: v.sessions.search(query=MARK, **o)),
    "sessions.update": (MISSING, lambda v, a, o: v.sessions.update(a.session, title="x", **o)),
    "messages.append": (MISSING, lambda v, a, o: v.messages.append(a.session, "user", "x", **o)),
    "messages.append_many": (MISSING, lambda v, a, o: v.messages.append_many(
        a.session, [{"role": "user", "content": "x"}], **o)),
    "messages.clear": (MISSING, lambda v, a, o: v.messages.clear(a.session, **o)),
    "messages.delete": (MISSING, lambda v, a, o: v.messages.delete(a.message, **o)),
    "messages.edit": (MISSING, lambda v, a, o: v.messages.edit(a.message, "x", **o)),
    "messages.get": (MISSING, lambda v, a, o: v.messages.get(a.message, **o)),
    "messages.last": (MISSING, lambda v, a, o: v.messages.last(a.session, **o)),
    "messages.list": (MISSING, lambda v, a, o: v.messages.list(a.session, **o)),
    "messages.search": (CLEAN, lambda v, a, o: v.messages.search(
        query=MARK, mode="text", session_id=a.session, **o)),
    "memories.add": (MISSING, lambda v, a, o: v.memories.add(
        kind="fact", content="x", session_id=a.session, **o)),
    "memories.by_key": (CLEAN, lambda v, a, o: v.memories.by_key(
        key="walk-key", refresh_ttl=True, track_access=True, **o)),
    "memories.delete_many": (CLEAN, lambda v, a, o: v.memories.delete_many(
        keys=["walk-key"], ids=[a.memory], **o)),
    "memories.extend": (MISSING, lambda v, a, o: v.memories.extend(
        a.memory, timedelta(days=9), **o)),
    "memories.purge_expired": (CLEAN, lambda v, a, o: v.memories.purge_expired(
        now=utcnow() + timedelta(days=30), **o)),
    "memories.put": (CLEAN, lambda v, a, o: v.memories.put(
        key="walk-key", kind="fact", content="x", **o)),
    "memories.put_many": (CLEAN, lambda v, a, o: v.memories.put_many(
        items=[{"key": "walk-key", "kind": "fact", "content": "y"}], **o)),
    "memories.count": (CLEAN, lambda v, a, o: v.memories.count(**o)),
    "memories.delete": (MISSING, lambda v, a, o: v.memories.delete(a.memory, **o)),
    "memories.get": (MISSING, lambda v, a, o: v.memories.get(a.memory, layered=True, **o)),
    "memories.history": (MISSING, lambda v, a, o: v.memories.history(a.memory, **o)),
    "memories.list": (CLEAN, lambda v, a, o: v.memories.list(layered=True, **o)),
    "memories.search": (CLEAN, lambda v, a, o: v.memories.search(
        query=MARK, mode="text", base=True, **o)),
    "memories.touch": (ADMIN, lambda v, a, o: v.memories.touch(None, [])),
    "memories.touch_if_free": (ADMIN, lambda v, a, o: v.memories.touch_if_free([])),
    "memories.update": (MISSING, lambda v, a, o: v.memories.update(a.memory, content="x", **o)),
    "emotions.current": (CLEAN, lambda v, a, o: v.emotions.current(session_id=a.session, **o)),
    "emotions.delete": (MISSING, lambda v, a, o: v.emotions.delete(a.event, **o)),
    "emotions.get": (MISSING, lambda v, a, o: v.emotions.get(a.event, **o)),
    "emotions.list": (CLEAN, lambda v, a, o: v.emotions.list(session_id=a.session, **o)),
    "emotions.patterns": (CLEAN, lambda v, a, o: v.emotions.patterns(**o)),
    "emotions.rebuild_rollups": (ADMIN, lambda v, a, o: v.emotions.rebuild_rollups()),
    "emotions.record": (MISSING, lambda v, a, o: v.emotions.record(
        emotion="joy", intensity=0.5, session_id=a.session, **o)),
    "emotions.record_many": (MISSING, lambda v, a, o: v.emotions.record_many(
        events=[{"emotion": "joy", "intensity": 0.5, "session_id": a.session}], **o)),
    "emotions.trajectory": (MISSING, lambda v, a, o: v.emotions.trajectory(a.session, **o)),
    "traits.adjust": (CLEAN, lambda v, a, o: v.traits.adjust(name="warmth", delta=0.1, **o)),
    "traits.get": (CLEAN, lambda v, a, o: v.traits.get(name="warmth", **o)),
    "traits.history": (CLEAN, lambda v, a, o: v.traits.history(**o)),
    "traits.list": (CLEAN, lambda v, a, o: v.traits.list(**o)),
    "traits.personality": (CLEAN, lambda v, a, o: v.traits.personality(**o)),
    "traits.set": (CLEAN, lambda v, a, o: v.traits.set(name="warmth", value=0.2, **o)),
    "profiles.add_dislikes": (CLEAN, lambda v, a, o: v.profiles.add_dislikes(_me(a, o), "x")),
    "profiles.add_interests": (CLEAN, lambda v, a, o: v.profiles.add_interests(_me(a, o), "x")),
    "profiles.get": (CLEAN, lambda v, a, o: v.profiles.get(_me(a, o))),
    "profiles.remove_dislikes": (CLEAN, lambda v, a, o: v.profiles.remove_dislikes(
        _me(a, o), "x")),
    "profiles.remove_interests": (CLEAN, lambda v, a, o: v.profiles.remove_interests(
        _me(a, o), "x")),
    "profiles.set_personality": (CLEAN, lambda v, a, o: v.profiles.set_personality(
        _me(a, o), {"calm": 0.5})),
    "profiles.set_voice": (CLEAN, lambda v, a, o: v.profiles.set_voice(_me(a, o), speed=1.0)),
    "profiles.usage": (CLEAN, lambda v, a, o: v.profiles.usage(_me(a, o))),
    "contexts.get": (MISSING, lambda v, a, o: v.contexts.get(a.session, **o)),
    "patterns.add": (CLEAN, lambda v, a, o: v.patterns.add(
        intent="greet", trigger_context="b zebra", response_text="hello", **o)),
    "patterns.best": (CLEAN, lambda v, a, o: v.patterns.best(text="zebra", **o)),
    "patterns.delete": (MISSING, lambda v, a, o: v.patterns.delete(a.pattern, **o)),
    "patterns.find": (CLEAN, lambda v, a, o: v.patterns.find(text="zebra", **o)),
    "patterns.get": (MISSING, lambda v, a, o: v.patterns.get(a.pattern, **o)),
    "patterns.record_use": (MISSING, lambda v, a, o: v.patterns.record_use(a.pattern, True, **o)),
    "patterns.update": (MISSING, lambda v, a, o: v.patterns.update(a.pattern, intent="x", **o)),
    "patterns.uses": (MISSING, lambda v, a, o: v.patterns.uses(a.pattern, **o)),
    "actions.get": (MISSING, lambda v, a, o: v.actions.get(a.action, **o)),
    "actions.list": (CLEAN, lambda v, a, o: v.actions.list(project_id=a.project, **o)),
    "actions.record": (MISSING, lambda v, a, o: v.actions.record(
        "tool", project_id=a.project, **o)),
    "actions.stats": (CLEAN, lambda v, a, o: v.actions.stats(**o)),
    "routing.scores": (CLEAN, lambda v, a, o: v.routing.scores(keyword="deploy", **o)),
    "routing.suggest": (CLEAN, lambda v, a, o: v.routing.suggest("deploy zebra", **o)),
    "routing.update": (CLEAN, lambda v, a, o: v.routing.update("deploy", "b-tool", True, **o)),
    "tasks.add_subtask": (MISSING, lambda v, a, o: v.tasks.add_subtask(a.wave, "x", **o)),
    "tasks.add_wave": (MISSING, lambda v, a, o: v.tasks.add_wave(a.request, **o)),
    "tasks.claim": (CLEAN, lambda v, a, o: v.tasks.claim("worker", task_list_id=a.wave, **o)),
    "tasks.create_request": (MISSING, lambda v, a, o: v.tasks.create_request(
        "x", session_id=a.session, **o)),
    "tasks.get_request": (MISSING, lambda v, a, o: v.tasks.get_request(a.request, **o)),
    "tasks.get_subtask": (MISSING, lambda v, a, o: v.tasks.get_subtask(a.subtask, **o)),
    "tasks.list_requests": (CLEAN, lambda v, a, o: v.tasks.list_requests(**o)),
    "tasks.overview": (CLEAN, lambda v, a, o: v.tasks.overview(**o)),
    "tasks.set_request_status": (MISSING, lambda v, a, o: v.tasks.set_request_status(
        a.request, "active", **o)),
    "tasks.set_status": (MISSING, lambda v, a, o: v.tasks.set_status(a.subtask, "running", **o)),
    "tasks.set_wave_status": (MISSING, lambda v, a, o: v.tasks.set_wave_status(
        a.wave, "running", **o)),
    "tasks.subtasks": (CLEAN, lambda v, a, o: v.tasks.subtasks(request_id=a.request, **o)),
    "tasks.waves": (MISSING, lambda v, a, o: v.tasks.waves(a.request, **o)),
    "agents.get": (MISSING, lambda v, a, o: v.agents.get(a.agent_message, **o)),
    "agents.inbox": (CLEAN, lambda v, a, o: v.agents.inbox("worker", **o)),
    "agents.mark_read": (MISSING, lambda v, a, o: v.agents.mark_read(
        "worker", [a.agent_message], **o)),
    "agents.recent": (CLEAN, lambda v, a, o: v.agents.recent(agent_id="worker", **o)),
    "agents.send": (MISSING, lambda v, a, o: v.agents.send(
        "planner", to_agent="worker", project_id=a.project, **o)),
    "agents.subscribe": (CLEAN, lambda v, a, o: v.agents.subscribe("worker", "news", **o)),
    "agents.subscriptions": (CLEAN, lambda v, a, o: v.agents.subscriptions(topic="news", **o)),
    "agents.unread": (CLEAN, lambda v, a, o: v.agents.unread("worker", **o)),
    "agents.unsubscribe": (CLEAN, lambda v, a, o: v.agents.unsubscribe("worker", "news", **o)),
    "search.ann_build": (ADMIN, lambda v, a, o: v.search.ann_build("walk-3")),
    "search.ann_folder": (ADMIN, lambda v, a, o: v.search.ann_folder()),
    "search.ann_wait": (ADMIN, lambda v, a, o: v.search.ann_wait()),
    "search.ann_index": (ADMIN, lambda v, a, o: v.search.ann_index("walk-3")),
    "search.build_approximate": (ADMIN, lambda v, a, o: v.search.build_approximate()),
    "search.embed": (ADMIN, lambda v, a, o: v.search.embed(["x"])),
    "search.embed_missing": (ADMIN, lambda v, a, o: v.search.embed_missing()),
    "search.embed_model": (ADMIN, lambda v, a, o: v.search.embed_model()),
    "search.memories": (CLEAN, lambda v, a, o: v.search.memories(
        query="zebra", mode="vector", query_vector=[1.0, 0.0, 0.0], model="walk-3", **o)),
    "search.messages": (CLEAN, lambda v, a, o: v.search.messages(
        query="zebra", mode="hybrid", query_vector=[0.0, 1.0, 0.0], model="walk-3",
        session_id=a.session, **o)),
    "search.missing": (ADMIN, lambda v, a, o: v.search.missing("memory", "walk-3")),
    "search.patterns": (CLEAN, lambda v, a, o: v.search.patterns(query="zebra", **o)),
    "search.reindex": (ADMIN, lambda v, a, o: v.search.reindex()),
    "search.sessions": (CLEAN, lambda v, a, o: v.search.sessions(query=MARK, **o)),
    "embeddings.delete": (CLEAN, lambda v, a, o: v.embeddings.delete(memory_id=a.memory, **o)),
    "embeddings.get": (CLEAN, lambda v, a, o: v.embeddings.get(
        model="walk-3", memory_id=a.memory, **o)),
    "embeddings.put": (MISSING, lambda v, a, o: v.embeddings.put(
        [0.5, 0.5, 0.0], model="walk-3", memory_id=a.memory, **o)),
    "embeddings.put_in": (ADMIN, lambda v, a, o: v.embeddings.put_in(
        None, "memory", a.memory, None, [1.0], "walk-3")),
}  # fmt: skip


def public_methods(vault: memvault.Vault) -> dict[str, Callable[..., Any]]:
    """Every public method of every domain of `vault`, as "domain.method"."""
    out = {}
    for name in DOMAINS:
        domain = getattr(vault, name)
        for attr, value in inspect.getmembers(domain, inspect.ismethod):
            if not attr.startswith("_"):
                out[f"{name}.{attr}"] = value
    return out


@pytest.fixture
def walk_vault(vault_url: str) -> Iterator[memvault.Vault]:
    v = memvault.open(vault_url, embedder=HashingEmbedder(16), embed_memories=False)
    try:
        yield v
    finally:
        v.close()


def test_every_domain_is_scoped_or_declared_unscoped(sqlite_vault: memvault.Vault) -> None:
    # Domain attributes are made on first use (memvault.vault.DomainAttribute), so that the
    # hook process imports two domains, not fifteen: read them on the class, then use each.
    lazy = {name for name, value in vars(Vault).items() if isinstance(value, DomainAttribute)}
    assert not lazy & set(vars(sqlite_vault))  # none made before its first use
    for name in lazy:
        assert isinstance(getattr(sqlite_vault, name), Domain), name
        assert getattr(sqlite_vault, name) is getattr(sqlite_vault, name)  # made once
    on_vault = {name for name, value in vars(sqlite_vault).items() if isinstance(value, Domain)}
    assert on_vault == lazy
    on_vault |= {"search", "embeddings"}  # made on first use (they load numpy)
    assert on_vault == set(DOMAINS) | UNSCOPED_DOMAINS
    scoped = sqlite_vault.scoped(sqlite_vault.users.create("b").id)
    with pytest.raises(AttributeError):
        scoped.retention  # noqa: B018 - the attribute itself is refused


def test_every_domain_method_is_walked(sqlite_vault: memvault.Vault) -> None:
    methods = set(public_methods(sqlite_vault))
    assert sorted(methods - set(CALLS)) == [], "add these methods to CALLS"
    assert sorted(set(CALLS) - methods) == [], "these methods are gone: drop them from CALLS"


def test_owner_convention(sqlite_vault: memvault.Vault) -> None:
    """The owner is always `user_id`; a by-id method takes it keyword-only, defaulting to ANY."""
    for qualname, method in public_methods(sqlite_vault).items():
        params = inspect.signature(method).parameters
        assert "owner" not in params, qualname
        owner = params.get("user_id")
        if owner is None or CALLS[qualname][0] == ADMIN:
            continue
        first = next(iter(params))
        if first != "user_id" and owner.kind is not inspect.Parameter.KEYWORD_ONLY:
            pytest.fail(f"{qualname}: user_id is first or keyword-only")
        if first.endswith("_id") and first != "user_id" and first != "agent_id":
            assert owner.default is ANY, f"{qualname}: a by-id method defaults to ANY"


def _mentions_a(result: Any, a: A) -> list[str]:
    text = repr(result)
    return [x for x in [MARK, *a.ids()] if x in text]


@pytest.mark.parametrize("mode", ["scoped", "plain"])
def test_another_owner_reaches_nothing_of_a(walk_vault: memvault.Vault, mode: str) -> None:
    vault = walk_vault
    a = make_a(vault)
    b = vault.users.create("bob").id
    before = vault.export_user(a.user)
    view: Any = vault.scoped(b) if mode == "scoped" else vault
    owner: dict[str, Any] = {} if mode == "scoped" else {"user_id": b}
    failures = []
    for qualname, method in sorted(public_methods(vault).items()):
        expect, call = CALLS[qualname]
        if expect == ADMIN:
            if mode == "scoped":
                with pytest.raises(Forbidden):
                    call(view, a, owner)
            continue
        if "user_id" not in inspect.signature(method).parameters and expect != CLEAN:
            failures.append(f"{qualname}: no user_id parameter")
            continue
        try:
            result = call(view, a, owner)
        except NotFound:
            continue
        if expect == MISSING:
            failures.append(f"{qualname}: answered {result!r} instead of NotFound")
        elif leaked := _mentions_a(result, a):
            failures.append(f"{qualname}: returned A's {leaked}: {result!r}")
    assert failures == [], "\n".join(failures)
    after = vault.export_user(a.user)
    assert after == before, "B's calls changed A's rows"
    assert vault.embeddings.get(model="walk-3", memory_id=a.memory) is not None


def test_a_scoped_view_refuses_another_owner_and_any(sqlite_vault: memvault.Vault) -> None:
    """Naming an owner on a view: the view's own is fine, another is NotFound, ANY and the
    base layer (None) are Forbidden — before the method runs, for every method."""
    vault = sqlite_vault
    a = vault.users.create("a").id
    b = vault.users.create("b").id
    view: Any = vault.scoped(b)
    for qualname in public_methods(vault):
        if CALLS[qualname][0] == ADMIN:
            continue
        domain, attr = qualname.split(".")
        method = getattr(getattr(view, domain), attr)
        with pytest.raises(NotFound):
            method(user_id=a)
        with pytest.raises(Forbidden):
            method(user_id=ANY)
        with pytest.raises(Forbidden):
            method(user_id=None)
    assert view.memories.add(b, "fact", "mine").user_id == b  # naming itself: as the vault
    assert [m.user_id for m in view.memories.list(b)] == [b]
    assert {q for q, (kind, _) in CALLS.items() if kind == ADMIN} >= ADMIN_ONLY


def test_a_view_is_never_the_teacher(sqlite_vault: memvault.Vault) -> None:
    """A newcomer rewrote and deleted a base pattern through `scoped(alice)` with
    `teacher=True`: a user's call never writes the shared base layer."""
    vault = sqlite_vault
    alice = vault.users.create("alice").id
    base = vault.patterns.add(None, "greet", "hello", "Hi!", teacher=True)
    view: Any = vault.scoped(alice)
    with pytest.raises(Forbidden):
        view.patterns.update(base.id, response_text="evil", teacher=True)
    with pytest.raises(Forbidden):
        view.patterns.delete(base.id, teacher=True)
    with pytest.raises(Forbidden):
        vault.patterns.update(base.id, user_id=alice, response_text="evil", teacher=True)
    with pytest.raises(Forbidden):
        vault.patterns.delete(base.id, user_id=alice, teacher=True)
    assert vault.patterns.get(base.id).response_text == "Hi!"
    assert vault.patterns.update(base.id, response_text="Hello!", teacher=True).user_id is None


def test_a_view_offers_no_door_to_the_full_vault(sqlite_vault: memvault.Vault) -> None:
    vault = sqlite_vault
    alice = vault.users.create("alice").id
    bob = vault.users.create("bob").id
    secret = vault.memories.add(bob, "fact", "bob's secret", embedding=False)
    view: Any = vault.scoped(alice)
    assert not hasattr(view, "vault")
    with pytest.raises(AttributeError):
        _ = view.memories._domain
    with pytest.raises(NotFound):
        view.memories.get(secret.id)


def test_a_view_takes_the_arguments_after_the_owner(sqlite_vault: memvault.Vault) -> None:
    """`view.memories.add("fact", "…")` once took "fact" for the owner ('user fact not
    found'): the view's signature has no owner, and positional arguments shift."""
    vault = sqlite_vault
    alice = vault.users.create("alice").id
    bob = vault.users.create("bob").id
    view: Any = vault.scoped(alice)
    memory = view.memories.add("fact", "alice likes green tea", embedding=False)
    assert memory.user_id == alice
    assert [h.item.id for h in view.memories.search("tea", mode="text")] == [memory.id]
    assert view.emotions.record("joy", 0.5).user_id == alice
    assert view.memories.add(alice, "fact", "named owner", embedding=False).user_id == alice
    with pytest.raises(NotFound):
        view.memories.add(bob, "fact", "someone else's", embedding=False)
    assert view.memories.add("fact", "by keyword", user_id=alice, embedding=False).user_id == alice
    assert "user_id" not in inspect.signature(view.memories.add).parameters


def test_integers_beyond_their_column_are_invalid_input(sqlite_vault: memvault.Vault) -> None:
    vault = sqlite_vault
    alice = vault.users.create("alice").id
    session = vault.sessions.create(alice)
    with pytest.raises(InvalidInput, match="priority"):
        vault.agents.send("a", to_agent="b", user_id=alice, priority=2**40)
    with pytest.raises(InvalidInput, match="exit_code"):
        vault.actions.record("bash", user_id=alice, exit_code=2**31)
    with pytest.raises(InvalidInput, match="after_seq"):
        vault.messages.list(session.id, after_seq=2**70)
