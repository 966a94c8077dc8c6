"""`oncoqa ui`: make sure there is an index, build the engine (and the console's actions), hand
them to the app."""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from core.settings import Settings
from oncoqa.wiring import (
    build_answerer,
    build_embeddings,
    ensure_index,
    index_status,
    index_version,
    pretranslation,
)
from ui.chat import Engine

if TYPE_CHECKING:
    from ingest.embeddings import CountingEmbeddings


log = logging.getLogger(__name__)


def build_engine(settings: Settings,
                 embeddings: Callable[[], CountingEmbeddings] | None = None) -> Engine:
    """The app's engine: the answerer is built on first use (or by the warm-up thread), over
    the embedder `embeddings` makes (when given, so the console's ingest can share it). With
    answer.pretranslate, the warm-up thread then translates the index's sentences ahead
    whenever no conversation is being answered."""
    def build() -> Any:
        return build_answerer(settings, embeddings() if embeddings else None)

    idle = pretranslate_when_idle if settings.answer.pretranslate else None
    return Engine(settings, build=build, index_status=functools.partial(index_status, settings),
                  idle_work=idle)


def pretranslate_when_idle(answerer: Any, wait_idle: Callable[[], bool], *,
                           poll: float = 30.0,
                           keep_going: Callable[[], bool] = lambda: True) -> None:
    """Translate ahead (qa.pretranslate) one attempt per sentence, each step started only when
    no conversation is being answered, so a reader waits for at most one short model call.
    Runs again when an ingest (the console's, say) publishes a new index version, and after a
    model failure (ten polls later)."""
    translated = None
    while keep_going():
        version = index_version(answerer)
        wait = poll
        if version != translated:
            outcome = _pretranslate_once(answerer, wait_idle)
            if outcome is None:  # no model or no memory: nothing to do, ever
                return
            if outcome.failure:
                wait = 10 * poll
            else:
                translated = version
        if keep_going():
            time.sleep(wait)


def _pretranslate_once(answerer: Any, wait_idle: Callable[[], bool]) -> Any:
    from qa import pretranslate

    prepared = pretranslation(answerer)
    if prepared is None:
        return None
    phraser, work = prepared
    started = time.monotonic()
    log.info("translating %d sentences ahead, while the app is idle", len(work))

    def report(progress: pretranslate.Progress) -> None:
        if progress.done % 50 == 0:
            log.info("translated ahead: %d/%d", progress.done, progress.total)

    done = pretranslate.run(phraser, work, retry=False, proceed=wait_idle, report=report)
    if done.failure:
        log.warning("translating ahead stopped after %d/%d sentences: %s", done.done,
                    done.total, done.failure)
    else:
        log.info("translated ahead: %d new, %d quoted (no verified translation), %d known, "
                 "in %.0f s", done.translated, done.quoted, done.known,
                 time.monotonic() - started)
    return done


class _Shared:
    """One embedder for the chat and the console's ingest, made on first use."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._made: CountingEmbeddings | None = None

    def __call__(self) -> CountingEmbeddings:
        with self._lock:
            if self._made is None:
                self._made = build_embeddings(self._settings)
            return self._made


def serve(settings: Settings) -> None:
    """Ingest the corpus if there is no index yet, then serve the app (and, with a maintainer
    password, the console) until interrupted."""
    from oncoqa.maintain import Maintenance
    from ui.app import serve as serve_app

    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    ensure_index(settings)
    shared = _Shared(settings)
    engine = build_engine(settings, shared)
    console, tabs = None, []
    if settings.console.enabled:
        from oncoqa.console_insight import insight_tabs

        console, tabs = Maintenance(settings, shared).actions(), insight_tabs(settings)
    serve_app(settings, engine, console, tabs)
