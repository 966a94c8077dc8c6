"""Measurement helpers: percentile summaries, peak and current RSS, gold questions, free ports."""

from __future__ import annotations

import json
import random
import resource
import socket
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil

GOLD_DIR = Path(__file__).resolve().parents[1] / "eval" / "gold"


@dataclass(frozen=True)
class Summary:
    """Distribution of one measured quantity (milliseconds unless the field name says so)."""

    n: int
    p50: float
    p95: float
    mean: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        if not values:
            return cls(0, 0.0, 0.0, 0.0, 0.0)
        data = np.asarray(values, dtype=np.float64)
        return cls(len(values), round(float(np.percentile(data, 50)), 3),
                   round(float(np.percentile(data, 95)), 3), round(float(data.mean()), 3),
                   round(float(data.max()), 3))


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


def tree_rss_mb(pid: int) -> float:
    """Current RSS of a process plus all its descendants."""
    root = psutil.Process(pid)
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return round(total / 2**20, 1)


def peak_tree_rss_mb(pid: int) -> float:
    """Peak RSS (VmHWM) of a process plus its descendants' peaks, where Linux reports them."""
    total = 0.0
    root = psutil.Process(pid)
    for proc in [root, *root.children(recursive=True)]:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) / 1024
    return round(total, 1) if total else tree_rss_mb(pid)


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    language: str
    question: str


def gold_questions(per_language: int) -> list[GoldQuestion]:
    """The first `per_language` single-turn answerable gold questions of en and of zh."""
    out: list[GoldQuestion] = []
    for lang in ("en", "zh"):
        lines = (GOLD_DIR / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines()
        items = [json.loads(line) for line in lines if line.strip()]
        picked = [i for i in items if i.get("question") and i.get("answerable", True)]
        out += [GoldQuestion(i["id"], lang, i["question"]) for i in picked[:per_language]]
    return out


def free_port(taken: Collection[int] = ()) -> int:
    """A loopback port nothing listens on, not in taken, and below the kernel's ephemeral
    range when it can be: a port from that range can be taken, between this check and the
    server's bind, by any outgoing connection's local end (a health check, an app calling the
    store), which is how a CI run once found an app's port in use."""
    low = _ephemeral_low()
    picks = random.Random()
    for _ in range(200):
        port = picks.randrange(20000, low) if low > 21000 else _any_port()
        if port not in taken and bindable(port):
            return port
    raise RuntimeError("no free loopback port found")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _any_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bindable(port: int) -> bool:
    """Whether a server could listen on this loopback port now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
