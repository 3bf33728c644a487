"""The Embedder protocol and a deterministic embedder for tests and offline fallbacks."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from memvault.search.syntax import tokens_of


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into float32 vectors of a fixed dimension.

    `name` is stored with every vector (the model); vectors of different names are never
    compared. `embed` returns an array of shape (len(texts), dimension), dtype float32.
    """

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


class HashingEmbedder:
    """Bag of hashed words and character trigrams, L2-normalised; no model, no download.

    Deterministic and fast; it has lexical (not semantic) quality, so it is for tests and as a
    last resort when no model is installed.
    """

    def __init__(self, dimension: int = 256, name: str | None = None) -> None:
        self._dimension = dimension
        self._name = name or f"memvault-hashing-{dimension}"

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    def _slot(self, feature: str) -> tuple[int, float]:
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        return value % self._dimension, 1.0 if (value >> 63) & 1 else -1.0

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in tokens_of(text):
                slot, sign = self._slot("w:" + word)
                out[row, slot] += sign
                padded = f"<{word}>"
                for i in range(len(padded) - 2):
                    slot, sign = self._slot("t:" + padded[i : i + 3])
                    out[row, slot] += 0.3 * sign
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        result: npt.NDArray[np.float32] = out / norms
        return result
