"""The contract of a LangGraph `BaseStore`, written from its documentation and from langgraph's
own stores (langgraph/store/base, store/memory, langgraph-checkpoint-sqlite's SqliteStore).

No conformance package ships for stores, so this suite is ours; it is run unchanged against
langgraph's `InMemoryStore` (and, for TTL, which InMemoryStore lacks, against langgraph's
`SqliteStore`) in test_store_contract_reference.py: the references passing it is what shows it
encodes the real contract, not memvault's behaviour. test_store_contract.py runs it on
`MemvaultStore` on every engine.

A module using it subclasses the classes below and provides the fixture `make_store`:
`make_store(index=None, ttl=None) -> BaseStore`, a new empty store each call.

What the contract leaves open is not asserted: the order of a search without a query (langgraph's
stores differ: insertion order, newest update first), `created_at` after an overwrite
(InMemoryStore resets it, the SQL stores keep it), whether expired items are visible before a
sweep without `omit_expired`, the exact similarity scores (each store has its own metric), and
a query search's page that starts past the scored items (InMemoryStore then restarts the
unscored items from the first; memvault pages on through them).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import pytest

DIMS = 64


def embed_texts(texts: Sequence[str]) -> list[list[float]]:
    """The embedding function of the semantic tests: memvault's deterministic hashing model
    (lexical: a query sharing words with a text scores high), the same for every store."""
    from memvault.embed import HashingEmbedder

    return [[float(x) for x in row] for row in HashingEmbedder(DIMS).embed(list(texts))]


def index_config(**extra: Any) -> dict[str, Any]:
    return {"dims": DIMS, "embed": embed_texts, "fields": ["text"], **extra}


MakeStore = Callable[..., Any]


def keys(items: Sequence[Any]) -> set[tuple[tuple[str, ...], str]]:
    return {(tuple(i.namespace), i.key) for i in items}


def fill(store: Any) -> None:
    """Items in a small namespace tree (the one of `list_namespaces`' docstring, and more)."""
    tree = [
        (("a", "b", "c"), "1", {"n": 1, "color": "red", "tag": "x"}),
        (("a", "b", "d", "e"), "2", {"n": 2, "color": "blue", "tag": "y"}),
        (("a", "b", "d", "i"), "3", {"n": 3, "color": "red", "tag": "x"}),
        (("a", "b", "f"), "4", {"n": 4, "color": "green"}),
        (("a", "c", "f"), "5", {"n": 5, "color": "red", "tag": "y"}),
        (("ab",), "6", {"n": 6, "color": "blue", "tag": "x"}),
        (("docs",), "7", {"n": 7.5, "color": "red", "nested": {"k": "v", "m": 1}}),
    ]
    for ns, key, value in tree:
        store.put(ns, key, value)


class StoreContract:
    """get / put / delete / search / list_namespaces / batch, sync and async."""

    @pytest.fixture
    def store(self, make_store: MakeStore) -> Any:
        return make_store()

    # -- items ------------------------------------------------------------------------------

    def test_put_then_get_returns_the_item(self, store: Any) -> None:
        value = {"text": "tea with milk", "n": 3, "ok": True, "none": None,
                 "nested": {"list": [1, "two", {"three": 3.5}]}, "uni": "žluťoučký 🐍"}  # fmt: skip
        store.put(("users", "u1", "prefs"), "drink", value)
        item = store.get(("users", "u1", "prefs"), "drink")
        assert item is not None
        assert item.value == value
        assert item.key == "drink"
        assert item.namespace == ("users", "u1", "prefs")
        assert isinstance(item.created_at, datetime) and isinstance(item.updated_at, datetime)
        assert item.created_at.tzinfo is not None and item.updated_at >= item.created_at

    def test_an_empty_value_round_trips(self, store: Any) -> None:
        store.put(("e",), "k", {})
        item = store.get(("e",), "k")
        assert item is not None and item.value == {}

    def test_get_of_a_missing_key_or_namespace_is_none(self, store: Any) -> None:
        store.put(("a",), "k", {"x": 1})
        assert store.get(("a",), "other") is None
        assert store.get(("b",), "k") is None
        assert store.get(("a", "k"), "k") is None

    def test_put_again_replaces_the_value_exactly(self, store: Any) -> None:
        store.put(("a",), "k", {"x": 1, "y": 2})
        first = store.get(("a",), "k")
        time.sleep(0.01)
        store.put(("a",), "k", {"z": 3})
        second = store.get(("a",), "k")
        assert second.value == {"z": 3}  # replaced, not merged
        assert second.updated_at > first.updated_at
        assert len(store.search(("a",))) == 1

    def test_the_same_key_in_two_namespaces_is_two_items(self, store: Any) -> None:
        store.put(("a",), "k", {"v": "a"})
        store.put(("a", "b"), "k", {"v": "ab"})
        store.put(("b",), "k", {"v": "b"})
        assert [store.get(ns, "k").value["v"] for ns in [("a",), ("a", "b"), ("b",)]] == [
            "a", "ab", "b"]  # fmt: skip
        store.delete(("a",), "k")
        assert store.get(("a",), "k") is None
        assert store.get(("a", "b"), "k").value == {"v": "ab"}

    def test_identical_values_under_two_keys_are_two_items(self, store: Any) -> None:
        store.put(("a",), "k1", {"text": "same"})
        store.put(("a",), "k2", {"text": "same"})
        assert keys(store.search(("a",))) == {(("a",), "k1"), (("a",), "k2")}

    def test_delete_removes_and_deleting_a_missing_item_is_no_error(self, store: Any) -> None:
        store.put(("a",), "k", {"x": 1})
        store.delete(("a",), "k")
        assert store.get(("a",), "k") is None
        assert store.search(("a",)) == []
        store.delete(("a",), "k")
        store.delete(("nowhere",), "nothing")

    def test_keys_and_labels_with_odd_characters(self, store: Any) -> None:
        odd = ["with space", "slash/es", "colon:s", "%_wild", "ünï", "'quote\"", "a*b"]
        for i, label in enumerate(odd):
            store.put(("odd", label), f"{label}.key/{i}", {"i": i})
        for i, label in enumerate(odd):
            assert store.get(("odd", label), f"{label}.key/{i}").value == {"i": i}
        assert len(store.search(("odd",), limit=100)) == len(odd)
        assert store.search(("odd", "%_wild")) != [] and len(store.search(("odd", "%"))) == 0

    def test_invalid_namespaces_are_refused(self, store: Any) -> None:
        from langgraph.store.base import InvalidNamespaceError

        for bad in [(), ("a.b",), ("",), ("langgraph", "x"), ("a", 1)]:
            with pytest.raises(InvalidNamespaceError):
                store.put(bad, "k", {"x": 1})
        assert store.search(()) == []

    # -- search -----------------------------------------------------------------------------

    def test_search_by_namespace_prefix(self, store: Any) -> None:
        fill(store)
        assert len(store.search((), limit=100)) == 7
        assert keys(store.search(("a",), limit=100)) == {
            (("a", "b", "c"), "1"), (("a", "b", "d", "e"), "2"), (("a", "b", "d", "i"), "3"),
            (("a", "b", "f"), "4"), (("a", "c", "f"), "5")}  # fmt: skip
        assert {i.key for i in store.search(("a", "b", "d"))} == {"2", "3"}
        assert {i.key for i in store.search(("ab",))} == {"6"}  # not ("a",)'s children
        assert {i.key for i in store.search(("a", "b", "c"))} == {"1"}  # the namespace itself
        assert store.search(("a", "x")) == [] and store.search(("zzz",)) == []

    def test_search_results_are_search_items_without_a_score(self, store: Any) -> None:
        fill(store)
        (item,) = store.search(("docs",))
        assert item.key == "7" and item.value["nested"] == {"k": "v", "m": 1}
        assert item.score is None and item.namespace == ("docs",)

    def test_search_limit_and_offset_page_through_everything_once(self, store: Any) -> None:
        for i in range(23):
            store.put(("p", str(i % 3)), f"k{i}", {"i": i})
        pages = [store.search(("p",), limit=5, offset=o) for o in range(0, 30, 5)]
        assert [len(p) for p in pages] == [5, 5, 5, 5, 3, 0]
        seen = [k for p in pages for k in keys(p)]
        assert len(seen) == len(set(seen)) == 23
        assert len(store.search(("p",))) == 10  # the default limit

    def test_filter_exact_match(self, store: Any) -> None:
        fill(store)
        assert {i.key for i in store.search((), filter={"color": "red"}, limit=50)} == {
            "1", "3", "5", "7"}  # fmt: skip
        assert {i.key for i in store.search(("a",), filter={"color": "red", "tag": "x"})} == {
            "1", "3"}  # fmt: skip
        assert store.search((), filter={"color": "purple"}) == []

    def test_filter_operators(self, store: Any) -> None:
        fill(store)

        def found(flt: dict[str, Any]) -> set[str]:
            return {i.key for i in store.search((), filter=flt, limit=50)}

        assert found({"n": {"$eq": 2}}) == {"2"}
        assert found({"n": {"$gt": 5}}) == {"6", "7"}
        assert found({"n": {"$gte": 5}}) == {"5", "6", "7"}
        assert found({"n": {"$lt": 2}}) == {"1"}
        assert found({"n": {"$lte": 2}}) == {"1", "2"}
        assert found({"n": {"$gt": 1, "$lt": 4}}) == {"2", "3"}
        assert found({"n": {"$gt": 7.25}}) == {"7"}
        assert found({"color": {"$ne": "red"}}) == {"2", "4", "6"}
        assert found({"color": {"$eq": "blue"}, "n": {"$gte": 3}}) == {"6"}

    def test_ne_matches_items_without_the_field(self, store: Any) -> None:
        fill(store)
        assert {i.key for i in store.search((), filter={"tag": {"$ne": "x"}}, limit=50)} == {
            "2", "4", "5", "7"}  # fmt: skip

    def test_filter_on_nested_values(self, store: Any) -> None:
        fill(store)
        assert [i.key for i in store.search((), filter={"nested": {"k": "v"}})] == ["7"]
        assert store.search((), filter={"nested": {"k": "w"}}) == []

    def test_filter_with_booleans_and_null(self, store: Any) -> None:
        store.put(("f",), "t", {"flag": True, "n": 1})
        store.put(("f",), "f", {"flag": False, "n": 0})
        store.put(("f",), "z", {"flag": None, "n": 2})
        assert [i.key for i in store.search(("f",), filter={"flag": True})] == ["t"]
        assert [i.key for i in store.search(("f",), filter={"flag": False})] == ["f"]
        assert [i.key for i in store.search(("f",), filter={"n": 1})] == ["t"]

    def test_filter_and_pagination_together(self, store: Any) -> None:
        for i in range(12):
            store.put(("q",), f"k{i}", {"even": i % 2 == 0, "i": i})
        first = store.search(("q",), filter={"even": True}, limit=4)
        rest = store.search(("q",), filter={"even": True}, limit=4, offset=4)
        assert len(first) == 4 and len(rest) == 2
        assert {i.value["i"] for i in first + rest} == {0, 2, 4, 6, 8, 10}

    # -- list_namespaces --------------------------------------------------------------------

    def test_list_namespaces_lists_each_once_in_order(self, store: Any) -> None:
        fill(store)
        store.put(("a", "b", "c"), "again", {"n": 0})
        assert store.list_namespaces() == [
            ("a", "b", "c"), ("a", "b", "d", "e"), ("a", "b", "d", "i"), ("a", "b", "f"),
            ("a", "c", "f"), ("ab",), ("docs",)]  # fmt: skip

    def test_list_namespaces_with_max_depth_as_documented(self, store: Any) -> None:
        fill(store)
        assert store.list_namespaces(prefix=("a", "b"), max_depth=3) == [
            ("a", "b", "c"), ("a", "b", "d"), ("a", "b", "f")]  # fmt: skip
        assert store.list_namespaces(max_depth=1) == [("a",), ("ab",), ("docs",)]
        assert store.list_namespaces(prefix=("a",), max_depth=2) == [("a", "b"), ("a", "c")]

    def test_list_namespaces_by_prefix_suffix_and_wildcards(self, store: Any) -> None:
        fill(store)
        assert store.list_namespaces(prefix=("a", "c")) == [("a", "c", "f")]
        assert store.list_namespaces(suffix=("f",)) == [("a", "b", "f"), ("a", "c", "f")]
        assert store.list_namespaces(prefix=("a",), suffix=("i",)) == [("a", "b", "d", "i")]
        assert store.list_namespaces(prefix=("a", "*", "f")) == [("a", "b", "f"), ("a", "c", "f")]
        assert store.list_namespaces(suffix=("d", "*")) == [("a", "b", "d", "e"),
                                                            ("a", "b", "d", "i")]  # fmt: skip
        assert store.list_namespaces(prefix=("*",), max_depth=1) == [("a",), ("ab",), ("docs",)]
        assert store.list_namespaces(prefix=("a", "b", "c", "d")) == []
        assert store.list_namespaces(prefix=("ab",)) == [("ab",)]

    def test_list_namespaces_limit_and_offset(self, store: Any) -> None:
        fill(store)
        every = store.list_namespaces()
        assert store.list_namespaces(limit=3) == every[:3]
        assert store.list_namespaces(limit=3, offset=3) == every[3:6]
        assert store.list_namespaces(offset=6) == every[6:]

    def test_a_namespace_is_gone_with_its_last_item(self, store: Any) -> None:
        store.put(("x", "y"), "k", {"v": 1})
        store.put(("x",), "k", {"v": 1})
        store.delete(("x", "y"), "k")
        assert store.list_namespaces() == [("x",)]
        assert store.list_namespaces(prefix=("x", "y")) == []

    # -- batch ------------------------------------------------------------------------------

    def test_batch_answers_in_the_order_of_its_operations(self, store: Any) -> None:
        from langgraph.store.base import GetOp, ListNamespacesOp, PutOp, SearchOp

        store.put(("b",), "old", {"v": 0})
        results = store.batch([
            PutOp(("b",), "k1", {"v": 1}),
            GetOp(("b",), "old"),
            SearchOp(("b",)),
            ListNamespacesOp(),
            PutOp(("b",), "old", None),
            GetOp(("b",), "missing"),
        ])  # fmt: skip
        assert len(results) == 6
        assert results[0] is None and results[4] is None and results[5] is None
        assert results[1].value == {"v": 0}
        assert keys(results[2]) == {(("b",), "old")}  # reads see the store before the batch
        assert results[3] == [("b",)]
        assert store.get(("b",), "k1").value == {"v": 1} and store.get(("b",), "old") is None

    def test_the_last_write_of_a_key_in_a_batch_wins(self, store: Any) -> None:
        from langgraph.store.base import PutOp

        store.batch([PutOp(("w",), "k", {"v": 1}), PutOp(("w",), "k", {"v": 2})])
        assert store.get(("w",), "k").value == {"v": 2}
        store.batch([PutOp(("w",), "k", {"v": 3}), PutOp(("w",), "k", None)])
        assert store.get(("w",), "k") is None
        store.batch([PutOp(("w",), "k", None), PutOp(("w",), "k", {"v": 4})])
        assert store.get(("w",), "k").value == {"v": 4}

    def test_an_empty_batch(self, store: Any) -> None:
        assert store.batch([]) == []

    # -- async ------------------------------------------------------------------------------

    def test_the_async_methods(self, store: Any) -> None:
        async def story() -> list[Any]:
            await asyncio.gather(*(store.aput(("as", str(i % 2)), f"k{i}", {"i": i})
                                   for i in range(10)))  # fmt: skip
            got = await store.aget(("as", "1"), "k3")
            found = await store.asearch(("as",), filter={"i": {"$gte": 5}}, limit=20)
            spaces = await store.alist_namespaces(prefix=("as",))
            await store.adelete(("as", "1"), "k3")
            gone = await store.aget(("as", "1"), "k3")
            return [got.value, sorted(i.value["i"] for i in found), spaces, gone]

        assert asyncio.run(story()) == [{"i": 3}, [5, 6, 7, 8, 9], [("as", "0"), ("as", "1")],
                                        None]  # fmt: skip

    def test_abatch_matches_batch(self, store: Any) -> None:
        from langgraph.store.base import GetOp, PutOp, SearchOp

        ops = [PutOp(("ab",), "k", {"v": 1}), GetOp(("ab",), "k"), SearchOp(("ab",))]
        first = asyncio.run(store.abatch(ops))
        assert first[0] is None and first[1] is None and first[2] == []
        second = asyncio.run(store.abatch(ops[1:]))
        assert second[0].value == {"v": 1} and keys(second[1]) == {(("ab",), "k")}


class SemanticContract:
    """Semantic search with an `index` configuration (fields, per-put `index`, filters)."""

    @pytest.fixture
    def store(self, make_store: MakeStore) -> Any:
        return make_store(index=index_config())

    def _fill(self, store: Any) -> None:
        store.put(("m", "u1"), "tea", {"text": "green tea with jasmine", "kind": "drink", "n": 1})
        store.put(("m", "u1"), "coffee", {"text": "strong black coffee", "kind": "drink", "n": 2})
        store.put(("m", "u1"), "bike", {"text": "a red racing bicycle", "kind": "thing", "n": 3})
        store.put(("m", "u2"), "hike", {"text": "hiking in the mountains", "kind": "trip", "n": 4})

    def test_the_query_ranks_the_matching_item_first(self, store: Any) -> None:
        self._fill(store)
        hits = store.search(("m",), query="black coffee")
        assert hits[0].key == "coffee"
        assert all(isinstance(h.score, float) for h in hits)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        assert store.search(("m",), query="racing bicycle")[0].key == "bike"
        assert len(hits) == 4

    def test_query_with_prefix_filter_limit_and_offset(self, store: Any) -> None:
        self._fill(store)
        assert [h.key for h in store.search(("m", "u2"), query="black coffee")] == ["hike"]
        hits = store.search(("m",), query="black coffee", filter={"kind": "drink"})
        assert [h.key for h in hits] == ["coffee", "tea"]
        assert [h.key for h in store.search(("m",), query="black coffee", filter={
            "n": {"$gt": 1}}, limit=1)] == ["coffee"]  # fmt: skip
        everything = store.search(("m",), query="jasmine tea", limit=10)
        assert everything[0].key == "tea"
        paged = store.search(("m",), query="jasmine tea", limit=2, offset=1)
        assert [h.key for h in paged] == [h.key for h in everything[1:3]]

    def test_only_the_configured_fields_are_embedded(self, store: Any) -> None:
        store.put(("f",), "a", {"text": "alpha apples", "other": "zebra zoo zulu"})
        store.put(("f",), "b", {"text": "zebra zoo zulu", "other": "alpha apples"})
        assert store.search(("f",), query="zebra zoo zulu")[0].key == "b"
        assert store.search(("f",), query="alpha apples")[0].key == "a"

    def test_the_index_of_one_put_overrides_the_fields(self, store: Any) -> None:
        store.put(("f",), "a", {"text": "alpha apples", "title": "zebra zoo zulu"},
                  index=["title"])  # fmt: skip
        store.put(("f",), "b", {"text": "quiet quilt", "title": "alpha apples"})
        top = store.search(("f",), query="zebra zoo zulu")[0]
        assert top.key == "a" and top.score > 0.9
        by_text = {h.key: h.score for h in store.search(("f",), query="alpha apples")}
        assert by_text["a"] < 0.5 and by_text["b"] < 0.5  # neither embedded "alpha apples"

    def test_an_item_put_with_index_false_is_not_ranked(self, store: Any) -> None:
        store.put(("g",), "plain", {"text": "black coffee beans"}, index=False)
        store.put(("g",), "vec", {"text": "green tea"})
        assert store.get(("g",), "plain").value == {"text": "black coffee beans"}
        assert {i.key for i in store.search(("g",))} == {"plain", "vec"}
        hits = store.search(("g",), query="black coffee beans")
        assert hits[0].key == "vec" and hits[0].score is not None
        assert all(h.score is None for h in hits if h.key == "plain")

    def test_a_query_search_returns_the_items_without_a_vector_after_the_scored(
        self, store: Any
    ) -> None:
        store.put(("u",), "tea", {"text": "green tea"})
        store.put(("u",), "coffee", {"text": "black coffee"})
        store.put(("u",), "plain", {"text": "black coffee beans"}, index=False)
        store.put(("u",), "nofield", {"other": "black coffee"})
        hits = store.search(("u",), query="black coffee")
        assert [h.key for h in hits[:2]] == ["coffee", "tea"]
        assert all(isinstance(h.score, float) for h in hits[:2])
        assert {h.key for h in hits[2:]} == {"plain", "nofield"}
        assert [h.score for h in hits[2:]] == [None, None]
        page = store.search(("u",), query="black coffee", limit=2, offset=1)
        assert page[0].key == "tea" and page[1].key in {"plain", "nofield"}
        assert page[1].score is None
        assert len(store.search(("u",), query="black coffee", limit=3)) == 3
        only = store.search(("u",), query="black coffee", filter={"other": "black coffee"})
        assert [(h.key, h.score) for h in only] == [("nofield", None)]

    def test_an_updated_text_is_embedded_again(self, store: Any) -> None:
        self._fill(store)
        store.put(("m", "u1"), "tea", {"text": "a loud electric guitar", "kind": "thing"})
        assert store.search(("m",), query="loud electric guitar")[0].key == "tea"
        store.delete(("m", "u1"), "bike")
        assert "bike" not in {h.key for h in store.search(("m",), query="racing bicycle")}

    def test_a_search_without_query_has_no_score(self, store: Any) -> None:
        self._fill(store)
        assert all(h.score is None for h in store.search(("m",)))

    def test_async_semantic_search(self, store: Any) -> None:
        async def story() -> list[str]:
            await store.aput(("as",), "a", {"text": "sailing on the lake"})
            await store.aput(("as",), "b", {"text": "baking sourdough bread"})
            return [h.key for h in await store.asearch(("as",), query="sourdough bread")]

        assert asyncio.run(story())[0] == "b"


# TTLs of a few seconds: the stores keep second precision, and the machine is shared and slow.
TTL_MINUTES = 3 / 60


class TTLContract:
    """TTL in minutes, refreshed by reads (`refresh_on_read`, per call `refresh_ttl`), deleted
    by `sweep_ttl` and by the sweeper thread (`start_ttl_sweeper` / `stop_ttl_sweeper`)."""

    @pytest.fixture
    def store(self, make_store: MakeStore) -> Any:
        return make_store(ttl={"refresh_on_read": True})

    def test_the_store_supports_ttl(self, store: Any) -> None:
        assert store.supports_ttl is True

    def test_an_expired_item_is_swept_and_others_are_not(self, store: Any) -> None:
        store.put(("t",), "short", {"v": 1}, ttl=TTL_MINUTES)
        store.put(("t",), "forever", {"v": 2})
        store.put(("t",), "long", {"v": 3}, ttl=60)
        time.sleep(TTL_MINUTES * 60 + 1.5)
        assert store.sweep_ttl() >= 1
        assert store.get(("t",), "short") is None
        assert store.get(("t",), "forever").value == {"v": 2}
        assert store.get(("t",), "long").value == {"v": 3}
        assert {i.key for i in store.search(("t",))} == {"forever", "long"}

    def test_a_read_pushes_the_expiry_back(self, store: Any) -> None:
        store.put(("t",), "read", {"v": 1}, ttl=TTL_MINUTES)
        store.put(("t",), "searched", {"v": 2}, ttl=TTL_MINUTES)
        store.put(("t",), "unread", {"v": 3}, ttl=TTL_MINUTES)
        store.put(("t",), "peeked", {"v": 4}, ttl=TTL_MINUTES)
        time.sleep(TTL_MINUTES * 60 - 1.2)
        assert store.get(("t",), "read") is not None
        assert [i.key for i in store.search(("t",), filter={"v": 2})] == ["searched"]
        assert store.get(("t",), "peeked", refresh_ttl=False) is not None
        time.sleep(2.7)  # past the first expiry, well before the refreshed one
        store.sweep_ttl()
        assert store.get(("t",), "unread", refresh_ttl=False) is None
        assert store.get(("t",), "peeked", refresh_ttl=False) is None
        assert store.get(("t",), "read", refresh_ttl=False).value == {"v": 1}
        assert store.get(("t",), "searched", refresh_ttl=False).value == {"v": 2}

    def test_a_put_restarts_the_clock(self, store: Any) -> None:
        store.put(("t",), "k", {"v": 1}, ttl=TTL_MINUTES)
        time.sleep(TTL_MINUTES * 60 - 1.2)
        store.put(("t",), "k", {"v": 2}, ttl=TTL_MINUTES)
        time.sleep(2.7)
        store.sweep_ttl()
        assert store.get(("t",), "k", refresh_ttl=False).value == {"v": 2}

    def test_the_default_ttl_and_refresh_off_by_default(self, make_store: MakeStore) -> None:
        store = make_store(ttl={"default_ttl": TTL_MINUTES, "refresh_on_read": False})
        store.put(("d",), "k", {"v": 1})
        store.put(("d",), "kept", {"v": 2}, ttl=None)
        time.sleep(TTL_MINUTES * 60 - 1.2)
        assert store.get(("d",), "k") is not None  # not refreshed: refresh_on_read is off
        time.sleep(2.7)
        store.sweep_ttl()
        assert store.get(("d",), "k") is None
        assert store.get(("d",), "kept").value == {"v": 2}

    def test_the_sweeper_thread_sweeps_until_stopped(self, make_store: MakeStore) -> None:
        import concurrent.futures

        store = make_store(ttl={"sweep_interval_minutes": 1})
        store.put(("s",), "k", {"v": 1}, ttl=TTL_MINUTES)
        future = store.start_ttl_sweeper(sweep_interval_minutes=0.5 / 60)  # type: ignore[arg-type]
        try:
            assert isinstance(future, concurrent.futures.Future)
            deadline = time.monotonic() + TTL_MINUTES * 60 + 10
            while time.monotonic() < deadline and store.search(("s",), refresh_ttl=False):
                time.sleep(0.5)
            assert store.get(("s",), "k", refresh_ttl=False) is None
        finally:
            assert store.stop_ttl_sweeper(timeout=10) is True
        assert future.done()
        assert store.stop_ttl_sweeper() is True  # not running: nothing to stop
