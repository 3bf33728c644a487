"""The hook's own option parser (argparse costs the hook a third of its start-up): the same
forms argparse took, and the spool name argparse's hashlib gave."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from memvault.hook.run import BUSY_TIMEOUT, _sha256, parse, spool_for


def test_options_in_every_form_argparse_took(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMVAULT_URL", "sqlite:///env.db")
    monkeypatch.delenv("MEMVAULT_USER", raising=False)
    opts, unknown = parse([])
    assert (opts.db, opts.user, opts.agent, opts.context, opts.background) == (
        "sqlite:///env.db", None, "claude-code", True, False)  # fmt: skip
    assert opts.busy_timeout == BUSY_TIMEOUT and unknown == []
    assert parse(["-u", "bo"])[0].user == "bo"  # as `memvault hook -h` shows it
    argv = ["--db", "a.db", "--user=ada", "--back", "--no-context", "--busy-timeout", "0.2",
            "stray", "--later", "--agent", "codex"]  # fmt: skip
    opts, unknown = parse(argv)
    assert (opts.db, opts.user, opts.agent) == ("a.db", "ada", "codex")
    assert (opts.background, opts.context, opts.busy_timeout) == (True, False, 0.2)
    assert unknown == ["stray", "--later"]
    with pytest.raises(ValueError, match="--key needs a value"):
        parse(["--key"])
    with pytest.raises(ValueError):
        parse(["--busy-timeout", "soon"])


def test_the_spool_keeps_its_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Spooled events are replayed by the spool's file name: the digest must be hashlib's."""
    assert _sha256(b"x|y").hexdigest() == hashlib.sha256(b"x|y").hexdigest()
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.delenv("MEMVAULT_HOOK_SPOOL", raising=False)
    opts, _ = parse(["--db", "sqlite:///v.db", "--user", "ada"])
    target = "sqlite:///v.db|ada|claude-code"
    assert (
        spool_for(opts).path.name
        == f"hook-{hashlib.sha256(target.encode()).hexdigest()[:16]}.jsonl"
    )


def test_help_lists_every_option_the_hook_takes() -> None:
    """README and `memvault hook -h` name the same options the hook's own parser takes."""
    import os
    import shutil
    import subprocess
    import sys

    from memvault.hook.run import _options

    exe = shutil.which("memvault", path=os.path.dirname(sys.executable)) or "memvault"
    shown = subprocess.run([exe, "hook", "-h"], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "COLUMNS": "200"})  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    missing = [name for name in _options() if name not in shown.stdout]
    assert missing == [], shown.stdout
