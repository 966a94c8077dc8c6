"""The app on loopback: its memory with the generator loaded, and N simultaneous conversations."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from bench.measure import GoldQuestion, Summary, free_port, peak_tree_rss_mb, tree_rss_mb
from core.settings import Settings

Log = Callable[[str], None]
REPO = Path(__file__).resolve().parents[1]
_PATHS = {"data_dir", "corpus_dir", "model_path"}


def settings_env(settings: Settings) -> dict[str, str]:
    """ONCOQA_* variables that make a child process build exactly these settings."""
    env: dict[str, str] = {}

    def put(name: str, key: str, value: Any) -> None:
        if value is None or isinstance(value, dict | list):
            return
        if key in _PATHS:
            value = Path(value).resolve()
        env[name] = str(value).lower() if isinstance(value, bool) else str(value)

    for key, value in settings.model_dump(mode="json").items():
        if isinstance(value, dict):
            for sub, item in value.items():
                secret = getattr(getattr(settings, key), sub)
                if isinstance(secret, SecretStr):  # the dump shows "**********"
                    item = secret.get_secret_value()
                put(f"ONCOQA_{key.upper()}__{sub.upper()}", sub, item)
        else:
            put(f"ONCOQA_{key.upper()}", key, value)
    return env


@contextmanager
def running_app(settings: Settings, command: Sequence[str], log_file: Path, *,
                timeout: float = 180.0) -> Iterator[tuple[subprocess.Popen[bytes], str, float]]:
    """The app (`command`, e.g. the `ui` command of the entry point) in a child process on a free
    loopback port; yields (process, url, startup seconds) once it answers HTTP, and always
    stops it afterwards."""
    port = free_port()
    env = {**os.environ, **settings_env(settings), "GRADIO_ANALYTICS_ENABLED": "False",
           "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    argv = [*command, "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    with log_file.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the app exited with {proc.returncode}: "
                                       f"{log_file.read_text(errors='replace')[-600:]}")
                if time.perf_counter() - started > timeout:
                    raise TimeoutError(f"the app did not answer within {timeout:.0f} s")
                try:
                    if httpx.get(url + "config", timeout=2.0).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.5)
            yield proc, url, time.perf_counter() - started
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)


@dataclass(frozen=True)
class Conversation:
    index: int
    language: str
    seconds: float
    ok: bool
    kind: str
    backend: str
    error: str
    queue_rank: int = -1  # the highest place in the queue the client was told (-1: never queued)


@dataclass(frozen=True)
class AppResult:
    backend: str
    startup_seconds: float
    warm_up_seconds: float
    rss_idle_mb: float  # after start, before any question
    rss_loaded_mb: float  # after the warm-up answer: models loaded
    rss_after_mb: float  # after the concurrent conversations
    peak_rss_mb: float  # VmHWM of the app process (and children)
    conversations: tuple[Conversation, ...]
    completed: int
    errors: int
    latency: Summary  # seconds per conversation, submit to final answer
    wall_seconds: float
    model_busy_seconds: float = 0.0  # time the model was computing during the conversations
    model_calls: int = 0

    @property
    def model_utilisation(self) -> float:
        return self.model_busy_seconds / self.wall_seconds if self.wall_seconds else 0.0


def _converse(url: str, index: int, question: GoldQuestion, start: threading.Barrier,
              timeout: float) -> Conversation:
    from gradio_client import Client

    began = time.perf_counter()
    try:
        client = Client(url, verbose=False)  # one Client is one conversation
        start.wait(timeout=timeout)
        began = time.perf_counter()
        job = client.submit(question.question, api_name="/ask_json")
        rank = -1
        while not job.done() and time.perf_counter() - began < timeout:
            status = job.status()  # what a user sees: "queue: rank/size" while waiting
            if status.rank is not None:
                rank = max(rank, status.rank)
            time.sleep(0.5)
        data = job.result(timeout=max(1.0, timeout - (time.perf_counter() - began)))
        ok = isinstance(data, dict) and data.get("kind") != "error"
        return Conversation(index, question.language, round(time.perf_counter() - began, 3), ok,
                            str(data.get("kind", "")), str(data.get("backend", "")),
                            "" if ok else str(data.get("answer", ""))[:200], rank)
    except Exception as exc:  # any failure is a result to report, not a crash
        start.abort()  # nobody waits for a client that will never arrive
        return Conversation(index, question.language, round(time.perf_counter() - began, 3),
                            False, "", "", f"{type(exc).__name__}: {str(exc)[:200]}")


def converse_all(urls: Sequence[str], questions: Sequence[GoldQuestion], conversations: int,
                 timeout: float) -> tuple[tuple[Conversation, ...], float]:
    """`conversations` clients at once, spread over the app URLs in turn (one question each);
    their results and the wall time."""
    barrier = threading.Barrier(conversations)
    picked = [questions[i % len(questions)] for i in range(conversations)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=conversations) as pool:
        futures = [pool.submit(_converse, urls[i % len(urls)], i, q, barrier, timeout)
                   for i, q in enumerate(picked)]
        results = tuple(f.result() for f in futures)
    return results, time.perf_counter() - started


def warm(url: str, warm_questions: Sequence[GoldQuestion], timeout: float) -> None:
    """Warm-up questions until one reaches the generator (models loaded, caches filled)."""
    from gradio_client import Client

    for question in warm_questions:
        answer = Client(url, verbose=False).submit(question.question, api_name="/ask_json")
        if answer.result(timeout=timeout).get("backend") not in ("gate", "ui"):
            break


_BUSY_LINE = re.compile(r"local model call: ([0-9.]+) s busy")


def logged_busy(log_file: Path) -> tuple[float, int]:
    """Seconds the in-process model was busy, and its calls, from the app's log lines."""
    times = [float(m.group(1)) for m in
             _BUSY_LINE.finditer(log_file.read_text(encoding="utf-8", errors="replace"))]
    return sum(times), len(times)


def run_app(settings: Settings, command: Sequence[str], workdir: Path,
            questions: Sequence[GoldQuestion], warm_questions: Sequence[GoldQuestion], *,
            conversations: int = 8, timeout: float = 600.0, log: Log | None = None) -> AppResult:
    """Start the app, answer warm-up questions until one reaches the generator, read its
    memory, then run `conversations` clients at once (one question each) and read it again."""

    say = log or (lambda message: None)
    workdir.mkdir(parents=True, exist_ok=True)
    with running_app(settings, command, workdir / "app.log") as (proc, url, startup):
        say(f"app: up in {startup:.1f} s at {url}")
        idle = tree_rss_mb(proc.pid)
        started = time.perf_counter()
        warm(url, warm_questions, timeout)
        warm_seconds = time.perf_counter() - started
        loaded = tree_rss_mb(proc.pid)
        say(f"app: warm in {warm_seconds:.1f} s, RSS {loaded:.0f} MB; "
            f"{conversations} conversations next")
        busy_before, calls_before = logged_busy(workdir / "app.log")
        results, wall = converse_all([url], questions, conversations, timeout)
        busy_after, calls_after = logged_busy(workdir / "app.log")
        after, peak = tree_rss_mb(proc.pid), peak_tree_rss_mb(proc.pid)
    return AppResult(
        backend=settings.llm.backend, startup_seconds=round(startup, 2),
        warm_up_seconds=round(warm_seconds, 2), rss_idle_mb=idle, rss_loaded_mb=loaded,
        rss_after_mb=after, peak_rss_mb=peak, conversations=results,
        completed=sum(r.ok for r in results), errors=sum(not r.ok for r in results),
        latency=Summary.of([r.seconds for r in results if r.ok]), wall_seconds=round(wall, 2),
        model_busy_seconds=round(busy_after - busy_before, 2),
        model_calls=calls_after - calls_before,
    )
