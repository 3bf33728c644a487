"""`memvault keys create|list|revoke`: API keys for the service, stored hashed."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from memvault.cli.app import DbOption, JsonOption, app, console, fail, open_vault, print_json
from memvault.keys import ApiKey, ApiKeys

keys_app = typer.Typer(help="API keys for `memvault serve` (shown once, stored hashed).",
                       no_args_is_help=True)  # fmt: skip
app.add_typer(keys_app, name="keys")


def _row(key: ApiKey) -> dict[str, object]:
    return {"id": key.id, "prefix": key.prefix, "scope": key.scope, "user_id": key.user_id,
            "name": key.name, "created_at": key.created_at, "last_used_at": key.last_used_at,
            "revoked_at": key.revoked_at}  # fmt: skip


@keys_app.command("create")
def create(
    user: Annotated[str | None, typer.Option("--user", help="User handle or id.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="A key for every user.")] = False,
    name: Annotated[str | None, typer.Option(help="A label for listings.")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Create a key for one user (--user U) or an admin key (--admin); prints it once."""
    if admin == (user is not None):
        fail("give exactly one of --user U or --admin")
    with open_vault(db) as vault:
        user_id = vault.users.resolve(user).id if user is not None else None
        record, clear = ApiKeys(vault).create(user_id, admin=admin, name=name)
    if json:
        print_json({"key": clear, **_row(record)})
        return
    console.print(f"created {record.scope} key {record.id} (prefix {record.prefix})")
    console.print("the key, shown this once — send it as `Authorization: Bearer <key>`:")
    print(clear)


@keys_app.command("list")
def list_(db: DbOption = None, json: JsonOption = False) -> None:
    """Every key record (never the keys themselves)."""
    with open_vault(db) as vault:
        keys = ApiKeys(vault).list()
    if json:
        print_json([_row(k) for k in keys])
        return
    table = Table()
    for column in ("id", "prefix", "scope", "user", "name", "created", "last used", "revoked"):
        table.add_column(column)
    for k in keys:
        table.add_row(k.id, k.prefix, k.scope, k.user_id or "", k.name or "",
                      f"{k.created_at:%Y-%m-%d %H:%M}",
                      f"{k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "",
                      f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "")  # fmt: skip
    console.print(table)


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from `memvault keys list`).")],
    db: DbOption = None,
) -> None:
    """Revoke a key: it authenticates nothing from now on."""
    with open_vault(db) as vault:
        record = ApiKeys(vault).revoke(key_id)
    console.print(f"revoked key {record.id} (prefix {record.prefix})")
