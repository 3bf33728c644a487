"""Embedders: the protocol, the default offline model, a cache, a deterministic test model."""

from __future__ import annotations

from memvault.embed.base import Embedder, HashingEmbedder
from memvault.embed.batch import BatchingEmbedder
from memvault.embed.cache import CachedEmbedder
from memvault.embed.default import E5SmallEmbedder, available, default_embedder

__all__ = [
    "BatchingEmbedder",
    "CachedEmbedder",
    "E5SmallEmbedder",
    "Embedder",
    "HashingEmbedder",
    "available",
    "default_embedder",
]
