"""Text no engine can store, given on the command line, is one clear error naming the field,
never a traceback, and nothing is written (run as a user runs it: the installed entry point)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import memvault
from tests.test_cli_core import MEMVAULT


def test_undecodable_argument_is_invalid_input_naming_the_field(
    vault: memvault.Vault, vault_url: str, tmp_path: Path
) -> None:
    def run(*args: str | bytes) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([MEMVAULT, *args, "--db", vault_url], cwd=tmp_path,
                              capture_output=True, timeout=120)  # fmt: skip

    assert run("users", "add", "alice").returncode == 0
    # Bytes that are not UTF-8 reach Python as lone surrogates (PEP 383): 'caf\udce9'.
    result = run("memories", "add", "fact", b"caf\xe9", "--user", "alice")
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 1, stderr
    assert "invalid content=" in stderr and "lone surrogate" in stderr
    assert "Traceback" not in stderr and "UnicodeEncodeError" not in stderr
    listed = run("memories", "list", "--user", "alice", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    assert vault.memories.count() == 0
