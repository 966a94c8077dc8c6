"""The maintainer console: its own Blocks on its own loopback port, behind a password."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from core.errors import OncoQAError
from core.settings import ConsoleSettings, Settings
from ui.console_actions import ConsoleActions, JobStatus, Outcome
from ui.i18n import BROWSER_LANGUAGE_JS, LANGUAGE_CHOICES, t

log = logging.getLogger(__name__)
ExtraTab = tuple[str, Callable[[], None]]
_DOC_COLUMNS = ("col_title", "col_source", "col_languages", "col_chunks", "col_ingested",
                "col_notes")
_REPORT_COLUMNS = ("col_source", "col_status", "col_chunks", "col_notes")
_FILE_TYPES = [".txt", ".md", ".markdown", ".html", ".htm", ".pdf"]
_FAILED_LOGIN_DELAY = 1.0  # seconds: slows password guessing without a lockout to manage


def build_console(settings: Settings, actions: ConsoleActions,
                  extra_tabs: Sequence[ExtraTab] = ()) -> gr.Blocks:
    """The console page: the Documents tab, then each extra tab (a label and a function that
    builds its components inside the current Blocks)."""
    limit = min(settings.console.max_upload_mb, settings.ingest.max_file_mb)
    with gr.Blocks(title=t("en", "console_title")) as demo:
        with gr.Row(equal_height=False):
            header = gr.Markdown(_header("en"))
            lang = gr.Radio(LANGUAGE_CHOICES, value="en", show_label=False, container=False,
                            scale=0, min_width=170, elem_id="console-lang")
        with gr.Tabs():
            with gr.Tab(t("en", "tab_documents"), elem_id="console-tab-documents") as docs_tab:
                job = gr.Markdown(t("en", "job_idle"), elem_id="console-job")
                documents = gr.Dataframe(_documents_frame(actions, "en"), interactive=False,
                                         label=t("en", "documents_label"), wrap=True,
                                         elem_id="console-documents", max_height=560,
                                         column_widths=["30%", "20%", "8%", "8%", "12%", "22%"])
                refresh = gr.Button(t("en", "refresh"), size="sm", scale=0)
                with gr.Row(equal_height=False):
                    with gr.Column():
                        upload = gr.File(label=t("en", "upload_label", limit=f"{limit:g}"),
                                         file_types=_FILE_TYPES, type="filepath",
                                         elem_id="console-upload")
                        replace_same = gr.Checkbox(False, label=t("en", "upload_replace"))
                    with gr.Column():
                        target = gr.Dropdown(_sources(actions), label=t("en", "delete_label"),
                                             elem_id="console-delete-target")
                        delete = gr.Button(t("en", "delete"), variant="stop", size="sm")
                        with gr.Row(visible=False) as confirm_row:
                            confirm = gr.Button(variant="stop", size="sm",
                                                elem_id="console-delete-confirm")
                            cancel = gr.Button(t("en", "delete_cancel"), size="sm")
                        ingest_now = gr.Button(t("en", "ingest_now"), size="sm")
                message = gr.Markdown("", elem_id="console-message")
                report = gr.Dataframe(_report_frame(JobStatus(), "en"), interactive=False,
                                      label=t("en", "report_label"), wrap=True,
                                      elem_id="console-report", max_height=320,
                                      column_widths=["30%", "12%", "10%", "48%"])
            for label, build_tab in extra_tabs:
                with gr.Tab(label):
                    build_tab()
        timer = gr.Timer(1.0, active=False)
        quiet: dict[str, Any] = {"api_visibility": "private"}

        def show_status(ui_lang: str) -> list[Any]:
            status = actions.status()
            running = status.state == "running"
            return [_job_line(status, ui_lang), _report_frame(status, ui_lang),
                    gr.Timer(active=running)]

        def after_job(ui_lang: str) -> list[Any]:
            out = show_status(ui_lang)
            if actions.status().state == "running":
                return [*out, gr.skip(), gr.skip()]
            return [*out, _documents_frame(actions, ui_lang), gr.Dropdown(
                choices=_sources(actions), value=None)]

        polled = [job, report, timer, documents, target]
        timer.tick(after_job, inputs=[lang], outputs=polled, **quiet)

        def on_upload(path: str | None, replace: bool, ui_lang: str) -> list[Any]:
            if not path:
                return [gr.skip(), None]
            outcome = actions.upload(Path(path), Path(path).name, replace)
            return [_say(outcome, ui_lang), None]

        upload.upload(on_upload, inputs=[upload, replace_same, lang], outputs=[message, upload],
                      **quiet).then(after_job, inputs=[lang], outputs=polled, **quiet)

        def ask_delete(source: str | None, ui_lang: str) -> list[Any]:
            if not source:
                return [gr.Row(visible=False), gr.skip()]
            return [gr.Row(visible=True), gr.Button(t(ui_lang, "delete_confirm", name=source))]

        delete.click(ask_delete, inputs=[target, lang], outputs=[confirm_row, confirm], **quiet)
        cancel.click(lambda: gr.Row(visible=False), outputs=[confirm_row], **quiet)

        def do_delete(source: str | None, ui_lang: str) -> list[Any]:
            if not source:
                return [gr.Row(visible=False), ""]
            return [gr.Row(visible=False), _say(actions.delete(source), ui_lang)]

        confirm.click(do_delete, inputs=[target, lang], outputs=[confirm_row, message],
                      **quiet).then(after_job, inputs=[lang], outputs=polled, **quiet)
        ingest_now.click(lambda ui_lang: _say(actions.ingest(), ui_lang), inputs=[lang],
                         outputs=[message], **quiet).then(after_job, inputs=[lang],
                                                          outputs=polled, **quiet)
        refresh.click(after_job, inputs=[lang], outputs=polled, **quiet)

        texts = [header, docs_tab, refresh, upload, replace_same, target, delete, cancel,
                 ingest_now]

        def localize(ui_lang: str) -> list[Any]:
            return [
                _header(ui_lang), gr.Tab(label=t(ui_lang, "tab_documents")),
                gr.Button(t(ui_lang, "refresh")),
                gr.File(label=t(ui_lang, "upload_label", limit=f"{limit:g}")),
                gr.Checkbox(label=t(ui_lang, "upload_replace")),
                gr.Dropdown(label=t(ui_lang, "delete_label")),
                gr.Button(t(ui_lang, "delete")), gr.Button(t(ui_lang, "delete_cancel")),
                gr.Button(t(ui_lang, "ingest_now")),
                gr.Dataframe(label=t(ui_lang, "documents_label")),
                gr.Dataframe(label=t(ui_lang, "report_label")),
            ]

        labelled = [*texts, documents, report]
        demo.load(lambda ui_lang: [ui_lang, *localize(ui_lang), *after_job(ui_lang)],
                  inputs=[lang], outputs=[lang, *labelled, *polled], js=BROWSER_LANGUAGE_JS,
                  **quiet)
        lang.input(lambda ui_lang: [*localize(ui_lang), *after_job(ui_lang)], inputs=[lang],
                   outputs=[*labelled, *polled], **quiet)
    return demo


def _header(ui_lang: str) -> str:
    return f"# {t(ui_lang, 'console_title')}\n{t(ui_lang, 'console_intro')}"


def _say(outcome: Outcome, ui_lang: str) -> str:
    text = t(ui_lang, outcome.key, **outcome.values)
    return text if outcome.ok else f"**\u26a0 {text}**"


def _sources(actions: ConsoleActions) -> list[str]:
    return [d.source for d in actions.documents()]


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp)) if stamp else "-"


def _documents_frame(actions: ConsoleActions, ui_lang: str) -> pd.DataFrame:
    newest_first = sorted(actions.documents(), key=lambda d: (-d.ingested_at, d.source))
    rows = [[d.title, d.source, ", ".join(d.languages), d.chunks, _when(d.ingested_at),
             d.notes or "-"] for d in newest_first]
    return pd.DataFrame(rows, columns=[t(ui_lang, c) for c in _DOC_COLUMNS])


def _report_frame(status: JobStatus, ui_lang: str) -> pd.DataFrame:
    rows = [[r.source, r.status, "-" if r.chunks is None else r.chunks, r.notes or "-"]
            for r in status.rows]
    return pd.DataFrame(rows, columns=[t(ui_lang, c) for c in _REPORT_COLUMNS])


def _job_line(status: JobStatus, ui_lang: str) -> str:
    """The job as one line, with a progress bar while it runs."""
    if status.state == "running":
        stage = t(ui_lang, f"job_stage_{status.stage}" if status.stage in ("read", "embed")
                  else "job_stage_")
        line = t(ui_lang, "job_running", stage=stage, done=status.done, total=status.total)
        return (f"{line}\n\n<progress max='{max(status.total, 1)}' value='{status.done}' "
                "style='width:100%'></progress>")
    if status.state == "done":
        values = {k: f"{v:g}" for k, v in status.totals.items()}
        return "\u2713 " + t(ui_lang, "job_done", time=_when(status.finished_at), **values)
    if status.state == "failed":
        if status.problem == "locked":
            return f"**\u26a0 {t(ui_lang, 'job_locked')}**"
        return f"**\u26a0 {t(ui_lang, 'job_failed', problem=status.problem)}**"
    return t(ui_lang, "job_idle")


def password_check(console: ConsoleSettings) -> Callable[[str, str], Any]:
    """Gradio's login check: user name and password compared in constant time; a wrong pair
    waits a second before the answer."""
    assert console.password is not None
    user = console.username.encode()
    secret = console.password.get_secret_value().encode()

    async def check(username: str, password: str) -> bool:
        good = hmac.compare_digest(username.encode(), user)
        good &= hmac.compare_digest(password.encode(), secret)
        if not good:
            await asyncio.sleep(_FAILED_LOGIN_DELAY)
        return good

    return check


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LoopbackOnly:
    """ASGI middleware: every request (HTTP or websocket) from a non-loopback client gets 403."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            if not client or not is_loopback(str(client[0])):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                await send({"type": "http.response.start", "status": 403,
                            "headers": [(b"content-type", b"text/plain")]})
                await send({"type": "http.response.body", "body": b"console: loopback only"})
                return
        await self.app(scope, receive, send)


def launch_console(demo: gr.Blocks, settings: Settings, *, prevent_thread_lock: bool = True,
                   quiet: bool = False) -> tuple[Any, str, str]:
    """Serves the console on settings.console (its own port) behind the maintainer password.
    Refuses a non-loopback address unless console.allow_remote is set."""
    from starlette.middleware import Middleware

    console = settings.console
    if not console.enabled:
        raise OncoQAError("the maintainer console has no password",
                          hint="set ONCOQA_CONSOLE__PASSWORD to turn it on")
    if not console.allow_remote and not is_loopback(console.host):
        raise OncoQAError(f"the maintainer console may not bind to {console.host}",
                          hint="use 127.0.0.1, or set ONCOQA_CONSOLE__ALLOW_REMOTE=true "
                          "(behind TLS)")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    kwargs = {} if console.allow_remote else {"middleware": [Middleware(LoopbackOnly)]}
    limit = min(console.max_upload_mb, settings.ingest.max_file_mb)
    demo.queue(default_concurrency_limit=4, max_size=16)
    return demo.launch(
        server_name=console.host, server_port=console.port, auth=password_check(console),
        auth_message=t("en", "console_login") + " · " + t("zh", "console_login"),
        prevent_thread_lock=prevent_thread_lock, quiet=quiet, ssr_mode=False, share=False,
        max_file_size=f"{limit:g}mb", app_kwargs=kwargs, footer_links=[],
        theme=gr.themes.Soft(),
    )
