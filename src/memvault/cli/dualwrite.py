"""`memvault dualwrite stage|status|advance|rollback`: a phased rollout from a legacy JSON
store to memvault (AIT42's plan: dual write → shadow reads → memvault primary → complete),
each step reversible. The stage lives in the store (`dualwrite_rollouts`), so every
application process running the rollout's `DualWrite` adapter follows it within a second."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from memvault.cli.app import DbOption, JsonOption, app, console, fail, open_vault, print_json

dualwrite_app = typer.Typer(
    help="Phased rollout from a legacy JSON store: stage, status, advance, rollback.",
    no_args_is_help=True,
)
app.add_typer(dualwrite_app, name="dualwrite")

NameOption = Annotated[str, typer.Option("--name", help="The rollout's name.")]


def _status(vault: Any, name: str) -> dict[str, Any]:
    from memvault.migrate.dualwrite import compare, get_rollout, open_rollout

    rollout = get_rollout(vault, name)
    dw = open_rollout(vault, name)
    drift = compare(dw)
    return {
        "name": rollout.name,
        "user": vault.users.get(rollout.user_id).handle,
        "legacy": rollout.legacy,
        "stage": rollout.stage,
        "authoritative": dw.authoritative,
        "counts": dw.counts(),
        "in_sync": drift.clean,
        "drift": {
            "only_legacy": drift.only_legacy,
            "only_memvault": drift.only_memvault,
            "different": drift.different,
        },
        "history": rollout.history,
    }


def _print(status: dict[str, Any]) -> None:
    console.print(
        f"rollout {status['name']!r} for {status['user']}: stage [bold]{status['stage']}[/] "
        f"(authoritative: {status['authoritative']}); legacy file {status['legacy']}"
    )
    table = Table()
    table.add_column("")
    for what in status["counts"]["legacy"]:
        table.add_column(what, justify="right")
    for side, counts in status["counts"].items():
        table.add_row(side, *(f"{n:,}" for n in counts.values()))
    console.print(table)
    if status["in_sync"]:
        console.print("in sync: both sides hold the same sessions, instances, messages, memories")
    else:
        for kind, items in status["drift"].items():
            for item in items[:20]:
                console.print(f"drift ({kind.replace('_', ' ')}): {item}")


@dualwrite_app.command("stage")
def stage(
    legacy: Annotated[str, typer.Argument(help="The legacy JSON store (JsonFileLegacy layout).")],
    user: Annotated[str, typer.Option("--user", "-u", help="Whose data it is (handle).")],
    name: NameOption = "default",
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Set up a rollout at stage "off" and copy what memvault lacks.

    Copies the legacy store's sessions, instances, messages and memories that memvault does
    not hold yet. Re-run it to copy again. The store must exist (`memvault init`)."""
    from memvault.errors import MemvaultError
    from memvault.migrate.dualwrite import copy_legacy, open_rollout, stage_rollout

    with open_vault(db) as vault:
        try:
            stage_rollout(vault, name, legacy, user)
            copied = copy_legacy(open_rollout(vault, name))
            status = _status(vault, name)
        except MemvaultError as exc:
            fail(str(exc))
    if json:
        print_json({"copied": copied, **status})
        return
    console.print("copied into memvault: " + ", ".join(f"{n} {k}" for k, n in copied.items()))
    _print(status)


@dualwrite_app.command("status")
def status(name: NameOption = "default", db: DbOption = None, json: JsonOption = False) -> None:
    """The rollout's stage, the counts on both sides, where they differ, the stage history."""
    from memvault.errors import MemvaultError

    with open_vault(db) as vault:
        try:
            result = _status(vault, name)
        except MemvaultError as exc:
            fail(str(exc))
    if json:
        print_json(result)
        return
    _print(result)
    for change in result["history"][-5:]:
        console.print(f"  {change['at']}: {change['from']} → {change['to']} {change['reason']}")


@dualwrite_app.command("advance")
def advance(
    name: NameOption = "default",
    force: Annotated[
        bool, typer.Option("--force", help="Make memvault primary despite drift.")
    ] = False,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Move one stage forward.

    Refuses to make memvault authoritative ("primary") while the two sides differ, unless
    --force."""
    from memvault.errors import MemvaultError
    from memvault.migrate.dualwrite import STAGES, compare, open_rollout

    with open_vault(db) as vault:
        try:
            dw = open_rollout(vault, name)
            before = dw.stage
            if before == STAGES[-1]:
                fail(f"rollout {name!r} is already complete")
            drift = compare(dw)
            target = STAGES[STAGES.index(before) + 1]
            if target == "primary" and not drift.clean and not force:
                items = drift.only_legacy + drift.only_memvault + drift.different
                fail(
                    f"memvault differs from the legacy store ({', '.join(items[:5])}"
                    f"{', …' if len(items) > 5 else ''}); run `memvault dualwrite stage` to copy "
                    "what is missing, or pass --force"
                )
            dw.set_stage(target, reason="forced" if force and not drift.clean else "")
            result = _status(vault, name)
        except MemvaultError as exc:
            fail(str(exc))
    if json:
        print_json({"from": before, **result})
        return
    console.print(f"{name}: {before} → {result['stage']}")
    _print(result)


@dualwrite_app.command("rollback")
def rollback(name: NameOption = "default", db: DbOption = None, json: JsonOption = False) -> None:
    """Move one stage back.

    From "complete" the legacy file first gets what memvault wrote since (the backfill), so
    the legacy store can be authoritative again."""
    from memvault.errors import MemvaultError
    from memvault.migrate.dualwrite import STAGES, backfill_legacy, open_rollout

    backfilled: dict[str, int] = {}
    with open_vault(db) as vault:
        try:
            dw = open_rollout(vault, name)
            before = dw.stage
            if before == STAGES[0]:
                fail(f"rollout {name!r} is at 'off': nothing to roll back")
            if before == "complete":
                backfilled = backfill_legacy(dw)
            dw.retreat(backfilled=before == "complete")
            result = _status(vault, name)
        except MemvaultError as exc:
            fail(str(exc))
    if json:
        print_json({"from": before, "backfilled": backfilled, **result})
        return
    if backfilled:
        console.print("written back to the legacy file: "
                      + ", ".join(f"{n} {k}" for k, n in backfilled.items()))  # fmt: skip
    console.print(f"{name}: {before} → {result['stage']}")
    _print(result)
