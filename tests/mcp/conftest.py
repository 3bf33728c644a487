"""`memvault mcp` driven by the official SDK's own clients, as a real subprocess.

The `mcp` package is the `memvault[mcp]` extra (and part of `test`): without it every test
that needs it skips on a developer's machine and fails in CI (CI=true), where it must be
installed (`require_mcp()`, autouse here; journeys call it).
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
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests._servers import in_ci

try:
    import mcp  # noqa: F401

    MCP_MISSING = ""
except ImportError:  # pragma: no cover - depends on the environment
    MCP_MISSING = "the mcp package (memvault[mcp]) is not installed"


def require_mcp() -> None:
    """Skip without the mcp package; in CI, fail instead."""
    if MCP_MISSING:
        if in_ci():
            pytest.fail(f"{MCP_MISSING}; CI must install it", pytrace=False)
        pytest.skip(MCP_MISSING)


@pytest.fixture(autouse=True)
def _needs_mcp() -> None:
    require_mcp()


MEMVAULT = shutil.which("memvault", path=os.path.dirname(sys.executable)) or "memvault"


def server_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("MEMVAULT_URL", "MEMVAULT_USER")}


@asynccontextmanager
async def stdio_session(*args: str, cwd: Path | None = None) -> AsyncIterator[Any]:
    """A ClientSession with `memvault mcp ARGS` launched over stdio, initialized."""
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(command=MEMVAULT, args=["mcp", *args], env=server_env(),
                                   cwd=cwd)  # fmt: skip
    with open(os.devnull, "w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write, read_timeout_seconds=120) as session,
        ):
            await session.initialize()
            yield session


@asynccontextmanager
async def http_session(url: str) -> AsyncIterator[Any]:
    """A ClientSession over streamable HTTP to `url`, initialized."""
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with (
        streamable_http_client(url) as (read, write),
        ClientSession(read, write, read_timeout_seconds=120) as session,
    ):
        await session.initialize()
        yield session


def result(call: Any) -> Any:
    """A successful tool result's structured value (asserting it is not an error)."""
    assert not call.is_error, call.content
    if call.structured_content is not None:
        return call.structured_content
    return json.loads(call.content[0].text)


def error_text(call: Any) -> str:
    """A failed tool result's message (asserting it is an error, and no traceback)."""
    assert call.is_error, call
    text = " ".join(getattr(c, "text", "") for c in call.content)
    assert "Traceback" not in text and 'File "' not in text, text
    return str(text)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class HttpServer:
    process: subprocess.Popen[bytes]
    url: str


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[Any]:
    """A factory: `http_server(*args)` starts `memvault mcp --http ARGS` and waits for it."""
    started: list[HttpServer] = []

    def start(*args: str) -> HttpServer:
        port = free_port()
        with (tmp_path / f"mcp-{port}.log").open("wb") as log:
            process = subprocess.Popen(
                [MEMVAULT, "mcp", "--http", "--port", str(port), *args], env=server_env(),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        server = HttpServer(process, f"http://127.0.0.1:{port}/mcp")
        started.append(server)
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError((tmp_path / f"mcp-{port}.log").read_text(errors="replace"))
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return server
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("memvault mcp --http did not listen in time") from None
                time.sleep(0.1)

    yield start
    for server in started:
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGTERM)
            try:
                server.process.wait(20)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait(10)
