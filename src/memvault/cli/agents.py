"""`memvault mcp` (the MCP server) and `memvault hook` (coding-agent hook events, and
`hook install|uninstall|replay`).

A bare `memvault hook` event call does not come through here: `memvault.cli.main` hands it
to `memvault.hook.run` before Typer loads (it runs on every tool call of the agent). The
`hook` callback below runs the same code when the app is driven some other way.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from memvault.cli.app import DbOption, app, console, fail, open_or_create, open_vault

# How long an MCP tool call's write waits for another process's SQLite write lock: an agent
# waiting on a tool call is better told at once that the store is busy than held 30 s.
MCP_BUSY_TIMEOUT = 5.0

UserOpt = Annotated[
    str | None,
    typer.Option("--user", "-u", envvar="MEMVAULT_USER",
                 help="Handle or id of the user (created when missing)."),
]  # fmt: skip


@app.command("mcp")
def mcp(
    user: Annotated[
        str,
        typer.Option(
            "--user",
            "-u",
            envvar="MEMVAULT_USER",
            help="The one user this server serves (handle or id; created when "
            "missing). No tool can name another.",
        ),
    ],
    db: DbOption = None,
    http: Annotated[
        bool, typer.Option("--http", help="Streamable HTTP on loopback instead of stdio.")
    ] = False,
    host: Annotated[str, typer.Option("--host", help="Loopback address (--http).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (--http).", min=1)] = 8765,
    allow_delete_all: Annotated[
        bool,
        typer.Option(
            "--allow-delete-all",
            help="Offer the delete_all_memories tool (absent without this flag).",
        ),
    ] = False,
    busy_timeout: Annotated[
        float,
        typer.Option(
            "--busy-timeout",
            min=0,
            help="Seconds a tool's write waits for another process's SQLite write lock "
            "before the tool fails with 'the store is busy' (reads never wait).",
        ),
    ] = MCP_BUSY_TIMEOUT,
) -> None:
    """MCP server for one user: memories, conversations and tool suggestions, over stdio
    (what coding agents launch) or streamable HTTP at http://HOST:PORT/mcp."""
    try:
        from memvault.mcp.server import run
    except ImportError as exc:
        fail(f"the MCP server needs the mcp extra: pip install 'memvault[mcp]' ({exc.name})")
    from memvault.mcp.server import LOOPBACK
    from memvault.ownerview import OwnerView

    if http and host not in LOOPBACK:
        fail(f"invalid host={host!r}: the MCP server listens on loopback only "
             f"({', '.join(LOOPBACK)}): it has no authentication")  # fmt: skip

    def announce(url: str) -> None:
        console.print(f"memvault MCP server for {escape(user)} on {url}", highlight=False)

    with open_or_create(db, busy_timeout=busy_timeout) as vault:
        view = OwnerView.for_handle(vault, user)
        run(view, http=http, host=host, port=port, allow_delete_all=allow_delete_all,
            announce=announce)  # fmt: skip


hook_app = typer.Typer(
    help="Coding-agent hook: record the agent's sessions, prompts and tool calls.",
    invoke_without_command=True,
)
app.add_typer(hook_app, name="hook")


@hook_app.callback()
def hook(
    ctx: typer.Context,
    db: DbOption = None,
    user: UserOpt = None,
    server: Annotated[
        str | None, typer.Option("--server", help="Post to a running `memvault serve` at URL.")
    ] = None,
    key: Annotated[str | None, typer.Option("--key", help="API key for --server.")] = None,
    agent: Annotated[
        str | None,
        typer.Option("--agent", help="The agent's name in session keys (default claude-code)."),
    ] = None,
    spool: Annotated[
        Path | None,
        typer.Option(
            "--spool", help="Spool file (default: per store, in ~/.local/state/memvault)."
        ),
    ] = None,
    no_context: Annotated[
        bool, typer.Option("--no-context", help="Print no memories at session start.")
    ] = False,
    busy_timeout: Annotated[
        float | None,
        typer.Option(
            "--busy-timeout",
            help="Seconds to wait for a locked SQLite store before "
            "spooling the event (default 0.5).",
        ),
    ] = None,
    background: Annotated[
        bool, typer.Option("--background", help="Spool, and store from a detached process.")
    ] = False,
    managed: Annotated[
        bool, typer.Option("--managed", help="Marks the entries `hook install` wrote.")
    ] = False,
) -> None:
    """Read one hook event (JSON) on stdin and record it; always exits 0. When the store is
    busy or unreachable the event is spooled and replayed by the next call."""
    if ctx.invoked_subcommand is not None:
        return
    from memvault.hook.run import main

    argv: list[str] = []
    for flag, value in (("--db", db), ("--user", user), ("--server", server), ("--key", key),
                        ("--agent", agent), ("--spool", spool),
                        ("--busy-timeout", busy_timeout)):  # fmt: skip
        if value is not None:
            argv += [flag, str(value)]
    if no_context:
        argv.append("--no-context")
    if background:
        argv.append("--background")
    if managed:
        argv.append("--managed")
    raise typer.Exit(main(argv))


def hook_command(db: str | None, user: str | None, server: str | None, key: str | None,
                 background: bool = False) -> str:  # fmt: skip
    """The command line the agent runs: this memvault, by absolute path when known."""
    exe = shutil.which("memvault", path=os.path.dirname(sys.executable)) or "memvault"
    words = [exe, "hook"]
    for flag, value in (("--db", db), ("--user", user), ("--server", server), ("--key", key)):
        if value:
            words += [flag, value]
    if background:
        words.append("--background")
    return shlex.join([*words, "--managed"])


def absolute_store(db: str | None) -> str | None:
    """A SQLite store named absolutely: the agent runs the hook from its own directory."""
    if not db:
        return db
    if "://" not in db:
        return str(Path(db).resolve())
    if db.startswith("sqlite:///") and not db.startswith("sqlite:////"):
        return "sqlite:///" + str(Path(db.removeprefix("sqlite:///")).resolve())
    return db


SettingsOpt = Annotated[
    Path | None,
    typer.Option("--settings", help="The agent's settings file (default "
                 "~/.claude/settings.json)."),
]  # fmt: skip


@hook_app.command("install")
def hook_install(
    settings: SettingsOpt = None,
    db: DbOption = None,
    user: UserOpt = None,
    server: Annotated[
        str | None, typer.Option("--server", help="Post to `memvault serve` at URL instead.")
    ] = None,
    key: Annotated[str | None, typer.Option("--key", help="API key for --server.")] = None,
    background: Annotated[
        bool,
        typer.Option(
            "--background/--foreground",
            help="Background (the default): each event is spooled and stored by a detached "
            "process, so the agent waits only for the spool append; SessionStart stays in "
            "the foreground (it prints the memories). Foreground: every event is stored "
            "before the agent goes on.",
        ),
    ] = True,
) -> None:
    """Add `memvault hook` to the agent's settings for SessionStart, UserPromptSubmit,
    PreToolUse, PostToolUse, PostToolUseFailure and SessionEnd; every other hook is kept, the
    file is backed up first, and a second install changes nothing."""
    from memvault.hook import settings as hs

    path = settings or hs.default_path()
    hs.check(path)  # a file install would refuse: refused before any store is created
    db = absolute_store(db)
    if server is None:  # the hook must be able to store, not only spool: check it now
        from memvault.hook.run import default_user
        from memvault.ownerview import OwnerView

        with open_or_create(db) as vault:
            OwnerView.for_handle(vault, user or default_user())
    # `--server` posts from the hook itself: the hook has no background mode for it.
    change = hs.install(path, hook_command(db, user, server, key, background and not server))
    if not change.changed:
        console.print(f"{escape(str(path))}: memvault hook already installed", highlight=False)
        return
    for verb, events in (("added", change.added), ("updated", change.updated)):
        if events:
            console.print(f"{verb}: {', '.join(events)}", highlight=False)
    wrote(change)


def wrote(change: object) -> None:
    from memvault.hook.settings import Change

    assert isinstance(change, Change)
    where = escape(str(change.path))
    if change.backup is None:
        console.print(f"created {where}", highlight=False)
    else:
        console.print(f"wrote {where} (backup: {escape(str(change.backup))})", highlight=False)


@hook_app.command("uninstall")
def hook_uninstall(settings: SettingsOpt = None) -> None:
    """Remove exactly the `memvault hook` entries from the agent's settings (backed up
    first); every other hook stays."""
    from memvault.hook import settings as hs

    path = settings or hs.default_path()
    change = hs.uninstall(path)
    if not change.changed:
        console.print(f"{escape(str(path))}: no memvault hook to remove", highlight=False)
        return
    console.print(f"removed: {', '.join(change.removed)}", highlight=False)
    wrote(change)


@hook_app.command("replay")
def hook_replay(
    db: DbOption = None,
    user: UserOpt = None,
    spool: Annotated[Path | None, typer.Option("--spool", help="Spool file to replay.")] = None,
) -> None:
    """Store the spooled events now (the next hook call would); fails, unlike the hook,
    when the store cannot take them."""
    from argparse import Namespace

    from memvault.hook.run import default_user, spool_for, store_entry
    from memvault.ownerview import OwnerView

    opts = Namespace(db=db, user=user or default_user(), agent="claude-code",
                     spool=str(spool) if spool else None, server=None)  # fmt: skip
    queue = spool_for(opts)
    with open_vault(db) as vault:
        view = OwnerView.for_handle(vault, opts.user)
        stored = 0
        with queue.replaying() as replay:
            if replay is None:
                pending = len(queue)
                console.print(f"{pending} event(s) spooled; nothing replayed now "
                              "(none, or another process is replaying)")  # fmt: skip
                return
            for entry in replay.entries:
                store_entry(view, entry, opts, context=False)
                replay.done()
                stored += 1
    console.print(f"replayed {stored} event(s) from {escape(str(queue.path))}", highlight=False)
