"""Fault injection on the models: an OpenAI-compatible server that fails (500, no reply,
garbage), and model files that are missing, damaged or cut short."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.errors import ModelMissingError
from core.settings import AnswerSettings, LLMSettings, RetrievalSettings, Settings
from ingest.embeddings import HashEmbeddings, SentenceTransformerEmbeddings, damaged_file
from ingest.pipeline import ingest
from oncoqa.cli import main
from oncoqa.wiring import build_answerer, with_design
from qa import prompts
from qa.llm import LlamaCppChat
from tests.conftest import cli_env

QUESTION = "How many weeks after the end of neoadjuvant chemotherapy is surgery usually done?"
SOURCE = "3 to 4 weeks"
REBUILD = "rebuild it with `oncoqa prepare --force` (or `make models`)"


class _Broken(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that fails the way the server's `mode` says."""

    mode = "500"
    requests = 0

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        type(self).requests += 1
        self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.mode == "hang":
            time.sleep(3)
            return
        status, kind, body = {
            "500": (500, "application/json", b'{"error": {"message": "boom"}}'),
            "bytes": (200, "application/json", b"\x00\xffnot json at all"),
            "shape": (200, "application/json", b'{"hello": [1, 2]}'),
            "events": (200, "text/event-stream", b"data: {broken\n\ndata: \xff\xfe\n\n"),
        }[self.mode]
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def broken_server() -> Iterator[tuple[str, type[_Broken]]]:
    handler = type("Handler", (_Broken,), {"requests": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1", handler
    server.shutdown()
    server.server_close()


@pytest.fixture
def answer_settings(settings: Settings) -> Settings:
    # hash-embedding scores live on another scale than e5's: gates to match (as test_answer);
    # rewrites on, so an English answer puts its sentence to the model (and meets the failure)
    ingest(settings, HashEmbeddings())
    return settings.model_copy(update={
        "retrieval": RetrievalSettings(min_score=0.2, min_score_zh=0.2, k=6),
        "answer": AnswerSettings(min_sentence_score=0.0, simplify=True),
    })


@pytest.mark.parametrize("mode, design, detail", [
    ("500", "select", "the server answered with HTTP error 500"),
    ("hang", "select", "the server did not reply in time"),
    ("bytes", "select", "the server at {url} sent a reply that is not a chat completion"),
    ("shape", "select", "the server at {url} sent a reply that is not a chat completion"),
    ("events", "compose", "the LLM backend failed: LLMUnavailableError: the server at {url} "
                          "sent a reply that is not a chat completion"),
])
def test_a_failing_openai_server_falls_back_to_source_sentences_with_a_note(
        answer_settings: Settings, broken_server: tuple[str, type[_Broken]], mode: str,
        design: str, detail: str) -> None:
    url, handler = broken_server
    handler.mode = mode
    settings = with_design(answer_settings.model_copy(update={"llm": LLMSettings(
        backend="openai", base_url=url, timeout=0.5)}), design)
    started = time.monotonic()
    answer = build_answerer(settings, HashEmbeddings()).answer(QUESTION)
    note = prompts.LLM_UNAVAILABLE("en", detail=detail.format(url=url))
    assert answer.kind == "answer" and answer.backend == "extractive"
    assert SOURCE in answer.text and note in answer.text
    # one failed call (and the client's one retry); later sentences do not wait for the server
    assert handler.requests <= 2 and time.monotonic() - started < 10


def test_a_verbatim_answer_the_check_could_not_reach_says_so(
        answer_settings: Settings, broken_server: tuple[str, type[_Broken]]) -> None:
    """English sentences are shown as written (no phrasing call): the yes/no check is then the
    only call, and when it gets no reply the reader is told the model is not available."""
    url, handler = broken_server
    handler.mode = "500"
    settings = answer_settings.model_copy(update={
        "llm": LLMSettings(backend="openai", base_url=url, timeout=0.5),
        "answer": answer_settings.answer.model_copy(update={"simplify": False,
                                                            "judge_trust": 2.0})})
    answer = build_answerer(settings, HashEmbeddings()).answer(QUESTION)
    note = prompts.LLM_UNAVAILABLE("en", detail="the server answered with HTTP error 500")
    assert not answer.refused and SOURCE in answer.text and answer.text.endswith(note)
    assert all(s.mode == "verbatim" for c in answer.citations for s in c.support)
    assert handler.requests >= 1  # the check asked the server (and got the error)


def _sentence_transformers_folder(folder: Path) -> Path:
    """The files of a sentence-transformers folder, with one tiny tensor as the weights."""
    folder.mkdir(parents=True)
    for name in ("modules.json", "config.json", "tokenizer.json", "1_Pooling/config.json"):
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_text("{}")
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    (folder / "model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header
                                               + b"\x00" * 8)
    return folder


def test_a_damaged_embedding_model_is_named_with_the_fix(settings: Settings,
                                                         tmp_path: Path) -> None:
    folder = _sentence_transformers_folder(settings.models_dir / "multilingual-e5-small")
    assert damaged_file(folder) is None
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-3])  # a download or copy cut short
    assert damaged_file(folder) == f"{weights} is damaged or cut short"
    (folder / "1_Pooling" / "config.json").write_text('{"pooling": ')
    assert damaged_file(folder) == f"{folder / '1_Pooling' / 'config.json'} is damaged " \
                                   "(not valid JSON)"
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ModelMissingError) as caught:
        SentenceTransformerEmbeddings(str(folder)).embed_query("chemotherapy")
    assert caught.value.friendly() == (
        f"the embedding model cannot be loaded: {folder / 'tokenizer.json'} is missing. "
        f"{REBUILD}")
    ingest(settings, HashEmbeddings())
    real = settings.model_copy(update={"embedding": settings.embedding.model_copy(
        update={"backend": "sentence-transformers"})})
    result = CliRunner().invoke(main, ["ask", QUESTION], env=cli_env(real))
    assert (result.exit_code, result.output) == (2, f"Error: {caught.value.friendly()}\n")


@pytest.mark.parametrize("content, problem", [
    (b"<html>404</html>", "is damaged (it does not start like a GGUF file)"),
    (b"GGUF" + b"\x03\x00\x00\x00" + b"\x00" * 40, "cannot be loaded (damaged or cut short)"),
])
def test_a_damaged_local_llm_is_named_and_answers_fall_back(
        answer_settings: Settings, tmp_path: Path, content: bytes, problem: str) -> None:
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(content)
    with pytest.raises(ModelMissingError) as caught:
        LlamaCppChat(model_path=gguf).invoke("hello")
    message = f"the local LLM file {gguf} {problem}. {REBUILD}"
    assert caught.value.friendly() == message
    settings = answer_settings.model_copy(update={"llm": LLMSettings(model_path=gguf)})
    answer = build_answerer(settings, HashEmbeddings()).answer(QUESTION)
    assert SOURCE in answer.text
    assert answer.text.endswith(prompts.LLM_UNAVAILABLE("en", detail=message))
