"""`memvault keys create|list|revoke`: API keys for the service, stored hashed."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from memvault.cli.app import DbOption, JsonOption, app, console, fail, open_vault, print_json
from memvault.keys import KEY_PREFIX, ApiKey, ApiKeys

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
    """Every key record (never the keys themselves); `keys revoke` takes the key column."""
    with open_vault(db) as vault:
        keys = ApiKeys(vault).list()
        owners = {k.user_id for k in keys if k.user_id}
        handles = {uid: vault.users.get(uid).handle for uid in owners}
    if json:
        print_json([_row(k) for k in keys])
        return
    if not keys:
        console.print("no API keys; create one with `memvault keys create --admin` (or --user U)")
        return
    # Fits 80 columns: the key's own prefix names it (what `keys revoke` takes), not the id.
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("key", "scope", "user", "name", "created", "last used", "status"):
        table.add_column(column, no_wrap=column in ("key", "created", "last used", "status"))
    for k in keys:
        table.add_row(f"{KEY_PREFIX}_{k.prefix}", k.scope, escape(handles.get(k.user_id or "", "")),
                      escape(k.name or ""), f"{k.created_at:%Y-%m-%d}",
                      f"{k.last_used_at:%Y-%m-%d}" if k.last_used_at else "never",
                      "revoked" if k.revoked_at else "active")  # fmt: skip
    console.print(table)


def _find(keys: list[ApiKey], ref: str) -> ApiKey:
    """The key `ref` names: its id, its key prefix (`mv_1a2b3c4d`, as `keys list` shows it,
    or the bare 8 hex characters), or a unique beginning of either."""
    text = ref.strip().lower()
    bare = text.removeprefix(f"{KEY_PREFIX}_")
    exact = [k for k in keys if text == k.id.lower() or bare == k.prefix.lower()]
    if exact:
        return exact[0]
    matches = [k for k in keys if bare and k.prefix.lower().startswith(bare)]
    matches += [k for k in keys if len(text) >= 4 and k.id.lower().startswith(text)]
    unique = list({k.id: k for k in matches}.values())
    if not unique:
        fail(f"no API key matches {ref!r}; `memvault keys list` shows them")
    if len(unique) > 1:
        names = ", ".join(f"{KEY_PREFIX}_{k.prefix}" for k in unique[:5])
        fail(f"{ref!r} matches {len(unique)} keys ({names}); give more characters")
    return unique[0]


@keys_app.command("revoke")
def revoke(
    key: Annotated[
        str,
        typer.Argument(help="The key as `memvault keys list` shows it (mv_1a2b3c4d), or its id."),
    ],
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Revoke a key: it authenticates nothing from now on."""
    with open_vault(db) as vault:
        keys = ApiKeys(vault)
        record = keys.revoke(_find(keys.list(), key).id)
    if json:
        print_json(_row(record))
        return
    console.print(f"revoked key {KEY_PREFIX}_{record.prefix} ({record.id})", highlight=False)
