"""Evidence gate: decide from retrieval scores alone whether the corpus covers a question."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa.types import Passage


@dataclass(frozen=True)
class Evidence:
    covered: bool
    best_dense: float
    coverage: float  # idf-weighted share of the question's terms found in the top passages
    missing: tuple[str, ...]  # the rarest question terms no top passage contains


def assess_evidence(
    variants: Sequence[Sequence[str]],
    passages: Sequence[Passage],
    *,
    idf: Callable[[str], float],
    min_dense: float,
    min_coverage: float = 0.55,
    strong_dense: float | None = None,
    top: int = 3,
) -> Evidence:
    """Covered when the best passage is semantically close AND the question's informative terms
    (weighted by rarity, so "pancreatic" counts more than "cancer") appear in the top passages,
    or when the dense match alone is very strong. Each query variant (the question, its English
    glossary rendering) is scored and the best one counts."""
    if not passages:
        return Evidence(False, 0.0, 0.0, ())
    best_dense = max(p.dense for p in passages[:top])
    found = set()
    for passage in passages[:top]:
        found.update(passage.matched_terms)
    coverage, missing = 0.0, ()
    for terms in variants:
        unique = list(dict.fromkeys(terms))
        if not unique:
            continue
        weights = {t: idf(t) for t in unique}
        total = sum(weights.values()) or 1.0
        share = sum(w for t, w in weights.items() if t in found) / total
        if share >= coverage:
            coverage = share
            missing = tuple(sorted((t for t in unique if t not in found),
                                   key=lambda t: -weights[t])[:3])
    strong = strong_dense if strong_dense is not None else min_dense + 0.06
    covered = (best_dense >= min_dense and coverage >= min_coverage) or best_dense >= strong
    return Evidence(covered, round(best_dense, 4), round(coverage, 4), missing)
