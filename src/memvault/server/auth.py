"""Who is calling: the API key of `Authorization: Bearer <key>`, and the owner it may act for.

A user key acts for its own user and sees only that user's rows (and the shared base layer
where the core layers reads); another user's ids answer 404, as if they did not exist. An admin
key acts for any user named by `user_id` (or every user when a list names none) and alone
writes the shared base layer, when it asks for it (`base=true`, `Principal.layer_owner`).

The routes reach the store through `View` (`view_of`): the full vault for an admin key, and
for a user key `vault.scoped(user)`, whose every call is bound to that user by the core — a
route cannot make an unscoped call by forgetting an owner argument.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from memvault.errors import Forbidden, InvalidInput, NotFound
from memvault.keys import ApiKeys, hash_key
from memvault.scope import ANY, Owner, ScopedVault
from memvault.vault import Vault


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller."""

    key_id: str
    user_id: str | None
    admin: bool

    def read_owner(self, user_id: str | None = None) -> Owner:
        """Whose rows a read sees: the key's user; for an admin `user_id`, or everyone."""
        if self.admin:
            return ANY if user_id is None else user_id
        if user_id is not None and user_id != self.user_id:
            raise NotFound("user", user_id)
        return self.user_id

    def write_owner(self, user_id: str | None = None) -> str | None:
        """Who owns a new row: the key's user; for an admin `user_id` (None: the base layer)."""
        if self.admin:
            return user_id
        if user_id is not None and user_id != self.user_id:
            raise NotFound("user", user_id)
        return self.user_id

    def layer_owner(
        self, user_id: str | None = None, *, sent: str | None = None, base: bool = False
    ) -> str | None:
        """Who owns a row written to a layered domain (memories, patterns, traits, routing),
        whose base layer every user reads: the user named by the query's `user_id` or the
        body's (`sent`), which must agree. An admin key that names nobody is refused rather
        than writing the base layer by default: that takes `base=true` (admin keys only)."""
        if user_id is not None and sent is not None and user_id != sent:
            raise InvalidInput("user_id", sent, f"the query names user_id={user_id!r}")
        named = user_id if user_id is not None else sent
        if base:
            if named is not None:
                raise InvalidInput("base", True, "the base layer has no owner: drop user_id")
            self.require_admin()
            return None
        if self.admin and named is None:
            raise InvalidInput(
                "user_id", None, "an admin key must name the user (user_id), or base=true"
            )
        return self.write_owner(named)

    def user(self, user_id: str | None = None) -> str:
        """One user this call is about (an admin key must name it)."""
        owner = self.write_owner(user_id)
        if owner is None:
            raise InvalidInput("user_id", None, "an admin key must name the user (user_id)")
        return owner

    def can_see(self, owner: str | None) -> bool:
        """Whether a row of `owner` (None: base layer) is visible to this caller."""
        return self.admin or owner is None or owner == self.user_id

    def require_admin(self) -> None:
        if not self.admin:
            raise Forbidden("this needs an admin key")


# DCM-compatible mode (`memvault serve --dcm-user HANDLE`): DCM's hook and the checks of its
# migration guide send no key. These routes, and only these, then answer an anonymous request
# from a loopback client as the configured user (a user key's rights, never an admin's).
DCM_ROUTES = frozenset(
    {
        ("POST", "/api/actions"),  # the PostToolUse hook (track-usage.sh)
        ("GET", "/api/actions"),
        ("GET", "/api/projects"),
        ("GET", "/api/routing/suggest"),
        ("POST", "/api/routing/feedback"),
        ("GET", "/stats"),
    }
)
DCM_KEY_ID = "dcm-anonymous"


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(host: bytes | None) -> str:
    """The name of a Host header without its port ("[::1]:3847" → "::1")."""
    text = (host or b"").decode("latin-1").strip().lower()
    if text.startswith("["):
        return text[1 : text.find("]")] if "]" in text else text
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def dcm_principal(scope: Mapping[str, Any], dcm_user: str | None) -> Principal | None:
    """The caller of an anonymous request in DCM-compatible mode, or None (answer 401).

    Only with a configured user, only DCM's routes, only from a loopback client address and
    only addressed to a loopback name (a web page that rebinds its own domain to 127.0.0.1
    sends its own name as Host and gets nothing). Behind a proxy the client address is the
    proxy's: uvicorn replaces it with X-Forwarded-For from a local proxy, so a forwarded
    request counts as coming from where the proxy says.
    """
    if dcm_user is None or scope.get("type") != "http":
        return None
    if (scope.get("method"), scope.get("path")) not in DCM_ROUTES:
        return None
    client = scope.get("client")
    if not client or not _loopback(str(client[0])):
        return None
    host = next((v for k, v in scope.get("headers", ()) if k == b"host"), None)
    name = _host_name(host)
    if name != "localhost" and not _loopback(name):
        return None
    return Principal(DCM_KEY_ID, dcm_user, False)


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def bearer(header: str | None) -> str | None:
    """The key of an `Authorization: Bearer <key>` header, or None."""
    if not header:
        return None
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()


def authenticate(keys: ApiKeys, key: str | None) -> Principal | None:
    """The principal of a clear key, or None when it is missing, malformed, unknown or revoked."""
    if key is None:
        return None
    record = keys.authenticate(key)
    if record is None:
        return None
    return Principal(record.id, record.user_id, record.is_admin)


def get_vault(request: Request) -> Vault:
    vault: Vault = request.app.state.vault
    return vault


class AuthCache:
    """Recently authenticated keys, by hash, for `ttl` seconds.

    Authenticating is a database read; on the hot path (thousands of appends a second) this
    cache answers instead. A key revoked through this process's API is dropped at once; one
    revoked elsewhere (CLI, another process) stops working within `ttl` seconds. Only hashes
    are kept, never keys.
    """

    def __init__(self, ttl: float, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, key: str) -> Principal | None:
        if self.ttl <= 0:
            return None
        entry = self._entries.get(hash_key(key))
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: str, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[hash_key(key)] = (time.monotonic() + self.ttl, principal)

    def drop(self, key_id: str) -> None:
        for digest, (_, principal) in list(self._entries.items()):
            if principal.key_id == key_id:
                self._entries.pop(digest, None)


def view_of(vault: Vault, principal: Principal) -> Vault | ScopedVault:
    """What `principal` may reach: an admin the full vault, a user key the vault scoped to its
    user (`Vault.scoped`)."""
    if principal.admin:
        return vault
    if principal.user_id is None:
        raise Forbidden("this key belongs to no user")
    return vault.scoped(principal.user_id)


class SessionOwners:
    """Session id → owner, remembered from the appends the core accepted, so that the append
    fast path knows a caller's right to a session without asking the database. A session
    never changes owner, so a remembered answer stays true; a deleted session makes the append
    itself fail (and the core checks the owner of every append again)."""

    def __init__(self, size: int = 100_000) -> None:
        self.size = size
        self._owners: dict[str, str | None] = {}

    def known(self, session_id: str, principal: Principal) -> bool:
        """True when `principal` may write to the session without asking the database."""
        return principal.admin or (
            session_id in self._owners and self._owners[session_id] == principal.user_id
        )

    def remember(self, session_id: str, owner: str | None) -> None:
        """The core accepted an append to `session_id`, a session of `owner`."""
        if len(self._owners) >= self.size:
            self._owners.clear()
        self._owners[session_id] = owner


async def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the caller, or 401."""
    header = request.headers.get("authorization")
    if header is None:
        anonymous = dcm_principal(request.scope, request.app.state.dcm_user)
        if anonymous is not None:
            return anonymous
        raise unauthorized("missing API key: send Authorization: Bearer <key>")
    key = bearer(header)
    if key is None:
        raise unauthorized("invalid or revoked API key")
    cache: AuthCache = request.app.state.auth_cache
    principal = cache.get(key)
    if principal is None:
        principal = await run_in_threadpool(authenticate, request.app.state.keys, key)
        if principal is None:
            raise unauthorized("invalid or revoked API key")
        cache.put(key, principal)
    return principal


Caller = Annotated[Principal, Depends(current_principal)]
VaultDep = Annotated[Vault, Depends(get_vault)]


async def get_view(request: Request, caller: Caller) -> Vault | ScopedVault:
    """FastAPI dependency: the vault as the caller may reach it (see `view_of`)."""
    return view_of(request.app.state.vault, caller)


View = Annotated[Vault | ScopedVault, Depends(get_view)]
