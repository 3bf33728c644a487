"""Invariants of a store, checked after any path that writes to it.

`stale_vectors`: a stored vector always belongs to its row's current text. Two independent
checks per vector:

- its recorded text digest (`embeddings.metadata.text_sha256`, written with the vector)
  equals the digest of the row's current text (a memory: content, then context);
- for the models the caller can compute (`embedders`, default: the vault's embedder), the
  row's current text embedded again is the stored vector (cosine >= `min_cosine`).

A vector with neither (no digest, a model nobody here can compute) cannot be checked: it is
reported too, unless its model is listed in `unverified_models` (e.g. vectors that came from a
legacy source with its own model).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

import memvault

# Defined here, not imported from the code under test: the checker states the rule itself.
TEXT_KEY = "text_sha256"


def embed_text(content: str, context: str | None) -> str:
    """What a memory's vector embeds: its content, then its context when it has one."""
    return content + (f" {context}" if context else "")


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


QUERIES = {
    "memory": (
        "SELECT e.memory_id AS id, e.model, e.vector, e.metadata, t.content, t.context "
        "FROM embeddings e JOIN memories t ON t.id = e.memory_id"
    ),
    "message": (
        "SELECT e.message_id AS id, e.model, e.vector, e.metadata, t.content, NULL AS context "
        "FROM embeddings e JOIN messages t ON t.id = e.message_id"
    ),
}


def stale_vectors(
    vault: memvault.Vault,
    embedders: Mapping[str, Any] | None = None,
    *,
    min_cosine: float = 0.99,
    unverified_models: Iterable[str] = (),
) -> list[str]:
    """Every violation of "a vector belongs to its row's current text" (empty: none)."""
    if embedders is None:
        emb = vault.search.embedder
        embedders = {} if emb is None else {emb.name: emb}
    trusted = set(unverified_models)
    problems: list[str] = []
    with vault.store.read() as tx:
        rows = [(kind, r, tx.json_out(r["metadata"]) or {}) for kind, sql in QUERIES.items()
                for r in tx.all(sql)]  # fmt: skip
    for kind, row, meta in rows:
        text = embed_text(row["content"], row["context"]) if kind == "memory" else row["content"]
        what = f"{kind} {row['id']} ({row['model']}, text {text[:40]!r})"
        digest = meta.get(TEXT_KEY)
        if digest is not None and digest != text_digest(text):
            problems.append(f"{what}: the vector was computed from another text")
        emb = embedders.get(row["model"])
        if emb is not None:
            stored = np.frombuffer(bytes(row["vector"]), dtype="<f4")
            fresh = np.asarray(emb.embed([text])[0], dtype=np.float32)
            cos = float(stored @ fresh / (np.linalg.norm(stored) * np.linalg.norm(fresh) or 1))
            if cos < min_cosine:
                problems.append(f"{what}: cosine {cos:.3f} with its current text's vector")
        elif digest is None and row["model"] not in trusted:
            problems.append(f"{what}: no text digest and no embedder to check it")
    return problems


def assert_vectors_current(vault: memvault.Vault, **options: Any) -> None:
    problems = stale_vectors(vault, **options)
    assert not problems, "\n".join(problems)
