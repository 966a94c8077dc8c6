"""The `oncoqa eval` and `oncoqa eval-ablation` commands, attached to the main group by register."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from core.errors import OncoQAError

EVAL_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = EVAL_DIR / "reports" / "latest"


class EvalError(click.ClickException):
    """An evaluation that could not run (exit 2; exit 1 means a threshold failed)."""

    exit_code = 2


def register(main: click.Group) -> None:
    """Add the evaluation commands to the `oncoqa` group."""
    main.add_command(eval_command)
    main.add_command(ablation_command)


@click.command("eval")
@click.option("--gold", "gold_files", multiple=True, type=click.Path(path_type=Path),
              help="Gold JSONL file (repeatable; default: all of eval/gold/*.jsonl).")
@click.option("--mode", type=click.Choice(["retrieval", "answer"]), default="answer",
              show_default=True, help="Retriever only (fast) or the full answer chain.")
@click.option("--retriever", type=click.Choice(["hybrid", "dense", "bm25"]), default="hybrid",
              show_default=True, help="dense = BM25 weight 0; bm25 = dense weight 0.")
@click.option("--no-glossary", is_flag=True, help="Turn glossary expansion off (English terms "
              "for Chinese questions, synonyms for BM25).")
@click.option("--llm", type=click.Choice(["local", "openai", "extractive"]), default=None,
              help="Answer generator (default: the configured one).")
@click.option("--k", type=click.IntRange(1, 20), default=None, help="Passages retrieved.")
@click.option("--out", type=click.Path(path_type=Path), default=DEFAULT_OUT,
              show_default="eval/reports/latest",
              help="Report directory (results.json, summary.md).")
@click.option("--baseline", type=click.Path(path_type=Path), default=None,
              help="A previous results.json: show the change of every metric.")
@click.option("--thresholds", "thresholds_file", type=click.Path(path_type=Path), default=None,
              help="Thresholds TOML (default: eval/thresholds.toml).")
@click.pass_context
def eval_command(ctx: click.Context, gold_files: tuple[Path, ...], mode: str, retriever: str,
                 no_glossary: bool, llm: str | None, k: int | None, out: Path,
                 baseline: Path | None, thresholds_file: Path | None) -> None:
    """Evaluate retrieval (and answers) on the gold sets; exit 1 if a threshold fails."""
    try:
        failures = _evaluate(ctx.obj, gold_files, mode, retriever, no_glossary, llm, k, out,
                             baseline, thresholds_file)
    except OncoQAError as exc:
        raise EvalError(exc.friendly()) from exc
    if failures:
        ctx.exit(1)


def _evaluate(settings: Any, gold_files: tuple[Path, ...], mode: str, retriever: str,
              no_glossary: bool, llm: str | None, k: int | None, out: Path,
              baseline: Path | None, thresholds_file: Path | None) -> list[Any]:
    from eval import components, report, run, summary, thresholds
    from eval.gold import Evidence, default_gold_files, load_gold

    settings = components.configure(settings, retriever=retriever,  # type: ignore[arg-type]
                                    glossary=False if no_glossary else None, llm=llm, k=k)
    files = list(gold_files) or default_gold_files()
    items = load_gold(files)
    limits = thresholds.load_thresholds(thresholds_file or thresholds.DEFAULT_THRESHOLDS)
    base = report.load_baseline(baseline) if baseline else None
    evidence = Evidence(settings.corpus_dir)
    evidence.check(items)
    k_used = settings.retrieval.k
    started = time.perf_counter()
    with run.progress_bar(f"eval ({mode})", len(items)) as progress:
        if mode == "retrieval":
            searcher = components.open_retriever(settings)
            rows = run.run_retrieval(items, searcher, evidence, k_used, progress)
        else:
            from oncoqa.wiring import build_answerer

            rows = run.run_answers(items, build_answerer(settings), evidence, k_used, progress)
    config = components.describe(settings, mode) | {
        "gold": [str(f) for f in files], "seconds": round(time.perf_counter() - started, 1),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    parts = summary.summarize(rows)
    failures, skipped = thresholds.check(limits, parts, rows)
    results, markdown = report.write_report(out, rows, parts, config, failures, base)
    report.print_summary(parts)
    for row in rows:
        if row.error:
            click.echo(f"error on {row.id}: {row.error}", err=True)
    click.echo(f"wrote {results} and {markdown}")
    click.echo(f"thresholds: {len(limits) - len(skipped) - len(failures)} passed, "
               f"{len(failures)} failed, {len(skipped)} not applicable to this run")
    for failure in failures:
        click.secho(thresholds.describe(failure), fg="red")
    return failures


@click.command("eval-ablation")
@click.option("--gold", "gold_files", multiple=True, type=click.Path(path_type=Path),
              help="Gold JSONL file (repeatable; default: all of eval/gold/*.jsonl).")
@click.option("--k", type=click.IntRange(1, 20), default=None, help="Passages retrieved.")
@click.option("--with-translate", is_flag=True,
              help="Also run hybrid + LLM query translation (needs an available LLM).")
@click.option("--out", type=click.Path(path_type=Path), default=EVAL_DIR / "ablation.md",
              show_default="eval/ablation.md", help="Markdown file to write.")
@click.pass_context
def ablation_command(ctx: click.Context, gold_files: tuple[Path, ...], k: int | None,
                     with_translate: bool, out: Path) -> None:
    """Compare dense, BM25, hybrid without and with glossary (retrieval mode)."""
    from eval import ablation
    from eval.gold import default_gold_files, load_gold
    from eval.run import progress_bar

    try:
        items = load_gold(list(gold_files) or default_gold_files())
        result = ablation.run_ablation(ctx.obj, items, k=k, with_translate=with_translate,
                                       bar=progress_bar)
    except OncoQAError as exc:
        raise EvalError(exc.friendly()) from exc
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(ablation.render(result), encoding="utf-8")
    ablation.print_table(result)
    click.echo(f"wrote {out}")
