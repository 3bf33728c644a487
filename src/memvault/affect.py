"""Affect: emotion events and the patterns computed from them, personality traits and their
evolution, user profile helpers and a session's conversation context.

Emotional patterns are computed on demand: `Emotions.patterns` sums the daily rollups that
triggers keep beside `emotion_events` (revision 0005) for whole UTC days, and aggregates the
events themselves for partial days and the trend window. Intensities are stored on a 0–1
scale; legacy 0–100 values are converted on the way in when the caller says so (`scale=100`).
"""

from __future__ import annotations

import builtins
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from memvault import validate as v
from memvault.domain import ANY, Domain, Owner, _AnyOwner, insert_sql, owner_clause
from memvault.domain_records import (
    ConversationContext,
    EmotionalPatterns,
    EmotionEvent,
    EmotionPattern,
    Personality,
    Profile,
    Trait,
    TraitChange,
    TrajectoryPoint,
    TriggerCount,
    UsageStats,
)
from memvault.errors import InvalidInput, NotFound
from memvault.ids import new_id
from memvault.store.base import Row, Tx
from memvault.tools import for_update, keywords

EVENT_COLUMNS = (
    "id", "user_id", "session_id", "emotion", "intensity", "trigger", "context", "metadata",
    "occurred_at",
)  # fmt: skip
TRAIT_COLUMNS = ("id", "user_id", "agent", "name", "value", "updated_at")
CHANGE_COLUMNS = ("id", "trait_id", "user_id", "old_value", "new_value", "reason", "changed_at")
TREND_THRESHOLD = 0.05  # |recent − earlier| average intensity below this is "stable"


def event_from_row(tx: Tx, row: Row) -> EmotionEvent:
    return EmotionEvent(
        id=str(row["id"]),
        user_id=str(row["user_id"]),
        session_id=tx.id_out(row["session_id"]),
        emotion=row["emotion"],
        intensity=float(row["intensity"]),
        trigger=row["trigger"],
        context=row["context"],
        metadata=tx.json_out(row["metadata"]) or {},
        occurred_at=tx.ts_out(row["occurred_at"]),  # type: ignore[arg-type]
    )


def trait_from_row(tx: Tx, row: Row) -> Trait:
    return Trait(
        id=str(row["id"]),
        user_id=tx.id_out(row["user_id"]),
        agent=row["agent"],
        name=row["name"],
        value=float(row["value"]),
        updated_at=tx.ts_out(row["updated_at"]),  # type: ignore[arg-type]
        metadata=tx.json_out(row["metadata"]) or {},
    )


def normalise_intensity(value: Any, scale: Any = 1.0, field: str = "intensity") -> float:
    """`value` on a 0–`scale` scale as 0–1. The scale is never guessed: a value outside
    0–`scale` is refused, so a 0–100 value given without `scale=100` is an error."""
    scale = v.number_("scale", scale)
    if scale <= 0:
        raise InvalidInput("scale", scale, "must be positive (1 for 0–1 values, 100 for 0–100)")
    number = v.number_(field, value)
    if not 0.0 <= number <= scale:
        hint = " (a legacy 0–100 value? pass scale=100)" if scale == 1 and number <= 100 else ""
        raise InvalidInput(field, value, f"must be between 0 and {scale:g}{hint}")
    return float(number / scale)


def _emotion(value: Any) -> str:
    return v.text("emotion", value, max_len=100).strip().lower()


def _hour_sql(tx: Tx, column: str) -> str:
    if tx.engine == "postgresql":
        return f"CAST(EXTRACT(HOUR FROM {column} AT TIME ZONE 'UTC') AS INTEGER)"
    return f"CAST(substr({column}, 12, 2) AS INTEGER)"  # fixed-width ISO text, UTC


def _seconds_sql(tx: Tx, end: str, start: str) -> str:
    if tx.engine == "postgresql":
        return f"EXTRACT(EPOCH FROM ({end} - {start}))"
    return f"(julianday({end}) - julianday({start})) * 86400.0"


def _user_scope(user_id: Any, params: dict[str, Any], column: str = "user_id") -> str:
    """Emotion events always have an owner: a user id is required."""
    params["owner"] = v.id_("user_id", user_id)
    return f"{column} = :owner"


LEGACY_TRENDS = frozenset({"increasing", "decreasing", "stable"})


class Emotions(Domain):
    """`vault.emotions`: what a user felt, when, and why; patterns computed on demand."""

    def record(
        self,
        user_id: str,
        emotion: str,
        intensity: float,
        *,
        trigger: str | None = None,
        context: str | None = None,
        session_id: str | None = None,
        occurred_at: datetime | None = None,
        metadata: dict[str, Any] | None = None,
        scale: float = 1.0,
    ) -> EmotionEvent:
        """Record one emotion event. `intensity` is 0–1, or 0–`scale` (e.g. `scale=100` for a
        legacy 0–100 value, stored as value/100). Emotion names are stored lower-case."""
        return self.record_many(
            user_id,
            [
                {
                    "emotion": emotion,
                    "intensity": intensity,
                    "trigger": trigger,
                    "context": context,
                    "session_id": session_id,
                    "occurred_at": occurred_at,
                    "metadata": metadata,
                }
            ],
            scale=scale,
        )[0]

    def record_many(
        self, user_id: str, events: Iterable[Mapping[str, Any]], *, scale: float = 1.0
    ) -> list[EmotionEvent]:
        """Record several events of one user in one transaction (all or nothing). Each
        mapping has the keyword arguments of `record` (emotion and intensity required)."""
        user_id = v.id_("user_id", user_id)
        now = self._now()
        prepared: list[dict[str, Any]] = []
        for i, event in enumerate(events):
            if not isinstance(event, Mapping):
                raise InvalidInput(f"events[{i}]", event, "expected a mapping")
            unknown = set(event) - {
                "emotion", "intensity", "trigger", "context", "session_id", "occurred_at",
                "metadata",
            }  # fmt: skip
            if unknown:
                raise InvalidInput(f"events[{i}]", sorted(unknown), "unknown fields")
            prepared.append(
                {
                    "id": new_id(),
                    "user_id": user_id,
                    "session_id": v.optional_id("session_id", event.get("session_id")),
                    "emotion": _emotion(event.get("emotion")),
                    "intensity": normalise_intensity(event.get("intensity"), scale),
                    "trigger": v.optional_text("trigger", event.get("trigger"), allow_empty=True),
                    "context": v.optional_text("context", event.get("context"), allow_empty=True),
                    "metadata": v.json_object("metadata", event.get("metadata")),
                    "occurred_at": v.optional_when("occurred_at", event.get("occurred_at")) or now,
                }
            )
        if not prepared:
            return []
        with self._store.write() as tx:
            self._require_user(tx, user_id)
            sessions = {p["session_id"] for p in prepared if p["session_id"] is not None}
            for session_id in sessions:
                row = tx.one("SELECT user_id FROM sessions WHERE id = :s", {"s": session_id})
                if row is None or tx.id_out(row["user_id"]) not in (user_id, None):
                    raise NotFound("session", session_id)
            rows = [
                {**p, "metadata": tx.json(p["metadata"]), "occurred_at": tx.ts(p["occurred_at"])}
                for p in prepared
            ]
            tx.executemany(insert_sql("emotion_events", EVENT_COLUMNS), rows)
            out = [EmotionEvent(**p) for p in prepared]
            for recorded in out:
                ids = {"event_id": recorded.id}
                if recorded.session_id:
                    ids["session_id"] = recorded.session_id
                self._emit(
                    tx,
                    "emotion.recorded",
                    user_id,
                    ids,
                    {"emotion": recorded.emotion, "intensity": recorded.intensity},
                )
            return out

    def get(self, event_id: str, *, user_id: str) -> EmotionEvent:
        """One event of `user_id` (another user's id: NotFound)."""
        params: dict[str, Any] = {"id": v.id_("event_id", event_id)}
        where = _user_scope(user_id, params)
        with self._store.read() as tx:
            row = tx.one(f"SELECT * FROM emotion_events WHERE id = :id AND {where}", params)
            if row is None:
                raise NotFound("emotion event", event_id)
            return event_from_row(tx, row)

    def list(
        self,
        user_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        emotion: str | None = None,
        session_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
        newest_first: bool = True,
    ) -> list[EmotionEvent]:
        """Events of `user_id` in [since, until), newest first by default."""
        params: dict[str, Any] = {
            "limit": v.integer("limit", limit, minimum=1),
            "offset": v.integer("offset", offset, minimum=0),
        }
        where = [_user_scope(user_id, params)]
        if emotion is not None:
            params["emotion"] = _emotion(emotion)
            where.append("emotion = :emotion")
        if session_id is not None:
            params["sid"] = v.id_("session_id", session_id)
            where.append("session_id = :sid")
        order = "DESC" if newest_first else "ASC"
        with self._store.read() as tx:
            where += _range(tx, params, since, until)
            rows = tx.all(
                f"SELECT * FROM emotion_events WHERE {' AND '.join(where)} "
                f"ORDER BY occurred_at {order}, id {order} LIMIT :limit OFFSET :offset",
                params,
            )
            return [event_from_row(tx, r) for r in rows]

    def current(self, user_id: str, *, session_id: str | None = None) -> EmotionEvent | None:
        """The latest event of the user (in one session when given), or None."""
        events = self.list(user_id, session_id=session_id, limit=1)
        return events[0] if events else None

    def delete(self, event_id: str, *, user_id: str) -> None:
        """Delete one event of `user_id`."""
        params: dict[str, Any] = {"id": v.id_("event_id", event_id)}
        where = _user_scope(user_id, params)
        with self._store.write() as tx:
            row = tx.one(f"DELETE FROM emotion_events WHERE id = :id AND {where} RETURNING id",
                         params)  # fmt: skip
            if row is None:
                raise NotFound("emotion event", event_id)
            self._emit(tx, "emotion.deleted", params["owner"], {"event_id": event_id})

    def patterns(
        self,
        user_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        window_days: float = 7.0,
        top_triggers: int = 3,
    ) -> EmotionalPatterns:
        """Per-emotion patterns of the user's events in [since, until) (all time by default):
        count, frequency (share of events), average and peak intensity, first/last time, the
        `top_triggers` most frequent triggers, a 24-bucket UTC hour-of-day profile, and a trend.

        Trend: the last `window_days` before `until` (or now) are cut in two halves; the
        average intensity of the recent half minus that of the earlier half is `trend_delta`;
        above +0.05 is "increasing", below −0.05 "decreasing", else "stable". When one half
        has no event (`trend_delta` None): the trend an imported legacy pattern recorded
        (EdgeSoul's `trend`, kept on its baseline), else "stable".

        Whole UTC days inside [since, until) are read from the daily rollups (revision 0005);
        the partial days at the edges and the trend window from the events; trigger counts from
        monthly rollups and the events of partial months. One snapshot.
        """
        window = v.number_("window_days", window_days)
        if window <= 0:
            raise InvalidInput("window_days", window_days, "must be positive")
        k = v.integer("top_triggers", top_triggers, minimum=0)
        params: dict[str, Any] = {"k": k}
        owner = _user_scope(user_id, params)
        lo_at = v.optional_when("since", since)
        hi_at = v.optional_when("until", until)
        end = hi_at or self._now()
        w_start = end - timedelta(days=window)
        w_mid = w_start + timedelta(days=window / 2)
        with self._store.read() as tx:
            roll_where, raw_where = _where_split(tx, params, owner, _split(lo_at, hi_at), "day")
            month_where, month_raw = _where_split(
                tx, params, owner, _split(lo_at, hi_at, months=True), "month"
            )
            hour = _hour_sql(tx, "occurred_at")
            acc: dict[str, dict[str, Any]] = {}

            def add(
                emotion: str,
                n: int,
                total: float,
                peak: float,
                first: Any,
                last: Any,
                hours: Iterable[tuple[int, int]],
            ) -> None:
                a = acc.setdefault(
                    emotion,
                    {"n": 0, "total": 0.0, "peak": 0.0, "first": None, "last": None,
                     "hours": [0] * 24, "es": 0.0, "en": 0, "ls": 0.0, "ln": 0},
                )  # fmt: skip
                a["n"] += n
                a["total"] += total
                a["peak"] = max(a["peak"], peak)
                a["first"] = first if a["first"] is None else min(a["first"], first)
                a["last"] = last if a["last"] is None else max(a["last"], last)
                for h, count in hours:
                    a["hours"][h] += count

            if roll_where:
                sums = ", ".join(f"SUM({h}) AS {h}" for h in HOURS)
                for r in tx.all(
                    "SELECT emotion, SUM(n) AS n, SUM(total) AS total, MAX(peak) AS peak, "
                    f"MIN(first_at) AS first_at, MAX(last_at) AS last_at, {sums} "
                    f"FROM emotion_rollups WHERE {roll_where} GROUP BY emotion",
                    params,
                ):
                    add(
                        r["emotion"],
                        int(r["n"]),
                        float(r["total"]),
                        float(r["peak"]),
                        tx.ts_out(r["first_at"]),
                        tx.ts_out(r["last_at"]),
                        ((h, int(r[name])) for h, name in enumerate(HOURS)),
                    )
            if raw_where:
                for r in tx.all(
                    f"SELECT emotion, {hour} AS hour, COUNT(*) AS n, SUM(intensity) AS total, "
                    "MAX(intensity) AS peak, MIN(occurred_at) AS first_at, "
                    "MAX(occurred_at) AS last_at "
                    f"FROM emotion_events WHERE {raw_where} GROUP BY emotion, {hour}",
                    params,
                ):
                    add(
                        r["emotion"],
                        int(r["n"]),
                        float(r["total"]),
                        float(r["peak"]),
                        tx.ts_out(r["first_at"]),
                        tx.ts_out(r["last_at"]),
                        [(int(r["hour"]), int(r["n"]))],
                    )
            # The trend: the events of the (small) window, within [since, until).
            trend_where = " AND ".join([owner, *_range(tx, params, since, until)])
            params.update(w_start=tx.ts(w_start), w_mid=tx.ts(w_mid), w_end=tx.ts(end))
            for r in tx.all(
                "SELECT emotion, "
                "SUM(CASE WHEN occurred_at < :w_mid THEN intensity END) AS early_sum, "
                "SUM(CASE WHEN occurred_at < :w_mid THEN 1 ELSE 0 END) AS early_n, "
                "SUM(CASE WHEN occurred_at >= :w_mid THEN intensity END) AS late_sum, "
                "SUM(CASE WHEN occurred_at >= :w_mid THEN 1 ELSE 0 END) AS late_n "
                f"FROM emotion_events WHERE {trend_where} "
                "AND occurred_at >= :w_start AND occurred_at < :w_end GROUP BY emotion",
                params,
            ):
                got = acc.get(r["emotion"])
                if got is not None:
                    got["es"] += float(r["early_sum"] or 0.0)
                    got["en"] += int(r["early_n"] or 0)
                    got["ls"] += float(r["late_sum"] or 0.0)
                    got["ln"] += int(r["late_n"] or 0)
            parts = []
            if month_where:
                parts.append(
                    "SELECT emotion, trigger, SUM(n) AS n FROM emotion_trigger_rollups "
                    f"WHERE {month_where} GROUP BY emotion, trigger"
                )
            if month_raw:
                parts.append(
                    "SELECT emotion, trigger, COUNT(*) AS n FROM emotion_events "
                    f"WHERE {month_raw} AND trigger IS NOT NULL AND trigger <> '' "
                    "GROUP BY emotion, trigger"
                )
            triggers = (
                tx.all(
                    "SELECT emotion, trigger, n FROM ("
                    " SELECT emotion, trigger, n, ROW_NUMBER() OVER ("
                    "  PARTITION BY emotion ORDER BY n DESC, trigger) AS rn FROM ("
                    "  SELECT emotion, trigger, SUM(n) AS n FROM ("
                    f"   {' UNION ALL '.join(parts)}) AS u"
                    "  GROUP BY emotion, trigger) AS g) AS r "
                    "WHERE rn <= :k ORDER BY emotion, rn",
                    params,
                )
                if k and parts
                else []
            )
        legacy = self._legacy_trends(params["owner"], acc)
        return _assemble(params["owner"], since, until, window, acc, triggers, legacy)

    def _patterns_reference(
        self,
        user_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        window_days: float = 7.0,
        top_triggers: int = 3,
    ) -> EmotionalPatterns:
        """`patterns` computed from the events alone (the implementation before the rollups),
        kept to check the rollup-based one against."""
        window = v.number_("window_days", window_days)
        if window <= 0:
            raise InvalidInput("window_days", window_days, "must be positive")
        k = v.integer("top_triggers", top_triggers, minimum=0)
        params: dict[str, Any] = {"k": k}
        owner = _user_scope(user_id, params)
        end = v.optional_when("until", until) or self._now()
        w_start = end - timedelta(days=window)
        w_mid = w_start + timedelta(days=window / 2)
        with self._store.read() as tx:
            where = " AND ".join([owner, *_range(tx, params, since, until)])
            params.update(w_start=tx.ts(w_start), w_mid=tx.ts(w_mid), w_end=tx.ts(end))
            hour = _hour_sql(tx, "occurred_at")
            rows = tx.all(
                f"SELECT emotion, {hour} AS hour, COUNT(*) AS n, SUM(intensity) AS total, "
                "MAX(intensity) AS peak, MIN(occurred_at) AS first_at, "
                "MAX(occurred_at) AS last_at, "
                "SUM(CASE WHEN occurred_at >= :w_start AND occurred_at < :w_mid "
                "THEN intensity END) AS early_sum, "
                "SUM(CASE WHEN occurred_at >= :w_start AND occurred_at < :w_mid "
                "THEN 1 ELSE 0 END) AS early_n, "
                "SUM(CASE WHEN occurred_at >= :w_mid AND occurred_at < :w_end "
                "THEN intensity END) AS late_sum, "
                "SUM(CASE WHEN occurred_at >= :w_mid AND occurred_at < :w_end "
                "THEN 1 ELSE 0 END) AS late_n "
                f"FROM emotion_events WHERE {where} GROUP BY emotion, {hour}",
                params,
            )
            triggers = (
                tx.all(
                    "SELECT emotion, trigger, n FROM ("
                    " SELECT emotion, trigger, n, ROW_NUMBER() OVER ("
                    "  PARTITION BY emotion ORDER BY n DESC, trigger) AS rn FROM ("
                    "  SELECT emotion, trigger, COUNT(*) AS n FROM emotion_events"
                    f"  WHERE {where} AND trigger IS NOT NULL AND trigger <> ''"
                    "  GROUP BY emotion, trigger) AS g) AS r "
                    "WHERE rn <= :k ORDER BY emotion, rn",
                    params,
                )
                if k
                else []
            )
            acc: dict[str, dict[str, Any]] = {}
            for r in rows:
                a = acc.setdefault(
                    r["emotion"],
                    {"n": 0, "total": 0.0, "peak": 0.0, "first": None, "last": None,
                     "hours": [0] * 24, "es": 0.0, "en": 0, "ls": 0.0, "ln": 0},
                )  # fmt: skip
                n = int(r["n"])
                a["n"] += n
                a["total"] += float(r["total"])
                a["peak"] = max(a["peak"], float(r["peak"]))
                first, last = tx.ts_out(r["first_at"]), tx.ts_out(r["last_at"])
                a["first"] = first if a["first"] is None else min(a["first"], first)
                a["last"] = last if a["last"] is None else max(a["last"], last)
                a["hours"][int(r["hour"])] += n
                a["es"] += float(r["early_sum"] or 0.0)
                a["en"] += int(r["early_n"] or 0)
                a["ls"] += float(r["late_sum"] or 0.0)
                a["ln"] += int(r["late_n"] or 0)
        legacy = self._legacy_trends(params["owner"], acc)
        return _assemble(params["owner"], since, until, window, acc, triggers, legacy)

    def _legacy_trends(self, owner: str, acc: dict[str, dict[str, Any]]) -> dict[str, str]:
        """The trend a legacy system had recorded for an emotion (an imported EdgeSoul
        pattern keeps it on its first baseline event, metadata.legacy_pattern.trend), for
        the emotions whose trend window has too few events to compute one."""
        emotions = sorted(e for e, a in acc.items() if not (a["en"] and a["ln"]))
        if not emotions:
            return {}
        params: dict[str, Any] = {"owner": owner}
        with self._store.read() as tx:
            listed = tx.expand("e", emotions, params)
            trend = (
                "metadata->'legacy_pattern'->>'trend'"
                if tx.engine == "postgresql"
                else "json_extract(metadata, '$.legacy_pattern.trend')"
            )
            rows = tx.all(
                f"SELECT emotion, {trend} AS trend FROM emotion_events "
                f"WHERE user_id = :owner AND emotion IN ({listed}) AND {trend} IS NOT NULL "
                "ORDER BY occurred_at",
                params,
            )
        return {r["emotion"]: r["trend"] for r in rows if r["trend"] in LEGACY_TRENDS}

    def rebuild_rollups(self, user_id: str | None = None) -> int:
        """Recompute the daily emotion rollups (all users, or one) from the events; returns
        the number of (user, emotion, day) rows. `memvault reindex` runs it."""
        params: dict[str, Any] = {}
        where = "1 = 1"
        if user_id is not None:
            where = _user_scope(user_id, params)
        with self._store.write() as tx:
            tx.execute(f"DELETE FROM emotion_rollups WHERE {where}", params)
            tx.execute(f"DELETE FROM emotion_trigger_rollups WHERE {where}", params)
            tx.execute(_rebuild_rollups_sql(tx.engine, where), params)
            tx.execute(_rebuild_triggers_sql(tx.engine, where), params)
            return int(tx.scalar(f"SELECT COUNT(*) FROM emotion_rollups WHERE {where}", params))

    def trajectory(self, session_id: str, *, user_id: Owner) -> builtins.list[TrajectoryPoint]:
        """A session's emotions in time order: its emotion events, or, when it has none, the
        emotion labels of its messages (intensity None)."""
        params: dict[str, Any] = {"sid": v.id_("session_id", session_id)}
        with self._store.read() as tx:
            return _trajectory(tx, params, user_id)


HOURS = tuple(f"h{h:02d}" for h in range(24))
_ROLLUP_COLS = "user_id, emotion, day, n, total, peak, first_at, last_at, " + ", ".join(HOURS)


def _day_sql(engine: str) -> str:
    if engine == "postgresql":
        return "CAST(occurred_at AT TIME ZONE 'UTC' AS date)"
    return "substr(occurred_at, 1, 10)"


def _rebuild_rollups_sql(engine: str, where: str) -> str:
    day = _day_sql(engine)
    hour = "CAST(EXTRACT(HOUR FROM occurred_at AT TIME ZONE 'UTC') AS INTEGER)"
    if engine != "postgresql":
        hour = "CAST(substr(occurred_at, 12, 2) AS INTEGER)"
    hours = ", ".join(f"SUM(CASE WHEN {hour} = {h} THEN 1 ELSE 0 END)" for h in range(24))
    return (
        f"INSERT INTO emotion_rollups ({_ROLLUP_COLS}) SELECT user_id, emotion, {day}, "
        "COUNT(*), SUM(intensity), MAX(intensity), MIN(occurred_at), MAX(occurred_at), "
        f"{hours} FROM emotion_events WHERE {where} GROUP BY user_id, emotion, {day}"
    )


def _rebuild_triggers_sql(engine: str, where: str) -> str:
    month = "substr(occurred_at, 1, 7) || '-01'"
    if engine == "postgresql":
        month = "CAST(date_trunc('month', occurred_at AT TIME ZONE 'UTC') AS date)"
    return (
        "INSERT INTO emotion_trigger_rollups (user_id, emotion, trigger, month, n) "
        f"SELECT user_id, emotion, trigger, {month}, COUNT(*) FROM emotion_events "
        f"WHERE {where} AND trigger IS NOT NULL AND trigger <> '' "
        f"GROUP BY user_id, emotion, trigger, {month}"
    )


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _split(
    since: datetime | None, until: datetime | None, *, months: bool = False
) -> tuple[tuple[date | None, date | None] | None, list[tuple[datetime | None, datetime | None]]]:
    """[since, until) as whole UTC days (or months) [lo, hi) — None: unbounded; no whole
    period: None — and the partial ranges at the edges, to be read from the events."""

    def floor(at: datetime) -> date:  # the period holding `at`
        return at.date().replace(day=1) if months else at.date()

    lo = hi = None
    if since is not None:
        s = _utc(since)
        lo = floor(s)
        if _midnight(lo) != s:
            lo = _next_month(lo) if months else lo + timedelta(days=1)
    if until is not None:
        hi = floor(_utc(until))
    if lo is not None and hi is not None and lo >= hi:
        return None, [(since, until)]
    edges: list[tuple[datetime | None, datetime | None]] = []
    if since is not None and lo is not None and _midnight(lo) != _utc(since):
        edges.append((since, _midnight(lo)))
    if until is not None and hi is not None and _midnight(hi) != _utc(until):
        edges.append((_midnight(hi), until))
    return (lo, hi), edges


def _where_split(
    tx: Tx,
    params: dict[str, Any],
    owner: str,
    split: tuple[
        tuple[date | None, date | None] | None, list[tuple[datetime | None, datetime | None]]
    ],
    column: str,
) -> tuple[str, str]:
    """(WHERE of the rollup rows of the whole periods, WHERE of the events of the edges);
    '' when there are none."""
    periods, edges = split
    raw = ""
    if edges:
        ranges = []
        for a, b in edges:
            cond = []
            for value, op in ((a, ">="), (b, "<")):
                if value is not None:
                    name = f"p{len(params)}"
                    params[name] = tx.ts(value)
                    cond.append(f"occurred_at {op} :{name}")
            ranges.append("(" + " AND ".join(cond or ["1 = 1"]) + ")")
        raw = f"{owner} AND ({' OR '.join(ranges)})"
    rolled = ""
    if periods is not None:
        cond = ["user_id = :owner"]
        for period, cmp in ((periods[0], ">="), (periods[1], "<")):
            if period is not None:
                name = f"p{len(params)}"
                params[name] = period if tx.engine == "postgresql" else period.isoformat()
                cond.append(f"{column} {cmp} :{name}")
        rolled = " AND ".join(cond)
    return rolled, raw


def _assemble(
    owner: str,
    since: datetime | None,
    until: datetime | None,
    window: float,
    acc: dict[str, dict[str, Any]],
    triggers: Iterable[Row],
    legacy: dict[str, str] | None = None,
) -> EmotionalPatterns:
    tops: dict[str, list[TriggerCount]] = {}
    for r in triggers:
        tops.setdefault(r["emotion"], []).append(TriggerCount(r["trigger"], int(r["n"])))
    total = sum(a["n"] for a in acc.values())
    patterns = []
    for emotion, a in acc.items():
        delta = None
        trend = "stable"
        if a["en"] and a["ln"]:
            delta = a["ls"] / a["ln"] - a["es"] / a["en"]
            if delta > TREND_THRESHOLD:
                trend = "increasing"
            elif delta < -TREND_THRESHOLD:
                trend = "decreasing"
        elif legacy and emotion in legacy:  # no recent events: what the legacy system said
            trend = legacy[emotion]
        patterns.append(
            EmotionPattern(
                emotion=emotion,
                count=a["n"],
                frequency=a["n"] / total,
                avg_intensity=a["total"] / a["n"],
                max_intensity=a["peak"],
                first_at=a["first"],
                last_at=a["last"],
                top_triggers=tops.get(emotion, []),
                hours=a["hours"],
                trend=trend,
                trend_delta=delta,
            )
        )
    patterns.sort(key=lambda p: (-p.count, p.emotion))
    return EmotionalPatterns(
        user_id=owner,
        since=v.optional_when("since", since),
        until=v.optional_when("until", until),
        total=total,
        dominant=patterns[0].emotion if patterns else None,
        window_days=window,
        patterns=patterns,
    )


def _range(tx: Tx, params: dict[str, Any], since: datetime | None, until: datetime | None,
           column: str = "occurred_at") -> list[str]:  # fmt: skip
    where = []
    if since is not None:
        params["since"] = tx.ts(v.when("since", since))
        where.append(f"{column} >= :since")
    if until is not None:
        params["until"] = tx.ts(v.when("until", until))
        where.append(f"{column} < :until")
    return where


def _session_visible(tx: Tx, session_id: str, user_id: Owner) -> Row:
    params: dict[str, Any] = {"sid": session_id}
    where = owner_clause(user_id, params)
    row = tx.one(
        "SELECT id, user_id FROM sessions WHERE id = :sid" + (f" AND {where}" if where else ""),
        params,
    )
    if row is None:
        raise NotFound("session", session_id)
    return row


def _trajectory(tx: Tx, params: dict[str, Any], user_id: Owner) -> list[TrajectoryPoint]:
    _session_visible(tx, params["sid"], user_id)
    rows = tx.all(
        "SELECT emotion, intensity, occurred_at FROM emotion_events WHERE session_id = :sid "
        "ORDER BY occurred_at, id",
        params,
    )
    if rows:
        return [
            TrajectoryPoint(tx.ts_out(r["occurred_at"]), r["emotion"], float(r["intensity"]),  # type: ignore[arg-type]
                            "event")
            for r in rows
        ]  # fmt: skip
    rows = tx.all(
        "SELECT emotion, created_at FROM messages WHERE session_id = :sid "
        "AND emotion IS NOT NULL ORDER BY seq",
        params,
    )
    return [
        TrajectoryPoint(tx.ts_out(r["created_at"]), r["emotion"], None, "message")  # type: ignore[arg-type]
        for r in rows
    ]


def _agent(value: Any) -> str:
    return v.text("agent", value, max_len=200)


def _trait_scope(user_id: Owner, params: dict[str, Any]) -> str:
    if isinstance(user_id, _AnyOwner):
        raise InvalidInput("user_id", user_id, "traits are read per owner (a user id or None)")
    if user_id is not None:
        user_id = v.id_("user_id", user_id)
    return owner_clause(user_id, params)


class Traits(Domain):
    """`vault.traits`: an agent's personality per user (None: the agent's base defaults),
    each value 0–1; every change is kept in `trait_changes`."""

    def get(self, user_id: str | None, name: str, *, agent: str = "default") -> Trait:
        """One trait (NotFound when never set)."""
        params: dict[str, Any] = {"agent": _agent(agent), "name": v.text("name", name)}
        where = _trait_scope(user_id, params)
        with self._store.read() as tx:
            row = tx.one(
                f"SELECT * FROM traits WHERE {where} AND agent = :agent AND name = :name",
                params,
            )
            if row is None:
                raise NotFound("trait", f"{agent}/{name}")
            return trait_from_row(tx, row)

    def list(self, user_id: str | None, *, agent: str | None = None) -> list[Trait]:
        """Traits of an owner, by agent and name."""
        params: dict[str, Any] = {}
        where = [_trait_scope(user_id, params)]
        if agent is not None:
            params["agent"] = _agent(agent)
            where.append("agent = :agent")
        with self._store.read() as tx:
            rows = tx.all(
                f"SELECT * FROM traits WHERE {' AND '.join(where)} ORDER BY agent, name",
                params,
            )
            return [trait_from_row(tx, r) for r in rows]

    def set(
        self,
        user_id: str | None,
        name: str,
        value: float,
        *,
        agent: str = "default",
        reason: str | None = None,
    ) -> Trait:
        """Set a trait to `value` (0–1); the change (old, new, reason, time) is recorded in
        the same transaction. Setting the value it already has records nothing."""
        value = v.unit("value", value)
        return self._change(user_id, name, agent, reason, lambda old: value)

    def adjust(
        self,
        user_id: str | None,
        name: str,
        delta: float,
        *,
        agent: str = "default",
        reason: str | None = None,
        initial: float = 0.5,
    ) -> Trait:
        """Move a trait by `delta`, clamped to 0–1 (a trait never set starts at `initial`);
        read and write happen in one locked transaction, so concurrent adjustments add up."""
        delta = v.number_("delta", delta)
        initial = v.unit("initial", initial)
        return self._change(
            user_id,
            name,
            agent,
            reason,
            lambda old: round(min(1.0, max(0.0, (initial if old is None else old) + delta)), 12),
        )

    def _change(
        self,
        user_id: str | None,
        name: str,
        agent: str,
        reason: str | None,
        compute: Callable[[float | None], float],
    ) -> Trait:
        user_id = v.optional_id("user_id", user_id)
        name = v.text("name", name, max_len=200)
        agent = _agent(agent)
        reason = v.optional_text("reason", reason, allow_empty=True)
        params: dict[str, Any] = {"agent": agent, "name": name}
        where = owner_clause(user_id, params)
        now = self._now()
        with self._store.write() as tx:
            self._require_user(tx, user_id)
            params["now"] = tx.ts(now)
            row = tx.one(
                f"SELECT * FROM traits WHERE {where} AND agent = :agent AND name = :name"
                + for_update(tx),
                params,
            )
            if row is None:
                new = compute(None)
                row = tx.one(
                    insert_sql("traits", TRAIT_COLUMNS, "*", conflict=True),
                    {"id": new_id(), "user_id": user_id, "agent": agent, "name": name,
                     "value": new, "updated_at": params["now"]},
                )  # fmt: skip
                if row is None:  # created concurrently (PostgreSQL): lock and go on
                    row = tx.one(
                        f"SELECT * FROM traits WHERE {where} AND agent = :agent "
                        "AND name = :name" + for_update(tx),
                        params,
                    )
                    assert row is not None
                else:
                    trait = trait_from_row(tx, row)
                    self._record(tx, trait, None, reason)
                    return trait
            old = float(row["value"])
            new = compute(old)
            if new == old:
                return trait_from_row(tx, row)
            row = tx.one(
                "UPDATE traits SET value = :value, updated_at = :now WHERE id = :id RETURNING *",
                {"value": new, "now": params["now"], "id": row["id"]},
            )
            trait = trait_from_row(tx, row)
            self._record(tx, trait, old, reason)
            return trait

    def _record(self, tx: Tx, trait: Trait, old: float | None, reason: str | None) -> None:
        tx.execute(
            insert_sql("trait_changes", CHANGE_COLUMNS),
            {
                "id": new_id(),
                "trait_id": trait.id,
                "user_id": trait.user_id,
                "old_value": old,
                "new_value": trait.value,
                "reason": reason,
                "changed_at": tx.ts(trait.updated_at),
            },
        )
        self._emit(
            tx,
            "trait.changed",
            trait.user_id,
            {"trait_id": trait.id},
            {"agent": trait.agent, "name": trait.name, "old": old, "new": trait.value},
        )

    def history(
        self,
        user_id: str | None,
        name: str | None = None,
        *,
        agent: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[TraitChange]:
        """Changes of the owner's traits (one trait when `name` is given), oldest first."""
        params: dict[str, Any] = {
            "limit": v.integer("limit", limit, minimum=1),
            "offset": v.integer("offset", offset, minimum=0),
        }
        where = [_trait_scope(user_id, params).replace("user_id", "t.user_id")]
        if name is not None:
            params["name"] = v.text("name", name)
            where.append("t.name = :name")
        if agent is not None:
            params["agent"] = _agent(agent)
            where.append("t.agent = :agent")
        with self._store.read() as tx:
            rows = tx.all(
                "SELECT c.*, t.agent, t.name FROM trait_changes c "
                "JOIN traits t ON t.id = c.trait_id "
                f"WHERE {' AND '.join(where)} ORDER BY c.changed_at, c.id "
                "LIMIT :limit OFFSET :offset",
                params,
            )
            return [
                TraitChange(
                    id=str(r["id"]),
                    trait_id=str(r["trait_id"]),
                    user_id=tx.id_out(r["user_id"]),
                    agent=r["agent"],
                    name=r["name"],
                    old_value=None if r["old_value"] is None else float(r["old_value"]),
                    new_value=float(r["new_value"]),
                    reason=r["reason"],
                    changed_at=tx.ts_out(r["changed_at"]),
                )
                for r in rows
            ]

    def personality(
        self, user_id: str | None, *, agent: str = "default", layered: bool = True
    ) -> Personality:
        """The agent's current personality for the user as one object: with `layered`, the
        base defaults (user None) overridden by the user's own values."""
        agent = _agent(agent)
        traits: dict[str, float] = {}
        updated: datetime | None = None
        owners: list[str | None] = [user_id]
        if user_id is not None and layered:
            owners = [None, user_id]
        for owner in owners:
            for trait in self.list(owner, agent=agent):
                traits[trait.name] = trait.value
                updated = trait.updated_at if updated is None else max(updated, trait.updated_at)
        return Personality(user_id, agent, dict(sorted(traits.items())), updated)


VOICE_FIELDS: dict[str, Callable[[str, Any], Any]] = {
    "speed": lambda f, x: _positive(f, x),
    "pitch": lambda f, x: v.number_(f, x),
    "volume": lambda f, x: v.unit(f, x),
    "auto_speak": lambda f, x: _boolean(f, x),
    "voice": lambda f, x: v.text(f, x, max_len=200),
    "language": lambda f, x: v.text(f, x, max_len=50),
}


def _positive(field: str, value: Any) -> float:
    number = v.number_(field, value)
    if number <= 0:
        raise InvalidInput(field, value, "must be positive")
    return number


def _boolean(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(field, value, "expected true or false")
    return value


class Profiles(Domain):
    """`vault.profiles`: EdgeSoul's user profile helpers over `users.profile` (personality
    levels, voice preferences, interests, dislikes) and exact usage statistics computed from
    the sessions table (whose message counts `messages.append/delete` keep exact)."""

    def get(self, user_id: str) -> Profile:
        """The user's profile, with usage statistics computed now."""
        user_id = v.id_("user_id", user_id)
        with self._store.read() as tx:
            row = tx.one("SELECT profile FROM users WHERE id = :id", {"id": user_id})
            if row is None:
                raise NotFound("user", user_id)
            profile = tx.json_out(row["profile"]) or {}
            usage = self._usage(tx, user_id)
        return Profile(
            user_id=user_id,
            personality=dict(profile.get("personality") or {}),
            voice=dict(profile.get("voice") or {}),
            interests=list(profile.get("interests") or []),
            dislikes=list(profile.get("dislikes") or []),
            usage=usage,
        )

    def usage(self, user_id: str) -> UsageStats:
        """Conversations, messages and average session length (messages and seconds)."""
        user_id = v.id_("user_id", user_id)
        with self._store.read() as tx:
            if tx.one("SELECT 1 FROM users WHERE id = :id", {"id": user_id}) is None:
                raise NotFound("user", user_id)
            return self._usage(tx, user_id)

    def _usage(self, tx: Tx, user_id: str) -> UsageStats:
        seconds = _seconds_sql(tx, "COALESCE(ended_at, updated_at)", "started_at")
        row = tx.one(
            "SELECT COUNT(*) AS n, COALESCE(SUM(message_count), 0) AS msgs, "
            f"AVG({seconds}) AS secs, MIN(started_at) AS first_at, "
            "MAX(updated_at) AS last_at FROM sessions WHERE user_id = :u",
            {"u": user_id},
        )
        assert row is not None
        n = int(row["n"])
        msgs = int(row["msgs"])
        return UsageStats(
            conversations=n,
            messages=msgs,
            avg_messages_per_session=msgs / n if n else 0.0,
            avg_session_seconds=float(row["secs"] or 0.0),
            first_session_at=tx.ts_out(row["first_at"]),
            last_activity_at=tx.ts_out(row["last_at"]),
        )

    def _patch(self, user_id: str, change: Callable[[dict[str, Any]], None]) -> Profile:
        user_id = v.id_("user_id", user_id)
        with self._store.write() as tx:
            row = tx.one(
                "SELECT profile FROM users WHERE id = :id" + for_update(tx),
                {"id": user_id},
            )
            if row is None:
                raise NotFound("user", user_id)
            profile = tx.json_out(row["profile"]) or {}
            change(profile)
            tx.execute(
                "UPDATE users SET profile = :p, updated_at = :now WHERE id = :id",
                {"p": tx.json(profile), "now": tx.ts(self._now()), "id": user_id},
            )
            self._emit(tx, "user.updated", user_id, {"user_id": user_id}, {"profile": True})
        return self.get(user_id)

    def set_personality(
        self, user_id: str, levels: Mapping[str, float], *, scale: float = 1.0
    ) -> Profile:
        """Merge personality levels (0–1, or 0–`scale`, e.g. scale=10 for 0–10 sliders)."""
        if not isinstance(levels, Mapping):
            raise InvalidInput("levels", levels, "expected a mapping of name to level")
        clean = {
            v.text("levels", k, max_len=200): normalise_intensity(x, scale, f"levels[{k!r}]")
            for k, x in levels.items()
        }
        return self._patch(user_id, lambda p: p.setdefault("personality", {}).update(clean))

    def set_voice(self, user_id: str, **prefs: Any) -> Profile:
        """Merge voice preferences: speed (>0), pitch, volume (0–1), auto_speak (bool), voice,
        language; other names are refused."""
        clean = {}
        for key, value in prefs.items():
            if key not in VOICE_FIELDS:
                raise InvalidInput("voice", key, f"expected one of {', '.join(VOICE_FIELDS)}")
            clean[key] = VOICE_FIELDS[key](f"voice.{key}", value)
        return self._patch(user_id, lambda p: p.setdefault("voice", {}).update(clean))

    def add_interests(self, user_id: str, *items: str) -> Profile:
        """Add interests (kept unique, in order); an interest stops being a dislike."""
        return self._edit_lists(user_id, "interests", "dislikes", items)

    def add_dislikes(self, user_id: str, *items: str) -> Profile:
        """Add dislikes (kept unique, in order); a dislike stops being an interest."""
        return self._edit_lists(user_id, "dislikes", "interests", items)

    def remove_interests(self, user_id: str, *items: str) -> Profile:
        return self._edit_lists(user_id, None, "interests", items)

    def remove_dislikes(self, user_id: str, *items: str) -> Profile:
        return self._edit_lists(user_id, None, "dislikes", items)

    def _edit_lists(
        self, user_id: str, add_to: str | None, remove_from: str, items: Iterable[str]
    ) -> Profile:
        clean = [v.text(add_to or remove_from, i, max_len=500).strip() for i in items]
        folded = {c.casefold() for c in clean}

        def change(profile: dict[str, Any]) -> None:
            profile[remove_from] = [
                x for x in profile.get(remove_from) or [] if str(x).casefold() not in folded
            ]
            if add_to is not None:
                current = list(profile.get(add_to) or [])
                known = {str(x).casefold() for x in current}
                for item in clean:
                    if item.casefold() not in known:
                        current.append(item)
                        known.add(item.casefold())
                profile[add_to] = current

        return self._patch(user_id, change)


class Contexts(Domain):
    """`vault.contexts`: EdgeSoul's conversation context, derived from what is stored."""

    def get(
        self, session_id: str, *, user_id: Owner = ANY, last: int = 10, topics: int = 5
    ) -> ConversationContext:
        """The last `last` messages (oldest first), the session's `topics` most frequent
        keywords in user messages among them, the current emotion (latest event, else latest
        labelled message) and the emotion trajectory."""
        from memvault.conversations import message_from_row

        session_id = v.id_("session_id", session_id)
        last = v.integer("last", last, minimum=1)
        topics = v.integer("topics", topics, minimum=0)
        params: dict[str, Any] = {"sid": session_id, "n": last}
        with self._store.read() as tx:
            session = _session_visible(tx, session_id, user_id)
            rows = tx.all(
                "SELECT * FROM messages WHERE session_id = :sid ORDER BY seq DESC LIMIT :n",
                params,
            )
            messages = [message_from_row(tx, r) for r in reversed(rows)]
            trajectory = _trajectory(tx, params, user_id)
        counts: Counter[str] = Counter()
        for message in messages:
            if message.role == "user":
                counts.update(keywords(message.content))
        return ConversationContext(
            session_id=session_id,
            user_id=tx.id_out(session["user_id"]),
            messages=messages,
            topics=[word for word, _ in counts.most_common(topics)],
            current_emotion=trajectory[-1].emotion if trajectory else None,
            trajectory=trajectory,
        )
