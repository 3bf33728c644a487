"""Reciprocal-rank fusion: combine ranked lists without comparing their score scales."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
RRF_K = 60


def rrf(
    rankings: Mapping[str, Sequence[K]],
    *,
    k: int = RRF_K,
    weights: Mapping[str, float] | None = None,
) -> list[tuple[K, float, dict[str, int]]]:
    """Fuse ranked lists: score(d) = Σ weight / (k + rank), ranks from 1.

    Returns (item, fused score, {signal: rank}) best first; ties keep first-seen order.
    """
    scores: dict[K, float] = {}
    ranks: dict[K, dict[str, int]] = {}
    for signal, items in rankings.items():
        weight = 1.0 if weights is None else weights.get(signal, 1.0)
        for rank, item in enumerate(items, start=1):
            if signal in ranks.get(item, {}):
                continue
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
            ranks.setdefault(item, {})[signal] = rank
    order = sorted(scores, key=lambda item: -scores[item])
    return [(item, scores[item], ranks[item]) for item in order]
