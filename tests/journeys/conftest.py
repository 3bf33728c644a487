"""Journeys: the CLI and the service driven as subprocesses, the way a newcomer uses them.

Every journey runs the installed `memvault` entry point in a temporary working directory
(no MEMVAULT_URL inherited), on realistic shapes and sizes, and checks what a user would
look at afterwards: exit codes, what the output says, and what the store then holds.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

MEMVAULT = shutil.which("memvault", path=os.path.dirname(sys.executable)) or "memvault"


def user_env(**extra: str) -> dict[str, str]:
    """The environment a user's shell has: ours, less MEMVAULT_URL, wide enough columns."""
    env = {k: v for k, v in os.environ.items() if k != "MEMVAULT_URL"}
    env["COLUMNS"] = "200"
    env.update(extra)
    return env


@dataclass
class Cli:
    """Runs `memvault …` in `cwd` as a subprocess."""

    cwd: Path
    env: dict[str, str] = field(default_factory=user_env)

    def __call__(
        self, *args: str, input: str | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [MEMVAULT, *args], cwd=self.cwd, capture_output=True, text=True, input=input,
            env=self.env, timeout=timeout,
        )  # fmt: skip

    def ok(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run and assert exit 0, showing stderr when not."""
        result = self(*args, input=input)
        assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-2000:])
        return result

    def json(self, *args: str) -> Any:
        """Run with --json appended and parse stdout."""
        return json.loads(self.ok(*args, "--json").stdout)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """`memvault` in a fresh working directory (its default store is ./memvault.db there)."""
    return Cli(tmp_path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Service:
    """A `memvault serve` process on a loopback port."""

    process: subprocess.Popen[str]
    url: str
    log_path: Path

    @property
    def log(self) -> str:
        """What the process printed so far (stdout and stderr)."""
        return self.log_path.read_text(errors="replace")

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stop the process (SIGTERM: a clean shutdown) and return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return int(self.process.returncode)


def start_service(cli: Cli, *args: str, timeout: float = 60) -> Service:
    """Start `memvault serve --port P *args` under `cli`'s directory and wait until it answers."""
    port = free_port()
    log_path = cli.cwd / f"serve-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [MEMVAULT, "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            cwd=cli.cwd, env=cli.env, stdout=log, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    service = Service(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"memvault serve exited {process.returncode}: {service.log[-2000:]}")
        try:
            if httpx.get(f"{service.url}/api/health", timeout=2).status_code < 500:
                return service
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            service.stop(signal.SIGKILL)
            raise RuntimeError("memvault serve did not answer in time")
        time.sleep(0.1)


@pytest.fixture
def service(cli: Cli) -> Iterator[Any]:
    """A factory: `service(*serve_args)` starts `memvault serve`; every one is stopped after."""
    started: list[Service] = []

    def start(*args: str) -> Service:
        s = start_service(cli, *args)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()
