"""The chat app in a real headless Chromium: typing questions, sources, feedback, XSS, languages."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from core.settings import Settings
from tests.test_ui_client import (
    EN_QUESTION,
    OUT_OF_SCOPE,
    XSS_FILE,
    XSS_QUESTION,
    ZH_QUESTION,
    make_ui_settings,
    running_app,
)
from ui import feedback
from ui.i18n import EXAMPLES

pytestmark = pytest.mark.browser

# Ignored by git (.gitignore): screenshots are for looking at, not for the history.
RECORD_DIR = Path(__file__).resolve().parents[1] / ".artifacts" / "screenshots"
TIMEOUT = 20_000  # ms


@pytest.fixture(scope="module")
def ui_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_ui_settings(tmp_path_factory.mktemp("ui-browser"))


@pytest.fixture(scope="module")
def app_url(ui_settings: Settings) -> Iterator[str]:
    yield from running_app(ui_settings)


@pytest.fixture
def shots(tmp_path: Path) -> Iterator[Any]:
    """Saves screenshots in tmp; the ones passed to keep() are copied to .artifacts/screenshots/."""
    kept: list[Path] = []

    def take(page: Page, name: str, keep: bool = False) -> Path:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if keep:
            kept.append(path)
        return path

    yield take
    RECORD_DIR.mkdir(parents=True, exist_ok=True)
    for path in kept:
        shutil.copy(path, RECORD_DIR / path.name)


def open_app(browser: Browser, url: str, locale: str) -> tuple[Page, list[str]]:
    page = browser.new_page(locale=locale, viewport={"width": 1200, "height": 1000})
    page.set_default_timeout(TIMEOUT)
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(url, wait_until="domcontentloaded")
    # The load event fills the status line: after it, the page is wired up.
    expect(page.locator("#oncoqa-status")).to_contain_text("6", timeout=TIMEOUT)
    return page, dialogs


def ask(page: Page, question: str, answers_before: int) -> Any:
    box = page.locator("#oncoqa-input textarea")
    box.fill(question)
    box.press("Enter")
    final = page.locator("#oncoqa-chat .oncoqa-msg:not(.oncoqa-streaming)")
    expect(final).to_have_count(answers_before + 1, timeout=TIMEOUT)
    return final.nth(answers_before)


def wait_for_feedback(path: Path, question: str, rating: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for record in feedback.read(path):
            if record["question"] == question and record["rating"] == rating:
                return record
        time.sleep(0.2)
    raise AssertionError(f"no {rating} feedback line for {question!r} in {path}")


def test_chat_sources_feedback_and_escaping(app_url: str, ui_settings: Settings,
                                            browser: Browser, shots: Any) -> None:
    page, dialogs = open_app(browser, app_url, "en-US")
    expect(page.get_by_text("Information, not medical advice")).to_be_visible()
    expect(page.locator("#oncoqa-status")).to_contain_text("6 documents, 25 passages indexed")
    shots(page, "01_start_en", keep=True)

    answer = ask(page, EN_QUESTION, 0)
    expect(answer.locator(".oncoqa-sources")).to_contain_text("000_61149c4b2133eace.txt")
    expect(answer.locator(".oncoqa-source").first).to_contain_text("[1]")
    expect(answer.locator(".oncoqa-notice")).to_contain_text("not medical advice")
    page.get_by_label("Comment (optional)").fill("clear and useful")
    page.locator("#oncoqa-chat button[aria-label='Like']").first.click()
    record = wait_for_feedback(ui_settings.feedback_file, EN_QUESTION, "up")
    assert record["comment"] == "clear and useful"
    assert "000_61149c4b2133eace.txt" in {c["source"] for c in record["citations"]}
    page.locator("#oncoqa-chat button[aria-label='Liked']").first.click()  # takes it back
    expect(page.locator("#oncoqa-chat button[aria-label='Like']")).to_have_count(1)
    page.wait_for_timeout(500)
    assert len(feedback.read(ui_settings.feedback_file)) == 1
    shots(page, "02_answer_en", keep=True)

    page.get_by_role("button", name="New conversation").click()
    expect(page.locator("#oncoqa-chat .oncoqa-msg")).to_have_count(0)
    answer = ask(page, ZH_QUESTION, 0)
    expect(answer.locator(".oncoqa-sources-title")).to_have_text("资料来源")
    # Hash embeddings: the English review or the Chinese one (see test_ui_client).
    expect(answer.locator(".oncoqa-sources")).to_contain_text(
        re.compile("000_61149c4b2133eace.txt|001_a72f36e8a6caebd0.txt"))
    expect(answer.locator(".oncoqa-notice")).to_contain_text("不构成医疗建议")
    shots(page, "03_answer_zh", keep=True)

    answer = ask(page, XSS_QUESTION, 1)
    source = answer.locator(".oncoqa-source", has_text=XSS_FILE)
    source.locator("summary").click()
    passage = source.locator(".oncoqa-passage")
    expect(passage).to_contain_text("<script>alert('x')</script>")
    expect(passage).to_contain_text("<img src=x onerror=alert(1)>")
    expect(passage.locator("mark")).to_contain_text("three-week cycles")
    assert "&lt;" not in page.locator("#oncoqa-chat").inner_text()  # no double escape
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("#oncoqa-chat script").count() == 0
    page.wait_for_timeout(300)
    assert dialogs == []
    shots(page, "04_escaped_passage", keep=True)

    page.locator("#oncoqa-lang").get_by_text("中文").click()
    expect(page.locator(".oncoqa-header h1")).to_have_text("OncoQA · 癌症治疗问答")
    expect(page.locator("#oncoqa-input textarea")).to_have_attribute(
        "placeholder", "请输入关于癌症治疗的问题，按回车发送…")
    expect(page.locator("#oncoqa-status")).to_contain_text("已索引 6 篇资料")
    shots(page, "05_switched_to_zh", keep=True)
    page.close()


def test_interface_follows_browser_language(app_url: str, browser: Browser, shots: Any) -> None:
    page, dialogs = open_app(browser, app_url, "zh-CN")
    expect(page.locator(".oncoqa-header h1")).to_have_text("OncoQA · 癌症治疗问答")
    expect(page.get_by_text("仅供参考，不构成医疗建议")).to_be_visible()
    expect(page.get_by_role("button", name="新对话")).to_be_visible()
    shots(page, "06_start_zh", keep=True)

    refusal = ask(page, OUT_OF_SCOPE, 0)
    expect(refusal.locator(".oncoqa-callout.oncoqa-refusal")).to_contain_text("do not cover")
    expect(refusal.locator(".oncoqa-sources")).to_have_count(0)
    page.locator("#oncoqa-examples").get_by_text(EXAMPLES[3]).click()
    expect(page.locator("#oncoqa-chat .oncoqa-question").nth(1)).to_have_text(EXAMPLES[3])
    expect(page.locator("#oncoqa-chat .oncoqa-msg:not(.oncoqa-streaming)")).to_have_count(2)
    shots(page, "07_refusal_and_example", keep=True)
    assert dialogs == []
    page.close()
