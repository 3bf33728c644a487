"""The Typer application and what every command shares: --db, --json, output helpers.

Each command lives in a module of this package that is imported only when the command runs
(or for `memvault --help`): `COMMANDS` names the module of every command, and `LazyGroup`
imports it on demand, so that `memvault import` does not pay for `memvault serve`'s imports.
"""

from __future__ import annotations

import inspect
import re
import sys
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import orjson
import typer
import typer.main
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

if TYPE_CHECKING:
    # Typer vendors Click as typer._click; TyperGroup's methods take its classes.
    from typer._click import Command, Context

    from memvault.vault import Vault

# Command -> module of memvault.cli that defines it, in the order `memvault --help` lists
# them: the store first, then data in and out, then the domains; command groups last.
# tests/test_startup.py checks that the modules define exactly these commands.
COMMANDS = {
    "init": "core", "stats": "core", "check": "core", "backup": "core", "restore": "core",
    "reset": "core", "upgrade": "core", "downgrade": "core", "current": "core", "demo": "core",
    "search": "search", "reindex": "search", "embed": "search",
    "import": "imports", "transfer": "transfer", "export": "export", "verify": "verify",
    "emotions": "affect", "traits": "affect", "patterns": "patterns", "route": "tools",
    "tasks": "tasks", "prune": "prune", "serve": "serve",
    "actions": "tools", "retention": "prune", "keys": "keys",
    "dualwrite": "dualwrite", "users": "users", "sessions": "sessions",
    "memories": "memories", "mcp": "agents", "hook": "agents",
}  # fmt: skip
ALL_MODULES = list(dict.fromkeys(COMMANDS.values()))


# Help text as paragraphs: docstrings are wrapped at 90 columns in the source, and Typer's
# Rich panels print those line breaks as they are (a description broken mid-sentence at every
# terminal width). `reflow` joins each paragraph's lines so that Rich wraps it to the
# terminal; blank lines (paragraph breaks), list items and Click's `\b` blocks stay.
LIST_ITEM = re.compile(r"\s*(?:[-*•]|\d+[.)])\s")
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
NO_REWRAP = "\b"  # Click's marker of a paragraph printed as written


def reflow(text: str) -> str:
    """`text` with each paragraph on one line, each list item on one line of its own."""
    paragraphs = []
    for paragraph in PARAGRAPH_BREAK.split(inspect.cleandoc(text)):
        if paragraph.startswith(NO_REWRAP):
            paragraphs.append(paragraph)
            continue
        lines: list[str] = []
        for line in paragraph.splitlines():
            if not lines or LIST_ITEM.match(line):
                lines.append(line.rstrip())
            else:
                lines[-1] += " " + line.strip()
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def reflow_command(command: Any) -> None:
    """Reflow the help of `command`, its parameters and, for a group, every subcommand's
    (once: a command already done is left alone)."""
    if getattr(command, "_memvault_reflowed", False):
        return
    for holder in (command, *command.params):
        for field in ("help", "short_help"):
            text = getattr(holder, field, None)
            if text:
                setattr(holder, field, reflow(text))
    command._memvault_reflowed = True
    for sub in getattr(command, "commands", {}).values():
        reflow_command(sub)


class LazyGroup(TyperGroup):
    """The root command: lists `COMMANDS`, imports a command's module on first lookup."""

    def list_commands(self, ctx: Context) -> list[str]:
        self._load(ALL_MODULES)  # --help shows every command's summary: one import pass
        return list(COMMANDS)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in self.commands:
            # An unknown name loads every module, so that the "did you mean" suggestions
            # (made from self.commands) see all the commands.
            module = COMMANDS.get(cmd_name)
            self._load(ALL_MODULES if module is None else [module])
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            reflow_command(command)  # docstring line breaks out of the Rich panels
        return command

    def _load(self, modules: list[str]) -> None:
        for module in modules:
            import_module(f"{__package__}.{module}")  # registers its commands on `app`
        if any(m in modules and name not in self.commands for name, m in COMMANDS.items()):
            self.commands.update(typer.main.get_group(app).commands)


app = typer.Typer(
    name="memvault",
    help="memvault: an AI assistant's memory in SQLite or PostgreSQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"memvault {version('memvault')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print memvault's version and exit.",
        ),
    ] = False,
) -> None:
    # Makes `app` a group even before any command module is imported.
    pass


console = Console()
# Piped or redirected, a message is not cut at a terminal's 80 columns: a path, an id or a
# command in it must survive `grep` and copying (tables still fit their width).
console.soft_wrap = not console.is_terminal
err_console = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="MEMVAULT_URL",
        help="Store URL: sqlite:///path.db or postgresql://… (default ./memvault.db).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


# The commands whose job is to create or change a store's schema: only they pass
# `create=True` to `open_vault` (`transfer` creates its destination, `serve` only with
# --init). tests/test_cli_readonly.py runs every other command against a missing store.
CREATING_COMMANDS = frozenset({"init", "demo", "import", "upgrade", "transfer", "serve", "restore"})


def open_vault(db: str | None, *, create: bool = False, **options: Any) -> Vault:
    """Open the store named by --db (or the default).

    Reading is the default: a missing SQLite file is not created, a database without the
    memvault schema gets none, an older schema is not migrated; each is an error naming
    `memvault init` or `memvault upgrade`. Commands that create stores pass `create=True`.
    """
    from memvault.vault import Vault

    options.setdefault("auto_upgrade", create)
    if create:
        make_folder(db)
    return Vault(db, create=create, **options)


def local_file(db: str | None) -> Path | None:
    """The file of a SQLite store named by --db (None: PostgreSQL or in memory)."""
    from memvault.store.engine import parse_url

    location = parse_url(db)
    if location.engine != "sqlite" or not location.path or location.path == ":memory:":
        return None
    return Path(location.path)


def make_folder(db: str | None) -> None:
    """Create the folder of a new SQLite store (`~/.memvault/me.db` on a fresh machine),
    readable by its owner only."""
    path = local_file(db)
    if path is not None and not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)


def open_or_create(db: str | None, **options: Any) -> Vault:
    """Open the store; a SQLite file that does not exist yet is created (with its folder),
    saying so on stderr. For the agent entry points (`mcp`, `hook install`), which are
    configured once and expected to work; other commands refuse a missing store. `options`
    go to the Vault (`busy_timeout`, …)."""
    path = local_file(db)
    if path is None or path.is_file():
        return open_vault(db, **options)
    vault = open_vault(db, create=True, **options)
    err_console.print(f"memvault: created the store {escape(str(path))}", highlight=False)
    return vault


def print_json(value: Any) -> None:
    """Write `value` as indented JSON on stdout (datetimes and dataclasses handled)."""
    sys.stdout.write(
        orjson.dumps(
            value,
            option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY,
            default=str,
        ).decode()
        + "\n"
    )


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error on stderr and exit with `code`."""
    # The message is text, not markup: `memvault[server]` or a path with brackets prints as is.
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)
