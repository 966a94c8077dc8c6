"""Child processes of a serving topology: start one after another, each answering its health
check before the next starts, and stop them all (in reverse order, whole process groups)."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from core.errors import OncoQAError

Say = Callable[[str], None]
_PR_SET_PDEATHSIG = 1


class StackError(OncoQAError):
    """A piece of the topology could not start (port taken, crashed, never became healthy)."""


@dataclass(frozen=True)
class Piece:
    """One process of the topology and how to tell it is ready."""

    name: str  # "store", "model", "app 1"
    argv: tuple[str, ...]
    host: str
    port: int
    health: str  # path answered with HTTP 200 once the piece serves
    env: Mapping[str, str] = field(default_factory=dict)  # on top of this process's environment
    port_hint: str = ""  # the option or setting that moves this piece to another port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on host:port (binding there fails)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise StackError(f"cannot bind {host}:{port}: {exc.strerror}",
                             hint="check the host address") from exc
    return False


def check_ports(pieces: list[Piece]) -> None:
    """Fails before anything starts when a port is taken or given to two pieces."""
    seen: dict[int, str] = {}
    for piece in pieces:
        if piece.port in seen:
            raise StackError(f"{piece.name} and {seen[piece.port]} are both set to port "
                             f"{piece.port}", hint=f"move one: {piece.port_hint}")
        seen[piece.port] = piece.name
        if port_in_use(piece.host, piece.port):
            raise StackError(
                f"port {piece.port} on {piece.host} is already in use, so the {piece.name} "
                "cannot start there",
                hint=f"stop what uses it, or choose another port: {piece.port_hint}")


def _die_with_parent() -> None:
    """Runs in the child before exec: if the supervisor is killed outright, the kernel sends
    the child SIGTERM, so no piece outlives it as an orphan."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Running:
    piece: Piece
    proc: subprocess.Popen[bytes]
    log: Path
    started: float  # time.monotonic() at launch


class Supervisor:
    """Starts pieces in order and stops them all; use as a context manager."""

    def __init__(self, log_dir: Path, say: Say, *, timeout: float = 180.0) -> None:
        self.log_dir = log_dir
        self.say = say
        self.timeout = timeout
        self.running: list[Running] = []

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, *pieces: Piece) -> None:
        """Starts the pieces side by side and waits until each health check answers 200."""
        for running in [self._launch(piece) for piece in pieces]:
            self._wait_healthy(running)

    def _launch(self, piece: Piece) -> Running:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{piece.name.replace(' ', '-')}.log"
        self.say(f"starting {piece.name} on {piece.url} (log: {log})")
        with log.open("wb") as out:
            proc = subprocess.Popen(
                piece.argv, env={**os.environ, **piece.env}, stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C reaches the supervisor, which stops in order
                preexec_fn=_die_with_parent,
            )
        running = Running(piece, proc, log, time.monotonic())
        self.running.append(running)
        return running

    def run_once(self, name: str, argv: tuple[str, ...], env: Mapping[str, str]) -> None:
        """A one-off step (e.g. ingest through the store server); fails if it fails."""
        log = self.log_dir / f"{name}.log"
        self.say(f"running {name} (log: {log})")
        with log.open("wb") as out:
            code = subprocess.call(argv, env={**os.environ, **env}, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   preexec_fn=_die_with_parent)
        if code != 0:
            raise StackError(f"{name} failed (exit code {code}): {_tail(log)}",
                             hint=f"see {log}")

    def _wait_healthy(self, running: Running) -> None:
        piece, started = running.piece, running.started
        while True:
            code = running.proc.poll()
            if code is not None:
                raise StackError(f"the {piece.name} exited with code {code} while starting: "
                                 f"{_tail(running.log)}", hint=f"see {running.log}")
            try:
                if httpx.get(piece.url + piece.health, timeout=2.0).status_code == 200:
                    self.say(f"{piece.name} ready in {time.monotonic() - started:.1f} s")
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() - started > self.timeout:
                raise StackError(f"the {piece.name} did not answer {piece.url}{piece.health} "
                                 f"within {self.timeout:.0f} s",
                                 hint=f"see {running.log}; ONCOQA_SERVE__STARTUP_TIMEOUT "
                                 "allows more time")
            time.sleep(0.3)

    def watch(self, poll: float = 1.0) -> Running:
        """Blocks until a piece exits on its own; returns it (the caller then stops the rest)."""
        while True:
            for running in self.running:
                if running.proc.poll() is not None:
                    return running
            time.sleep(poll)

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM to each piece's process group, newest first; SIGKILL after the grace time."""
        for running in reversed(self.running):
            if running.proc.poll() is None:
                self.say(f"stopping {running.piece.name}")
                _signal_group(running.proc, signal.SIGTERM)
                try:
                    running.proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    self.say(f"{running.piece.name} did not stop in {grace:.0f} s: killing it")
                    _signal_group(running.proc, signal.SIGKILL)
                    running.proc.wait(timeout=grace)
            # Whatever the piece started itself goes with it.
            _signal_group(running.proc, signal.SIGKILL)
        self.running.clear()


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _tail(log: Path, lines: int = 6) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(line.strip() for line in text[-lines:]) or "(empty log)"
