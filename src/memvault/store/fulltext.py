"""Full-text candidates per engine: FTS5 on SQLite, `tsvector` + GIN on PostgreSQL.

Revision 0002 builds the indexes. Each SQLite document carries `scope` tokens (`u<owner hex>`
or `ubase`, and `s<session hex>` for messages), so an owner's search is an intersection inside
FTS5 (`scope:uXXX AND (...)`), never a join over every owner's matches. Ranking is BM25
(`bm25()`) on SQLite and `ts_rank` on PostgreSQL; higher scores are better here.

Cost control: ranking is O(matches), so a query matching more than `window` of the owner's
documents is ranked over its `window` most recent matches (FTS5 walks doclists newest first
at no cost). Below that the ranking is exact BM25.
"""



from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from memvault.search import syntax
from memvault.store.base import Tx

DEFAULT_WINDOW = 4000


@dataclass(frozen=True, slots=True)
class FtsSpec:
    table: str
    columns: tuple[str, ...]
    weights: tuple[float, ...]


SPECS = {
    "memories": FtsSpec("memories", ("content", "context"), (1.0, 0.5)),
    "messages": FtsSpec("messages", ("content",), (1.0,)),
    "response_patterns": FtsSpec(
        "response_patterns", ("trigger_context", "response_text"), (1.0, 0.7)
    ),
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
) -> list[tuple[Any, float]]:
    """(id, score) of the best `limit` rows of `table` matching `node`, best first.

    `owners`: the owners whose rows may match (None in the list = base layer; None for any
    owner, for trusted callers). `where` is an extra SQL condition on alias `t` whose values
    are already bound in `params`.
    """
    spec = SPECS[table]
    params = dict(params or {})
    params["fts_limit"] = limit
    params["fts_window"] = window
    if tx.engine == "sqlite":
        return _sqlite(tx, spec, node, owners, session_id, where, params)
    return _postgres(tx, spec, node, session_id, where, params)


def _sqlite(
    tx: Tx,
    spec: FtsSpec,
    node: syntax.Node,
    owners: list[str | None] | None,
    session_id: str | None,
    where: str,
    params: dict[str, Any],
) -> list[tuple[Any, float]]:
    fts = f"{spec.table}_fts"
    cols = "{" + " ".join(spec.columns) + "}"
    expr = syntax.to_fts5(node, cols)
    scopes = []
    if owners is not None:
        scopes.append("(" + " OR ".join(f'scope : "{owner_token(o)}"' for o in owners) + ")")
    if session_id is not None:
        scopes.append(f'scope : "{session_token(session_id)}"')
    params["fts_q"] = " AND ".join([*scopes, expr])
    weights = ", ".join(str(w) for w in (*spec.weights, 0.0))
    sql = (
        f"SELECT t.id AS id, -f.score AS score FROM ("
        f"SELECT rowid AS rid, bm25({fts}, {weights}) AS score FROM {fts} "
        f"WHERE {fts} MATCH :fts_q ORDER BY rowid DESC LIMIT :fts_window) f "
        f"CROSS JOIN {spec.table} t ON t.rowid = f.rid"
        + (f" WHERE {where}" if where else "")
        + " ORDER BY f.score, t.rowid DESC LIMIT :fts_limit"
    )
    return [(r["id"], float(r["score"])) for r in tx.all(sql, params)]


def _postgres(
    tx: Tx,
    spec: FtsSpec,
    node: syntax.Node,
    session_id: str | None,
    where: str,
    params: dict[str, Any],
) -> list[tuple[Any, float]]:
    params["fts_q"] = syntax.to_tsquery(node)
    conds = ["t.fts @@ q.q"]
    if session_id is not None:
        params["fts_session"] = session_id
        conds.append("t.session_id = :fts_session")
    if where:
        conds.append(where)
    sql = (
        "SELECT t.id AS id, ts_rank(t.fts, q.q) AS score "
        f"FROM {spec.table} t, (SELECT to_tsquery('simple', memvault_fold(:fts_q)) AS q) q "
        f"WHERE {' AND '.join(conds)} ORDER BY score DESC, t.id DESC LIMIT :fts_limit"
    )
    return [(r["id"], float(r["score"])) for r in tx.all(sql, params)]


def rebuild(tx: Tx) -> dict[str, int]:
    """Rebuild every full-text index from its rows (derived data); returns rows per table."""
    out: dict[str, int] = {}
    for table in SPECS:
        if tx.engine == "sqlite":
            tx.execute(f"INSERT INTO {table}_fts({table}_fts) VALUES ('rebuild')")
        # PostgreSQL: the generated column is recomputed by the server; nothing to rebuild.
        out[table] = int(tx.scalar(f"SELECT count(*) FROM {table}"))
    return out
