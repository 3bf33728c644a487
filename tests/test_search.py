"""The search API on every engine: hybrid fusion and signals, access recording, filters
(allow-listed, bound, AND/OR, metadata), injection attempts, layering, messages, the CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

import memvault
from memvault.embed import HashingEmbedder
from memvault.errors import InvalidInput
from memvault.search.fusion import rrf


@pytest.fixture
def hv(vault_url: str):
    v = memvault.open(vault_url, embedder=HashingEmbedder(128))
    try:
        yield v
    finally:
        v.close()


@pytest.fixture
def data(hv: memvault.Vault) -> str:
    u = hv.users.create("sam").id
    items = [
        ("fact", "Sam's daughter starts primary school in September", {"topic": "kids", "n": 1}),
        ("preference", "Sam prefers green tea over coffee", {"topic": "food", "n": 5,
                                                              "tags": ["drink", "morning"]}),
        ("fact", "Sam's car is a blue hatchback", {"topic": "car", "n": 9}),
        ("event", "Sam ran the Lyon half marathon", {"topic": "sport", "n": 3, "ok": True}),
    ]  # fmt: skip
    for kind, text, meta in items:
        hv.memories.add(u, kind, text, metadata=meta, embedding=True, confidence=0.9 if
                        kind != "event" else 0.4)  # fmt: skip
    return u


def contents(hits: list) -> list[str]:
    return [h.item.content for h in hits]


def test_rrf() -> None:
    fused = rrf({"text": ["a", "b"], "vector": ["b", "c"]})
    assert [f[0] for f in fused] == ["b", "a", "c"]
    assert fused[0][2] == {"text": 2, "vector": 1}


def test_hybrid_hits_carry_scores_and_signals(hv: memvault.Vault, data: str) -> None:
    hits = hv.memories.search(data, "green tea", k=3)
    assert hits[0].item.content == "Sam prefers green tea over coffee"
    assert hits[0].matched == ("text", "vector")
    assert hits[0].text_score is not None and hits[0].vector_score is not None
    assert all(h.score > 0 for h in hits)
    assert all("text" not in h.matched for h in hits[1:])


def test_access_is_recorded(hv: memvault.Vault, data: str) -> None:
    hit = hv.memories.search(data, "hatchback", mode="text")[0]
    assert hit.item.access_count == 1 and hit.item.last_accessed_at is not None
    hv.memories.search(data, "hatchback", mode="text", track_access=False)
    assert hv.memories.get(hit.item.id, track_access=False).access_count == 1


def test_filters_and_options(hv: memvault.Vault, data: str) -> None:
    s = hv.memories.search
    assert contents(s(data, "Sam", mode="text", kinds=["preference"])) == [
        "Sam prefers green tea over coffee"]  # fmt: skip
    assert len(s(data, "Sam", mode="text", min_confidence=0.5)) == 3
    assert s(data, "Sam", mode="text", since=hv.clock() + timedelta(days=1)) == []
    assert len(s(data, "Sam", mode="text", until=hv.clock() + timedelta(days=1))) == 4
    f = {"metadata.topic": "food"}
    assert contents(s(data, "Sam", mode="text", filters=f)) == ["Sam prefers green tea over coffee"]
    f2 = {"or": [{"metadata.n": {"gte": 9}}, {"metadata.tags": {"contains": "drink"}}]}
    assert sorted(contents(s(data, "Sam", mode="hybrid", filters=f2))) == [
        "Sam prefers green tea over coffee", "Sam's car is a blue hatchback"]  # fmt: skip
    f3 = {"and": [{"metadata.n": {"lt": 5}}, {"kind": {"ne": "event"}}]}
    assert contents(s(data, "Sam", mode="vector", filters=f3)) == [
        "Sam's daughter starts primary school in September"]  # fmt: skip
    f4 = {"metadata.topic": {"in": ["car", "kids"]}, "confidence": {"gt": 0.5}}
    assert len(s(data, "Sam", mode="text", filters=f4)) == 2
    assert len(s(data, "Sam", mode="text", filters={"content": {"contains": "marathon"}})) == 1
    assert len(s(data, "Sam", mode="text", filters={"metadata.ok": True})) == 1
    assert len(s(data, "Sam", mode="text", filters={"metadata.missing": None})) == 4


@pytest.mark.parametrize(
    "bad",
    [
        {"kind; DROP TABLE memories": "x"},
        {"user_id": "someone-else"},  # owner is not a filter field: it is the API's argument
        {"metadata.a') OR 1=1 --": 1},
        {"metadata.": 1},
        {"kind": {"like": "%"}},
        {"kind": {"eq": "a", "ne": "b"}},
        {"or": []},
        {"confidence": {"gt": "0.5 OR 1=1"}},
        {"kind": {"in": "fact"}},
        {"metadata.x": {"eq": {"nested": 1}}},
        ["kind", "fact"],
    ],
)
def test_bad_filters_are_refused(hv: memvault.Vault, data: str, bad: object) -> None:
    with pytest.raises(InvalidInput) as info:
        hv.memories.search(data, "Sam", mode="text", filters=bad)
    assert info.value.field == "filters"


def test_filter_values_are_bound(hv: memvault.Vault, data: str) -> None:
    other = hv.users.create("other").id
    hv.memories.add(other, "fact", "Other's secret about Sam")
    for value in ("x' OR '1'='1", "fact'; DROP TABLE memories; --", "' OR user_id IS NOT NULL --"):
        assert hv.memories.search(data, "Sam", mode="text", filters={"kind": value}) == []
        assert hv.memories.search(data, "Sam", mode="text",
                                  filters={"metadata.topic": value}) == []  # fmt: skip
    assert hv.memories.count() == 5
    assert "Other's secret about Sam" not in contents(hv.memories.search(data, "secret"))


def test_mode_and_k_validation(hv: memvault.Vault, data: str) -> None:
    with pytest.raises(InvalidInput):
        hv.memories.search(data, "Sam", mode="fuzzy")
    with pytest.raises(InvalidInput):
        hv.memories.search(data, "Sam", k=0)
    with pytest.raises(InvalidInput):
        hv.memories.search(data, "", mode="text")
    with pytest.raises(InvalidInput):
        hv.memories.search(data, "x", mode="vector", query_vector=[1.0, 2.0])  # model missing
    with pytest.raises(InvalidInput):
        hv.memories.search(
            data, "x", mode="vector", query_vector=[1.0] * 3, model=hv.search.embed_model()
        )


def test_messages_hybrid_by_session(hv: memvault.Vault, data: str) -> None:
    s1 = hv.sessions.create(data).id
    s2 = hv.sessions.create(data).id
    m1 = hv.messages.append(s1, "user", "Where is the nearest bakery?")
    m2 = hv.messages.append(s2, "user", "The bakery closes at noon")
    for m in (m1, m2):
        hv.embeddings.put(hv.search.embed([m.content])[0], model=hv.search.embed_model(),
                          message_id=m.id)  # fmt: skip
    assert len(hv.messages.search(data, "bakery")) == 2
    hits = hv.messages.search(data, "bakery", session_id=s2)
    assert [h.item.id for h in hits] == [m2.id]
    assert hits[0].matched == ("text", "vector")
    assert hv.messages.search(hv.users.create("x").id, "bakery") == []


def test_cli_search_reindex(tmp_path: object) -> None:
    from memvault.cli import app

    vault_url = f"sqlite:///{tmp_path}/cli.db"
    v = memvault.open(vault_url)
    u = v.users.create("cli")
    # Not embedded on write, so that `memvault embed` below has it to embed.
    v.memories.add(u.id, "fact", "Le rendez-vous chez le médecin est mardi", embedding=False)
    v.close()
    runner = CliRunner()
    out = runner.invoke(app, ["search", "medecin", "--user", "cli", "--db", vault_url,
                              "--mode", "text", "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "médecin" in out.output
    out = runner.invoke(app, ["reindex", "--db", vault_url])
    assert out.exit_code == 0 and "memories" in out.output
    out = runner.invoke(app, ["embed", "--db", vault_url, "--json"])
    assert out.exit_code == 0 and '"memory": 1' in out.output
    out = runner.invoke(app, ["search", '"bad', "--user", "cli", "--db", vault_url])
    assert out.exit_code != 0


def test_messages_approximate_matches_exact(hv: memvault.Vault, data: str) -> None:
    """`approximate=True` on messages: the HNSW index where it exists (pg18, once built),
    the exact path elsewhere; on this small set both give the exact answer."""
    s = hv.sessions.create(data).id
    texts = ["the bakery opens at seven", "bread is sold out", "the train leaves at noon",
             "a croissant and a coffee", "the museum is closed on monday"]  # fmt: skip
    model = hv.search.embed_model()
    for text in texts:
        m = hv.messages.append(s, "user", text)
        hv.embeddings.put(hv.search.embed([text])[0], model=model, message_id=m.id)
    exact = hv.messages.search(data, "bakery bread", k=3, approximate=False)
    hv.search.ann_index(model)
    approx = hv.messages.search(data, "bakery bread", k=3, approximate=True)
    assert [h.item.id for h in approx] == [h.item.id for h in exact]
    vec_exact = hv.messages.search(data, "croissant", mode="vector", k=5, session_id=s)
    vec_approx = hv.messages.search(data, "croissant", mode="vector", k=5, session_id=s,
                                    approximate=True)  # fmt: skip
    assert [h.item.id for h in vec_approx] == [h.item.id for h in vec_exact]
