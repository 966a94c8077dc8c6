"""`oncoqa ui`: make sure there is an index, build the engine, hand it to the app."""

from __future__ import annotations

import functools
import logging
import os

from core.settings import Settings
from oncoqa.wiring import build_answerer, ensure_index, index_status
from ui.chat import Engine


def build_engine(settings: Settings) -> Engine:
    """The app's engine: the answerer is built on first use (or by the warm-up thread)."""
    return Engine(settings, build=functools.partial(build_answerer, settings),
                  index_status=functools.partial(index_status, settings))


def serve(settings: Settings) -> None:
    """Ingest the corpus if there is no index yet, then serve the app until interrupted."""
    from ui.app import serve as serve_app

    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    ensure_index(settings)
    serve_app(settings, build_engine(settings))
