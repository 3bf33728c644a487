"""Full-text indexes (revision 0002) on every engine: sync in the same transaction, accent
folding, phrase / prefix / boolean syntax, clear errors, tenant isolation, upgrade of a
populated database, and no trace of an erased user's text in SQLite's files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import memvault
from memvault.errors import InvalidInput
from memvault.ids import new_id
from memvault.store import migrator
from memvault.store.engine import open_store, parse_url


def texts(hits: list) -> list[str]:
    return [h.item.content for h in hits]


def search(vault: memvault.Vault, user_id: str | None, q: str, **kw: object) -> list[str]:
    return texts(vault.memories.search(user_id, q, mode="text", track_access=False, **kw))


@pytest.fixture
def two_users(vault: memvault.Vault) -> tuple[str, str]:
    a = vault.users.create("ann").id
    b = vault.users.create("bob").id
    for text in (
        "Notre fille entre à l'école primaire en septembre",
        "I love green tea in the morning",
        "The green house on the hill is for sale",
        "Tea ceremonies in Kyoto are long",
    ):
        vault.memories.add(a, "fact", text)
    vault.memories.add(b, "fact", "Bob's secret école is private")
    return a, b


def test_accents_fold_both_ways(vault: memvault.Vault, two_users: tuple[str, str]) -> None:
    a, _ = two_users
    assert search(vault, a, "ecole") == ["Notre fille entre à l'école primaire en septembre"]
    assert search(vault, a, "école") == search(vault, a, "ECOLE")
    assert search(vault, a, "prim*") == ["Notre fille entre à l'école primaire en septembre"]


def test_phrase_prefix_boolean(vault: memvault.Vault, two_users: tuple[str, str]) -> None:
    a, _ = two_users
    assert search(vault, a, '"green tea"') == ["I love green tea in the morning"]
    assert sorted(search(vault, a, "green")) == [
        "I love green tea in the morning",
        "The green house on the hill is for sale",
    ]
    assert search(vault, a, "green tea") == ["I love green tea in the morning"]  # implicit AND
    assert search(vault, a, "green -tea") == ["The green house on the hill is for sale"]
    assert search(vault, a, "green NOT tea") == ["The green house on the hill is for sale"]
    assert sorted(search(vault, a, "Kyoto OR house")) == [
        "Tea ceremonies in Kyoto are long",
        "The green house on the hill is for sale",
    ]
    assert search(vault, a, "(Kyoto OR morning) tea") != []
    assert search(vault, a, "gree*") != []
    assert search(vault, a, "nothingmatcheshere") == []
    assert search(vault, a, "???") == []  # no searchable word: nothing, not an error


@pytest.mark.parametrize(
    "bad", ['"unclosed phrase', "(green", "green)", "NOT tea", "-tea", "green OR", "AND tea"]
)
def test_syntax_errors_are_invalid_input(
    vault: memvault.Vault, two_users: tuple[str, str], bad: str
) -> None:
    a, _ = two_users
    with pytest.raises(InvalidInput) as info:
        vault.memories.search(a, bad, mode="text")
    assert info.value.field == "query" and info.value.value == bad


def test_fts5_syntax_is_not_passed_through(
    vault: memvault.Vault, two_users: tuple[str, str]
) -> None:
    a, b = two_users
    # Operators of the engines' own syntax are plain characters here: never an SQL error,
    # never a way out of the owner scope.
    for q in ('scope : "ubase"', "ecole) OR (ecole", "content:ecole", "NEAR(ecole bob)",
              "ecole OR scope:u" + b.replace("-", ""), "ecole:*", "!ecole & bob"):  # fmt: skip
        try:
            found = search(vault, a, q)
        except InvalidInput:
            continue
        assert "Bob's secret école is private" not in found


def test_tenant_isolation(vault: memvault.Vault, two_users: tuple[str, str]) -> None:
    a, b = two_users
    assert search(vault, a, "secret") == []
    assert search(vault, b, "ecole") == ["Bob's secret école is private"]
    assert search(vault, None, "ecole") == []  # base layer holds nothing yet
    vault.memories.add(None, "fact", "Base knowledge: école means school")
    assert search(vault, a, "ecole", base=True) == [
        "Notre fille entre à l'école primaire en septembre",
        "Base knowledge: école means school",
    ] or sorted(search(vault, a, "ecole", base=True)) == sorted([
        "Notre fille entre à l'école primaire en septembre",
        "Base knowledge: école means school",
    ])  # fmt: skip
    assert "Bob's secret école is private" not in search(vault, a, "ecole", base=True)


def test_index_follows_update_delete_and_rollback(
    vault: memvault.Vault, two_users: tuple[str, str]
) -> None:
    a, _ = two_users
    mem = vault.memories.add(a, "note", "The parrot is called Coco")
    assert search(vault, a, "parrot") == ["The parrot is called Coco"]
    vault.memories.update(mem.id, content="The budgie is called Kiwi")
    assert search(vault, a, "parrot") == []
    assert search(vault, a, "budgie") == ["The budgie is called Kiwi"]
    vault.memories.update(mem.id, context="bought in the Lisbon market")
    assert search(vault, a, "Lisbon") == ["The budgie is called Kiwi"]
    vault.memories.delete(mem.id)
    assert search(vault, a, "budgie") == []
    with pytest.raises(RuntimeError), vault.transaction():
        vault.memories.add(a, "note", "A zebra crossing appeared")
        assert search(vault, a, "zebra") == ["A zebra crossing appeared"]  # same transaction
        raise RuntimeError("roll back")
    assert search(vault, a, "zebra") == []


def test_messages_by_user_and_session(vault: memvault.Vault) -> None:
    u = vault.users.create("cat").id
    s1 = vault.sessions.create(u).id
    s2 = vault.sessions.create(u).id
    vault.messages.append(s1, "user", "Je suis allé à la bibliothèque municipale")
    m2 = vault.messages.append(s2, "assistant", "The library opens at nine")
    vault.messages.append(s2, "user", "Bibliothèque fermée le lundi")
    hits = vault.messages.search(u, "bibliotheque", mode="text")
    assert len(hits) == 2
    hits = vault.messages.search(u, "bibliotheque", mode="text", session_id=s2)
    assert texts(hits) == ["Bibliothèque fermée le lundi"]
    vault.messages.edit(m2.id, "The museum opens at nine")
    assert texts(vault.messages.search(u, "museum", mode="text")) == ["The museum opens at nine"]
    assert vault.messages.search(u, "library", mode="text") == []
    other = vault.users.create("dan").id
    assert vault.messages.search(other, "bibliotheque", mode="text") == []


def test_response_patterns_are_indexed(vault: memvault.Vault) -> None:
    u = vault.users.create("eve").id
    with vault.transaction() as tx:
        now = tx.ts(vault.clock())
        rows = (
            (u, "l'utilisateur est fâché", "Je comprends, désolé"),
            (None, "user greets", "Hello there, how can I help?"),
        )
        for owner, trig, resp in rows:
            tx.execute(
                "INSERT INTO response_patterns (id, user_id, intent, trigger_context, "
                "response_text, created_at, updated_at) VALUES (:id, :u, 'general', :t, :r, "
                ":now, :now)",
                {"id": new_id(), "u": owner, "t": trig, "r": resp, "now": now},
            )
    hits = vault.search.patterns(u, "fache")
    assert [h.item.response_text for h in hits] == ["Je comprends, désolé"]
    assert [h.item.user_id for h in vault.search.patterns(u, "greets")] == [None]
    assert vault.search.patterns(u, "greets", layered=False) == []


def test_upgrade_indexes_a_populated_database(engine: str, vault_url: str) -> None:
    if engine != "sqlite":
        # an emptied PostgreSQL database already at head: go back to 0001 first
        store = open_store(parse_url(vault_url))
        try:
            from alembic import command

            from memvault.store.migrator import _config

            eng = store.sqlalchemy_engine()
            with eng.connect() as conn:
                cfg = _config()
                cfg.attributes["connection"] = conn
                command.downgrade(cfg, "0001")
                conn.commit()
            eng.dispose()
        finally:
            store.close()
    store = open_store(parse_url(vault_url))
    try:
        if engine == "sqlite":
            migrator.upgrade(store, "0001")
        assert migrator.current(store) == "0001"
        uid, sid = new_id(), new_id()
        with store.write() as tx:
            now = tx.ts(memvault.clock.utcnow())
            tx.execute("INSERT INTO users (id, handle, created_at, updated_at) "
                       "VALUES (:id, 'old', :n, :n)", {"id": uid, "n": now})  # fmt: skip
            tx.execute(
                "INSERT INTO memories (id, user_id, kind, content, content_hash, created_at, "
                "updated_at) VALUES (:id, :u, 'fact', 'Ancienne mémoire sur la forêt', 'h', "
                ":n, :n)",
                {"id": new_id(), "u": uid, "n": now},
            )
            tx.execute("INSERT INTO sessions (id, user_id, started_at, updated_at, last_seq, "
                       "message_count) VALUES (:id, :u, :n, :n, 1, 1)",
                       {"id": sid, "u": uid, "n": now})  # fmt: skip
            tx.execute(
                "INSERT INTO messages (id, session_id, user_id, seq, role, content, created_at) "
                "VALUES (:id, :s, :u, 1, 'user', 'un vieux message sur la forêt', :n)",
                {"id": new_id(), "s": sid, "u": uid, "n": now},
            )
    finally:
        store.close()
    v = memvault.open(vault_url)
    try:
        assert v.schema_version == migrator.head()
        assert search(v, uid, "foret") == ["Ancienne mémoire sur la forêt"]
        assert texts(v.messages.search(uid, "foret", mode="text")) == [
            "un vieux message sur la forêt"
        ]
    finally:
        v.close()


def test_erase_user_leaves_no_term_in_the_fulltext_index(tmp_path: Path) -> None:
    import sqlean

    path = tmp_path / "erase.db"
    v = memvault.open(f"sqlite:///{path}")
    gone = v.users.create("gone").id
    s = v.sessions.create(gone).id
    v.messages.append(s, "user", "a message about qwvmarker")
    v.memories.add(gone, "fact", "memory qwvmarker", context="qwvmarker context")
    v.erase_user(gone)
    v.close()
    conn = sqlean.connect(str(path))
    try:
        for table in ("messages_fts", "memories_fts", "response_patterns_fts"):
            conn.execute(f"CREATE VIRTUAL TABLE temp.v_{table} USING fts5vocab(main, {table}, row)")
            terms = [r[0] for r in conn.execute(f"SELECT term FROM temp.v_{table}")]
            assert "qwvmarker" not in terms and not any(t.startswith("u0") for t in terms)
    finally:
        conn.close()


def test_erase_user_leaves_no_text_in_sqlite_files(tmp_path: Path) -> None:
    path = tmp_path / "erase.db"
    v = memvault.open(f"sqlite:///{path}")
    marker = "zqxjmarker" + "71"
    keep = v.users.create("keep").id
    gone = v.users.create("gone").id
    v.memories.add(keep, "fact", "kept memory about apples")
    s = v.sessions.create(gone).id
    for i in range(50):
        v.messages.append(s, "user", f"message {i} mentions {marker} and the word{i}")
    v.memories.add(gone, "fact", f"memory with {marker}", context=f"{marker} context")
    assert len(v.messages.search(gone, marker, mode="text", k=100)) == 50
    v.erase_user(gone)
    assert v.messages.search(gone, marker, mode="text") == []
    assert search(v, keep, "apples") == ["kept memory about apples"]
    v.close()
    for suffix in ("", "-wal", "-shm"):
        f = Path(str(path) + suffix)
        if f.exists():
            assert marker.encode() not in f.read_bytes(), f"{marker} left in {f.name}"
    assert os.path.exists(path)


def test_window_is_exact_below_its_size_and_filters_apply_inside_it(
    vault: memvault.Vault,
) -> None:
    """Ranking looks at the newest `fulltext_window` matches that pass every filter: with
    fewer matches than the window the result equals an unwindowed ranking, and a filter never
    empties a result because non-matching rows filled the window."""
    u = vault.users.create("win").id
    old = vault.memories.add(u, "preference", "otter otter otter, the oldest and best match")
    for i in range(30):
        vault.memories.add(u, "fact", f"otter note number {i} with padding words here")
    full = search(vault, u, "otter", k=31)
    assert len(full) == 31 and full[0] == old.content  # tf 3: best BM25 / ts_rank
    vault.search.fulltext_window = 31  # every match fits: same order as unwindowed
    assert search(vault, u, "otter", k=31) == full
    vault.search.fulltext_window = 10  # only the 10 newest matches are ranked
    windowed = search(vault, u, "otter", k=31)
    assert len(windowed) == 10 and old.content not in windowed
    assert set(windowed) == {f"otter note number {i} with padding words here"
                             for i in range(20, 30)}  # fmt: skip
    # the filter is applied inside the window: the old preference is still found
    assert search(vault, u, "otter", kinds=["preference"]) == [old.content]
    assert search(vault, u, "otter", filters={"content": {"contains": "oldest"}}) == [old.content]


def test_hybrid_text_leg_uses_the_hybrid_window(vault: memvault.Vault) -> None:
    u = vault.users.create("hw").id
    for i in range(12):
        vault.memories.add(u, "fact", f"walrus fact {i}")
    assert vault.search.hybrid_window <= vault.search.fulltext_window
    vault.search.hybrid_window = 5
    model = "hw-model"
    rng_vecs = [[1.0, float(i)] for i in range(12)]
    with vault.transaction():
        for mem, vec in zip(vault.memories.list(u, limit=100), rng_vecs, strict=False):
            vault.embeddings.put(vec, model=model, memory_id=mem.id)
    hits = vault.memories.search(u, "walrus", k=12, query_vector=[0.0, -1.0], model=model,
                                 track_access=False)  # fmt: skip
    text_hits = [h for h in hits if "text" in h.matched]
    assert len(text_hits) == 5  # the 5 newest matches only
    assert len(search(vault, u, "walrus", k=12)) == 12  # text mode: the full window


def _fts_sql(store: object, table: str) -> str:
    with store.read() as tx:  # type: ignore[attr-defined]
        return str(tx.scalar("SELECT sql FROM sqlite_master WHERE name = :n", {"n": table}))


def _downgrade(url: str, revision: str) -> None:
    from alembic import command

    from memvault.store.migrator import _config

    store = open_store(parse_url(url))
    eng = store.sqlalchemy_engine()
    try:
        with eng.connect() as conn:
            cfg = _config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)
            conn.commit()
    finally:
        eng.dispose()
        store.close()


def test_prefix_index_revision_returns_the_same_rows(tmp_path: Path) -> None:
    """Revision 0004 (FTS5 prefix='2 3 4') changes cost, never results: the same ids and
    scores for prefix queries of every length before and after, and writes after the
    upgrade are indexed by the recreated triggers."""
    from memvault.search import fulltext, syntax

    url = f"sqlite:///{tmp_path / 'prefix.db'}"
    v = memvault.open(url)
    words = ["école", "écolier", "economie", "ecran", "primaire", "prime", "prix", "pr",
             "bibliothèque", "biblique", "bicyclette", "tea", "teapot", "team"]  # fmt: skip
    users = [v.users.create(f"p{i}").id for i in range(2)]
    import random

    rnd = random.Random(4)
    with v.transaction():
        for i in range(240):
            text = " ".join(rnd.choice(words) for _ in range(rnd.randint(2, 7)))
            v.memories.add(users[i % 2], "fact", f"{text} #{i}", context=rnd.choice(words))
    queries = ["e*", "ec*", "eco*", "ecol*", "écol*", "pr*", "pri*", "prim*", "bib*", "te*",
               "tea*", '"ecole primaire"*', "ec* -economie", "bi* OR pri*", "ecole"]  # fmt: skip

    def results(store: object) -> dict[str, list[tuple[str, float]]]:
        out = {}
        with store.read() as tx:  # type: ignore[attr-defined]
            for q in queries:
                node = syntax.parse(q)
                assert node is not None
                got = fulltext.candidates(tx, "memories", node, owners=[users[0]], limit=500)
                out[q] = [(str(i), round(s, 9)) for i, s in got]
        return out

    assert v.schema_version == migrator.head()
    after = results(v.store)
    assert all(after[q] for q in queries)
    assert "prefix='2 3 4'" in _fts_sql(v.store, "memories_fts")
    v.close()
    _downgrade(url, "0003")
    store = open_store(parse_url(url))
    try:
        assert migrator.current(store) == "0003"
        assert "prefix" not in _fts_sql(store, "memories_fts")
        assert results(store) == after
    finally:
        store.close()
    v = memvault.open(url)  # upgrades to 0004 again
    try:
        assert results(v.store) == after
        for table in ("messages_fts", "memories_fts", "response_patterns_fts"):
            assert "prefix='2 3 4'" in _fts_sql(v.store, table)
        new = v.memories.add(users[0], "fact", "ecologie urbaine")
        assert search(v, users[0], "ecolo*") == ["ecologie urbaine"]
        v.memories.update(new.id, content="zoologie urbaine")
        assert search(v, users[0], "ecolo*") == []
        assert search(v, users[0], "zo*") == ["zoologie urbaine"]
        v.memories.delete(new.id)
        assert search(v, users[0], "zo*") == []
        s = v.sessions.create(users[1]).id
        v.messages.append(s, "user", "une bicyclette rouge")
        assert [h.item.content for h in v.messages.search(users[1], "bic*", mode="text")] == [
            "une bicyclette rouge"]  # fmt: skip
    finally:
        v.close()
