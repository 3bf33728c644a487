r"""BM25 for a window of FTS5 matches, computed here instead of by FTS5's `bm25()`.

FTS5's `bm25()` starts every statement by counting, for each phrase of the MATCH expression,
the documents that contain it: it walks the phrase's whole doclist, across every owner. The
owner's `scope` token is one of those phrases (1M entries for an owner holding 1M rows) and a
common word is another (800k entries), so that fixed cost dominated a windowed query at 1M
rows (54 ms for a *rare* word). This module computes the same formula from the same kind of
inputs, each taken where it is cheap:

* **term frequency** `f` of each positive phrase in each window row: counted in the row's
  text (the columns the phrase is restricted to, weighted per column as `bm25(w0, w1, …)`
  does). Text and query words are folded alike (lower case, accents removed), a phrase
  instance is its tokens separated by non-token characters, and a prefix phrase's last
  token is matched as a prefix. Instances are counted at every start position, as FTS5 does.
* **document length** `D`: the tokens of the row's text columns, counted the same way, plus
  its `scope` tokens (1, or 2 for messages), as FTS5 counts every column.
* **N** and the **average length**: the FTS5 averages record (`%_data`, id 1), read per
  query: what `bm25()` reads.
* **document count** `n` of each phrase (for IDF): `count(*)` of the phrase over the whole
  table, the count `bm25()` makes, but cached in `DocCounts` per (table, phrase). An entry
  is reused while N stays within 1/32 of the N it was counted at, for at most
  `DocCounts.max_age` seconds, scaled by the change of N in between (an estimate). NOT
  phrases and the scope phrase add nothing to a BM25 score (their `f` is 0 in a matching
  row, or their weight is 0) and are never counted for IDF.

    score = Σ_phrases IDF · f·(k1 + 1) / (f + k1·(1 − b + b·D / avgdl)),  k1 = 1.2, b = 0.75
    IDF   = ln((N − n + 0.5) / (n + 0.5)), or 1e-6 where that is ≤ 0 (n ≥ N/2)

The operations are FTS5's, in its order, so with fresh counts the scores equal `-bm25()` bit
for bit (a test compares them on random queries). Tokens are letters and digits (Python's
`[^\W_]`), which is FTS5's `unicode61` for ASCII and for accented Latin letters once folded;
for other combining marks, symbols, private-use and unassigned characters, unicode61 draws
token boundaries differently and `f` or `D` of that row can differ. Which rows match is
always FTS5's decision.
"""

from __future__ import annotations

import math
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from memvault.search import syntax
from memvault.store.base import Tx

K1 = 1.2
B = 0.75
_MARKS = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_SEP = "\x00"  # between rows of the joined window text; never inside a phrase gap
_GAP = r"[^\w\x00]+"  # non-token characters (`_` is replaced by a space beforehand)


def fold(text: str) -> str:
    """Lower case, diacritics removed, `_` and NUL as spaces: the text as tokens see it."""
    if text.isascii():
        out = text.lower()
    else:
        out = _MARKS.sub("", unicodedata.normalize("NFD", text.lower()))
    if "_" in out or _SEP in out:
        out = out.replace("_", " ").replace(_SEP, " ")
    return out


@dataclass(frozen=True, slots=True)
class Phrase:
    match: str  # FTS5 MATCH text of the phrase alone (its column filter included)
    pattern: re.Pattern[str]  # one match per instance, at the instance's first token
    word: bytes | None  # a single ASCII token, folded (counted with numpy in ASCII text)
    prefix: bool


def _pattern(term: syntax.Term) -> re.Pattern[str]:
    words = [re.escape(fold(t)) for t in term.tokens]
    if not all(words):  # a token folded away entirely (defensive): count nothing
        return re.compile("(?!)")
    first = words[0]
    # The first token literally, then its start checked by a lookbehind: a literal prefix
    # lets `re` skip ahead with a fast substring search (`\bword` scans every position).
    head = rf"{first}(?<=\b{first})"
    end = "" if term.prefix else r"\b"
    if len(words) == 1:
        return re.compile(head + end)
    # The other tokens in a lookahead: a match consumes only the first token, so overlapping
    # instances ("a a" in "a a a") are all counted, as FTS5 counts positions.
    tail = "".join(_GAP + w for w in words[1:])
    return re.compile(rf"{head}(?={tail}{end})")


def phrases(node: syntax.Node, columns: str) -> list[Phrase]:
    """The positive phrases of `node`, in the order `syntax.to_fts5` writes them."""
    if isinstance(node, syntax.Term):
        folded = fold(node.tokens[0])
        single = len(node.tokens) == 1 and folded.isascii() and folded != ""
        word = folded.encode() if single else None
        return [Phrase(syntax.to_fts5(node, columns), _pattern(node), word, node.prefix)]
    if isinstance(node, syntax.Not):
        return []
    out: list[Phrase] = []
    for item in node.items:
        out += phrases(item, columns)
    return out


def _varints(blob: bytes) -> list[int]:
    """SQLite varints (big-endian 7-bit groups; a 9th byte carries 8 bits)."""
    out: list[int] = []
    i, size = 0, len(blob)
    while i < size:
        value = 0
        for j in range(9):
            byte = blob[i]
            i += 1
            if j == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        out.append(value)
    return out


def totals(tx: Tx, fts: str) -> tuple[int, int]:
    """(N documents, tokens over every column) from the FTS5 averages record."""
    blob = tx.scalar(f"SELECT block FROM {fts}_data WHERE id = 1")
    if not blob:
        return 0, 0
    values = _varints(bytes(blob))
    return values[0], sum(values[1:])


class DocCounts:
    """Per (FTS5 table, phrase) document counts, for IDF; thread-safe, bounded (LRU)."""

    def __init__(self, size: int = 10_000, max_age: float = 600.0) -> None:
        self.size = size
        self.max_age = max_age
        self.counted = 0  # counts made (cache misses and refreshes), for tests and benches
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, str], tuple[int, int, float]] = OrderedDict()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def get(self, tx: Tx, fts: str, match: str, n_docs: int) -> float:
        """Documents of `fts` matching `match` (an FTS5 phrase), for a table of `n_docs`."""
        key = (fts, match)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
        if hit is not None:
            count, at_docs, at_time = hit
            fresh = abs(n_docs - at_docs) * 32 <= at_docs and (
                time.monotonic() - at_time <= self.max_age
            )
            if fresh:
                return count if n_docs == at_docs else count * n_docs / max(at_docs, 1)
        sql = f"SELECT count(*) FROM {fts} WHERE {fts} MATCH :p"
        count = int(tx.scalar(sql, {"p": match}))
        with self._lock:
            self.counted += 1
            self._items[key] = (count, n_docs, time.monotonic())
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return count


def idf(n_docs: int, count: float) -> float:
    value = math.log((n_docs - count + 0.5) / (count + 0.5))
    return value if value > 0.0 else 1e-6


_TOKEN = re.compile(r"[^\W_]+")
_ALNUM = np.zeros(256, dtype=bool)
_ALNUM[[*range(48, 58), *range(65, 91), *range(97, 123)]] = True  # unicode61's ASCII tokens


def _per_row(marks: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """How many `marks` (a bool per character of a joined text) fall in each row; every
    row spans at least its separator, so no `reduceat` slice is empty."""
    firsts = np.concatenate(([0], ends[:-1]))
    out: np.ndarray = np.add.reduceat(marks, firsts, dtype=np.int64).astype(np.float64)
    return out


@dataclass(frozen=True, slots=True)
class Column:
    """One text column of a window: folded texts joined by `_SEP` (plus a final one), the
    end offset of each row (its separator + 1), each row's token count and, when the texts
    are ASCII, their bytes and which of them are token characters."""

    joined: str
    ends: np.ndarray
    tokens: np.ndarray
    codes: np.ndarray | None = None
    chars: np.ndarray | None = None

    @classmethod
    def of(cls, texts: Sequence[str | None]) -> Column:
        raw = [t or "" for t in texts]
        joined = _SEP.join(raw) + _SEP
        if joined.isascii() and joined.count(_SEP) == len(raw):
            # lower() keeps every length: fold once; the offsets are the raw texts' own
            joined = joined.lower().replace("_", " ")
            lengths = np.fromiter((len(t) + 1 for t in raw), dtype=np.int64, count=len(raw))
            ends = np.cumsum(lengths)
            codes = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
            chars = _ALNUM[codes]
            starts = chars.copy()
            starts[1:] &= ~chars[:-1]  # a token starts where a token character follows none
            return cls(joined, ends, _per_row(starts, ends), codes, chars)
        folded = [fold(t) for t in raw]
        lengths = np.fromiter((len(t) + 1 for t in folded), dtype=np.int64, count=len(raw))
        counted = (len(_TOKEN.findall(t)) for t in folded)
        tokens = np.fromiter(counted, dtype=np.float64, count=len(raw))
        return cls(_SEP.join(folded) + _SEP, np.cumsum(lengths), tokens)

    def _token_matches(self, word: bytes, prefix: bool) -> np.ndarray:
        """Per row, the tokens equal to `word` (or starting with it), by byte comparison."""
        assert self.codes is not None and self.chars is not None
        codes, chars, size = self.codes, self.chars, len(word)
        hit = np.zeros(len(codes), dtype=bool)
        span = len(codes) - size  # the joined text ends with a separator: i + size < len
        if span > 0:
            hit[:span] = codes[:span] == word[0]
            hit[1:span] &= ~chars[: span - 1]  # at a token start
            for k in range(1, size):
                hit[:span] &= codes[k : span + k] == word[k]
            if not prefix:
                hit[:span] &= ~chars[size : span + size]  # and the token ends there
        return _per_row(hit, self.ends)

    def add_frequencies(
        self, phrase_list: Sequence[Phrase], weight: float, out: np.ndarray
    ) -> None:
        """Add `weight` × instances of each phrase in each row to `out[phrase, row]`."""
        for p, phrase in enumerate(phrase_list):
            if phrase.word is not None and self.codes is not None:
                out[p] += weight * self._token_matches(phrase.word, phrase.prefix)
                continue
            starts = [m.start() for m in phrase.pattern.finditer(self.joined)]
            if starts:
                found = np.asarray(starts, dtype=np.int64)
                rows = np.searchsorted(self.ends, found, side="right")
                out[p] += weight * np.bincount(rows, minlength=len(self.ends))


def scores(
    freqs: np.ndarray, lengths: np.ndarray, idfs: Sequence[float], avgdl: float
) -> np.ndarray:
    """BM25 of each row, in FTS5's order of operations (so equal to `-bm25()`)."""
    norm = K1 * (1 - B + B * lengths / avgdl)
    total = np.zeros(lengths.shape, dtype=np.float64)
    for p, weight in enumerate(idfs):
        f = freqs[p]
        total = total + weight * ((f * (K1 + 1.0)) / (f + norm))
    return total


def rank(
    tx: Tx,
    fts: str,
    node: syntax.Node,
    columns: str,
    weights: Sequence[float],
    scope_tokens: int,
    rows: Sequence[Any],
    counts: DocCounts,
    sizes: tuple[int, int],
    limit: int,
) -> list[tuple[Any, float]]:
    """(rowid, score) of the best `limit` of `rows` (rowid, one text per column); every
    document also holds `scope_tokens` tokens in its `scope` column. `sizes` is
    `totals(tx, fts)`."""
    if not rows:
        return []
    phrase_list = phrases(node, columns)
    n_docs, n_tokens = sizes
    avgdl = n_tokens / n_docs if n_docs else 1.0
    idfs = [idf(n_docs, counts.get(tx, fts, ph.match, n_docs)) for ph in phrase_list]
    freqs = np.zeros((len(phrase_list), len(rows)), dtype=np.float64)
    lengths = np.full(len(rows), float(scope_tokens))
    for c, weight in enumerate(weights):
        column = Column.of([r[1 + c] for r in rows])
        lengths += column.tokens
        if weight:
            column.add_frequencies(phrase_list, weight, freqs)
    got = scores(freqs, lengths, idfs, avgdl)
    rids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    order = np.lexsort((-rids, -got))[:limit]  # score desc, then newest first
    return [(int(rids[i]), float(got[i])) for i in order.tolist()]
