"""`memvault import SOURCE`: legacy data into the store, with progress, a summary and exit codes.

Exit status: 0 clean, 2 completed with quarantined records, 3 verification mismatch, 1 failed
(store full, source changed during the run, another import holding the lock, bad options…).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from memvault.cli.app import DbOption, JsonOption, app, console, err_console, open_vault, print_json
from memvault.errors import MemvaultError
from memvault.migrate.pipeline import (
    DEFAULT_BATCH_ROWS,
    FORMAT_CHOICES,
    ProgressEvent,
    import_source,
)
from memvault.migrate.report import EXIT_FAILED, ImportResult
from memvault.migrate.sources import LAYOUTS, ZIP_NOTE

FormatOption = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        help=f"Source format: {'|'.join(FORMAT_CHOICES)} (auto detects every format in a tree).",
    ),
]


class _Bar:
    """A Rich progress bar fed by the pipeline's ProgressEvents (records/s, ETA by bytes)."""

    def __init__(self, enabled: bool) -> None:
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        if enabled:
            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TextColumn("{task.fields[records]:>10,} records"),
                TextColumn("{task.fields[rate]:>9,.0f} rec/s"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=err_console,
                transient=False,
            )

    def __enter__(self) -> _Bar:
        if self.progress is not None:
            self.progress.start()
            self.task = self.progress.add_task("import", total=1000, records=0, rate=0.0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def update(self, event: ProgressEvent) -> None:
        if self.progress is None or self.task is None:
            return
        rate = event.records / event.elapsed if event.elapsed > 0 else 0.0
        fields: dict[str, Any] = {"records": event.records, "rate": rate}
        if event.fraction is not None:
            fields["completed"] = int(event.fraction * 1000)
        self.progress.update(self.task, description=event.stream, **fields)

    def done(self) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, completed=1000)


GROUPS = (("entities", "read"), ("bad_records", "bad records"), ("duplicates", "duplicates"),
          ("warnings", "warnings"))  # fmt: skip


def summary(result: ImportResult) -> None:
    """The human summary: per-format counts (each named: "300 conversations"), rows per
    table, quarantine reasons, verification and backups."""
    title = f"import {result.run_id} — {result.status}" + (" (dry run)" if result.dry_run else "")
    console.print(title, highlight=False, markup=False)
    fmt_table = Table()
    for col, justify in (("format", "left"), ("", "left"), ("count", "right"), ("of", "left")):
        fmt_table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for fmt, rep in result.formats.items():
        name = fmt
        for group, label in GROUPS:
            counters: dict[str, int] = getattr(rep, group)
            for counter, n in counters.items():
                if n or group == "entities":
                    fmt_table.add_row(name, label, f"{n:,}", counter.replace("_", " "))
                    name, label = "", ""
        for path in rep.corrupt_files:
            fmt_table.add_row(name, "corrupt file", "", path)
            name = ""
    console.print(fmt_table)
    rows = Table(title="rows" if not result.dry_run else "planned rows", title_justify="left")
    cols = ("table", "expected", "new", "already there", "of which updated", "merged", "verified",
            "missing/diff")  # fmt: skip
    for col in cols:
        rows.add_column(col, justify="left" if col == "table" else "right")
    for table, c in result.tables.items():
        if not c.expected and not c.new:
            continue
        rows.add_row(
            table,
            f"{c.expected:,}",
            "-" if result.dry_run else f"{c.new:,}",
            "-" if result.dry_run else f"{c.present:,}",
            "-" if result.dry_run else f"{c.updated:,}",
            f"{c.merged:,}",
            "-" if result.dry_run else f"{c.verified:,}",
            "-" if result.dry_run else f"{c.missing + c.different:,}",
        )
    console.print(rows)
    elapsed = result.elapsed
    rate = f"{result.records / elapsed:,.0f} records/s" if elapsed > 0 else ""
    console.print(f"{result.records:,} records in {elapsed:.1f} s {rate}", highlight=False)
    if result.plan is not None:
        plan = result.plan
        free = plan.get("free_bytes")
        console.print(
            f"estimated store growth {plan['estimated_store_bytes']:,} bytes; "
            f"embedding dimensions {plan['embedding_dimensions'] or '-'}; "
            + (
                f"free space {free:,} bytes ({'enough' if plan['enough_space'] else 'NOT enough'})"
                if free is not None
                else "free space not checked (PostgreSQL)"
            ),
            highlight=False,
        )
    if result.quarantined:
        before = (
            f", {result.quarantined_before:,} of them already by an earlier import"
            if result.quarantined_before
            else ""
        )
        console.print(
            f"[yellow]{result.quarantined:,} bad record(s) quarantined[/]{before} "
            f"(table quarantine; all of them in --report):",
            highlight=False,
        )
        for q in result.quarantine[:QUARANTINE_SHOWN]:
            where = ", ".join(str(x) for x in (q["file"], q["location"]) if x)
            field = f", field {q['field']}" if q["field"] else ""
            console.print(f"  {where}{field}: {q['reason']}", highlight=False, markup=False)
        if result.quarantined > QUARANTINE_SHOWN:
            more = result.quarantined - QUARANTINE_SHOWN
            console.print(f"  … and {more:,} more", highlight=False)
    if result.users and not result.dry_run:
        console.print(_users_line(result), highlight=False, markup=False)
    for fmt in result.formats:
        if fmt in WHERE and result.source_records:
            console.print(f"where to look: {WHERE[fmt]}", highlight=False, markup=False)
    if result.note:
        console.print(result.note, highlight=False)
    if result.backup.get("dir"):
        console.print(f"backups: {result.backup['dir']}", highlight=False)
    for problem in result.problems[:10]:
        err_console.print(f"[red]verification:[/] {problem}", highlight=False)
    if result.error:
        err_console.print(f"[bold red]error:[/] {result.error}", highlight=False)


QUARANTINE_SHOWN = 10

# Where a format's data shows up, when that is not the command its users would try first.
WHERE = {
    "ait42": "AIT42's competitions, ensembles and debates are sessions (kind competition, "
    "ensemble, debate) and their instances child sessions (kind instance): "
    "`memvault sessions list`, `memvault sessions show ID`; `memvault tasks` holds "
    "memvault's own task lists, not these",
    "edgesoul": "EdgeSoul's personality levels and voice are in each user's profile "
    "(`memvault users show USER`: personality, voice), its emotional patterns in "
    "`memvault emotions USER`; `memvault traits` holds traits an agent learned over time "
    "(Workly's), which EdgeSoul did not keep",
}


def _users_line(result: ImportResult) -> str:
    """Which users the import wrote into, and where data naming no user went."""
    shown = ", ".join(
        f"{handle} ({state}{', already in the store' if state == 'existing' else ''})"
        if handle == result.default_user
        else f"{handle} ({state})"
        for handle, state in list(result.users.items())[:10]
    )
    more = f" and {len(result.users) - 10} more" if len(result.users) > 10 else ""
    line = f"users written: {shown}{more}"
    if result.users.get(result.default_user) == "existing" and not result.reimport:
        line += (
            f"; data that names no user went to the existing user '{result.default_user}' "
            "together with what it already held: import with --user NAME to keep it apart"
        )
    elif result.default_user in result.users and not result.reimport:
        line += (
            f"; data that names no user went to '{result.default_user}' (--user NAME picks another)"
        )
    return line


def _epilog() -> str:
    lines = ["What each format accepts (SOURCE):", ""]
    for fmt, layouts in LAYOUTS.items():
        lines.append(f"{fmt}: " + "; ".join(layouts) + ".")
        lines.append("")
    lines += [
        f"auto: any of the above, or a folder with one sub-folder per format; {ZIP_NOTE}.",
        "",
        "Exit status: 0 imported (or everything was already there), 2 imported with "
        "quarantined records (listed, with reasons), 3 verification mismatch, 1 failed "
        "or nothing imported (no data found, or every record refused).",
    ]
    return "\n".join(lines)


@app.command("import", epilog=_epilog())
def import_cmd(
    source: Annotated[
        Path,
        typer.Argument(
            help="The legacy data as you hold it: a folder, a file, or a .zip (see below)."
        ),
    ],
    fmt: FormatOption = "auto",
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", help="JSON mapping file for --format generic."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read everything, write nothing, print the plan.")
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the last interrupted import of SOURCE.")
    ] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the JSON import report here.")
    ] = None,
    user: Annotated[
        str | None,
        typer.Option("--user", help="Handle owning data whose source names no user."),
    ] = None,
    batch_rows: Annotated[
        int, typer.Option("--batch-rows", help="Rows per committed batch.")
    ] = DEFAULT_BATCH_ROWS,
    backup_dir: Annotated[
        Path | None,
        typer.Option("--backup-dir", help="Where backups go (default <store>.import-backups/)."),
    ] = None,
    no_backup: Annotated[
        bool, typer.Option("--no-backup", help="Skip the source and target backups.")
    ] = False,
    no_embed: Annotated[
        bool,
        typer.Option("--no-embed", help="Leave the memories unembedded (`memvault embed` later)."),
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import legacy assistant data (AIT42, Lilith, EdgeSoul, Workly, DCM, ChatGPT, LangChain,
    or JSON/NDJSON described by a mapping)."""
    show_progress = (not as_json and err_console.is_terminal) or bool(
        os.environ.get("MEMVAULT_PROGRESS")
    )
    result: ImportResult | None = None
    # What can be checked without the store is checked first: a mistyped --format or a
    # missing SOURCE must not leave a new, empty store behind.
    problem = None
    if fmt not in FORMAT_CHOICES:
        problem = f"unknown --format {fmt!r}; expected one of {', '.join(FORMAT_CHOICES)}"
    elif fmt == "generic" and mapping is None:
        problem = "--format generic needs --mapping FILE (how the JSON fields map to records)"
    elif mapping is not None and not mapping.is_file():
        problem = f"--mapping {mapping}: no such file"
    elif not source.exists():
        problem = f"SOURCE {source}: no such file or directory"
    elif batch_rows < 1:
        problem = f"--batch-rows {batch_rows}: must be at least 1"
    if problem is not None:
        err_console.print(f"[bold red]error:[/] {escape(problem)}", highlight=False)
        raise typer.Exit(EXIT_FAILED)
    try:
        vault = open_vault(db, create=True, embed_memories=not no_embed)
    except MemvaultError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(EXIT_FAILED) from None
    try:
        with _Bar(show_progress) as bar:
            result = import_source(
                vault,
                source,
                format=fmt,
                mapping=mapping,
                dry_run=dry_run,
                resume=resume,
                user=user,
                report=report,
                batch_rows=batch_rows,
                backup=not no_backup,
                backup_dir=backup_dir,
                progress=bar.update,
            )
            bar.done()
    except MemvaultError as exc:
        err_console.print(f"[bold red]import failed:[/] {exc}", highlight=False)
        if report is not None:
            err_console.print(f"report: {report}", highlight=False)
        raise typer.Exit(EXIT_FAILED) from None
    finally:
        vault.close()
    if as_json:
        print_json(result.as_dict())
    else:
        summary(result)
    raise typer.Exit(result.exit_code)
