"""The Evaluation and Feedback-to-gold tabs in a real headless Chromium: run an evaluation,
keep it as the baseline, see the plots; turn a thumbs-down answer into an accepted candidate.

The tabs are mounted in a bare Blocks here (the console page itself is built elsewhere).
ONCOQA_CONSOLE_SHOTS=docs also writes docs/console-evaluation.png and docs/console-feedback.png,
with the real e5 model when the index is built with it (ONCOQA_CONSOLE_SHOTS_E5=1)."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from core.settings import EmbeddingSettings, LLMSettings, Settings, UISettings
from eval.gold import default_gold_files, load_gold
from ingest.pipeline import ingest
from oncoqa.console_insight import candidates_file, insight_tabs
from oncoqa.wiring import build_embeddings, keyword_builder
from tests.conftest import free_port, models_dir
from tests.test_console_insight import QUESTION, QUOTE, write_feedback

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 30_000  # ms
EVAL_TIMEOUT = 300_000  # ms: the whole gold set (seconds with the hash embedder, ~2 min with e5)


@pytest.fixture(scope="module")
def console_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("console-insight")
    shutil.copytree(ROOT / "corpus", root / "corpus")
    real = os.environ.get("ONCOQA_CONSOLE_SHOTS_E5") == "1"
    embedding = (EmbeddingSettings(backend="onnx-fp32") if real
                 else EmbeddingSettings(backend="hash"))
    settings = Settings(data_dir=root / "data", corpus_dir=root / "corpus", embedding=embedding,
                        llm=LLMSettings(backend="extractive"),
                        ui=UISettings(host="127.0.0.1", port=free_port()))
    if real:  # the bundled models live in the checkout's data dir
        (settings.data_dir).mkdir(parents=True)
        (settings.data_dir / "models").symlink_to(models_dir())
    ingest(settings, build_embeddings(settings), keywords=keyword_builder())
    write_feedback(settings)
    return settings


@pytest.fixture(scope="module")
def console_url(console_settings: Settings) -> Iterator[str]:
    with gr.Blocks(title="OncoQA console") as demo:
        for label, build in insight_tabs(console_settings):
            with gr.Tab(label):
                build()
    demo.queue()
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=console_settings.ui.port,
                            prevent_thread_lock=True, quiet=True, ssr_mode=False,
                            theme=gr.themes.Soft())
    yield url
    demo.close()


def _shot(page: Page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("ONCOQA_CONSOLE_SHOTS") == "docs":
        shutil.copy(path, ROOT / "docs" / f"{name}.png")


def _open(browser: Browser, url: str) -> Page:
    page = browser.new_page(locale="en-US", viewport={"width": 1200, "height": 1000})
    page.set_default_timeout(TIMEOUT)
    page.goto(url, wait_until="domcontentloaded")
    return page


def _type_and_keep(page: Page, box: Locator, text: str, settle_ms: int = 500) -> None:
    """Type text into a box until it is still there after the app had time to answer events."""
    for _ in range(3):
        box.fill(text)
        box.blur()
        page.wait_for_timeout(settle_ms)
        if box.input_value() == text:
            return
    expect(box).to_have_value(text)


def test_evaluation_tab_runs_and_plots(console_url: str, console_settings: Settings,
                                       browser: Browser, tmp_path: Path) -> None:
    items = len(load_gold(default_gold_files()))
    page = _open(browser, console_url)
    page.get_by_role("button", name="Run evaluation").click()
    status = page.locator("#ins-status")
    expect(status).to_contain_text("Finished", timeout=EVAL_TIMEOUT)
    expect(status).to_contain_text(f"{items} items")
    expect(page.locator("#ins-no-baseline")).to_contain_text("No baseline yet")
    page.get_by_role("button", name="Save this run as the baseline").click()
    expect(page.locator("#ins-no-baseline")).to_have_text("", timeout=TIMEOUT)
    for name in ("hits", "levels", "latency", "baseline"):
        expect(page.locator(f"#ins-plot-{name} img").first).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#ins-shown")).to_contain_text("results.json")
    with page.expect_download() as download:
        page.locator("#ins-download").click()
    saved = tmp_path / "results.json"
    download.value.save_as(saved)
    assert len(json.loads(saved.read_text(encoding="utf-8"))["rows"]) == items
    # a second run, on the dev split only, is drawn against the baseline
    page.get_by_role("radio", name="dev").check()
    page.get_by_role("button", name="Run evaluation").click()
    expect(page.locator("#ins-shown")).to_contain_text("split dev", timeout=EVAL_TIMEOUT)
    expect(status).to_contain_text("Finished")
    for toast in page.locator(".toast-close").all():
        toast.click()
    expect(page.locator(".toast-body")).to_have_count(0)
    _shot(page, tmp_path, "console-evaluation")


def test_feedback_becomes_an_accepted_candidate(console_url: str, console_settings: Settings,
                                                browser: Browser, tmp_path: Path) -> None:
    page = _open(browser, console_url)
    page.get_by_role("tab", name="Feedback to gold").click()
    table = page.locator("#ins-fb-table")
    expect(table).to_contain_text("misses the point")
    expect(table).not_to_contain_text("dye my hair")  # a plain thumbs-up is not listed
    page.locator("#ins-fb-pick input").click()
    page.get_by_role("option", name=QUESTION[:40], exact=False).click()
    expect(page.locator("#ins-fb-passage-text textarea")).to_have_value(
        re.compile(re.escape(QUOTE)), timeout=TIMEOUT)
    expect(page.locator("#ins-fb-quote textarea")).not_to_have_value("")
    # The typed quote must be the one in the box when the button is pressed: the app's own
    # suggestion comes with the passage, and a late second copy of it (the picker's change
    # event again when it loses focus) once replaced the typed quote in a CI run.
    quote = page.locator("#ins-fb-quote textarea")
    _type_and_keep(page, quote, QUOTE)
    page.locator("#ins-fb-facts textarea").fill("shrink | 缩小\nmetastatic cells | 转移细胞")
    expect(quote).to_have_value(QUOTE)
    page.get_by_role("button", name="Add as gold candidate").click()
    verdict = page.locator("#ins-fb-verdict")
    expect(verdict).to_contain_text("Accepted as en-", timeout=TIMEOUT)
    (line,) = candidates_file(console_settings).read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["evidence"] == [QUOTE]
    _shot(page, tmp_path, "console-feedback")

    page.locator("#ins-fb-quote textarea").fill(QUOTE.replace("mass", "tumour"))
    page.get_by_role("button", name="Add as gold candidate").click()
    expect(verdict).to_contain_text("Rejected, nothing was written", timeout=TIMEOUT)
    expect(verdict).to_contain_text("not an exact substring")
    page.get_by_role("button", name="Check the candidates file").click()
    expect(verdict).to_contain_text("1 candidates, all pass check_gold")
