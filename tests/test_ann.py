"""Approximate vector index files (search/ann.py): recall against exact search, filters,
other processes' writes and deletes after the build, rebuilds seen by open Vaults, and exact
answers whenever the files are missing, corrupt or do not fit."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import memvault
from memvault.errors import InvalidInput
from tests.test_vectors import brute, clustered

MODEL = "ann-file-64"


def fill(vault: memvault.Vault, n: int, seed: int = 0) -> tuple[str, list[str], np.ndarray]:
    u = vault.users.create(f"ann{seed}").id
    mat = clustered(n, seed=seed)
    ids = []
    with vault.transaction():
        for i, vec in enumerate(mat):
            kind = "preference" if i % 100 == 0 else "fact"
            mem = vault.memories.add(u, kind, f"a{i}", embedding=vec, embedding_model=MODEL,
                                     metadata={"half": i % 2})  # fmt: skip
            ids.append(mem.id)
    return u, ids, mat


def vsearch(vault: memvault.Vault, u: str, q: np.ndarray, k: int = 10, **kw: object) -> list[Any]:
    return vault.memories.search(u, "", mode="vector", query_vector=q, model=MODEL, k=k,
                                 track_access=False, **kw)  # fmt: skip


def pairs(hits: list[Any]) -> list[tuple[str, float]]:
    return [(h.item.id, h.score) for h in hits]


def test_recall_filters_and_owner_threshold(
    vault: memvault.Vault, engine: str, vault_url: str, tmp_path: Path
) -> None:
    if engine != "sqlite":  # PostgreSQL: files only where a folder is named
        with pytest.raises(InvalidInput):
            vault.search.ann_build(MODEL)
        vault.search.ann_dir = tmp_path / "ann"
    u, ids, mat = fill(vault, 3000)
    small = vault.users.create("small").id
    vault.memories.add(small, "fact", "alone", embedding=mat[0], embedding_model=MODEL)
    for bad in ({"min_rows": 0}, {"lists": 0}, {"kinds": ["nope"]}):
        with pytest.raises(InvalidInput):
            vault.search.ann_build(MODEL, **bad)
    built = vault.search.ann_build(MODEL, min_rows=1000)
    assert [(b["owner"], b["kind"], b["count"], b["seq"]) for b in built] == [
        (u, "memory", 3000, 3000)
    ]
    folder = vault.search.ann_folder()
    assert folder is not None and len(list(folder.glob("*.json"))) == 1
    if engine == "sqlite":
        assert folder == tmp_path / "vault.db.ann"

    queries = clustered(100, seed=77)
    other = memvault.open(vault_url)  # a process that only asks for approximate search
    other.search.ann_dir = vault.search.ann_dir
    try:
        recalls = []
        for q in queries:
            exact = vsearch(vault, u, q)
            approx = vsearch(other, u, q, approximate=True)
            assert [h.item.id for h in exact] == [ids[i] for i in brute(mat, q, 10)]
            assert len(approx) == 10
            scores = [h.score for h in approx]
            assert scores == sorted(scores, reverse=True)
            truth = dict(pairs(exact))
            for i, s in pairs(approx):  # a shared hit has the exact cosine
                assert i not in truth or abs(truth[i] - s) < 1e-5
            recalls.append(len(set(truth) & {h.item.id for h in approx}) / 10)
        # answered from the files: the exact matrix was never loaded in that process
        assert other.search.index.stats()["rows"] == 0
    finally:
        other.close()
    print(f"{engine}: recall@10 of the index files = {np.mean(recalls):.3f}")
    assert np.mean(recalls) >= 0.9
    # filters: half the rows pass (walked in the lists); 1 % pass (30 rows): exact answer
    half = vsearch(vault, u, queries[0], approximate=True, filters={"metadata.half": 1})
    assert len(half) == 10 and all(ids.index(h.item.id) % 2 == 1 for h in half)
    prefs = vsearch(vault, u, queries[0], k=5, kinds=["preference"], approximate=True)
    assert [h.item.id for h in prefs] == [ids[j * 100] for j in brute(mat[::100], queries[0], 5)]
    # the owner under the threshold has no file and gets the exact answer
    assert pairs(vsearch(vault, small, mat[0], approximate=True)) == pairs(
        vsearch(vault, small, mat[0])
    )
    # hybrid takes the option too
    assert vault.memories.search(u, "a1", query_vector=queries[1], model=MODEL, approximate=True)


CHILD = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import memvault
    url, u, model, delete_id, update_id, new_vec, upd_vec = sys.argv[1:]
    v = memvault.open(url)
    new = v.memories.add(u, "fact", "added elsewhere", embedding=json.loads(new_vec),
                         embedding_model=model)
    v.memories.delete(delete_id)
    v.embeddings.put(json.loads(upd_vec), model=model, memory_id=update_id)
    gone = v.memories.add(u, "fact", "added, then deleted", embedding=json.loads(new_vec),
                          embedding_model=model)
    v.memories.delete(gone.id)
    print(new.id)
    v.close()
    """
)


def test_other_process_writes_after_the_build(sqlite_vault: memvault.Vault) -> None:
    """The index is built here; another process adds, deletes and replaces vectors; this
    Vault (already holding the index) and a fresh process both see every change."""
    vault = sqlite_vault
    u, ids, mat = fill(vault, 2000, seed=3)
    vault.search.ann_build(MODEL, min_rows=1)
    q = clustered(3, seed=99)
    top1 = vsearch(vault, u, q[1], k=1, approximate=True)[0].item.id
    victim = ids[5]
    assert victim not in {h.item.id for h in vsearch(vault, u, q[2], approximate=True)}
    url = vault.url
    out = subprocess.run(
        [sys.executable, "-c", CHILD, url, u, MODEL, top1, victim,
         json.dumps(q[0].tolist()), json.dumps(q[2].tolist())],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    new_id = out.stdout.strip()

    def check(v: memvault.Vault) -> None:
        first = vsearch(v, u, q[0], approximate=True)
        assert first[0].item.id == new_id and first[0].score == pytest.approx(1.0, abs=1e-5)
        near = vsearch(v, u, q[1], 50, approximate=True)
        assert len(near) == 50 and top1 not in {h.item.id for h in near}
        moved = vsearch(v, u, q[2], approximate=True)
        assert moved[0].item.id == victim and moved[0].score == pytest.approx(1.0, abs=1e-5)
        # the old vector of the replaced row is not returned near its old place
        old = vsearch(v, u, mat[5], 50, approximate=True)
        assert len(old) == 50 and victim not in {h.item.id for h in old}

    check(vault)
    # the index alone (before hydration drops vanished rows): each id once, current scores
    folder = vault.search.ann_folder()
    assert folder is not None
    for query in (q[0], q[1], q[2], mat[5]):
        with vault.store.read() as tx:
            got = vault.search.ann.search(folder, tx, u, MODEL, "memory", query, 60, probes=8)
        assert got is not None and len(got) == 60
        assert len({i for i, _ in got}) == 60 and top1 not in {i for i, _ in got}
        exact = {i: s for i, s in pairs(vsearch(vault, u, query, 200))}
        assert all(abs(exact[i] - s) < 1e-5 for i, s in got if i in exact)
    fresh = memvault.open(url)
    try:
        check(fresh)
        assert fresh.search.index.stats()["rows"] == 0
    finally:
        fresh.close()
    vault.memories.delete(new_id)  # added after the build, seen here, then deleted
    with vault.store.read() as tx:
        got = vault.search.ann.search(folder, tx, u, MODEL, "memory", q[0], 30, probes=8)
    assert got is not None and new_id not in {i for i, _ in got}


def test_rebuild_by_the_cli_in_another_process(sqlite_vault: memvault.Vault) -> None:
    """`memvault reindex --ann` in another process: an open Vault picks the new files up."""
    vault = sqlite_vault
    u, _ids, _mat = fill(vault, 1500, seed=4)
    q = clustered(1, seed=98)[0]
    exact = vsearch(vault, u, q)
    assert pairs(vsearch(vault, u, q, approximate=True)) == pairs(exact)  # no index yet
    url = vault.url
    env_cmd = [sys.executable, "-c", "from memvault.cli import main; main()"]
    out = subprocess.run(
        [*env_cmd, "reindex", "--ann", "--model", MODEL, "--min-rows", "1", "--db", url,
         "--json"], capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["memories"] >= 1500
    assert [(a["owner"], a["count"]) for a in report["ann"]] == [(u, 1500)]
    vault.search.index.clear()
    approx = vsearch(vault, u, q, approximate=True)
    assert vault.search.index.stats()["rows"] == 0  # answered from the new files
    assert len({h.item.id for h in approx} & {h.item.id for h in exact}) >= 8


def test_missing_corrupt_or_mismatched_files_give_exact_answers(
    sqlite_vault: memvault.Vault, caplog: pytest.LogCaptureFixture
) -> None:
    vault = sqlite_vault
    u, ids, mat = fill(vault, 1200, seed=5)
    vault.search.ann_build(MODEL, min_rows=1)
    folder = vault.search.ann_folder()
    assert folder is not None
    q = clustered(1, seed=97)[0]
    exact = pairs(vsearch(vault, u, q))
    [build_dir] = [p for p in folder.iterdir() if p.is_dir()]
    data = build_dir / "data.npy"
    data.write_bytes(data.read_bytes()[:1000])  # truncated
    (folder / next(folder.glob("*.json")).name).touch()  # a new stamp: reread
    vault.search.ann.clear()
    with caplog.at_level(logging.WARNING, logger="memvault.search.ann"):
        assert pairs(vsearch(vault, u, q, approximate=True)) == exact
    assert "ignoring approximate index" in caplog.text
    # a pointer file naming another index, and a missing folder
    pointer = next(folder.glob("*.json"))
    meta = json.loads(pointer.read_text())
    pointer.write_text(json.dumps({**meta, "model": "other"}))
    assert pairs(vsearch(vault, u, q, approximate=True)) == exact
    pointer.unlink()
    assert pairs(vsearch(vault, u, q, approximate=True)) == exact
    # files of another database (same owner id and model, other rows): detected, ignored
    vault.search.ann_build(MODEL, min_rows=1)
    with vault.transaction():
        for mid in ids:
            vault.memories.delete(mid)
    with vault.store.write() as tx:  # as if restored: counters and tombstones gone
        tx.execute("DELETE FROM vector_tombstones")
        tx.execute("UPDATE vector_clock SET value = value + 5000")
    fresh = fill_same_owner(vault, u, mat[:50])
    vault.search.ann.clear()
    with caplog.at_level(logging.WARNING, logger="memvault.search.ann"):
        got = vsearch(vault, u, q, approximate=True)
    assert {h.item.id for h in got} <= set(fresh)
    assert "does not match this database" in caplog.text


def fill_same_owner(vault: memvault.Vault, u: str, mat: np.ndarray) -> list[str]:
    with vault.transaction():
        return [vault.memories.add(u, "fact", f"b{i}", embedding=vec, embedding_model=MODEL).id
                for i, vec in enumerate(mat)]  # fmt: skip


def test_cli_search_approximate(tmp_path: Path) -> None:
    from memvault.cli import app

    url = f"sqlite:///{tmp_path}/cli.db"
    v = memvault.open(url)
    u = v.users.create("cli")
    for text in ["the bakery opens at seven", "bread is sold out", "the train leaves at noon",
                 "a croissant and a coffee", "the museum is closed on monday"]:  # fmt: skip
        v.memories.add(u.id, "fact", text)
    v.close()
    runner = CliRunner()
    assert runner.invoke(app, ["embed", "--db", url, "--json"]).exit_code == 0
    out = runner.invoke(app, ["reindex", "--ann", "--min-rows", "1", "--db", url, "--json"])
    assert out.exit_code == 0, out.output
    assert [a["count"] for a in json.loads(out.output)["ann"]] == [5]
    args = ["search", "croissant", "--user", "cli", "--db", url, "--mode", "vector", "--json"]
    exact = runner.invoke(app, args)
    approx = runner.invoke(app, [*args, "--approximate"])
    assert approx.exit_code == 0, approx.output
    ids = [[h["item"]["id"] for h in json.loads(o.output)] for o in (exact, approx)]
    assert ids[0] == ids[1] and len(ids[0]) == 5


def test_rebuilt_automatically_once_enough_rows_arrived(
    vault: memvault.Vault, engine: str, tmp_path: Path
) -> None:
    """A growing collection: once the rows written after the build reach the threshold, a
    search starts one rebuild in the background; the next searches use the new build (the
    rows no longer sit in the exact side matrix), and the answers stay right throughout."""
    if engine != "sqlite":
        vault.search.ann_dir = tmp_path / "ann"
    u, ids, mat = fill(vault, 1200, seed=5)
    first = vault.search.ann_build(MODEL, min_rows=1)
    assert [b["count"] for b in first] == [1200]
    folder = vault.search.ann_folder()
    assert folder is not None
    vault.search.ann.rebuild_min = 200
    vault.search.ann.rebuild_fraction = 0.25  # 300 rows of the 1,200 built
    more = clustered(400, seed=6)

    def meta() -> dict[str, Any]:
        (pointer,) = folder.glob("*.json")
        return dict(json.loads(pointer.read_text()))

    def add(rows: np.ndarray, start: int) -> None:
        with vault.transaction():
            for i, vec in enumerate(rows):
                mem = vault.memories.add(u, "fact", f"b{start + i}", embedding=vec,
                                         embedding_model=MODEL)  # fmt: skip
                ids.append(mem.id)

    add(more[:250], 0)  # below the threshold: no rebuild
    vsearch(vault, u, more[0], approximate=True)
    vault.search.ann_wait(60)
    assert meta()["count"] == 1200
    add(more[250:], 250)  # 400 rows since the build: the next search asks for a rebuild
    got = vsearch(vault, u, more[300], approximate=True)
    assert got[0].item.id == ids[1200 + 300]
    vault.search.ann_wait(60)
    assert meta()["count"] == 1600 and meta()["seq"] >= 1600
    allm = np.vstack([mat, more])
    for q in (more[390], mat[7]):  # the new build answers, rows after the old one included
        hits = vsearch(vault, u, q, approximate=True)
        assert [h.item.id for h in hits][:3] == [ids[i] for i in brute(allm, q, 3)]
    with vault.store.read() as tx:
        live = vault.search.ann._get(folder, u, MODEL, "memory")
        vault.search.ann._refresh(tx, live, u, MODEL, "memory")
    assert live.built is not None and live.built.data.shape[0] == 1600 and live.delta.n == 0
