"""`oncoqa serve-stack`: a Chroma server on the index, an OpenAI-compatible model server and N
app processes pointed at both, started in that order and stopped together."""

from __future__ import annotations

import math
import shutil
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from bench.app_bench import settings_env
from core.errors import NoIndexError
from core.settings import Settings
from oncoqa.supervise import Piece, Say, StackError, Supervisor, check_ports

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Plan:
    """The pieces of one topology, in start order, and the ingest step if the index is empty."""

    store: Piece
    models: tuple[Piece, ...]  # none with the extractive backend: no model to serve
    apps: tuple[Piece, ...]
    ingest: tuple[str, ...]  # argv of `oncoqa ingest` (through the store server)
    app_env: dict[str, str]  # what makes a process read the store server

    @property
    def pieces(self) -> list[Piece]:
        return [self.store, *self.models, *self.apps]


def chroma_binary() -> str:
    """`chroma` of the environment OncoQA runs in (it ships with chromadb)."""
    beside = Path(sys.executable).with_name("chroma")
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if not found:
        raise StackError("the `chroma` command was not found next to this Python or on PATH",
                         hint="install the project (`make install`): it ships with chromadb")
    return found


def plan(settings: Settings) -> Plan:
    """The topology settings.serve describes, on this machine: the store server serves the
    index folder, apps bind ui.host on ui.port, ui.port + 1, ..."""
    python = (sys.executable, "-m", "oncoqa.cli")
    base = settings_env(settings)
    store = Piece("store", (chroma_binary(), "run", "--path", str(settings.chroma_dir.resolve()),
                            "--host", LOOPBACK, "--port", str(settings.store.port)),
                  LOOPBACK, settings.store.port, "/api/v2/heartbeat", base,
                  "ONCOQA_STORE__PORT")
    served = {"ONCOQA_STORE__HOST": LOOPBACK, "ONCOQA_STORE__PORT": str(settings.store.port)}
    models: list[Piece] = []
    if settings.llm.backend == "local":
        for i in range(settings.serve.model_servers):
            port = settings.serve.model_port + i
            models.append(Piece(
                "model" if settings.serve.model_servers == 1 else f"model {i + 1}",
                (*python, "model-server", "--host", LOOPBACK, "--port", str(port)),
                LOOPBACK, port, "/v1/models", base,
                "--model-port or ONCOQA_SERVE__MODEL_PORT (model servers take consecutive ports)"))
    env = {**base, **served}
    apps = []
    for i in range(settings.serve.apps):
        app_env = dict(env)
        if i > 0:  # one maintainer console (the others would find its port taken) and one
            # background translator (qa.pretranslate), on the first app
            app_env["ONCOQA_CONSOLE__PASSWORD"] = ""
            app_env["ONCOQA_ANSWER__PRETRANSLATE"] = "false"
        if models:  # app i asks model server i mod N
            app_env |= {"ONCOQA_LLM__BACKEND": "openai",
                        "ONCOQA_LLM__BASE_URL": models[i % len(models)].url + "/v1",
                        "ONCOQA_LLM__TIMEOUT": str(queued_timeout(settings))}
        apps.append(Piece(f"app {i + 1}", (*python, "ui", "--host", settings.ui.host,
                                           "--port", str(settings.ui.port + i)),
                          settings.ui.host, settings.ui.port + i, "/config", app_env,
                          "--app-port or ONCOQA_UI__PORT (apps take consecutive ports)"))
    return Plan(store, tuple(models), tuple(apps), (*python, "ingest"), env)


def queued_timeout(settings: Settings) -> float:
    """The apps' timeout for one model call. A model server answers one request at a time and
    sees up to apps x ui.concurrency of them at once (spread over its peers), so a call may
    wait that many calls' time before its own starts: llm.timeout is kept per call in line.
    (A call that times out is still computed by the server, and retried once by the client:
    the waste that follows a too-short timeout makes the next calls time out too.)"""
    in_flight = settings.serve.apps * settings.ui.concurrency
    return settings.llm.timeout * max(1, math.ceil(in_flight / settings.serve.model_servers))


def index_documents(settings: Settings, env: dict[str, str]) -> int:
    """Documents in the index the store server serves (0 when there is none yet)."""
    from core.settings import StoreSettings
    from oncoqa.wiring import index_status

    served = settings.model_copy(update={"store": StoreSettings(
        host=env["ONCOQA_STORE__HOST"], port=int(env["ONCOQA_STORE__PORT"]),
        collection=settings.store.collection, batch_size=settings.store.batch_size)})
    try:
        return int(index_status(served)["documents"])
    except NoIndexError:
        return 0


class _Stop(Exception):
    """SIGTERM or SIGINT arrived: stop every piece."""


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):  # a second Ctrl-C must not cut the stop
            signal.signal(sig, signal.SIG_IGN)
        raise _Stop(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run(settings: Settings, log_dir: Path, say: Say) -> int:
    """Start the topology, serve until Ctrl-C / SIGTERM or until a piece dies; 0 after a
    requested stop, 1 when a piece died. The embedded index folder is locked meanwhile, so an
    `oncoqa ingest` without ONCOQA_STORE__HOST cannot write behind the store server's back."""
    from ingest.store import writer_lock

    topology = plan(settings)
    check_ports(topology.pieces)
    embedded = settings.model_copy(update={"store": settings.store.model_copy(
        update={"host": None})})
    with _stop_on_signals():
        try:
            with writer_lock(embedded), Supervisor(
                    log_dir, say, timeout=settings.serve.startup_timeout) as supervisor:
                supervisor.start(topology.store)
                if not index_documents(settings, topology.app_env):
                    supervisor.run_once("ingest", topology.ingest, topology.app_env)
                if topology.models:
                    supervisor.start(*topology.models)
                supervisor.start(*topology.apps)
                say("ready: " + ", ".join(f"{app.url}/" for app in topology.apps)
                    + " (Ctrl-C stops everything)")
                died = supervisor.watch()
                raise StackError(f"the {died.piece.name} exited with code "
                                 f"{died.proc.returncode}", hint=f"see {died.log}")
        except _Stop as stop:
            say(f"{stop}: stopped every piece")
            return 0
