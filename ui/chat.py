"""One conversation's state, the answerer handed in, and the turn logic behind the UI and API."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.errors import BadQuestionError, NoIndexError, OncoQAError, StoreUnavailableError
from core.settings import Settings
from core.text import language_of
from qa.types import Answer, Turn
from ui import feedback, render
from ui.i18n import t

log = logging.getLogger(__name__)


class StreamingAnswerer(Protocol):
    def stream(self, question: str, history: list[Turn]) -> Iterator[str | Answer]: ...


@dataclass(frozen=True)
class Exchange:
    question: str
    answer: Answer


@dataclass
class Session:
    """Per-browser-tab (or per gradio_client.Client) conversation, kept in a gr.State."""

    history: list[Turn] = field(default_factory=list)
    messages: list[dict[str, str]] = field(default_factory=list)  # what the Chatbot shows
    exchanges: dict[int, Exchange] = field(default_factory=dict)  # answer message index ->
    last: Exchange | None = None  # the latest real answer (what API feedback rates)

    def record(self, question: str, answer: Answer, message_index: int | None = None) -> None:
        exchange = Exchange(question, answer)
        if message_index is not None:
            self.exchanges[message_index] = exchange
        if answer.kind != "error":  # bad input is not part of the conversation
            self.last = exchange
            self.history.append(Turn(question=question, answer=answer.text))

    def chatbot(self) -> list[dict[str, str]]:
        return [dict(m) for m in self.messages]


def error_answer(message: str, question: str, *, shown: str = "") -> Answer:
    """An answer that says why there is none, below what was already shown of it."""
    return Answer(text=f"{shown}\n\n{message}" if shown else message,
                  language=language_of(question or ""), kind="error", backend="ui",
                  preface=shown)


class Engine:
    """The answerer the entry point hands in (or a function that builds it on first use) and the
    index status; turns OncoQAErrors into friendly error answers so a failing turn never takes
    the app down."""

    def __init__(self, settings: Settings, answerer: StreamingAnswerer | None = None, *,
                 build: Callable[[], StreamingAnswerer] | None = None,
                 index_status: Callable[[], Mapping[str, Any]] | None = None,
                 idle_work: Callable[[StreamingAnswerer, Callable[[], bool]], None] | None = None,
                 ) -> None:
        """idle_work(answerer, wait_idle): run by the warm-up thread once the answerer is built
        (e.g. translating ahead); wait_idle() blocks while any conversation is being answered,
        so the work yields the model to readers between its steps."""
        if answerer is None and build is None:
            raise ValueError("Engine needs an answerer or a function that builds one")
        self.settings = settings
        self.index_status = index_status
        self._answerer = answerer
        self._build = build
        self._lock = threading.Lock()
        self._idle_work = idle_work
        self._active = 0  # conversations being answered now
        self._quiet = threading.Condition()

    def answerer(self) -> StreamingAnswerer:
        with self._lock:
            if self._answerer is None:
                assert self._build is not None
                log.info("building the answerer (backend %s)", self.settings.llm.backend)
                self._answerer = self._build()
            return self._answerer

    def warm_up(self) -> None:
        try:
            answerer = self.answerer()
        except OncoQAError as exc:
            log.warning("answerer not ready: %s", exc.friendly())
            return
        if self._idle_work is not None:
            try:
                self._idle_work(answerer, self.wait_idle)
            except OncoQAError as exc:  # background work only: readers are not affected
                log.warning("background work stopped: %s", exc.friendly())

    def wait_idle(self) -> bool:
        """Blocks until no conversation is being answered (True: go on)."""
        with self._quiet:
            self._quiet.wait_for(lambda: self._active == 0)
        return True

    def stream(self, question: str, history: list[Turn]) -> Iterator[str | Answer]:
        with self._quiet:
            self._active += 1
        try:
            yield from self._stream(question, history)
        finally:
            with self._quiet:
                self._active -= 1
                self._quiet.notify_all()

    def _stream(self, question: str, history: list[Turn]) -> Iterator[str | Answer]:
        shown: list[str] = []  # urgent advice streams before retrieval: a failure keeps it
        try:
            for event in self.answerer().stream(question, list(history)):
                if isinstance(event, str):
                    shown.append(event)
                yield event
        except BadQuestionError as exc:
            yield error_answer(exc.message, question)
        except OncoQAError as exc:  # after a store outage the next question reconnects
            log.warning("turn failed: %s", exc.friendly())
            message = (t(language_of(question or ""), "store_down")
                       if isinstance(exc, StoreUnavailableError) else exc.friendly())
            yield error_answer(message, question, shown="".join(shown).strip())


def respond(engine: Engine, message: str, session: Session,
            ui_lang: str) -> Iterator[tuple[str, list[dict[str, str]], Session]]:
    """The chat turn: show the question, stream the draft, then replace it with the final."""
    question = message or ""
    session.messages.append({"role": "user", "content": render.question_html(question)})
    index = len(session.messages)
    session.messages.append({"role": "assistant", "content": render.streaming_html("", ui_lang)})
    yield "", session.chatbot(), session
    draft = ""
    for event in engine.stream(question, session.history):
        if isinstance(event, Answer):
            session.messages[index]["content"] = render.answer_html(event)
            session.record(question, event, index)
        else:
            draft += event
            session.messages[index]["content"] = render.streaming_html(draft, ui_lang)
        yield "", session.chatbot(), session


def final_answer(engine: Engine, message: str, session: Session) -> Answer:
    """The API turn: consume the stream, keep the final answer in the session's history."""
    final = None
    for event in engine.stream(message or "", session.history):
        if isinstance(event, Answer):
            final = event
    if final is None:  # the chain always ends with an Answer; guard the contract anyway
        final = error_answer("no answer was produced", message or "")
    session.record(message or "", final)
    return final


def history_from(data: object) -> list[Turn]:
    """The turns a caller sent: a list of {"question": str, "answer": str}, oldest first."""
    if data in (None, ""):
        return []
    if not isinstance(data, list) or not all(
            isinstance(item, dict) and isinstance(item.get("question"), str)
            and isinstance(item.get("answer", ""), str) for item in data):
        raise BadQuestionError('history must be a list of {"question": ..., "answer": ...}')
    return [Turn(question=item["question"], answer=item.get("answer", "")) for item in data]


def stateless_answer(engine: Engine, message: str, history: object) -> Answer:
    """The API turn for a conversation whose history comes with the request."""
    try:
        turns = history_from(history)
    except BadQuestionError as exc:
        return error_answer(exc.message, message or "")
    return final_answer(engine, message, Session(history=turns))


def rate(settings: Settings, exchange: Exchange | None, rating: object, comment: str,
         ui_lang: str) -> str:
    """Appends the feedback line for an exchange; returns the message to show the user."""
    value = feedback.rating_of(rating)
    if value is None:
        return t(ui_lang, "feedback_bad_rating", value=str(rating)[:20])
    if exchange is None:
        return t(ui_lang, "feedback_missing")
    record = feedback.make_record(exchange.question, exchange.answer, value, comment)
    try:
        feedback.append(settings.feedback_file, record)
    except OSError as exc:  # a read-only or full data folder
        log.warning("feedback not saved to %s: %s", settings.feedback_file, exc)
        return t(ui_lang, "feedback_not_saved", path=settings.feedback_file,
                 reason=exc.strerror or type(exc).__name__)
    log.info("feedback %s on %r", value, exchange.question[:60])
    return t(ui_lang, "feedback_thanks")


def status_line(engine: Engine, ui_lang: str) -> str:
    """Backend and index size, or how to build the index when there is none (nothing when the
    app was handed no index status)."""
    if engine.index_status is None:
        return ""
    try:
        status = engine.index_status()
    except NoIndexError as exc:
        log.info("no usable index: %s", exc.friendly())
        return f"**\u26a0 {t(ui_lang, 'no_index')}**"
    except OncoQAError as exc:
        log.warning("index unusable: %s", exc.friendly())
        return f"**\u26a0 {t(ui_lang, 'index_problem', problem=exc.friendly())}**"
    if not status["documents"]:
        return f"**\u26a0 {t(ui_lang, 'no_index')}**"
    backend = t(ui_lang, f"backend_{engine.settings.llm.backend}")
    return t(ui_lang, "status", backend=backend, documents=status["documents"],
             chunks=status["chunks"])
