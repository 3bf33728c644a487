"""An in-process LRU cache in front of any Embedder (queries repeat; models are slow)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from memvault.embed.base import Embedder


class CachedEmbedder:
    """Wraps an Embedder; identical texts are embedded once (up to `size` remembered)."""

    def __init__(self, inner: Embedder, size: int = 4096) -> None:
        self.inner = inner
        self.size = size
        self._cache: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        missing: list[int] = []
        with self._lock:
            for i, text in enumerate(texts):
                vec = self._cache.get(text)
                if vec is None:
                    missing.append(i)
                else:
                    self._cache.move_to_end(text)
                    out[i] = vec
                    self.hits += 1
        if missing:
            fresh = np.asarray(self.inner.embed([texts[i] for i in missing]), dtype=np.float32)
            with self._lock:
                for j, i in enumerate(missing):
                    out[i] = fresh[j]
                    self._cache[texts[i]] = fresh[j].copy()
                    self.misses += 1
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        return out
