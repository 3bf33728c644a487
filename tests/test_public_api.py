"""The public surface: pinned names, and a core that never imports the CLI or the server."""

from __future__ import annotations

import subprocess
import sys

import memvault


def test_public_names_are_pinned() -> None:
    assert sorted(memvault.__all__) == sorted(
        [
            "ANY", "Conflict", "Event", "Forbidden", "IntegrityViolation", "InvalidInput",
            "Memory", "MemoryChange", "MemvaultError", "Message", "NotFound", "Project",
            "SchemaError", "SchemaTooNew", "Session", "Stats", "StoreBusy", "StoreError",
            "StoreFull", "StoreUnavailable", "User", "Vault", "__version__", "derived_id",
            "new_id", "open",
        ]
    )  # fmt: skip
    for name in memvault.__all__:
        assert hasattr(memvault, name), name


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
