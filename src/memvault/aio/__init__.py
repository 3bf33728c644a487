"""memvault for asyncio: `async with memvault.aio.open(url) as vault`.

    async with memvault.aio.open("postgresql://…") as vault:
        user = await vault.users.create("alice")
        await vault.memories.add(user.id, "fact", "likes green tea")
        hits = await vault.search.memories(user.id, "tea")

The async vault has the sync `Vault`'s domains (`users`, `sessions`, `messages`,
`memories`, `search`, …) with the same methods, signatures and records, each a coroutine
function; `scoped(user_id)` gives the one-user view. The surface is *derived* from the sync
classes at run time (`memvault.aio.domains`), never copied, so it cannot drift from them.

How the calls run, and why:

- **Every domain method runs the sync method on the vault's bounded thread pool**
  (`workers`, 4 by default), on SQLite and PostgreSQL alike. The event loop never waits on
  the database: it only awaits a future. SQLite has no async driver (every "async" SQLite
  library is a thread underneath), and the ~30 domain modules are written against the sync
  `Tx`; making each natively async would mean a second core to keep in step, which is the
  drift this design forbids.
- **Hot paths are natively async on PostgreSQL.** Work written once as a *plan*
  (`memvault.store.plan`: a generator that yields steps of queries and receives their rows)
  runs on psycopg's `AsyncConnectionPool` with `run_plan`, each step one pipelined round
  trip, BEGIN and COMMIT included; on SQLite the same plan runs on the thread pool. The
  LangGraph checkpointer's per-step calls (`aput`, `aput_writes`, `aget_tuple`, `alist`)
  are plans. A domain method moves to this path by becoming a plan, with no copy.
- `tests/aio/test_loop.py` measures that the loop keeps ticking while a slow database call
  (one waiting on another connection's lock) runs, on every engine and on both paths.

`run(fn, ...)` runs any sync code on the same pool (several calls in one
`vault.sync.transaction()`, for example). On PostgreSQL the vault holds two pools: the sync
one (`pool_size`) and the async one (`workers` connections).
"""

from __future__ import annotations

import os
from typing import Any

from memvault.aio.domains import AsyncDomain
from memvault.aio.vault import AsyncScopedVault, AsyncVault, Opening

__all__ = ["AsyncDomain", "AsyncScopedVault", "AsyncVault", "open"]


def open(url: str | os.PathLike[str] | None = None, *, workers: int = 4, **options: Any) -> Opening:
    """Open the store at `url` for asyncio code (`memvault.open`'s URL and options);
    `workers`: threads (and, on PostgreSQL, async connections) serving the calls.
    `await memvault.aio.open(url)` or `async with memvault.aio.open(url) as vault`."""
    return Opening(url, workers, options)
