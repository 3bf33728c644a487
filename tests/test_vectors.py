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
from memvault.store import vectors

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
