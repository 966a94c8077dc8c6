"""Sentence-selection evaluation and calibration: does the ranker put the gold evidence sentence
first, and which feature weights do that best on the dev split?"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from core.text import language_of
from eval import metrics
from eval.gold import Evidence, GoldItem
from eval.run import Searcher, retrieval_query
from qa.bm25 import tokenize
from qa.select import Candidate, Selection, SentenceSelector, Weights
from qa.types import Passage

Variants = Callable[[str], list[str]]  # the retriever's query variants (glossary English)


@dataclass(frozen=True)
class Probe:
    """One answerable item's retrieved passages and the selector's view of them."""

    item: GoldItem
    query: str
    passages: tuple[Passage, ...]
    terms: tuple[str, ...]
    queries: tuple[str, ...]


@dataclass(frozen=True)
class SelectionScores:
    n: int
    key_at_1: float  # the gold evidence sentence ranks first
    key_at_3: float
    key_chosen: float  # the evidence sentence is among the chosen ones
    facts_chosen: float  # key-fact recall of the chosen sentences' text
    chosen: float  # mean number of sentences chosen


def probes(items: Iterable[GoldItem], retriever: Searcher, variants: Variants,
           k: int = 4) -> list[Probe]:
    out = []
    for item in items:
        if not item.answerable:
            continue
        query = retrieval_query(item)
        queries = tuple(variants(query))
        terms = tuple(t for v in queries for t in tokenize(v))
        out.append(Probe(item, query, tuple(retriever.search(query, k=k)), terms, queries))
    return out


def is_key(candidate: Candidate, probe: Probe, evidence: Evidence) -> bool:
    """The candidate sentence overlaps one of the item's evidence quotes in the corpus."""
    passage = probe.passages[candidate.n - 1]
    start, end = passage.start + candidate.start, passage.start + candidate.end
    return any(s.source == passage.source and s.start < end and start < s.end
               for s in evidence.spans(probe.item))


def score(selector: SentenceSelector, batch: Sequence[Probe],
          evidence: Evidence) -> SelectionScores:
    at1 = at3 = chosen_key = facts = count = 0.0
    for probe in batch:
        sel: Selection = selector.select(probe.queries, probe.terms, probe.passages,
                                         language_of(probe.item.question))
        keys = [is_key(c, probe, evidence) for c in sel.ranked]
        at1 += any(keys[:1])
        at3 += any(keys[:3])
        chosen_key += any(is_key(c, probe, evidence) for c in sel.chosen)
        text = " ".join(c.text for c in sel.chosen)
        facts += metrics.key_fact_recall(probe.item.key_facts, text) if probe.item.key_facts \
            else 0.0
        count += len(sel.chosen)
    n = max(1, len(batch))
    return SelectionScores(len(batch), at1 / n, at3 / n, chosen_key / n, facts / n, count / n)


def calibrate(selector: SentenceSelector, dev: Sequence[Probe], evidence: Evidence,
              grid: dict[str, Sequence[float]] | None = None) -> tuple[Weights, SelectionScores]:
    """Grid search on the dev split: maximise key-fact recall of the chosen sentences, then
    the evidence sentence at rank 1, then fewer sentences (each costs a model call)."""
    grid = grid or {"keyword": (0.02, 0.04, 0.08), "fits": (0.0, 0.02, 0.04, 0.06),
                    "rank": (0.0, 0.01, 0.02), "margin": (0.01, 0.02, 0.03)}
    base = selector.weights
    best: tuple[tuple[float, float, float], Weights, SelectionScores] | None = None
    names = list(grid)
    for values in itertools.product(*(grid[n] for n in names)):
        weights = replace(base, **dict(zip(names, values, strict=True)))  # type: ignore[arg-type]
        selector.weights = weights
        result = score(selector, dev, evidence)
        key = (round(result.facts_chosen, 4), round(result.key_at_1, 4), -result.chosen)
        if best is None or key > best[0]:
            best = (key, weights, result)
    selector.weights = base
    assert best is not None
    return best[1], best[2]
