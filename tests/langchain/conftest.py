"""memvault.langchain under LangChain's own standard suites (`langchain-tests`), offline.

LangChain is the `memvault[langchain]` extra (and part of `test`): without it every test here
skips on a developer's machine and fails in CI (CI=true), where it must be installed.

Every test in this folder runs with the network blocked, as LangChain runs these suites
(`pytest --disable-socket --allow-unix-socket`): pytest-socket's own `disable_socket` marker
is put on each item collected here, and `--allow-unix-socket` (in pyproject's addopts) lets
asyncio create its event loop. PostgreSQL is still reached: libpq opens its connection in C,
below Python's `socket` module, so the suites prove that nothing else goes out.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._servers import in_ci

HERE = Path(__file__).resolve().parent

try:
    import langchain_core.vectorstores  # noqa: F401
    import langchain_tests  # noqa: F401

    LANGCHAIN_MISSING = ""
except ImportError:  # pragma: no cover - depends on the environment
    LANGCHAIN_MISSING = (
        "langchain-core or langchain-tests is not installed (memvault[langchain], memvault[test])"
    )


def require_langchain(*, module: bool = False) -> None:
    """Skip without LangChain; in CI, fail instead. `module=True` at the top of a test
    module whose classes subclass LangChain's suites (they cannot even be defined without
    it)."""
    if LANGCHAIN_MISSING:
        if in_ci():
            pytest.fail(f"{LANGCHAIN_MISSING}; CI must install it", pytrace=False)
        pytest.skip(LANGCHAIN_MISSING, allow_module_level=module)


@pytest.fixture(autouse=True)
def _needs_langchain() -> None:
    require_langchain()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.disable_socket)
