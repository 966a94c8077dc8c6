"""The model side of serving: the prompt cache's memory bound, the model server's busy meter,
and (real model) the whole stack answering one conversation."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from core.settings import LLMSettings, Settings
from oncoqa.model_server import BUSY_PATH, BusyMeter
from qa import prompts
from qa.llm import make_llm, ram_cache
from tests.conftest import ROOT, free_port, models_dir


class _Recorder(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that remembers the request bodies it got."""

    bodies: list[dict[str, Any]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        length = int(self.headers.get("Content-Length", 0))
        _Recorder.bodies.append(json.loads(self.rfile.read(length)))
        reply = json.dumps({
            "id": "x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "ok"}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


def test_the_openai_backend_sends_the_token_cap_llama_cpp_reads() -> None:
    """llama-cpp-python's server ignores `max_completion_tokens` (langchain-openai's name for
    the cap) and would generate until the context is full."""
    from langchain_core.messages import HumanMessage

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = Settings(llm=LLMSettings(
            backend="openai", base_url=f"http://127.0.0.1:{server.server_port}/v1"))
        llm = make_llm(settings)
        assert llm is not None
        assert llm.invoke([HumanMessage(content="hi")], max_tokens=12).content == "ok"
        assert llm.invoke([HumanMessage(content="hi")]).content == "ok"
    finally:
        server.shutdown()
    first, second = _Recorder.bodies[-2:]
    assert first["max_tokens"] == 12 and "max_completion_tokens" not in first
    assert second["max_tokens"] == settings.llm.max_tokens


@pytest.mark.parametrize("takes_grammar", [True, False])
def test_the_yes_no_grammar_goes_in_the_body_only_to_a_server_that_takes_it(
        takes_grammar: bool) -> None:
    """llama.cpp's server reads `grammar` from the request body; the openai client would refuse
    it as an argument, and another API may reject the field (LLMSettings.grammar off)."""
    from langchain_core.messages import HumanMessage

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = Settings(llm=LLMSettings(
            backend="openai", base_url=f"http://127.0.0.1:{server.server_port}/v1",
            grammar=takes_grammar))
        llm = make_llm(settings)
        assert llm is not None
        reply = llm.invoke([HumanMessage(content="yes or no?")], max_tokens=3,
                           grammar=prompts.YES_NO_GRAMMAR)
        assert reply.content == "ok"
    finally:
        server.shutdown()
    body = _Recorder.bodies[-1]
    assert body.get("grammar") == (prompts.YES_NO_GRAMMAR if takes_grammar else None)


def _state(tokens: int, logits_rows: int, vocabulary: int) -> Any:
    from llama_cpp.llama import LlamaState

    return LlamaState(input_ids=np.arange(tokens, dtype=np.intc), n_tokens=tokens,
                      scores=np.zeros((logits_rows, vocabulary), dtype=np.single),
                      llama_state=b"\0" * 1000, llama_state_size=1000, seed=7)


def test_prompt_cache_limit_counts_the_logits_copy_of_each_entry() -> None:
    cache = ram_cache(64 << 20)
    for i in range(5):  # five different prompts, each entry holding 32 MB of logits
        state = _state(600 + i, 256, 32_768)
        cache[tuple(state.input_ids)] = state
    # llama-cpp-python's own count (1,000 bytes per entry) would have kept all five.
    assert len(cache.cache_state) == 1
    assert cache.cache_size <= 64 << 20


async def _call(meter: BusyMeter, path: str) -> bytes:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    await meter({"type": "http", "path": path}, receive, send)
    return b"".join(m.get("body", b"") for m in sent)


def test_busy_meter_counts_overlapping_completions_once() -> None:
    async def model(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await asyncio.sleep(0.3)  # the model answering
        await send({"type": "http.response.body", "body": b"{}"})

    meter = BusyMeter(model)

    async def scenario() -> dict[str, float]:
        await asyncio.gather(_call(meter, "/v1/chat/completions"),
                             _call(meter, "/v1/chat/completions"))
        await _call(meter, "/v1/models")  # not a completion: not counted
        return dict(json.loads(await _call(meter, BUSY_PATH)))

    busy = asyncio.run(scenario())
    assert busy["requests"] == 2 and busy["in_flight"] == 0
    assert 0.28 <= busy["busy_seconds"] < 0.55  # one 0.3 s interval, not two


@pytest.mark.real_llm
@pytest.mark.real_embedding
@pytest.mark.server
@pytest.mark.slow
def test_the_stack_answers_a_conversation_with_the_real_models(tmp_path: Path) -> None:
    """`make test` at small size: start the stack (store, model server, one app) on an empty
    index, which it ingests through the store server, answer one question, shut down."""
    from gradio_client import Client

    models = models_dir()
    if not (models / "multilingual-e5-small" / "modules.json").exists():
        pytest.skip(f"the bundled models are not prepared in {models}: run `make models`")
    data = tmp_path / "data"
    data.mkdir()
    (data / "models").symlink_to(models)
    app_port, model_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ONCOQA_DATA_DIR": str(data),
           "ONCOQA_CORPUS_DIR": str(ROOT / "corpus"), "ONCOQA_LLM__BACKEND": "local",
           "ONCOQA_EMBEDDING__BACKEND": "sentence-transformers"}
    log = tmp_path / "stack.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "oncoqa.cli", "serve-stack", "--apps", "1", "--app-port",
             str(app_port), "--store-port", str(free_port()), "--model-port", str(model_port),
             "--log-dir", str(tmp_path)], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 900
        while "ready:" not in log.read_text():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(1)
        assert "running ingest" in log.read_text()  # the empty index, through the server
        # A Chinese question about English sources: an English one whose best sentence is sure
        # enough is answered verbatim without any model call, and the test would prove nothing.
        data_out = Client(f"http://127.0.0.1:{app_port}/", verbose=False).predict(
            "为什么要在手术前做化疗？", [], api_name="/ask_turn")
        assert data_out["kind"] == "answer" and data_out["citations"]
        busy = httpx.get(f"http://127.0.0.1:{model_port}{BUSY_PATH}", timeout=10).json()
        assert busy["requests"] >= 1 and busy["busy_seconds"] > 0  # the model server answered
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=120)
    assert code == 0, log.read_text()
