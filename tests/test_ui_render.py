"""Unit tests of the UI's pure parts: rendering, strings, feedback lines, the turn logic."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import BadQuestionError, LLMUnavailableError
from core.settings import Settings
from qa.types import Answer, Citation, Turn
from ui import chat, feedback, i18n, render

HOSTILE = "Dose plan. <script>alert('x')</script> then <img src=x onerror=alert(1)> & more."


def citation(n: int, text: str = "First sentence. The cited sentence here. Last one.",
             quote: str = "The cited sentence here.", source: str | None = None) -> Citation:
    return Citation(n=n, source=source or f"00{n}_doc.txt", title=f"Title {n}", text=text,
                    start=10 * n, end=10 * n + len(text), quote=quote)


def answer(text: str = "Chemo can shrink the tumour [1]. It also kills cells [3].",
           kind: str = "answer", citations: tuple[Citation, ...] | None = None,
           language: str = "en") -> Answer:
    return Answer(text=text, language=language, kind=kind,  # type: ignore[arg-type]
                  citations=(citation(1), citation(3)) if citations is None else citations,
                  notice="Not medical advice.", refused=kind == "refusal")


# --- rendering -----------------------------------------------------------------------------

def test_hostile_text_is_escaped_everywhere() -> None:
    hostile = answer(text=HOSTILE, citations=(citation(1, text=HOSTILE, quote="Dose plan."),))
    out = render.answer_html(hostile) + render.question_html(HOSTILE)
    assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out
    assert "&amp; more" in out and "&amp;lt;" not in out  # escaped once, not twice


def test_a_literal_entity_in_a_document_stays_literal() -> None:
    assert render.paragraphs("a &lt; b") == "<p>a &amp;lt; b</p>"


def test_messages_are_single_line_html_blocks() -> None:
    # Markdown passes a block starting with <div> through untouched only up to a blank line.
    text = "First paragraph [1].\n\n\nSecond\nline [3]."
    multi = answer(text=text, citations=(citation(1, text="a\n\nb", quote="b"), citation(3)))
    for html in (render.answer_html(multi), render.question_html(text),
                 render.streaming_html(text, "en")):
        assert html.startswith("<div") and "\n" not in html
    assert "<p>First paragraph" in render.paragraphs(text)
    assert "Second<br>line" in render.paragraphs(text)


def test_sources_are_numbered_like_the_markers() -> None:
    html = render.answer_html(answer(citations=(citation(3), citation(1))))
    assert re.findall(r'class="oncoqa-n">\[(\d+)\]', html) == ["1", "3"]
    assert '<sup class="oncoqa-cite">[1]</sup>' in html
    assert "Title 1" in html and "001_doc.txt" in html and "003_doc.txt" in html
    assert html.count("<details") == 2 and "<summary>" in html


def test_markers_are_styled_as_qa_citations_parses_them() -> None:
    from qa.citations import parse_citations

    text = "化疗可以缩小肿瘤［1］。It also works [2-3] and [1，4]. Not a marker: [a]."
    html = render.paragraphs(text)
    styled = re.findall(r'<sup class="oncoqa-cite">(.*?)</sup>', html)
    assert styled == ["［1］", "[2-3]", "[1，4]"]
    assert parse_citations("".join(styled), 4) == [1, 2, 3, 4]  # the same markers, one parser
    assert "[a]" in html and "oncoqa-cite" not in render.paragraphs(text, markers=False)


def test_the_quote_is_highlighted_in_the_passage() -> None:
    marked = render.highlight("First sentence. The cited sentence here. Last one.",
                              "The cited sentence here.")
    assert marked == "First sentence. <mark>The cited sentence here.</mark> Last one."
    assert "<mark>cited\n" not in render.highlight("A cited\n  line <b>.", "cited line <b>.")
    assert render.highlight("A cited\n  line <b>.", "cited line <b>.") == (
        "A <mark>cited<br>  line &lt;b&gt;.</mark>")
    assert "<mark>" not in render.highlight("Nothing to see.", "absent sentence")
    assert "<mark>" not in render.highlight("Nothing to see.", "  ")


@pytest.mark.parametrize("kind", ["refusal", "safety", "error"])
def test_refusals_safety_and_errors_are_callouts(kind: str) -> None:
    html = render.answer_html(answer(text="I cannot answer.", kind=kind, citations=()))
    assert f"oncoqa-callout oncoqa-{kind}" in html and 'class="oncoqa-icon"' in html
    assert "oncoqa-answer" not in html and "oncoqa-sources" not in html


def test_answers_are_not_callouts_and_carry_the_notice() -> None:
    html = render.answer_html(answer())
    assert 'class="oncoqa-answer"' in html and "oncoqa-callout" not in html
    assert '<div class="oncoqa-notice">Not medical advice.</div>' in html


def test_chinese_answer_uses_chinese_labels() -> None:
    html = render.answer_html(answer(text="化疗可以缩小肿瘤 [1]。", language="zh",
                                     citations=(citation(1),)))
    assert "资料来源" in html and "查看原文" in html


def test_plain_text_for_api_clients() -> None:
    text = render.answer_text(answer())
    assert text.startswith("Chemo can shrink the tumour [1].")
    assert "Sources:\n[1] Title 1 (001_doc.txt)\n    “The cited sentence here.”\n[3]" in text
    assert text.endswith("Not medical advice.")
    refused = render.answer_text(answer(text="Not covered.", kind="refusal", citations=()))
    assert "Sources" not in refused and refused.startswith("Not covered.")


def test_streaming_placeholder_follows_the_interface_language() -> None:
    assert "Searching the documents" in render.streaming_html("", "en")
    assert "正在检索资料" in render.streaming_html(" ", "zh")
    assert "&lt;b&gt;" in render.streaming_html("<b>", "en")


# --- strings -------------------------------------------------------------------------------

def test_every_string_exists_in_both_languages() -> None:
    for key, (en, zh) in i18n.STRINGS.items():
        assert en.strip() and zh.strip(), key
        assert re.search(r"[\u4e00-\u9fff]", zh) or key == "page_title", key
        assert set(re.findall(r"{(\w+)}", en)) == set(re.findall(r"{(\w+)}", zh)), key
    assert i18n.t("zh-CN", "send") == "发送" and i18n.t("fr", "send") == "Send"
    assert "3 documents" in i18n.t("en", "status", backend="x", documents=3, chunks=9)
    assert any(re.search(r"[\u4e00-\u9fff]", q) for q in i18n.EXAMPLES)
    assert any(q.isascii() for q in i18n.EXAMPLES)


# --- feedback ------------------------------------------------------------------------------

def test_feedback_record_and_append(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "feedback.jsonl"
    record = feedback.make_record("化疗？", answer(language="zh"), "up", "  很好 ")
    feedback.append(path, record)
    feedback.append(path, feedback.make_record("q2", answer(), "down"))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and "化疗？" in lines[0]  # unicode kept readable
    first = json.loads(lines[0])
    assert first["rating"] == "up" and first["comment"] == "很好" and first["language"] == "zh"
    assert first["citations"][0] == {"n": 1, "source": "001_doc.txt", "title": "Title 1",
                                     "start": 10, "end": 10 + len(citation(1).text)}
    assert first["time"].endswith("+00:00") and first["answer"].startswith("Chemo")
    assert feedback.read(path)[1]["rating"] == "down"


def test_concurrent_appends_lose_no_line(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    record = feedback.make_record("q", answer(), "up", "x" * 5000)
    threads = [threading.Thread(target=feedback.append, args=(path, record)) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(feedback.read(path)) == 20


def test_rating_values() -> None:
    assert feedback.rating_of(True) == "up" and feedback.rating_of("Like") == "up"
    assert feedback.rating_of(False) == "down" and feedback.rating_of("Dislike") == "down"
    assert feedback.rating_of(None) is None and feedback.rating_of("Other") is None
    assert feedback.rating_of("") is None  # Gradio's value when a thumb is clicked again


# --- turn logic ----------------------------------------------------------------------------

class FakeAnswerer:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.histories: list[list[Turn]] = []

    def stream(self, question: str, history: list[Turn]) -> Iterator[str | Answer]:
        self.histories.append(list(history))
        if self.error:
            raise self.error
        yield "Draft <b>one</b> "
        yield "two"
        yield answer(text="Final [1].", citations=(citation(1),))


def test_respond_streams_then_replaces_with_the_final(settings: Settings) -> None:
    fake = FakeAnswerer()
    session = chat.Session()
    steps = list(chat.respond(chat.Engine(settings, fake), "First?", session, "en"))
    shown = [messages[1]["content"] for _, messages, _ in steps]
    assert "Searching" in shown[0] and "Draft &lt;b&gt;one&lt;/b&gt; two" in shown[2]
    assert "Final" in shown[-1] and "Draft" not in shown[-1] and "oncoqa-sources" in shown[-1]
    list(chat.respond(chat.Engine(settings, fake), "And then?", session, "en"))
    assert fake.histories[1] == [Turn("First?", "Final [1].")]
    assert set(session.exchanges) == {1, 3} and session.last is not None


@pytest.mark.parametrize("error, expected", [
    (BadQuestionError("Please type a question."), "Please type a question."),
    (LLMUnavailableError("server down", hint="start it"), "server down. start it"),
])
def test_oncoqa_errors_become_friendly_messages(settings: Settings, error: Exception,
                                                expected: str) -> None:
    session = chat.Session()
    final = chat.final_answer(chat.Engine(settings, FakeAnswerer(error)), "q", session)
    assert final.kind == "error" and final.text == expected
    assert session.history == [] and session.last is None


def test_rate_appends_a_line_for_the_exchange(settings: Settings) -> None:
    exchange = chat.Exchange("Why?", answer())
    assert chat.rate(settings, exchange, True, "ok", "zh") == "感谢您的反馈。"
    assert chat.rate(settings, None, True, "", "en") == "There is no answer to rate yet."
    assert [r["question"] for r in feedback.read(settings.feedback_file)] == ["Why?"]


def test_missing_index_shows_how_to_build_it(settings: Settings) -> None:
    from oncoqa.serve import build_engine

    engine = build_engine(settings)
    assert "oncoqa ingest" in chat.status_line(engine, "en")
    final = chat.final_answer(engine, "What is chemotherapy?", chat.Session())
    assert final.kind == "error" and "oncoqa ingest" in final.text


def test_engine_builds_the_handed_in_factory_once(settings: Settings) -> None:
    built: list[FakeAnswerer] = []

    def build() -> FakeAnswerer:
        built.append(FakeAnswerer())
        return built[-1]

    engine = chat.Engine(settings, build=build)
    engine.warm_up()
    chat.final_answer(engine, "First?", chat.Session())
    assert len(built) == 1 and len(built[0].histories) == 1
    assert chat.status_line(engine, "en") == ""  # no index status handed in: nothing shown
    with pytest.raises(ValueError, match="answerer"):
        chat.Engine(settings)


def test_ensure_index_builds_a_missing_index(settings: Settings) -> None:
    from oncoqa.serve import build_engine
    from oncoqa.wiring import ensure_index

    assert ensure_index(settings) is None
    assert "5 documents" in chat.status_line(build_engine(settings), "en")
    broken = settings.model_copy(update={"corpus_dir": settings.data_dir / "nowhere",
                                         "data_dir": settings.data_dir / "other"})
    assert "does not exist" in (ensure_index(broken) or "")
