"""`oncoqa model-server`: llama-cpp-python's OpenAI-compatible server over the bundled GGUF, with
a meter of the time the model was busy (GET /oncoqa/busy)."""

from __future__ import annotations

import json
import time
from typing import Any

from core.settings import Settings
from qa.llm import check_gguf

BUSY_PATH = "/oncoqa/busy"


class BusyMeter:
    """ASGI middleware: the time at least one chat completion was in flight. The server runs
    one completion at a time (llama-cpp-python holds one context behind a lock), so this union
    of request intervals is the model's busy time, waiting requests included only while another
    one runs."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.in_flight = 0
        self.since = 0.0
        self.busy = 0.0
        self.requests = 0

    def snapshot(self) -> dict[str, float]:
        running = time.monotonic() - self.since if self.in_flight else 0.0
        return {"busy_seconds": round(self.busy + running, 3), "requests": self.requests,
                "in_flight": self.in_flight}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path == BUSY_PATH:
            body = json.dumps(self.snapshot()).encode()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        if scope["type"] != "http" or not path.endswith("/completions"):
            await self.app(scope, receive, send)
            return
        # One event loop thread runs this, so the counters need no lock.
        if not self.in_flight:
            self.since = time.monotonic()
        self.in_flight += 1
        self.requests += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            if not self.in_flight:
                self.busy += time.monotonic() - self.since


def build_app(settings: Settings, host: str, port: int) -> Any:
    """llama-cpp-python's FastAPI app for the configured GGUF, behind the busy meter."""
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    path = settings.gguf_path
    check_gguf(path)
    server = ServerSettings(
        host=host, port=port,
        # The default interrupts a streaming answer whenever another request arrives.
        interrupt_requests=False,
    )
    model = ModelSettings(
        model=str(path), model_alias=settings.llm.model, n_ctx=settings.llm.n_ctx,
        n_threads=settings.serve.model_threads, n_threads_batch=settings.serve.model_threads,
        n_batch=256, seed=7, verbose=False,
        logits_all=False,  # its default True keeps logits for every prompt token (n_ctx rows)
        # llama-cpp-python's RAM cache keeps a 148 MB copy of the logits buffer per entry that
        # its size limit does not count (see qa/llm.py); the server reuses the previous
        # request's prefix without it.
        cache=False,
    )
    return BusyMeter(create_app(server_settings=server, model_settings=[model]))


def serve(settings: Settings, host: str, port: int) -> None:
    """Serve until interrupted (uvicorn handles SIGINT and SIGTERM)."""
    import uvicorn

    uvicorn.run(build_app(settings, host, port), host=host, port=port, log_level="warning")
