"""`AsyncVault`: a `Vault` for asyncio code; see `memvault.aio` for how its calls run."""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from memvault.aio.domains import AsyncDomain, awaitable, public_methods, runner
from memvault.domain import Domain
from memvault.scope import DOMAINS, UNSCOPED_DOMAINS
from memvault.store import plan as plans
from memvault.store.plan import Plan, Values
from memvault.vault import Vault

if TYPE_CHECKING:
    from memvault.scope import ScopedVault
    from memvault.store.apostgres import AsyncPostgresStore

T = TypeVar("T")

# Vault methods that are not database calls to await: they stay sync (or have an async
# counterpart of another shape: `aclose`, `scoped`, `run` for `transaction`).
NOT_AWAITED = frozenset({"close", "scoped", "transaction"})


def awaited_vault_methods() -> list[str]:
    """The `Vault` methods an `AsyncVault` offers as coroutine functions: every public method
    but `NOT_AWAITED` (so a method added to `Vault` is awaitable here at once)."""
    return sorted(
        name
        for name, value in vars(Vault).items()
        if not name.startswith("_") and inspect.isfunction(value) and name not in NOT_AWAITED
    )


class AsyncScopedVault:
    """`avault.scoped(user_id)`: `vault.scoped(user_id)` with every method awaited."""

    def __init__(self, view: ScopedVault, vault: Vault, run: Callable[..., Awaitable[Any]]):
        self.user_id = view.user_id
        self.engine = view.engine
        for name in DOMAINS:
            methods = public_methods(getattr(vault, name))
            setattr(self, name, AsyncDomain(name, getattr(view, name), run, methods))
        self.export_user = awaitable(view.export_user, run)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"a scoped view has no {name!r} (use the full vault)")


class AsyncVault:
    """An open memvault store for asyncio code: `vault.memories`, `vault.sessions`, … with
    the sync `Vault`'s methods, signatures and records, each a coroutine function.

    Open it with `memvault.aio.open(url)` (`async with` or `await`), or wrap an open `Vault`
    (`AsyncVault(vault)`: thread pool only, no async pool; `close_vault=False` leaves the
    vault open when this closes). `sync` is the underlying `Vault`, `workers` the size of
    the thread pool the calls run on."""

    users: AsyncDomain
    projects: AsyncDomain
    sessions: AsyncDomain
    messages: AsyncDomain
    memories: AsyncDomain
    emotions: AsyncDomain
    traits: AsyncDomain
    profiles: AsyncDomain
    contexts: AsyncDomain
    patterns: AsyncDomain
    actions: AsyncDomain
    routing: AsyncDomain
    tasks: AsyncDomain
    agents: AsyncDomain
    retention: AsyncDomain
    search: AsyncDomain
    embeddings: AsyncDomain

    def __init__(self, vault: Vault, *, workers: int = 4, close_vault: bool = True) -> None:
        self.sync = vault
        self.workers = workers
        self._close_vault = close_vault
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="memvault-aio")
        self._run = runner(self._executor)
        self.astore: AsyncPostgresStore | None = None
        for name in awaited_vault_methods():
            setattr(self, name, awaitable(getattr(vault, name), self._run))

    async def _open_native(self) -> None:
        if self.sync.engine == "postgresql":
            from memvault.store.apostgres import AsyncPostgresStore

            store = AsyncPostgresStore(self.sync.store.location, max_size=self.workers)
            await store.open()
            self.astore = store

    def __getattr__(self, name: str) -> Any:
        # Domains are made on first use: `search` and `embeddings` load numpy.
        known = name in DOMAINS or name in UNSCOPED_DOMAINS
        if known or (
            not name.startswith("_") and isinstance(getattr(self.sync, name, None), Domain)
        ):
            domain = AsyncDomain(name, getattr(self.sync, name), self._run)
            setattr(self, name, domain)
            return domain
        raise AttributeError(f"an async vault has no {name!r}")

    @property
    def url(self) -> str:
        """The store's URL, password hidden."""
        return self.sync.url

    @property
    def engine(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.sync.engine

    def scoped(self, user_id: str) -> AsyncScopedVault:
        """This vault as one user sees it (`Vault.scoped`), every method awaited."""
        return AsyncScopedVault(self.sync.scoped(user_id), self.sync, self._run)

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` on the vault's thread pool: for sync code to run as one unit
        off the event loop, such as several calls in one `vault.sync.transaction()`."""
        result: T = await self._run(fn, *args, **kwargs)
        return result

    async def run_plan(self, make: Callable[[Values], Plan[T]], *, write: bool) -> T:
        """Run the plan `make(values)` (`memvault.store.plan`) in one transaction: natively
        on PostgreSQL (psycopg's async pool, each step one pipelined round trip), on the
        thread pool on SQLite."""
        if self.astore is not None:
            if write:
                return await self.astore.run_write(make(self.astore.values))
            async with self.astore.read() as atx:
                return await atx.run(make(atx))
        return await self.run(plans.run_in, self.sync.store, make, write=write)

    async def aclose(self) -> None:
        """Close the async pool, the thread pool and the vault."""
        if self.astore is not None:
            await self.astore.close()
        await asyncio.get_running_loop().run_in_executor(None, self.close)

    def close(self) -> None:
        """Close from sync code: the thread pool and the vault (an async pool needs
        `aclose`)."""
        self._executor.shutdown(wait=True)
        if self._close_vault:
            self.sync.close()

    async def __aenter__(self) -> AsyncVault:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncVault({self.url!r})"


class Opening:
    """What `memvault.aio.open` returns: `await` it, or use it with `async with`."""

    def __init__(self, url: str | os.PathLike[str] | None, workers: int, options: Any) -> None:
        self._args = (url, workers, options)
        self._vault: AsyncVault | None = None

    async def _open(self) -> AsyncVault:
        url, workers, options = self._args
        # Opening may create or migrate the schema: sync work, kept off the loop.
        vault = await asyncio.to_thread(Vault, url, **options)
        avault = AsyncVault(vault, workers=workers)
        try:
            await avault._open_native()
        except BaseException:
            await avault.aclose()
            raise
        return avault

    def __await__(self) -> Any:
        return self._open().__await__()

    async def __aenter__(self) -> AsyncVault:
        self._vault = await self._open()
        return self._vault

    async def __aexit__(self, *exc: object) -> None:
        if self._vault is not None:
            await self._vault.aclose()
