"""Weighted reciprocal rank fusion of several rankings (dense, keyword, ...) into one."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import TypeVar

T = TypeVar("T", bound=Hashable)


def rrf(
    rankings: Sequence[Sequence[T]],
    weights: Sequence[float] | None = None,
    k: int = 60,
) -> list[tuple[T, float]]:
    """Fuse rankings: score(d) = sum_i w_i / (k + rank_i(d)), ranks starting at 1.

    Best first. Equal scores are ordered by the item's best single rank, then by first
    appearance (reading the rankings in the order given, each top to bottom). An item listed
    twice in one ranking counts once, at its first rank. A ranking with weight 0 contributes
    nothing, not even its items.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings")
    if any(not math.isfinite(w) or w < 0 for w in weights):
        raise ValueError(f"weights must be finite and >= 0, got {list(weights)}")

    scores: dict[T, float] = {}
    best: dict[T, int] = {}
    for weight, ranking in zip(weights, rankings, strict=True):
        if isinstance(ranking, str):
            # A bare string is a Sequence too, and would silently rank its characters.
            raise TypeError("each ranking must be a sequence of items, not a string")
        if weight == 0:
            continue
        seen: set[T] = set()
        for rank, item in enumerate(ranking, start=1):
            if item in seen:
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
            best[item] = min(best.get(item, rank), rank)
    # dicts keep first-appearance order and sorted() is stable, which gives the last tie-break.
    return sorted(scores.items(), key=lambda kv: (-kv[1], best[kv[0]]))
