"""`memvault verify --against SOURCE`: counts and drift between a store and its source."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from memvault.cli.app import DbOption, JsonOption, app, console, open_vault, print_json
from memvault.migrate.verify import _is_store, verify_against
from memvault.store.engine import default_url


@app.command("verify")
def verify_command(
    against: Annotated[
        str,
        typer.Option("--against", help="Another store URL, or a legacy tree (folder)."),
    ],
    db: DbOption = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Handle the legacy data was imported for.")
    ] = None,
    json: JsonOption = False,
) -> None:
    """Reconcile the store with SOURCE: counts per entity, then the records missing from the
    store, extra in it, or changed. Exit status: 0 in sync, 3 drift found, 1 failure."""
    # Both ends are only read: open them as existing, current stores first, so that a
    # missing file or an empty database is refused (naming `memvault init`), not created.
    open_vault(db).close()
    if _is_store(against):
        open_vault(against if "://" in against else f"sqlite:///{against}").close()
    report = verify_against(db or default_url(), against, user=user)
    if json:
        print_json(report.as_dict())
    else:
        table = Table(
            title=f"store {report.store}  vs  source {report.against} ({report.kind})",
            caption="source = matched + missing (not in the store); store = rows matched + "
            "extra (only in the store); changed: matched, with other values in the store",
        )
        for column in ("entity", "source", "store", "matched", "missing", "extra", "changed"):
            table.add_column(column, justify="left" if column == "entity" else "right")
        for name, d in report.entities.items():
            if not (d.source_count or d.store_count):
                continue
            style = "" if d.ok else "[red]"
            table.add_row(
                f"{style}{name}",
                f"{d.source_count:,}",
                f"{d.store_count:,}",
                f"{d.matched:,}",
                str(d.missing_total),
                str(d.extra_total),
                str(d.changed_total),
            )
        console.print(table)
        for d in report.drift:
            for kind in ("missing", "extra", "changed"):
                ids = getattr(d, kind)
                if ids:
                    side = {"missing": "only in the source", "extra": "only in the store"}
                    label = f"{kind} ({side[kind]})" if kind in side else kind
                    console.print(
                        f"{d.entity} {label}: {'; '.join(ids[:10])}"
                        + (" …" if getattr(d, f"{kind}_total") > 10 else ""),
                        highlight=False,
                        markup=False,
                    )
        console.print("[green]in sync[/]" if report.ok else "[red]drift found[/]")
    if not report.ok:
        raise typer.Exit(3)
