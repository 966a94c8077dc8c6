"""The `oncoqa eval` and `oncoqa eval-ablation` commands, attached to the main group by register."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, cast

import click

from core.errors import OncoQAError
from core.settings import Settings
from eval.components import DESIGNS, SPLITS, Builders, Design, DesignRun

EVAL_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = EVAL_DIR / "reports" / "latest"


class EvalError(click.ClickException):
    """An evaluation that could not run (exit 2; exit 1 means a threshold failed)."""

    exit_code = 2


def register(main: click.Group, builders: Builders) -> None:
    """Add the evaluation commands to the `oncoqa` group; they measure what builders build."""
    main.add_command(eval_command(builders))
    main.add_command(ablation_command(builders))
    main.add_command(triage_command())
    main.add_command(override_command(builders))


def eval_command(builders: Builders) -> click.Command:
    @click.command("eval")
    @click.option("--gold", "gold_files", multiple=True, type=click.Path(path_type=Path),
                  help="Gold JSONL file (repeatable; default: all of eval/gold/*.jsonl).")
    @click.option("--mode", type=click.Choice(["retrieval", "answer"]), default="answer",
                  show_default=True, help="Retriever only (fast) or the full answer chain.")
    @click.option("--retriever", type=click.Choice(["hybrid", "dense", "bm25"]),
                  default="hybrid", show_default=True,
                  help="dense = BM25 weight 0; bm25 = dense weight 0.")
    @click.option("--no-glossary", is_flag=True, help="Turn glossary expansion off (English "
                  "terms for Chinese questions, synonyms for BM25).")
    @click.option("--llm", type=click.Choice(["local", "openai", "extractive"]), default=None,
                  help="Answer generator (default: the configured one).")
    @click.option("--k", type=click.IntRange(1, 20), default=None, help="Passages retrieved.")
    @click.option("--split", type=click.Choice(SPLITS), default="all", show_default=True,
                  help="Only the gold items of this split (dev: tuning, test: reporting).")
    @click.option("--design", type=click.Choice([*DESIGNS, "both"]), default="select",
                  show_default=True, help="Answer design; both runs the same items through "
                  "each design in one run (answer mode).")
    @click.option("--phrase-memory", is_flag=True, help="Answer with the data dir's phrase "
                  "memory (e.g. filled by `oncoqa pretranslate`) as the app does; by default "
                  "it is off, so the times are the model's.")
    @click.option("--out", type=click.Path(path_type=Path), default=DEFAULT_OUT,
                  show_default="eval/reports/latest",
                  help="Report directory (results.json, summary.md).")
    @click.option("--baseline", type=click.Path(path_type=Path), default=None,
                  help="A previous results.json: show the change of every metric.")
    @click.option("--thresholds", "thresholds_file", type=click.Path(path_type=Path),
                  default=None, help="Thresholds TOML (default: eval/thresholds.toml).")
    @click.pass_context
    def command(ctx: click.Context, **options: Any) -> None:
        """Evaluate retrieval (and answers) on the gold sets; exit 1 if a threshold fails."""
        try:
            failures = _evaluate(ctx.obj, builders, **options)
        except OncoQAError as exc:
            raise EvalError(exc.friendly()) from exc
        if failures:
            ctx.exit(1)

    return command


def _evaluate(settings: Settings, builders: Builders, *, gold_files: tuple[Path, ...],
              mode: str, retriever: str, no_glossary: bool, llm: str | None, k: int | None,
              split: str, design: str, out: Path, baseline: Path | None,
              thresholds_file: Path | None, phrase_memory: bool = False) -> list[Any]:
    from eval import components, report, run, thresholds
    from eval.gold import Evidence, default_gold_files, load_gold
    from eval.summary import summarize

    designs = DESIGNS if design == "both" else (cast(Design, design),)
    settings = components.configure(settings, retriever=retriever,  # type: ignore[arg-type]
                                    glossary=False if no_glossary else None, llm=llm, k=k,
                                    design=designs[0], phrase_memory=phrase_memory)
    files = list(gold_files) or default_gold_files()
    items = components.in_split(load_gold(files), split)
    if not items:
        raise EvalError(f"no gold items in the {split!r} split of {', '.join(map(str, files))}")
    limits = thresholds.load_thresholds(thresholds_file or thresholds.DEFAULT_THRESHOLDS)
    base = report.load_baseline(baseline) if baseline else None
    evidence = Evidence(settings.corpus_dir)
    evidence.check(items)
    k_used = settings.retrieval.k
    embeddings = builders.embeddings(settings)
    results: dict[str, tuple[list[Any], float]] = {}
    if mode == "retrieval":
        started = time.perf_counter()
        with run.progress_bar("eval (retrieval)", len(items)) as progress:
            searcher = builders.retriever(settings, embeddings)
            rows = run.run_retrieval(items, searcher, evidence, k_used, progress)
        results[designs[0]] = rows, time.perf_counter() - started
    else:
        answerers = builders.answerers(settings, designs, embeddings)
        for name, answerer in answerers.items():
            label = "eval (answer)" if len(designs) == 1 else f"eval (answer, {name})"
            started = time.perf_counter()
            with run.progress_bar(label, len(items)) as progress:
                rows = run.run_answers(items, answerer, evidence, k_used, progress)
            results[name] = rows, time.perf_counter() - started
    runs = {}
    for name, (rows, seconds) in results.items():
        named = components.configure(settings, design=cast(Design, name),
                                     phrase_memory=phrase_memory)
        config = components.describe(named, mode) | {
            "gold": [str(f) for f in files], "split": split, "seconds": round(seconds, 1),
            "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        parts = summarize(rows)
        failures, skipped = thresholds.check(limits, parts, rows)
        runs[name] = DesignRun(name, rows, parts, config, failures, skipped)
    written = _write(out, runs, base)
    for result in runs.values():
        if len(runs) > 1:
            click.secho(f"design: {result.design}", bold=True)
        report.print_summary(result.summary)
        for row in result.rows:
            if row.error:
                click.echo(f"error on {row.id}: {row.error}", err=True)
    click.echo(written)
    for result in runs.values():
        prefix = f"{result.design}: " if len(runs) > 1 else ""
        passed = len(limits) - len(result.skipped) - len(result.failures)
        click.echo(f"{prefix}thresholds: {passed} passed, {len(result.failures)} failed, "
                   f"{len(result.skipped)} not applicable to this run")
        for failure in result.failures:
            click.secho(prefix + thresholds.describe(failure), fg="red")
    return [failure for result in runs.values() for failure in result.failures]


def _write(out: Path, runs: dict[str, DesignRun], base: Any) -> str:
    """One report; with several designs, one report per design in its own subfolder of out,
    plus the side-by-side comparison when eval.report has one. Returns what was written."""
    from eval import report

    if len(runs) == 1:
        (result,) = runs.values()
        paths = report.write_report(out, result.rows, result.summary, result.config,
                                    result.failures, base)
        return f"wrote {paths[0]} and {paths[1]}"
    lines = []
    for name, result in runs.items():
        paths = report.write_report(out / name, result.rows, result.summary, result.config,
                                    result.failures, base)
        lines.append(f"wrote {paths[0]} and {paths[1]}")
    compare = getattr(report, "write_comparison", None)
    if compare is not None:
        first = next(iter(runs.values())).config
        shared = {k: v for k, v in first.items() if k not in ("design", "seconds")}
        config = shared | {"designs": ", ".join(runs), "seconds": ", ".join(
            f"{name} {result.config['seconds']}" for name, result in runs.items())}
        path = compare(out, {name: result.summary for name, result in runs.items()}, config)
        lines.append(f"wrote {path}")
    return "\n".join(lines)


def ablation_command(builders: Builders) -> click.Command:
    @click.command("eval-ablation")
    @click.option("--gold", "gold_files", multiple=True, type=click.Path(path_type=Path),
                  help="Gold JSONL file (repeatable; default: all of eval/gold/*.jsonl).")
    @click.option("--k", type=click.IntRange(1, 20), default=None, help="Passages retrieved.")
    @click.option("--with-translate", is_flag=True,
                  help="Also run hybrid + LLM query translation (needs an available LLM).")
    @click.option("--out", type=click.Path(path_type=Path), default=EVAL_DIR / "ablation.md",
                  show_default="eval/ablation.md", help="Markdown file to write.")
    @click.pass_context
    def command(ctx: click.Context, gold_files: tuple[Path, ...], k: int | None,
                with_translate: bool, out: Path) -> None:
        """Compare dense, BM25, hybrid without and with glossary (retrieval mode)."""
        from eval import ablation
        from eval.gold import default_gold_files, load_gold
        from eval.run import progress_bar

        try:
            items = load_gold(list(gold_files) or default_gold_files())
            result = ablation.run_ablation(ctx.obj, items, builders, k=k,
                                           with_translate=with_translate, bar=progress_bar)
        except OncoQAError as exc:
            raise EvalError(exc.friendly()) from exc
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(ablation.render(result), encoding="utf-8")
        ablation.print_table(result)
        click.echo(f"wrote {out}")

    return command


def triage_command() -> click.Command:
    @click.command("eval-triage")
    @click.option("--out", type=click.Path(path_type=Path),
                  default=EVAL_DIR / "reports" / "triage.md", show_default="eval/reports/triage.md",
                  help="Where to write the report.")
    @click.pass_context
    def command(ctx: click.Context, out: Path) -> None:
        """Red-flag triage on eval/gold/triage: recall per class and false alarms (no models
        needed); exit 1 if a threshold fails."""
        from eval import triage

        try:
            results = triage.summarize(triage.run(triage.load_items()))
        except OncoQAError as exc:
            raise EvalError(exc.friendly()) from exc
        report = triage.render(results)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report, encoding="utf-8")
        click.echo(report)
        if any(r.failures() for r in results):
            ctx.exit(1)

    return command


def override_command(builders: Builders) -> click.Command:
    @click.command("eval-override")
    @click.option("--out", type=click.Path(path_type=Path),
                  default=EVAL_DIR / "reports" / "injection.md",
                  show_default="eval/reports/injection.md", help="Where to write the report.")
    def command(out: Path) -> None:
        """The override check on qa/override_examples.jsonl and eval/gold/injection/held_out:
        attempts found and innocent messages refused, rules alone and with e5 neighbours."""
        from eval import override
        from qa.override import Neighbours

        settings = Settings()
        checks: dict[str, override.Check] = {"rules": override.by_rules}
        try:
            embeddings = builders.embeddings(settings)
            if settings.embedding.backend != "hash":
                neighbours = Neighbours(embeddings.embed_queries,
                                        margin=settings.answer.override_margin)
                checks["rules + e5"] = override.with_neighbours(neighbours)
            report = override.render(checks)
        except OncoQAError as exc:
            raise EvalError(exc.friendly()) from exc
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report, encoding="utf-8")
        click.echo(report)

    return command
