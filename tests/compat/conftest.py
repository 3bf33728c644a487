"""The mem0 facade over a vault of every engine, with a small deterministic embedder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import memvault
from memvault.compat.mem0 import Memory
from memvault.embed.base import HashingEmbedder


@pytest.fixture
def mem(vault_url: str) -> Iterator[Memory]:
    vault = memvault.open(vault_url, embedder=HashingEmbedder(64))
    try:
        yield Memory(vault)
    finally:
        vault.close()
