"""Real mem0ai, offline: its local Qdrant in a folder, its history in SQLite there, no
telemetry, and memvault's deterministic `HashingEmbedder` in place of a remote model, so
that both sides embed every text identically."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from memvault.embed.base import HashingEmbedder

DIMENSION = 64


def embedder() -> HashingEmbedder:
    """The embedder both sides use."""
    return HashingEmbedder(DIMENSION)


def real_memory(
    folder: Path, emb: HashingEmbedder | None = None, *, asynchronous: bool = False
) -> Any:
    """A `mem0.Memory` (`mem0.AsyncMemory` when `asynchronous`) that never leaves the
    machine."""
    os.environ["MEM0_TELEMETRY"] = "False"  # read when mem0 is first imported
    os.environ.setdefault("MEM0_DIR", str(folder / "mem0-home"))
    from mem0 import AsyncMemory, Memory
    from mem0.embeddings.base import EmbeddingBase

    source = emb or embedder()

    class Injected(EmbeddingBase):  # type: ignore[misc]
        """mem0's embedder interface over memvault's embedder."""

        def embed(self, text: str, memory_action: Any = None) -> list[float]:
            return [float(x) for x in source.embed([text])[0]]

        def embed_batch(self, texts: list[str], memory_action: Any = "add") -> list[list[float]]:
            return [[float(x) for x in row] for row in source.embed(texts)]

    memory = (AsyncMemory if asynchronous else Memory).from_config(
        {
            "vector_store": {
                "provider": "qdrant",
                "config": {
                    "path": str(folder / "qdrant"),
                    "collection_name": "mem0",
                    "embedding_model_dims": source.dimension,  # on_disk: mem0's default
                },
            },
            # Constructed, never called: infer=False makes no LLM call and the embedder is
            # replaced below. The key only lets the OpenAI clients be built offline.
            "llm": {"provider": "openai", "config": {"api_key": "offline"}},
            "embedder": {"provider": "openai", "config": {"api_key": "offline"}},
            "history_db_path": str(folder / "history.db"),
        }
    )
    # mem0 accepts any EmbeddingBase as its `embedding_model`: the factory only builds one
    # from a provider name, so an instance is put in place after construction.
    memory.embedding_model = Injected()
    return memory
