"""Vault: the public entry point. Opens a store, checks its schema, exposes the domain APIs."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from memvault import paths
from memvault.clock import Clock, utcnow
from memvault.events import EventBus
from memvault.scope import ScopedVault
from memvault.store import migrator
from memvault.store.base import Store, Tx
from memvault.store.engine import open_store, parse_url

if TYPE_CHECKING:
    from memvault import admin
    from memvault.agents import Agents
    from memvault.contexts import Contexts
    from memvault.conversations import Messages, Sessions
    from memvault.emotions import Emotions
    from memvault.memories import Memories
    from memvault.patterns import Patterns
    from memvault.profiles import Profiles
    from memvault.records import Stats
    from memvault.retention import Retention
    from memvault.search.query import Embeddings, Search
    from memvault.tasks import Tasks
    from memvault.tools import Actions, Routing
    from memvault.traits import Traits
    from memvault.users import Projects, Users


class DomainAttribute:
    """A domain attribute of the vault (`vault.memories`, …), made on first use: a process
    that touches two domains (`memvault hook`, started on every tool call of a coding agent)
    does not import the other thirteen. Stateless wrappers, so a race makes one spare."""

    def __init__(self, module: str, cls: str) -> None:
        self.module, self.cls = module, cls

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, vault: Vault | None, owner: type) -> Any:
        if vault is None:
            return self
        # __import__, not importlib.import_module: `python -X importtime` lists only the
        # former, and this is where the hook's import chain is profiled.
        value = getattr(__import__(self.module, fromlist=[self.cls]), self.cls)(vault)
        vault.__dict__[self.name] = value  # a plain attribute from now on
        return value


class Vault:
    """An open memvault store. Thread-safe; open one per process (not across fork()).

    `create=False` opens only an existing store: a missing SQLite file is not created and a
    database without the memvault schema gets none (`SchemaError` / `StoreUnavailable`);
    `auto_upgrade=False` refuses an older schema instead of migrating it.
    """

    def __init__(
        self,
        url: str | os.PathLike[str] | None = None,
        *,
        synchronous: str = "NORMAL",
        busy_timeout: float = 30.0,
        pool_size: int = 10,
        auto_upgrade: bool = True,
        create: bool = True,
        clock: Clock | None = None,
        files_root: str | os.PathLike[str] | None = None,
        embedder: Any = None,
        embed_memories: bool = True,
    ) -> None:
        location = parse_url(url)
        self.store: Store = open_store(
            location,
            create=create,
            synchronous=synchronous,
            busy_timeout=busy_timeout,
            max_size=pool_size,
        )
        try:
            self.schema_version = migrator.ensure(
                self.store, auto_upgrade=auto_upgrade, create=create
            )
        except BaseException:
            self.store.close()
            raise
        self.clock: Clock = clock or utcnow
        # Where backup, restore, import, export and report paths must lie (None: anywhere).
        self.files_root = paths.files_root(files_root)
        self.events = EventBus()
        # `search` and `embeddings` are made on first use: they load numpy (see below).
        self._embedder = embedder
        # Memories get their vector when written (`memories.add`, `update`, imports) when an
        # embedder is available; messages are embedded by `memvault embed` (their volume).
        self.embed_memories = bool(embed_memories)
        self._search: Search | None = None
        self._embeddings: Embeddings | None = None
        self._lazy_lock = threading.Lock()
        self._scoped: dict[str, ScopedVault] = {}  # views are stateless: one per user will do

    if TYPE_CHECKING:
        users: Users
        projects: Projects
        sessions: Sessions
        messages: Messages
        memories: Memories
        emotions: Emotions
        traits: Traits
        profiles: Profiles
        contexts: Contexts
        patterns: Patterns
        actions: Actions
        routing: Routing
        tasks: Tasks
        agents: Agents
        retention: Retention
    else:
        users = DomainAttribute("memvault.users", "Users")
        projects = DomainAttribute("memvault.users", "Projects")
        sessions = DomainAttribute("memvault.conversations", "Sessions")
        messages = DomainAttribute("memvault.conversations", "Messages")
        memories = DomainAttribute("memvault.memories", "Memories")
        emotions = DomainAttribute("memvault.emotions", "Emotions")
        traits = DomainAttribute("memvault.traits", "Traits")
        profiles = DomainAttribute("memvault.profiles", "Profiles")
        contexts = DomainAttribute("memvault.contexts", "Contexts")
        patterns = DomainAttribute("memvault.patterns", "Patterns")
        actions = DomainAttribute("memvault.tools", "Actions")
        routing = DomainAttribute("memvault.tools", "Routing")
        tasks = DomainAttribute("memvault.tasks", "Tasks")
        agents = DomainAttribute("memvault.agents", "Agents")
        retention = DomainAttribute("memvault.retention", "Retention")

    @property
    def search(self) -> Search:
        """Full-text, vector and hybrid search (`memvault.search.query.Search`)."""
        if self._search is None:
            with self._lazy_lock:
                if self._search is None:
                    from memvault.search.query import Search

                    self._search = Search(self, self._embedder)
        return self._search

    @property
    def embeddings(self) -> Embeddings:
        """Stored vectors of memories and messages (`memvault.search.query.Embeddings`)."""
        if self._embeddings is None:
            with self._lazy_lock:
                if self._embeddings is None:
                    from memvault.search.query import Embeddings

                    self._embeddings = Embeddings(self)
        return self._embeddings

    def scoped(self, user_id: str) -> ScopedVault:
        """This vault as one user sees it: the same domain attributes, every call bound to
        `user_id` (another owner's ids answer NotFound; see `memvault.scope`). A service
        hands this view, never the vault, to the code that serves a user."""
        view = self._scoped.get(user_id)
        if view is None:
            view = ScopedVault(self, user_id)
            if len(self._scoped) >= 10_000:
                self._scoped.clear()
            self._scoped[view.user_id] = view
        return view

    @property
    def url(self) -> str:
        """The store's URL, password hidden."""
        return self.store.location.safe_url

    @property
    def engine(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.store.engine

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """Group several API calls into one atomic write transaction."""
        with self.store.write() as tx:
            yield tx

    def stats(self) -> Stats:
        """Row counts per entity, database size and schema version."""
        from memvault.admin import stats  # (here: opening a store does not need admin)

        return stats(self)

    def check(self) -> list[str]:
        """Integrity problems of the database (empty when healthy)."""
        return self.store.check()

    def export_user(self, user_id: str) -> dict[str, Any]:
        """Everything one user owns, as JSON-ready data."""
        from memvault.admin import export_user

        return export_user(self, user_id)

    def erase_user(self, user_id: str, *, vacuum: bool = True) -> dict[str, int]:
        """Delete every row of one user in one transaction, leaving no text of theirs in the
        files (see `admin.erase_user`); returns rows removed per table."""
        from memvault.admin import erase_user

        return erase_user(self, user_id, vacuum=vacuum)

    def backup(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> admin.Backup:
        """Online backup into `path` while writers keep running: SQLite's backup API, or
        `pg_dump -Fc` for PostgreSQL (restore it with `pg_restore --no-owner -d URL`)."""
        from memvault.admin import backup

        return backup(self, os.fspath(path), overwrite=overwrite)

    def close(self) -> None:
        """Close every connection (after any index file being rebuilt in the background)."""
        if self._search is not None:
            self._search.ann_wait()
        self.store.close()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Vault({self.url!r})"


def open(url: str | os.PathLike[str] | None = None, **options: Any) -> Vault:
    """Open (creating or upgrading if needed) the store at `url`; `create=False` and
    `auto_upgrade=False` open an existing, current store only (see `Vault`).

    No URL: `$MEMVAULT_URL`, else `./memvault.db`. `sqlite:///path` and `postgresql://…`
    behave the same through this API.
    """
    return Vault(url, **options)
