"""`oncoqa serve-stack` as real processes: a `chroma run` on the index, two app processes that
answer each other's follow-ups, a clean stop, and clear failures (port taken, piece crashed)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
from gradio_client import Client

from core.settings import Settings
from oncoqa.supervise import port_in_use
from tests.conftest import ROOT, cli_env, free_port
from tests.test_ui_client import EN_QUESTION, make_ui_settings

pytestmark = [pytest.mark.server, pytest.mark.slow]

FOLLOW_UP = "What about early tumors?"
# The hash embedder's cosines sit far below e5's: the gates of make_ui_settings, as env vars.
GATES = {"ONCOQA_RETRIEVAL__MIN_SCORE": "0.2", "ONCOQA_RETRIEVAL__MIN_SCORE_ZH": "0.2",
         "ONCOQA_ANSWER__MIN_SENTENCE_SCORE": "0.2"}


@dataclass(frozen=True)
class Stack:
    proc: subprocess.Popen[str]
    app_urls: tuple[str, ...]
    log: Path


def two_free_ports() -> int:
    """A port whose next one is free too (apps take consecutive ports)."""
    for _ in range(50):
        port = free_port()
        if port < 65535 and not port_in_use("127.0.0.1", port + 1):
            return port
    raise RuntimeError("no two consecutive free ports")


def stack_command(*options: str) -> list[str]:
    return [sys.executable, "-m", "oncoqa.cli", "serve-stack", *options]


def stack_env(settings: Settings, **extra: str) -> dict[str, str]:
    return {**os.environ, **cli_env(settings), **GATES, "PYTHONPATH": str(ROOT), **extra}


def wait_ready(stack: Stack, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if stack.proc.poll() is not None:
            pytest.fail(f"serve-stack exited with {stack.proc.returncode}: "
                        f"{stack.log.read_text()[-1500:]}")
        if "ready:" in stack.log.read_text():
            return
        time.sleep(0.3)
    pytest.fail(f"serve-stack not ready after {seconds:.0f} s: {stack.log.read_text()[-1500:]}")


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The seed corpus indexed by the embedded writer, as `oncoqa ingest` leaves it; the stack
    then serves that folder through `chroma run`."""
    return make_ui_settings(tmp_path_factory.mktemp("stack"))


@pytest.fixture(scope="module")
def stack(indexed: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    app_port, store_port = two_free_ports(), free_port()
    log = tmp_path_factory.mktemp("stack-logs") / "serve-stack.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            stack_command("--apps", "2", "--app-port", str(app_port), "--store-port",
                          str(store_port), "--log-dir", str(log.parent)),
            env=stack_env(indexed), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True)
    running = Stack(proc, (f"http://127.0.0.1:{app_port}/", f"http://127.0.0.1:{app_port + 1}/"),
                    log)
    try:
        wait_ready(running, 120)
        yield running
    finally:
        if proc.poll() is None:
            proc.kill()  # the pieces die with it (parent-death signal)
            proc.wait(timeout=30)


def ask_turn(url: str, question: str, history: list[dict[str, str]]) -> dict[str, object]:
    data = Client(url, verbose=False).predict(question, history, api_name="/ask_turn")
    assert isinstance(data, dict)
    return data


def test_a_follow_up_is_answered_by_the_other_app_process(stack: Stack) -> None:
    first, second = stack.app_urls
    opening = ask_turn(first, EN_QUESTION, [])
    assert opening["kind"] == "answer" and opening["citations"]
    history = [{"question": EN_QUESTION, "answer": str(opening["answer"])}]
    follow_up = ask_turn(second, FOLLOW_UP, history)
    # Without an LLM a follow-up is made standalone by prefixing the previous question: the
    # second process knew the conversation only from the history sent with the request.
    assert str(follow_up["standalone_question"]).startswith(EN_QUESTION)
    assert follow_up["kind"] == "answer"
    alone = ask_turn(second, FOLLOW_UP, [])
    assert alone["standalone_question"] == FOLLOW_UP
    broken = ask_turn(first, FOLLOW_UP, [{"answer": "no question"}])  # type: ignore[list-item]
    assert broken["kind"] == "error" and "history" in str(broken["answer"])


def test_apps_read_the_index_through_the_store_server(stack: Stack, indexed: Settings) -> None:
    pieces = psutil.Process(stack.proc.pid).children()
    commands = [" ".join(p.cmdline()) for p in pieces]
    assert sum(" run --path " in c for c in commands) == 1  # one chroma server
    assert sum(" ui --host " in c for c in commands) == 2
    for piece in pieces:
        if " ui --host " in " ".join(piece.cmdline()):
            assert piece.environ()["ONCOQA_STORE__HOST"] == "127.0.0.1"
    # While the stack serves the folder, an embedded writer is refused (one writer per folder).
    ingest = subprocess.run([sys.executable, "-m", "oncoqa.cli", "ingest"],
                            env=stack_env(indexed), cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert ingest.returncode == 2 and "is being written by" in ingest.stderr


def test_sigterm_stops_every_piece(stack: Stack) -> None:
    pieces = psutil.Process(stack.proc.pid).children(recursive=True)
    assert len(pieces) >= 3
    stack.proc.send_signal(signal.SIGTERM)
    assert stack.proc.wait(timeout=60) == 0
    gone, alive = psutil.wait_procs(pieces, timeout=10)
    assert not alive, [p.cmdline() for p in alive]
    assert "stopped every piece" in stack.log.read_text()
    for url in stack.app_urls:
        with pytest.raises(httpx.ConnectError):
            httpx.get(url, timeout=2)


def test_a_taken_port_is_named_before_anything_starts(indexed: Settings,
                                                      tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            stack_command("--store-port", str(port), "--log-dir", str(tmp_path)),
            env=stack_env(indexed), cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use, so the store cannot start" in (
        result.stderr)
    assert "ONCOQA_STORE__PORT" in result.stderr
    assert not list(tmp_path.glob("*.log"))  # nothing was started


def test_a_piece_that_fails_to_start_stops_the_others(indexed: Settings,
                                                      tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"not a model")
    result = subprocess.run(
        stack_command("--store-port", str(free_port()), "--model-port", str(free_port()),
                      "--app-port", str(free_port()), "--log-dir", str(tmp_path)),
        env=stack_env(indexed, ONCOQA_LLM__BACKEND="local",
                      ONCOQA_LLM__MODEL_PATH=str(broken)),
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "the model exited with code" in result.stderr
    assert "stopping store" in result.stderr
    assert (tmp_path / "model.log").exists() and not (tmp_path / "app-1.log").exists()


def test_the_plan_spreads_apps_over_model_servers_with_a_queue_aware_timeout(
        indexed: Settings) -> None:
    from core.settings import LLMSettings, ServeSettings
    from oncoqa.stack import plan

    settings = indexed.model_copy(update={
        "llm": LLMSettings(backend="local", timeout=100.0),
        "serve": ServeSettings(apps=3, model_servers=2, model_port=9100)})
    topology = plan(settings)
    assert [p.port for p in topology.models] == [9100, 9101]
    urls = [app.env["ONCOQA_LLM__BASE_URL"] for app in topology.apps]
    assert urls == ["http://127.0.0.1:9100/v1", "http://127.0.0.1:9101/v1",
                    "http://127.0.0.1:9100/v1"]
    # 3 apps x 2 answers at once over 2 servers: a call may wait behind 2 others.
    assert {app.env["ONCOQA_LLM__TIMEOUT"] for app in topology.apps} == {"300.0"}
    assert all(app.env["ONCOQA_STORE__HOST"] == "127.0.0.1" for app in topology.apps)
    assert topology.store.argv[1:3] == ("run", "--path")
    assert topology.store.argv[3] == str(settings.chroma_dir.resolve())


def test_the_maintainer_password_reaches_the_first_app_only_and_unmasked(
        indexed: Settings) -> None:
    from pydantic import SecretStr

    from core.settings import ConsoleSettings, ServeSettings
    from oncoqa.stack import plan

    settings = indexed.model_copy(update={
        "console": ConsoleSettings(password=SecretStr("s3cret-passphrase")),
        "serve": ServeSettings(apps=2)})
    first, second = plan(settings).apps
    assert first.env["ONCOQA_CONSOLE__PASSWORD"] == "s3cret-passphrase"  # not "**********"
    assert second.env["ONCOQA_CONSOLE__PASSWORD"] == ""  # no second console on a taken port
    # one background translator (qa.pretranslate): the others find its work in the memory
    assert first.env["ONCOQA_ANSWER__PRETRANSLATE"] == "true"
    assert second.env["ONCOQA_ANSWER__PRETRANSLATE"] == "false"
