"""Run gold items through the retriever or the full answer chain and judge every result."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from core.errors import OncoQAError
from core.text import language_of
from eval import metrics
from eval.gold import Evidence, GoldItem, Located
from qa.citations import cited_sentences
from qa.question import check_question, standalone_question
from qa.types import Answer, Citation, Passage, Turn

Progress = Callable[[int, int, str], None]  # (done, total, item id)


class Searcher(Protocol):
    def search(self, question: str, k: int | None = None) -> list[Passage]: ...


class Answering(Protocol):
    def answer(self, question: str, history: Sequence[Turn] = ()) -> Answer: ...


@dataclass(frozen=True)
class Hit:
    """A retrieved passage (or cited passage) and whether it is relevant to the item."""

    source: str
    start: int
    end: int
    score: float
    language: str
    doc: bool
    passage: bool


@dataclass(frozen=True)
class AnswerResult:
    text: str
    refused: bool
    kind: str
    backend: str
    language_match: bool
    facts_found: tuple[str, ...]  # the first surface form of each fact found / missed
    facts_missing: tuple[str, ...]
    citations: tuple[Hit, ...]
    must_not_found: tuple[str, ...] = ()  # wrong claims the answer states
    body_language: float = 1.0
    loop: bool = False
    citation_recall: float | None = None
    citation_precision: float | None = None


@dataclass(frozen=True)
class Row:
    """One gold item's outcome; `values` holds every per-item metric it takes part in."""

    id: str
    file: str
    language: str
    direction: str
    answerable: bool
    question: str
    turns: tuple[str, ...]
    query: str  # what was retrieved for (the standalone question)
    retrieved: tuple[Hit, ...]
    values: dict[str, float]
    timings: dict[str, float]
    answer: AnswerResult | None = None
    error: str = ""


@dataclass(frozen=True)
class _Outcome:
    query: str
    passages: tuple[Passage, ...]
    timings: dict[str, float]
    answer: Answer | None = None
    error: str = ""


def cutoffs_for(k: int) -> tuple[int, ...]:
    return tuple(sorted({*metrics.CUTOFFS, k}))


def retrieval_query(item: GoldItem) -> str:
    """The chain's standalone question without an LLM: the previous turn prepended to a
    follow-up (qa.question.standalone_question with llm=None)."""
    text = check_question(item.question)
    history = [Turn(question=t) for t in item.turns[:-1]]
    return standalone_question(text, history, None, language_of(text))


def run_retrieval(items: Sequence[GoldItem], retriever: Searcher, evidence: Evidence, k: int,
                  progress: Progress | None = None) -> list[Row]:
    """Retrieval-only evaluation: the last turn's standalone question, top k passages."""

    def one(item: GoldItem) -> _Outcome:
        query = retrieval_query(item)
        started = time.perf_counter()
        passages = retriever.search(query, k=k)
        ms = (time.perf_counter() - started) * 1000
        return _Outcome(query, tuple(passages), {"retrieval": ms})

    return _run(items, one, evidence, cutoffs_for(k), progress)


def run_answers(items: Sequence[GoldItem], answerer: Answering, evidence: Evidence, k: int,
                progress: Progress | None = None) -> list[Row]:
    """Full-chain evaluation: earlier turns are answered first and passed as history."""

    def one(item: GoldItem) -> _Outcome:
        history: list[Turn] = []
        try:
            for turn in item.turns[:-1]:
                history.append(Turn(turn, answerer.answer(turn, history).text))
            answer = answerer.answer(item.question, history)
        except OncoQAError as exc:
            return _Outcome(item.question, (), {}, error=exc.friendly())
        t = answer.timings
        timings = {"retrieval": t.retrieval, "first_token": t.first_token, "total": t.total}
        return _Outcome(answer.standalone_question or item.question, answer.retrieved, timings,
                        answer=answer)

    return _run(items, one, evidence, cutoffs_for(k), progress)


def _run(items: Sequence[GoldItem], one: Callable[[GoldItem], _Outcome], evidence: Evidence,
         cutoffs: Sequence[int], progress: Progress | None) -> list[Row]:
    evidence.check(items)
    outcomes = []
    for done, item in enumerate(items, 1):
        outcomes.append(one(item))
        if progress:
            progress(done, len(items), item.id)
    scores = _scores(items, outcomes, evidence, cutoffs)
    return [_row(item, outcome, evidence, scores.get(item.id, {}))
            for item, outcome in zip(items, outcomes, strict=True)]


def _scores(items: Sequence[GoldItem], outcomes: Sequence[_Outcome], evidence: Evidence,
            cutoffs: Sequence[int]) -> dict[str, dict[str, float]]:
    """Doc- and passage-level scores of all answerable items, computed in one trec_eval run."""
    answerable = [(i, o) for i, o in zip(items, outcomes, strict=True) if i.answerable]
    doc = metrics.retrieval_scores(
        {i.id: dict.fromkeys(i.sources, 1) for i, _ in answerable},
        {i.id: [p.source for p in o.passages] for i, o in answerable}, cutoffs)
    passage = metrics.passage_scores(
        {i.id: [evidence.covered(i, p) for p in o.passages] for i, o in answerable},
        {i.id: len(i.evidence) for i, _ in answerable}, cutoffs)
    merged: dict[str, dict[str, float]] = {}
    for level, scores in (("doc", doc), ("passage", passage)):
        for qid, values in scores.items():
            merged.setdefault(qid, {}).update({f"{level}.{k}": v for k, v in values.items()})
    return merged


def _hit(item: GoldItem, evidence: Evidence, located: Located, score: float = 0.0,
         language: str = "") -> Hit:
    return Hit(located.source, located.start, located.end, score, language,
               doc=evidence.document_relevant(item, located),
               passage=evidence.passage_relevant(item, located))


def _row(item: GoldItem, outcome: _Outcome, evidence: Evidence, scores: dict[str, float]) -> Row:
    values = dict(scores)
    result = None
    if outcome.answer is not None:
        result = _answer_result(item, outcome.answer, evidence)
        values.update(_answer_values(item, result))
    elif outcome.error:  # a failed answer counts as answered, wrongly
        values.update(metrics.refusal_values(item.answerable, refused=False))
        values[metrics.LANGUAGE_MATCH] = 0.0
        if item.answerable and item.key_facts:
            values[metrics.KEY_FACT_RECALL] = 0.0
    return Row(
        id=item.id, file=item.file, language=item.language, direction=item.direction,
        answerable=item.answerable, question=item.question, turns=item.turns,
        query=outcome.query,
        retrieved=tuple(_hit(item, evidence, p, p.score, p.language) for p in outcome.passages),
        values=values, timings=outcome.timings, answer=result, error=outcome.error,
    )


def _answer_result(item: GoldItem, answer: Answer, evidence: Evidence) -> AnswerResult:
    body = answer.text[len(answer.preface):].strip() if answer.preface else answer.text
    # A refusal states no fact, even when a closest topic it names holds a key term
    # ("... the closest topics I have are “Neoadjuvant chemotherapy for ... liver metastases”").
    found = (tuple(False for _ in item.key_facts) if answer.refused
             else metrics.key_facts_found(item.key_facts, answer.text))
    recall = precision = None
    if not answer.refused:
        cited = [numbers for sentence, numbers in cited_sentences(body, len(answer.retrieved))
                 if len(sentence.strip()) > 8]
        recall = sum(bool(n) for n in cited) / len(cited) if cited else 0.0
        judged = [_supports(item, c, sentence, evidence)
                  for c in answer.citations for sentence in (c.sentences or (c.quote,))]
        precision = sum(judged) / len(judged) if judged else None
    return AnswerResult(
        text=answer.text, refused=answer.refused, kind=answer.kind, backend=answer.backend,
        language_match=metrics.language_matches(body, item.language),
        facts_found=tuple(f[0] for f, ok in zip(item.key_facts, found, strict=True) if ok),
        facts_missing=tuple(f[0] for f, ok in zip(item.key_facts, found, strict=True) if not ok),
        citations=tuple(_hit(item, evidence, c) for c in answer.citations),
        must_not_found=metrics.contains_any(getattr(item, "must_not", ()), body),
        body_language=metrics.body_language(body, item.language),
        loop=metrics.has_loop(body), citation_recall=recall, citation_precision=precision,
    )


def _supports(item: GoldItem, citation: Citation, sentence: str, evidence: Evidence) -> bool:
    """A citation supports its sentence when the cited passage overlaps a gold evidence quote,
    or comes from a gold source and the sentence states one of the item's key facts."""
    if evidence.passage_relevant(item, citation):
        return True
    return evidence.document_relevant(item, citation) and any(
        metrics.key_facts_found(item.key_facts, sentence))


def _answer_values(item: GoldItem, result: AnswerResult) -> dict[str, float]:
    values = metrics.refusal_values(item.answerable, result.refused)
    values[metrics.LANGUAGE_MATCH] = float(result.language_match)
    if item.answerable and item.key_facts:
        values[metrics.KEY_FACT_RECALL] = len(result.facts_found) / len(item.key_facts)
    if not result.refused:
        values[metrics.BODY_LANGUAGE] = result.body_language
        values[metrics.LOOP] = float(result.loop)
        if getattr(item, "must_not", ()):
            values[metrics.MUST_NOT] = float(bool(result.must_not_found))
    if item.answerable and result.citation_recall is not None:
        values[metrics.CITATION_RECALL] = result.citation_recall
    if item.answerable and result.citation_precision is not None:
        values[metrics.CITATION_PRECISION] = result.citation_precision
    if item.answerable and result.citations:
        n = len(result.citations)
        values[metrics.CITATION_PRECISION_DOC] = sum(c.doc for c in result.citations) / n
        values[metrics.CITATION_PRECISION_PASSAGE] = sum(c.passage for c in result.citations) / n
    return values


@contextmanager
def progress_bar(description: str, total: int, console: Any = None) -> Iterator[Progress]:
    """A rich progress bar (on stderr unless a console is given) fed by the Progress callback."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    bar = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TextColumn("{task.fields[item]}"),
                   console=console or Console(stderr=True), transient=True)
    with bar:
        task = bar.add_task(description, total=total, item="")
        yield lambda done, _total, item_id: bar.update(task, completed=done, item=item_id)
