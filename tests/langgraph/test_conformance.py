"""`langgraph-checkpoint-conformance` (pinned 0.0.2), LangGraph's own suite for checkpointers,
against `MemvaultSaver` on SQLite, PostgreSQL 15 and PostgreSQL 18: every base capability
and every optional one (delete_for_runs, copy_thread, prune) must be detected and pass —
over a sync `Vault` (async methods on threads) and over a `memvault.aio` vault (natively
async on PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import memvault
import memvault.aio
from tests.langgraph.conftest import empty_graph_tables

BASE_CHECKS = 58  # what 0.0.2 runs for put, put_writes, get_tuple, list and delete_thread
OPTIONAL_CHECKS = 23  # and for delete_for_runs, copy_thread and prune


def _run_suite(vault: memvault.Vault, *, aio: bool = False) -> Any:
    from langgraph.checkpoint.conformance import checkpointer_test, validate
    from langgraph.checkpoint.conformance.capabilities import (
        BASE_CAPABILITIES,
        EXTENDED_CAPABILITIES,
    )

    from memvault.langgraph import MemvaultSaver

    @checkpointer_test(name=f"MemvaultSaver[{vault.engine}]")
    async def memvault_saver() -> AsyncIterator[MemvaultSaver]:
        empty_graph_tables(vault)  # a fresh checkpointer per capability: no rows of the last
        if aio:
            async with memvault.aio.open(vault.url) as avault:
                assert (avault.astore is not None) == (vault.engine == "postgresql")
                saver = MemvaultSaver(avault)
                try:
                    yield saver
                finally:
                    saver.close()
            return
        saver = MemvaultSaver(vault)
        try:
            yield saver
        finally:
            saver.close()

    report = asyncio.run(validate(memvault_saver))
    return report, {c.value for c in BASE_CAPABILITIES}, {c.value for c in EXTENDED_CAPABILITIES}


@pytest.mark.parametrize("aio", [False, True], ids=["vault", "aio"])
def test_every_capability_of_the_conformance_suite_passes(
    graph_vault: memvault.Vault, engine: str, aio: bool
) -> None:
    report, base, optional = _run_suite(graph_vault, aio=aio)
    results = report.results
    assert set(results) == base | optional
    undetected = sorted(name for name, r in results.items() if not r.detected)
    assert not undetected, f"capabilities not detected: {undetected}"
    failures = {name: [str(f) for f in r.failures] for name, r in results.items() if r.tests_failed}
    assert not failures, f"failing conformance checks: {failures}"
    assert all(r.passed for r in results.values())
    # Every check ran: a suite that silently ran fewer would pass the asserts above.
    assert sum(results[c].tests_passed for c in base) == BASE_CHECKS
    assert sum(results[c].tests_passed for c in optional) == OPTIONAL_CHECKS
