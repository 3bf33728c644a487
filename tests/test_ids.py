from __future__ import annotations

import uuid
from datetime import UTC, datetime

from memvault.ids import derived_id, is_id, new_id


def test_new_ids_are_uuid7_and_strictly_increasing() -> None:
    ids = [new_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    parsed = uuid.UUID(ids[0])
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122


def test_new_id_time_prefix_is_now() -> None:
    before = int(datetime.now(UTC).timestamp() * 1000)
    value = uuid.UUID(new_id()).int >> 80
    after = int(datetime.now(UTC).timestamp() * 1000)
    assert before <= value <= after + 1


def test_derived_ids_are_deterministic_and_time_ordered() -> None:
    t1 = datetime(2024, 1, 1, tzinfo=UTC)
    t2 = datetime(2025, 1, 1, tzinfo=UTC)
    assert derived_id("workly:fact:1", t1) == derived_id("workly:fact:1", t1)
    assert derived_id("workly:fact:1", t1) != derived_id("workly:fact:2", t1)
    assert derived_id("a", t1) < derived_id("a", t2)
    assert uuid.UUID(derived_id("a", t1)).version == 7


def test_is_id() -> None:
    assert is_id(new_id())
    assert not is_id("nope")
    assert not is_id(new_id().upper())
    assert not is_id(None)


def test_derived_ids_are_pinned() -> None:
    # Values given by the first implementation (str(uuid.UUID(int=...))): an import resumed
    # or re-run with a newer memvault must derive the same ids, or rows would be duplicated.
    at = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert derived_id("generic:id:m0", at) == "018bcfe5-6800-7bef-9d3b-1c417173e894"
    assert derived_id("x") == "00000000-0000-7d71-9642-b726b0440162"
    assert derived_id("ü:%3A", datetime(2026, 1, 1, tzinfo=UTC)) == (
        "019b76da-a800-762c-916b-612d06298a69"
    )


def test_id_text_matches_the_uuid_module() -> None:
    for i in range(2_000):
        key = f"k{i}"
        text = derived_id(key, datetime.fromtimestamp(i * 7919.0, UTC))
        assert text == str(uuid.UUID(text))
