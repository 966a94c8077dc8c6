"""The serving topology on loopback (store server + model server + app processes, started by
the entry point's stack command) under N simultaneous conversations."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from bench.app_bench import AppResult, Log, converse_all, settings_env, warm
from bench.measure import GoldQuestion, Summary, bindable, free_port, tree_rss_mb
from core.settings import Settings

REPO = Path(__file__).resolve().parents[1]
BUSY_PATH = "/oncoqa/busy"  # the model server's meter (oncoqa/model_server.py)


@dataclass(frozen=True)
class StackResult(AppResult):
    apps: int = 1
    model_servers: int = 1
    model_threads: int = 2
    model_server_requests: int = 0


@dataclass(frozen=True)
class Ports:
    apps: tuple[int, ...]
    store: int
    models: tuple[int, ...]


def _consecutive(count: int, taken: set[int]) -> tuple[int, ...]:
    """count free ports in a row, none of them taken; they join taken."""
    while True:
        first = free_port(taken)
        run = tuple(range(first, first + count))
        if all(p not in taken and bindable(p) for p in run[1:]):
            taken.update(run)
            return run


def _ports(apps: int, models: int) -> Ports:
    """Distinct free loopback ports; the apps, and the model servers, take consecutive ones."""
    taken: set[int] = set()
    app_ports = _consecutive(apps, taken)
    store = free_port(taken)
    taken.add(store)
    return Ports(app_ports, store, _consecutive(models, taken))


@contextmanager
def running_stack(settings: Settings, command: Sequence[str], workdir: Path, apps: int, *,
                  timeout: float = 600.0) -> Iterator[tuple[subprocess.Popen[bytes], Ports, float]]:
    """The stack command in a child process; yields (process, ports, startup seconds) once it
    reports every piece ready, and always stops it (SIGTERM: it stops its pieces) afterwards."""
    ports = _ports(apps, settings.serve.model_servers)
    env = {**os.environ, **settings_env(settings), "GRADIO_ANALYTICS_ENABLED": "False",
           "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    argv = [*command, "--apps", str(apps), "--app-port", str(ports.apps[0]), "--store-port",
            str(ports.store), "--model-port", str(ports.models[0]), "--log-dir", str(workdir)]
    log_file = workdir / "stack.log"
    started = time.perf_counter()
    with log_file.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        while b"ready:" not in log_file.read_bytes():
            if proc.poll() is not None:
                raise RuntimeError(f"the stack exited with {proc.returncode}: "
                                   f"{log_file.read_text(errors='replace')[-800:]}")
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"the stack was not ready within {timeout:.0f} s")
            time.sleep(0.5)
        yield proc, ports, time.perf_counter() - started
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


def _busy(model_ports: Sequence[int]) -> dict[str, float]:
    """Busy seconds and requests, summed over the model servers' meters."""
    total = {"busy_seconds": 0.0, "requests": 0.0}
    for port in model_ports:
        reply = httpx.get(f"http://127.0.0.1:{port}{BUSY_PATH}", timeout=10)
        reply.raise_for_status()
        for key in total:
            total[key] += float(reply.json()[key])
    return total


def _peak_mb(pid: int) -> float:
    """Sum of the peak RSS (VmHWM) of the stack's processes (supervisor and pieces)."""
    total = 0
    root = psutil.Process(pid)
    for proc in [root, *root.children(recursive=True)]:
        try:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


def run_stack(settings: Settings, command: Sequence[str], workdir: Path,
              questions: Sequence[GoldQuestion], warm_questions: Sequence[GoldQuestion], *,
              apps: int = 2, conversations: int = 16, timeout: float = 600.0,
              log: Log | None = None) -> StackResult:
    """Start the stack, warm every app, then `conversations` clients at once, spread over the
    apps in turn; the model's busy time comes from the model server's own meter."""
    say = log or (lambda message: None)
    workdir.mkdir(parents=True, exist_ok=True)
    with running_stack(settings, command, workdir, apps, timeout=timeout) as (proc, ports,
                                                                               startup):
        urls = [f"http://127.0.0.1:{port}/" for port in ports.apps]
        say(f"stack: up in {startup:.1f} s, apps at {', '.join(urls)}")
        idle = tree_rss_mb(proc.pid)
        started = time.perf_counter()
        for url in urls:
            warm(url, warm_questions, timeout)
        warm_seconds = time.perf_counter() - started
        loaded = tree_rss_mb(proc.pid)
        say(f"stack: warm in {warm_seconds:.1f} s, RSS {loaded:.0f} MB; "
            f"{conversations} conversations next")
        served = settings.llm.backend == "local"  # else the stack starts no model server
        idle_meter = {"busy_seconds": 0.0, "requests": 0.0}
        before = _busy(ports.models) if served else idle_meter
        results, wall = converse_all(urls, questions, conversations, timeout)
        after = _busy(ports.models) if served else idle_meter
        rss_after, peak = tree_rss_mb(proc.pid), _peak_mb(proc.pid)
    return StackResult(
        backend=settings.llm.backend, startup_seconds=round(startup, 2),
        warm_up_seconds=round(warm_seconds, 2), rss_idle_mb=idle, rss_loaded_mb=loaded,
        rss_after_mb=rss_after, peak_rss_mb=peak, conversations=results,
        completed=sum(r.ok for r in results), errors=sum(not r.ok for r in results),
        latency=Summary.of([r.seconds for r in results if r.ok]), wall_seconds=round(wall, 2),
        model_busy_seconds=round(after["busy_seconds"] - before["busy_seconds"], 2),
        model_calls=int(after["requests"] - before["requests"]), apps=apps,
        model_servers=settings.serve.model_servers,
        model_threads=settings.serve.model_threads,
        model_server_requests=int(after["requests"]),
    )
