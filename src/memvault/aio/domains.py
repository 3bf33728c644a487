"""The async domains of `memvault.aio`, derived from the sync ones: never written by hand.

For every public method of a sync domain (`vault.memories.add`, …) the async domain has a
coroutine function of the same name, signature, docstring and return record, which runs the
sync method on the vault's bounded thread pool. A method added to a sync domain appears here
by itself; `tests/aio/test_surface.py` checks that the two surfaces are the same.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any


def public_methods(target: object) -> list[str]:
    """The public callables of a domain (a domain object or a scoped view's domain), by the
    methods its class defines: the names an async twin must have."""
    return sorted(
        name
        for name, value in inspect.getmembers(type(target))
        if not name.startswith("_") and callable(value) and not isinstance(value, type)
    )


def awaitable(
    func: Callable[..., Any], run: Callable[..., Awaitable[Any]]
) -> Callable[..., Awaitable[Any]]:
    """A coroutine function with `func`'s name, signature and docstring that awaits `func`
    run by `run` (off the event loop)."""

    @functools.wraps(func)
    async def call(*args: Any, **kwargs: Any) -> Any:
        return await run(func, *args, **kwargs)

    call.__signature__ = inspect.signature(func)  # type: ignore[attr-defined]
    return call


class AsyncDomain:
    """One domain of an async vault: `await avault.memories.add(...)`. Its methods are the
    sync domain's, each awaited on the vault's thread pool (see `memvault.aio`)."""

    def __init__(
        self,
        name: str,
        domain: object,
        run: Callable[..., Awaitable[Any]],
        methods: list[str] | None = None,
    ) -> None:
        self._name = name
        for method in methods if methods is not None else public_methods(domain):
            setattr(self, method, awaitable(getattr(domain, method), run))

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"the async {self._name} domain has no {name!r}")

    def __repr__(self) -> str:
        return f"<async {self._name}>"


def runner(executor: Executor) -> Callable[..., Awaitable[Any]]:
    """`await run(fn, *args, **kwargs)`: `fn` on `executor`, the event loop left free."""

    async def run(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, functools.partial(fn, *args, **kwargs))

    return run
