"""`memvault transfer SRC_URL DST_URL`: copy a whole store between engines, verified."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from memvault.cli.app import JsonOption, app, console, err_console, print_json
from memvault.migrate.transfer import BATCH_ROWS, TransferResult, VerificationFailed, transfer


class _RowsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} rows/s")


def _summary(result: TransferResult) -> None:
    table = Table(title=f"{result.source} → {result.destination}")
    for column in ("table", "source rows", "destination rows", "copied now", "checksum"):
        table.add_column(column, justify="right" if "rows" in column or "now" in column else "left")
    for t in result.tables:
        if not (t.source_rows or t.dest_rows):
            continue
        mark = "[green]✓[/]" if t.ok else "[red]✗ differs[/]"
        table.add_row(t.table, f"{t.source_rows:,}", f"{t.dest_rows:,}", f"{t.copied:,}",
                      f"{mark} {t.dest_checksum[:12]}")  # fmt: skip
    console.print(table)
    rate = result.rows / result.seconds if result.seconds else 0.0
    console.print(
        f"{result.rows:,} rows in {result.seconds:.1f} s ({rate:,.0f} rows/s, verification "
        f"included: {result.verify_seconds:.1f} s); {result.indexes_rebuilt} indexes rebuilt"
        + ("; resumed an unfinished transfer" if result.resumed else "")
    )


@app.command("transfer")
def transfer_command(
    source: Annotated[
        str, typer.Argument(help="Source store URL (sqlite:///… or postgresql://…).")
    ],
    destination: Annotated[
        str, typer.Argument(help="Destination store URL: empty, or an unfinished transfer.")
    ],
    batch: Annotated[int, typer.Option(help="Rows per committed batch.")] = BATCH_ROWS,
    json: JsonOption = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
) -> None:
    """Copy every table from SOURCE to DESTINATION (COPY on PostgreSQL), then verify row
    counts and content checksums per table. Run the same command again to resume after an
    interruption. Exit status: 0 verified, 3 verification mismatch, 1 failure (e.g. a value
    the destination cannot hold, or a destination that is not empty)."""
    tasks: dict[str, TaskID] = {}
    show = not (json or quiet)
    bar = Progress(
        TextColumn("{task.description:>18}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RowsPerSecond(),
        TimeRemainingColumn(),
        console=err_console,
        disable=not show,
    )

    def progress(table: str, done: int, total: int) -> None:
        if table not in tasks:
            tasks[table] = bar.add_task(table, total=total)
        bar.update(tasks[table], completed=done)

    result: TransferResult | None
    code = 0
    try:
        with bar:
            result = transfer(source, destination, batch=batch, progress=progress)
    except VerificationFailed as exc:
        result = exc.result
        code = exc.exit_code
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
    if result is not None:
        if json:
            out: dict[str, Any] = result.as_dict()
            print_json(out)
        else:
            _summary(result)
    if code:
        raise typer.Exit(code)
