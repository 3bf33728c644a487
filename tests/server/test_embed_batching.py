"""`memvault serve` batches concurrent embedding requests (memvault.embed.batch): concurrent
POST /api/memories on a real server share engine calls, and each memory still gets the vector
of its own text."""

from __future__ import annotations

import threading

import numpy as np

from memvault.embed import BatchingEmbedder, E5SmallEmbedder
from memvault.embed.cache import CachedEmbedder
from tests.server.conftest import Served

CLIENTS = 12
POSTS = 4


def test_concurrent_posts_share_engine_calls(served: Served) -> None:
    emb = served.vault.search.embedder
    assert isinstance(emb, CachedEmbedder) and isinstance(emb.inner, BatchingEmbedder)
    batcher = emb.inner
    start = threading.Barrier(CLIENTS)
    made: dict[str, str] = {}
    errors: list[BaseException] = []

    def client(c: int) -> None:
        try:
            with served.client(served.alice_key) as http:
                start.wait(30)
                for i in range(POSTS):
                    text = f"client {c} remembers item {i}: the {['red', 'blue'][i % 2]} bicycle"
                    r = http.post("/api/memories", json={"kind": "fact", "content": text})
                    assert r.status_code == 201, r.text
                    made[r.json()["id"]] = text
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(made) == CLIENTS * POSTS
    # every text went through the batcher, in fewer engine calls than texts
    assert batcher.texts >= CLIENTS * POSTS
    assert batcher.batches < batcher.texts
    # and each memory holds the vector of its own text, not a neighbour's in the batch
    alone = E5SmallEmbedder(threads=1)
    ids = list(made)
    want = alone.embed([made[i] for i in ids])
    for i, vec in zip(ids, want, strict=True):
        hits = served.vault.memories.search(
            served.alice.id,
            "",
            mode="vector",
            query_vector=vec,
            model=alone.name,
            k=1,
            track_access=False,
        )
        assert hits[0].item.id == i and hits[0].score > 0.999
    assert np.all(np.isfinite(want))
