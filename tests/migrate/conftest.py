"""Shared helpers for the source-reader tests."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from memvault.migrate.sources._base import Scan


def collect(scan: Scan) -> dict[str, list[Any]]:
    """All records of a scan grouped by record type name (in yield order)."""
    grouped: dict[str, list[Any]] = defaultdict(list)
    for record in scan.records():
        grouped[type(record).__name__].append(record)
    assert scan.done
    return grouped


def by_key(records: Iterable[Any]) -> dict[str, Any]:
    """Records indexed by source_key (asserting keys are unique)."""
    out: dict[str, Any] = {}
    for record in records:
        assert record.source_key not in out, record.source_key
        out[record.source_key] = record
    return out
