"""The maintainer console's Evaluation and Feedback-to-gold tabs; their actions are handed in."""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import gradio as gr

from core.errors import OncoQAError
from ui.i18n import t

POLL_SECONDS = 1.0


class Cited(Protocol):
    @property
    def n(self) -> int: ...
    @property
    def source(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


class FeedbackRecord(Protocol):
    @property
    def line(self) -> int: ...
    @property
    def time(self) -> str: ...
    @property
    def rating(self) -> str: ...
    @property
    def comment(self) -> str: ...
    @property
    def question(self) -> str: ...
    @property
    def answer(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def citations(self) -> Sequence[Cited]: ...


class PassageText(Cited, Protocol):
    @property
    def text(self) -> str: ...
    @property
    def problem(self) -> str: ...
    @property
    def suggested(self) -> str: ...  # a first quote to cut down (fits the gold length limit)


class Checked(Protocol):
    @property
    def errors(self) -> Sequence[str]: ...
    @property
    def item(self) -> dict[str, Any] | None: ...
    @property
    def written(self) -> bool: ...
    @property
    def count(self) -> int: ...


@dataclass(frozen=True)
class EvalProgress:
    """The console's evaluation job, as the tab shows it."""

    running: bool
    done: int = 0
    total: int = 0
    step: str = ""
    seconds: float = 0.0
    error: str = ""
    items: int = 0  # of the finished run
    errors: int = 0
    failures: tuple[str, ...] = ()
    version: str = ""  # changes whenever the results or the baseline on disk change


@dataclass(frozen=True)
class EvalFigures:
    """The latest results drawn (figures are whatever gr.Plot shows, e.g. matplotlib)."""

    results: Path | None
    described: str = ""  # date and mode of the results shown
    hits: Any = None
    levels: Any = None
    latency: Any = None
    baseline: Any = None  # None: no baseline saved yet


@dataclass(frozen=True)
class CandidateForm:
    line: int  # the feedback record's line
    answerable: bool
    source: str
    quote: str
    key_facts: str  # one per line, forms separated by |
    note: str


@dataclass(frozen=True)
class InsightActions:
    """What the tabs can do, built by the entry point (oncoqa.console_insight)."""

    modes: tuple[str, ...]  # "retrieval", "answer" (the configured generator), "extractive"
    backend: str
    start_eval: Callable[[str, str], bool]  # (mode, split) -> False when one is running
    eval_progress: Callable[[], EvalProgress]
    eval_figures: Callable[[], EvalFigures]
    save_baseline: Callable[[], Path]
    review: Callable[[], Sequence[FeedbackRecord]]
    passages: Callable[[int], Sequence[PassageText]]
    add_candidate: Callable[[CandidateForm], Checked]
    check_candidates: Callable[[], Checked]
    candidates_file: Path


def progress_html(p: EvalProgress, lang: str = "en") -> str:
    """The status line (and a progress bar while running) of the evaluation tab."""
    if p.running:
        bar = f'<progress value="{p.done}" max="{max(p.total, 1)}" style="width:100%"></progress>'
        text = t(lang, "ins_running", done=p.done, total=p.total, step=p.step, seconds=p.seconds)
        return f"{bar}<div>{html.escape(text)}</div>"
    if p.error:
        return f"<div>{html.escape(t(lang, 'ins_failed', error=p.error))}</div>"
    if not p.items:
        return ""
    limits = (t(lang, "ins_thresholds_failed", n=len(p.failures)) if p.failures
              else t(lang, "ins_thresholds_ok"))
    return "<div>" + html.escape(t(lang, "ins_done", items=p.items, seconds=p.seconds,
                                   errors=p.errors, thresholds=limits)) + "</div>"


def failures_markdown(p: EvalProgress) -> str:
    return "\n".join(f"- {f}" for f in p.failures)


def feedback_rows(items: Sequence[FeedbackRecord]) -> list[list[str]]:
    return [[str(i.line), i.time[:16].replace("T", " "), i.rating, i.language, i.question,
             i.comment] for i in items]


def feedback_choices(items: Sequence[FeedbackRecord]) -> list[tuple[str, int]]:
    return [(f"#{i.line} · {i.time[:10]} · {i.question[:70]}", i.line) for i in items]


def passage_choices(passages: Sequence[PassageText]) -> list[tuple[str, int]]:
    return [(f"[{p.n}] {p.title} ({p.source} {p.start}-{p.end})", index)
            for index, p in enumerate(passages)]


def verdict_markdown(verdict: Checked, path: Path, lang: str = "en", *,
                     whole_file: bool = False) -> str:
    problems = "\n".join(f"- {html.escape(e)}" for e in verdict.errors)
    if whole_file:
        key = "ins_file_bad" if verdict.errors else "ins_file_ok"
        head = t(lang, key, path=path, count=verdict.count)
        return f"{head}\n\n{problems}" if verdict.errors else head
    if not verdict.written:
        return f"**{t(lang, 'ins_rejected')}**\n\n{problems}"
    item = verdict.item or {}
    # one key a line: the written line itself is one JSON object, too wide to read here
    line = "{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
                               for k, v in item.items()) + "\n}"
    return (f"**{t(lang, 'ins_accepted', id=item.get('id', '?'), path=path)}**\n\n"
            f"```json\n{line}\n```")


def evaluation_tab(actions: InsightActions, lang: str = "en") -> None:
    """The Evaluation tab's components and events, inside the caller's Blocks/Tab."""
    gr.Markdown(t(lang, "ins_eval_intro"))
    labels = {"retrieval": t(lang, "ins_mode_retrieval"),
              "answer": t(lang, "ins_mode_answer", backend=actions.backend),
              "extractive": t(lang, "ins_mode_extractive")}
    with gr.Row():
        mode = gr.Radio([(labels[m], m) for m in actions.modes], value=actions.modes[0],
                        label=t(lang, "ins_mode"), elem_id="ins-mode", scale=3)
        split = gr.Radio(["all", "dev", "test"], value="all", label=t(lang, "ins_split"),
                         scale=2)
    with gr.Row():
        run = gr.Button(t(lang, "ins_run"), variant="primary", elem_id="ins-run")
        keep = gr.Button(t(lang, "ins_save_baseline"), elem_id="ins-save-baseline")
        download = gr.DownloadButton(t(lang, "ins_download"), value=None, interactive=False,
                                     elem_id="ins-download")
    status = gr.HTML("", elem_id="ins-status")
    shown = gr.Markdown("", elem_id="ins-shown")
    with gr.Row():
        hits = gr.Plot(show_label=False, elem_id="ins-plot-hits")
        levels = gr.Plot(show_label=False, elem_id="ins-plot-levels")
    with gr.Row():
        latency = gr.Plot(show_label=False, elem_id="ins-plot-latency")
        with gr.Column():
            baseline = gr.Plot(show_label=False, elem_id="ins-plot-baseline")
            no_baseline = gr.Markdown("", elem_id="ins-no-baseline")
    with gr.Accordion(t(lang, "ins_failures"), open=False):
        failures = gr.Markdown("", elem_id="ins-failures")
    seen = gr.State("")
    timer = gr.Timer(POLL_SECONDS, active=True)

    def start(chosen: str, part: str) -> str:
        started = actions.start_eval(chosen, part)
        gr.Info(t(lang, "ins_started" if started else "ins_busy"))
        return progress_html(actions.eval_progress(), lang)

    def poll(version: str) -> list[Any]:
        # The timer ticks for as long as the page is open (a run started from another
        # browser, or before a reload, shows too); figures are redrawn only when the results
        # or the baseline on disk changed.
        p = actions.eval_progress()
        if p.version == version and not p.running:
            return [gr.skip()] * 10
        if p.version == version:
            return [progress_html(p, lang), failures_markdown(p), *[gr.skip()] * 8]
        f = actions.eval_figures()
        described = (t(lang, "ins_shown", path=f.results, described=f.described)
                     if f.results else t(lang, "ins_idle"))
        return [progress_html(p, lang), failures_markdown(p), p.version,
                described, f.hits, f.levels, f.latency, f.baseline,
                "" if f.baseline is not None or f.results is None else t(lang, "ins_no_baseline"),
                gr.DownloadButton(value=f.results, interactive=f.results is not None)]

    def save() -> Any:
        try:
            path = actions.save_baseline()
        except OncoQAError as exc:
            gr.Warning(exc.friendly())
            return gr.skip()
        gr.Info(t(lang, "ins_baseline_saved", path=path))
        return ""  # forces a redraw on the next tick

    run.click(start, [mode, split], [status], api_visibility="private")
    timer.tick(poll, [seen], [status, failures, seen, shown, hits, levels, latency, baseline,
                              no_baseline, download], api_visibility="private",
               show_progress="hidden")
    keep.click(save, None, [seen], api_visibility="private")


def feedback_tab(actions: InsightActions, lang: str = "en") -> None:
    """The Feedback-to-gold tab's components and events, inside the caller's Blocks/Tab."""
    gr.Markdown(t(lang, "ins_fb_intro", path=f"`{actions.candidates_file}`"))
    refresh = gr.Button(t(lang, "ins_fb_refresh"), size="sm", elem_id="ins-fb-refresh")
    table = gr.Dataframe(headers=["#", "time", "", "lang", "question", "comment"],
                         label=t(lang, "ins_fb_table"), interactive=False, wrap=True,
                         elem_id="ins-fb-table", max_height=260,
                         column_widths=["5%", "15%", "7%", "7%", "41%", "25%"])
    pick = gr.Dropdown([], label=t(lang, "ins_fb_pick"), elem_id="ins-fb-pick")
    with gr.Row():
        question = gr.Textbox(label=t(lang, "ins_question"), interactive=False, lines=2)
        comment = gr.Textbox(label=t(lang, "ins_comment"), interactive=False, lines=2)
    answer = gr.Textbox(label=t(lang, "ins_answer"), interactive=False, lines=3, max_lines=8)
    passage = gr.Radio([], label=t(lang, "ins_passage"), elem_id="ins-fb-passage")
    text = gr.Textbox(label=t(lang, "ins_passage_text"), interactive=False, lines=4,
                      max_lines=10, elem_id="ins-fb-passage-text")
    unanswerable = gr.Checkbox(label=t(lang, "ins_unanswerable"), elem_id="ins-fb-unanswerable")
    quote = gr.Textbox(label=t(lang, "ins_quote"), lines=3, elem_id="ins-fb-quote")
    with gr.Row():
        facts = gr.Textbox(label=t(lang, "ins_facts"), lines=2, elem_id="ins-fb-facts",
                           placeholder="shrink | 缩小\n6 weeks | 六周 | 6周")
        note = gr.Textbox(label=t(lang, "ins_note"), lines=2, elem_id="ins-fb-note")
    with gr.Row():
        add = gr.Button(t(lang, "ins_add"), variant="primary", elem_id="ins-fb-add")
        check = gr.Button(t(lang, "ins_check"), elem_id="ins-fb-check")
        download = gr.DownloadButton(t(lang, "ins_download_candidates"), value=None,
                                     interactive=False)
    verdict = gr.Markdown("", elem_id="ins-fb-verdict")
    loaded = gr.Timer(0.5, active=True)  # fills the list once the page is up

    def reload() -> list[Any]:
        items = actions.review()
        choices = feedback_choices(items)
        first = choices[0][1] if choices else None
        if not items:
            gr.Info(t(lang, "ins_fb_none"))
        return [feedback_rows(items), gr.Dropdown(choices=choices, value=first),
                gr.Timer(active=False)]

    def show(line: int | None) -> list[Any]:
        item = next((i for i in actions.review() if i.line == line), None)
        if item is None:
            return ["", "", "", gr.Radio(choices=[], value=None), "", ""]
        shown = actions.passages(item.line)
        choices = passage_choices(shown)
        first = shown[0] if shown else None  # filled here: the radio may keep its value (0)
        return [item.question, item.comment, item.answer,
                gr.Radio(choices=choices, value=choices[0][1] if choices else None),
                (first.problem or first.text) if first else "", first.suggested if first else ""]

    def choose(line: int | None, index: int | None) -> tuple[str, str]:
        shown = actions.passages(line) if line is not None else []
        if index is None or not 0 <= index < len(shown):
            return "", ""
        p = shown[index]
        return (p.problem or p.text), p.suggested

    def submit(line: int | None, index: int | None, none: bool, cut: str, typed: str,
               why: str) -> list[Any]:
        if line is None:
            return [t(lang, "ins_no_item"), gr.skip()]
        shown = actions.passages(line)
        source = shown[index].source if index is not None and 0 <= index < len(shown) else ""
        result = actions.add_candidate(CandidateForm(line, not none, source, cut, typed, why))
        return [verdict_markdown(result, actions.candidates_file, lang), _file_button(actions)]

    def check_all() -> list[Any]:
        result = actions.check_candidates()
        return [verdict_markdown(result, actions.candidates_file, lang, whole_file=True),
                _file_button(actions)]

    for event in (refresh.click, loaded.tick):
        event(reload, None, [table, pick, loaded], api_visibility="private")
    pick.change(show, [pick], [question, comment, answer, passage, text, quote],
                api_visibility="private")
    passage.input(choose, [pick, passage], [text, quote], api_visibility="private")
    add.click(submit, [pick, passage, unanswerable, quote, facts, note], [verdict, download],
              api_visibility="private")
    check.click(check_all, None, [verdict, download], api_visibility="private")


def _file_button(actions: InsightActions) -> Any:
    path = actions.candidates_file
    return gr.DownloadButton(value=path if path.exists() else None, interactive=path.exists())
