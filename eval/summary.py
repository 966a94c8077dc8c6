"""Aggregate per-item rows into per-slice metrics with bootstrap confidence intervals."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from eval import metrics
from eval.run import Row

SLICE_GROUPS: dict[str, Callable[[Row], str]] = {
    "language": lambda r: r.language,
    "direction": lambda r: r.direction,
    "file": lambda r: r.file,
}
LATENCIES = ("retrieval", "first_token", "total")
ANSWER_METRICS = (
    metrics.KEY_FACT_RECALL, metrics.CITATION_PRECISION_DOC, metrics.CITATION_PRECISION_PASSAGE,
    metrics.LANGUAGE_MATCH, metrics.REFUSAL_PRECISION, metrics.REFUSAL_RECALL,
    metrics.FALSE_REFUSAL_RATE, metrics.MUST_NOT, metrics.LOOP, metrics.BODY_LANGUAGE,
    metrics.CITATION_RECALL, metrics.CITATION_PRECISION,
)


@dataclass(frozen=True)
class Stat:
    """A metric on a slice: value, 95% bootstrap interval (None for percentiles), item count."""

    value: float | None
    low: float | None
    high: float | None
    n: int


@dataclass(frozen=True)
class SliceSummary:
    name: str  # "all", "language:zh", "direction:zh->en", "file:multiturn"
    n: int
    stats: dict[str, Stat]


def metric_names(rows: Iterable[Row]) -> list[str]:
    """Every metric present in the rows, in report order (doc, passage, answer, latency)."""
    present = {name for row in rows for name in row.values}
    retrieval = sorted((n for n in present if n.startswith(("doc.", "passage."))),
                       key=_retrieval_order)
    return retrieval + [n for n in ANSWER_METRICS if n in present]


def _retrieval_order(name: str) -> tuple[int, int, int]:
    level, _, measure = name.partition(".")
    kind, _, cutoff = measure.partition("@")
    order = ["hit", "recall", "mrr", "ndcg"]
    return (level != "doc", order.index(kind) if kind in order else 9, int(cutoff or 0))


def slices(rows: Sequence[Row]) -> dict[str, list[Row]]:
    """'all' plus one slice per value of each grouping, in a stable order."""
    out: dict[str, list[Row]] = {"all": list(rows)}
    for group, key in SLICE_GROUPS.items():
        for value in sorted({key(r) for r in rows}):
            out[f"{group}:{value}"] = [r for r in rows if key(r) == value]
    return out


def summarize_rows(rows: Sequence[Row], name: str = "all", *, seed: int = 0,
                   resamples: int = 1000) -> SliceSummary:
    stats: dict[str, Stat] = {}
    for metric in metric_names(rows):
        values = [r.values[metric] for r in rows if metric in r.values]
        mean = metrics.mean_of([r.values for r in rows], metric)
        ci = metrics.bootstrap_ci(values, seed=seed, resamples=resamples)
        stats[metric] = Stat(mean, ci[0] if ci else None, ci[1] if ci else None, len(values))
    for stage in LATENCIES:
        # first-token latency only means something for answers that were generated
        times = [r.timings[stage] for r in rows if stage in r.timings and not r.error
                 and (stage != "first_token" or (r.answer is not None and not r.answer.refused))]
        for q in (50, 95):
            if times:
                stats[f"latency.{stage}.p{q}"] = Stat(metrics.percentile(times, q), None, None,
                                                      len(times))
    return SliceSummary(name, len(rows), stats)


def summarize(rows: Sequence[Row], *, seed: int = 0,
              resamples: int = 1000) -> dict[str, SliceSummary]:
    return {name: summarize_rows(part, name, seed=seed, resamples=resamples)
            for name, part in slices(rows).items()}


def missed(rows: Sequence[Row], metric: str) -> list[str]:
    """Ids of the items that pull a metric down (below perfect), worst first."""
    lower_better = metric in metrics.LOWER_IS_BETTER
    bad = [(r.values[metric], r.id) for r in rows
           if metric in r.values and (r.values[metric] > 0 if lower_better
                                      else r.values[metric] < 1)]
    return [rid for _, rid in sorted(bad, reverse=lower_better)]


def as_json(summary: Mapping[str, SliceSummary]) -> dict[str, dict[str, object]]:
    return {
        name: {"n": s.n, "metrics": {m: {"value": st.value, "low": st.low, "high": st.high,
                                          "n": st.n} for m, st in s.stats.items()}}
        for name, s in summary.items()
    }
