"""The Gradio chat app: layout, event wiring, and `serve` for `oncoqa ui`."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from core.errors import OncoQAError
from core.settings import Settings
from ui import chat, feedback, render
from ui.chat import Engine, Session, StreamingAnswerer
from ui.console import ExtraTab, build_console, launch_console
from ui.console_actions import ConsoleActions
from ui.i18n import BROWSER_LANGUAGE_JS, EXAMPLES, LANGUAGE_CHOICES, t

log = logging.getLogger(__name__)
STYLE = Path(__file__).with_name("style.css")
_FONTS = ["system-ui", "Noto Sans CJK SC", "Noto Sans", "PingFang SC", "Microsoft YaHei",
          "sans-serif"]


def build_app(settings: Settings, answerer: StreamingAnswerer | Engine) -> gr.Blocks:
    """The Blocks app over the engine (or answerer) the entry point hands in."""
    engine = answerer if isinstance(answerer, Engine) else Engine(settings, answerer)
    with gr.Blocks(title=t("en", "page_title"), fill_width=False) as demo:
        session = gr.State(Session())
        with gr.Row(elem_classes="oncoqa-header", equal_height=False):
            title = gr.Markdown(_title("en"), elem_classes="oncoqa-title-block")
            lang = gr.Radio(LANGUAGE_CHOICES, value="en", label=t("en", "language"),
                            elem_id="oncoqa-lang", scale=0, min_width=170, container=False,
                            show_label=False)
        disclaimer = gr.Markdown(t("en", "disclaimer"), elem_classes="oncoqa-disclaimer")
        status = gr.Markdown("", elem_classes="oncoqa-status", elem_id="oncoqa-status")
        chatbot = gr.Chatbot(
            label=t("en", "chat_label"), elem_id="oncoqa-chat", height=540, buttons=[],
            sanitize_html=True, render_markdown=True, latex_delimiters=[], show_label=False,
            feedback_options=("Like", "Dislike"), placeholder=t("en", "chat_placeholder"),
        )
        with gr.Row(equal_height=False, elem_classes="oncoqa-input-row"):
            msg = gr.Textbox(show_label=False, placeholder=t("en", "input_placeholder"),
                             lines=1, max_lines=4, scale=8, elem_id="oncoqa-input",
                             label=t("en", "input_label"), container=False)
            send = gr.Button(t("en", "send"), variant="primary", scale=0, min_width=100)
            stop = gr.Button(t("en", "stop"), variant="stop", scale=0, min_width=100,
                             visible=False)
            new = gr.Button(t("en", "new_chat"), variant="secondary", scale=0, min_width=170)
        examples = gr.Dataset(components=[msg], label=t("en", "examples"),
                              samples=[[q] for q in EXAMPLES], elem_id="oncoqa-examples")
        comment = gr.Textbox(label=t("en", "comment_label"), max_lines=2, elem_id="oncoqa-comment",
                             placeholder=t("en", "comment_placeholder"))

        texts = [title, disclaimer, chatbot, msg, send, stop, examples, comment, new, status]

        def localize(ui_lang: str) -> list[Any]:
            return [
                _title(ui_lang), t(ui_lang, "disclaimer"),
                gr.update(label=t(ui_lang, "chat_label"),
                          placeholder=t(ui_lang, "chat_placeholder")),
                gr.update(placeholder=t(ui_lang, "input_placeholder"),
                          label=t(ui_lang, "input_label")),
                gr.update(value=t(ui_lang, "send")), gr.update(value=t(ui_lang, "stop")),
                gr.update(label=t(ui_lang, "examples")),
                gr.update(label=t(ui_lang, "comment_label"),
                          placeholder=t(ui_lang, "comment_placeholder")),
                gr.update(value=t(ui_lang, "new_chat")), chat.status_line(engine, ui_lang),
            ]

        demo.load(lambda ui_lang: [ui_lang, *localize(ui_lang)], inputs=[lang],
                  outputs=[lang, *texts], js=BROWSER_LANGUAGE_JS, api_visibility="private")
        lang.input(localize, inputs=[lang], outputs=texts, api_visibility="private")

        def answer_turn(message: str, state: Session, ui_lang: str) -> Iterator[Any]:
            yield from chat.respond(engine, message, state, ui_lang)

        running = [gr.update(visible=False), gr.update(visible=True)]
        idle = [gr.update(visible=True), gr.update(visible=False)]
        answering = []
        for trigger in (msg.submit, send.click):
            started = trigger(lambda: running, outputs=[send, stop], queue=False,
                              api_visibility="private")
            answering.append(started.then(
                answer_turn, inputs=[msg, session, lang], outputs=[msg, chatbot, session],
                api_visibility="private", concurrency_id="answer"))
        picked = examples.click(lambda sample: [sample[0], *running], inputs=[examples],
                                outputs=[msg, send, stop], queue=False, api_visibility="private")
        answering.append(picked.then(
            answer_turn, inputs=[msg, session, lang], outputs=[msg, chatbot, session],
            api_visibility="private", concurrency_id="answer"))
        for event in answering:
            event.then(lambda: idle, outputs=[send, stop], queue=False, api_visibility="private")
        stop.click(lambda: idle, outputs=[send, stop], cancels=answering, queue=False,
                   api_visibility="private")
        new.click(lambda: ([], Session(), "", *idle), outputs=[chatbot, session, msg, send, stop],
                  cancels=answering, api_name="reset")
        chatbot.clear(lambda: (Session(), *idle), outputs=[session, send, stop],
                      cancels=answering, api_visibility="private")

        def on_like(state: Session, note: str, ui_lang: str, data: gr.LikeData) -> str:
            if feedback.rating_of(data.liked) is None:  # a click that takes a rating back
                return note
            index = data.index if isinstance(data.index, int) else data.index[0]
            gr.Info(chat.rate(settings, state.exchanges.get(index), data.liked, note, ui_lang),
                    duration=4)
            return ""

        chatbot.like(on_like, inputs=[session, comment, lang], outputs=[comment],
                     api_visibility="private")
        _api(engine, settings, session)
    return demo


def _title(ui_lang: str) -> str:
    return f"# {t(ui_lang, 'title')}\n{t(ui_lang, 'subtitle')}"


def _api(engine: Engine, settings: Settings, session: gr.State) -> None:
    """Endpoints for gradio_client: ask (text), ask_json (Answer.to_json()), feedback. A Client
    keeps one session, so its consecutive calls form one conversation; ask_turn takes the
    conversation with the question instead (no session: any app process can answer)."""
    with gr.Column(visible=False):
        question = gr.Textbox(label="message")
        text, data = gr.Textbox(label="answer"), gr.JSON(label="answer_json")
        history, reply = gr.JSON(label="history"), gr.JSON(label="reply")
        rating, note = gr.Textbox(label="rating"), gr.Textbox(label="comment")
        result = gr.Textbox(label="result")
        ask, ask_json, ask_turn, rate = gr.Button(), gr.Button(), gr.Button(), gr.Button()

    def ask_text(message: str, state: Session) -> tuple[str, Session]:
        """Answers one question (a follow-up of this client's previous ones) as plain text."""
        return render.answer_text(chat.final_answer(engine, message, state)), state

    def ask_structured(message: str, state: Session) -> tuple[dict[str, Any], Session]:
        """Answers one question; returns the `oncoqa ask --json` object."""
        return chat.final_answer(engine, message, state).to_json(), state

    def ask_in_conversation(message: str, turns: Any) -> dict[str, Any]:
        """Answers one question of the conversation sent with it (a list of {"question",
        "answer"}, oldest first) and keeps no state: with several app processes, any of them
        can answer any turn."""
        return chat.stateless_answer(engine, message, turns).to_json()

    def feedback(value: str, comment: str, state: Session) -> str:
        """Rates this client's last answer: value "up" or "down", with an optional comment."""
        lang = state.last.answer.language if state.last else "en"
        return chat.rate(settings, state.last, value, comment, lang)

    ask.click(ask_text, [question, session], [text, session], api_name="ask",
              concurrency_id="answer")
    ask_json.click(ask_structured, [question, session], [data, session], api_name="ask_json",
                   concurrency_id="answer")
    ask_turn.click(ask_in_conversation, [question, history], [reply], api_name="ask_turn",
                   concurrency_id="answer")
    rate.click(feedback, [rating, note, session], [result], api_name="feedback")


def launch(demo: gr.Blocks, settings: Settings, *, prevent_thread_lock: bool = False,
           quiet: bool = False) -> tuple[Any, str, str]:
    """Queues and launches the app on settings.ui (loopback, no share link by default)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    demo.queue(default_concurrency_limit=settings.ui.concurrency, max_size=settings.ui.max_queue)
    return demo.launch(
        server_name=settings.ui.host, server_port=settings.ui.port, share=settings.ui.share,
        prevent_thread_lock=prevent_thread_lock, quiet=quiet, ssr_mode=False,
        css_paths=[STYLE], theme=gr.themes.Soft(font=_FONTS, font_mono=["monospace"]),
        footer_links=["api"],
    )


@dataclass(frozen=True)
class Served:
    """What `start` launched: the patient app and, when there is a password, the console."""

    app: gr.Blocks
    url: str
    console: gr.Blocks | None = None
    console_url: str = ""

    def close(self) -> None:
        for demo in (self.console, self.app):
            if demo is not None:
                demo.close()


def start(settings: Settings, engine: Engine, console: ConsoleActions | None = None,
          extra_tabs: Sequence[ExtraTab] = (), *, prevent_thread_lock: bool = False,
          quiet: bool = False) -> Served:
    """Launches the console (only with a maintainer password and actions to run; on its own
    port) and then the patient app. A console that cannot start is logged, and the patient app
    runs without it."""
    panel, panel_url = None, ""
    if console is not None and settings.console.enabled:
        try:
            panel = build_console(settings, console, extra_tabs)
            _, panel_url, _ = launch_console(panel, settings, quiet=quiet)
            log.info("maintainer console at %s", panel_url)
        except (OncoQAError, OSError) as exc:
            reason = exc.friendly() if isinstance(exc, OncoQAError) else str(exc)
            log.error("maintainer console not started: %s", reason)
            panel, panel_url = None, ""
    demo = build_app(settings, engine)
    _, url, _ = launch(demo, settings, prevent_thread_lock=prevent_thread_lock, quiet=quiet)
    return Served(demo, url, panel, panel_url)


def serve(settings: Settings, engine: Engine, console: ConsoleActions | None = None,
          extra_tabs: Sequence[ExtraTab] = ()) -> None:
    """Serve the app (and the console) until interrupted; the engine's models load in the
    background meanwhile, so the first question does not wait for them."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    threading.Thread(target=engine.warm_up, name="oncoqa-warm-up", daemon=True).start()
    start(settings, engine, console, extra_tabs)
