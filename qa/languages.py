"""The languages OncoQA answers in, around any answerer: other languages get a plain bilingual
refusal; Traditional Chinese is answered through Simplified and shown in Traditional."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any, Protocol

from core.text import language_tag, to_simplified, to_traditional
from qa import prompts
from qa.chain import final_answer
from qa.question import check_question
from qa.types import Answer, Citation, Turn

SUPPORTED = ("en", "zh-Hans", "zh-Hant")


class Streaming(Protocol):
    def stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[str | Answer]: ...


class LanguageFront:
    """Wraps an answer design (qa.chain.Answerer or qa.compose.ComposeAnswerer), which then only
    ever sees English or Simplified Chinese. The composition root puts it around every answerer
    it builds."""

    def __init__(self, inner: Streaming) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        # Transparent otherwise: callers reach the design's retriever, selector and settings.
        return getattr(self.inner, name)

    def answer(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        return final_answer(self.stream(question, history))

    def stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[str | Answer]:
        text = check_question(question)
        tag = language_tag(text)
        if tag not in SUPPORTED:
            yield other_language_answer(tag)
            return
        convert = _for_reader(tag)
        if tag == "zh-Hant":  # retrieval, the glossary and the prompts all speak Simplified
            text = to_simplified(text)
            history = [Turn(to_simplified(t.question), to_simplified(t.answer)) for t in history]
        for event in self.inner.stream(text, history):
            yield in_script(event, convert, tag) if isinstance(event, Answer) else convert(event)


def other_language_answer(tag: str) -> Answer:
    """The refusal for a question in a language OncoQA does not answer in."""
    return Answer(text=prompts.OTHER_LANGUAGE, language="en", language_tag=tag, kind="refusal",
                  refused=True, refusal_reason=prompts.OTHER_LANGUAGE_REASON.format(tag=tag),
                  backend="language")


def _for_reader(tag: str) -> Callable[[str], str]:
    """What puts answer text into the reader's script (documents may be in either)."""
    if tag == "zh-Hant":
        return to_traditional
    return to_simplified if tag == "zh-Hans" else _unchanged


def _unchanged(text: str) -> str:
    return text


def in_script(answer: Answer, convert: Callable[[str], str], tag: str) -> Answer:
    """The answer with everything written for the reader converted; quotes and passages stay
    as the documents wrote them."""
    return replace(
        answer, text=convert(answer.text), preface=convert(answer.preface),
        notice=convert(answer.notice), standalone_question=convert(answer.standalone_question),
        refusal_reason=convert(answer.refusal_reason) if answer.refusal_reason else None,
        citations=tuple(_citation(c, convert) for c in answer.citations), language_tag=tag,
    )


def _citation(citation: Citation, convert: Callable[[str], str]) -> Citation:
    return replace(
        citation, sentences=tuple(convert(s) for s in citation.sentences),
        support=tuple(replace(s, sentence=convert(s.sentence)) for s in citation.support),
    )
