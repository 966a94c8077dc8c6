"""The running chat app driven through gradio_client: answers, sources, follow-ups, feedback."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from gradio_client import Client

from core.settings import (
    AnswerSettings,
    EmbeddingSettings,
    LLMSettings,
    RetrievalSettings,
    Settings,
    UISettings,
)
from tests.conftest import CORPUS, free_port
from ui import feedback

pytestmark = pytest.mark.slow

EN_QUESTION = "Why would I get chemotherapy before surgery?"
ZH_QUESTION = "新辅助化疗是什么？"
OUT_OF_SCOPE = "How do I remove stains from shoes?"
XSS_FILE = "900_zorblatin.txt"
XSS_QUESTION = "Which cycle pattern do zorblatin therapy schedules follow for patients in clinic?"
XSS_DOC = (
    "Zorblatin therapy schedules\n"
    "Zorblatin therapy schedules are planned in three-week cycles with a rest week between "
    "cycles. <script>alert('x')</script> The nurse checks blood counts before each zorblatin "
    "cycle. <img src=x onerror=alert(1)> Patients keep a diary of each zorblatin cycle.\n"
)


def make_ui_settings(root: Path) -> Settings:
    """The seed corpus plus one hostile document, indexed with the hash embedder; no LLM."""
    from ingest.pipeline import ingest
    from oncoqa.wiring import build_embeddings

    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / XSS_FILE).write_text(XSS_DOC, encoding="utf-8")
    settings = Settings(
        data_dir=root / "data", corpus_dir=corpus,
        embedding=EmbeddingSettings(backend="hash"), llm=LLMSettings(backend="extractive"),
        # Hash-embedding cosines sit far below e5's: scale the evidence gates to them. With the
        # hash embedder the test questions score 0.25-0.55 and the shoe-stain question 0.10;
        # their best selected sentences 0.25-0.34, the shoe-stain question's 0.17.
        retrieval=RetrievalSettings(min_score=0.2, min_score_zh=0.2),
        answer=AnswerSettings(min_sentence_score=0.2),
        ui=UISettings(host="127.0.0.1", port=free_port()),
    )
    ingest(settings, build_embeddings(settings))
    return settings


def running_app(settings: Settings) -> Iterator[str]:
    """Serves the app on loopback in a background thread; yields its URL, closes it after. The
    engine comes from the entry point's composition root, as `oncoqa ui` builds it."""
    from oncoqa.serve import build_engine
    from ui.app import build_app, launch

    demo = build_app(settings, build_engine(settings))
    _, url, _ = launch(demo, settings, prevent_thread_lock=True, quiet=True)
    try:
        yield url
    finally:
        demo.close()


@pytest.fixture(scope="module")
def ui_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_ui_settings(tmp_path_factory.mktemp("ui-client"))


@pytest.fixture(scope="module")
def app_url(ui_settings: Settings) -> Iterator[str]:
    yield from running_app(ui_settings)


def client(url: str) -> Client:
    """One Client is one conversation (it keeps its session between calls)."""
    return Client(url, verbose=False)


def test_english_question_has_answer_and_sources(app_url: str) -> None:
    data = client(app_url).predict(EN_QUESTION, api_name="/ask_json")
    assert data["kind"] == "answer" and data["language"] == "en"
    assert "000_61149c4b2133eace.txt" in {c["source"] for c in data["citations"]}
    assert all({"n", "source", "title", "quote"} <= set(c) for c in data["citations"])
    text = client(app_url).predict(EN_QUESTION, api_name="/ask")
    assert "Sources:" in text and "000_61149c4b2133eace.txt" in text
    assert "[1]" in text and "not medical advice" in text


def test_chinese_question_is_answered_in_chinese(app_url: str) -> None:
    data = client(app_url).predict(ZH_QUESTION, api_name="/ask_json")
    assert data["kind"] == "answer" and data["language"] == "zh"
    # The hash embedder has no cross-lingual meaning, so the sentence may be quoted from the
    # English review (via the glossary) or the Chinese one; e5 is held to the English source
    # in test_real_models.py.
    assert {c["source"] for c in data["citations"]} & {"000_61149c4b2133eace.txt",
                                                      "001_a72f36e8a6caebd0.txt"}
    text = client(app_url).predict(ZH_QUESTION, api_name="/ask")
    assert "资料来源" in text and "不构成医疗建议" in text


def test_follow_up_uses_the_same_clients_conversation(app_url: str) -> None:
    conversation = client(app_url)
    conversation.predict(EN_QUESTION, api_name="/ask")
    follow_up = conversation.predict("What about early tumors?", api_name="/ask_json")
    # Without an LLM the chain makes a follow-up standalone by prefixing the last question.
    assert follow_up["standalone_question"].startswith(EN_QUESTION)
    assert follow_up["kind"] == "answer"
    fresh = client(app_url).predict("What about early tumors?", api_name="/ask_json")
    assert fresh["standalone_question"] == "What about early tumors?"
    conversation.predict(api_name="/reset")
    after_reset = conversation.predict("What about early tumors?", api_name="/ask_json")
    assert after_reset["standalone_question"] == "What about early tumors?"


def test_out_of_scope_question_is_refused(app_url: str) -> None:
    data = client(app_url).predict(OUT_OF_SCOPE, api_name="/ask_json")
    assert data["refused"] is True and data["kind"] == "refusal"
    assert data["citations"] == []
    text = client(app_url).predict(OUT_OF_SCOPE, api_name="/ask")
    assert "do not cover" in text and "Sources:" not in text


@pytest.mark.parametrize("bad", ["", "   ", "😀😀"])
def test_bad_input_gives_a_message_not_an_error(app_url: str, bad: str) -> None:
    data = client(app_url).predict(bad, api_name="/ask_json")
    assert data["kind"] == "error" and data["citations"] == []
    assert data["answer"] in {"Please type a question.",
                              "I could not find any words in that message. Please ask in "
                              "English or Chinese."}
    assert client(app_url).predict(bad, api_name="/ask") == data["answer"]


def test_hostile_passage_comes_back_as_data(app_url: str) -> None:
    data = client(app_url).predict(XSS_QUESTION, api_name="/ask_json")
    cited = [c for c in data["citations"] if c["source"] == XSS_FILE]
    assert cited and "<script>alert('x')</script>" in cited[0]["text"]


def test_feedback_endpoint_appends_jsonl(app_url: str, ui_settings: Settings) -> None:
    conversation = client(app_url)
    before = len(feedback.read(ui_settings.feedback_file))
    assert conversation.predict("up", "", api_name="/feedback") == "There is no answer to rate yet."
    answered = conversation.predict(EN_QUESTION, api_name="/ask_json")
    assert conversation.predict("down", "too vague", api_name="/feedback") == (
        "Thank you for your feedback.")
    assert conversation.predict("up", "", api_name="/feedback") == "Thank you for your feedback."
    records = feedback.read(ui_settings.feedback_file)[before:]
    assert [r["rating"] for r in records] == ["down", "up"]
    first = records[0]
    assert first["question"] == EN_QUESTION and first["comment"] == "too vague"
    assert first["language"] == "en" and first["answer"] == answered["answer"]
    assert first["citations"] and set(first["citations"][0]) == {"n", "source", "title", "start",
                                                                 "end"}
    assert datetime.fromisoformat(first["time"]).tzinfo is not None
