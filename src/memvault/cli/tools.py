"""Tool commands: `memvault actions stats|list` and `memvault route "query"`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from memvault.cli.app import DbOption, JsonOption, app, console, open_vault, print_json
from memvault.records import to_json
from memvault.scope import ANY, Owner

if TYPE_CHECKING:
    from memvault.vault import Vault

actions_app = typer.Typer(help="The tool-call log: statistics and recent actions.",
                          no_args_is_help=True)  # fmt: skip
app.add_typer(actions_app, name="actions")

UserOption = Annotated[
    str | None, typer.Option("--user", "-u", help="Handle or id (default: every owner).")
]
ProjectOption = Annotated[str | None, typer.Option("--project", help="Project name or id.")]


def _owner(vault: Vault, user: str | None) -> Owner:
    return ANY if user is None else vault.users.resolve(user).id


def _project(vault: Vault, project: str | None, owner: Owner) -> str | None:
    if project is None:
        return None
    from memvault.ids import is_id

    if is_id(project):
        return vault.projects.get(project).id
    found = vault.projects.find(project, user_id=None if owner is ANY else owner)  # type: ignore[arg-type]
    if found is None:
        from memvault.errors import NotFound

        raise NotFound("project", project)
    return found.id


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


@actions_app.command("stats")
def actions_stats(
    db: DbOption = None,
    json: JsonOption = False,
    user: UserOption = None,
    project: ProjectOption = None,
    tool: Annotated[str | None, typer.Option("--tool", help="One tool only.")] = None,
) -> None:
    """Per-tool count, success rate (exit code 0 / known codes), median and p95 duration."""
    with open_vault(db) as vault:
        owner = _owner(vault, user)
        stats = vault.actions.stats(
            owner, project_id=_project(vault, project, owner), tool_name=tool
        )
    if json:
        print_json(to_json(stats))
        return
    table = Table(title="tool statistics")
    for column in ("tool", "type", "count", "success", "failed", "unknown", "rate",
                   "median ms", "p95 ms"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("tool", "type") else "right")
    for s in stats:
        rate = "—" if s.success_rate is None else f"{s.success_rate:.1%}"
        table.add_row(s.tool_name, s.tool_type, f"{s.count:,}", f"{s.successes:,}",
                      f"{s.failures:,}", f"{s.unknown:,}", rate, _ms(s.median_ms),
                      _ms(s.p95_ms))  # fmt: skip
    console.print(table)


@actions_app.command("list")
def actions_list(
    db: DbOption = None,
    json: JsonOption = False,
    user: UserOption = None,
    project: ProjectOption = None,
    tool: Annotated[str | None, typer.Option("--tool", help="One tool only.")] = None,
    limit: Annotated[int, typer.Option(help="How many.")] = 20,
) -> None:
    """The most recent actions."""
    with open_vault(db) as vault:
        owner = _owner(vault, user)
        found = vault.actions.list(
            owner, project_id=_project(vault, project, owner), tool_name=tool, limit=limit
        )
    if json:
        print_json(to_json(found))
        return
    table = Table(title="recent actions")
    for column in ("when", "tool", "type", "exit", "ms", "input"):
        table.add_column(column)
    for a in found:
        table.add_row(a.created_at.isoformat(timespec="seconds"), a.tool_name, a.tool_type,
                      "—" if a.exit_code is None else str(a.exit_code), _ms(a.duration_ms),
                      (a.input or "")[:60])  # fmt: skip
    console.print(table)


@app.command()
def route(
    query: Annotated[str, typer.Argument(help="The request to route.")],
    db: DbOption = None,
    json: JsonOption = False,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            "-u",
            envvar="MEMVAULT_USER",
            help="Handle or id: that user's scores plus the global ones (default: "
            "global scores only; `memvault hook` learns per user).",
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="How many tools.")] = 5,
) -> None:
    """Suggest tools for a request, with their scores and the keywords that matched. Without
    --user, only global scores are used; when none matches, the users whose own scores do
    are named (the hook learns per user)."""
    others: list[str] = []
    with open_vault(db) as vault:
        user_id = vault.users.resolve(user).id if user else None
        found = vault.routing.suggest(query, user_id=user_id, limit=limit)
        if not found and user is None:
            for u in vault.users.list(limit=200):
                if vault.routing.suggest(query, user_id=u.id, layered=False, limit=1):
                    others.append(u.handle)
    if json:
        print_json(to_json(found))
        return
    if not found:
        console.print("no suggestion: no learned score matches these keywords", highlight=False)
        if others:
            names = escape(", ".join(others))
            console.print(f"(global scores only; users with matching scores: {names}: "
                          "pass --user)", highlight=False)  # fmt: skip
        return
    table = Table(title=f"tools for {query!r}")
    for column in ("tool", "type", "score", "why"):
        table.add_column(column, justify="right" if column == "score" else "left")
    for s in found:
        table.add_row(s.tool_name, s.tool_type, f"{s.score:.2f}", ", ".join(s.matched))
    console.print(table)
