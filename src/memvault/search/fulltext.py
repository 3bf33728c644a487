"""Full-text candidates per engine: FTS5 on SQLite, `tsvector` + GIN on PostgreSQL.

Revision 0002 builds the indexes. Each SQLite document carries `scope` tokens (`u<owner hex>`
or `ubase`, and `s<session hex>` for messages), so an owner's search is an intersection inside
FTS5 (`scope:uXXX AND (...)`), never a join over every owner's matches. When the owners hold
most of the table (half or more, from cached document counts), the scope would filter out
little and cost a seek into its doclist per match: it is left out of the MATCH and the rows'
owner is checked instead. Ranking is BM25 on SQLite (computed by `bm25`, equal to
FTS5's `bm25()`) and `ts_rank` on PostgreSQL; higher scores are better here.

Cost control: ranking is O(matches), so a query matching more than `window` of the owner's
documents (after every filter) is ranked over its `window` most recent matches: FTS5 walks
doclists newest first at no cost, and PostgreSQL reads the newest matches through the primary
key (UUIDv7) or the GIN index, whichever its planner finds cheaper for these words. Below the
window the ranking is exact: BM25 on SQLite, `ts_rank` on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from memvault import scope
from memvault.search import bm25, syntax
from memvault.store.base import Tx

DEFAULT_WINDOW = 4000
HYBRID_WINDOW = 1000


@dataclass(frozen=True, slots=True)
class FtsSpec:
    table: str
    columns: tuple[str, ...]
    weights: tuple[float, ...]
    scope_tokens: int  # tokens of each document's `scope` column (owner, and session)
    pg_vector: str = "t.fts"  # PostgreSQL: the indexed tsvector (a column, or an expression)


SPECS = {
    "memories": FtsSpec("memories", ("content", "context"), (1.0, 0.5), 1),
    "messages": FtsSpec("messages", ("content",), (1.0,), 2),
    "response_patterns": FtsSpec(
        "response_patterns", ("trigger_context", "response_text"), (1.0, 0.7), 1
    ),
    # Revision 0007: titles. On PostgreSQL the GIN index is on this expression, not on a stored
    # column that each message append (an UPDATE of its session) would recompute.
    "sessions": FtsSpec("sessions", ("title",), (1.0,), 1, "memvault_tsv(t.title)"),
}
FTS_TABLES = tuple(f"{name}_fts" for name in SPECS)


def owner_token(user_id: str | None) -> str:
    return "ubase" if user_id is None else "u" + str(user_id).replace("-", "").lower()


def session_token(session_id: str) -> str:
    return "s" + str(session_id).replace("-", "").lower()


def candidates(
    tx: Tx,
    table: str,
    node: syntax.Node,
    *,
    owners: list[str | None] | None,
    session_id: str | None = None,
    where: str = "",
    params: dict[str, Any] | None = None,
    limit: int = 50,
    window: int = DEFAULT_WINDOW,
    counts: bm25.DocCounts | None = None,
) -> list[tuple[Any, float]]:
    """(id, score) of the best `limit` rows of `table` matching `node`, best first.

    `owners`: the owners whose rows may match (None in the list = base layer; None for any
    owner, for trusted callers). `where` is an extra SQL condition on alias `t` whose values
    are already bound in `params`. `counts` caches the document counts of phrases for
    SQLite's BM25 (see `bm25`); without it every phrase is counted afresh.
    """
    spec = SPECS[table]
    params = dict(params or {})
    params["fts_limit"] = limit
    params["fts_window"] = window
    if tx.engine == "sqlite":
        return _sqlite(tx, spec, node, owners, session_id, where, params, counts)
    return _postgres(tx, spec, node, session_id, where, params)


def _sqlite(
    tx: Tx,
    spec: FtsSpec,
    node: syntax.Node,
    owners: list[str | None] | None,
    session_id: str | None,
    where: str,
    params: dict[str, Any],
    counts: bm25.DocCounts | None,
) -> list[tuple[Any, float]]:
    fts = f"{spec.table}_fts"
    cols = "{" + " ".join(spec.columns) + "}"
    counts = counts or bm25.DocCounts()
    totals = bm25.totals(tx, fts)
    conds = [where] if where else []
    scopes = []
    if owners is not None:
        tokens = [f'scope : "{owner_token(o)}"' for o in owners]
        held = sum(counts.get(tx, fts, tok, totals[0]) for tok in tokens)
        if 2 * held < totals[0]:
            scopes.append("(" + " OR ".join(tokens) + ")")
        else:
            # The owners hold most rows: intersecting with their scope doclist would cost a
            # seek per match (and filter out little). The row's owner is checked instead.
            conds.append(scope.owners_clause(owners, params, "t.user_id", name="fts_owner"))
    if session_id is not None:
        scopes.append(f'scope : "{session_token(session_id)}"')
    params["fts_q"] = " AND ".join([*scopes, syntax.to_fts5(node, cols)])
    texts = ", ".join(f"t.{c}" for c in spec.columns)
    # The window holds the newest `fts_window` matches that pass every filter: FTS5 is the
    # outer loop, walking its doclist newest first (ORDER BY rowid DESC is consumed by the
    # virtual table), each match checked against the row by rowid, stopping at the window.
    # No FTS5 auxiliary function runs: `bm25` ranks the window from its texts and
    # document lengths, without bm25()'s count of every phrase over the whole index.
    sql = (
        f"SELECT {fts}.rowid AS rid, {texts} "
        f"FROM {fts} CROSS JOIN {spec.table} t ON t.rowid = {fts}.rowid "
        f"WHERE {fts} MATCH :fts_q"
        + "".join(f" AND {c}" for c in conds)
        + f" ORDER BY {fts}.rowid DESC LIMIT :fts_window"
    )
    rows: list[Any] = tx.all(sql, params)  # sqlite3.Row: read by position
    best = bm25.rank(
        tx, fts, node, cols, spec.weights, spec.scope_tokens, rows, counts, totals,
        params["fts_limit"],
    )  # fmt: skip
    if not best:
        return []
    found: dict[str, Any] = {}  # ids of the best rows only, not of the whole window
    names = tx.expand("fts_rid", [rid for rid, _ in best], found)
    sql = f"SELECT rowid, id FROM {spec.table} WHERE rowid IN ({names})"
    ids = {r["rowid"]: r["id"] for r in tx.all(sql, found)}
    return [(ids[rid], score) for rid, score in best]


def _postgres(
    tx: Tx,
    spec: FtsSpec,
    node: syntax.Node,
    session_id: str | None,
    where: str,
    params: dict[str, Any],
) -> list[tuple[Any, float]]:
    params["fts_q"] = syntax.to_tsquery(node)
    conds = [f"{spec.pg_vector} @@ q.q"]
    if session_id is not None:
        params["fts_session"] = session_id
        conds.append("t.session_id = :fts_session")
    if where:
        conds.append(where)
    # Same window as SQLite: the newest `fts_window` matches passing every filter (ids are
    # UUIDv7, so id order is creation order), then ts_rank over that window only. The
    # planner picks per query between a backward primary-key scan that stops once the
    # window is full (common words) and a GIN (user_id, fts) bitmap scan (rarer words).
    sql = (
        "SELECT w.id AS id, ts_rank(w.fts, w.q) AS score FROM ("
        f"SELECT t.id, {spec.pg_vector} AS fts, q.q FROM {spec.table} t, "
        "(SELECT to_tsquery('simple', memvault_fold(:fts_q)) AS q) q "
        f"WHERE {' AND '.join(conds)} ORDER BY t.id DESC LIMIT :fts_window) w "
        "ORDER BY score DESC, w.id DESC LIMIT :fts_limit"
    )
    return [(r["id"], float(r["score"])) for r in _custom_plan(tx, sql, params)]


def _custom_plan(tx: Tx, sql: str, params: dict[str, Any]) -> list[Any]:
    """Run `sql` unprepared, so the server plans it for this query's words.

    A prepared (generic) plan knows neither how common the words are, which decides between
    the two scans above, nor the folded tsquery, which it would then recompute on every row
    (that alone made a common word cost 390 ms over 100k rows)."""
    return tx.all_unprepared(sql, params)


def rebuild(tx: Tx) -> dict[str, int]:
    """Rebuild every full-text index from its rows (derived data); returns rows per table."""
    out: dict[str, int] = {}
    for table in SPECS:
        if tx.engine == "sqlite":
            tx.execute(f"INSERT INTO {table}_fts({table}_fts) VALUES ('rebuild')")
        # PostgreSQL: the generated column is recomputed by the server; nothing to rebuild.
        out[table] = int(tx.scalar(f"SELECT count(*) FROM {table}"))
    return out
