"""`MemvaultStore` beyond the contract: whose items they are (the owner rule), items as
memvault memories, memvault's own embedder, a batch is one transaction, bad filters, random
namespaces and filters against langgraph's `InMemoryStore` as an oracle, and a real
`StateGraph` remembering across threads with `MemvaultSaver`; on every engine."""

from __future__ import annotations

import asyncio
import datetime
import operator
import time
import uuid
from typing import Annotated, Any, TypedDict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import memvault
from memvault.embed import HashingEmbedder
from memvault.errors import InvalidInput
from tests.langgraph import store_contract as contract


def _store(vault: memvault.Vault, user_id: str | None, **options: Any) -> Any:
    from memvault.langgraph import MemvaultStore

    return MemvaultStore(vault, user_id=user_id, **options)


# -- the owner --------------------------------------------------------------------------------


def test_items_belong_to_the_store_owner_and_no_one_else(vault: memvault.Vault) -> None:
    alice, bob = vault.users.ensure("alice").id, vault.users.ensure("bob").id
    with _store(vault, alice) as mine, _store(vault, bob) as theirs, _store(vault, None) as base:
        mine.put(("memories", "prefs"), "drink", {"text": "tea"})
        theirs.put(("memories", "prefs"), "drink", {"text": "coffee"})
        assert mine.get(("memories", "prefs"), "drink").value == {"text": "tea"}
        assert theirs.get(("memories", "prefs"), "drink").value == {"text": "coffee"}
        assert base.get(("memories", "prefs"), "drink") is None
        assert base.search(()) == [] and base.list_namespaces() == []
        theirs.delete(("memories", "prefs"), "drink")
        assert mine.get(("memories", "prefs"), "drink").value == {"text": "tea"}
        base.put(("shared",), "k", {"v": 1})
        assert mine.list_namespaces() == [("memories", "prefs")]
    # The items are alice's memories: her export holds them, her erasure takes them.
    (memory,) = vault.memories.list(alice, key_prefix="langgraph/")
    assert memory.key == "langgraph/memories.prefs..drink"
    assert memory.metadata == {"text": "tea"} and memory.user_id == alice
    assert any(m["key"] == memory.key for m in vault.export_user(alice)["memories"])
    vault.erase_user(alice)
    assert vault.memories.list(None, key_prefix="langgraph/")[0].metadata == {"v": 1}


def test_the_owner_must_be_a_user_id(vault: memvault.Vault) -> None:
    with pytest.raises(InvalidInput):
        _store(vault, "not an id")


def test_the_store_leaves_other_memories_of_the_owner_alone(vault: memvault.Vault) -> None:
    alice = vault.users.ensure("alice").id
    vault.memories.add(alice, "fact", "alice likes tea")
    vault.memories.put(alice, "notes/1", "note", "a keyed memory of another adapter")
    with _store(vault, alice) as store:
        assert store.search(()) == [] and store.list_namespaces() == []
        store.put(("n",), "k", {"v": 1})
        assert len(store.search(())) == 1
    assert vault.memories.count(alice) == 3


def test_an_update_is_recorded_in_the_memory_history(vault: memvault.Vault) -> None:
    alice = vault.users.ensure("alice").id
    with _store(vault, alice) as store:
        store.put(("h",), "k", {"v": 1})
        store.put(("h",), "k", {"v": 2})
        memory = vault.memories.by_key(alice, "langgraph/h..k")
        store.delete(("h",), "k")
    ops = [change.op for change in vault.memories.history(memory.id)]
    assert ops == ["create", "update", "delete"]


def test_the_sweeper_deletes_expired_items_for_good(vault: memvault.Vault) -> None:
    alice = vault.users.ensure("alice").id
    with _store(vault, alice, ttl={"sweep_interval_minutes": 1}) as store:
        store.put(("t",), "brief", {"v": 1}, ttl=1 / 60)
        store.put(("t",), "kept", {"v": 2})
        store.start_ttl_sweeper(0.5 / 60)

        def stored() -> set[str | None]:
            return {m.key for m in vault.memories.list(alice, include_expired=True,
                                                       key_prefix="langgraph/")}  # fmt: skip

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(stored()) > 1:
            time.sleep(0.3)
        assert stored() == {"langgraph/t..kept"}  # gone from the database, not only hidden
        assert store.stop_ttl_sweeper(timeout=10)


def test_a_ttl_that_is_not_a_positive_number_is_refused_as_written(vault: memvault.Vault) -> None:
    alice = vault.users.ensure("alice").id
    with _store(vault, alice) as store:
        for bad in (-5, 0, float("nan"), float("inf"), "5", True):
            with pytest.raises(InvalidInput) as caught:
                store.put(("t",), "k", {"v": 1}, ttl=bad)
            assert str(caught.value) == (
                f"invalid ttl={bad!r}: a TTL in minutes is a number greater than 0, or None"
            )
        assert store.get(("t",), "k") is None
        store.put(("t",), "k", {"v": 1}, ttl=None)
    with pytest.raises(InvalidInput, match=r"ttl\.default_ttl=-1:"):
        _store(vault, alice, ttl={"default_ttl": -1})


# -- batches ----------------------------------------------------------------------------------


def test_a_batch_is_one_transaction(vault: memvault.Vault) -> None:
    from langgraph.store.base import PutOp

    alice = vault.users.ensure("alice").id
    with _store(vault, alice) as store:
        store.put(("b",), "kept", {"v": 0})
        with pytest.raises(InvalidInput):
            store.batch([PutOp(("b",), "new", {"v": 1}), PutOp(("b",), "kept", None),
                         PutOp(("b",), "x" * 1200, {"v": 2})])  # fmt: skip
        assert store.get(("b",), "kept").value == {"v": 0}
        assert store.get(("b",), "new") is None


def test_filters_memvault_cannot_express_are_refused_by_name(vault: memvault.Vault) -> None:
    alice = vault.users.ensure("alice").id
    with _store(vault, alice) as store:
        store.put(("f",), "k", {"a b": 1})
        with pytest.raises(InvalidInput, match="a b"):
            store.search(("f",), filter={"a b": 1})
        with pytest.raises(InvalidInput, match=r"\$in"):
            store.search(("f",), filter={"n": {"$in": [1]}})
        # an array value: InMemoryStore matches equal arrays, memvault refuses it by the
        # caller's names (`filter`, `tags`), not its own (`filters`, `metadata.tags`)
        store.put(("f",), "t", {"tags": ["a", "b"]})
        for spec in ({"tags": ["a", "b"]}, {"tags": {"$ne": ["a"]}}, {"n": {"$eq": {"x": 1}}}):
            with pytest.raises(InvalidInput) as err:
                store.search(("f",), filter=spec)
            assert err.value.field == "filter" and "metadata" not in str(err.value)
            assert "array or object" in str(err.value)
        with pytest.raises(InvalidInput, match=r"filter=\{'tags': \['a', 'b'\]\}"):
            store.search(("f",), filter={"tags": ["a", "b"]})
        # refused by memvault's filter language itself: named as the caller wrote it too
        for query in (None, "tags"):
            with pytest.raises(InvalidInput) as err:
                store.search(("f",), query=query, filter={"tags": {"$gt": None}})
            assert str(err.value) == (
                "invalid filter={'tags': {'$gt': None}}: null only compares with eq / ne"
            )


# -- values and keys memvault refuses, named as the caller wrote them -------------------------


def test_datetimes_and_uuids_in_a_value_are_stored_as_their_iso_text(
    vault: memvault.Vault,
) -> None:
    when, uid = datetime.datetime(2026, 1, 1, 9, 30), uuid.UUID(int=5)
    value = {"when": when, "id": uid, "n": {"day": datetime.date(2026, 1, 2), "at": [when]}}
    iso = {"when": "2026-01-01T09:30:00", "id": "00000000-0000-0000-0000-000000000005",
           "n": {"day": "2026-01-02", "at": ["2026-01-01T09:30:00"]}}  # fmt: skip
    alice = vault.users.ensure("alice").id
    with _store(vault, alice) as plain:  # no index: the memory's text is the value as JSON
        plain.put(("d",), "k", value)
        assert plain.get(("d",), "k").value == iso
        assert (
            '"when": "2026-01-01T09:30:00"'
            in vault.memories.by_key(alice, "langgraph/d..k").content
        )
    with _store(vault, alice, index=contract.index_config(fields=["$", "when"])) as indexed:
        indexed.put(("d",), "i", value)  # the indexed texts hold the ISO text too
        assert indexed.get(("d",), "i").value == iso
        content = vault.memories.by_key(alice, "langgraph/d..i").content
        assert content.endswith("\n2026-01-01T09:30:00") and "2026-01-02" in content
        assert [h.key for h in indexed.search(("d",), filter={"id": iso["id"]})] == ["i", "k"]
        # a datetime or UUID in a filter is compared as the text it is stored as
        assert len(indexed.search(("d",), filter={"id": uid, "when": {"$gte": when}})) == 2
        assert indexed.search(("d",), filter={"when": {"$gt": when}}) == []


@pytest.mark.parametrize(
    ("value", "where"),
    [({"tags": {"a", "b"}}, "value['tags']"), ({"a": {"b": [1, {2}]}}, "value['a']['b'][1]"),
     ({"x": float("nan")}, "value['x']"), ({"ok": 1, 2: "int key"}, "value[2]")],
)  # fmt: skip
def test_a_value_memvault_cannot_store_is_invalid_input_naming_the_field(
    vault: memvault.Vault, value: dict[str, Any], where: str
) -> None:
    from langgraph.store.base import PutOp

    alice = vault.users.ensure("alice").id
    with _store(vault, alice, index=contract.index_config()) as store:
        with pytest.raises(InvalidInput) as err:
            store.batch([PutOp(("v", "w"), "good", {"text": "kept?"}),
                         PutOp(("v", "w"), "bad", value)])  # fmt: skip
        assert err.value.field == "value"
        message = str(err.value)
        assert where in message and "'bad'" in message and "('v', 'w')" in message
        assert store.get(("v", "w"), "good") is None  # nothing of the batch written


def test_a_key_too_long_is_named_as_the_caller_wrote_it(vault: memvault.Vault) -> None:
    alice = vault.users.ensure("alice").id
    with _store(vault, alice) as store:
        with pytest.raises(InvalidInput) as err:
            store.put(("x", "y"), "k" * 5000, {"v": 1})
        message = str(err.value)
        assert err.value.field == "key" and err.value.value == "k" * 5000
        assert "('x', 'y')" in message and "988" in message and "5003" in message
        assert "items[" not in message and "langgraph/" not in message
        with pytest.raises(InvalidInput, match=r"NUL.*\('x', 'y'\)"):
            store.put(("x", "y"), "a\x00b", {"v": 1})
        # the longest key that fits is stored; a key that cannot be stored names no item
        store.put(("x", "y"), "k" * (988 - 3), {"v": 2})
        assert store.get(("x", "y"), "k" * (988 - 3)).value == {"v": 2}
        assert store.get(("x", "y"), "k" * 5000) is None
        store.delete(("x", "y"), "k" * 5000)  # nothing to delete: no error, as LangGraph's


# -- memvault's own embedder ------------------------------------------------------------------


@pytest.mark.parametrize("embed", ["memvault", "embedder"])
def test_semantic_search_with_memvaults_embedder(vault_url: str, embed: str) -> None:
    embedder = HashingEmbedder(contract.DIMS)
    with memvault.open(vault_url, embedder=embedder) as vault:
        alice = vault.users.ensure("alice").id
        index: Any = {"dims": contract.DIMS, "fields": ["text"],
                      "embed": "memvault" if embed == "memvault" else embedder}  # fmt: skip
        with _store(vault, alice, index=index) as store:
            store.put(("m",), "tea", {"text": "green tea with jasmine"})
            store.put(("m",), "bike", {"text": "a red racing bicycle"})
            hits = store.search(("m",), query="racing bicycle")
            assert [h.key for h in hits] == ["bike", "tea"] and hits[0].score > 0.5
            memory = vault.memories.by_key(alice, "langgraph/m..bike")
        # memvault embedded the item itself, with its own model: vault.search finds it too.
        assert vault.embeddings.get(model=embedder.name, memory_id=memory.id) is not None
        found = vault.memories.search(alice, "racing bicycle", mode="vector")
        assert found[0].item.id == memory.id


def test_a_put_with_index_false_drops_the_items_vector(vault: memvault.Vault) -> None:
    alice = vault.users.ensure("alice").id
    with _store(vault, alice, index=contract.index_config()) as store:
        store.put(("v",), "k", {"text": "black coffee beans"})
        store.put(("v",), "other", {"text": "green tea"})
        assert store.search(("v",), query="black coffee beans")[0].key == "k"
        store.put(("v",), "k", {"text": "black coffee beans"}, index=False)
        hits = store.search(("v",), query="black coffee beans")
        # k has no vector any more: it follows the scored items, unscored
        assert [(h.key, h.score is None) for h in hits] == [("other", False), ("k", True)]
        memory = vault.memories.by_key(alice, "langgraph/v..k")
        assert vault.embeddings.get(model=store._model, memory_id=memory.id) is None


def test_query_search_pages_on_through_the_unscored_items(vault: memvault.Vault) -> None:
    alice = vault.users.ensure("alice").id
    with _store(vault, alice, index=contract.index_config()) as store:
        store.put(("p",), "scored", {"text": "black coffee"})
        for n in range(4):
            store.put(("p",), f"u{n}", {"text": f"note {n}"}, index=False)
        everything = [h.key for h in store.search(("p",), query="black coffee", limit=10)]
        assert everything[0] == "scored" and sorted(everything[1:]) == ["u0", "u1", "u2", "u3"]
        pages = [
            [h.key for h in store.search(("p",), query="black coffee", limit=2, offset=start)]
            for start in (0, 2, 4)
        ]
        assert pages == [everything[0:2], everything[2:4], everything[4:]]


def test_dims_must_match_memvaults_embedder(vault_url: str) -> None:
    vault = memvault.open(vault_url, embedder=HashingEmbedder(32))
    with vault, pytest.raises(InvalidInput, match="dims"):
        _store(vault, None, index={"dims": 64, "embed": "memvault"})


# -- random namespaces and filters against InMemoryStore --------------------------------------

LABELS = st.sampled_from(["a", "b", "ab", "c d", "ü"])
NAMESPACES = st.lists(LABELS, min_size=1, max_size=3).map(tuple)
VALUES = st.fixed_dictionaries(
    {"n": st.integers(-3, 3), "c": st.sampled_from(["x", "y"])},
    optional={"t": st.booleans(), "o": st.fixed_dictionaries({"p": st.integers(0, 2)})},
)
WRITES = st.lists(
    st.tuples(NAMESPACES, st.sampled_from(["k1", "k2", "k.3"]), st.none() | VALUES),
    min_size=1, max_size=25,
)  # fmt: skip
NUMBER_OPS = st.sampled_from(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"])
FILTERS = st.none() | st.fixed_dictionaries({}, optional={
    "n": st.integers(-3, 3) | st.dictionaries(NUMBER_OPS, st.integers(-3, 3), min_size=1),
    "c": st.sampled_from(["x", "y"])
    | st.dictionaries(st.sampled_from(["$eq", "$ne"]), st.sampled_from(["x", "y"]), min_size=1),
    "t": st.booleans() | st.fixed_dictionaries({"$ne": st.booleans()}),
    "o": st.fixed_dictionaries({"p": st.integers(0, 2)}),
})  # fmt: skip
PATHS = st.lists(LABELS | st.just("*"), min_size=1, max_size=3).map(tuple)


def _apply(store: Any, writes: list[Any], chunk: int) -> None:
    from langgraph.store.base import PutOp

    ops = [PutOp(ns, key, value) for ns, key, value in writes]
    for start in range(0, len(ops), chunk):
        store.batch(ops[start : start + chunk])


SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(
    writes=WRITES,
    chunk=st.integers(1, 5),
    prefix=st.lists(LABELS, max_size=2).map(tuple),
    flt=FILTERS,
    page=st.tuples(st.integers(1, 8), st.integers(0, 4)),
    spaces=st.fixed_dictionaries(
        {"prefix": st.none() | PATHS, "suffix": st.none() | PATHS,
         "max_depth": st.none() | st.integers(1, 3)}
    ),
)  # fmt: skip
def test_random_stores_answer_like_in_memory_store(
    vault: memvault.Vault,
    writes: list[Any],
    chunk: int,
    prefix: tuple[str, ...],
    flt: dict[str, Any] | None,
    page: tuple[int, int],
    spaces: dict[str, Any],
) -> None:
    from langgraph.store.memory import InMemoryStore

    limit, offset = page
    oracle_writes = InMemoryStore()
    _apply(oracle_writes, writes, chunk)
    oracle = InMemoryStore()  # without the namespaces InMemoryStore keeps after a delete
    for item in oracle_writes.search((), limit=1000):
        oracle.put(item.namespace, item.key, item.value)
    user = vault.users.ensure(f"oracle-{uuid.uuid4().hex}").id  # an empty store per example
    with _store(vault, user) as store:
        _apply(store, writes, chunk)
        for ns_key in contract.keys(oracle.search((), limit=1000)):
            assert store.get(*ns_key).value == oracle.get(*ns_key).value
        every = contract.keys(store.search(prefix, filter=flt, limit=1000))
        assert every == contract.keys(oracle.search(prefix, filter=flt, limit=1000))
        paged = store.search(prefix, filter=flt, limit=limit, offset=offset)
        expected = oracle.search(prefix, filter=flt, limit=limit, offset=offset)
        assert contract.keys(paged) <= every and len(paged) == len(expected)
        assert store.list_namespaces(**spaces) == oracle.list_namespaces(**spaces)
        assert store.list_namespaces(**spaces, limit=limit, offset=offset) == (
            oracle.list_namespaces(**spaces, limit=limit, offset=offset)
        )


# -- a real graph -----------------------------------------------------------------------------


class State(TypedDict):
    said: str
    recalled: Annotated[list[str], operator.add]


def _graph(saver: Any, store: Any) -> Any:
    from langgraph.graph import END, START, StateGraph
    from langgraph.runtime import Runtime

    def remember(state: State, runtime: Runtime[Any]) -> dict[str, Any]:
        assert runtime.store is not None
        if state["said"].startswith("remember "):
            fact = state["said"].removeprefix("remember ")
            n = len(runtime.store.search(("facts",), limit=100))
            runtime.store.put(("facts",), f"f{n}", {"text": fact, "n": n})
        return {}

    def recall(state: State, runtime: Runtime[Any]) -> dict[str, Any]:
        assert runtime.store is not None
        hits = runtime.store.search(("facts",), query=state["said"], limit=1)
        return {"recalled": [hits[0].value["text"]] if hits else []}

    builder = StateGraph(State)
    builder.add_node("remember", remember)
    builder.add_node("recall", recall)
    builder.add_edge(START, "remember")
    builder.add_edge("remember", "recall")
    builder.add_edge("recall", END)
    return builder.compile(checkpointer=saver, store=store)


def test_a_graph_remembers_across_threads_and_processes(vault: memvault.Vault,
                                                        vault_url: str) -> None:  # fmt: skip
    from memvault.langgraph import MemvaultSaver

    alice = vault.users.ensure("alice").id
    index: Any = contract.index_config()
    with MemvaultSaver(vault) as saver, _store(vault, alice, index=index) as store:
        graph = _graph(saver, store)
        for said in ["remember alice drinks green tea", "remember alice rides a red bicycle"]:
            graph.invoke({"said": said, "recalled": []}, {"configurable": {"thread_id": "t1"}})
        out = graph.invoke({"said": "what does alice ride? a bicycle", "recalled": []},
                           {"configurable": {"thread_id": "t2"}})  # fmt: skip
        assert out["recalled"] == ["alice rides a red bicycle"]
        assert len(list(saver.list({"configurable": {"thread_id": "t1"}}))) > 0

    async def later() -> list[str]:  # another vault on the same database, async
        with memvault.open(vault_url) as again:
            saver2, store2 = MemvaultSaver(again), _store(again, alice, index=index)
            async with saver2, store2:
                result = await _graph(saver2, store2).ainvoke(
                    {"said": "green tea", "recalled": []}, {"configurable": {"thread_id": "t1"}}
                )
                return list(result["recalled"])

    assert asyncio.run(later())[-1] == "alice drinks green tea"
