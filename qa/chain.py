"""The answer chain, orchestration only: question -> safety -> retrieval -> gate -> sentence
selection -> one-sentence phrasing, each verified -> cited answer."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from langchain_core.language_models import BaseChatModel

from core.settings import Settings
from core.text import CJK_CHAR, Lang, language_of, split_sentences
from qa import glossary, prompts, safety
from qa.bm25 import tokenize
from qa.gate import (
    GATE_TOP,
    Evidence,
    absent_names,
    assess_evidence,
    question_concepts,
    unnamed_term,
)
from qa.judge import Judge, Review, Reviewing, reviews
from qa.override import Neighbours
from qa.phrase import Phrased, Phraser, failure_note
from qa.question import check_question, focus_question, standalone_question
from qa.retriever import HybridRetriever
from qa.select import Candidate, Selection, SentenceSelector
from qa.translate import QuestionTranslator
from qa.types import Answer, Citation, Passage, Support, Timings, Turn


@dataclass(frozen=True)
class _Context:
    question: str  # standalone question
    lang: Lang
    focus: str  # what an answer sentence must match (a follow-up's own ask)
    borrowed: bool  # a follow-up rewritten with the conversation's topic
    risk: safety.Assessment
    passages: tuple[Passage, ...]
    evidence: Evidence
    selection: Selection
    # the direct answer says what the term a definition question asks about is
    defines: bool = False


class Answerer:
    """Answers questions from the index. One instance serves many conversations."""

    def __init__(self, retriever: HybridRetriever, llm: BaseChatModel | None,
                 settings: Settings, *, selector: SentenceSelector, phraser: Phraser,
                 neighbours: Neighbours | None = None, judge: Judge | None = None,
                 translator: Callable[[str], str | None] | None = None) -> None:
        self.retriever = retriever
        self.judge = judge  # the model's yes/no on candidate sentences (None: not asked)
        self.neighbours = neighbours  # the e5 layer of the override check (None: rules only)
        self.llm = llm
        self.settings = settings
        self.selector = selector
        self.phraser = phraser
        # the retriever's, when it searches with the rendering too: one call per question
        self._translate = translator or (QuestionTranslator(llm) if llm is not None else None)

    def answer(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        return final_answer(self.stream(question, history))

    def stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[str | Answer]:
        """Yields each verified sentence as soon as it is ready, then the final Answer."""
        started = time.perf_counter()

        def elapsed() -> float:
            return (time.perf_counter() - started) * 1000

        text = check_question(question)
        lang = language_of(text)  # decided once, passed down
        risk = self._assess(text, lang)
        preface = preface_for(risk, lang)
        if preface:  # urgent advice goes out before any retrieval or model work
            yield preface + "\n\n"
        if safety.Risk.OVERRIDE in risk.risks:
            yield override_refusal(risk, lang, preface, elapsed())
            return
        ctx = self._context(text, history, lang, risk)
        retrieval_ms = elapsed()
        base = Answer(text="", language=lang, retrieved=ctx.passages, preface=preface,
                      notice=prompts.DISCLAIMER(lang), standalone_question=ctx.question)
        if risk.is_urgent and not self._answerable(ctx, urgent=True):
            # Nothing but the urgent message: unrelated quotes under it only distract.
            yield _urgent_only(base, Timings(retrieval_ms, elapsed(), elapsed()), "safety")
            return
        if not self._answerable(ctx):
            yield self._refusal(base, preface, ctx, Timings(retrieval_ms, elapsed(), elapsed()))
            return
        reviewing = self._review(ctx)
        judged = reviewing.review if reviewing is not None else None
        if judged is not None and (judged.refuse or self._left_to_model(ctx, judged)):
            timings = Timings(retrieval_ms, elapsed(), elapsed())
            if risk.is_urgent:
                yield _urgent_only(base, timings, "judge")
            else:  # (unheard: the reason is the floor's)
                yield self._refusal(base, preface, ctx, timings,
                                    judged=judged if judged.refuse else None)
            return
        shown: list[Phrased] = []
        first = 0.0
        # "What my documents say in general:" goes out with the first sentence: a refusal after
        # it would read as the documents' general information.
        header = general_header(risk, lang)
        # After an urgent message, only the one sentence that answers (after its lead-in), in the
        # reader's language.
        # The first sentence can be settled before the model has rated every candidate: it is
        # phrased and shown while the rest are rated (qa.judge.reviews).
        if reviewing is not None:
            chosen: Iterable[Candidate] = reviewing.chosen(first_only=risk.is_urgent)
        else:
            chosen = ctx.selection.chosen
            if risk.is_urgent:
                chosen = chosen[:2 if ctx.selection.leads_in else 1]
        shown_at: set[tuple[int, int]] = set()
        for candidate in chosen:
            if candidate.lead_at is not None and candidate.lead_at not in shown_at:
                continue  # its lead-in was not shown: it cannot be read alone
            phrased = self.phraser.phrase(candidate, lang, retry=not shown)
            if any(p.text == phrased.text for p in shown):
                continue  # never show one sentence twice
            if phrased.mode == "quoted" and (shown or risk.is_urgent):
                continue  # a supporting sentence is not worth a passage in another language
            if header and not shown:
                yield header + "\n\n"
            shown.append(phrased)
            shown_at.add((candidate.n, candidate.start))
            first = first or elapsed()
            yield _render([phrased], lang) + _gap(lang)
        judged = reviewing.review if reviewing is not None else None
        unchecked = self.judge.last_failure if (
            judged is not None and judged.unheard and self.judge is not None) else ""
        body = _render(shown, lang) + failure_note(shown, lang, unchecked=unchecked)
        preface = "\n\n".join(p for p in (preface, header if shown else "") if p)
        yield replace(
            base, text=f"{preface}\n\n{body}" if preface else body, preface=preface,
            kind="safety" if risk.is_urgent else "answer", citations=_citations(shown, ctx),
            backend="llm" if any(p.mode in ("rewrite", "translation") for p in shown)
            else "extractive",
            timings=Timings(retrieval_ms, first or elapsed(), elapsed()),
        )

    def _assess(self, text: str, lang: Lang) -> safety.Assessment:
        """The rules' triage, and a message that reads like a known attempt to change how the
        assistant works counted as one (its vector is remembered for retrieval)."""
        risk = safety.assess(text)
        if safety.Risk.OVERRIDE in risk.risks or self.neighbours is None:
            return risk
        example = self.neighbours.nearest_attempt(text)
        if example is None:
            return risk
        return replace(risk, risks=risk.risks | {safety.Risk.OVERRIDE},
                       overrides=(prompts.OVERRIDE_LIKE(lang, example=example),))

    def _context(self, text: str, history: Sequence[Turn], lang: Lang,
                 risk: safety.Assessment) -> _Context:
        standalone = standalone_question(text, history, self.llm, lang)
        borrowed = standalone != text  # a follow-up rewritten with the conversation's topic
        passages = tuple(self.retriever.search(standalone))
        config = self.settings.retrieval
        evidence = assess_evidence(
            question_concepts(standalone), passages, idf=self.retriever.view().bm25.idf,
            min_dense=config.min_score_zh if lang == "zh" else config.min_score,
            # Chinese text on the scale of English text (qa.select.Weights): lower for a
            # Chinese question, higher for an English one (a document only in Chinese)
            discount={"zh": self.selector.weights.same_language_zh if lang == "zh"
                      else -self.selector.weights.english_zh},
        )
        focus = focus_question(text, standalone, history)  # a follow-up's own ask
        # named in the reader's language; a Chinese drug name the glossary lacks is looked up
        # through the question's English rendering
        absent = absent_names(standalone, passages, lang=lang, english=lambda: self._english(focus))
        term = unnamed_term(focus, passages)  # "What is adjuvant chemotherapy?"
        absent += (term,) if term and term not in absent else ()  # (a drug: named once)
        if absent:  # a drug or concern the passages never mention: nothing in them is about it
            evidence = replace(evidence, covered=False, absent=absent)
        # Keyword terms include the glossary's English; similarity uses the question (and its
        # English rendering for a Chinese question), not the glossary's bag of English terms,
        # which on the dev split favoured topic sentences.
        variants = self.retriever.query_variants(standalone)
        # (not for a question the gate turns away outright: that refusal costs no model call)
        english = self._english(focus) if lang == "zh" and (
            evidence.covered or self._asks_below_floor(lang, borrowed, evidence, passages)
        ) else None
        queries = [english, focus] if english else [focus]
        terms = [t for v in [*variants, *queries[:-1]] for t in tokenize(v)]
        selection = self.selector.select(queries, terms, passages, lang, topic=standalone)
        # a definition of the asked term among the candidates the model would rate comes
        # first and counts as evidence (qa.select)
        selection, defines = self.selector.definition_first(
            selection, focus, look=self.settings.answer.judge_rerank)
        return _Context(standalone, lang, focus, borrowed, risk, passages, evidence,
                        selection, defines)

    def _english(self, question: str) -> str | None:
        """The model's English rendering of a Chinese question (None without a model or when
        it fails); the translator remembers it."""
        if self._translate is None or not self.settings.answer.translate_question:
            return None
        return self._translate(question)

    def _answerable(self, ctx: _Context, *, urgent: bool = False) -> bool:
        """The evidence gate: the best passage is close enough, or one of its sentences scores
        the trusted score (a passage that is mostly about something else can hold the one
        sentence that answers), or the direct answer defines the term a definition question
        asks about (a short question, "What does 'metastasised' mean?", scores low against
        every passage), or the model is there to read the best sentences (_review: below the
        floor only its "yes" answers); and selection found a sentence that answers (a higher
        bar under an urgent message)."""
        config = self.settings.answer
        floor = config.min_sentence_score_urgent if urgent else config.min_sentence_score
        # Below the floor, the model reads the best sentences and only its "yes" answers
        # (_review: nothing is trusted there): a Chinese question scores low against every
        # English passage (出现平台期的时候，病人应该做点什么？). Not a follow-up that borrowed
        # the conversation's names, nor a question naming what no passage mentions.
        asked = self._asks_below_floor(ctx.lang, ctx.borrowed, ctx.evidence, ctx.passages)
        return (ctx.evidence.covered or self._trusted(ctx) or asked) and bool(
            ctx.selection.chosen) and ctx.selection.best >= floor

    def _asks_below_floor(self, lang: Lang, borrowed: bool, evidence: Evidence,
                          passages: Sequence[Passage]) -> bool:
        """Whether a question below the passage floor goes to the model's reading (by default
        a Chinese one: across languages the dense floor turns away answerable questions). Not
        when passages the gate read are in the question's own language: that excuse is gone
        (and the model says "yes" to a Chinese sentence more readily)."""
        config = self.settings.answer
        return (lang in config.judge_below_floor and self.judge is not None and config.judge
                and not borrowed and not evidence.absent
                and not any(p.language == lang for p in passages[:GATE_TOP]))

    def _trusted(self, ctx: _Context) -> bool:
        """A sentence scores the trusted score, or defines the asked term (not with a
        follow-up's borrowed names, which lift every score; not with a drug or concern no
        passage mentions)."""
        return (not ctx.borrowed and not ctx.evidence.absent
                and (ctx.selection.top >= self.settings.answer.judge_trust or ctx.defines))

    def _left_to_model(self, ctx: _Context, judged: Review) -> bool:
        """Below the floor with nothing trusted, the model's reading was the only way in: when
        no rating could be read (the model is down), the question is refused."""
        return judged.unheard and not ctx.evidence.covered and not self._trusted(ctx)

    def _review(self, ctx: _Context) -> Reviewing | None:
        """The model's ratings of the best candidates (qa.judge), when there is a model; the
        first step is ready when the first sentence is settled."""
        config = self.settings.answer
        if self.judge is None or not config.judge:
            return None
        # The names a follow-up borrowed raise every sentence's score: no score is trusted. Nor
        # is one that passed the gate on its own (its passage is below the floor): the model's
        # "no" can refuse it. A definition of the asked term is never refused: the model's
        # ratings only re-rank.
        if ctx.borrowed and config.judge_follow_ups:
            trust = math.inf
        elif ctx.defines and not ctx.borrowed:
            trust = -math.inf
        else:
            trust = math.inf if not ctx.evidence.covered else config.judge_trust
        return Reviewing(reviews(
            ctx.selection, ctx.focus, self.judge.rate, look=config.judge_look,
            rerank=config.judge_rerank, trust=trust, weight=config.judge_weight,
            choose=lambda ranked: self.selector.choose(ranked, margin=config.judge_margin)))

    def _refusal(self, base: Answer, preface: str, ctx: _Context, timings: Timings, *,
                 judged: Review | None = None) -> Answer:
        lang = ctx.lang
        message = prompts.NOT_COVERED(lang)
        if ctx.evidence.absent:
            message = prompts.NOT_MENTIONED(
                lang, names=prompts.TOPIC_LIST_SEPARATOR(lang).join(ctx.evidence.absent))
        # The closest documents by title, translated where a verified translation is
        # remembered (qa.pretranslate makes them ahead; a refusal never waits for the model).
        topics = [self.phraser.title(t, lang)
                  for t in dict.fromkeys(p.title for p in ctx.passages[:3])]
        if topics and ctx.evidence.best_dense > 0:
            quoted = prompts.TOPIC_LIST_SEPARATOR(lang).join(
                prompts.TOPIC(lang, title=t) + (prompts.TITLE_GLOSS(
                    lang, terms=prompts.TERM_SEPARATOR(lang).join(terms)) if terms else "")
                for t, terms in topics[:2])
            message += prompts.NOT_COVERED_CLOSEST(lang, topics=quoted)
        reason = prompts.REFUSAL_REASON(lang, score=ctx.evidence.best_dense)
        if ctx.evidence.absent:
            reason = prompts.NOT_MENTIONED_REASON(
                lang, names=prompts.TOPIC_LIST_SEPARATOR(lang).join(ctx.evidence.absent))
        elif judged is not None:  # the model read the closest sentences: none answers
            reason = prompts.JUDGED_NO_REASON(lang, asked=judged.looked, score=ctx.selection.best)
        elif ctx.evidence.covered:  # close passages, but no sentence in them answers
            reason = prompts.NO_ANSWER_SENTENCE_REASON(lang, score=ctx.selection.best)
        missing = _own_terms(ctx.evidence.missing, ctx) if ctx.borrowed else ctx.evidence.missing
        missing = _as_asked(missing, ctx.question)
        if missing and not ctx.evidence.absent:
            reason += f"; missing: {', '.join(missing)}"
        return replace(
            base, text=f"{preface}\n\n{message}" if preface else message,
            kind="safety" if ctx.risk.is_urgent else "refusal", refused=True,
            refusal_reason=reason, backend="judge" if judged else "gate", timings=timings,
            notice=prompts.REFUSAL_NOTICE(lang),
        )


def final_answer(events: Iterator[str | Answer]) -> Answer:
    """The Answer that ends a stream of text deltas."""
    final = None
    for event in events:
        if isinstance(event, Answer):
            final = event
    assert final is not None
    return final


def preface_for(risk: safety.Assessment, lang: Lang) -> str:
    """Urgent-care and no-personal-advice messages that open an answer, if any."""
    parts = []
    if risk.is_urgent:
        parts.append(safety.urgent_message(risk, lang))
    if safety.Risk.OVERRIDE in risk.risks:  # refused whole: no general information follows
        return "\n\n".join(parts)
    if _about_own_medicine(risk):
        parts.append(prompts.PERSONAL_MEDICATION(lang))
    return "\n\n".join(parts)


def general_header(risk: safety.Assessment, lang: Lang) -> str:
    """The line that introduces source sentences after the no-personal-advice message."""
    if safety.Risk.OVERRIDE in risk.risks or not _about_own_medicine(risk):
        return ""
    return prompts.GENERAL_INFO_HEADER(lang)


def _about_own_medicine(risk: safety.Assessment) -> bool:
    return bool(risk.risks & {safety.Risk.PERSONAL_DOSING, safety.Risk.STOP_DRUG})


def override_refusal(risk: safety.Assessment, lang: Lang, preface: str,
                     elapsed_ms: float) -> Answer:
    """The answer to a message that tries to change how the assistant works (qa.override):
    no retrieval and no model call; an urgent message still comes first."""
    message = prompts.OVERRIDE(lang)
    return Answer(
        text=f"{preface}\n\n{message}" if preface else message, language=lang,
        kind="safety" if risk.is_urgent else "refusal", refused=True, backend="safety",
        refusal_reason=prompts.OVERRIDE_REASON(lang, phrases="; ".join(risk.overrides)),
        preface=preface, notice=prompts.REFUSAL_NOTICE(lang),
        timings=Timings(0.0, elapsed_ms, elapsed_ms),
    )


def _own_terms(missing: Sequence[str], ctx: _Context) -> tuple[str, ...]:
    """The missing terms a follow-up asked about itself: words of the previous question that
    was searched with it are not what the reader is told is missing."""
    own = set(tokenize(ctx.focus))
    return tuple(term for term in missing if own.issuperset(term.split()))


def _as_asked(terms: Sequence[str], question: str) -> tuple[str, ...]:
    """Missing terms in the words the question used ("during", not the index's "dure"); single
    characters of a Chinese word the tokenizer does not know are put back together where they
    stand side by side in the question (驴胶和鹿胶: "驴胶, 鹿胶", not "驴, 胶, 鹿")."""
    words: dict[str, str] = {}
    for word in re.findall(r"[A-Za-z][\w'-]*", question):
        tokens = tokenize(word)
        if len(tokens) == 1:
            words.setdefault(tokens[0], word)
    # a glossary concept in the words that named it ("prostat cancer" for 前列腺癌)
    named = {}
    for span, forms in glossary.concepts(question):
        tokens = next((tokens for tokens in map(tokenize, forms) if tokens), [])
        if tokens:
            named[" ".join(tokens)] = span
    asked = [named.get(term) or " ".join(words.get(t, t) for t in term.split())
             for term in terms]
    single = {t.casefold() for t in asked if len(t) == 1}
    if not any(CJK_CHAR.match(t) for t in single):
        return _outermost(asked)
    # the runs of such characters in the question, where the first of them stood
    marks = "".join("1" if ch.casefold() in single else "0" for ch in question)
    runs = [question[m.start():m.end()] for m in re.finditer("1+", marks)]
    words_kept = [t for t in asked if len(t) > 1]
    out: list[str] = []
    for t in asked:
        if len(t) > 1:
            out.append(t)
        elif runs:
            out += [r for r in dict.fromkeys(runs) if r not in words_kept]
            runs = []
    return _outermost(out)


def _outermost(terms: Sequence[str]) -> tuple[str, ...]:
    """The terms not inside another one: the index keeps a Chinese word and its overlapping
    pairs of characters (继发性, 继发, 发性), a reader needs the word once (other terms only as
    whole words: "hair" stays beside "chair")."""
    def inside(t: str, u: str) -> bool:
        return t != u and (t in u if CJK_CHAR.match(t) else f" {t} " in f" {u} ")
    return tuple(t for t in terms if not any(inside(t, u) for u in terms))


def _urgent_only(base: Answer, timings: Timings, backend: str) -> Answer:
    """The urgent message alone: no source sentence answers closely enough to stand under it."""
    return replace(base, text=base.preface, kind="safety", refused=True, backend=backend,
                   refusal_reason=prompts.URGENT_ONLY_REASON(base.language), timings=timings)


def _gap(lang: Lang) -> str:
    return "" if lang == "zh" else " "


def _render(shown: Sequence[Phrased], lang: Lang) -> str:
    """Each shown sentence followed by the marker of the passage its source sentence is in (a
    rewrite that came out as two sentences marks both)."""
    return _gap(lang).join(_gap(lang).join(_with_marker(piece.text, p.source.n)
                                           for piece in split_sentences(p.text))
                           for p in shown)


def _with_marker(sentence: str, n: int) -> str:
    """[n] goes before the sentence's closing punctuation."""
    stripped = sentence.rstrip()
    if stripped and stripped[-1] in ".!?。！？；;":
        return f"{stripped[:-1]} [{n}]{stripped[-1]}"
    return f"{stripped} [{n}]"


def _citations(shown: Sequence[Phrased], ctx: _Context) -> tuple[Citation, ...]:
    """One citation per cited passage, carrying each shown sentence with its source sentence."""
    by_passage: dict[int, list[Phrased]] = {}
    for p in shown:
        by_passage.setdefault(p.source.n, []).append(p)
    out = []
    for n in sorted(by_passage):
        passage = ctx.passages[n - 1]
        items = by_passage[n]
        out.append(Citation(
            n=n, source=passage.source, title=passage.title, text=passage.text,
            start=passage.start, end=passage.end,
            sentences=tuple(_with_marker(p.text, n) for p in items),
            quote=items[0].source.text,
            support=tuple(Support(sentence=p.text, source_sentence=p.source.text, mode=p.mode,
                                  start=passage.start + p.source.start,
                                  end=passage.start + p.source.end) for p in items),
        ))
    return tuple(out)
