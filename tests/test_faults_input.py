"""Questions and feedback as people really send them: fuzzed questions through the real answer
chain (real Chroma, fake embedder), lone surrogates, and ratings the app does not know."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from core.errors import BadQuestionError
from core.settings import Settings
from ingest.embeddings import HashEmbeddings
from ingest.pipeline import ingest
from oncoqa.wiring import build_answerer
from qa.question import check_question
from qa.types import Answer
from ui import chat, feedback

THANKS = "Thank you for your feedback."
# Pieces people paste: controls, lone surrogates, zero-width and bidi marks, emoji, CJK (both
# scripts), full-width brackets, citation markers, markup, combining accents.
POOLS = (
    "abcdefghijklmnopqrstuvwxyz ABCXYZ chemotherapy surgery fever ",
    "0123456789 .,;:!?()[]{}<>/\\'\"`~@#$%^&*-_=+|",
    "".join(map(chr, range(0, 32))) + "\x7f\x85\x9f",
    "\ud800\udbff\udc00\udfff\udcff",
    "\u200b\u200c\u200d\u2060\ufeff\u202e\u202d\u061c",
    "😀🩺💊🧬👩‍⚕️",
    "化疗结束后多久可以做手术鼻咽癌為什麼會轉移放療",
    "［１］【】（）《》「」、。？！",
    "<script>alert(1)</script><img src=x onerror=y>",
    "e\u0301a\u0308\u0327",
    "مرحبا שלום Привет こんにちは 안녕하세요",
)


def _question(rng: random.Random) -> str:
    size = rng.choice([0, 1, 3, 12, 40, 120, 700, 1200])
    return "".join(rng.choice(rng.choice(POOLS)) for _ in range(size))


def _expected_error(question: str) -> str | None:
    try:
        check_question(question)
    except BadQuestionError as exc:
        return exc.message
    return None


@pytest.fixture
def engine(settings: Settings) -> chat.Engine:
    ingest(settings, HashEmbeddings())
    return chat.Engine(settings, build_answerer(settings, HashEmbeddings()))


def test_fuzzed_questions_get_an_answer_or_the_exact_input_message(
        settings: Settings, engine: chat.Engine) -> None:
    rng = random.Random(20261129)
    questions = [_question(rng) for _ in range(60)] + [
        "\ud800", "What is chemo\udcff therapy?", "\x00" * 10, " " * 5000, "？" * 3,
        "[1] [2]", "化疗\ud83d后多久可以手术？"]
    for question in questions:
        session = chat.Session()
        final = chat.final_answer(engine, question, session)
        assert isinstance(final, Answer) and final.text.strip(), repr(question)
        json.dumps(final.to_json(), ensure_ascii=False).encode("utf-8")  # storable, showable
        expected = _expected_error(question)
        if expected is not None:
            assert (final.kind, final.text) == ("error", expected), repr(question)
            continue
        assert final.kind in ("answer", "refusal", "safety"), (repr(question), final.text)
        # rating it works even when the question held text UTF-8 cannot encode
        assert chat.rate(settings, session.last, "up", "\udcff ok", "en") == THANKS
    lines = feedback.read(settings.feedback_file)
    assert lines and all(line["comment"] == "\udcff ok" for line in lines)


class _Fixed:
    """An answerer that always gives the same answer (the chain is not under test here)."""

    def stream(self, question: str, history: list) -> list[Answer]:  # type: ignore[type-arg]
        return [Answer(text="Chemotherapy comes first.", language="en")]


def test_a_lone_surrogate_question_does_not_break_later_feedback(settings: Settings) -> None:
    engine = chat.Engine(settings, _Fixed())
    session = chat.Session()
    question = "chemo \ud83d first?"
    chat.final_answer(engine, question, session)
    assert chat.rate(settings, session.last, "down", "", "en") == THANKS
    chat.final_answer(engine, "And then?", session)
    assert chat.rate(settings, session.last, "up", "", "zh") == "感谢您的反馈。"
    assert [r["question"] for r in feedback.read(settings.feedback_file)] == [question,
                                                                               "And then?"]


def test_an_unknown_rating_is_named_not_taken_for_a_missing_answer(settings: Settings,
                                                                  tmp_path: Path) -> None:
    engine = chat.Engine(settings, _Fixed())
    session = chat.Session()
    assert chat.rate(settings, session.last, "up", "", "en") == "There is no answer to rate yet."
    chat.final_answer(engine, "Why chemotherapy first?", session)
    assert chat.rate(settings, session.last, "meh", "", "en") == (
        'Unknown rating "meh": rate with "up" or "down".')
    assert chat.rate(settings, session.last, "meh", "", "zh") == (
        '无法识别的评价“meh”：请用 "up"（有用）或 "down"（没用）。')
    assert not settings.feedback_file.exists()
