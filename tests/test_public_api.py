"""The public surface: pinned names, and a core that never imports the CLI or the server."""

from __future__ import annotations

import subprocess
import sys
from types import ModuleType

import memvault
from memvault import records


def test_public_names_are_pinned() -> None:
    assert sorted(memvault.__all__) == sorted(
        [
            "ANY", "Action", "AgentMessage", "AgentSubscription", "Conflict",
            "ConversationContext", "Duplicate", "EmotionEvent", "EmotionPattern",
            "EmotionalPatterns", "Event",
            "EventBus", "Owner", "ScopedVault", "Subscription", "to_dict", "to_json",
            "Forbidden", "Hit", "Hits", "IntegrityViolation", "InvalidInput", "Memory",
            "MemoryChange", "MemvaultError", "Message", "NotFound", "Pattern", "PatternUse",
            "Personality", "Profile", "Project", "PruneReport", "Request", "RequestOverview",
            "ResponsePattern", "RetentionPolicy", "RoutingScore", "SchemaError", "SchemaTooNew",
            "Session", "Stats", "StoreBusy", "StoreError", "StoreFull", "StoreUnavailable",
            "Subtask", "Suggestion", "TaskList", "ToolStats", "Trait", "TraitChange",
            "TrajectoryPoint", "TriggerCount", "UsageStats", "User", "Vault", "__version__",
            "derived_id", "new_id", "open",
        ]
    )  # fmt: skip
    for name in memvault.__all__:
        assert hasattr(memvault, name), name


def test_all_is_exactly_what_the_package_holds() -> None:
    """As httpx pins it: every public name of the package is in `__all__` and nothing else
    is (the lazy `Vault` and `open` are loaded first; submodules are not names)."""
    for name in memvault.__all__:
        getattr(memvault, name)
    held = sorted(
        name
        for name, value in vars(memvault).items()
        if (not name.startswith("_") or name == "__version__") and not isinstance(value, ModuleType)
    )
    assert held == sorted(memvault.__all__)


def test_every_record_type_is_exported() -> None:
    """A record the API returns is importable from `memvault` as soon as it is defined
    (`dir`, not `vars`: a record is built on first use, see `memvault.deferred`)."""
    defined = {
        name
        for name in dir(records)
        if isinstance(value := getattr(records, name), type)
        and value.__module__ == records.__name__
    }
    assert {"User", "Action", "Hit", "Hits", "PruneReport"} <= defined
    assert defined <= set(memvault.__all__), defined - set(memvault.__all__)
    for name in defined:
        assert getattr(memvault, name) is getattr(records, name)


def test_core_imports_neither_typer_nor_fastapi(tmp_path) -> None:
    code = (
        "import sys, memvault\n"
        f"v = memvault.open({str(tmp_path / 'x.db')!r})\n"
        "v.users.ensure('a'); v.close()\n"
        "bad = [m for m in ('typer', 'fastapi', 'starlette', 'uvicorn', 'click') "
        "if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_error_is_a_memvault_error() -> None:
    for name in ("Conflict", "Forbidden", "InvalidInput", "NotFound", "SchemaTooNew",
                 "StoreBusy", "StoreFull", "StoreUnavailable", "IntegrityViolation"):  # fmt: skip
        assert issubclass(getattr(memvault, name), memvault.MemvaultError)
