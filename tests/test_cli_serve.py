"""`memvault serve` start-up errors: a busy port, a missing store, a missing extra."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

MEMVAULT = shutil.which("memvault", path=os.path.dirname(sys.executable)) or "memvault"


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k != "MEMVAULT_URL"}
    out["COLUMNS"] = "200"
    return out


def test_a_busy_port_is_an_error_before_any_serving_banner(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    subprocess.run([MEMVAULT, "init", "--db", db], check=True, capture_output=True, env=env())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(
            [MEMVAULT, "serve", "--port", str(port), "--db", db],
            capture_output=True, text=True, timeout=60, env=env(),
        )  # fmt: skip
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is busy" in result.stderr, result.stderr
    assert "serving" not in result.stdout


def test_serve_without_a_store_refuses_and_init_creates_it(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    result = subprocess.run(
        [MEMVAULT, "serve", "--port", "1", "--db", f"sqlite:///{path}"],
        capture_output=True, text=True, timeout=60, env=env(),
    )  # fmt: skip
    assert result.returncode == 1 and "memvault init" in result.stderr
    assert not path.exists()
    # --init creates the store (the busy port then stops the service before it serves).
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(
            [MEMVAULT, "serve", "--init", "--port", str(port), "--db", f"sqlite:///{path}"],
            capture_output=True, text=True, timeout=60, env=env(),
        )  # fmt: skip
    assert result.returncode == 1 and "busy" in result.stderr, result.stderr
    assert path.exists()


def test_the_missing_extra_is_named_with_its_brackets(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['uvicorn'] = None\n"
        "from memvault.cli import main\n"
        f"sys.argv = ['memvault', 'serve', '--db', {str(tmp_path / 'x.db')!r}]\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env()
    )
    assert result.returncode == 1
    assert "pip install 'memvault[server]' (uvicorn)" in result.stderr, result.stderr
