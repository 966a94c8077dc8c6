"""Question intake: normalise and validate user text, detect its language, rewrite follow-ups."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from core.text import language_of
from core.errors import BadQuestionError
from qa import prompts
from qa.llm import backend_errors
from qa.types import Lang, Turn

MAX_CHARS = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\ufeff]")
_LETTER = re.compile(r"[A-Za-z\u3400-\u9fff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Short questions that lean on the conversation ("and after that?", "那靶向药呢？").
_FOLLOW_UP = re.compile(
    r"^(and|what about|how about|and if|then|what if|also)\b|\b(it|that|this|they|those|them)\b"
    r"|^(那|那么|还有|如果|它|其|此外)|[这那](种|个|些|样|么|次|时)|(呢|吗)[？?]?$",
    re.IGNORECASE,
)


def check_question(raw: str) -> str:
    """The question with control characters removed; BadQuestionError when unusable."""
    text = _SURROGATE.sub("", unicodedata.normalize("NFC", raw or ""))
    text = _CONTROL.sub(" ", text).strip()
    lang = language_of(text)
    if not text:
        raise BadQuestionError(prompts.QUESTION_EMPTY(lang))
    if len(text) > MAX_CHARS:
        raise BadQuestionError(prompts.QUESTION_TOO_LONG(lang, length=len(text), limit=MAX_CHARS))
    if not _LETTER.search(text):
        raise BadQuestionError(prompts.QUESTION_NO_TEXT(lang))
    return re.sub(r"\s+", " ", text)


def looks_like_follow_up(question: str) -> bool:
    """Elliptical or pronoun-led questions; a short but complete question is not one."""
    fragment = len(question.split()) <= 3 if language_of(question) == "en" else len(question) <= 5
    return fragment or bool(_FOLLOW_UP.search(question.strip()))


def standalone_question(
    question: str, history: Sequence[Turn], llm: BaseChatModel | None, lang: Lang
) -> str:
    """A question that makes sense without the conversation. The LLM rewrites it when there is
    one; otherwise (or if its output is unusable) the previous question is prepended."""
    if not history or not looks_like_follow_up(question):
        return question
    previous = history[-1].question
    fallback = f"{previous} {question}"
    if llm is None:
        return fallback
    lines = "\n".join(
        prompts.HISTORY_LINE(lang, question=t.question, answer=t.answer[:300]) for t in history[-2:]
    )
    try:
        reply = llm.invoke(
            [HumanMessage(content=prompts.REWRITE(lang, history=lines, question=question))],
            max_tokens=80,
        )
    except backend_errors():  # a failing backend just means: use the fallback
        return fallback
    rewritten = str(reply.content).strip().splitlines()[0].strip(" \"'“”") if reply.content else ""
    if not rewritten or len(rewritten) > 3 * len(fallback) or language_of(rewritten) != lang:
        return fallback
    return rewritten
