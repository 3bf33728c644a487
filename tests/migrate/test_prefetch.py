"""`Prefetch`: items in order from another thread, errors where they happened, clean stop."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from memvault.migrate.prefetch import Prefetch


def test_items_arrive_in_order_from_another_thread() -> None:
    producers: set[str] = set()

    def items() -> Iterator[int]:
        for i in range(50):
            producers.add(threading.current_thread().name)
            yield i

    with Prefetch(items(), depth=3) as ahead:
        assert list(ahead) == list(range(50))
    assert producers == {"memvault-prefetch"}


def test_an_error_is_raised_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("bad row 3")

    got: list[int] = []
    with Prefetch(items()) as ahead, pytest.raises(ValueError, match="bad row 3"):
        for item in ahead:
            got.append(item)
    assert got == [1, 2]


def test_closing_early_stops_the_producer_and_runs_its_cleanup() -> None:
    produced: list[int] = []
    cleaned = threading.Event()

    def items() -> Iterator[int]:
        try:
            for i in range(1_000_000):
                produced.append(i)
                yield i
        finally:
            cleaned.set()

    ahead = Prefetch(items(), depth=2)
    first = next(iter(ahead))
    ahead.close()
    assert first == 0
    assert cleaned.is_set()  # the generator was closed before close() returned
    assert len(produced) <= 4  # bounded by depth: it did not run ahead of the consumer
    ahead.close()  # idempotent
