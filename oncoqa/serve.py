"""`oncoqa ui`: make sure there is an index, build the engine (and the console's actions), hand
them to the app."""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from core.settings import Settings
from oncoqa.wiring import build_answerer, build_embeddings, ensure_index, index_status
from ui.chat import Engine

if TYPE_CHECKING:
    from ingest.embeddings import CountingEmbeddings


def build_engine(settings: Settings,
                 embeddings: Callable[[], CountingEmbeddings] | None = None) -> Engine:
    """The app's engine: the answerer is built on first use (or by the warm-up thread), over
    the embedder `embeddings` makes (when given, so the console's ingest can share it)."""
    def build() -> Any:
        return build_answerer(settings, embeddings() if embeddings else None)

    return Engine(settings, build=build, index_status=functools.partial(index_status, settings))


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
