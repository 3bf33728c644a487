"""Vectors on every engine: float32 storage with model and dimension, exact search equal to
numpy brute force, deletions honoured, other processes' writes visible at the next query,
tenant isolation, filters, and pgvector HNSW where the extension exists (pg18)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import memvault
from memvault.errors import InvalidInput, NotFound
from memvault.search import vectors

MODEL = "test-model"


def rand(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def brute(mat: np.ndarray, q: np.ndarray, k: int) -> list[int]:
    norm = mat / np.linalg.norm(mat, axis=1, keepdims=True)
    return list(np.argsort(-(norm @ (q / np.linalg.norm(q))), kind="stable")[:k])


def vsearch(vault: memvault.Vault, user: str | None, q: np.ndarray, k: int = 5, **kw: object):
    return vault.memories.search(
        user, "", mode="vector", query_vector=q, model=MODEL, k=k, track_access=False, **kw
    )


def test_store_roundtrip_and_checks(vault: memvault.Vault) -> None:
    u = vault.users.create("v").id
    vec = rand(1)[0]
    mem = vault.memories.add(u, "fact", "with a vector", embedding=vec, embedding_model=MODEL)
    got = vault.embeddings.get(model=MODEL, memory_id=mem.id)
    assert got is not None and got.dtype == np.float32 and np.array_equal(got, vec)
    with vault.store.read() as tx:
        row = tx.one("SELECT dim, model FROM embeddings WHERE memory_id = :m", {"m": mem.id})
    assert row is not None and row["dim"] == 16 and row["model"] == MODEL
    with pytest.raises(InvalidInput):
        vault.embeddings.put(rand(1, 8)[0], model=MODEL, memory_id=mem.id)  # other dimension
    with pytest.raises(InvalidInput):
        vault.embeddings.put([1.0, float("nan")], model="m2", memory_id=mem.id)
    with pytest.raises(InvalidInput):
        vault.embeddings.put(vec, model="bad model'; --", memory_id=mem.id)
    with pytest.raises(NotFound):
        vault.embeddings.put(vec, model=MODEL, memory_id=memvault.ids.new_id())
    # a failed write leaves neither the memory nor its vector
    with pytest.raises(InvalidInput):
        vault.memories.add(u, "fact", "bad vector", embedding=rand(1, 3)[0], embedding_model=MODEL)
    assert vault.memories.count(u) == 1


def test_exact_search_equals_brute_force(vault: memvault.Vault) -> None:
    u = vault.users.create("v").id
    mat = rand(300, seed=1)
    ids = []
    with vault.transaction():
        for i, vec in enumerate(mat):
            ids.append(vault.memories.add(u, "fact", f"m{i}", embedding=vec,
                                          embedding_model=MODEL).id)  # fmt: skip
    for qi, q in enumerate(rand(5, seed=2)):
        hits = vsearch(vault, u, q, k=10)
        assert [h.item.id for h in hits] == [ids[i] for i in brute(mat, q, 10)], qi
        assert all(h.matched == ("vector",) for h in hits)
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True)


def test_deleted_vectors_are_never_returned(vault: memvault.Vault) -> None:
    u = vault.users.create("v").id
    mat = rand(40, seed=3)
    mems = [vault.memories.add(u, "fact", f"d{i}", embedding=v, embedding_model=MODEL)
            for i, v in enumerate(mat)]  # fmt: skip
    q = mat[7]
    assert vsearch(vault, u, q, k=1)[0].item.id == mems[7].id  # matrix loaded
    vault.memories.delete(mems[7].id)  # cascades to the embedding
    assert mems[7].id not in [h.item.id for h in vsearch(vault, u, q, k=40)]
    vault.embeddings.delete(memory_id=mems[8].id)
    assert mems[8].id not in [h.item.id for h in vsearch(vault, u, mat[8], k=40)]
    vault.embeddings.put(mat[8], model=MODEL, memory_id=mems[8].id)  # back again
    assert vsearch(vault, u, mat[8], k=1)[0].item.id == mems[8].id
    vault.embeddings.put(-mat[9], model=MODEL, memory_id=mems[9].id)  # replaced vector
    assert vsearch(vault, u, -mat[9], k=1)[0].item.id == mems[9].id
    assert len(vsearch(vault, u, q, k=100)) == 39


def test_tenant_isolation_and_base_layer(vault: memvault.Vault) -> None:
    a = vault.users.create("a").id
    b = vault.users.create("b").id
    mat = rand(3, seed=4)
    vault.memories.add(a, "fact", "a0", embedding=mat[0], embedding_model=MODEL)
    vault.memories.add(b, "fact", "b0", embedding=mat[1], embedding_model=MODEL)
    vault.memories.add(None, "fact", "base0", embedding=mat[2], embedding_model=MODEL)
    assert [h.item.content for h in vsearch(vault, a, mat[1], k=10)] == ["a0"]
    assert sorted(h.item.content for h in vsearch(vault, a, mat[1], k=10, base=True)) == [
        "a0", "base0"]  # fmt: skip
    assert [h.item.content for h in vsearch(vault, None, mat[0], k=10)] == ["base0"]
    vault.erase_user(b)
    assert vsearch(vault, b, mat[1]) == []


def test_filters_apply_to_the_vector_leg(vault: memvault.Vault) -> None:
    u = vault.users.create("f").id
    mat = rand(200, seed=5)
    ids = []
    with vault.transaction():
        for i, vec in enumerate(mat):
            kind = "preference" if i % 50 == 0 else "fact"
            ids.append(vault.memories.add(u, kind, f"f{i}", embedding=vec, embedding_model=MODEL,
                                          metadata={"n": i}).id)  # fmt: skip
    q = rand(1, seed=6)[0]
    hits = vsearch(vault, u, q, k=10, kinds=["preference"])
    prefs = [i for i in range(200) if i % 50 == 0]
    expect = [ids[prefs[j]] for j in brute(mat[prefs], q, 4)]
    assert [h.item.id for h in hits] == expect
    hits = vsearch(vault, u, q, k=5, filters={"metadata.n": {"gte": 190}})
    expect = [ids[190 + j] for j in brute(mat[190:], q, 5)]
    assert [h.item.id for h in hits] == expect


def test_other_process_writes_are_visible_at_next_query(
    vault: memvault.Vault, vault_url: str
) -> None:
    u = vault.users.create("p").id
    mat = rand(10, seed=7)
    for i, vec in enumerate(mat[:5]):
        vault.memories.add(u, "fact", f"p{i}", embedding=vec, embedding_model=MODEL)
    assert len(vsearch(vault, u, mat[7], k=10)) == 5  # this process holds a matrix now
    first = vsearch(vault, u, mat[0], k=1)[0].item.id
    code = textwrap.dedent(f"""
        import numpy as np, memvault
        v = memvault.open({vault_url!r})
        mat = np.random.default_rng(7).standard_normal((10, 16)).astype(np.float32)
        for i in range(5, 10):
            v.memories.add({u!r}, "fact", f"p{{i}}", embedding=mat[i], embedding_model={MODEL!r})
        v.memories.delete({first!r})
        v.close()
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    hits = vsearch(vault, u, mat[7], k=10)
    assert len(hits) == 9 and hits[0].item.content == "p7"
    assert first not in [h.item.id for h in hits]


def test_pgvector_where_available(vault: memvault.Vault, engine: str) -> None:
    with vault.store.read() as tx:
        has = vectors.has_pgvector(tx)
    assert has == (engine == "pg18")
    if not has:
        return
    u = vault.users.create("ann").id
    mat = rand(500, seed=8)
    ids = []
    with vault.transaction():
        for i, vec in enumerate(mat):
            ids.append(vault.memories.add(u, "fact", f"h{i}", embedding=vec,
                                          embedding_model=MODEL).id)  # fmt: skip
    with vault.store.write() as tx:
        assert vectors.ann_index(tx, MODEL, 16) is not None
    q = rand(1, seed=9)[0]
    with vault.store.write() as tx:
        got = vectors.ann_search(tx, u, MODEL, "memory", q, 10, ef_search=200)
    truth = {ids[i] for i in brute(mat, q, 10)}
    assert len(truth & {g[0] for g in got}) >= 8


def test_pgvector_mirror_holds_each_float32_exactly(vault: memvault.Vault, engine: str) -> None:
    """The `vec` column (pgvector, written from its text literal) holds the very float32
    values of the `vector` blob, extremes included, through put_many's batch and add."""
    if engine != "pg18":
        return  # no pgvector mirror elsewhere (test_pgvector_where_available pins which)
    u = vault.users.create("exact").id
    edge = [1e-45, -1e-45, 1.1754942e-38, 3.4028235e38, -3.4028235e38, 0.1, 1 / 3, -0.0]
    mat = np.vstack([rand(3, seed=5), np.resize(np.array(edge, np.float32), 16)])
    mat = mat.astype(np.float32)
    vault.memories.put_many(u, [{"key": f"k{i}", "kind": "fact", "content": f"x{i}",
                                 "embedding": v, "embedding_model": MODEL}
                                for i, v in enumerate(mat[:3])])  # fmt: skip
    vault.memories.add(u, "fact", "edge", embedding=mat[3], embedding_model=MODEL)
    with vault.store.read() as tx:
        rows = tx.all("SELECT vector, CAST(vec AS real[]) AS mirror FROM embeddings")
    assert len(rows) == 4
    for row in rows:
        blob = np.frombuffer(bytes(row["vector"]), dtype="<f4")
        assert np.array_equal(np.asarray(row["mirror"], dtype=np.float32), blob)


ANN_MODEL = "ann-test-64"


def clustered(n: int, dim: int = 64, seed: int = 0, clusters: int = 40) -> np.ndarray:
    """Real-ish embeddings: points around cluster centres, as in bench/search.py."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(1234).standard_normal((clusters, dim)).astype(np.float32)
    x = centres[rng.integers(0, clusters, n)] + 0.6 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_approximate_search_recall_and_exact_fallback(
    vault: memvault.Vault, engine: str, vault_url: str
) -> None:
    """`approximate=True` uses pgvector HNSW on pg18 (recall@10 against exact asserted) and
    is exactly the exact search where pgvector is missing (pg15, SQLite): same API."""
    u = vault.users.create("ann").id
    mat = clustered(3000)
    ids = []
    with vault.transaction():
        for i, vec in enumerate(mat):
            kind = "preference" if i % 100 == 0 else "fact"
            mem = vault.memories.add(u, kind, f"a{i}", embedding=vec, embedding_model=ANN_MODEL,
                                     metadata={"half": i % 2})  # fmt: skip
            ids.append(mem.id)
    name = vault.search.ann_index(ANN_MODEL)
    assert (name is not None) == (engine == "pg18")
    with vault.store.read() as tx:
        assert vectors.has_ann_index(tx, ANN_MODEL, 64) == (engine == "pg18")

    def run(q: np.ndarray, approximate: bool, k: int = 10, **kw: object) -> list:
        return vault.memories.search(u, "", mode="vector", query_vector=q, model=ANN_MODEL, k=k,
                                     track_access=False, approximate=approximate, **kw)  # fmt: skip

    queries = clustered(20, seed=77)
    other = memvault.open(vault_url)  # a process that only ever asks for approximate search
    try:
        got = other.memories.search(u, "", mode="vector", query_vector=queries[0],
                                    model=ANN_MODEL, approximate=True)  # fmt: skip
        assert len(got) == 10
        # pg18 answered from the HNSW index, without loading the collection into memory
        assert (other.search.index.stats()["rows"] == 0) == (engine == "pg18")
    finally:
        other.close()
    recalls = []
    for q in queries:
        exact = run(q, False)
        approx = run(q, True)
        assert [h.item.id for h in exact] == [ids[i] for i in brute(mat, q, 10)]
        assert len(approx) == 10
        scores = [h.score for h in approx]
        assert scores == sorted(scores, reverse=True)
        if engine != "pg18":  # no pgvector: the exact path, identical
            assert [(h.item.id, h.score) for h in approx] == [(h.item.id, h.score) for h in exact]
        recalls.append(len({h.item.id for h in exact} & {h.item.id for h in approx}) / 10)
    print(f"{engine}: recall@10 approximate vs exact = {np.mean(recalls):.3f}")
    assert np.mean(recalls) >= 0.9 and min(recalls) >= 0.6
    # filters hold under the index: a half filter is walked by the graph, a 1% one (30 rows)
    # falls back to the exact matrix; both return only passing rows, best first
    half = run(queries[0], True, filters={"metadata.half": 1})
    assert len(half) == 10 and all(ids.index(h.item.id) % 2 == 1 for h in half)
    prefs = run(queries[0], True, k=5, kinds=["preference"])
    expect = [ids[j * 100] for j in brute(mat[::100], queries[0], 5)]
    assert [h.item.id for h in prefs] == expect
    # deletions are honoured and hybrid accepts the option too
    top = run(queries[1], True, k=1)[0].item.id
    vault.memories.delete(top)
    assert top not in [h.item.id for h in run(queries[1], True)]
    hits = vault.memories.search(u, "a5", query_vector=queries[1], model=ANN_MODEL, k=5,
                                 approximate=True, track_access=False)  # fmt: skip
    assert len(hits) == 5
    vault.search.approximate = True  # the vault-wide default
    assert [h.item.id for h in run(queries[2], None)] == [h.item.id for h in run(queries[2], True)]
