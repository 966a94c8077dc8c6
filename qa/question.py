"""Question intake: normalise and validate user text, detect its language, rewrite follow-ups."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from core.errors import BadQuestionError
from core.text import language_of
from qa import glossary, prompts
from qa.llm import backend_errors
from qa.types import Lang, Turn

MAX_CHARS = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\ufeff]")
_LETTER = re.compile(r"[^\W\d_]")  # a letter of any script: other languages get their own answer
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


def looks_like_follow_up(question: str, previous: str = "") -> bool:
    """Elliptical or pronoun-led questions, and questions that name no disease while the
    previous one did ("what tests are done before treatment?" after a question about one
    cancer); a short but complete question is not one."""
    fragment = len(question.split()) <= 3 if language_of(question) == "en" else len(question) <= 5
    if fragment or _FOLLOW_UP.search(question.strip()):
        return True
    return bool(_topics(previous)) and not _topics(question)


def _topics(text: str) -> set[int]:
    """The diseases a question names (glossary entries for cancers and their spread)."""
    return {e for e in glossary.entries(text) if _DISEASE.search(glossary.english_form(e))}


_DISEASE = re.compile(r"cancer|carcinoma|tumou?r|metasta|lymphoma|leuka?emia|sarcoma|neoplasm",
                      re.IGNORECASE)


def _keeps_topic(rewritten: str, question: str, previous: str) -> bool:
    """A rewrite must keep every named thing of the follow-up, the disease of the conversation,
    and add no named thing that neither turn mentioned."""
    named = {e for e in glossary.entries(rewritten) if not glossary.is_generic(e)}
    asked = {e for e in glossary.entries(question) if not glossary.is_generic(e)}
    before = {e for e in glossary.entries(previous) if not glossary.is_generic(e)}
    disease = _topics(question) or _topics(previous)
    return asked <= named and disease <= named and named <= asked | before


def focus_question(question: str, standalone: str, history: Sequence[Turn]) -> str:
    """What an answer sentence must match. A follow-up the model did not rewrite is searched
    with the previous question in front ("What are the main ways nasopharyngeal cancer is
    treated? What tests are done before treatment?"), and sentences ranked against all of that
    answer the previous question again: they are ranked against the follow-up itself, with the
    names it leans on from the previous turn."""
    previous = history[-1].question if history else ""
    if not previous or standalone != f"{previous} {question}" or _borrows_the_ask(question):
        return standalone
    named = glossary.mentions(question)
    carried = [words for entry, words in glossary.mentions(previous).items() if entry not in named]
    return f"{question} ({', '.join(carried)})" if carried else question


def _borrows_the_ask(question: str) -> bool:
    """"And after bevacizumab?", 那靶向药呢？: the follow-up names a thing, the previous question
    says what is asked about it."""
    short = len(question.split()) <= 4 if language_of(question) == "en" else len(question) <= 8
    return short or bool(_ELLIPTICAL.search(question.strip()))


_ELLIPTICAL = re.compile(r"^(?:and|what about|how about|what if)\b|呢[？?]?$", re.IGNORECASE)


def standalone_question(
    question: str, history: Sequence[Turn], llm: BaseChatModel | None, lang: Lang
) -> str:
    """A question that makes sense without the conversation. The LLM rewrites it when there is
    one; otherwise (or if its output is unusable) the previous question is prepended."""
    previous = history[-1].question if history else ""
    if not history or not looks_like_follow_up(question, previous):
        return question
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
    if (not rewritten or len(rewritten) > 3 * len(fallback) or language_of(rewritten) != lang
            or not _keeps_topic(rewritten, question, previous)):
        return fallback
    return rewritten
