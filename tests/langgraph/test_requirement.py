"""Without LangGraph installed, the tests here skip on a developer's machine and fail in CI."""

from __future__ import annotations

import pytest

from tests.langgraph import conftest


def test_missing_langgraph_fails_in_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(conftest, "LANGGRAPH_MISSING", "langgraph is not installed")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must install it"):
        conftest.require_langgraph()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        conftest.require_langgraph()
