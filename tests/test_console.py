"""The maintainer console: absent without a password, behind its login, unreachable from the
patient app, loopback only; extra tabs plug in."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gradio as gr
import httpx
import pytest
from gradio_client import Client
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from core.errors import OncoQAError
from core.settings import ConsoleSettings, Settings
from oncoqa.maintain import Maintenance
from oncoqa.serve import build_engine
from tests.conftest import free_port
from tests.test_ui_client import make_ui_settings
from ui.app import Served, start
from ui.console import LoopbackOnly, build_console, launch_console, password_check

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery staple"
PATIENT_ENDPOINTS = {"/ask", "/ask_json", "/ask_turn", "/feedback", "/reset"}
DUMMY_TAB = "Dummy tab"
DUMMY_TEXT = "dummy-tab-content-7c1f"


def with_console(settings: Settings, **values: Any) -> Settings:
    console = ConsoleSettings(port=free_port(), **values)
    ui = settings.ui.model_copy(update={"port": free_port()})  # the fixture's app may still run
    return settings.model_copy(update={"console": console, "ui": ui})


def dummy_tab() -> None:
    gr.Markdown(DUMMY_TEXT)


@pytest.fixture(scope="module")
def base_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_ui_settings(tmp_path_factory.mktemp("console"))


@pytest.fixture(scope="module")
def served(base_settings: Settings) -> Iterator[Served]:
    settings = with_console(base_settings, password=SecretStr(PASSWORD))
    running = start(settings, build_engine(settings), Maintenance(settings).actions(),
                    [(DUMMY_TAB, dummy_tab)], prevent_thread_lock=True, quiet=True)
    try:
        yield running
    finally:
        running.close()


def refused(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as sock:
        return sock.connect_ex((parts.hostname or "", parts.port or 80)) != 0


def login(url: str, username: str, password: str) -> httpx.Client:
    session = httpx.Client(base_url=url.rstrip("/"), timeout=20)
    session.post("/login", data={"username": username, "password": password})
    return session


def test_no_password_no_console(base_settings: Settings) -> None:
    for settings in (with_console(base_settings),
                     with_console(base_settings, password=SecretStr(""))):
        assert not settings.console.enabled
        running = start(settings, build_engine(settings), Maintenance(settings).actions(),
                        prevent_thread_lock=True, quiet=True)
        try:
            assert running.console is None and running.console_url == ""
            assert refused(f"http://127.0.0.1:{settings.console.port}/")
            info = httpx.get(f"{running.url}gradio_api/info", timeout=20).json()
            assert set(info["named_endpoints"]) == PATIENT_ENDPOINTS
            assert httpx.get(f"{running.url}console", timeout=20).status_code == 404
        finally:
            running.close()
        with pytest.raises(OncoQAError, match="no password"):
            launch_console(gr.Blocks(), settings)


def test_console_is_served_apart_from_the_patient_app(served: Served) -> None:
    assert served.console is not None
    assert urlsplit(served.console_url).port != urlsplit(served.url).port
    assert urlsplit(served.console_url).hostname == "127.0.0.1"
    # The patient app lists exactly its own endpoints: nothing of the console's.
    info = httpx.get(f"{served.url}gradio_api/info", timeout=20).json()
    assert set(info["named_endpoints"]) == PATIENT_ENDPOINTS
    assert info["unnamed_endpoints"] == {}
    assert set(Client(served.url, verbose=False).view_api(
        print_info=False, return_format="dict")["named_endpoints"]) == PATIENT_ENDPOINTS
    patient_config = httpx.get(f"{served.url}config", timeout=20).text
    assert "console-documents" not in patient_config and DUMMY_TEXT not in patient_config


def test_every_console_request_needs_the_login(served: Served) -> None:
    url = served.console_url.rstrip("/")
    anonymous = httpx.Client(base_url=url, timeout=20)
    assert anonymous.get("/config").status_code == 401
    assert anonymous.get("/gradio_api/info").status_code == 401
    joined = anonymous.post("/gradio_api/queue/join", json={
        "data": [], "fn_index": 0, "session_hash": "x", "event_data": None, "trigger_id": 1})
    assert joined.status_code == 401
    assert anonymous.post("/gradio_api/upload", files={"files": ("a.md", b"# A")}
                          ).status_code == 401
    with pytest.raises(ValueError):  # gradio_client cannot even read the console's API
        Client(served.console_url, verbose=False)
    started = time.monotonic()
    wrong = anonymous.post("/login", data={"username": "maintainer", "password": "guess"})
    assert wrong.status_code == 400 and time.monotonic() - started >= 0.9
    wrong_user = anonymous.post("/login", data={"username": "admin", "password": PASSWORD})
    assert wrong_user.status_code == 400
    session = login(url, "maintainer", PASSWORD)
    config = session.get("/config")
    assert config.status_code == 200
    assert "console-documents" in config.text and DUMMY_TEXT in config.text
    assert DUMMY_TAB in config.text
    info = session.get("/gradio_api/info")
    assert info.status_code == 200 and info.json()["named_endpoints"] == {}


def test_remote_clients_are_refused() -> None:
    async def hello(request: Any) -> PlainTextResponse:
        return PlainTextResponse("hello")

    app = Starlette(routes=[Route("/", hello)])
    assert TestClient(LoopbackOnly(app), client=("192.0.2.7", 5000)).get("/").status_code == 403
    assert TestClient(LoopbackOnly(app), client=("127.0.0.1", 5000)).get("/").text == "hello"
    assert TestClient(LoopbackOnly(app), client=("::1", 5000)).get("/").text == "hello"


def test_console_will_not_bind_elsewhere_unless_allowed(base_settings: Settings,
                                                        tmp_path: Path) -> None:
    settings = with_console(base_settings, password=SecretStr("x"), host="0.0.0.0")
    with pytest.raises(OncoQAError, match="may not bind"):
        launch_console(gr.Blocks(), settings)
    # start() logs it and serves the patient app without a console.
    running = start(settings, build_engine(settings), Maintenance(settings).actions(),
                    prevent_thread_lock=True, quiet=True)
    try:
        assert running.console is None
        assert httpx.get(f"{running.url}gradio_api/info", timeout=20).status_code == 200
    finally:
        running.close()


async def test_password_check_compares_both_fields() -> None:
    check = password_check(ConsoleSettings(password=SecretStr("s3cret"), username="ops"))
    assert await check("ops", "s3cret")
    assert not await check("ops", "s3cre")
    assert not await check("maintainer", "s3cret")
    assert not await check("ops", "s3cret ")


def test_extra_tabs_are_built_inside_the_console(base_settings: Settings) -> None:
    built: list[str] = []

    def tab() -> None:
        built.append("yes")
        gr.Markdown(DUMMY_TEXT)

    demo = build_console(base_settings, Maintenance(base_settings).actions(), [("Extra", tab)])
    assert built == ["yes"]
    labels = [b.label for b in demo.blocks.values() if isinstance(b, gr.Tab)]
    assert labels == ["Documents", "Extra"]
    assert any(isinstance(b, gr.Markdown) and b.value == DUMMY_TEXT for b in demo.blocks.values())
