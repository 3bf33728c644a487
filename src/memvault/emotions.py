"""Emotions: emotion events and the patterns computed from them (rollups, trends, triggers)
and a session's emotion trajectory.

Emotional patterns are computed on demand: `Emotions.patterns` sums the daily rollups that
triggers keep beside `emotion_events` (revision 0005) for whole UTC days, and aggregates the
events themselves for partial days and the trend window. Intensities are stored on a 0–1
scale; legacy 0–100 values are converted on the way in when the caller says so (`scale=100`).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from memvault import scope
from memvault import validate as v
from memvault.domain import Domain, insert_sql
from memvault.errors import InvalidInput, NotFound
from memvault.ids import new_id
from memvault.records import (
    EmotionalPatterns,
    EmotionEvent,
    EmotionPattern,
    TrajectoryPoint,
    TriggerCount,
)
from memvault.scope import ANY, Owner
from memvault.store.base import Row, Tx
from memvault.store.rows import columns, row_decoder

EVENT_COLUMNS = columns(EmotionEvent)
TREND_THRESHOLD = 0.05  # |recent − earlier| average intensity below this is "stable"


event_from_row = row_decoder(EmotionEvent)
point_from_row = row_decoder(TrajectoryPoint)


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


def _user_scope(user_id: Any, params: dict[str, Any]) -> str:
    """The owner rule of lists and patterns: emotion events always have an owner, so these
    need a user id (bound as `:owner`)."""
    return scope.clause(scope.user(user_id, "emotion events"), params)


LEGACY_TRENDS = frozenset({"increasing", "decreasing", "stable"})
LEGACY_TREND_INDEX = "ix_emotion_events_legacy_trend"  # revision 0010


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

    def get(self, event_id: str, *, user_id: Owner = ANY) -> EmotionEvent:
        """One event of `user_id` (another user's id: NotFound)."""
        event_id = v.id_("event_id", event_id)
        with self._store.read() as tx:
            row = scope.row(tx, "emotion_events", "emotion event", event_id, user_id)
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

    def delete(self, event_id: str, *, user_id: Owner = ANY) -> None:
        """Delete one event of `user_id`."""
        params: dict[str, Any] = {"id": v.id_("event_id", event_id)}
        sql = scope.where("DELETE FROM emotion_events WHERE id = :id", user_id, params)
        with self._store.write() as tx:
            row = tx.one(sql + " RETURNING user_id", params)
            if row is None:
                raise NotFound("emotion event", event_id)
            self._emit(tx, "emotion.deleted", tx.id_out(row["user_id"]), {"event_id": event_id})

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
            hour = tx.utc_hour("occurred_at")
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
            legacy = _legacy_trends(tx, params["owner"], acc)
        return _assemble(params["owner"], since, until, window, acc, triggers, legacy)

    def rebuild_rollups(self, user_id: Owner = ANY) -> int:
        """Recompute the daily emotion rollups (all users: ANY, or one) from the events;
        returns the number of (user, emotion, day) rows. `memvault reindex` runs it."""
        params: dict[str, Any] = {}
        where = "1 = 1"
        if not scope.is_any(user_id) and user_id is not None:  # None: all, as it used to be
            where = _user_scope(user_id, params)
        with self._store.write() as tx:
            tx.execute(f"DELETE FROM emotion_rollups WHERE {where}", params)
            tx.execute(f"DELETE FROM emotion_trigger_rollups WHERE {where}", params)
            tx.execute(_rebuild_rollups_sql(tx, where), params)
            tx.execute(_rebuild_triggers_sql(tx, where), params)
            return int(tx.scalar(f"SELECT COUNT(*) FROM emotion_rollups WHERE {where}", params))

    def trajectory(
        self, session_id: str, *, user_id: Owner = ANY
    ) -> builtins.list[TrajectoryPoint]:
        """A session's emotions in time order: its emotion events, or, when it has none, the
        emotion labels of its messages (intensity None)."""
        params: dict[str, Any] = {"sid": v.id_("session_id", session_id)}
        with self._store.read() as tx:
            return session_trajectory(tx, params, user_id)


def _legacy_trends(tx: Tx, owner: str, acc: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The trend a legacy system had recorded for an emotion (an imported EdgeSoul pattern
    keeps it on its first baseline event, metadata.legacy_pattern.trend), for the emotions
    whose trend window has too few events to compute one; the latest such event wins."""
    emotions = sorted(e for e, a in acc.items() if not (a["en"] and a["ln"]))
    if not emotions:
        return {}
    params: dict[str, Any] = {"owner": owner}
    rows = tx.all(legacy_trend_sql(tx, emotions, params), params)
    # Few rows (one per imported pattern): put in time order here, not by the planner.
    rows.sort(key=lambda r: tx.ts_out(r["occurred_at"]) or datetime.min.replace(tzinfo=UTC))
    return {r["emotion"]: r["trend"] for r in rows if r["trend"] in LEGACY_TRENDS}


def legacy_trend_sql(tx: Tx, emotions: Sequence[str], params: dict[str, Any]) -> str:
    """The look-up of `_legacy_trends` (binds :owner's `emotions` into `params`). It reads the
    partial index of revision 0010, which holds only the events carrying a legacy trend: the
    predicate is the index's own (SQLite uses a partial index only for the same term), and
    SQLite is told the index so that a change to either fails loudly instead of scanning
    every event of the emotions (tests/test_emotion_legacy_trends.py checks both plans)."""
    listed = tx.expand("e", emotions, params)
    if tx.engine == "postgresql":
        trend, source = "metadata->'legacy_pattern'->>'trend'", "emotion_events"
    else:
        trend = "json_extract(metadata, '$.legacy_pattern.trend')"
        source = f"emotion_events INDEXED BY {LEGACY_TREND_INDEX}"
    return (
        f"SELECT emotion, occurred_at, {trend} AS trend FROM {source} "
        f"WHERE user_id = :owner AND emotion IN ({listed}) AND ({trend}) IS NOT NULL"
    )


HOURS = tuple(f"h{h:02d}" for h in range(24))
_ROLLUP_COLS = "user_id, emotion, day, n, total, peak, first_at, last_at, " + ", ".join(HOURS)


def _rebuild_rollups_sql(tx: Tx, where: str) -> str:
    day = tx.utc_day("occurred_at")
    hour = tx.utc_hour("occurred_at")
    hours = ", ".join(f"SUM(CASE WHEN {hour} = {h} THEN 1 ELSE 0 END)" for h in range(24))
    return (
        f"INSERT INTO emotion_rollups ({_ROLLUP_COLS}) SELECT user_id, emotion, {day}, "
        "COUNT(*), SUM(intensity), MAX(intensity), MIN(occurred_at), MAX(occurred_at), "
        f"{hours} FROM emotion_events WHERE {where} GROUP BY user_id, emotion, {day}"
    )


def _rebuild_triggers_sql(tx: Tx, where: str) -> str:
    month = tx.utc_month("occurred_at")
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
        cond = [scope.clause(params["owner"], params)]
        for period, cmp in ((periods[0], ">="), (periods[1], "<")):
            if period is not None:
                name = f"p{len(params)}"
                params[name] = tx.day_value(period)
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


def session_trajectory(tx: Tx, params: dict[str, Any], user_id: Owner) -> list[TrajectoryPoint]:
    """The emotions of session `params["sid"]` (NotFound unless `user_id` may see it): its
    emotion events, else its messages' emotion labels."""
    scope.row(tx, "sessions", "session", params["sid"], user_id, columns="id")
    rows = tx.all(
        "SELECT occurred_at AS at, emotion, intensity, 'event' AS source FROM emotion_events "
        "WHERE session_id = :sid ORDER BY occurred_at, id",
        params,
    )
    if not rows:
        rows = tx.all(
            "SELECT created_at AS at, emotion, NULL AS intensity, 'message' AS source "
            "FROM messages WHERE session_id = :sid AND emotion IS NOT NULL ORDER BY seq",
            params,
        )
    return [point_from_row(tx, r) for r in rows]
