"""Retrieval metrics (trec_eval via ir_measures), answer metrics, bootstrap CIs and percentiles."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

import ir_measures
import numpy as np
from ir_measures import RR, R, Success, nDCG

from core.text import CJK_RUN, script_of
from qa.citations import MARKER, strip_markers

CUTOFFS = (1, 4)
KEY_FACT_RECALL = "answer.key_fact_recall"
CITATION_PRECISION_DOC = "answer.citation_precision.doc"
CITATION_PRECISION_PASSAGE = "answer.citation_precision.passage"
LANGUAGE_MATCH = "answer.language_match"
REFUSAL_PRECISION = "answer.refusal_precision"
REFUSAL_RECALL = "answer.refusal_recall"
FALSE_REFUSAL_RATE = "answer.false_refusal_rate"
MUST_NOT = "answer.must_not_violation"  # the answer states a claim the source contradicts
LOOP = "answer.loop"  # a repeated sentence or a run of citation markers reached the reader
BODY_LANGUAGE = "answer.body_language"  # share of the body's letters in the question's language
CITATION_RECALL = "answer.citation_recall"  # shown sentences that cite a passage
CITATION_PRECISION = "answer.citation_precision"  # citations that support their sentence
LOWER_IS_BETTER = frozenset({FALSE_REFUSAL_RATE, MUST_NOT, LOOP})


def _measures(cutoffs: Sequence[int]) -> dict[str, ir_measures.Measure]:
    """Our names for the trec_eval measures: hit@k = success_k, recall@k = recall_k,
    mrr = recip_rank, ndcg@k = ndcg_cut_k."""
    named: dict[str, ir_measures.Measure] = {f"hit@{k}": Success @ k for k in cutoffs}
    # recall@1 and ndcg@1 mostly repeat hit@1, so deeper cutoffs only (unless 1 is all there is)
    deep = [k for k in cutoffs if k > 1] or list(cutoffs)
    named |= {f"recall@{k}": R @ k for k in deep}
    named["mrr"] = RR
    named |= {f"ndcg@{k}": nDCG @ k for k in deep}
    return named


def measure_names(cutoffs: Sequence[int] = CUTOFFS) -> list[str]:
    return list(_measures(cutoffs))


def retrieval_scores(
    qrels: Mapping[str, Mapping[str, int]],
    runs: Mapping[str, Sequence[str]],
    cutoffs: Sequence[int] = CUTOFFS,
) -> dict[str, dict[str, float]]:
    """Per-query scores for every query in qrels; runs are doc ids best first.

    Repeated ids keep their first rank (trec_eval cannot hold one doc twice). A query with no run
    or an empty run scores 0 everywhere: pytrec_eval leaves such queries out of its output, so
    they are added back explicitly and always count in the mean.
    """
    named = _measures(cutoffs)
    by_measure = {m: name for name, m in named.items()}
    judged = {qid: {doc: int(rel) for doc, rel in docs.items()}
              for qid, docs in qrels.items() if any(r > 0 for r in docs.values())}
    run: dict[str, dict[str, float]] = {}
    for qid in judged:
        ranked = list(dict.fromkeys(runs.get(qid, ())))
        run[qid] = {doc: float(len(ranked) - rank) for rank, doc in enumerate(ranked)}
    scores = {qid: dict.fromkeys(named, 0.0) for qid in judged}
    if judged:
        for metric in ir_measures.iter_calc(list(named.values()), judged, run):
            scores[metric.query_id][by_measure[metric.measure]] = float(metric.value)
    return scores


def mean_scores(scores: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Mean over queries of each measure (the trec_eval 'all' line)."""
    names = {name for per_query in scores.values() for name in per_query}
    return {name: float(np.mean([s.get(name, 0.0) for s in scores.values()])) for name in names}


def passage_ranking(covered: Sequence[frozenset[int]]) -> list[str]:
    """Map ranked chunks onto evidence-quote units: a chunk becomes the first quote it covers
    that no better-ranked chunk covered ('e<n>'), else a non-relevant unit ('x<rank>')."""
    seen: set[int] = set()
    ranked = []
    for rank, quotes in enumerate(covered):
        new = sorted(quotes - seen)
        ranked.append(f"e{new[0]}" if new else f"x{rank}")
        seen |= quotes
    return ranked


def coverage_recall(covered: Sequence[frozenset[int]], n_quotes: int, k: int) -> float:
    """Fraction of evidence quotes overlapped by the top k chunks (a chunk may cover several;
    trec_eval's recall would count only one of them)."""
    if n_quotes == 0:
        return 0.0
    hit = set().union(*covered[:k]) if covered[:k] else set()
    return len(hit) / n_quotes


def passage_scores(
    covered: Mapping[str, Sequence[frozenset[int]]],
    n_quotes: Mapping[str, int],
    cutoffs: Sequence[int] = CUTOFFS,
) -> dict[str, dict[str, float]]:
    """Per-query passage-level scores: qrels are the quotes of each query (one unit each)."""
    qrels = {qid: {f"e{i}": 1 for i in range(n)} for qid, n in n_quotes.items()}
    runs = {qid: passage_ranking(covered.get(qid, ())) for qid in n_quotes}
    scores = retrieval_scores(qrels, runs, cutoffs)
    for qid, per_query in scores.items():
        for k in [k for k in cutoffs if f"recall@{k}" in per_query]:
            per_query[f"recall@{k}"] = coverage_recall(covered.get(qid, ()), n_quotes[qid], k)
    return scores


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def key_facts_found(key_facts: Sequence[Sequence[str]], text: str) -> tuple[bool, ...]:
    """Per key fact: is any of its surface forms in the text (case-insensitive, NFKC)?"""
    haystack = _normal(text)
    return tuple(any(_normal(form) in haystack for form in forms) for forms in key_facts)


def key_fact_recall(key_facts: Sequence[Sequence[str]], text: str) -> float:
    found = key_facts_found(key_facts, text)
    return sum(found) / len(found) if found else 0.0


def body_language(body: str, language: str) -> float:
    """Share of the body's letters written in the question's language. Latin acronyms and coded
    names (PET-CT, 5-FU, FOLFOX) are normal inside Chinese text, so only lowercase English words
    count as English there; CJK characters count as Chinese."""
    text = strip_markers(unicodedata.normalize("NFKC", body))
    cjk = sum(len(run) for run in CJK_RUN.findall(text))
    english = sum(len(w) for w in _PROSE_WORD.findall(text))
    total = cjk + english
    if total == 0:
        return 0.0
    return (cjk if language == "zh" else english) / total


def has_loop(text: str) -> bool:
    """A sentence repeated, or three citation markers in a row."""
    if _MARKER_RUN.search(text):
        return True
    pieces = [p.strip() for p in _SENTENCE_END.split(strip_markers(text)) if len(p.strip()) > 8]
    return len(pieces) != len(set(pieces))


def contains_any(claims: Sequence[Sequence[str]], text: str) -> tuple[str, ...]:
    """The first surface form of every claim that occurs in the text (NFKC, case-insensitive)."""
    haystack = _normal(text)
    return tuple(forms[0] for forms in claims if any(_normal(f) in haystack for f in forms))


_MARKER_RUN = re.compile(rf"(?:{MARKER.pattern}\s*){{3,}}")
_PROSE_WORD = re.compile(r"(?<![A-Za-z0-9-])[a-z]{2,}(?![A-Za-z0-9-])")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")


def language_matches(text: str, language: str) -> bool:
    """The answer text is mostly in the question's language (CJK characters vs Latin words)."""
    return script_of(text) == language


def refusal_values(answerable: bool, refused: bool) -> dict[str, float]:
    """Per-item contributions; each rate is the mean over the items that carry its key.

    Positive class = refused: precision over refused items, recall over unanswerable items;
    the false-refusal rate is over answerable items.
    """
    values = {FALSE_REFUSAL_RATE if answerable else REFUSAL_RECALL: float(refused)}
    if refused:
        values[REFUSAL_PRECISION] = float(not answerable)
    return values


def mean_of(rows: Iterable[Mapping[str, float]], name: str) -> float | None:
    """Mean of one value over the rows that have it; None when no row has it."""
    values = [row[name] for row in rows if name in row]
    return float(np.mean(values)) if values else None


def refusal_scores(answerable: Sequence[bool], refused: Sequence[bool]) -> dict[str, float | None]:
    rows = [refusal_values(a, r) for a, r in zip(answerable, refused, strict=True)]
    return {name: mean_of(rows, name)
            for name in (REFUSAL_PRECISION, REFUSAL_RECALL, FALSE_REFUSAL_RATE)}


def bootstrap_ci(
    values: Sequence[float], *, resamples: int = 1000, seed: int = 0, level: float = 0.95
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean; None for no values."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return None
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (linear interpolation); None for no values."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else None
