"""Owners: users (unique handle, display name, profile JSON) and projects."""

from __future__ import annotations

from typing import Any

from memvault import scope
from memvault import validate as v
from memvault.domain import Domain, insert_sql
from memvault.errors import Conflict, InvalidInput, NotFound
from memvault.ids import new_id
from memvault.records import Project, User
from memvault.scope import ANY, Owner
from memvault.store.rows import columns, row_decoder

user_from_row = row_decoder(User)
project_from_row = row_decoder(Project)

USER_COLUMNS = columns(User)
PROJECT_COLUMNS = columns(Project)


class Users(Domain):
    """`vault.users`: the people (or agents) who own data."""

    def create(
        self,
        handle: str,
        display_name: str | None = None,
        profile: dict[str, Any] | None = None,
    ) -> User:
        """Create a user; the handle must be unique, without leading or trailing spaces."""
        handle = v.text("handle", handle, max_len=200)
        if handle != handle.strip():
            raise InvalidInput("handle", handle, "must not start or end with whitespace")
        display_name = v.optional_text("display_name", display_name, allow_empty=True)
        profile = v.json_object("profile", profile)
        now = self._now()
        with self._store.write() as tx:
            row = tx.one(
                insert_sql("users", USER_COLUMNS, "*", conflict=True),
                {
                    "id": new_id(),
                    "handle": handle,
                    "display_name": display_name,
                    "profile": tx.json(profile),
                    "created_at": tx.ts(now),
                    "updated_at": tx.ts(now),
                },
            )
            if row is None:
                raise Conflict(f"a user with handle {handle!r} already exists")
            user = user_from_row(tx, row)
            self._emit(tx, "user.created", user.id, {"user_id": user.id})
            return user

    def ensure(self, handle: str, display_name: str | None = None) -> User:
        """The user with this handle, created if missing. Handles are exact: one with
        leading or trailing whitespace, or differing only in case from an existing user's,
        is refused (InvalidInput naming the existing handle) rather than silently creating
        a second, empty user."""
        try:
            return self.get_by_handle(handle)
        except NotFound:
            with self._store.read() as tx:
                other = tx.scalar("SELECT handle FROM users WHERE lower(handle) = lower(:h) "
                                  "ORDER BY handle = :exact DESC LIMIT 1",
                                  {"h": handle.strip(), "exact": handle})  # fmt: skip
            if other == handle:  # another caller created it since the first read
                return self.get_by_handle(handle)
            if other is not None:
                raise InvalidInput(
                    "handle",
                    handle,
                    f"no such user, but there is {other!r} (handles are "
                    "exact: case and spaces count); use that handle",
                ) from None
            try:
                return self.create(handle, display_name)
            except Conflict:  # another process created it meanwhile
                return self.get_by_handle(handle)

    def get(self, user_id: str) -> User:
        """A user by id."""
        user_id = v.id_("user_id", user_id)
        with self._store.read() as tx:
            row = tx.one("SELECT * FROM users WHERE id = :id", {"id": user_id})
            if row is None:
                raise NotFound("user", user_id)
            return user_from_row(tx, row)

    def get_by_handle(self, handle: str) -> User:
        """A user by handle."""
        handle = v.text("handle", handle)
        with self._store.read() as tx:
            row = tx.one("SELECT * FROM users WHERE handle = :h", {"h": handle})
            if row is None:
                raise NotFound("user", handle)
            return user_from_row(tx, row)

    def resolve(self, ref: str) -> User:
        """A user by id or by handle."""
        from memvault.ids import is_id

        return self.get(ref) if is_id(ref) else self.get_by_handle(ref)

    def update(
        self,
        user_id: str,
        *,
        display_name: str | None = None,
        profile: dict[str, Any] | None = None,
        merge_profile: bool = True,
    ) -> User:
        """Change the display name and/or profile (merged into the stored one by default)."""
        user_id = v.id_("user_id", user_id)
        display_name = v.optional_text("display_name", display_name, allow_empty=True)
        patch = None if profile is None else v.json_object("profile", profile)
        with self._store.write() as tx:
            row = tx.one("SELECT * FROM users WHERE id = :id", {"id": user_id})
            if row is None:
                raise NotFound("user", user_id)
            current = user_from_row(tx, row)
            new_profile = current.profile
            if patch is not None:
                new_profile = _merge(current.profile, patch) if merge_profile else patch
            row = tx.one(
                "UPDATE users SET display_name = :dn, profile = :p, updated_at = :now "
                "WHERE id = :id RETURNING *",
                {
                    "id": user_id,
                    "dn": display_name if display_name is not None else current.display_name,
                    "p": tx.json(new_profile),
                    "now": tx.ts(self._now()),
                },
            )
            assert row is not None
            self._emit(tx, "user.updated", user_id, {"user_id": user_id})
            return user_from_row(tx, row)

    def list(self, *, limit: int = 100, offset: int = 0) -> list[User]:
        """Users ordered by handle."""
        limit = v.integer("limit", limit, minimum=1)
        offset = v.integer("offset", offset, minimum=0)
        with self._store.read() as tx:
            rows = tx.all(
                "SELECT * FROM users ORDER BY handle LIMIT :limit OFFSET :offset",
                {"limit": limit, "offset": offset},
            )
            return [user_from_row(tx, r) for r in rows]


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


class Projects(Domain):
    """`vault.projects`: workspaces (DCM projects, AIT42 workspaces)."""

    def create(
        self,
        name: str,
        *,
        user_id: str | None = None,
        path: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Project:
        """Create a project; the name is unique per owner."""
        name = v.text("name", name, max_len=4096)
        user_id = v.optional_id("user_id", user_id)
        path = v.optional_text("path", path)
        meta = v.json_object("metadata", metadata)
        with self._store.write() as tx:
            self._require_user(tx, user_id)
            row = tx.one(
                insert_sql("projects", PROJECT_COLUMNS, "*", conflict=True),
                {
                    "id": new_id(),
                    "user_id": user_id,
                    "name": name,
                    "path": path,
                    "metadata": tx.json(meta),
                    "created_at": tx.ts(self._now()),
                },
            )
            if row is None:
                raise Conflict(f"project {name!r} already exists for this owner")
            project = project_from_row(tx, row)
            self._emit(tx, "project.created", user_id, {"project_id": project.id})
            return project

    def ensure(self, name: str, *, user_id: str | None = None, path: str | None = None) -> Project:
        """The project of this name for this owner, created if missing."""
        found = self.find(name, user_id=user_id)
        if found is not None:
            return found
        try:
            return self.create(name, user_id=user_id, path=path)
        except Conflict:
            found = self.find(name, user_id=user_id)
            assert found is not None
            return found

    def find(self, name: str, *, user_id: str | None = None) -> Project | None:
        """The project of this name for this owner, or None."""
        params: dict[str, Any] = {"name": name}
        sql = scope.where("SELECT * FROM projects WHERE name = :name", user_id, params)
        with self._store.read() as tx:
            row = tx.one(sql, params)
            return None if row is None else project_from_row(tx, row)

    def get(self, project_id: str, *, user_id: Owner = ANY) -> Project:
        """A project by id (scoped to `user_id` when given)."""
        project_id = v.id_("project_id", project_id)
        with self._store.read() as tx:
            return project_from_row(tx, scope.row(tx, "projects", "project", project_id, user_id))

    def list(self, user_id: Owner = ANY, *, limit: int = 100, offset: int = 0) -> list[Project]:
        """Projects of an owner (ANY: every owner's), by name."""
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        where = scope.clause(user_id, params)
        with self._store.read() as tx:
            rows = tx.all(
                "SELECT * FROM projects"
                + (f" WHERE {where}" if where else "")
                + " ORDER BY name, id LIMIT :limit OFFSET :offset",
                params,
            )
            return [project_from_row(tx, r) for r in rows]
