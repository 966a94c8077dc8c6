"""Plots of a results.json for the console: the numbers first (plain functions), then figures."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import OncoQAError

if TYPE_CHECKING:  # matplotlib loads when a figure is drawn
    from matplotlib.figure import Figure

LEVEL_MEASURES = ("hit@1", "hit@4", "recall@4", "mrr", "ndcg@4")
HEADLINE = ("doc.hit@4", "passage.hit@4", "passage.mrr", "answer.key_fact_recall",
            "answer.refusal_recall", "answer.false_refusal_rate")
COMPARED_SLICES = ("all", "language:en", "language:zh")


@dataclass(frozen=True)
class Results:
    """What the plots read from a results.json."""

    config: dict[str, Any]
    summary: dict[str, dict[str, float | None]]  # slice -> metric -> value
    counts: dict[str, dict[str, int]]  # slice -> metric -> items it was measured on
    rows: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Bars:
    """Grouped bars: one group per category, one bar per series (None: no value)."""

    title: str
    categories: tuple[str, ...]
    series: tuple[tuple[str, tuple[float | None, ...]], ...]
    ylabel: str = ""

    def values(self, name: str) -> tuple[float | None, ...]:
        return dict(self.series)[name]


def load_results(path: Path) -> Results:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        summary = {name: {m: s["value"] for m, s in part["metrics"].items()}
                   for name, part in data["summary"].items()}
        counts = {name: {m: int(s["n"]) for m, s in part["metrics"].items()}
                  for name, part in data["summary"].items()}
        return Results(dict(data.get("config", {})), summary, counts,
                       tuple(data.get("rows", ())))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise OncoQAError(f"cannot read evaluation results {path}: {exc}",
                          hint="run an evaluation to write a new results.json") from exc


def _label(slice_name: str) -> str:
    return slice_name.partition(":")[2] or slice_name


def retrieval_slices(results: Results) -> tuple[str, ...]:
    """all, each language, each direction with evidence (x->none has no retrieval metrics)."""
    names = [n for n in results.summary if n == "all" or n.startswith(("language:", "direction:"))]
    return tuple(n for n in names if not n.endswith("->none"))


def by_slice(results: Results, level: str = "passage") -> Bars:
    """hit@1, hit@4, hit@k and MRR at one level, per language and direction."""
    k = int(results.config.get("k", 4))
    measures = [f"hit@{c}" for c in sorted({1, 4, k})] + ["mrr"]
    slices = retrieval_slices(results)
    series = tuple(
        (m, tuple(results.summary[s].get(f"{level}.{m}") for s in slices)) for m in measures
        if any(results.summary[s].get(f"{level}.{m}") is not None for s in slices))
    labels = tuple(f"{_label(s)} (n={results.counts[s].get(f'{level}.mrr', 0)})" for s in slices)
    return Bars(f"{level.capitalize()}-level hit@k and MRR by language and direction", labels,
                series, "share of questions / MRR")


def levels(results: Results, slice_name: str = "all") -> Bars:
    """The same measures at document and passage level, on one slice."""
    part = results.summary.get(slice_name, {})
    series = tuple((level, tuple(part.get(f"{level}.{m}") for m in LEVEL_MEASURES))
                   for level in ("doc", "passage"))
    return Bars(f"Document vs passage level ({_label(slice_name)})", LEVEL_MEASURES, series)


def latencies(results: Results, stage: str = "retrieval") -> tuple[float, ...]:
    """Milliseconds of one stage for every item that ran without error."""
    return tuple(float(r["timings"][stage]) for r in results.rows
                 if not r.get("error") and stage in (r.get("timings") or {}))


def latency_stages(results: Results) -> tuple[str, ...]:
    return tuple(s for s in ("retrieval", "first_token", "total") if latencies(results, s))


def against(results: Results, baseline: Results) -> Bars:
    """Headline metrics of this run and the baseline on all / en / zh (both must have them)."""
    pairs = [(s, m) for s in COMPARED_SLICES for m in HEADLINE
             if results.summary.get(s, {}).get(m) is not None
             and baseline.summary.get(s, {}).get(m) is not None]
    categories = tuple(f"{m} · {_label(s)}" for s, m in pairs)
    return Bars("This run vs the baseline", categories, (
        ("this run", tuple(results.summary[s][m] for s, m in pairs)),
        ("baseline", tuple(baseline.summary[s][m] for s, m in pairs))))


def bar_figure(bars: Bars, width: float = 7.5) -> Figure:
    """Grouped bars with their values written on top (0-1 scale)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, 3.6), layout="constrained")
    axes = figure.add_subplot()
    count = max(len(bars.series), 1)
    step = 0.8 / count
    for index, (name, values) in enumerate(bars.series):
        xs = [c + (index - (count - 1) / 2) * step for c in range(len(bars.categories))]
        heights = [v or 0.0 for v in values]
        drawn = axes.bar(xs, heights, width=step * 0.95, label=name)
        axes.bar_label(drawn, labels=["" if v is None else f"{v:.2f}" for v in values],
                       fontsize=7, padding=1)
    crowded = len(bars.categories) > 6
    axes.set_xticks(range(len(bars.categories)), bars.categories, fontsize=7 if crowded else 8,
                    rotation=30 if crowded else 0, ha="right" if crowded else "center")
    axes.set_ylim(0, 1.25)  # room for the legend above bars that reach 1
    axes.set_title(bars.title, fontsize=10)
    if bars.ylabel:
        axes.set_ylabel(bars.ylabel, fontsize=8)
    axes.legend(fontsize=8, ncols=count, loc="upper right")
    axes.grid(axis="y", alpha=0.3)
    return figure


def latency_figure(results: Results, width: float = 7.5) -> Figure:
    """A histogram of each stage's latency on a log scale (the first question, which loads the
    model, can take 100 times the median), with the median marked."""
    import numpy as np
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, 3.6), layout="constrained")
    axes = figure.add_subplot()
    stages = {stage: sorted(latencies(results, stage)) for stage in latency_stages(results)}
    every = [max(v, 0.1) for values in stages.values() for v in values]
    if every:
        edges = np.geomspace(min(every), max(every) * 1.01, 31).tolist()
        for stage, values in stages.items():
            median = values[len(values) // 2]
            axes.hist([max(v, 0.1) for v in values], bins=edges, alpha=0.6,
                      label=f"{stage} (n={len(values)}, median {median:.0f} ms)")
            axes.axvline(max(median, 0.1), linestyle="--", linewidth=1)
        axes.set_xscale("log")
    axes.set_xlabel("milliseconds (log scale)", fontsize=8)
    axes.set_ylabel("questions", fontsize=8)
    axes.set_title("Latency distribution", fontsize=10)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=8)
    return figure
