"""Tools and routing (DCM): the action log with per-tool statistics, and routing scores
(keyword × tool weights learned from outcomes) with a suggestion query.

Routing updates are single `INSERT … ON CONFLICT … DO UPDATE SET weight = weight + :delta`
statements, atomic on both engines: concurrent learners in several processes lose no
increment. User rows and base rows (user_id NULL, "global" scores) have separate unique
indexes, so each kind of row names its own conflict target.
"""

from __future__ import annotations

import builtins
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from memvault import scope
from memvault import validate as v
from memvault.domain import Domain, insert_sql
from memvault.errors import InvalidInput, NotFound
from memvault.ids import new_id
from memvault.records import Action, RoutingScore
from memvault.scope import ANY, Owner
from memvault.store.base import Tx
from memvault.store.rows import columns, row_decoder
from memvault.store.vocab import TOOL_TYPES

if TYPE_CHECKING:  # built on first use (memvault.deferred): a hook's tool call needs neither
    from memvault.records import Suggestion, ToolStats

ACTION_COLUMNS = columns(Action)

STOPWORDS = frozenset(
    [
        # English
        "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are",
        "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but",
        "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for",
        "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself",
        "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself",
        "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on",
        "once", "only", "or", "other", "our", "ours", "out", "over", "own", "same", "she", "should",
        "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "then", "there",
        "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very",
        "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why",
        "will", "with", "would", "you", "your", "yours", "please", "can't", "don't", "i'm", "it's",
        "let's",
        # French
        "au", "aux", "avec", "ce", "ces", "cet", "cette", "dans", "de", "des", "du", "elle",
        "elles", "en", "et", "eux", "il", "ils", "je", "la", "le", "les", "leur", "leurs", "lui",
        "ma", "mais", "me", "même", "mes", "moi", "mon", "ne", "nos", "notre", "nous", "on", "ou",
        "où", "par", "pas", "pour", "qu", "que", "qui", "sa", "se", "ses", "son", "sur", "ta", "te",
        "tes", "toi", "ton", "tu", "un", "une", "vos", "votre", "vous", "c", "d", "j", "l", "m",
        "n", "s", "t", "y", "été", "être", "avoir", "fait", "faire", "est", "sont", "suis", "es",
        "était", "ai", "as", "avons", "avez", "ont", "plus", "moins", "très", "comme", "si", "bien",
        "aussi", "alors", "donc", "car", "ni", "or", "quoi", "quel", "quelle", "quels", "quelles",
        "cela", "ça", "ceci", "merci", "stp", "svp", "peux", "peut", "veux", "voudrais", "plaît",
        "plait",
    ]
)  # fmt: skip
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)


def keywords(text: str, *, limit: int = 32) -> list[str]:
    """The keywords of `text`: lower-cased words (accents kept, NFC), punctuation stripped,
    English and French stop words and numbers dropped, each once, in order of appearance."""
    if not isinstance(text, str):
        raise InvalidInput("query", text, "expected a string")
    text = unicodedata.normalize("NFC", text).casefold()
    out: list[str] = []
    seen: set[str] = set()
    for match in _WORD.finditer(text):
        word = match.group().replace("’", "'")
        if "'" in word:  # l'application → application, don't → don't (a stop word)
            head, tail = word.split("'", 1)
            if word not in STOPWORDS and len(head) <= 2:
                word = tail
        if len(word) < 2 or word.isdigit() or word in STOPWORDS or word in seen:
            continue
        seen.add(word)
        out.append(word)
        if len(out) >= limit:
            break
    return out


def for_update(tx: Tx) -> str:
    """Row lock suffix for a SELECT that precedes an UPDATE: `FOR UPDATE` on PostgreSQL;
    nothing on SQLite, where `BEGIN IMMEDIATE` already holds the database's write lock."""
    return tx.for_update


action_from_row = row_decoder(Action)
score_from_row = row_decoder(RoutingScore)


def check_link(tx: Tx, table: str, field: str, value: str | None, user_id: str | None) -> None:
    """Refuse a link to a row that does not exist or belongs to another user, with the same
    NotFound for both: a different answer would confirm that another user's id exists."""
    if value is None:
        return
    row = tx.one(f"SELECT user_id FROM {table} WHERE id = :id", {"id": value})
    owner = None if row is None else tx.id_out(row["user_id"])
    if row is None or (owner is not None and owner != user_id):
        raise NotFound(table.rstrip("s"), value)


class Actions(Domain):
    """`vault.actions`: every tool call an agent made, and statistics per tool."""

    def record(
        self,
        tool_name: str,
        *,
        tool_type: str = "builtin",
        user_id: str | None = None,
        input: str | None = None,
        file_paths: Sequence[str] = (),
        exit_code: int | None = None,
        duration_ms: float | None = None,
        project_id: str | None = None,
        session_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        created_at: datetime | None = None,
    ) -> Action:
        """Log one tool call (tool_type: builtin, mcp, command, agent or skill)."""
        tool_name = v.text("tool_name", tool_name, max_len=500)
        tool_type = v.choice("tool_type", tool_type, TOOL_TYPES)
        user_id = v.optional_id("user_id", user_id)
        input = v.optional_text("input", input, allow_empty=True)
        if isinstance(file_paths, str) or not isinstance(file_paths, Sequence):
            raise InvalidInput("file_paths", file_paths, "expected a list of paths")
        paths = [v.text("file_paths", p, max_len=4096) for p in file_paths]
        if exit_code is not None:
            exit_code = v.integer("exit_code", exit_code, bits=32)
        duration = None if duration_ms is None else v.number_("duration_ms", duration_ms)
        if duration is not None and duration < 0:
            raise InvalidInput("duration_ms", duration_ms, "must not be negative")
        project_id = v.optional_id("project_id", project_id)
        session_id = v.optional_id("session_id", session_id)
        meta = v.json_object("metadata", metadata)
        created = v.optional_when("created_at", created_at) or self._now()
        action = Action(new_id(), user_id, project_id, session_id, tool_name, tool_type, input,
                        paths, exit_code, duration, meta, created)  # fmt: skip
        with self._store.write() as tx:
            self._require_user(tx, user_id)
            check_link(tx, "projects", "project_id", project_id, user_id)
            check_link(tx, "sessions", "session_id", session_id, user_id)
            tx.execute(
                insert_sql("actions", ACTION_COLUMNS),
                {
                    **{c: getattr(action, c) for c in ACTION_COLUMNS},
                    "file_paths": tx.json(paths),
                    "metadata": tx.json(meta),
                    "created_at": tx.ts(created),
                },
            )
            self._emit(
                tx,
                "action.recorded",
                user_id,
                {"action_id": action.id},
                {"tool_name": tool_name, "exit_code": exit_code},
            )
        return action

    def get(self, action_id: str, *, user_id: Owner = ANY) -> Action:
        """One action visible to `user_id` (None: unowned actions; ANY: trusted caller)."""
        action_id = v.id_("action_id", action_id)
        with self._store.read() as tx:
            return action_from_row(tx, scope.row(tx, "actions", "action", action_id, user_id))

    def _where(
        self,
        tx: Tx,
        params: dict[str, Any],
        user_id: Owner,
        project_id: str | None,
        tool_name: str | None,
        since: datetime | None,
        until: datetime | None,
    ) -> str:
        where = [scope.clause(user_id, params)]
        if project_id is not None:
            params["project_id"] = v.id_("project_id", project_id)
            where.append("project_id = :project_id")
        if tool_name is not None:
            params["tool_name"] = v.text("tool_name", tool_name)
            where.append("tool_name = :tool_name")
        if since is not None:
            params["since"] = tx.ts(v.when("since", since))
            where.append("created_at >= :since")
        if until is not None:
            params["until"] = tx.ts(v.when("until", until))
            where.append("created_at < :until")
        return " AND ".join(w for w in where if w) or "1 = 1"

    def list(
        self,
        user_id: Owner,
        *,
        project_id: str | None = None,
        tool_name: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Action]:
        """Actions of an owner (None: unowned; ANY: all), newest first, filtered by project,
        tool and time range [since, until)."""
        params: dict[str, Any] = {
            "limit": v.integer("limit", limit, minimum=1),
            "offset": v.integer("offset", offset, minimum=0),
        }
        with self._store.read() as tx:
            where = self._where(tx, params, user_id, project_id, tool_name, since, until)
            rows = tx.all(
                f"SELECT * FROM actions WHERE {where} "
                "ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset",
                params,
            )
            return [action_from_row(tx, r) for r in rows]

    def stats(
        self,
        user_id: Owner,
        *,
        project_id: str | None = None,
        tool_name: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> builtins.list[ToolStats]:
        """Per-tool statistics, most used first: count; successes (exit code 0), failures
        (any other code) and unknown (no exit code); success rate = successes / (successes +
        failures); average, median and p95 duration. Percentiles are nearest-rank (the value
        at rank ⌈p·n⌉ of the n sorted durations), computed with window functions in SQL."""
        from memvault.records import ToolStats

        params: dict[str, Any] = {}
        with self._store.read() as tx:
            where = self._where(tx, params, user_id, project_id, tool_name, since, until)
            rows = tx.all(
                "SELECT tool_name, MIN(tool_type) AS tool_type, COUNT(*) AS n, "
                "SUM(CASE WHEN exit_code = 0 THEN 1 ELSE 0 END) AS ok, "
                "SUM(CASE WHEN exit_code <> 0 THEN 1 ELSE 0 END) AS bad, "
                "AVG(duration_ms) AS avg_ms, MAX(created_at) AS last_at "
                f"FROM actions WHERE {where} GROUP BY tool_name",
                params,
            )
            pct = tx.all(
                "SELECT tool_name, "
                "MAX(CASE WHEN rn = (n + 1) / 2 THEN duration_ms END) AS p50, "
                "MAX(CASE WHEN rn = (95 * n + 99) / 100 THEN duration_ms END) AS p95 "
                "FROM (SELECT tool_name, duration_ms, ROW_NUMBER() OVER ("
                "PARTITION BY tool_name ORDER BY duration_ms) AS rn, "
                "COUNT(*) OVER (PARTITION BY tool_name) AS n FROM actions "
                f"WHERE {where} AND duration_ms IS NOT NULL) AS d GROUP BY tool_name",
                params,
            )
            percentiles = {r["tool_name"]: (r["p50"], r["p95"]) for r in pct}
            out = []
            for r in rows:
                n, ok, bad = int(r["n"]), int(r["ok"] or 0), int(r["bad"] or 0)
                p50, p95 = percentiles.get(r["tool_name"], (None, None))
                out.append(
                    ToolStats(
                        tool_name=r["tool_name"],
                        tool_type=r["tool_type"],
                        count=n,
                        successes=ok,
                        failures=bad,
                        unknown=n - ok - bad,
                        success_rate=ok / (ok + bad) if ok + bad else None,
                        avg_ms=None if r["avg_ms"] is None else float(r["avg_ms"]),
                        median_ms=None if p50 is None else float(p50),
                        p95_ms=None if p95 is None else float(p95),
                        last_at=tx.ts_out(r["last_at"]),
                    )
                )
        out.sort(key=lambda s: (-s.count, s.tool_name))
        return out


_UPSERT_TAIL = (
    " DO UPDATE SET weight = routing_scores.weight + excluded.weight, "
    "usage_count = routing_scores.usage_count + 1, "
    "success_count = routing_scores.success_count + excluded.success_count, "
    "last_used_at = excluded.last_used_at RETURNING *"
)
_UPSERT_HEAD = (
    "INSERT INTO routing_scores (id, user_id, keyword, tool_name, tool_type, weight, "
    "usage_count, success_count, last_used_at) VALUES (:id, :user_id, :keyword, :tool_name, "
    ":tool_type, :delta, 1, :success, :now) ON CONFLICT "
)
UPSERT_USER = _UPSERT_HEAD + "(user_id, keyword, tool_name)" + _UPSERT_TAIL
UPSERT_BASE = _UPSERT_HEAD + "(keyword, tool_name) WHERE user_id IS NULL" + _UPSERT_TAIL


class Routing(Domain):
    """`vault.routing`: which tool to use for a request, learned from outcomes.

    A success adds `reward` (default 1.0) to the weight of each (keyword, tool) pair of the
    request, a failure subtracts `penalty` (default 0.5); usage and success counts follow.
    Rows with user_id None are the shared global scores; a user's rows are their own.
    """

    def update(
        self,
        query_or_keywords: str | Sequence[str],
        tool_name: str,
        success: bool,
        *,
        user_id: str | None = None,
        tool_type: str = "builtin",
        reward: float = 1.0,
        penalty: float = 0.5,
    ) -> list[RoutingScore]:
        """Learn from one outcome; returns the updated scores (one per keyword)."""
        if isinstance(query_or_keywords, str):
            words = keywords(query_or_keywords)
        else:
            words = sorted({w for k in query_or_keywords for w in keywords(k)})
        tool_name = v.text("tool_name", tool_name, max_len=500)
        tool_type = v.choice("tool_type", tool_type, TOOL_TYPES)
        if not isinstance(success, bool):
            raise InvalidInput("success", success, "expected true or false")
        user_id = v.optional_id("user_id", user_id)
        delta = v.number_("reward", reward) if success else -v.number_("penalty", penalty)
        if not words:
            raise InvalidInput("query_or_keywords", query_or_keywords, "no keyword in it")
        # A fixed lock order (sorted keywords) keeps concurrent PostgreSQL writers deadlock-free.
        words = sorted(words)
        with self._store.write() as tx:
            self._require_user(tx, user_id)
            now = tx.ts(self._now())
            sql = UPSERT_BASE if user_id is None else UPSERT_USER
            out = []
            for word in words:
                row = tx.returning(
                    sql,
                    {
                        "id": new_id(),
                        "user_id": user_id,
                        "keyword": word,
                        "tool_name": tool_name,
                        "tool_type": tool_type,
                        "delta": delta,
                        "success": 1 if success else 0,
                        "now": now,
                    },
                )
                out.append(score_from_row(tx, row))
            self._emit(
                tx,
                "routing.updated",
                user_id,
                {},
                {"tool_name": tool_name, "keywords": words, "success": success},
            )
            return out

    def scores(
        self,
        user_id: Owner,
        *,
        keyword: str | None = None,
        tool_name: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[RoutingScore]:
        """Stored scores of an owner (None: global), heaviest first."""
        params: dict[str, Any] = {
            "limit": v.integer("limit", limit, minimum=1),
            "offset": v.integer("offset", offset, minimum=0),
        }
        where = [scope.clause(user_id, params)]
        if keyword is not None:
            params["keyword"] = v.text("keyword", keyword).casefold()
            where.append("keyword = :keyword")
        if tool_name is not None:
            params["tool_name"] = v.text("tool_name", tool_name)
            where.append("tool_name = :tool_name")
        clause = " AND ".join(w for w in where if w) or "1 = 1"
        with self._store.read() as tx:
            rows = tx.all(
                f"SELECT * FROM routing_scores WHERE {clause} "
                "ORDER BY weight DESC, keyword, tool_name, id LIMIT :limit OFFSET :offset",
                params,
            )
            return [score_from_row(tx, r) for r in rows]

    def suggest(
        self,
        query: str,
        *,
        user_id: str | None = None,
        limit: int = 5,
        layered: bool = True,
    ) -> list[Suggestion]:
        """Tools ranked for `query`: each tool's score is the sum of the weights of its
        (keyword, tool) rows over the query's keywords — the user's rows and (with `layered`)
        the global ones. Only tools with a positive score are suggested; `matched` lists the
        keywords that voted for the tool, strongest first; `usage_count`/`success_count` count
        the outcomes learned (`update` calls; the hook makes one per prompt, tool and outcome,
        not one per tool call), the most of any matched keyword: an outcome counts once."""
        from memvault.records import Suggestion

        limit = v.integer("limit", limit, minimum=1)
        user_id = v.optional_id("user_id", user_id)
        words = keywords(query)
        if not words:
            return []
        params: dict[str, Any] = {}
        owner = scope.clause(user_id, params, layered=layered)
        with self._store.read() as tx:
            rows = tx.all(
                "SELECT tool_name, keyword, MIN(tool_type) AS tool_type, SUM(weight) AS w, "
                "SUM(usage_count) AS u, SUM(success_count) AS s FROM routing_scores "
                f"WHERE keyword IN ({tx.expand('kw', words, params)}) AND {owner} "
                "GROUP BY tool_name, keyword",
                params,
            )
        tools: dict[str, dict[str, Any]] = {}
        for r in rows:
            t = tools.setdefault(
                r["tool_name"], {"type": r["tool_type"], "score": 0.0, "kw": [], "u": 0, "s": 0}
            )
            weight = float(r["w"])
            t["score"] += weight
            # One call bumps every keyword of its request: the calls seen are the most any
            # one matched keyword counted, not the sum over keywords.
            t["u"] = max(t["u"], int(r["u"]))
            t["s"] = max(t["s"], int(r["s"]))
            if weight > 0:
                t["kw"].append((weight, r["keyword"]))
        ranked = sorted(
            (
                Suggestion(
                    tool_name=name,
                    tool_type=t["type"],
                    score=round(t["score"], 9),
                    matched=[k for _, k in sorted(t["kw"], key=lambda x: (-x[0], x[1]))],
                    usage_count=t["u"],
                    success_count=t["s"],
                )
                for name, t in tools.items()
                if t["score"] > 0
            ),
            key=lambda s: (-s.score, -s.success_count, s.tool_name),
        )
        return ranked[:limit]
