"""Imports and dual-write keep the vector invariant (a vector belongs to its row's current
text) and leave memories embedded: an import embeds its memories after loading, in batches,
with progress events; a re-run after an edit changes nothing stale; dual-write embeds on
write. Every engine, the real embedder."""

from __future__ import annotations

from pathlib import Path

import memvault
from memvault.migrate.dualwrite import DualWrite, JsonFileLegacy
from memvault.migrate.pipeline import ProgressEvent, import_source
from tests.invariants import assert_vectors_current
from tests.migrate import legacy_data as ld


def legacy_models(vault: memvault.Vault) -> set[str]:
    """Models of vectors that came from the legacy source (not computable here)."""
    with vault.store.read() as tx:
        rows = tx.all("SELECT DISTINCT model FROM embeddings WHERE model <> :m",
                      {"m": vault.search.embed_model()})  # fmt: skip
    return {r["model"] for r in rows}


def test_import_embeds_its_memories_and_a_rerun_after_an_edit_stays_current(
    vault: memvault.Vault, tmp_path: Path
) -> None:
    root = ld.write_all(tmp_path / "src")
    events: list[ProgressEvent] = []
    import_source(vault, root, format="auto", backup_dir=tmp_path / "b", progress=events.append)
    name = vault.search.embed_model()
    total = vault.memories.count()
    assert total > 0 and vault.search.missing("memory", name) == 0
    embed = [e for e in events if e.phase == "embed"]
    assert embed and embed[-1].records == total and embed[-1].fraction == 1.0
    legacy = legacy_models(vault)
    assert_vectors_current(vault, unverified_models=legacy)
    # Edit an imported memory, then import the same source again.
    memory = vault.memories.list(memvault.ANY, limit=1, track_access=False)[0]
    vault.memories.update(memory.id, content="Rides a red bicycle to the office")
    import_source(vault, root, format="auto", backup_dir=tmp_path / "b")
    assert vault.memories.get(memory.id).content == "Rides a red bicycle to the office"
    assert vault.search.missing("memory", name) == 0
    assert_vectors_current(vault, unverified_models=legacy)


def test_import_without_embedding(vault_url: str, tmp_path: Path) -> None:
    v = memvault.open(vault_url, embed_memories=False)  # `memvault import --no-embed`
    try:
        import_source(v, ld.write_all(tmp_path / "src"), format="auto", backup=False)
        assert v.search.missing("memory", v.search.embed_model()) == v.memories.count() > 0
    finally:
        v.close()


def test_dual_write_embeds_memories(vault: memvault.Vault, tmp_path: Path) -> None:
    dw = DualWrite(vault, JsonFileLegacy(tmp_path / "legacy.json"), user="desk",
                   stage="dual-write")  # fmt: skip
    dw.add_memory("fact", "aime le thé vert")
    dw.add_memory("fact", "AIME le thé   vert")  # the same memory for memvault
    assert vault.memories.count() == 1
    assert vault.search.missing("memory", vault.search.embed_model()) == 0
    assert_vectors_current(vault)
    hits = vault.memories.search(dw.user_id, "what does she drink", mode="vector", k=1)
    assert hits[0].item.content == "aime le thé vert"


def test_a_reimport_undoes_no_edit_made_here_but_takes_a_legacy_change(
    vault: memvault.Vault, tmp_path: Path
) -> None:
    """A memory edited in memvault keeps the edit through a re-import of an unchanged
    source; when the legacy record itself changes, the re-import takes the change."""
    root = ld.write_edgesoul(tmp_path / "src")
    import_source(vault, root, format="edgesoul", backup=False)
    memory = next(
        m
        for m in vault.memories.list(memvault.ANY, limit=1000, track_access=False)
        if "source_key" in m.metadata
    )
    vault.memories.update(memory.id, confidence=0.123, reason="corrected here")
    again = import_source(vault, root, format="edgesoul", backup=False)
    assert again.tables["memories"].updated == 0
    assert vault.memories.get(memory.id, track_access=False).confidence == 0.123
