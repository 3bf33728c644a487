"""Learned response patterns (Lilith): per-user layers over a shared base layer.

Reads are layered explicitly: a user's patterns first, then the base (user_id NULL). Only the
"teacher" (an admin caller passing `teacher=True`) writes the base's content; a user gets
`Forbidden`. Outcomes are another matter: the shared layer learns from its users. A user's
`record_use` of a base pattern adds to the base pattern's totals and to that user's own counts
(`pattern_uses`, revision 0007; read with `uses`), never touching its text.

Learning: `record_use` updates `usage_count` and `success_score` in ONE `UPDATE` statement,
so concurrent learners (threads or processes, SQLite or PostgreSQL) lose no update. The
success score is the *running mean* of all recorded outcomes:
`score ← (score · usage_count + outcome) / (usage_count + 1)` — a new pattern's initial score
is only a prior, replaced by the first outcome; with n uses the score is the mean of the n
outcomes, whatever order they arrived in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from memvault import scope
from memvault import validate as v
from memvault.domain import Domain, insert_sql
from memvault.errors import Forbidden, InvalidInput
from memvault.ids import new_id
from memvault.records import PatternUse, ResponsePattern
from memvault.scope import ANY, Owner
from memvault.store.base import Row, Tx
from memvault.store.rows import columns, row_decoder

PATTERN_COLUMNS = columns(ResponsePattern)
RECORD_USE = (
    "UPDATE response_patterns SET "
    "success_score = (success_score * usage_count + :outcome) / (usage_count + 1), "
    "usage_count = usage_count + 1, last_used_at = :now, updated_at = :now "
    "WHERE id = :id RETURNING *"
)
# One statement too: concurrent first uses by one user meet in ON CONFLICT, never in an error.
RECORD_USER_USE = (
    "INSERT INTO pattern_uses (pattern_id, user_id, usage_count, success_total, last_used_at) "
    "VALUES (:id, :user, 1, :outcome, :now) ON CONFLICT (pattern_id, user_id) DO UPDATE SET "
    "usage_count = pattern_uses.usage_count + 1, "
    "success_total = pattern_uses.success_total + excluded.success_total, "
    "last_used_at = excluded.last_used_at"
)


pattern_from_row = row_decoder(ResponsePattern)
use_from_row = row_decoder(PatternUse)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _intent(value: Any) -> str:
    return v.text("intent", value, max_len=200).strip().lower()


def _may_write(owner: str | None, teacher: bool, caller: Owner = ANY) -> None:
    """Refuse a write of the base layer (`owner` None) unless the teacher makes it: a trusted
    caller (ANY or None) passing `teacher=True`. A call made for one user is never the
    teacher, whatever it passes."""
    if owner is None and (not teacher or isinstance(caller, str)):
        raise Forbidden(
            "only the teacher writes the shared base layer of response patterns "
            "(teacher=True on the full vault, without a user; a user's call never does)"
        )


class Patterns(Domain):
    """`vault.patterns`: responses that worked, per user and in the shared base."""

    def add(
        self,
        user_id: str | None,
        intent: str,
        trigger_context: str,
        response_text: str,
        *,
        success_score: float = 0.5,
        metadata: dict[str, Any] | None = None,
        teacher: bool = False,
        created_at: datetime | None = None,
    ) -> ResponsePattern:
        """Add a pattern to `user_id`'s layer, or to the base layer (user_id None) when
        `teacher` is true; otherwise `Forbidden`. Intents are stored lower-case."""
        user_id = v.optional_id("user_id", user_id)
        _may_write(user_id, teacher)
        intent = _intent(intent)
        trigger = v.text("trigger_context", trigger_context)
        response = v.text("response_text", response_text)
        score = v.unit("success_score", success_score)
        meta = v.json_object("metadata", metadata)
        now = self._now()
        created = v.optional_when("created_at", created_at) or now
        with self._store.write() as tx:
            self._require_user(tx, user_id)
            row = tx.returning(
                insert_sql("response_patterns", PATTERN_COLUMNS, "*"),
                {
                    "id": new_id(),
                    "user_id": user_id,
                    "intent": intent,
                    "trigger_context": trigger,
                    "response_text": response,
                    "success_score": score,
                    "usage_count": 0,
                    "metadata": tx.json(meta),
                    "created_at": tx.ts(created),
                    "updated_at": tx.ts(now),
                    "last_used_at": None,
                },
            )
            pattern = pattern_from_row(tx, row)
            self._emit(tx, "pattern.added", user_id, {"pattern_id": pattern.id},
                       {"intent": intent})  # fmt: skip
            return pattern

    def _visible(self, tx: Tx, pattern_id: str, user_id: Owner) -> Row:
        """The pattern if `user_id` may see it (its own layer or the base), else NotFound."""
        return scope.row(tx, "response_patterns", "response pattern", pattern_id, user_id,
                         layered=True)  # fmt: skip

    def get(self, pattern_id: str, *, user_id: Owner = ANY) -> ResponsePattern:
        """A pattern of the user's layer or of the base (None: base only; ANY: any)."""
        pattern_id = v.id_("pattern_id", pattern_id)
        with self._store.read() as tx:
            return pattern_from_row(tx, self._visible(tx, pattern_id, user_id))

    def record_use(
        self,
        pattern_id: str,
        outcome: bool | float,
        *,
        user_id: Owner = ANY,
        teacher: bool = False,
    ) -> ResponsePattern:
        """Record one use of a pattern with its outcome (True/False, or a score 0–1): usage
        count + 1 and the running-mean success score, in one atomic UPDATE, and the user's own
        counts (`uses`) in the same transaction. A user may record uses of a base pattern (its
        totals learn; its content stays the teacher's); without a user, only the teacher.
        ANY (a trusted caller) records the use for the pattern's own owner."""
        pattern_id = v.id_("pattern_id", pattern_id)
        value = float(outcome) if isinstance(outcome, bool) else v.unit("outcome", outcome)
        with self._store.write() as tx:
            row = self._visible(tx, pattern_id, user_id)
            who = tx.id_out(row["user_id"]) if scope.is_any(user_id) else user_id
            user = who if isinstance(who, str) else None
            if user is None:
                _may_write(None, teacher)
            params = {"id": pattern_id, "outcome": value, "now": tx.ts(self._now())}
            row = tx.returning(RECORD_USE, params)
            if user is not None:
                tx.execute(RECORD_USER_USE, {**params, "user": user})
            pattern = pattern_from_row(tx, row)
            self._emit(
                tx,
                "pattern.used",
                user if user is not None else pattern.user_id,
                {"pattern_id": pattern_id},
                {"outcome": value, "usage_count": pattern.usage_count},
            )
            return pattern

    def uses(self, pattern_id: str, *, user_id: Owner = ANY) -> list[PatternUse]:
        """Per-user uses of a pattern the caller may see: `user_id`'s own (an empty list if
        none yet), or with None or ANY every user's (the teacher's view of a base pattern)."""
        pattern_id = v.id_("pattern_id", pattern_id)
        params: dict[str, Any] = {"id": pattern_id}
        who = scope.owner(user_id)
        sql = "SELECT * FROM pattern_uses WHERE pattern_id = :id"
        if isinstance(who, str):
            sql = scope.where(sql, who, params)
        with self._store.read() as tx:
            if isinstance(who, str):
                self._visible(tx, pattern_id, who)
            rows = tx.all(sql + " ORDER BY user_id", params)
            return [use_from_row(tx, r) for r in rows]

    def update(
        self,
        pattern_id: str,
        *,
        user_id: Owner = ANY,
        intent: str | None = None,
        trigger_context: str | None = None,
        response_text: str | None = None,
        metadata: dict[str, Any] | None = None,
        teacher: bool = False,
    ) -> ResponsePattern:
        """Change a pattern's text, intent or metadata (merged); base patterns need `teacher`."""
        pattern_id = v.id_("pattern_id", pattern_id)
        sets = ["updated_at = :now"]
        params: dict[str, Any] = {"id": pattern_id}
        if intent is not None:
            params["intent"] = _intent(intent)
            sets.append("intent = :intent")
        if trigger_context is not None:
            params["trigger"] = v.text("trigger_context", trigger_context)
            sets.append("trigger_context = :trigger")
        if response_text is not None:
            params["response"] = v.text("response_text", response_text)
            sets.append("response_text = :response")
        patch = None if metadata is None else v.json_object("metadata", metadata)
        with self._store.write() as tx:
            row = self._visible(tx, pattern_id, user_id)
            _may_write(tx.id_out(row["user_id"]), teacher, user_id)
            params["now"] = tx.ts(self._now())
            if patch is not None:
                params["meta"] = tx.json({**(tx.json_out(row["metadata"]) or {}), **patch})
                sets.append("metadata = :meta")
            row = tx.returning(
                f"UPDATE response_patterns SET {', '.join(sets)} WHERE id = :id RETURNING *",
                params,
            )
            pattern = pattern_from_row(tx, row)
            self._emit(tx, "pattern.updated", pattern.user_id, {"pattern_id": pattern_id})
            return pattern

    def delete(self, pattern_id: str, *, user_id: Owner = ANY, teacher: bool = False) -> None:
        """Delete a pattern; base patterns need `teacher`."""
        pattern_id = v.id_("pattern_id", pattern_id)
        with self._store.write() as tx:
            row = self._visible(tx, pattern_id, user_id)
            owner = tx.id_out(row["user_id"])
            _may_write(owner, teacher, user_id)
            tx.execute("DELETE FROM response_patterns WHERE id = :id", {"id": pattern_id})
            self._emit(tx, "pattern.deleted", owner, {"pattern_id": pattern_id})

    def find(
        self,
        user_id: str | None,
        *,
        intent: str | None = None,
        text: str | None = None,
        layered: bool = True,
        min_score: float | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> list[ResponsePattern]:
        """Patterns for `user_id` (None: the base only), the user's layer first then (with
        `layered`) the base, each best first (success score, then usage count).

        `intent` filters exactly (case-folded); `text` matches patterns whose trigger contains
        the text or is contained in it (case-insensitive; ASCII case only on SQLite), with
        bound LIKE parameters — full-text matching is the search module's job."""
        user_id = v.optional_id("user_id", user_id)
        params: dict[str, Any] = {
            "limit": v.integer("limit", limit, minimum=1),
            "offset": v.integer("offset", offset, minimum=0),
        }
        where = [scope.clause(user_id, params, layered=layered)]
        if intent is not None:
            params["intent"] = _intent(intent)
            where.append("intent = :intent")
        if min_score is not None:
            params["min_score"] = v.unit("min_score", min_score)
            where.append("success_score >= :min_score")
        with self._store.read() as tx:
            if text is not None:
                folded = v.text("text", text).strip().lower()
                if not folded:
                    raise InvalidInput("text", text, "must not be blank")
                params["pat"] = f"%{_like_escape(folded)}%"
                params["text"] = folded
                position = "strpos" if tx.engine == "postgresql" else "instr"
                where.append(
                    "(lower(trigger_context) LIKE :pat ESCAPE '\\' "
                    f"OR {position}(:text, lower(trigger_context)) > 0)"
                )
            rows = tx.all(
                f"SELECT * FROM response_patterns WHERE {' AND '.join(where)} "
                "ORDER BY CASE WHEN user_id IS NULL THEN 1 ELSE 0 END, success_score DESC, "
                "usage_count DESC, id LIMIT :limit OFFSET :offset",
                params,
            )
            return [pattern_from_row(tx, r) for r in rows]

    def best(
        self, user_id: str | None, *, intent: str | None = None, text: str | None = None
    ) -> ResponsePattern | None:
        """The first pattern `find` returns, or None."""
        found = self.find(user_id, intent=intent, text=text, limit=1)
        return found[0] if found else None
