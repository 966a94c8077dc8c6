"""Phrasing, one sentence at a time: the model simplifies or translates a chosen source sentence,
and only a rewrite the verifier accepts is shown; otherwise the source sentence is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from core.text import Lang, script_of
from qa import glossary, prompts
from qa.citations import strip_markers
from qa.llm import backend_errors, failure_detail
from qa.memory import PhraseMemory
from qa.select import Candidate
from qa.verify import REVISION, Limits, Similarity, Verdict, verify

Mode = Literal["rewrite", "translation", "verbatim", "quoted"]

# Labels small models put before their output ("Plain version:", "译文：").
_LABEL = re.compile(r"^\s*(?:[A-Za-z ]{2,30}|[\u4e00-\u9fff]{1,6})\s*[:：]\s*(?=\S)")
_QUOTES = "\"'“”‘’「」『』"
# A break after the mark (it stays with its clause); an English comma only before a space, so
# 1,000 stays whole.
_CLAUSE_BREAK = re.compile(r"(?<=[;，；])|(?<=,)(?=\s)")
_CLAUSE_END = ",;，；。.!?！？ "


@dataclass(frozen=True)
class Phrased:
    """A sentence as the reader sees it, and the one source sentence it stands for."""

    text: str
    source: Candidate
    mode: Mode  # rewrite / translation (verified model output), verbatim, or quoted original
    verdict: Verdict | None = None  # the verifier's decision on the model's attempt, if any
    failure: str = ""  # why the model could not be asked (backend down), for the note


class Phraser:
    """Asks the model for one sentence at a time; never shows what the verifier rejects."""

    def __init__(self, llm: BaseChatModel | None, *, similarity: Similarity | None = None,
                 limits: Limits | None = None, simplify: bool = False,
                 simplify_from: int = 15, memory: PhraseMemory | None = None) -> None:
        self.llm = llm
        self.memory = memory  # verified (and rejected) phrasings of earlier answers
        self.similarity = similarity
        self.limits = limits or Limits()
        self.simplify = simplify
        self.simplify_from = simplify_from  # shorter sentences are plain enough as they are

    def phrase(self, candidate: Candidate, target: Lang, *, retry: bool = True) -> Phrased:
        """retry: a failed translation gets a second, literal attempt (worth its time for the
        direct answer, not for every supporting sentence)."""
        source = candidate.text.strip()
        same = (candidate.language or target) == target
        short = len(source.split()) < self.simplify_from if target == "en" else len(
            source) < 2 * self.simplify_from
        if self.llm is None or (same and (not self.simplify or short)):
            return self._fallback(candidate, target)
        hint = "" if same else term_hints(source, target)
        keys = self._keys(source, target, hint, same=same, retry=retry)
        known = self._recall(keys, candidate, target)
        if known is not None:
            return known
        instructions = self._instructions(source, target, hint, same=same, retry=retry)
        try:
            phrased = self._attempt(instructions, candidate, target, same=same, retry=retry)
        except backend_errors() as exc:  # not remembered: the model may be back next time
            return self._fallback(candidate, target, failure=failure_detail(exc))
        if self.memory is not None:
            if phrased.mode == _mode(same):
                self.memory.put(keys[0][0], phrased.text)
            else:
                self.memory.put(self._rejected(keys[0][0]), None)
        return phrased

    def remembered(self, candidate: Candidate, target: Lang, *, retry: bool = True) -> bool:
        """Whether phrase() would answer from the memory, without a model call (a verified
        text, or attempts at least as full as these all rejected)."""
        source = candidate.text.strip()
        same = (candidate.language or target) == target
        hint = "" if same else term_hints(source, target)
        keys = self._keys(source, target, hint, same=same, retry=retry)
        return self._recall(keys, candidate, target) is not None

    def recalled(self, text: str, target: Lang) -> str | None:
        """A verified phrasing of text in target from the memory alone, never a model call
        (for a refusal, which must not wait: the documents' titles are translated ahead);
        None when none is remembered or the remembered attempts all failed."""
        candidate = Candidate.of_text(text.strip())
        if candidate.language == target:
            return candidate.text
        keys = self._keys(candidate.text, target, term_hints(candidate.text, target),
                          same=False, retry=True)
        known = self._recall(keys, candidate, target)
        return known.text if known is not None and known.mode == "translation" else None

    def title(self, title: str, target: Lang) -> tuple[str, tuple[str, ...]]:
        """A document title for a reader of target: its remembered translation, else the
        original with the glossary's words for what it names, to show beside it ("When should
        chemotherapy be stopped? ..." with 化疗、耐药、影像): a glossary form is a checked
        translation, and a refusal never waits for the model."""
        known = self.recalled(title, target)
        if known is not None:
            return known, ()
        return title, tuple(dict.fromkeys(glossary.name_in(e, target)
                                          for e in glossary.mentions(title)))

    @staticmethod
    def _instructions(source: str, target: Lang, hint: str, *, same: bool,
                      retry: bool) -> list[str]:
        attempts = [prompts.SIMPLIFY] if same else [prompts.TRANSLATE_SENTENCE]
        if not same and retry:
            attempts.append(prompts.TRANSLATE_LITERAL)
        return [template(target, sentence=source) + hint for template in attempts]

    def _keys(self, source: str, target: Lang, hint: str, *, same: bool,
              retry: bool) -> list[tuple[str, bool]]:
        """The memory keys to look under, this request's own first, each with whether a
        failure remembered there holds for this request. A translation without retries also
        looks under the key of the full attempt (it starts with the same instruction, so its
        failure holds), and the full attempt under the single one (a verified text from it is
        as good; its failure leaves the retries to try)."""
        if self.memory is None:
            return []
        levels = [retry] if same else [retry, not retry]
        keys = []
        for level in levels:
            parts = self._instructions(source, target, hint, same=same, retry=level)
            if not same and level:  # the clause prompt's wording is part of a full attempt
                parts.append(prompts.TRANSLATE_PART(target, sentence=""))
            keys.append((self.memory.key(target, *parts), level == retry or level))
        return keys

    def _rejected(self, key: str) -> str:
        """Where the failure of every attempt under key is kept: for this verifier revision."""
        assert self.memory is not None
        return self.memory.key("rejected", str(REVISION), key)

    def _recall(self, keys: list[tuple[str, bool]], candidate: Candidate,
                target: Lang) -> Phrased | None:
        """A remembered phrasing that still passes the verifier; the source sentence when
        attempts at least as full as this one's all failed before; None: ask the model."""
        if self.memory is None:
            return None
        source = candidate.text.strip()
        failed = False
        for key, holds in keys:
            if holds and self.memory.get(self._rejected(key)) is not None:
                failed = True
            recall = self.memory.get(key)
            if recall is None or recall.text is None:  # no text, or an older verifier's "no"
                continue
            verdict = self._verify(recall.text, source, target)
            if verdict.ok:
                return Phrased(recall.text, candidate,
                               _mode((candidate.language or target) == target), verdict)
        return self._fallback(candidate, target) if failed else None

    def _attempt(self, instructions: list[str], candidate: Candidate, target: Lang, *,
                 same: bool, retry: bool) -> Phrased:
        """The model's attempts in turn (then clause by clause for a translation worth a
        retry); the first the verifier accepts, else the source sentence."""
        source = candidate.text.strip()
        verdict: Verdict | None = None
        for instruction in instructions:
            text = self._ask(instruction, source)
            verdict = self._verify(text, source, target)
            if verdict.ok:
                return Phrased(text, candidate, _mode(same), verdict)
        parts = clauses(source)
        if not same and retry and len(parts) > 1:
            text = self._by_clauses(parts, target)
            joined = self._verify(text, source, target)
            if joined.ok:  # the whole sentence is checked, as for any translation
                return Phrased(text, candidate, "translation", joined)
        return self._fallback(candidate, target, verdict=verdict)

    def _verify(self, text: str, source: str, target: Lang) -> Verdict:
        return verify(text, source, target, similarity=self.similarity, limits=self.limits)

    def _by_clauses(self, parts: list[str], target: Lang) -> str:
        """One translation per clause, joined into one sentence of the target language."""
        out = []
        for part in parts:
            text = self._ask(prompts.TRANSLATE_PART(target, sentence=part)
                             + term_hints(part, target), part)
            out.append(text.strip().rstrip(_CLAUSE_END))
        return prompts.CLAUSE_JOINER(target).join(t for t in out if t) + prompts.SENTENCE_END(
            target)

    def _ask(self, instruction: str, source: str) -> str:
        assert self.llm is not None
        budget = 24 + 3 * len(source) // 2 if script_of(source) == "zh" else 24 + len(source) // 2
        reply = self.llm.invoke(
            [SystemMessage(content=prompts.PHRASE_SYSTEM), HumanMessage(content=instruction)],
            max_tokens=min(200, budget), temperature=0.0, stop=["\n\n"],
        )
        return clean(str(reply.content))

    @staticmethod
    def _fallback(candidate: Candidate, target: Lang, *, verdict: Verdict | None = None,
                  failure: str = "") -> Phrased:
        source = candidate.text.strip()
        if (candidate.language or target) == target:
            return Phrased(source, candidate, "verbatim", verdict, failure)
        return Phrased(prompts.QUOTED_SOURCE(target) + source, candidate, "quoted", verdict,
                       failure)


def _mode(same: bool) -> Mode:
    """What a verified model output is: a rewrite in the same language, or a translation."""
    return "rewrite" if same else "translation"


def clauses(sentence: str, *, min_words: int = 3, most: int = 4) -> list[str]:
    """A sentence cut at its commas and semicolons into at most `most` parts; a part shorter
    than min_words (or min_words * 2 CJK characters) joins the one before it."""
    def size(part: str) -> float:
        return len(part) / 2 if script_of(part) == "zh" else len(part.split())

    parts: list[str] = []
    for piece in _CLAUSE_BREAK.split(sentence.strip()):
        piece = piece.strip()
        if not piece:
            continue
        if parts and (size(piece) < min_words or size(parts[-1]) < min_words):
            parts[-1] = f"{parts[-1]} {piece}" if script_of(piece) != "zh" else parts[-1] + piece
        else:
            parts.append(piece)
    while len(parts) > most:  # join the shortest neighbouring pair
        i = min(range(len(parts) - 1), key=lambda j: size(parts[j]) + size(parts[j + 1]))
        glue = "" if script_of(parts[i]) == "zh" else " "
        parts[i:i + 2] = [parts[i] + glue + parts[i + 1]]
    return parts


def term_hints(source: str, target: Lang) -> str:
    """The glossary's names for the drugs, tests and cancers of a sentence to translate."""
    pairs = glossary.hints(source, target)
    if not pairs:
        return ""
    listed = prompts.TERM_PAIR_SEPARATOR(target).join(
        prompts.TERM_PAIR.format(source=a, target=b) for a, b in pairs)
    return prompts.TERM_HINTS(target, pairs=listed)


def failure_note(shown: list[Phrased], lang: Lang, *, unchecked: str = "") -> str:
    """The note under an answer whose sentences are shown as they are because the model could
    not be asked (empty when it could). unchecked: why the yes/no check got no reply, for an
    answer whose sentences needed no phrasing call."""
    failure = next((p.failure for p in shown if p.failure), "") or unchecked
    return "\n\n" + prompts.LLM_UNAVAILABLE(lang, detail=failure) if failure else ""


def clean(raw: str) -> str:
    """The model's sentence without labels, wrapping quotes, citation markers or extra lines."""
    text = strip_markers(raw).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    text = lines[0] if lines else ""
    text = _LABEL.sub("", text, count=1).strip()
    if len(text) > 1 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return text
