"""Write results.json and summary.md (tables, text bar charts, baseline deltas); print tables."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from core.errors import OncoQAError
from eval.run import Row
from eval.summary import SLICE_GROUPS, SliceSummary, as_json
from eval.thresholds import Failure, describe

CHART_METRICS = ("doc.hit@4", "passage.hit@4", "passage.mrr", "answer.key_fact_recall",
                 "answer.refusal_recall")
Baseline = dict[str, dict[str, float]]  # slice -> metric -> value


def load_baseline(path: Path) -> Baseline:
    """Metric values per slice from a previous results.json."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return {name: {m: s["value"] for m, s in part["metrics"].items() if s["value"] is not None}
                for name, part in data["summary"].items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OncoQAError(f"cannot read baseline {path}: {exc}",
                          hint="pass a results.json written by `oncoqa eval`") from exc


def write_report(out: Path, rows: Sequence[Row], summary: Mapping[str, SliceSummary],
                 config: Mapping[str, Any], failures: Sequence[Failure] = (),
                 baseline: Baseline | None = None) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.json"
    results.write_text(json.dumps({
        "config": dict(config),
        "summary": as_json(summary),
        "failures": [describe(f) for f in failures],
        "rows": [asdict(r) for r in rows],
    }, ensure_ascii=False, indent=1), encoding="utf-8")
    markdown = out / "summary.md"
    markdown.write_text(render_markdown(rows, summary, config, failures, baseline),
                        encoding="utf-8")
    return results, markdown


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _delta(metric: str, slice_name: str, value: float | None, baseline: Baseline | None) -> str:
    if baseline is None or value is None:
        return ""
    old = baseline.get(slice_name, {}).get(metric)
    return "" if old is None else f" ({value - old:+.3f})"


def _cell(part: SliceSummary | None, metric: str, baseline: Baseline | None) -> str:
    stat = part.stats.get(metric) if part else None
    if part is None or stat is None:
        return "–"
    ci = f" [{_fmt(stat.low, 2)}, {_fmt(stat.high, 2)}]" if stat.low is not None else ""
    digits = 0 if metric.startswith("latency.") else 3
    return f"{_fmt(stat.value, digits)}{ci}{_delta(metric, part.name, stat.value, baseline)}"


def _short(part: SliceSummary, metric: str) -> str:
    """Console cell: value ± half the CI width."""
    stat = part.stats.get(metric)
    if stat is None or stat.value is None:
        return "–"
    if metric.startswith("latency."):
        return f"{stat.value:.0f} ms"
    half = f"±{(stat.high - stat.low) / 2:.2f}" if stat.low is not None and stat.high is not None \
        else ""
    return f"{stat.value:.3f}{half}"


def _metrics(summary: Mapping[str, SliceSummary]) -> list[str]:
    names: list[str] = []
    for part in summary.values():
        names += [m for m in part.stats if m not in names]
    return names


def _bar_chart(metric: str, parts: Sequence[SliceSummary], width: int = 30) -> list[str]:
    lines = [metric]
    label = max(len(p.name.partition(":")[2] or p.name) for p in parts)
    for p in parts:
        stat = p.stats.get(metric)
        if stat is None or stat.value is None:
            continue
        filled = round(max(0.0, min(1.0, stat.value)) * width)
        name = p.name.partition(":")[2] or p.name
        lines.append(f"  {name:<{label}} {'█' * filled}{'░' * (width - filled)} "
                     f"{stat.value:.3f} (n={stat.n})")
    return lines


def render_markdown(rows: Sequence[Row], summary: Mapping[str, SliceSummary],
                    config: Mapping[str, Any], failures: Sequence[Failure] = (),
                    baseline: Baseline | None = None) -> str:
    lines = ["# OncoQA evaluation", ""]
    lines += [f"- **{k}**: {v}" for k, v in config.items()]
    errors = [r for r in rows if r.error]
    lines += [f"- **items**: {len(rows)} ({sum(r.answerable for r in rows)} answerable)",
              f"- **errors**: {len(errors)}", ""]
    lines += ["Values are means over the items of the slice that the metric applies to, with a 95% "
              "percentile bootstrap interval (1000 resamples, fixed seed)"
              + ("; (±x) is the change against the baseline" if baseline else "") + ".", ""]
    metric_list = _metrics(summary)
    groups = [("All items", ["all"])] + [
        (f"By {g}", [n for n in summary if n.startswith(f"{g}:")]) for g in SLICE_GROUPS]
    for title, names in groups:
        parts = [summary[n] for n in names]
        if not parts:
            continue
        lines += [f"## {title}", "",
                  "| metric | " + " | ".join(f"{p.name} (n={p.n})" for p in parts) + " |",
                  "|---" * (len(parts) + 1) + "|"]
        for metric in metric_list:
            cells = [_cell(p, metric, baseline) for p in parts]
            if any(c != "–" for c in cells):
                lines.append(f"| {metric} | " + " | ".join(cells) + " |")
        charts = [_bar_chart(m, parts) for m in CHART_METRICS if any(m in p.stats for p in parts)]
        if charts:
            lines += ["", "```text"] + [line for chart in charts for line in [*chart, ""]][:-1]
            lines += ["```"]
        lines.append("")
    lines += _failures(failures) + _misses(rows)
    return "\n".join(lines) + "\n"


def _failures(failures: Sequence[Failure]) -> list[str]:
    if not failures:
        return ["## Thresholds", "", "All thresholds passed.", ""]
    return ["## Threshold failures", ""] + [f"- {describe(f)}" for f in failures] + [""]


def _misses(rows: Sequence[Row]) -> list[str]:
    bad = [r for r in rows if r.answerable and r.values.get("passage.hit@4", 1.0) < 1]
    if not bad:
        return []
    lines = ["## Questions without an evidence passage in the top 4", "",
             "| id | direction | question | top sources |", "|---|---|---|---|"]
    for r in bad:
        top = ", ".join(f"{h.source[:3]}:{h.start}-{h.end}{'*' if h.doc else ''}"
                        for h in r.retrieved[:4])
        question = r.question.replace("|", "\\|")
        lines.append(f"| {r.id} | {r.direction} | {question} | {top or '(none)'} |")
    return lines + ["", "`*` marks a passage from a relevant document (wrong span).", ""]


def print_summary(summary: Mapping[str, SliceSummary], console: Any = None) -> None:
    """Headline tables on the terminal: all items and per language, then per direction."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    for title, prefixes in (("by language", ("all", "language:")), ("by direction",
                                                                    ("direction:",))):
        names = [n for n in summary if n.startswith(prefixes) and not n.endswith("->none")]
        table = Table(title=f"OncoQA evaluation {title} (95% CI)")
        table.add_column("metric")
        for name in names:
            table.add_column(f"{name.partition(':')[2] or name} (n={summary[name].n})",
                             justify="right")
        for metric in _metrics(summary):
            cells = [_short(summary[n], metric) for n in names]
            if any(c != "–" for c in cells):
                table.add_row(metric, *cells)
        console.print(table)


def write_comparison(out: Path, summaries: Mapping[str, Mapping[str, SliceSummary]],
                     config: Mapping[str, Any]) -> Path:
    """comparison.md: the answer metrics of several designs (e.g. select vs compose), measured
    in one run on the same items, side by side per language."""
    out.mkdir(parents=True, exist_ok=True)
    designs = list(summaries)
    lines = ["# Answer designs side by side", ""]
    lines += [f"- **{k}**: {v}" for k, v in config.items()]
    lines += ["", "Each design answered the same items in the same run; values are means with "
              "95% bootstrap intervals.", ""]
    for part in ("all", "language:en", "language:zh"):
        rows = [(d, summaries[d].get(part)) for d in designs]
        if all(s is None for _, s in rows):
            continue
        lines += [f"## {part}", "", "| metric | " + " | ".join(
            f"{d} (n={s.n if s else 0})" for d, s in rows) + " |",
            "|---" * (len(rows) + 1) + "|"]
        names = [m for m in _metrics({d: s for d, s in rows if s is not None})
                 if m.startswith(("answer.", "latency."))]
        for metric in names:
            lines.append(f"| {metric} | " + " | ".join(_cell(s, metric, None) for _, s in rows)
                         + " |")
        lines.append("")
    path = out / "comparison.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
