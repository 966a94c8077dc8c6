"""An evaluation run without the command line: one function, and a job that runs it in a thread."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, cast

from core.errors import OncoQAError
from core.settings import Settings
from eval.components import Builders, Design

log = logging.getLogger(__name__)
Mode = Literal["retrieval", "answer"]
State = Literal["idle", "running", "done", "failed"]
Progress = Callable[[int, int, str], None]  # (done, total, what): eval.run's callback


@dataclass(frozen=True)
class EvalRequest:
    """What the console asks for; llm None means the configured generator."""

    mode: Mode = "retrieval"
    llm: str | None = None
    split: str = "all"


@dataclass(frozen=True)
class EvalOutcome:
    results: Path
    markdown: Path
    failures: tuple[str, ...]
    items: int
    errors: int
    seconds: float


@dataclass(frozen=True)
class JobStatus:
    state: State = "idle"
    request: EvalRequest | None = None
    done: int = 0
    total: int = 0
    step: str = ""  # the item being evaluated, or what is being prepared
    started: float = 0.0
    finished: float = 0.0
    outcome: EvalOutcome | None = None
    error: str = ""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


def run_evaluation(settings: Settings, builders: Builders, request: EvalRequest, out: Path,
                   progress: Progress | None = None, gold_files: Sequence[Path] = (),
                   thresholds_file: Path | None = None) -> EvalOutcome:
    """What `oncoqa eval` does for one design (results.json and summary.md in out), without
    printing; progress(done, total, item) after every item, (0, total, step) while preparing."""
    from eval import components, report, run, thresholds
    from eval.gold import Evidence, default_gold_files, load_gold
    from eval.summary import summarize

    report_progress = progress or (lambda done, total, step: None)
    settings = components.configure(settings, llm=request.llm)
    files = list(gold_files) or default_gold_files()
    items = components.in_split(load_gold(files), request.split)
    if not items:
        raise OncoQAError(f"no gold items in the {request.split!r} split",
                          hint="choose another split")
    limits = thresholds.load_thresholds(thresholds_file or thresholds.DEFAULT_THRESHOLDS)
    evidence = Evidence(settings.corpus_dir)
    evidence.check(items)
    started = time.perf_counter()
    report_progress(0, len(items), "loading the embedding model")
    embeddings = builders.embeddings(settings)
    if request.mode == "retrieval":
        report_progress(0, len(items), "opening the index")
        searcher = builders.retriever(settings, embeddings)
        rows = run.run_retrieval(items, searcher, evidence, settings.retrieval.k, progress)
    else:
        report_progress(0, len(items), "loading the answer chain")
        design = cast(Design, settings.answer.design)
        answerer = builders.answerers(settings, (design,), embeddings)[design]
        rows = run.run_answers(items, answerer, evidence, settings.retrieval.k, progress)
    seconds = time.perf_counter() - started
    config = components.describe(settings, request.mode) | {
        "gold": [str(f) for f in files], "split": request.split, "seconds": round(seconds, 1),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"), "from": "console",
    }
    summary = summarize(rows)
    failures, _ = thresholds.check(limits, summary, rows)
    results, markdown = report.write_report(out, rows, summary, config, failures)
    return EvalOutcome(results, markdown, tuple(thresholds.describe(f) for f in failures),
                       len(rows), sum(bool(r.error) for r in rows), seconds)


def save_baseline(results: Path, baseline: Path) -> Path:
    """Keep a copy of a results.json as the baseline later runs are compared with."""
    if not results.is_file():
        raise OncoQAError("there is no evaluation result to keep yet",
                          hint="run an evaluation first")
    baseline.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(results, baseline)
    return baseline


class EvalJob:
    """One evaluation at a time, in a background thread; status() can be polled from anywhere."""

    def __init__(self, run: Callable[[EvalRequest, Progress], EvalOutcome]) -> None:
        self._run = run
        self._lock = threading.Lock()
        self._status = JobStatus()

    def status(self) -> JobStatus:
        with self._lock:
            return self._status

    def start(self, request: EvalRequest) -> bool:
        """Starts a run; False (and nothing started) when one is already running."""
        with self._lock:
            if self._status.state == "running":
                return False
            self._status = JobStatus("running", request, started=time.time(), step="starting")
        threading.Thread(target=self._work, args=(request,), name="oncoqa-console-eval",
                         daemon=True).start()
        return True

    def _progress(self, done: int, total: int, step: str) -> None:
        with self._lock:
            self._status = replace(self._status, done=done, total=total, step=step)

    def _work(self, request: EvalRequest) -> None:
        try:
            outcome = self._run(request, self._progress)
        except OncoQAError as exc:
            self._finish(error=exc.friendly())
        except Exception as exc:  # a thread has no caller to raise to: show it, log it
            log.exception("the console evaluation failed")
            self._finish(error=f"{type(exc).__name__}: {exc}")
        else:
            self._finish(outcome=outcome)

    def _finish(self, outcome: EvalOutcome | None = None, error: str = "") -> None:
        with self._lock:
            self._status = replace(self._status, state="failed" if error else "done",
                                   outcome=outcome, error=error, finished=time.time())
