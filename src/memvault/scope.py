"""The owner rule, written once: whose rows a call may see or change.

Every row that belongs to someone carries `user_id`; a row without one (`NULL`) belongs to the
shared *base layer*. A call names its owner with the parameter `user_id`, always by that name:

- a user id: that user's rows only (with `layered=True` where a domain offers it, the user's
  rows then the base layer's);
- `None`: the base layer's rows;
- `ANY`: every owner's rows — a trusted caller (the embedded single-user program, an admin,
  a maintenance command). It is the default of the by-id methods, so that embedded code reads
  as before.

The convention of the domain APIs (`vault.memories`, `vault.tasks`, …):

- Methods on an owner's collection — `add`/`create`/`record`, `list`/`find`/`search`/`stats`,
  `count` — take `user_id` as their *first* parameter, positional or keyword (a few creates
  whose subject comes first, such as `tasks.create_request(prompt, user_id=…)`, take it as a
  keyword; it is still named `user_id`).
- Methods on one stored row or one named subject — `get`, `update`, `delete`, `edit`,
  `history`, `set_status`, an agent's `inbox`, a request's `waves`, a session's messages — take
  `user_id` keyword-only after the subject. Another owner's id answers `NotFound`, exactly as
  an unknown id does (a different answer would confirm that the id exists).

A service never passes the owner by hand: `vault.scoped(user_id)` (see `ScopedVault`) is a
view with the same domain attributes whose every call is bound to one user, so that a route
cannot make an unscoped call by forgetting an argument.

The SQL of the rule is built here and nowhere else: `clause`, `where`, `owners`,
`owners_clause`, and `row` (one row by id, or NotFound).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from memvault import validate as v
from memvault.errors import Forbidden, InvalidInput, NotFound
from memvault.ids import is_id

if TYPE_CHECKING:
    from memvault.agents import Agents
    from memvault.contexts import Contexts
    from memvault.conversations import Messages, Sessions
    from memvault.emotions import Emotions
    from memvault.memories import Memories
    from memvault.patterns import Patterns
    from memvault.profiles import Profiles
    from memvault.search.query import Embeddings, Search
    from memvault.store.base import Row, Tx
    from memvault.tasks import Tasks
    from memvault.tools import Actions, Routing
    from memvault.traits import Traits
    from memvault.users import Projects, Users
    from memvault.vault import Vault


class _AnyOwner:
    """Sentinel: a trusted caller reading without owner scoping."""

    _instance: _AnyOwner | None = None

    def __new__(cls) -> _AnyOwner:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ANY"


ANY: Final = _AnyOwner()
Owner = str | None | _AnyOwner


def is_any(user_id: Owner) -> bool:
    """Whether `user_id` is the unscoped `ANY`."""
    return isinstance(user_id, _AnyOwner)


def owner(user_id: Owner) -> Owner:
    """`user_id` checked: ANY, None (the base layer) or a valid user id."""
    if isinstance(user_id, _AnyOwner) or user_id is None:
        return user_id
    return v.id_("user_id", user_id)


def user(user_id: Owner, what: str = "this") -> str:
    """`user_id` as one user's id: for rows that always have an owner (emotion events)."""
    if isinstance(user_id, _AnyOwner) or user_id is None:
        raise InvalidInput("user_id", user_id, f"{what} needs a user id")
    return v.id_("user_id", user_id)


def owners(user_id: Owner, *, layered: bool = False) -> list[str | None] | None:
    """The owners whose rows a read sees: None for ANY (everyone), `[None]` for the base
    layer, `[user]`, or `[user, None]` for a layered read."""
    checked = owner(user_id)
    if isinstance(checked, _AnyOwner):
        return None
    if checked is None:
        return [None]
    return [checked, None] if layered else [checked]


def owners_clause(
    who: list[str | None] | None,
    params: dict[str, Any],
    column: str = "user_id",
    *,
    name: str = "owner",
) -> str:
    """SQL restricting `column` to the owners `who` (see `owners`); '' for everyone. The user
    id is bound as `:name`."""
    if who is None:
        return ""
    parts = []
    for i, one in enumerate(who):
        if one is None:
            parts.append(f"{column} IS NULL")
        else:
            key = name if i == 0 else f"{name}{i}"
            params[key] = one
            parts.append(f"{column} = :{key}")
    if not parts:
        return "1 = 0"
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def clause(
    user_id: Owner,
    params: dict[str, Any],
    column: str = "user_id",
    *,
    layered: bool = False,
    name: str = "owner",
) -> str:
    """SQL for the owner rule: one owner, the base layer, the owner's layer plus the base
    (`layered`), or '' for ANY."""
    return owners_clause(owners(user_id, layered=layered), params, column, name=name)


def where(
    sql: str,
    user_id: Owner,
    params: dict[str, Any],
    column: str = "user_id",
    *,
    layered: bool = False,
) -> str:
    """`sql` (which ends in a WHERE condition) with the owner rule ANDed on."""
    cond = clause(user_id, params, column, layered=layered)
    return sql + (f" AND {cond}" if cond else "")


def row(
    tx: Tx,
    table: str,
    entity: str,
    row_id: str,
    user_id: Owner,
    *,
    columns: str = "*",
    layered: bool = False,
    suffix: str = "",
) -> Row:
    """The row `row_id` of `table` if `user_id` sees it, else NotFound(`entity`) — the same
    answer for another owner's id as for an unknown one. `suffix`: e.g. a row lock."""
    params: dict[str, Any] = {"id": row_id}
    sql = where(f"SELECT {columns} FROM {table} WHERE id = :id", user_id, params, layered=layered)
    found = tx.one(sql + suffix, params)
    if found is None:
        raise NotFound(entity, row_id)
    return found


# -- the scoped view ------------------------------------------------------------------------

# Vault attributes that are domain APIs, in the order of `Vault.__init__`; `ScopedVault`
# binds each, and the owner walk test (tests/test_owner_walk.py) walks each.
DOMAINS: Final = (
    "users", "projects", "sessions", "messages", "memories", "emotions", "traits", "profiles",
    "contexts", "patterns", "actions", "routing", "tasks", "agents", "search", "embeddings",
)  # fmt: skip
# Domains a scoped view does not offer at all: their rows belong to no user.
UNSCOPED_DOMAINS: Final = frozenset({"retention"})


# Methods that take an owner but are maintenance, not one user's reads or writes.
ADMIN_ONLY: Final = frozenset({"emotions.rebuild_rollups", "search.ann_build", "embeddings.put_in"})


def _refuse(bound: str, given: Any) -> None:
    if isinstance(given, _AnyOwner) or given is None:
        raise Forbidden(
            f"this view is bound to one user: user_id={given!r} (every owner, or the base "
            "layer) needs the full vault"
        )
    if given != bound:
        # Another user's id answers as an unknown one, as everywhere else.
        raise NotFound("user", given)


class _Bound:
    """One domain of a `ScopedVault`: every public method called with the view's owner."""

    def __init__(self, name: str, domain: Any, user_id: str) -> None:
        self._name = name
        self.__domain = domain  # name-mangled: not a public door to the unscoped domain
        self._user_id = user_id

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(f"{self._name}.{attr} is private")
        value = getattr(self.__domain, attr)
        if attr.startswith("_") or not callable(value):
            if attr.startswith("_"):
                raise AttributeError(f"{self._name}.{attr} is private")
            return value
        bound = _bind(value, f"{self._name}.{attr}", self._user_id)
        object.__setattr__(self, attr, bound)  # cached: the next call skips __getattr__
        return bound

    def __repr__(self) -> str:
        return f"<{self._name} scoped to {self._user_id}>"


@functools.lru_cache(maxsize=1024)
def _signature(func: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(func)


def _bind(method: Callable[..., Any], qualname: str, user_id: str) -> Callable[..., Any]:
    func = getattr(method, "__func__", None)
    if func is None:  # not a method (a callable attribute): nothing to bind it with
        return method
    signature = _signature(func)
    if "user_id" not in signature.parameters or qualname in ADMIN_ONLY:

        @functools.wraps(method)
        def refused(*args: Any, **kwargs: Any) -> Any:
            raise Forbidden(f"{qualname} is not scoped to one user: it needs the full vault")

        return refused

    # The owner's place in the call, found once: calls then cost a few dict operations.
    params = list(signature.parameters.values())[1:]  # without self
    at = next(i for i, p in enumerate(params) if p.name == "user_id")
    keyword_only = params[at].kind is inspect.Parameter.KEYWORD_ONLY

    def call(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("teacher"):
            raise Forbidden(f"{qualname}: a user's view is never the teacher (full vault only)")
        if "user_id" in kwargs:  # named by keyword: this view's owner, or refused
            _refuse(user_id, kwargs.pop("user_id"))
        if not keyword_only and len(args) > at:
            given = args[at]
            if given is None or isinstance(given, _AnyOwner) or is_id(given):
                _refuse(user_id, given)  # an owner given by position: this view's, or refused
                return method(*args, **kwargs)
            # The view's own signature has no owner: positional arguments are the ones
            # after it (`view.memories.add("fact", "text")`), and the owner goes in its place.
            return method(*args[:at], user_id, *args[at:], **kwargs)
        kwargs["user_id"] = user_id
        return method(*args, **kwargs)

    functools.update_wrapper(call, method)
    # help() and inspect show the view's own signature: the method's, without the owner.
    call.__dict__["__signature__"] = signature.replace(
        parameters=[p for p in signature.parameters.values() if p.name not in ("self", "user_id")]
    )
    return call


class ScopedVault:
    """`vault.scoped(user_id)`: the vault as one user sees it.

    It has the vault's domain attributes (`memories`, `sessions`, `tasks`, …) with the same
    methods and signatures, and binds every call to `user_id`: a call that leaves the owner
    out gets it, a call naming this user is unchanged, a call naming another user answers
    `NotFound` and one naming `ANY` (or the base layer, None) `Forbidden`. Layered reads
    (`layered=True`, patterns, personality) still see the shared base layer. Methods that
    are not about one user's rows (`users.list`, `search.reindex`, index maintenance) are
    `Forbidden` here, and so is `teacher=True`: they need the full vault (an admin). What
    belongs to the whole store (`retention`, `events`, `transaction`, `stats`, `backup`,
    `erase_user`) is absent: AttributeError. Methods take the same arguments without the
    owner: `view.memories.add("fact", "…")`, `view.memories.search("tea")`; a first argument
    that is a user id (or None, ANY) is taken as the owner, as on the full vault.

    The view guards against mistakes (a route that forgets the owner), not against code
    that sets out to escape it: it keeps the vault in a private attribute.
    """

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
    search: Search
    embeddings: Embeddings

    def __init__(self, vault: Vault, user_id: str) -> None:
        self.__vault = vault  # name-mangled: the view is not a public door to the full vault
        self.user_id = v.id_("user_id", user_id)

    def __getattr__(self, name: str) -> Any:
        if name not in DOMAINS:
            raise AttributeError(f"a scoped view has no {name!r} (use the full vault)")
        bound = _Bound(name, getattr(self.__vault, name), self.user_id)
        object.__setattr__(self, name, bound)
        return bound

    @property
    def engine(self) -> str:
        return self.__vault.engine

    def export_user(self, user_id: str | None = None) -> dict[str, Any]:
        """Everything this user owns (see `Vault.export_user`)."""
        if user_id is not None:
            _refuse(self.user_id, user_id)
        return self.__vault.export_user(self.user_id)

    def __repr__(self) -> str:
        return f"ScopedVault({self.__vault.url!r}, user_id={self.user_id!r})"
