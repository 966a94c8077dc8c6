"""The previous answer design, kept for side-by-side evaluation: the model composes an answer from
four passages and a lexical support check filters it sentence by sentence."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from core.settings import Settings
from core.text import language_of, script_of
from qa import extractive, glossary, prompts, safety
from qa.bm25 import tokenize
from qa.chain import final_answer, general_header, override_refusal, preface_for
from qa.citations import format_context, strip_invalid
from qa.gate import Evidence, assess_evidence, question_concepts
from qa.llm import backend_errors, describe_failure
from qa.question import check_question, standalone_question
from qa.retriever import HybridRetriever
from qa.support import SupportResult, check_answer, check_sentence
from qa.types import Answer, Citation, Lang, Passage, Timings, Turn

# The model's own "not covered" phrasing (we instruct it to use exactly this in prompts.SYSTEM).
_PLACEHOLDER = re.compile(r"\s*[\[【［]\s*[nN]\s*[\]】］]")
_MODEL_DECLINES = ("do not cover", "don't cover", "没有涉及", "无法回答")


@dataclass(frozen=True)
class _Draft:
    body: str
    citations: tuple[Citation, ...]
    backend: str


class ComposeAnswerer:
    """Answers by composing from passages (the design before sentence selection)."""

    def __init__(self, retriever: HybridRetriever, llm: BaseChatModel | None,
                 settings: Settings) -> None:
        self.retriever = retriever
        self.llm = llm
        self.settings = settings

    def answer(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        return final_answer(self.stream(question, history))

    def stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[str | Answer]:
        """Yields text deltas as they are generated, then the checked final Answer (whose text
        replaces the deltas: unsupported sentences may have been removed)."""
        started = time.perf_counter()
        text = check_question(question)
        lang = language_of(text)
        risk = safety.assess(text)
        if safety.Risk.OVERRIDE in risk.risks:
            yield override_refusal(risk, lang, preface_for(risk, lang),
                                   (time.perf_counter() - started) * 1000)
            return
        standalone = standalone_question(text, history, self.llm, lang)
        passages = self.retriever.search(standalone)
        retrieval_ms = (time.perf_counter() - started) * 1000
        evidence = self._evidence(standalone, passages, lang)
        # (this design keeps the general-information line even before a refusal)
        preface = "\n\n".join(p for p in (preface_for(risk, lang), general_header(risk, lang))
                                if p)
        base = Answer(text="", language=lang, retrieved=tuple(passages),
                      notice=prompts.DISCLAIMER(lang), standalone_question=standalone)

        def elapsed() -> float:
            return (time.perf_counter() - started) * 1000

        if not evidence.covered:
            yield self._refusal(base, preface, risk, evidence, passages, lang,
                                Timings(retrieval_ms, elapsed(), elapsed()))
            return
        if preface:
            yield preface + "\n\n"
        first_token = 0.0
        draft: _Draft | None = None
        if self.llm is not None:
            pieces: list[str] = []
            try:
                for delta in self._generate(standalone, passages, lang, risk):
                    first_token = first_token or elapsed()
                    pieces.append(delta)
                    yield delta
                draft = self._check("".join(pieces), passages, lang)
            except backend_errors() as exc:
                note = prompts.LLM_UNAVAILABLE(lang, detail=describe_failure(exc).message)
                draft = self._extractive(standalone, passages, lang, note=note)
        if draft is None:
            draft = self._extractive(standalone, passages, lang)
        if draft.body == "":  # the model read the passages and found no answer
            yield self._refusal(base, preface, risk, evidence, passages, lang,
                                Timings(retrieval_ms, first_token or elapsed(), elapsed()),
                                reason=prompts.MODEL_DECLINED_REASON(lang))
            return
        body = f"{preface}\n\n{draft.body}" if preface else draft.body
        yield replace(
            base, text=body, kind="safety" if risk.is_urgent else "answer",
            citations=draft.citations, backend=draft.backend,
            timings=Timings(retrieval_ms, first_token or elapsed(), elapsed()),
        )

    def _evidence(self, question: str, passages: Sequence[Passage], lang: Lang) -> Evidence:
        config = self.settings.retrieval
        return assess_evidence(
            question_concepts(question), passages, idf=self.retriever.view().bm25.idf,
            min_dense=config.min_score_zh if lang == "zh" else config.min_score,
        )

    def _refusal(self, base: Answer, preface: str, risk: safety.Assessment, evidence: Evidence,
                 passages: Sequence[Passage], lang: Lang, timings: Timings,
                 reason: str | None = None) -> Answer:
        message = prompts.NOT_COVERED(lang)
        topics = list(dict.fromkeys(p.title for p in passages[:3]))
        if topics and evidence.best_dense > 0:
            quoted = prompts.TOPIC_LIST_SEPARATOR(lang).join(
                prompts.TOPIC(lang, title=t) for t in topics[:2])
            message += prompts.NOT_COVERED_CLOSEST(lang, topics=quoted)
        text = f"{preface}\n\n{message}" if preface else message
        return replace(
            base, text=text, kind="safety" if risk.is_urgent else "refusal", refused=True,
            refusal_reason=reason or prompts.REFUSAL_REASON(lang, score=evidence.best_dense)
            + (f"; missing: {', '.join(evidence.missing)}" if evidence.missing else ""),
            backend="gate", timings=timings, notice=prompts.REFUSAL_NOTICE(lang),
        )

    def _generate(self, question: str, passages: Sequence[Passage], lang: Lang,
                  risk: safety.Assessment) -> Iterator[str]:
        assert self.llm is not None
        context = format_context(self._budgeted(question, passages))
        user = prompts.USER(lang, context=context, question=question)
        if risk.risks & {safety.Risk.PERSONAL_DOSING, safety.Risk.STOP_DRUG}:
            user += "\n" + prompts.SAFETY_INSTRUCTION(lang)
        messages = [SystemMessage(content=prompts.SYSTEM), HumanMessage(content=user)]
        for chunk in self.llm.stream(messages):
            if chunk.content:
                yield str(chunk.content)

    def _budgeted(self, question: str, passages: Sequence[Passage]) -> list[Passage]:
        """Passages cut to their most relevant sentences within the token budget: prompt size
        is what a CPU pays for before the first token."""
        terms = [t for v in self.retriever.query_variants(question) for t in tokenize(v)]
        share = max(60, self.settings.llm.context_tokens // max(1, len(passages)))
        idf = self.retriever.view().bm25.idf
        return [replace(p, text=extractive.compress(p.text, terms, share, idf=idf))
                for p in passages]

    def _check(self, raw: str, passages: Sequence[Passage], lang: Lang) -> _Draft:
        """Keep only sentences whose citations support them; fall back to extractive if none."""
        # Small models sometimes copy a placeholder marker such as "[n]" literally.
        text = strip_invalid(_PLACEHOLDER.sub("", raw).strip(), len(passages))
        if any(phrase in text.lower() for phrase in _MODEL_DECLINES) and "[" not in text:
            return _Draft("", (), "llm")
        texts = [p.text for p in passages]
        results = [_attribute(sentence, cited, result, texts)
                   for sentence, cited, result in check_answer(text, texts,
                                                               glossary_terms=glossary.expand)]
        kept = [(sentence, cited, result) for sentence, cited, result in results
                if cited and result.supported]
        if not kept or (lang == "zh" and script_of(" ".join(s for s, _, _ in kept)) != "zh"):
            note = prompts.NO_SUPPORTED_ANSWER_NOTE(lang)
            return self._extractive("", passages, lang, note=note, terms_from=text)
        body = " ".join(sentence for sentence, _, _ in kept) if lang == "en" else "".join(
            sentence for sentence, _, _ in kept)
        return _Draft(body, _citations(kept, passages), "llm")

    def _translate_extract(self, rendered: str) -> str | None:
        """Chinese rendering of English source sentences, kept only when it preserves every
        number and citation marker (translation is a narrower task than answering)."""
        if self.llm is None or script_of(rendered) == "zh":
            return None
        try:
            reply = self.llm.invoke(
                [HumanMessage(content=prompts.TRANSLATE_EXTRACT.format(text=rendered))],
                max_tokens=400, temperature=0.0,
            )
        except backend_errors():
            return None
        text = _PLACEHOLDER.sub("", str(reply.content)).strip()
        if (script_of(text) != "zh" or _numbers(text) != _numbers(rendered)
                or set(_MARKER.findall(text)) != set(_MARKER.findall(rendered))):
            return None
        return text

    def _extractive(self, question: str, passages: Sequence[Passage], lang: Lang, *,
                    note: str = "", terms_from: str = "") -> _Draft:
        view = self.retriever.view()
        source = question or terms_from
        terms = [t for v in self.retriever.query_variants(source) for t in tokenize(v)]
        extracts = extractive.best_sentences(terms, passages, idf=view.bm25.idf)
        rendered = extractive.render(extracts)
        translated = self._translate_extract(rendered) if lang == "zh" else None
        if translated:
            body = prompts.EXTRACTIVE_HEADER_TRANSLATED + "\n" + translated
        else:
            body = prompts.EXTRACTIVE_HEADER(lang) + "\n" + rendered
        if note:
            body = f"{note}\n\n{body}"
        cited = [(f"{e.sentence} [{e.n}]", (e.n,), None) for e in extracts]
        return _Draft(body, _citations(cited, passages), "extractive")


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?", _MARKER.sub(" ", text)))


_MARKER = re.compile(r"\[\d+\]")


def _attribute(sentence: str, cited: tuple[int, ...], result: SupportResult,
               passages: Sequence[str]) -> tuple[str, tuple[int, ...], SupportResult]:
    """Small models often forget the markers: cite the one passage that supports an uncited
    sentence, so a grounded sentence is kept (with its marker) rather than dropped."""
    if cited or result.reason != "no-citation":
        return sentence, cited, result
    best: tuple[float, int, SupportResult] | None = None
    for n, passage in enumerate(passages, 1):
        check = check_sentence(sentence, [passage], glossary_terms=glossary.expand)
        if check.supported and (best is None or check.overlap > best[0]):
            best = (check.overlap, n, check)
    if best is None:
        return sentence, cited, result
    return _with_marker(sentence, best[1]), (best[1],), best[2]


def _with_marker(sentence: str, n: int) -> str:
    """Insert [n] before the sentence's closing punctuation."""
    stripped = sentence.rstrip()
    if stripped and stripped[-1] in ".!?。！？":
        return f"{stripped[:-1]} [{n}]{stripped[-1]}"
    return f"{stripped} [{n}]"


def _citations(kept: Sequence[tuple[str, tuple[int, ...], object]],
               passages: Sequence[Passage]) -> tuple[Citation, ...]:
    by_number: dict[int, list[str]] = {}
    quotes: dict[int, str] = {}
    for sentence, cited, result in kept:
        for n in cited:
            by_number.setdefault(n, []).append(sentence)
            best = getattr(result, "best_sentence", "")
            if best and n not in quotes:
                quotes[n] = best
    citations = []
    for n in sorted(by_number):
        p = passages[n - 1]
        quote = quotes.get(n) or _strip_marker(by_number[n][0])
        citations.append(Citation(n=n, source=p.source, title=p.title, text=p.text, start=p.start,
                                  end=p.end, sentences=tuple(by_number[n]), quote=quote))
    return tuple(citations)


def _strip_marker(sentence: str) -> str:
    return sentence.rsplit(" [", 1)[0]
