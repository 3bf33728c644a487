"""API keys: created once in the clear, stored only as a SHA-256 hash, scoped to a user or admin.

A key reads `mv_<prefix>_<secret>`: the prefix (8 hex characters) is stored to tell keys apart in
listings; the secret is 32 random bytes. Keys are high-entropy random strings, not passwords, so
a fast hash is right (nothing to brute-force); lookups go by hash, and the final comparison is
constant-time. Nothing here ever logs or returns a key after `create`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from memvault import scope
from memvault import validate as v
from memvault.domain import Domain, insert_sql
from memvault.errors import InvalidInput, NotFound
from memvault.ids import new_id
from memvault.scope import ANY, Owner
from memvault.store.rows import row_decoder

KEY_PREFIX = "mv"
SCOPES = ("user", "admin")
# Recording every use would turn each authenticated read into a write; once a minute is enough
# to answer "is this key still in use?".
TOUCH_EVERY = timedelta(seconds=60)

KEY_COLUMNS = ("id", "user_id", "name", "prefix", "key_hash", "scope", "created_at")


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key (never the key itself): who it speaks for and its lifetime."""

    id: str
    user_id: str | None  # None for an admin key
    name: str | None
    prefix: str
    scope: str  # "user" or "admin"
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def is_admin(self) -> bool:
        return self.scope == "admin"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_key(key: str) -> str:
    """The stored form of a key: hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def looks_like_key(key: Any) -> bool:
    """True when `key` has the shape of a memvault key (cheap check before any query)."""
    if not isinstance(key, str) or len(key) > 200:
        return False
    parts = key.split("_", 2)
    return (
        len(parts) == 3
        and parts[0] == KEY_PREFIX
        and len(parts[1]) == 8
        and all(c in "0123456789abcdef" for c in parts[1])
        and len(parts[2]) >= 32
    )


key_from_row = row_decoder(ApiKey)


class ApiKeys(Domain):
    """API keys of a vault: `ApiKeys(vault).create(user_id)` → (record, clear key)."""

    def create(
        self, user_id: str | None = None, *, admin: bool = False, name: str | None = None
    ) -> tuple[ApiKey, str]:
        """Create a key for `user_id` (or an admin key); returns the record and the clear key.

        The clear key is shown this once: only its hash is stored.
        """
        if admin and user_id is not None:
            raise InvalidInput("user_id", user_id, "an admin key belongs to no user")
        if not admin:
            user_id = v.id_("user_id", user_id)
        name = v.optional_text("name", name, max_len=200)
        prefix = secrets.token_hex(4)
        clear = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
        now = self._now()
        with self._store.write() as tx:
            self._require_user(tx, user_id)
            row = tx.one(
                insert_sql("api_keys", KEY_COLUMNS, "*"),
                {
                    "id": new_id(),
                    "user_id": user_id,
                    "name": name,
                    "prefix": prefix,
                    "key_hash": hash_key(clear),
                    "scope": "admin" if admin else "user",
                    "created_at": tx.ts(now),
                },
            )
            assert row is not None
            record = key_from_row(tx, row)
        return record, clear

    def get(self, key_id: str, *, user_id: Owner = ANY) -> ApiKey:
        """A key record by id (scoped to `user_id` when given)."""
        params: dict[str, Any] = {"id": v.id_("key_id", key_id)}
        where = scope.clause(user_id, params)
        with self._store.read() as tx:
            row = tx.one(
                "SELECT * FROM api_keys WHERE id = :id" + (f" AND {where}" if where else ""),
                params,
            )
            if row is None:
                raise NotFound("api key", key_id)
            return key_from_row(tx, row)

    def list(self, *, user_id: Owner = ANY, include_revoked: bool = True) -> list[ApiKey]:
        """Key records (never the keys), oldest first."""
        params: dict[str, Any] = {}
        where = [scope.clause(user_id, params)]
        if not include_revoked:
            where.append("revoked_at IS NULL")
        clause = " AND ".join(w for w in where if w)
        with self._store.read() as tx:
            rows = tx.all(
                "SELECT * FROM api_keys"
                + (f" WHERE {clause}" if clause else "")
                + " ORDER BY created_at, id",
                params,
            )
            return [key_from_row(tx, r) for r in rows]

    def revoke(self, key_id: str, *, user_id: Owner = ANY) -> ApiKey:
        """Revoke a key (idempotent); it authenticates nothing from now on."""
        params: dict[str, Any] = {"id": v.id_("key_id", key_id)}
        where = scope.clause(user_id, params)
        with self._store.write() as tx:
            params["now"] = tx.ts(self._now())
            row = tx.one(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, :now) WHERE id = :id"
                + (f" AND {where}" if where else "")
                + " RETURNING *",
                params,
            )
            if row is None:
                raise NotFound("api key", key_id)
            return key_from_row(tx, row)

    def authenticate(self, key: str) -> ApiKey | None:
        """The active key record matching the clear `key`, or None (unknown, malformed, revoked).

        Records the use (at most once a minute per key).
        """
        if not looks_like_key(key):
            return None
        digest = hash_key(key)
        with self._store.read() as tx:
            row = tx.one("SELECT * FROM api_keys WHERE key_hash = :h", {"h": digest})
            if row is None or not hmac.compare_digest(str(row["key_hash"]), digest):
                return None
            record = key_from_row(tx, row)
        if record.revoked_at is not None:
            return None
        now = self._now()
        if record.last_used_at is None or now - record.last_used_at >= TOUCH_EVERY:
            with self._store.write() as tx:
                tx.execute(
                    "UPDATE api_keys SET last_used_at = :now WHERE id = :id",
                    {"now": tx.ts(now), "id": record.id},
                )
            record = replace(record, last_used_at=now)
        return record
