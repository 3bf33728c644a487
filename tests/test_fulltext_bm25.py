"""SQLite full-text ranking (`store/bm25.py`): BM25 computed outside FTS5 must rank and
score exactly as FTS5's own `bm25()` over the same window, match the same rows (phrases,
prefixes, AND/OR/NOT, accents, filters, owners), and keep its document-count cache honest."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest

import memvault
from memvault.search import bm25, fulltext, syntax
from memvault.store.base import Tx

WORDS = ["école", "ecole", "écolier", "economie", "primaire", "prime", "prix", "pr", "thé",
         "the", "tea", "teapot", "team", "a", "naïve", "naive", "Straße", "o'neil", "l'école",
         "foo_bar", "bar", "x1", "ÉCOLE", "Ångström", "angstrom", "tea-time"]  # fmt: skip


def reference(
    tx: Tx, table: str, node: syntax.Node, owners: list[str | None] | None,
    where: str = "", params: dict[str, Any] | None = None, limit: int = 500,
    window: int = fulltext.DEFAULT_WINDOW, session: str | None = None,
) -> list[tuple[str, float]]:  # fmt: skip
    """The previous implementation: FTS5's bm25() over the same window."""
    spec = fulltext.SPECS[table]
    fts = f"{table}_fts"
    cols = "{" + " ".join(spec.columns) + "}"
    scopes = []
    if owners is not None:
        scopes.append("(" + " OR ".join(f'scope : "{fulltext.owner_token(o)}"'
                                        for o in owners) + ")")  # fmt: skip
    if session is not None:
        scopes.append(f'scope : "{fulltext.session_token(session)}"')
    p = dict(params or {})
    p.update(q=" AND ".join([*scopes, syntax.to_fts5(node, cols)]), w=window, n=limit)
    weights = ", ".join(str(w) for w in (*spec.weights, 0.0))
    sql = (
        f"SELECT id, score FROM (SELECT t.id AS id, t.rowid AS rid, -bm25({fts}, {weights}) "
        f"AS score FROM {fts} CROSS JOIN {table} t ON t.rowid = {fts}.rowid "
        f"WHERE {fts} MATCH :q" + (f" AND {where}" if where else "")
        + f" ORDER BY {fts}.rowid DESC LIMIT :w) ORDER BY score DESC, rid DESC LIMIT :n"
    )  # fmt: skip
    return [(str(r["id"]), float(r["score"])) for r in tx.all(sql, p)]


def same(got: list[tuple[Any, float]], want: list[tuple[str, float]]) -> bool:
    return [str(i) for i, _ in got] == [i for i, _ in want] and all(
        math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
        for (_, a), (_, b) in zip(got, want, strict=True)
    )


def random_query(rnd: random.Random) -> str:
    def term() -> str:
        word = syntax.tokens_of(rnd.choice(WORDS))[0]
        kind = rnd.random()
        if kind < 0.2:
            return word[: rnd.randint(1, max(1, len(word)))] + "*"
        if kind < 0.4:
            a, b = rnd.choice(WORDS), rnd.choice(WORDS)
            return f'"{a} {b}"' + ("*" if rnd.random() < 0.3 else "")
        return word

    parts = [term() for _ in range(rnd.randint(1, 3))]
    shape = rnd.random()
    if shape < 0.3 and len(parts) > 1:
        return " OR ".join(parts)
    if shape < 0.5 and len(parts) > 1:
        return f"{parts[0]} -{parts[1]}" + "".join(f" {p}" for p in parts[2:])
    if shape < 0.6 and len(parts) > 2:
        return f"({parts[0]} OR {parts[1]}) {parts[2]}"
    return " ".join(parts)


def text(rnd: random.Random, most: int = 12) -> str:
    return " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(1, most)))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A dominant owner (most rows: its scope leaves the MATCH), two small ones, the base
    layer; long documents (over 127 tokens), accents, underscores and punctuation."""
    path = tmp_path_factory.mktemp("bm25") / "bm25.db"
    v = memvault.open(f"sqlite:///{path}", embed_memories=False)  # ranks text only
    rnd = random.Random(7)
    big, small, other, plain = (v.users.create(n).id for n in ("big", "small", "other", "plain"))
    ascii_words = [w for w in WORDS if w.isascii()]
    with v.transaction():
        for i in range(900):
            owner = big if i % 10 < 8 else small if i % 10 == 8 else other
            body = text(rnd, 300 if i % 97 == 0 else 12)
            v.memories.add(owner, rnd.choice(["fact", "note"]), body,
                           context=text(rnd, 4) if i % 3 else None)  # fmt: skip
        for _ in range(40):
            v.memories.add(None, "fact", text(rnd))
        for i in range(150):  # ASCII only: the windows take the numpy path
            body = " ".join(
                rnd.choice(ascii_words) for _ in range(rnd.randint(1, 140 if i % 50 == 0 else 12))
            )
            v.memories.add(plain, "fact", body, context=rnd.choice(ascii_words))
        sessions = {u: v.sessions.create(u).id for u in (big, small, plain)}
        for i in range(600):
            v.messages.append(sessions[big if i % 6 else small], "user", text(rnd, 20))
        for _ in range(100):
            body = " ".join(rnd.choice(ascii_words) for _ in range(rnd.randint(1, 15)))
            v.messages.append(sessions[plain], "user", body)
        for i in range(60):
            v.patterns.add(
                small if i % 2 else None, "greet", text(rnd, 5), text(rnd, 8), teacher=True
            )
    yield v, {"big": big, "small": small, "other": other, "plain": plain}, sessions
    v.close()


@pytest.mark.parametrize("who", ["big", "small", "plain"])
def test_scores_equal_fts5_bm25_on_random_queries(corpus: Any, who: str) -> None:
    v, users, sessions = corpus
    rnd = random.Random(who)
    owner = users[who]
    counts = bm25.DocCounts()
    checked = 0
    with v.store.read() as tx:
        for _ in range(120):
            q = random_query(rnd)
            node = syntax.parse(q)
            if node is None:
                continue
            window = rnd.choice([fulltext.DEFAULT_WINDOW, 25])
            cases: list[tuple[str, list[str | None] | None, str, dict[str, Any]]] = [
                ("memories", [owner], "t.user_id = :o", {"o": owner}),
                ("memories", [owner, None], "(t.user_id = :o OR t.user_id IS NULL)",
                 {"o": owner}),
                ("memories", [owner], "t.user_id = :o AND t.kind = 'note'", {"o": owner}),
                ("messages", [owner], "t.user_id = :o", {"o": owner}),
                ("response_patterns", [users["small"], None],
                 "(t.user_id = :o OR t.user_id IS NULL)", {"o": users["small"]}),
            ]  # fmt: skip
            for table, owners, where, params in cases:
                want = reference(tx, table, node, owners, where, params, window=window)
                got = fulltext.candidates(tx, table, node, owners=owners, where=where,
                                          params=params, limit=500, window=window,
                                          counts=counts)  # fmt: skip
                assert same(got, want), (q, table, owners, got[:3], want[:3])
                checked += bool(want)
            sid = sessions[owner]
            want = reference(tx, "messages", node, [owner], "t.session_id = :s", {"s": sid},
                             window=window, session=sid)  # fmt: skip
            got = fulltext.candidates(tx, "messages", node, owners=[owner], session_id=sid,
                                      where="t.session_id = :s", params={"s": sid}, limit=500,
                                      window=window, counts=counts)  # fmt: skip
            assert same(got, want), (q, "session")
    assert checked > 100  # most queries match something


def test_scope_left_out_for_a_dominant_owner_still_isolates(corpus: Any) -> None:
    """The big owner's scope leaves the MATCH (it holds most rows); its rows are then
    checked by owner, so nobody else's row can come back, even with no `where`."""
    v, users, _ = corpus
    with v.store.read() as tx:
        for q in ("ecole", "te*", "the OR tea", '"ecole primaire"'):
            node = syntax.parse(q)
            assert node is not None
            for who in ("big", "small"):
                got = fulltext.candidates(tx, "memories", node, owners=[users[who]], limit=900)
                owners = {
                    str(tx.scalar("SELECT user_id FROM memories WHERE id = :i", {"i": i}))
                    for i, _ in got
                }
                assert owners == {users[who]}, (q, who)
    for who in ("big", "small", "other"):
        hits = v.memories.search(users[who], "ecole", mode="text", k=1000, track_access=False)
        assert hits and {h.item.user_id for h in hits} == {users[who]}


def test_ranking_matches_a_hand_computed_bm25(tmp_path: Path) -> None:
    """BM25 (k1 = 1.2, b = 0.75) written out by hand over a crafted set: term frequency
    raises a score with saturation, length lowers it, and a rarer word weighs more."""
    v = memvault.open(f"sqlite:///{tmp_path / 'hand.db'}")
    u = v.users.create("hand").id
    docs = ["zebra", "zebra zebra zebra", "zebra in a very long sentence about other things",
            "okapi", "okapi zebra", "giraffe", "giraffe neck", "giraffe tall", "lion",
            "lion pride", "lion king"]  # fmt: skip
    s = v.sessions.create(u).id
    ids = [v.messages.append(s, "user", d).id for d in docs]
    v.users.create("other")  # another owner with no message
    n_docs = len(docs)
    lengths = [len(d.split()) + 2 for d in docs]  # + the owner and session scope tokens
    avgdl = sum(lengths) / n_docs

    def idf(word: str) -> float:
        n = sum(word in d.split() for d in docs)
        return max(math.log((n_docs - n + 0.5) / (n + 0.5)), 1e-6)

    def bm25(i: int, words: list[str]) -> float:
        out = 0.0
        for w in words:
            f = docs[i].split().count(w)
            out += idf(w) * f * 2.2 / (f + 1.2 * (0.25 + 0.75 * lengths[i] / avgdl))
        return out

    hits = v.messages.search(u, "zebra OR okapi", mode="text", k=20)
    expected = sorted(
        (i for i, d in enumerate(docs) if {"zebra", "okapi"} & set(d.split())),
        key=lambda i: (-bm25(i, ["zebra", "okapi"]), -i),
    )
    assert [h.item.id for h in hits] == [ids[i] for i in expected]
    for h, i in zip(hits, expected, strict=True):
        assert h.score == pytest.approx(bm25(i, ["zebra", "okapi"]), rel=1e-12)
    assert hits[0].item.content == "okapi zebra"  # the rarer word (okapi) decides
    # tf 3 beats tf 1 of the same length class; the long sentence comes last
    zebra = [h.item.content for h in v.messages.search(u, "zebra", mode="text", k=20)]
    assert zebra.index("zebra zebra zebra") < zebra.index("zebra")
    assert zebra[-1] == "zebra in a very long sentence about other things"
    v.close()


def test_document_counts_are_cached_and_refreshed(tmp_path: Path) -> None:
    v = memvault.open(f"sqlite:///{tmp_path / 'counts.db'}")
    u = v.users.create("c").id
    s = v.sessions.create(u).id
    with v.transaction():
        for i in range(64):
            v.messages.append(s, "user", "walrus" if i % 4 == 0 else f"seal number {i}")
    counts = v.search.doc_counts
    v.messages.search(u, "walrus", mode="text")
    made = counts.counted
    assert made >= 1  # the phrase (and the owner's scope)
    for _ in range(3):
        v.messages.search(u, "walrus", mode="text")
    assert counts.counted == made  # reused
    with v.store.read() as tx:
        n_docs, _ = bm25.totals(tx, "messages_fts")
        assert n_docs == 64
        assert counts.get(tx, "messages_fts", '{content} : "walrus"', n_docs) == 16
        # within 1/32 of the N it was counted at: scaled, not recounted
        assert counts.get(tx, "messages_fts", '{content} : "walrus"', 66) == 16 * 66 / 64
        assert counts.counted == made
    v.messages.append(s, "user", "walrus again")
    v.messages.append(s, "user", "walrus and more")
    v.messages.append(s, "user", "walrus, the third")  # 67 rows: more than 1/32 away
    hits = v.messages.search(u, "walrus", mode="text", k=50)
    assert counts.counted > made and len(hits) == 19
    with v.store.read() as tx:
        assert counts.get(tx, "messages_fts", '{content} : "walrus"', 67) == 19
        counts.max_age = 0.0  # too old: counted again
        before = counts.counted
        counts.get(tx, "messages_fts", '{content} : "walrus"', 67)
        assert counts.counted == before + 1
    small = bm25.DocCounts(size=2)
    with v.store.read() as tx:
        for word in ("walrus", "seal", "number"):
            small.get(tx, "messages_fts", f'{{content}} : "{word}"', 67)
    assert len(small._items) == 2  # bounded
    v.search.reindex()
    assert not counts._items
    v.close()


def test_fold_and_patterns_count_like_fts5() -> None:
    assert bm25.fold("ÉCOLE_Naïve Straße") == "ecole naive straße"
    node = syntax.parse('"a a" tea* l\'école')
    assert node is not None
    found = bm25.phrases(node, "{content}")
    assert [p.match for p in found] == ['{content} : "a a"', '{content} : "tea" *',
                                        '{content} : "l école"']  # fmt: skip
    text = bm25.fold("a a a, teapot TEA steam; L'École l'ecole")
    assert [len(p.pattern.findall(text)) for p in found] == [2, 2, 2]
