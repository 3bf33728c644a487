"""`memvault serve`: the HTTP/WebSocket service and dashboard (needs the `server` extra)."""

from __future__ import annotations

import contextlib
import errno
import gc
import ipaddress
import os
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from memvault.cli.app import DbOption, app, console, fail, open_vault
from memvault.keys import ApiKeys

DEFAULT_PORT = 3847  # DCM's port: its hooks and checks work unchanged


def is_loopback(host: str) -> bool:
    """True for localhost and the loopback ranges (127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _server_class() -> type[Any]:
    """A uvicorn server that takes SIGTERM and SIGINT as a request to stop, and returns.

    uvicorn stops gracefully on either signal, then raises the signal again so that the
    process dies of it: `memvault serve` exited -15 before `Vault.close()` ran, leaving the
    WAL (up to `journal_size_limit`) behind. Here the graceful stop ends the command: the
    vault is closed (the WAL checkpointed and truncated) and the exit status is 0."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield  # signals reach the main thread only
                return
            handled = (signal.SIGINT, signal.SIGTERM)
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind (loopback unless keys exist).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = DEFAULT_PORT,
    db: DbOption = None,
    max_body: Annotated[int, typer.Option(help="Request body limit in bytes (413 above).")] = (
        1024 * 1024
    ),
    fast_append: Annotated[
        bool,
        typer.Option(
            help="Answer message appends on the group-committed fast path (off: "
            "every append through the generic route; same answers, slower)."
        ),
    ] = True,
    init: Annotated[
        bool,
        typer.Option(
            "--init", help="Create the store (or upgrade its schema) if needed before serving."
        ),
    ] = False,
    dcm_user: Annotated[
        str | None,
        typer.Option(
            "--dcm-user",
            metavar="HANDLE",
            help="DCM-compatible mode: DCM's hook and checks (POST/GET /api/actions, GET "
            "/api/projects, /api/routing/suggest and feedback, /stats) work without a key "
            "from this machine (loopback) and act as this user (created if missing); from "
            "any other address they still need a key.",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Service processes sharing the port (PostgreSQL only: events cross them "
            "through LISTEN/NOTIFY; a SQLite store has one writing process).",
        ),
    ] = 1,
) -> None:
    """Serve the REST API, the /ws event stream and the dashboard over an existing store
    (`--init` creates it first); `--workers N` runs N processes on one port (PostgreSQL)."""
    try:
        import uvicorn

        from memvault.server import create_app
        from memvault.server.app import uvicorn_options
    except ImportError as exc:
        fail(f"the service needs the server extra: pip install 'memvault[server]' ({exc.name})")
    vault = open_vault(db, create=init)
    if workers > 1 and vault.engine != "postgresql":
        vault.close()
        fail(
            f"--workers {workers} needs a PostgreSQL store: on SQLite one process writes and "
            "events do not cross processes (WebSocket subscribers of one worker would miss "
            "the others' writes). Serve SQLite with one worker, or move the store to "
            "PostgreSQL (`memvault transfer`)."
        )
    try:
        active = ApiKeys(vault).list(include_revoked=False)
        if not is_loopback(host) and not active:
            fail(
                f"refusing to listen on {host}: no API key is configured, so this store would be "
                "reachable from the network with nothing to authenticate callers. Create one "
                "with `memvault keys create --admin` (or --user U), or bind 127.0.0.1."
            )
        listener = _bind(host, port)  # a busy port fails here, before anything is written
        if not active:
            console.print(
                "[yellow]no API key yet:[/] every endpoint but /health"
                + (" and DCM's loopback routes" if dcm_user else "")
                + " answers 401. Create one with `memvault keys create --admin`."
            )
        dcm_user_id = None
        if dcm_user is not None:
            dcm_user_id = vault.users.ensure(dcm_user).id
            console.print(
                f"DCM-compatible mode: requests without a key from loopback to DCM's endpoints "
                f"act as user {dcm_user!r}"
            )
        console.print(f"memvault serving {vault.url} on http://{host}:{port}/  (Ctrl-C stops)")
        if workers > 1:
            console.print(f"{workers} worker processes share the port")
            vault.close()  # a connection pool must not cross fork(): each worker opens its own
            raise typer.Exit(_supervise(workers, listener, db, max_body, fast_append, dcm_user_id))
        service_app = create_app(vault, max_body_bytes=max_body, fast_append=fast_append,
                                 dcm_user=dcm_user_id)  # fmt: skip
        vault.search  # noqa: B018  (made on first use; the first search request should not pay)
        # Everything built so far (modules, the app, its schemas) lives as long as the process:
        # out of the collector's sight, a full collection no longer walks it (one took ~300 ms
        # under load and was the service's worst latency; bench/README_service.md).
        gc.collect()
        gc.freeze()
        config = uvicorn.Config(service_app, host=host, port=port, **uvicorn_options())
        server = _server_class()(config)
        server.run(sockets=[listener])
        if not server.started:
            raise typer.Exit(3)  # uvicorn's status when it could not start
    finally:
        vault.close()


def _run(vault: Any, listener: socket.socket, max_body: int, fast_append: bool,
         dcm_user_id: str | None) -> bool:  # fmt: skip
    """Serve on `listener` until stopped; False when uvicorn could not start."""
    import uvicorn

    from memvault.server import create_app
    from memvault.server.app import uvicorn_options

    service_app = create_app(vault, max_body_bytes=max_body, fast_append=fast_append,
                             dcm_user=dcm_user_id)  # fmt: skip
    vault.search  # noqa: B018  (made on first use; the first search request should not pay)
    gc.collect()
    gc.freeze()
    config = uvicorn.Config(service_app, **uvicorn_options())
    server = _server_class()(config)
    server.run(sockets=[listener])
    return bool(server.started)


def _supervise(workers: int, listener: socket.socket, db: str | None, max_body: int,
               fast_append: bool, dcm_user_id: str | None) -> int:  # fmt: skip
    """`--workers N`: N forked processes accept on the one listening socket (the kernel
    spreads the connections), each with its own vault and event relay (PostgreSQL
    LISTEN/NOTIFY carries every worker's events to the others' WebSocket subscribers).
    SIGTERM or SIGINT here stops them all; the exit status is the first failing worker's."""
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # a worker: its own vault, its own loop, the shared socket
            code = 3
            try:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    signal.signal(sig, signal.SIG_DFL)
                vault = open_vault(db)
                try:
                    code = 0 if _run(vault, listener, max_body, fast_append, dcm_user_id) else 3
                finally:
                    vault.close()
            finally:
                os._exit(code)
        children.append(pid)
    listener.close()

    def forward(signum: int, _frame: Any) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, forward)
    status = 0
    for child in children:
        while True:
            try:
                _, raw = os.waitpid(child, 0)
                break
            except InterruptedError:
                continue
        code = os.waitstatus_to_exitcode(raw)
        if code != 0 and status == 0:
            status = code if code > 0 else 1
            forward(signal.SIGTERM, None)  # one worker gone: stop the rest, say so
    return status


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything says "serving": a busy port or an address
    this machine does not have is an error naming it, not a log line after the banner."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror}")
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            fail(f"port {port} on {host} is busy (another process listens there); "
                 "pick another with --port")  # fmt: skip
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    sock.set_inheritable(True)
    return sock
