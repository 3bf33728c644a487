"""memvault.langgraph under LangGraph's own tests.

LangGraph is the `memvault[langgraph]` extra (and part of `test`): without it every test here
skips on a developer's machine and fails in CI (CI=true), where it must be installed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import memvault
from tests._servers import in_ci

try:
    import langgraph.checkpoint.conformance
    import langgraph.graph  # noqa: F401

    LANGGRAPH_MISSING = ""
except ImportError:  # pragma: no cover - depends on the environment
    LANGGRAPH_MISSING = (
        "langgraph, langgraph-checkpoint or langgraph-checkpoint-conformance is not installed"
        " (memvault[langgraph], memvault[test])"
    )

GRAPH_TABLES = ("graph_checkpoint_writes", "graph_checkpoint_blobs", "graph_checkpoints")


def require_langgraph() -> None:
    """Skip without LangGraph; in CI, fail instead."""
    if LANGGRAPH_MISSING:
        if in_ci():
            pytest.fail(f"{LANGGRAPH_MISSING}; CI must install it", pytrace=False)
        pytest.skip(LANGGRAPH_MISSING)


@pytest.fixture(autouse=True)
def _needs_langgraph() -> None:
    require_langgraph()


def empty_graph_tables(vault: memvault.Vault) -> None:
    """Delete every checkpoint, blob and write: each conformance suite starts from none."""
    with vault.store.write() as tx:
        for table in GRAPH_TABLES:
            tx.execute(f"DELETE FROM {table}")


@pytest.fixture
def graph_vault(vault: memvault.Vault) -> Iterator[memvault.Vault]:
    """The engine's empty vault, without checkpoints left by an earlier test."""
    empty_graph_tables(vault)
    yield vault
