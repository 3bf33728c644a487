"""The exact vector scan's two passes (search/vectors.py): whatever the data (duplicates,
ties, zero vectors, near-equal rows), the pruned scan returns exactly what scoring every
row returns, with and without the int8 first pass, with filters, after deletions and
replacements; on every engine through `memories.search`; and it does prune."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import memvault
from memvault.search import vectors

MODEL = "exact-scan"


def reference(
    m: vectors._Matrix, q: np.ndarray, k: int, passes: set[str] | None
) -> list[tuple[str, float]]:
    """Score every row (the same exact scores), keep the passing ones, best first, equal
    scores in block order."""
    rows = np.arange(m.n, dtype=np.intp)
    scores = m.exact(rows, q.astype(np.float64))
    order = sorted(
        (i for i in range(m.n) if passes is None or m.ids[i] in passes),
        key=lambda i: (-scores[i], i),
    )
    return [(m.ids[i], float(scores[i])) for i in order[:k]]


def unit(q: np.ndarray) -> np.ndarray:
    return (q / (float(np.linalg.norm(q)) or 1.0)).astype(np.float32)


# Values from a small grid make duplicates and exact ties common; floats make near-ties.
GRID = st.sampled_from([-1.0, -0.5, 0.0, 0.25, 0.5, 1.0])
FLOAT = st.floats(-1, 1, allow_nan=False, width=32)


@st.composite
def cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, list[int], list[bool], int]:
    dim = draw(st.integers(1, 24))
    n = draw(st.integers(1, 120))
    value = draw(st.sampled_from([GRID, FLOAT]))
    block = draw(arrays(np.float32, (n, dim), elements=value))
    q = draw(arrays(np.float32, dim, elements=FLOAT))
    gone = draw(st.lists(st.integers(0, n - 1), max_size=n // 2, unique=True))
    mask = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    k = draw(st.integers(1, 30))
    return block, q, gone, mask, k


SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(case=cases(), quantized=st.booleans(), filtered=st.booleans(), replace=st.booleans())
def test_pruned_scan_equals_scoring_every_row(
    case: tuple[np.ndarray, np.ndarray, list[int], list[bool], int],
    quantized: bool,
    filtered: bool,
    replace: bool,
) -> None:
    block, q, gone, mask, k = case
    m = vectors._Matrix()
    keys = [f"r{i}" for i in range(len(block))]
    m.upsert(keys, block)
    for i in gone:
        m.remove(keys[i])
    if replace and m.n:  # replaced vectors: codes and error norms follow the row
        m.upsert([m.ids[0]], block[-1:][::-1] * -1)
    qn = unit(q)
    passes = {key for key, ok in zip(keys, mask, strict=True) if ok} if filtered else None
    calls: list[int] = []

    def allowed(ids: list[str]) -> set[str]:
        calls.append(len(ids))
        assert passes is not None
        return {i for i in ids if i in passes}

    def allowed_all() -> list[str]:
        assert passes is not None
        return sorted(passes)

    got = m.top(
        qn, k, quantized=quantized,
        allowed=allowed if filtered else None, allowed_all=allowed_all if filtered else None,
    )  # fmt: skip
    assert got == reference(m, qn, k, passes)
    # the exact scores are the true cosines of the stored rows (float64 of float32 values)
    for key, score in got:
        row = m.data[m.pos[key]]
        assert math.isclose(
            score, math.fsum(float(a) * float(b) for a, b in zip(row, qn, strict=True)),
            rel_tol=1e-12, abs_tol=1e-12,
        )  # fmt: skip


def test_int8_pass_prunes_and_stays_exact_at_scale() -> None:
    rng = np.random.default_rng(7)
    centers = rng.standard_normal((50, 64)).astype(np.float32)
    block = centers[rng.integers(0, 50, 20_000)] + rng.standard_normal((20_000, 64)).astype(
        np.float32
    )
    block[100] = block[200]  # an exact duplicate: a tie broken by block order
    m = vectors._Matrix()
    m.upsert([f"r{i}" for i in range(len(block))], block)
    for seed in range(20):
        q = unit(centers[seed] + np.random.default_rng(seed).standard_normal(64))
        if seed == 0:
            q = m.data[m.pos["r100"]].copy()
        before = m.rescored
        got = m.top(q, 10, quantized=True)
        assert m.rescored - before < m.n // 10  # the first pass ruled out most rows
        assert got == reference(m, q, 10, None)
    # the duplicates come out in block order, both
    top = [key for key, _ in m.top(m.data[m.pos["r100"]].copy(), 2, quantized=True)]
    assert top == ["r100", "r200"]


@pytest.mark.parametrize("quantized_from", [0, 10**9])
def test_search_is_exact_on_every_engine(vault: memvault.Vault, quantized_from: int) -> None:
    vault.search.index.quantized_from = quantized_from
    rng = np.random.default_rng(3)
    u = vault.users.create("x").id
    mat = rng.standard_normal((400, 32)).astype(np.float32)
    mat[7] = mat[8]  # duplicates tie
    items = [
        {"kind": "fact", "content": f"m{i}", "key": f"k/{i % 3}/{i}", "embedding": vec,
         "embedding_model": MODEL}
        for i, vec in enumerate(mat)
    ]  # fmt: skip
    mems = vault.memories.put_many(u, items)
    ids = [m.id for m in mems]
    norm = mat.astype(np.float64) / np.linalg.norm(mat.astype(np.float64), axis=1)[:, None]
    for qi in range(8):
        q = rng.standard_normal(32).astype(np.float32) if qi else mat[7]
        truth = norm @ (q.astype(np.float64) / np.linalg.norm(q.astype(np.float64)))
        for prefix in (None, "k/1/"):
            hits = vault.memories.search(
                u, "", mode="vector", query_vector=q, model=MODEL, k=15, track_access=False,
                key_prefix=prefix,
            )  # fmt: skip
            keep = [i for i in range(len(mat)) if prefix is None or i % 3 == 1]
            want = sorted(keep, key=lambda i: -truth[i])[:15]
            got = [h.item.id for h in hits]
            assert set(got) == {ids[i] for i in want}, (qi, prefix)
            assert [h.score for h in hits] == pytest.approx([truth[i] for i in want], abs=1e-6)
            assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(20, 400),
    spread=st.sampled_from([1e-4, 1e-3, 1e-2, 1e-1]),
    k=st.integers(1, 20),
)
def test_near_ties_within_the_quantisation_error(seed: int, n: int, spread: float, k: int) -> None:
    # Rows packed closer together than the int8 codes can tell apart: only the error bound
    # keeps the first pass from ruling out a row of the true top k.
    rng = np.random.default_rng(seed)
    base = rng.standard_normal(48).astype(np.float32)
    block = (base + spread * rng.standard_normal((n, 48))).astype(np.float32)
    m = vectors._Matrix()
    m.upsert([f"r{i}" for i in range(n)], block)
    q = unit(base + spread * rng.standard_normal(48).astype(np.float32))
    assert m.top(q, k, quantized=True) == reference(m, q, k, None)
