"""The search API: full-text, vector and hybrid search over memories, messages and patterns.

    hits = vault.memories.search(user_id, "école primaire", k=10, mode="hybrid",
                                 kinds=["fact"], filters={"metadata.topic": "kids"})
    for hit in hits:
        hit.item, hit.score, hit.matched      # Memory, fused score, ("text", "vector")

Both legs see the same filters (owner first, then kinds, time range, confidence, expiry,
session and user filters); hybrid results are fused by reciprocal rank. Returned memories
have their access recorded.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from memvault import scope
from memvault import validate as v
from memvault.conversations import message_from_row, session_from_row
from memvault.domain import key_prefix_sql
from memvault.embed.base import Embedder
from memvault.embed.cache import CachedEmbedder
from memvault.errors import InvalidInput
from memvault.filters import compile_filters
from memvault.ids import new_id
from memvault.memories import embed_text, memory_from_row
from memvault.records import Hit, Hits, Memory, Message, Pattern, Session
from memvault.scope import ANY, Owner
from memvault.search import ann, bm25, fulltext, syntax, vectors
from memvault.search.fusion import rrf
from memvault.store.base import Tx
from memvault.store.rows import row_decoder
from memvault.store.vocab import MEMORY_KINDS
from memvault.threads import embed_workers, engine_threads

if TYPE_CHECKING:
    from memvault.vault import Vault

T = TypeVar("T")
MODES = ("hybrid", "text", "vector")
ANN_DIR_ENV = "MEMVAULT_ANN_DIR"
MAX_K = 1000
log = logging.getLogger(__name__)

pattern_from_row = row_decoder(Pattern)


def empty_leg_note(kind: str, model: str, mode: str) -> str:
    """What to tell a caller whose vector leg found no vector at all to search."""
    label = "memories" if kind == "memory" else "messages"
    then = (
        "the results come from full-text search alone"
        if mode == "hybrid"
        else "vector search cannot find anything"
    )
    return (
        f"none of these {label} has a vector for {model}, so {then}; "
        f"`memvault embed --what {label}` embeds them"
    )


class Search:
    """`vault.search`: the engine behind `memories.search` and `messages.search`."""

    def __init__(self, vault: Vault, embedder: Embedder | None = None) -> None:
        self._vault = vault
        self._embedder: Embedder | None = CachedEmbedder(embedder) if embedder else None
        self.index = vectors.MatrixIndex()
        self.fulltext_window = fulltext.DEFAULT_WINDOW
        # Hybrid's text leg only feeds 3·k candidates to the fusion, so it ranks a smaller
        # window of the newest matches (still exact when fewer rows match).
        self.hybrid_window = fulltext.HYBRID_WINDOW
        # SQLite BM25: document counts of query phrases (IDF), cached (see search/bm25.py)
        self.doc_counts = bm25.DocCounts()
        # Approximate vector search (pgvector HNSW, see `ann_index`): the default for
        # `approximate=None`, and the HNSW candidate list size (at least 3·k is used).
        self.approximate = False
        self.ef_search = 100
        # Elsewhere (SQLite, PostgreSQL without pgvector) `approximate=True` reads the files
        # that `ann_build` writes (search/ann.py) in `ann_dir`, scanning `ann_probes` lists.
        self.ann = ann.FileIndex()
        self.ann.on_stale = self._ann_rebuild
        self.ann_probes = 16  # with 2·√N lists: the rows 8 probes of √N lists scanned
        self.ann_dir: Path | None = None
        self._ann_rebuilds: list[threading.Thread] = []

    # -- embedders --------------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder | None:
        """The embedder for queries and `embed=True` writes (default: the offline model)."""
        if self._embedder is None:
            from memvault.embed import default

            if default.available():
                self._embedder = CachedEmbedder(default.default_embedder())
        return self._embedder

    @embedder.setter
    def embedder(self, value: Embedder | None) -> None:
        self._embedder = CachedEmbedder(value) if value is not None else None

    def _require_embedder(self, model: str | None) -> Embedder:
        emb = self.embedder
        if emb is None:
            raise InvalidInput("query_vector", None, "no embedder available: pass query_vector")
        if model is not None and model != emb.name:
            raise InvalidInput(
                "model", model, f"the embedder is {emb.name!r}; pass query_vector for {model!r}"
            )
        return emb

    def embed_model(self) -> str:
        """The model name of the vault's embedder (InvalidInput when there is none)."""
        return self._require_embedder(None).name

    def embed(self, texts: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
        """Vectors of `texts` with the vault's embedder."""
        return self._require_embedder(None).embed(list(texts))

    # -- common plumbing --------------------------------------------------------------------

    def _window(self, mode: str) -> int:
        return self.fulltext_window if mode == "text" else min(self.fulltext_window,
                                                                self.hybrid_window)  # fmt: skip

    def _prepare(
        self, query: str, mode: str, k: int, query_vector: Any, model: str | None
    ) -> tuple[syntax.Node | None, Any, str | None, int]:
        mode = v.choice("mode", mode, MODES)
        k = v.integer("k", k, minimum=1)
        if k > MAX_K:
            raise InvalidInput("k", k, f"at most {MAX_K}")
        query = v.text("query", query, allow_empty=mode == "vector" and query_vector is not None)
        node = syntax.parse(query) if mode != "vector" else None
        qvec = None
        if mode != "text":
            if query_vector is not None:
                qvec = vectors.as_vector("query_vector", query_vector)
                if model is None:
                    raise InvalidInput("model", None, "name the model of query_vector")
            else:
                emb = self._require_embedder(model)
                model = emb.name
                qvec = np.asarray(emb.embed([_plain(query)])[0], dtype=np.float32)
            vectors.check_model(model)
        return node, qvec, model, k

    def _fuse(
        self,
        mode: str,
        text: list[tuple[Any, float]],
        vec: list[tuple[str, float]],
        k: int,
    ) -> list[tuple[str, float, tuple[str, ...], dict[str, Any]]]:
        text_ids = [str(i) for i, _ in text]
        tscore = {str(i): s for i, s in text}
        vscore = dict(vec)
        out: list[tuple[str, float, tuple[str, ...], dict[str, Any]]] = []
        if mode == "text":
            for rank, (i, s) in enumerate(zip(text_ids, [s for _, s in text], strict=True), 1):
                out.append((i, s, ("text",), {"text_score": s, "text_rank": rank}))
            return out[:k]
        if mode == "vector":
            for rank, (i, s) in enumerate(vec, 1):
                out.append((i, s, ("vector",), {"vector_score": s, "vector_rank": rank}))
            return out[:k]
        fused = rrf({"text": text_ids, "vector": [i for i, _ in vec]})
        for item, score, ranks in fused[:k]:
            extra = {
                "text_score": tscore.get(item),
                "vector_score": vscore.get(item),
                "text_rank": ranks.get("text"),
                "vector_rank": ranks.get("vector"),
            }
            out.append((item, score, tuple(sorted(ranks, key=["text", "vector"].index)), extra))
        return out

    def _vector_leg(
        self,
        tx: Tx,
        table: str,
        kind: str,
        owners: list[str | None],
        model: str,
        qvec: Any,
        n: int,
        where: str,
        params: dict[str, Any],
        min_similarity: float | None,
        approximate: bool = False,
    ) -> list[tuple[str, float]]:
        hnsw = (
            approximate
            and tx.engine == "postgresql"
            and vectors.has_ann_index(tx, model, int(qvec.size))
        )
        folder = self.ann_folder() if approximate and not hnsw else None

        def allowed(ids: list[str]) -> set[str]:
            # Driven by the candidate ids (primary key), never by a scan of the owner's rows.
            p = dict(params)
            if tx.engine == "sqlite":
                p["vids"] = json.dumps(ids)
                sql = (
                    f"SELECT t.id FROM json_each(:vids) c CROSS JOIN {table} t "
                    f"ON t.id = c.value WHERE {where}"
                )
            else:
                p["vids"] = ids
                sql = (
                    f"SELECT t.id FROM {table} t "
                    f"WHERE t.id = ANY(CAST(:vids AS uuid[])) AND {where}"
                )
            return {str(r["id"]) for r in tx.all(sql, p)}

        def allowed_all() -> list[str]:
            rows = tx.all(f"SELECT t.id FROM {table} t WHERE {where}", params)
            return [str(r["id"]) for r in rows]

        got: list[tuple[str, float]] = []
        for owner in owners:
            if folder is not None:
                found = self.ann.search(
                    folder, tx, owner, model, kind, qvec, n, probes=self.ann_probes,
                    allowed=allowed if where else None,
                )  # fmt: skip
                if found is not None:
                    got += found
                    continue
                # No usable index file, or the filter is too selective: the exact matrix.
            if hnsw:
                part = vectors.ann_search(
                    tx, owner, model, kind, qvec, n, ef_search=max(self.ef_search, n),
                    table=table, where=where, params=params,
                )  # fmt: skip
                if len(part) >= n:
                    got += part
                    continue
                # Fewer than asked: the owner holds fewer passing rows, or the filter is
                # too selective for the graph walk. The exact matrix answers both.
            got += self.index.search(
                tx, owner, model, kind, qvec, n,
                allowed=allowed if where else None, allowed_all=allowed_all,
            )  # fmt: skip
        got.sort(key=lambda item: -item[1])
        if min_similarity is not None:
            got = [g for g in got if g[1] >= min_similarity]
        return got[:n]

    def _any_vector(self, tx: Tx, kind: str, owners: list[str | None], model: str) -> bool:
        """Whether one of `owners` holds a `kind` vector of `model` (one indexed probe each)."""
        col = vectors.TARGET[kind]
        for owner in owners:
            params: dict[str, Any] = {"m": model}
            who = scope.owners_clause([owner], params)
            if tx.one(
                f"SELECT 1 FROM embeddings WHERE {who} AND model = :m AND {col} IS NOT NULL "
                "LIMIT 1",
                params,
            ):
                return True
        return False

    # -- memories ---------------------------------------------------------------------------

    def memories(
        self,
        user_id: str | None,
        query: str,
        *,
        k: int = 10,
        mode: str = "hybrid",
        kinds: Iterable[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        min_confidence: float | None = None,
        base: bool = False,
        filters: Any = None,
        session_id: str | None = None,
        include_expired: bool = False,
        query_vector: Any = None,
        model: str | None = None,
        min_similarity: float | None = None,
        track_access: bool = True,
        approximate: bool | None = None,
        key_prefix: str | None = None,
    ) -> Hits[Memory]:
        """Memories of `user_id` (None: the base layer; `base=True` adds the base layer)
        matching `query`, best first. See the module doc. `Hits.notes` says when the vector
        leg had no vector to search (the memories were never embedded).

        `approximate=True` (default: `vault.search.approximate`) lets the vector leg use a
        pgvector HNSW index built by `ann_index(model)`, or elsewhere the index files built
        by `ann_build(model)` (`memvault reindex --ann` builds either); without one the
        search is exact, with the same API. `key_prefix`: only memories whose key starts
        with it, matched literally (`""`: every memory that has a key), in both legs."""
        node, qvec, model, k = self._prepare(query, mode, k, query_vector, model)
        owners = scope.owners(v.optional_id("user_id", user_id), layered=base)
        assert owners is not None
        n = max(3 * k, 30)
        with self._vault.store.read() as tx:
            params: dict[str, Any] = {}
            conds = [scope.owners_clause(owners, params, "t.user_id")]
            if kinds is not None:
                kind_list = [v.choice("kinds", x, MEMORY_KINDS) for x in kinds]
                conds.append(f"t.kind IN ({tx.expand('kind', kind_list, params)})")
            if since is not None:
                params["since"] = tx.ts(v.when("since", since))
                conds.append("t.created_at >= :since")
            if until is not None:
                params["until"] = tx.ts(v.when("until", until))
                conds.append("t.created_at < :until")
            if min_confidence is not None:
                params["min_conf"] = v.unit("min_confidence", min_confidence)
                conds.append("t.confidence >= :min_conf")
            if session_id is not None:
                params["sid"] = v.id_("session_id", session_id)
                conds.append("t.session_id = :sid")
            if not include_expired:
                params["now"] = tx.ts(self._vault.clock())
                conds.append("(t.expires_at IS NULL OR t.expires_at > :now)")
            flt = compile_filters(tx, "memories", filters, params)
            if flt:
                conds.append(flt)
            if key_prefix is not None:
                prefix = v.key_prefix("key_prefix", key_prefix)
                conds.append(key_prefix_sql(prefix, params, "t.key"))
            where = " AND ".join(conds)
            text: list[tuple[Any, float]] = []
            if mode != "vector" and node is not None:
                text = fulltext.candidates(
                    tx, "memories", node, owners=owners, where=where, params=params,
                    limit=k if mode == "text" else n, window=self._window(mode),
                    counts=self.doc_counts,
                )  # fmt: skip
            vec: list[tuple[str, float]] = []
            notes: list[str] = []
            if mode != "text" and model is not None:
                vec = self._vector_leg(
                    tx, "memories", "memory", owners, model, qvec, n, where, params,
                    min_similarity, self.approximate if approximate is None else approximate,
                )  # fmt: skip
                if not vec and not self._any_vector(tx, "memory", owners, model):
                    notes.append(empty_leg_note("memory", model, mode))
            fused = self._fuse(mode, text, vec, k)
            rows = self._rows(tx, "memories", [f[0] for f in fused])
            items = {str(r["id"]): memory_from_row(tx, r) for r in rows}
        ordered = [f for f in fused if f[0] in items]
        memories = [items[f[0]] for f in ordered]
        if track_access and memories:
            memories = self._vault.memories.touch_if_free(memories)
        return Hits(
            (Hit(mem, f[1], f[2], **f[3]) for mem, f in zip(memories, ordered, strict=True)),
            notes,
        )

    def _rows(self, tx: Tx, table: str, ids: list[str]) -> list[Any]:
        if not ids:
            return []
        params: dict[str, Any] = {}
        names = tx.expand("hid", ids, params)
        return tx.all(f"SELECT * FROM {table} WHERE id IN ({names})", params)

    # -- messages ---------------------------------------------------------------------------

    def messages(
        self,
        user_id: Owner,
        query: str,
        *,
        k: int = 10,
        mode: str = "hybrid",
        session_id: str | None = None,
        roles: Iterable[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        filters: Any = None,
        query_vector: Any = None,
        model: str | None = None,
        min_similarity: float | None = None,
        approximate: bool | None = None,
    ) -> Hits[Message]:
        """Messages of `user_id` (None: messages with no owner; ANY: every owner, for
        trusted callers), optionally within one session, matching `query`, best first."""
        node, qvec, model, k = self._prepare(query, mode, k, query_vector, model)
        if scope.is_any(user_id) and session_id is None and mode != "text":
            raise InvalidInput("user_id", "ANY", "vector search needs an owner or a session")
        owners = scope.owners(user_id)
        n = max(3 * k, 30)
        with self._vault.store.read() as tx:
            params: dict[str, Any] = {}
            conds = []
            owner = scope.owners_clause(owners, params, "t.user_id")
            if owner:
                conds.append(owner)
            if session_id is not None:
                session_id = v.id_("session_id", session_id)
                params["sid"] = session_id
                conds.append("t.session_id = :sid")
            if roles is not None:
                conds.append(f"t.role IN ({tx.expand('role', list(roles), params)})")
            if since is not None:
                params["since"] = tx.ts(v.when("since", since))
                conds.append("t.created_at >= :since")
            if until is not None:
                params["until"] = tx.ts(v.when("until", until))
                conds.append("t.created_at < :until")
            flt = compile_filters(tx, "messages", filters, params)
            if flt:
                conds.append(flt)
            where = " AND ".join(conds)
            text: list[tuple[Any, float]] = []
            if mode != "vector" and node is not None:
                text = fulltext.candidates(
                    tx, "messages", node, owners=owners, session_id=session_id, where=where,
                    params=params, limit=k if mode == "text" else n, window=self._window(mode),
                    counts=self.doc_counts,
                )  # fmt: skip
            vec: list[tuple[str, float]] = []
            notes: list[str] = []
            if mode != "text" and model is not None:
                vec_owners = owners
                if vec_owners is None:  # ANY with a session: the session's owner
                    row = tx.one("SELECT user_id FROM sessions WHERE id = :s", {"s": session_id})
                    vec_owners = [] if row is None else [tx.id_out(row["user_id"])]
                vec = self._vector_leg(
                    tx, "messages", "message", vec_owners, model, qvec, n, where or "1 = 1",
                    params, min_similarity,
                    self.approximate if approximate is None else approximate,
                )  # fmt: skip
                if not vec and not self._any_vector(tx, "message", vec_owners, model):
                    notes.append(empty_leg_note("message", model, mode))
            fused = self._fuse(mode, text, vec, k)
            rows = self._rows(tx, "messages", [f[0] for f in fused])
            items = {str(r["id"]): message_from_row(tx, r) for r in rows}
        return Hits((Hit(items[f[0]], f[1], f[2], **f[3]) for f in fused if f[0] in items), notes)

    # -- response patterns ------------------------------------------------------------------

    def patterns(
        self, user_id: str | None, query: str, *, k: int = 10, layered: bool = True,
        filters: Any = None,
    ) -> list[Hit[Pattern]]:  # fmt: skip
        """Full-text search of response patterns: the user's layer and (when `layered`)
        the base layer, best first."""
        k = v.integer("k", k, minimum=1)
        node = syntax.parse(v.text("query", query))
        if node is None:
            return []
        owners = scope.owners(v.optional_id("user_id", user_id), layered=layered)
        assert owners is not None
        with self._vault.store.read() as tx:
            params: dict[str, Any] = {}
            where = scope.owners_clause(owners, params, "t.user_id")
            flt = compile_filters(tx, "response_patterns", filters, params)
            if flt:
                where += " AND " + flt
            text = fulltext.candidates(
                tx, "response_patterns", node, owners=owners, where=where, params=params,
                limit=k, counts=self.doc_counts,
            )  # fmt: skip
            rows = {str(r["id"]): r for r in self._rows(tx, "response_patterns",
                                                        [str(i) for i, _ in text])}  # fmt: skip
            out = []
            for rank, (i, score) in enumerate(text, 1):
                r = rows.get(str(i))
                if r is None:
                    continue
                pattern = pattern_from_row(tx, r)
                out.append(Hit(pattern, score, ("text",), text_score=score, text_rank=rank))
            return out

    # -- sessions ---------------------------------------------------------------------------

    def sessions(self, user_id: str | None, query: str, *, k: int = 10) -> list[Hit[Session]]:
        """Full-text search of `user_id`'s sessions by title (None: the base layer's), best
        first (revision 0007 indexes titles; AIT42 finds its tasks this way)."""
        k = v.integer("k", k, minimum=1)
        node = syntax.parse(v.text("query", query))
        if node is None:
            return []
        owners = scope.owners(v.optional_id("user_id", user_id))
        assert owners is not None
        params: dict[str, Any] = {}
        where = scope.owners_clause(owners, params, "t.user_id")
        with self._vault.store.read() as tx:
            text = fulltext.candidates(
                tx, "sessions", node, owners=owners, where=where, params=params, limit=k,
                counts=self.doc_counts,
            )  # fmt: skip
            rows = {str(r["id"]): r for r in self._rows(tx, "sessions", [str(i) for i, _ in text])}
            out = []
            for rank, (i, score) in enumerate(text, 1):
                r = rows.get(str(i))
                if r is not None:
                    out.append(Hit(session_from_row(tx, r), score, ("text",), text_score=score,
                                   text_rank=rank))  # fmt: skip
            return out

    # -- maintenance ------------------------------------------------------------------------

    def ann_index(self, model: str | None = None) -> str | None:
        """Build (if missing) the pgvector HNSW index of `model` (default: the embedder's);
        its name, or None where pgvector is missing or the model has no vector yet. Long on
        large collections: run it once, as an operator, like `reindex`."""
        model = vectors.check_model(model or self.embed_model())
        with self._vault.store.write() as tx:
            dim = vectors.model_dim(tx, model)
            if dim is None:
                return None
            return vectors.ann_index(tx, model, dim)

    def build_approximate(
        self, model: str | None = None, *, min_rows: int = 10_000
    ) -> list[dict[str, Any]]:
        """The approximate index of `model` for `approximate=True`: pgvector HNSW where
        pgvector is present (`ann_index`), else the index files (`ann_build`)."""
        with self._vault.store.read() as tx:
            pgvector = vectors.has_pgvector(tx)
        if pgvector:
            name = self.ann_index(model)
            return [] if name is None else [{"hnsw": name}]
        keep = ("owner", "kind", "model", "count", "lists", "seq", "build_s")
        return [{k: b[k] for k in keep} for b in self.ann_build(model, min_rows=min_rows)]

    def _ann_rebuild(self, user_id: str | None, model: str, kind: str) -> None:
        """Rebuild one index file in a background thread (FileIndex.on_stale): searches go
        on with the old build and the rows written since, then pick up the new one."""
        folder = self.ann_folder()
        if folder is None:
            return

        def run() -> None:
            try:
                self.ann_build(model, user_id=user_id, kinds=[kind])
            except Exception:  # the old build keeps answering; logged, asked again later
                log.exception("rebuilding the approximate index of %s failed", kind)
            finally:
                self.ann.rebuilt(folder, vectors.owner_key(user_id), model, kind)

        thread = threading.Thread(target=run, name="ann-rebuild", daemon=True)
        self._ann_rebuilds = [t for t in self._ann_rebuilds if t.is_alive()] + [thread]
        thread.start()

    def ann_wait(self, timeout: float | None = None) -> None:
        """Wait for the index files being rebuilt in the background (see `_ann_rebuild`)."""
        for thread in list(self._ann_rebuilds):
            thread.join(timeout)

    def ann_folder(self) -> Path | None:
        """Where the approximate index files live: `ann_dir`, else `$MEMVAULT_ANN_DIR`,
        else `<database file>.ann` beside a SQLite file (None for in-memory SQLite and
        PostgreSQL without one of the first two)."""
        if self.ann_dir is not None:
            return Path(self.ann_dir)
        if os.environ.get(ANN_DIR_ENV):
            return Path(os.environ[ANN_DIR_ENV])
        file = self._vault.store.file
        return None if file is None else Path(f"{file}.ann")

    def ann_build(
        self,
        model: str | None = None,
        *,
        user_id: Owner = ANY,
        kinds: Sequence[str] = vectors.KINDS,
        min_rows: int = 10_000,
        lists: int | None = None,
    ) -> list[dict[str, Any]]:
        """Build the approximate index files (search/ann.py) of `model` (default: the
        embedder's) for `user_id` (default: every owner holding at least `min_rows` vectors
        of a kind), in `ann_folder()`. One metadata dict per index written. Long on large
        collections (about a minute per million 384-d vectors): run it as an operator."""
        model = vectors.check_model(model or self.embed_model())
        folder = self.ann_folder()
        if folder is None:
            raise InvalidInput(
                "ann_dir", None,
                f"no folder for approximate index files: set vault.search.ann_dir or "
                f"${ANN_DIR_ENV} (an in-memory or PostgreSQL store has none by default)",
            )  # fmt: skip
        kinds = [v.choice("kinds", k, vectors.KINDS) for k in kinds]
        min_rows = v.integer("min_rows", min_rows, minimum=1)
        if lists is not None:
            lists = v.integer("lists", lists, minimum=1)
        with self._vault.store.read() as tx:
            params: dict[str, Any] = {"m": model}
            who = ""
            if not scope.is_any(user_id):
                who = " AND " + scope.clause(user_id, params, name="u")
            groups = tx.all(
                "SELECT user_id, count(memory_id) AS memory, count(message_id) AS message "
                f"FROM embeddings WHERE model = :m{who} GROUP BY user_id",
                params,
            )
            least = min_rows if scope.is_any(user_id) else 1
            todo = [(tx.id_out(g["user_id"]), k) for g in groups for k in kinds if g[k] >= least]
        out = []
        for owner, kind in todo:
            with self._vault.store.read() as tx:
                meta = ann.build(folder, tx, owner, model, kind, nlist=lists)
            if meta is not None:
                out.append(meta)
        self.ann.clear()
        return out

    def reindex(self) -> dict[str, int]:
        """Rebuild the derived indexes: full-text tables and in-memory vector matrices."""
        with self._vault.store.write() as tx:
            out = fulltext.rebuild(tx)
            out["embeddings"] = int(tx.scalar("SELECT count(*) FROM embeddings"))
        self.index.clear()
        self.doc_counts.clear()
        self.ann.clear()  # the files stay valid: they derive from `embeddings` alone
        return out

    def missing(self, kind: str, model: str) -> int:
        """How many memories (kind='memory') or messages lack a vector for `model`."""
        table, col = ("memories", "memory_id") if kind == "memory" else ("messages", "message_id")
        with self._vault.store.read() as tx:
            return int(tx.scalar(
                f"SELECT count(*) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM embeddings e "
                f"WHERE e.{col} = t.id AND e.model = :m)", {"m": model},
            ))  # fmt: skip

    def embed_missing(
        self,
        kind: str = "memory",
        *,
        batch: int = 64,
        limit: int | None = None,
        progress: Any = None,
        workers: int | None = None,
    ) -> int:
        """Embed rows that have no vector for the embedder's model, `batch` per transaction.

        Resumable: each batch commits with its vectors, and the next run starts from what is
        still missing. `progress(n)` is called after each batch. Returns rows embedded.

        `workers` (default: one per idle core, `memvault.threads.embed_workers`) embed
        batches side by side, each with one engine thread, while this thread reads the next
        rows and writes the finished batches in order: the cores embed all the time instead
        of waiting on each other inside one call, and on the database."""
        emb = self._require_embedder(None)
        count = embed_workers() if workers is None else v.integer("workers", workers, minimum=1)
        table, col = ("memories", "memory_id") if kind == "memory" else ("messages", "message_id")
        text_sql = (
            "t.content || CASE WHEN t.context IS NULL OR t.context = '' THEN '' "
            "ELSE ' ' || t.context END"
            if kind == "memory"
            else "t.content"
        )
        after: str | None = None  # keyset: rows being embedded are not read again

        def read(size: int) -> list[tuple[str, str | None, str]]:
            nonlocal after
            params: dict[str, Any] = {"m": emb.name, "n": size}
            past = ""
            if after is not None:
                params["after"] = after
                past = (
                    "AND t.id > CAST(:after AS uuid) " if self._vault.engine == "postgresql"
                    else "AND t.id > :after "
                )  # fmt: skip
            with self._vault.store.read() as tx:
                found = tx.all(
                    f"SELECT t.id, t.user_id, {text_sql} AS body FROM {table} t "
                    f"WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.{col} = t.id "
                    f"AND e.model = :m) {past}ORDER BY t.id LIMIT :n",
                    params,
                )
                rows = [(str(r["id"]), tx.id_out(r["user_id"]), r["body"] or "") for r in found]
            if rows:
                after = rows[-1][0]
            return rows

        def work(texts: list[str]) -> Any:
            with engine_threads(1):
                return emb.embed(texts)

        def write(rows: list[tuple[str, str | None, str]], vecs: Any) -> None:
            with self._vault.store.write() as tx:
                now = tx.ts(self._vault.clock())
                for (rid, owner, body), vec in zip(rows, vecs, strict=True):
                    vectors.put(
                        tx, embedding_id=new_id(), user_id=owner, kind=kind, target_id=rid,
                        model=emb.name, vector=vectors.as_vector("vector", vec),
                        created_at=now, text=body,
                    )  # fmt: skip
            if progress is not None:
                progress(len(rows))

        done = 0
        queued = 0
        pending: deque[tuple[list[tuple[str, str | None, str]], Future[Any]]] = deque()
        with ThreadPoolExecutor(max_workers=count, thread_name_prefix="embed") as pool:
            try:
                while True:
                    while len(pending) <= count and (limit is None or queued < limit):
                        size = batch if limit is None else min(batch, limit - queued)
                        rows = read(size)
                        if not rows:
                            limit = queued  # nothing more to read
                            break
                        pending.append((rows, pool.submit(work, [r[2] for r in rows])))
                        queued += len(rows)
                    if not pending:
                        break
                    rows, fut = pending.popleft()
                    write(rows, fut.result())
                    done += len(rows)
            finally:
                for _, fut in pending:
                    fut.cancel()
        return done


def _plain(query: str) -> str:
    """The query as prose for an embedder: quotes, operators and wildcards removed."""
    words = [w for w in query.replace('"', " ").replace("*", " ").split()
             if w not in ("OR", "AND", "NOT", "|") and not w.startswith("-")]  # fmt: skip
    return " ".join(words) or query


class Embeddings:
    """`vault.embeddings`: store vectors (any model, any dimension) for memories and messages."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def put(
        self,
        vector: Any,
        *,
        model: str,
        memory_id: str | None = None,
        message_id: str | None = None,
        user_id: Owner = ANY,
    ) -> None:
        """Store (or replace) the `model` vector of one memory or message, in one transaction
        with a check that the row exists (and is `user_id`'s); the owner is the row's owner."""
        if (memory_id is None) == (message_id is None):
            raise InvalidInput("memory_id", memory_id, "give exactly one of memory_id, message_id")
        model = vectors.check_model(model)
        vec = vectors.as_vector("vector", vector)
        kind, table, target = (
            ("memory", "memories", memory_id) if memory_id else ("message", "messages", message_id)
        )
        target = v.id_(f"{kind}_id", target)
        with self._vault.store.write() as tx:
            cols = "user_id, content" + (", context" if kind == "memory" else "")
            params: dict[str, Any] = {"id": target}
            row = tx.one(scope.where(f"SELECT {cols} FROM {table} WHERE id = :id", user_id, params),
                         params)  # fmt: skip
            if row is None:
                from memvault.errors import NotFound

                raise NotFound(kind, target)
            text = embed_text(row["content"], row["context"]) if kind == "memory" else None
            self.put_in(tx, kind, target, tx.id_out(row["user_id"]), vec, model,
                        text=row["content"] if text is None else text)  # fmt: skip

    def put_in(
        self,
        tx: Tx,
        kind: str,
        target_id: str,
        user_id: str | None,
        vector: Any,
        model: str,
        *,
        text: str | None = None,
    ) -> None:
        """Store a vector inside the caller's transaction (used by `memories.add`); `text`:
        the text it embeds (its digest is kept with the vector)."""
        vectors.put(
            tx, embedding_id=new_id(), user_id=user_id, kind=kind, target_id=target_id,
            model=vectors.check_model(model), vector=vectors.as_vector("vector", vector),
            created_at=tx.ts(self._vault.clock()), text=text,
        )  # fmt: skip

    def get(
        self,
        *,
        model: str,
        memory_id: str | None = None,
        message_id: str | None = None,
        user_id: Owner = ANY,
    ) -> np.ndarray[Any, np.dtype[np.float32]] | None:
        """The stored vector (of a row of `user_id`), or None."""
        col, target = ("memory_id", memory_id) if memory_id else ("message_id", message_id)
        params: dict[str, Any] = {"t": target, "m": model}
        sql = scope.where(
            f"SELECT vector FROM embeddings WHERE {col} = :t AND model = :m", user_id, params
        )
        with self._vault.store.read() as tx:
            row = tx.one(sql, params)
        if row is None:
            return None
        return np.frombuffer(bytes(row["vector"]), dtype="<f4").copy()

    def delete(self, *, model: str | None = None, memory_id: str | None = None,
               message_id: str | None = None, user_id: Owner = ANY) -> int:  # fmt: skip
        """Delete the vectors of one memory or message (of one model, or all) of `user_id`;
        returns how many were deleted."""
        col, target = ("memory_id", memory_id) if memory_id else ("message_id", message_id)
        params: dict[str, Any] = {"t": target}
        sql = scope.where(f"DELETE FROM embeddings WHERE {col} = :t", user_id, params)
        if model is not None:
            params["m"] = model
            sql += " AND model = :m"
        with self._vault.store.write() as tx:
            return int(tx.execute(sql, params).rowcount or 0)


__all__ = ["ANY", "Embeddings", "Hit", "Hits", "Pattern", "Search"]
