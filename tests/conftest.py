"""Shared fixtures: settings in a temp dir, the seed corpus, fake and real embedders."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.measure import free_port  # noqa: F401  (tests import it from here)
from core.settings import EmbeddingSettings, LLMSettings, Settings
from ingest.embeddings import HashEmbeddings, SentenceTransformerEmbeddings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def wait_for_port(port: int, proc: subprocess.Popen[bytes], seconds: float) -> None:
    """Until something listens on the loopback port; fails if the process dies or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        if proc.poll() is not None:
            pytest.fail(f"{proc.args!r} exited with {proc.returncode}")
        time.sleep(0.3)
    pytest.fail(f"nothing listening on port {port} after {seconds}s")


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that makes `oncoqa` (which builds its own Settings) use these settings."""
    return {"ONCOQA_DATA_DIR": str(settings.data_dir),
            "ONCOQA_CORPUS_DIR": str(settings.corpus_dir),
            "ONCOQA_EMBEDDING__BACKEND": settings.embedding.backend,
            "ONCOQA_LLM__BACKEND": settings.llm.backend, "COLUMNS": "200",
            "ONCOQA_LLM__BASE_URL": settings.llm.base_url,
            "ONCOQA_LLM__TIMEOUT": str(settings.llm.timeout),
            **({"ONCOQA_STORE__HOST": settings.store.host,
                "ONCOQA_STORE__PORT": str(settings.store.port)} if settings.store.host else {}),
            **{f"ONCOQA_INGEST__{k.upper()}": json.dumps(v) if isinstance(v, dict) else str(v)
               for k, v in settings.ingest.model_dump().items()}, **extra}


def models_dir() -> Path:
    """Where `make models` put the bundled models (the Makefile exports ONCOQA_DATA_DIR)."""
    return Path(os.environ.get("ONCOQA_DATA_DIR", ROOT / ".data")).resolve() / "models"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture
def settings(tmp_path: Path, corpus: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        corpus_dir=corpus,
        embedding=EmbeddingSettings(backend="hash"),
        llm=LLMSettings(backend="extractive"),
    )


@pytest.fixture
def hash_embeddings() -> HashEmbeddings:
    return HashEmbeddings()


@pytest.fixture(scope="session")
def e5_embeddings() -> SentenceTransformerEmbeddings:
    folder = models_dir() / "multilingual-e5-small"
    if not (folder / "modules.json").exists():
        pytest.fail(f"real e5 model missing at {folder}: run `make models` first")
    model = SentenceTransformerEmbeddings(str(folder))
    model.warm_up()
    return model


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, one per test module (the browser tests)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium missing: `apt-get install -y chromium fonts-noto-cjk`")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
