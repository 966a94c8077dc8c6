"""`oncoqa bench`: run the benchmarks and write bench/out/latest.{json,md} and bench/RESULTS.md."""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from bench.parts import BenchParts
from bench.report import RESULTS_MD, build_report, write_report
from bench.run import STAGES, BenchConfig, quick_config, run_all
from bench.run import merge as merge_results
from core.errors import OncoQAError
from core.settings import Settings

OUT_DIR = Path(__file__).resolve().parent / "out"


def _sizes(value: str | None) -> tuple[int, ...] | None:
    if not value:
        return None
    try:
        return tuple(int(part.replace("_", "").replace("k", "000")) for part in value.split(","))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a comma list of sizes like 1k,10k") from exc


def bench_command(parts: BenchParts) -> click.Command:
    """The `bench` command, measuring what parts build."""

    @click.command("bench")
    @click.option("--quick", is_flag=True,
                  help="Tiny sizes: checks the benchmark runs (minutes).")
    @click.option("--chunks", type=int, default=None,
                  help="Ingestion corpus size (default 10000).")
    @click.option("--sizes", default=None, help="Retrieval index sizes (default 1k,10k,100k).")
    @click.option("--llm-questions", type=int, default=None,
                  help="Gold questions per language for answer latency (default 12).")
    @click.option("--concurrency", type=int, default=None, help="Simultaneous conversations (16).")
    @click.option("--stack-apps", type=int, default=None,
                  help="App processes of the serving topology, stage stack (default 2).")
    @click.option("--request-timeout", type=float, default=None,
                  help="Seconds each app request may take (default 600).")
    @click.option("--only", multiple=True, type=click.Choice(STAGES),
                  help="Run only these stages (repeatable).")
    @click.option("--merge", is_flag=True, help="Keep the stages this run skips from the "
                  "previous latest.json in --out (run stages at different times on a busy "
                  "machine).")
    @click.option("--skip-llm", is_flag=True, help="No local LLM: skip answer latency; the app "
                  "runs with the extractive backend.")
    @click.option("--skip-concurrency", is_flag=True,
                  help="Skip the app stage (memory + clients).")
    @click.option("--out", "out_dir", type=click.Path(path_type=Path), default=OUT_DIR,
                  show_default=True, help="Where latest.json and latest.md go.")
    @click.option("--results-md", type=click.Path(path_type=Path), default=None,
                  help="Also write the Markdown here (default: bench/RESULTS.md for full runs "
                  "and --only with --merge; nowhere for --quick or --only alone).")
    @click.pass_context
    def command(ctx: click.Context, quick: bool, chunks: int | None, sizes: str | None,
                llm_questions: int | None, concurrency: int | None, stack_apps: int | None,
                request_timeout: float | None, only: tuple[str, ...], merge: bool,
                skip_llm: bool, skip_concurrency: bool, out_dir: Path,
                results_md: Path | None) -> None:
        """Benchmark ingestion, retrieval, answer latency, memory and concurrency."""
        # every stage, and the apps it starts, run without the phrase memory
        settings = (ctx.obj if isinstance(ctx.obj, Settings) else Settings()).timed()
        config = quick_config() if quick else BenchConfig()
        updates: dict[str, Any] = {"skip_llm": skip_llm, "skip_concurrency": skip_concurrency}
        for key, value in (("chunks", chunks), ("retrieval_sizes", _sizes(sizes)),
                           ("llm_questions", llm_questions), ("concurrency", concurrency),
                           ("stack_apps", stack_apps),
                           ("request_timeout", request_timeout),
                           ("stages", only or None)):
            if value is not None:
                updates[key] = value
        config = replace(config, **updates)
        target = results_target(quick=quick, only=only, merge=merge, results_md=results_md)

        def log(message: str) -> None:
            click.echo(message, err=True)

        try:
            with tempfile.TemporaryDirectory(prefix="oncoqa-bench-") as work:
                results = run_all(config, settings, Path(work), parts, log=log)
        except OncoQAError as exc:
            raise click.ClickException(exc.friendly()) from exc
        previous = out_dir / "latest.json"
        if merge and previous.exists():
            results = merge_results(results, json.loads(previous.read_text(encoding="utf-8")))
        report = build_report(results)
        for path in write_report(report, out_dir, target):
            log(f"wrote {path}")
        click.echo((out_dir / "latest.md").read_text(encoding="utf-8"))
        failed = [name for name, data in results["stages"].items() if "error" in data]
        if failed:
            log(f"stages failed: {', '.join(failed)}")
            sys.exit(1)

    return command


def results_target(*, quick: bool, only: tuple[str, ...], merge: bool,
                   results_md: Path | None) -> Path | None:
    """Where the Markdown report goes besides --out. bench/RESULTS.md holds every stage: a
    quick run, or a run of some stages that does not merge the others back, would replace it
    with a partial table, so neither writes it unless asked to with --results-md."""
    if results_md is not None:
        return results_md
    if quick or (only and not merge):
        return None
    return RESULTS_MD


def register(main: click.Group, parts: BenchParts) -> None:
    """Adds `bench` to the `oncoqa` command group; the entry point hands in the parts."""
    main.add_command(bench_command(parts))
