"""The async vault's surface is the sync one's: same domains, method names, signatures and
docstrings, every method a coroutine function. A method added to a sync domain or to `Vault`
without reaching `memvault.aio` fails here."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import memvault
import memvault.aio
from memvault.aio.domains import public_methods
from memvault.aio.vault import NOT_AWAITED
from memvault.domain import Domain
from memvault.vault import DomainAttribute


def _domain_names(vault: memvault.Vault) -> list[str]:
    lazy = [n for n, v in vars(type(vault)).items() if isinstance(v, property)]
    # Lazy domains (`search`, `embeddings`) are properties giving a memvault object.
    lazy = [n for n in lazy if type(getattr(vault, n)).__module__.startswith("memvault.")]
    # Domain attributes are made on first use (`vault.DomainAttribute`), not in vars(vault).
    made = [n for n, v in vars(type(vault)).items() if isinstance(v, DomainAttribute)]
    return sorted(
        {n for n, v in vars(vault).items() if isinstance(v, Domain)} | set(lazy) | set(made)
    )


def _same_methods(sync: object, async_: object, names: list[str], where: str) -> None:
    assert names, f"{where}: no methods found"
    for name in names:
        method = getattr(sync, name)
        twin = getattr(async_, name)
        assert inspect.iscoroutinefunction(twin), f"{where}.{name} is not awaitable"
        assert inspect.signature(twin) == inspect.signature(method), f"{where}.{name}"
        assert twin.__doc__ == method.__doc__, f"{where}.{name} docstring"
    extra = {n for n in vars(async_) if not n.startswith("_")} - set(names)
    assert not extra, f"{where}: async-only methods {sorted(extra)}"


def test_every_domain_and_vault_method_is_awaitable_with_the_same_signature(
    tmp_path: Path,
) -> None:
    async def check() -> None:
        async with memvault.aio.open(tmp_path / "s.db") as avault:
            vault = avault.sync
            domains = _domain_names(vault)
            assert {"memories", "sessions", "search", "retention"} <= set(domains)
            for name in domains:
                sync = getattr(vault, name)
                _same_methods(sync, getattr(avault, name), public_methods(sync), name)
            awaited = [
                n
                for n, v in vars(memvault.Vault).items()
                if inspect.isfunction(v) and not n.startswith("_") and n not in NOT_AWAITED
            ]
            assert {"stats", "export_user", "erase_user", "backup"} <= set(awaited)
            for name in awaited:
                assert inspect.iscoroutinefunction(getattr(avault, name)), name
                sig = inspect.signature(getattr(avault, name))
                assert sig == inspect.signature(getattr(vault, name)), name

    asyncio.run(check())


def test_the_scoped_view_has_the_sync_views_signatures(tmp_path: Path) -> None:
    async def check() -> None:
        async with memvault.aio.open(tmp_path / "s.db") as avault:
            user = await avault.users.create("alice")
            view, aview = avault.sync.scoped(user.id), avault.scoped(user.id)
            for name in memvault.scope.DOMAINS:
                names = public_methods(getattr(avault.sync, name))
                _same_methods(getattr(view, name), getattr(aview, name), names, f"scoped.{name}")
            assert not hasattr(aview, "retention")

    asyncio.run(check())
