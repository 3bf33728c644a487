"""The test oracle for `Emotions.patterns`: the same answer computed from the events alone
(the implementation before the daily rollups of revision 0005), so the rollup-based one can be
checked against it. Its SQL is written here on purpose, independent of the package's; only the
final assembly into an `EmotionalPatterns` is shared."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import memvault
from memvault import validate as v
from memvault.emotions import _assemble
from memvault.records import EmotionalPatterns


def patterns_reference(
    vault: memvault.Vault,
    user_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    window_days: float = 7.0,
    top_triggers: int = 3,
) -> EmotionalPatterns:
    """`vault.emotions.patterns(user_id, ...)` computed by scanning `emotion_events`."""
    window = v.number_("window_days", window_days)
    assert window > 0
    k = v.integer("top_triggers", top_triggers, minimum=0)
    params: dict[str, Any] = {"k": k, "owner": v.id_("user_id", user_id)}
    end = v.optional_when("until", until) or vault.emotions._now()
    w_start = end - timedelta(days=window)
    w_mid = w_start + timedelta(days=window / 2)
    with vault.store.read() as tx:
        conds = ["user_id = :owner"]
        if since is not None:
            params["since"] = tx.ts(v.when("since", since))
            conds.append("occurred_at >= :since")
        if until is not None:
            params["until"] = tx.ts(v.when("until", until))
            conds.append("occurred_at < :until")
        where = " AND ".join(conds)
        params.update(w_start=tx.ts(w_start), w_mid=tx.ts(w_mid), w_end=tx.ts(end))
        hour = tx.utc_hour("occurred_at")
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
    return _assemble(params["owner"], since, until, window, acc, triggers)
