"""The console's Evaluation and Feedback-to-gold tabs, wired to the evaluation and the data dir."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from core.settings import Settings

if TYPE_CHECKING:
    from eval.candidates import FeedbackItem, ShownPassage, Verdict
    from eval.components import Builders
    from eval.job import EvalJob, EvalRequest
    from ui.insight import CandidateForm, EvalFigures, EvalProgress, InsightActions

MODES = ("retrieval", "answer", "extractive")


def eval_dir(settings: Settings) -> Path:
    """Where console runs write: latest/ (results.json, summary.md) and baseline/results.json.
    The data dir, not eval/reports/: the app may run from a read-only checkout."""
    return settings.data_dir / "eval"


def candidates_file(settings: Settings) -> Path:
    """Gold candidates from feedback: under the data dir (writable, next to the feedback they
    come from, which is patients' text and not for the repository); a maintainer moves the
    reviewed lines into eval/gold/*.jsonl."""
    from eval.candidates import CANDIDATES_NAME

    return settings.data_dir / CANDIDATES_NAME


def insight_tabs(settings: Settings) -> list[tuple[str, Callable[[], None]]]:
    """(label, builder) of the Evaluation and Feedback-to-gold tabs for the console's Blocks."""
    from ui.i18n import t
    from ui.insight import evaluation_tab, feedback_tab

    actions = insight_actions(settings)
    return [(t("en", "ins_eval_tab"), lambda: evaluation_tab(actions)),
            (t("en", "ins_fb_tab"), lambda: feedback_tab(actions))]


def insight_actions(settings: Settings, builders: Builders | None = None, *,
                    gold_files: Sequence[Path] = (),
                    thresholds_file: Path | None = None) -> InsightActions:
    """The tabs' actions over settings (builders: what the evaluation measures, by default
    what `oncoqa eval` measures)."""
    from eval.job import EvalJob, run_evaluation
    from oncoqa.wiring import eval_builders
    from ui.insight import InsightActions

    builders = builders or eval_builders()
    latest = eval_dir(settings) / "latest"
    job = EvalJob(lambda request, progress: run_evaluation(
        settings, builders, request, latest, progress, gold_files, thresholds_file))
    backend = settings.llm.backend
    modes = tuple(m for m in MODES if m == "retrieval" or (m == "extractive") or (
        m == "answer" and backend != "extractive" and builders.llm_available(settings)))
    return InsightActions(
        modes=modes, backend=backend,
        start_eval=lambda mode, split: job.start(_request(mode, split)),
        eval_progress=lambda: _progress(job, settings),
        eval_figures=lambda: _figures(settings),
        save_baseline=lambda: _save_baseline(settings),
        review=lambda: _review(settings),
        passages=lambda line: _passages(settings, line),
        add_candidate=lambda form: _add(settings, form),
        check_candidates=lambda: _check(settings),
        candidates_file=candidates_file(settings),
    )


def _request(mode: str, split: str) -> EvalRequest:
    from eval.job import EvalRequest

    if mode == "retrieval":
        # without the model's renderings of Chinese questions: the app's own model serves the
        # patients, and a second copy loaded for the run would compete with it for the cores
        return EvalRequest("retrieval", llm="extractive", split=split)
    return EvalRequest("answer", llm="extractive" if mode == "extractive" else None, split=split)


def _stamp(path: Path) -> str:
    return str(path.stat().st_mtime_ns) if path.exists() else "-"


def _progress(job: EvalJob, settings: Settings) -> EvalProgress:
    import time

    from ui.insight import EvalProgress

    s = job.status()
    results = eval_dir(settings) / "latest" / "results.json"
    baseline = eval_dir(settings) / "baseline" / "results.json"
    version = f"{s.state}:{_stamp(results)}:{_stamp(baseline)}"
    seconds = ((s.finished or time.time()) - s.started) if s.started else 0.0
    o = s.outcome
    return EvalProgress(
        running=s.state == "running", done=s.done, total=s.total, step=s.step,
        seconds=o.seconds if o else seconds, error=s.error, items=o.items if o else 0,
        errors=o.errors if o else 0, failures=o.failures if o else (), version=version)


def _figures(settings: Settings) -> EvalFigures:
    from eval import plots
    from ui.insight import EvalFigures

    path = eval_dir(settings) / "latest" / "results.json"
    if not path.exists():
        return EvalFigures(None)
    results = plots.load_results(path)
    config = results.config
    described = " · ".join(str(v) for v in (
        config.get("date"), config.get("mode"), config.get("llm"), config.get("retriever"),
        f"k={config.get('k')}", f"split {config.get('split')}", config.get("embedding"))
        if v is not None)
    baseline_path = eval_dir(settings) / "baseline" / "results.json"
    baseline = None
    if baseline_path.exists():
        baseline = plots.bar_figure(plots.against(results, plots.load_results(baseline_path)))
    return EvalFigures(path, described, plots.bar_figure(plots.by_slice(results)),
                       plots.bar_figure(plots.levels(results)), plots.latency_figure(results),
                       baseline)


def _save_baseline(settings: Settings) -> Path:
    from eval.job import save_baseline

    return save_baseline(eval_dir(settings) / "latest" / "results.json",
                         eval_dir(settings) / "baseline" / "results.json")


def _review(settings: Settings) -> list[FeedbackItem]:
    from eval.candidates import read_feedback, to_review

    return to_review(read_feedback(settings.feedback_file))


def _passages(settings: Settings, line: int) -> list[ShownPassage]:
    from eval.candidates import cited_passages

    item = next((i for i in _review(settings) if i.line == line), None)
    return cited_passages(item, settings.corpus_dir) if item else []


def _add(settings: Settings, form: CandidateForm) -> Verdict:
    from eval.candidates import CandidateInput, Verdict, add_candidate, parse_key_facts

    item = next((i for i in _review(settings) if i.line == form.line), None)
    if item is None:
        return Verdict((f"feedback item #{form.line} is no longer in {settings.feedback_file}",))
    choice = CandidateInput(item, form.answerable, form.source, form.quote.strip(),
                            parse_key_facts(form.key_facts), form.note)
    return add_candidate(choice, candidates_file(settings), settings.corpus_dir)


def _check(settings: Settings) -> Verdict:
    from eval.candidates import check_file

    return check_file(candidates_file(settings), settings.corpus_dir)
