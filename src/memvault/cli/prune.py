"""`memvault prune [--dry-run]` and `memvault retention set|list|remove`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from memvault.cli.app import DbOption, JsonOption, app, console, open_vault, print_json
from memvault.records import to_json
from memvault.retention import ENTITIES

retention_app = typer.Typer(help="Retention policies applied by `memvault prune`.",
                            no_args_is_help=True)  # fmt: skip
app.add_typer(retention_app, name="retention")


@app.command()
def prune(
    db: DbOption = None,
    json: JsonOption = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go; delete nothing.")
    ] = False,
) -> None:
    """Apply the retention policies; report the rows removed per entity."""
    with open_vault(db) as vault:
        report = vault.retention.prune(dry_run=dry_run)
    if json:
        print_json({**to_json(report), "total": report.total})
        return
    if not report.policies:
        console.print("no retention policy: nothing to prune (see `memvault retention set`)")
        return
    verb = "would remove" if dry_run else "removed"
    table = Table(title=f"prune{' (dry run)' if dry_run else ''}")
    for column in ("entity", "rule", verb):
        table.add_column(column, justify="right" if column == verb else "left")
    for p in report.policies:
        rule = " or ".join(
            r for r in (
                f"older than {p.max_age_days} days" if p.max_age_days else "",
                f"beyond the last {p.keep_last} per owner" if p.keep_last is not None else "",
            ) if r
        )  # fmt: skip
        table.add_row(p.entity, rule, f"{report.removed.get(p.entity, 0):,}")
    console.print(table)
    console.print(f"{verb} {report.total:,} rows")


@retention_app.command("set")
def retention_set(
    entity: Annotated[str, typer.Argument(help=f"One of: {', '.join(ENTITIES)}.")],
    db: DbOption = None,
    json: JsonOption = False,
    max_age_days: Annotated[
        int | None, typer.Option("--max-age-days", help="Remove rows older than this.")
    ] = None,
    keep_last: Annotated[
        int | None, typer.Option("--keep-last", help="Keep only the newest N per owner.")
    ] = None,
) -> None:
    """Create or replace the policy of an entity."""
    with open_vault(db) as vault:
        policy = vault.retention.set(entity, max_age_days=max_age_days, keep_last=keep_last)
    if json:
        print_json(to_json(policy))
    else:
        console.print(f"policy set for {policy.entity}")


@retention_app.command("list")
def retention_list(db: DbOption = None, json: JsonOption = False) -> None:
    """The policies in force."""
    with open_vault(db) as vault:
        policies = vault.retention.list()
    if json:
        print_json(to_json(policies))
        return
    table = Table(title="retention policies")
    for column in ("entity", "max age (days)", "keep last"):
        table.add_column(column)
    for p in policies:
        table.add_row(p.entity, str(p.max_age_days or "—"),
                      "—" if p.keep_last is None else str(p.keep_last))  # fmt: skip
    console.print(table)


@retention_app.command("remove")
def retention_remove(
    entity: Annotated[str, typer.Argument(help="The entity whose policy goes.")],
    db: DbOption = None,
) -> None:
    """Delete an entity's policy (its rows are then kept)."""
    with open_vault(db) as vault:
        vault.retention.remove(entity)
    console.print(f"policy removed for {entity}")
