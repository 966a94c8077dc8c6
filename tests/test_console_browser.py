"""The maintainer flow in a real headless Chromium: log in to the console, upload a document,
watch its ingest finish, ask the patient page a question only that document answers, delete it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from pydantic import SecretStr

from core.settings import ConsoleSettings, Settings
from oncoqa.maintain import Maintenance
from oncoqa.serve import build_engine
from tests.conftest import free_port
from tests.test_console_actions import FACT_DOC, FACT_FILE, FACT_QUESTION
from tests.test_ui_browser import TIMEOUT, ask
from tests.test_ui_client import make_ui_settings
from ui.app import Served, start

pytestmark = pytest.mark.browser

PASSWORD = "maintainer-test-password"
# Ignored by git, like the chat's screenshots; the README's copy in docs/ is refreshed by hand
# after looking at this one.
SCREENSHOT = (Path(__file__).resolve().parents[1] / ".artifacts" / "screenshots"
              / "console-documents.png")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Settings]]:
    settings = make_ui_settings(tmp_path_factory.mktemp("console-browser"))
    settings = settings.model_copy(update={"console": ConsoleSettings(
        password=SecretStr(PASSWORD), port=free_port())})
    running = start(settings, build_engine(settings), Maintenance(settings).actions(),
                    prevent_thread_lock=True, quiet=True)
    try:
        yield running, settings
    finally:
        running.close()


def test_upload_in_console_then_patient_gets_it_cited(
        served: tuple[Served, Settings], browser: Browser, tmp_path: Path) -> None:
    running, settings = served
    console = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 1100})
    console.set_default_timeout(TIMEOUT)
    console.goto(running.console_url, wait_until="domcontentloaded")
    # Gradio's login form first: nothing of the console is shown before it.
    expect(console.get_by_text("OncoQA maintainer console: sign in")).to_be_visible()
    assert console.locator("#console-documents").count() == 0
    console.get_by_label("username").fill("maintainer")
    console.get_by_label("password").fill(PASSWORD)
    console.get_by_role("button", name="Login").click()
    documents = console.locator("#console-documents")
    expect(documents).to_contain_text("000_61149c4b2133eace.txt")
    expect(documents).not_to_contain_text(FACT_FILE)

    upload = tmp_path / FACT_FILE
    upload.write_text(FACT_DOC, encoding="utf-8")
    console.locator("#console-upload input[type=file]").set_input_files(str(upload))
    expect(console.locator("#console-message")).to_contain_text(f"Saved {FACT_FILE}")
    expect(console.locator("#console-job")).to_contain_text("Ingest finished", timeout=60_000)
    expect(documents).to_contain_text(FACT_FILE)
    expect(documents).to_contain_text("Quorvane infusion day")
    expect(console.locator("#console-report")).to_contain_text("added")
    assert (settings.corpus_dir / FACT_FILE).read_text(encoding="utf-8") == FACT_DOC
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    console.screenshot(path=str(SCREENSHOT), full_page=True)

    console.locator("#console-lang").get_by_text("中文").click()
    expect(console.get_by_text("OncoQA 维护控制台")).to_be_visible()
    expect(console.locator("#console-job")).to_contain_text("索引完成")
    expect(documents).to_contain_text("清理记录")

    patient = browser.new_page(locale="en-US", viewport={"width": 1200, "height": 1000})
    patient.set_default_timeout(TIMEOUT)
    patient.goto(running.url, wait_until="domcontentloaded")
    expect(patient.locator("#oncoqa-status")).to_contain_text("7 documents")
    answer = ask(patient, FACT_QUESTION, 0)
    expect(answer.locator(".oncoqa-sources")).to_contain_text(FACT_FILE)
    expect(answer).to_contain_text("eleven minutes")

    console.locator("#console-lang").get_by_text("EN").click()
    console.locator("#console-delete-target input").click()
    console.get_by_role("option", name=FACT_FILE).click()
    console.get_by_role("button", name="Delete…").click()
    console.locator("#console-delete-confirm").click()
    expect(console.locator("#console-message")).to_contain_text(f"Deleted {FACT_FILE}")
    expect(console.locator("#console-report")).to_contain_text("removed")
    expect(documents).not_to_contain_text(FACT_FILE)
    assert not (settings.corpus_dir / FACT_FILE).exists()
    console.close()
    patient.close()
