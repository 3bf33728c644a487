"""Everything under tests/reliability is marked `reliability`: CI runs it in its own step."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/reliability/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.reliability)


def report(name: str, **figures: object) -> None:
    """Print one figure line (captured with -s, and shown in the summary with -rA)."""
    shown = ", ".join(f"{k}={v}" for k, v in figures.items())
    print(f"\nFIGURE {name}: {shown}")
