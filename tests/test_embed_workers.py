"""`embed_missing` with several workers (what `memvault embed` runs): every row embedded once,
with its own text's vector, written in order, `limit` kept, resumable."""

from __future__ import annotations

import memvault
from memvault.embed import HashingEmbedder
from memvault.threads import embed_threads, engine_threads


def test_workers_embed_every_row_with_its_own_vector(vault_url: str) -> None:
    emb = HashingEmbedder(64)
    with memvault.open(vault_url, embedder=emb, embed_memories=False) as vault:
        users = [vault.users.create(f"u{i}").id for i in range(3)]
        texts: dict[str, str] = {}
        with vault.transaction():
            for i in range(230):
                text = f"memory {i} about topic {i % 17} and place {i % 5}"
                texts[vault.memories.add(users[i % 3], "fact", text).id] = text
        seen: list[int] = []
        done = vault.search.embed_missing("memory", batch=16, limit=100, workers=3,
                                          progress=seen.append)  # fmt: skip
        assert done == 100 and sum(seen) == 100 and max(seen) <= 16
        assert vault.search.missing("memory", emb.name) == 130
        done = vault.search.embed_missing("memory", batch=16, workers=3)  # resumes
        assert done == 130 and vault.search.missing("memory", emb.name) == 0
        assert vault.search.embed_missing("memory", batch=16, workers=3) == 0
        for owner in users:
            for mem_id, text in texts.items():
                if vault.memories.get(mem_id).user_id != owner:
                    continue
                q = emb.embed([text])[0]
                hits = vault.memories.search(owner, "", mode="vector", query_vector=q,
                                             model=emb.name, k=1, track_access=False)  # fmt: skip
                assert hits[0].item.id == mem_id and abs(hits[0].score - 1.0) < 1e-5
        with vault.store.read() as tx:
            per_row = tx.all("SELECT memory_id, count(*) AS n FROM embeddings GROUP BY memory_id")
        assert len(per_row) == 230 and all(int(r["n"]) == 1 for r in per_row)


def test_engine_threads_fix_the_count_for_this_thread_only() -> None:
    assert embed_threads(1) == 1
    with engine_threads(1):
        assert embed_threads(500) == 1
    with engine_threads(3):
        assert embed_threads(1) == 3
    assert embed_threads(1) == 1
