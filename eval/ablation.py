"""Retrieval ablation: dense, BM25, hybrid without/with glossary (and LLM translation)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from core.settings import Settings
from eval import components
from eval.gold import Evidence, GoldItem
from eval.run import Progress, run_retrieval
from eval.summary import SliceSummary, summarize

COLUMNS = ("hit@1", "hit@4", "mrr", "ndcg@4")
Bar = Callable[[str, int], AbstractContextManager[Progress]]


@dataclass(frozen=True)
class Variant:
    name: str
    retriever: components.RetrieverKind
    glossary: bool
    translate: bool = False


VARIANTS = (
    Variant("dense only", "dense", glossary=True),
    Variant("BM25 only", "bm25", glossary=True),
    Variant("hybrid, no glossary", "hybrid", glossary=False),
    Variant("hybrid + glossary (default)", "hybrid", glossary=True),
)
TRANSLATE = Variant("hybrid + glossary + LLM translation", "hybrid", glossary=True,
                    translate=True)


@dataclass(frozen=True)
class AblationResult:
    runs: tuple[tuple[Variant, dict[str, SliceSummary]], ...]
    k: int
    items: int
    notes: tuple[str, ...] = ()


def run_ablation(settings: Settings, items: Sequence[GoldItem], builders: components.Builders,
                 *, k: int | None = None, with_translate: bool = False, embeddings: Any = None,
                 bar: Bar | None = None) -> AblationResult:
    """Retrieval-mode summaries of every variant on the same index and gold items."""
    embeddings = embeddings or builders.embeddings(settings)
    evidence = Evidence(settings.corpus_dir)
    variants = list(VARIANTS)
    notes = []
    if with_translate:
        if builders.llm_available(settings):
            variants.append(TRANSLATE)
        else:
            notes.append(f"LLM translation skipped: the {settings.llm.backend} LLM is not "
                         "available here.")
    runs = []
    for variant in variants:
        configured = components.configure(settings, retriever=variant.retriever,
                                          glossary=variant.glossary,
                                          translate=variant.translate, k=k)
        retriever = builders.retriever(configured, embeddings)
        k_used = configured.retrieval.k
        if bar is None:
            rows = run_retrieval(items, retriever, evidence, k_used)
        else:
            with bar(variant.name, len(items)) as progress:
                rows = run_retrieval(items, retriever, evidence, k_used, progress)
        runs.append((variant, summarize(rows)))
    k_final = components.configure(settings, k=k).retrieval.k
    return AblationResult(tuple(runs), k_final, len(items), tuple(notes))


def _value(part: SliceSummary | None, metric: str) -> float | None:
    stat = part.stats.get(metric) if part else None
    return stat.value if stat else None


def _slice_names(result: AblationResult) -> list[str]:
    names: list[str] = []
    for _, parts in result.runs:
        names += [n for n in parts if n.startswith(("language:", "direction:"))
                  and n not in names and not n.endswith("->none")]
    return names


def _table(result: AblationResult, slice_name: str) -> list[str]:
    metrics = [f"{level}.{c}" for level in ("doc", "passage") for c in COLUMNS]
    best = {m: max((_value(p.get(slice_name), m) or 0.0) for _, p in result.runs) for m in metrics}
    n = next((p[slice_name].n for _, p in result.runs if slice_name in p), 0)
    lines = [f"### {slice_name} (n={n})", "",
             "| variant | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    for variant, parts in result.runs:
        cells = []
        for m in metrics:
            v = _value(parts.get(slice_name), m)
            text = "–" if v is None else f"{v:.3f}"
            cells.append(f"**{text}**" if v is not None and v == best[m] and v > 0 else text)
        lines.append(f"| {variant.name} | " + " | ".join(cells) + " |")
    return lines + [""]


def _best(result: AblationResult, slice_name: str) -> tuple[Variant, float, float] | None:
    scored = [(_value(p.get(slice_name), "passage.mrr"), _value(p.get(slice_name), "doc.hit@4"), v)
              for v, p in result.runs]
    valid = [(a, b, v) for a, b, v in scored if a is not None and b is not None]
    if not valid:
        return None
    a, b, v = max(valid, key=lambda t: (t[0], t[1]))
    return v, a, b


def conclusion(result: AblationResult) -> str:
    """One paragraph, generated from the numbers: the best variant per language."""
    sentences = []
    for lang, label in (("en", "English"), ("zh", "Chinese")):
        best = _best(result, f"language:{lang}")
        if best:
            variant, mrr, hit4 = best
            sentences.append(f"For {label} questions the best variant is {variant.name} "
                             f"(passage MRR {mrr:.3f}, document hit@4 {hit4:.3f}).")
    by_name = {v.name: p for v, p in result.runs}
    with_g, without = by_name.get(VARIANTS[3].name), by_name.get(VARIANTS[2].name)
    for slice_name, label in (("language:zh", "Chinese questions"),
                              ("direction:zh->en", "Chinese questions about English documents")):
        a = _value(with_g.get(slice_name) if with_g else None, "passage.mrr")
        b = _value(without.get(slice_name) if without else None, "passage.mrr")
        if a is not None and b is not None:
            sentences.append(f"The glossary changes passage MRR on {label} by {a - b:+.3f} "
                             f"({b:.3f} -> {a:.3f}).")
    en_best = _best(result, "language:en")
    zh_best = _best(result, "language:zh")
    if en_best and zh_best:
        same = en_best[0] == zh_best[0]
        sentences.append("One configuration is best for both languages." if same else
                         "The languages prefer different configurations; the default should be "
                         "chosen by the language mix of real questions.")
    return " ".join(sentences) or "No answerable items: nothing to compare."


def render(result: AblationResult) -> str:
    lines = ["# Retrieval ablation", "",
             f"Retrieval mode, top {result.k} passages, {result.items} gold items (answerable "
             "ones are scored). Document level ranks distinct sources; passage level counts a "
             "chunk as relevant when it overlaps an evidence quote. Best value per column in "
             "bold.", ""]
    lines += [f"> {note}" for note in result.notes] + ([""] if result.notes else [])
    for slice_name in _slice_names(result):
        lines += _table(result, slice_name)
    lines += ["## Conclusion", "", conclusion(result), ""]
    return "\n".join(lines)


def print_table(result: AblationResult, console: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title=f"Ablation (retrieval, k={result.k}): passage MRR / doc hit@4")
    table.add_column("variant")
    names = _slice_names(result)
    for name in names:
        table.add_column(name.partition(":")[2], justify="right")
    for variant, parts in result.runs:
        table.add_row(variant.name, *[
            f"{_value(parts.get(n), 'passage.mrr') or 0:.3f} / "
            f"{_value(parts.get(n), 'doc.hit@4') or 0:.3f}" for n in names])
    console.print(table)
    console.print(conclusion(result))
