"""Does a source sentence answer the question? The model reads one candidate sentence at a time
and its reply is read as a rating: the probability it gives "yes" over "no" (the bundled model;
a server without token probabilities replies yes or no under a llama.cpp grammar: 1 or 0).

- The best candidates are re-ranked with the rating (the e5 score plus `weight` x rating): e5
  similarity puts a sentence that only shares the question's topic first about as often as the
  one that answers it, and the 1.5B model tells them apart better when it reads them one by one
  (on the dev split, the evidence sentence came first for 0.35 of questions by score alone,
  0.49 re-ranked over six candidates). Asked to pick from a numbered list, it nearly always
  picks the first: one sentence per call.
- A question none of whose three best candidates gets a "yes" (the exact word the yes/no
  grammar allows being likelier than "no") is refused when no candidate scores the trusted
  score ("Can I drink coffee during chemo?" answered with how chemotherapy works); a
  confident selection is re-ranked but never refused by the model. (The chain trusts
  no score in a follow-up that borrowed the conversation's topic: the borrowed names are what
  made it confident.)"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from qa import prompts
from qa.llm import backend_errors, failure_detail
from qa.select import Candidate, Selection

Verdict = bool | None  # True: answers; False: does not; None: no reply that can be read
Choose = Callable[[Sequence[Candidate]], tuple[Candidate, ...]]

_YES = re.compile(r"^\W*(?:yes|是|对)", re.IGNORECASE)
_NO = re.compile(r"^\W*(?:no|否|不)", re.IGNORECASE)


@dataclass(frozen=True)
class Rating:
    """The model's reading of one candidate sentence."""

    p: float  # P(yes) / (P(yes) + P(no)), any case: how much the sentence moves up
    yes: bool  # the reply the yes/no check gets under its grammar (lower-case words only)


@dataclass(frozen=True)
class Review:
    """The selection after the model's ratings, and whether nothing it read answers."""

    selection: Selection
    refuse: bool  # every sentence checked was a "no", and none is confident
    ratings: tuple[tuple[Candidate, Rating | None], ...] = ()
    looked: int = 0  # how many of the ratings the refusal decision read (the best `look`)
    # How many of selection.chosen are final, in a provisional review (qa.judge.reviews);
    # None: the review is final.
    settled: int | None = None

    @property
    def asked(self) -> int:
        return len(self.ratings)

    @property
    def unheard(self) -> bool:
        """Asked, and no reply could be read (a backend down): the selection stands unchecked."""
        return bool(self.ratings) and all(r is None for _, r in self.ratings)


class Judge:
    """Asks the model whether one sentence answers the question (one short call each)."""

    def __init__(self, llm: BaseChatModel) -> None:
        self.llm = llm
        # Why the latest call got no reply ("" after a reply). The backend is shared by every
        # conversation, so whichever call failed last describes it.
        self.last_failure = ""

    def rate(self, question: str, sentence: str) -> Rating | None:
        """From the model's first reply token where the backend gives token probabilities (the
        bundled model: qa.llm's `first_token_logprobs`), else from its yes/no reply (p 1 or 0).
        None: no reply that can be read."""
        if not getattr(self.llm, "first_token_logprobs", False):
            verdict = self.answers(question, sentence)
            return None if verdict is None else Rating(float(verdict), verdict)
        try:
            reply = self.llm.invoke(self._messages(question, sentence), max_tokens=1,
                                    temperature=0.0, logprobs=True, top_logprobs=10)
        except backend_errors() as exc:
            self.last_failure = failure_detail(exc)
            return None
        self.last_failure = ""
        return rating_of(reply.response_metadata.get("logprobs"))

    def answers(self, question: str, sentence: str) -> Verdict:
        """The grammar goes to llama.cpp (local, or a server that takes it: qa.llm decides)."""
        try:
            reply = self.llm.invoke(self._messages(question, sentence), max_tokens=3,
                                    temperature=0.0, grammar=prompts.YES_NO_GRAMMAR)
        except backend_errors() as exc:
            self.last_failure = failure_detail(exc)  # the answer's note names it
            return None
        self.last_failure = ""
        return read_verdict(str(reply.content))

    @staticmethod
    def _messages(question: str, sentence: str) -> list[Any]:
        return [SystemMessage(content=prompts.JUDGE_SYSTEM),
                HumanMessage(content=prompts.JUDGE.format(question=question,
                                                          sentence=sentence.strip()))]


def rating_of(logprobs: Mapping[str, Any] | None) -> Rating | None:
    """The rating from the first token's top alternatives, in the OpenAI logprobs shape
    ({"content": [{"top_logprobs": [{"token", "logprob"}, ...]}]}).

    - p counts the two words in any case and spacing ("Yes", " no").
    - yes compares the exact tokens "yes" and "no", the only replies the check's grammar allows:
      the refusal decision stays the one the yes/no check was calibrated with (deciding by
      p >= 0.5 over six candidates instead refused 11 of the 84 answerable dev questions, not 7).
      Without them among the alternatives, p decides.
    - None when neither word is among them."""
    content = (logprobs or {}).get("content") or []
    if not content:
        return None
    cased = {True: 0.0, False: 0.0}
    exact = {True: 0.0, False: 0.0}
    for alternative in content[0].get("top_logprobs") or []:
        token = str(alternative.get("token", ""))
        if token.strip().lower() not in ("yes", "no"):
            continue
        word = token.strip().lower() == "yes"
        cased[word] += math.exp(float(alternative["logprob"]))
        if token in ("yes", "no"):
            exact[word] += math.exp(float(alternative["logprob"]))
    total = cased[True] + cased[False]
    if total <= 0:
        return None
    p = cased[True] / total
    return Rating(p, exact[True] > exact[False] if exact[True] + exact[False] > 0 else p >= 0.5)


def read_verdict(reply: str) -> Verdict:
    """yes / no from the start of a reply (the grammar allows only those; without it a model
    may add words after them); anything else is no verdict."""
    if _YES.match(reply):
        return True
    if _NO.match(reply):
        return False
    return None


class Reviewing:
    """A review in progress (`reviews`): the sentences to show, each as soon as it is settled."""

    def __init__(self, steps: Iterator[Review]) -> None:
        self._steps = steps
        self.review = next(steps)  # the latest step; whether to refuse is final in every one

    def chosen(self, *, first_only: bool = False) -> Iterator[Candidate]:
        """The chosen sentences in display order; the ones after the settled first wait for
        the remaining ratings. first_only: the first (with its lead-in) and nothing more."""
        given: set[tuple[int, int]] = set()
        while True:
            selection, settled = self.review.selection, self.review.settled
            ready = selection.chosen[:settled]  # settled None: all of them
            if first_only:
                ready = ready[:2 if selection.leads_in else 1]
            for c in ready:
                if (c.n, c.start) not in given:
                    given.add((c.n, c.start))
                    yield c
            if first_only or settled is None:
                return
            self.review = next(self._steps)  # the last step is always the final review


def review(selection: Selection, question: str, rate: Callable[[str, str], Rating | None], *,
           look: int, rerank: int, trust: float, weight: float, choose: Choose) -> Review:
    """Rate the best unflagged candidates and re-rank them (the last of `reviews`).

    - The best `rerank` are rated; each one's score becomes score + weight x p, they are
      re-ordered among themselves ahead of the rest, and `choose` (the selector's) picks what to
      show.
    - If no candidate scores `trust` or more (Selection.top) and none of the best `look` says
      yes, the answer step refuses; a confident selection is never refused by the model.
    - With weight 0 (the check only), a selection at or above `trust` stands without a call;
      below it, candidates are asked until one says yes, and that one comes first.
    - Without a readable rating (no model, a server down), the selection stands (`unheard`;
      the chain then adds the note that the model is not available)."""
    *_, final = reviews(selection, question, rate, look=look, rerank=rerank, trust=trust,
                        weight=weight, choose=choose)
    return final


def reviews(selection: Selection, question: str, rate: Callable[[str, str], Rating | None], *,
            look: int, rerank: int, trust: float, weight: float,
            choose: Choose) -> Iterator[Review]:
    """`review`, in steps: as soon as the ratings so far settle the first sentence to show, a
    provisional Review whose `settled` first chosen sentences are final (the chain phrases them
    while the rest are rated); always ends with the final Review (settled = all).

    The first sentence is settled once the question cannot be refused (a confident selection,
    or a "yes" among the best `look`) and the best rated score beats every candidate still to
    be rated even if that one got P(yes) = 1: the ratings left can change only the sentences
    after it. The calls, and the final Review, are the same as rating all first."""
    if weight <= 0 and selection.top >= trust:
        yield Review(selection, False)
        return
    ratings: list[tuple[Candidate, Rating | None]] = []
    queue = [c for c in selection.ranked if not c.flags][:max(look, rerank)]
    told = weight <= 0  # the check only: nothing to tell ahead
    for i, candidate in enumerate(queue):
        if weight <= 0 and len(ratings) == look:
            break
        # A sentence that points back is read with its lead-in, as it would be shown.
        rating = rate(question, f"{candidate.lead} {candidate.text}" if candidate.lead
                      else candidate.text)
        ratings.append((candidate, rating))
        if weight <= 0 and rating is not None and rating.yes:
            break  # the check only: the first "yes" is enough
        if (selection.top < trust and len(ratings) == look
                and all(r is not None and not r.yes for _, r in ratings)):
            break  # refused whatever the rest would say: no call more
        if not told and i + 1 < len(queue):
            ahead = _settled(selection, ratings, queue[i + 1:], look=look, trust=trust,
                             weight=weight, choose=choose)
            if ahead is not None:
                told = True
                yield ahead
    heard = [(c, r) for c, r in ratings if r is not None]
    if not heard:
        yield Review(selection, False, tuple(ratings))
        return
    checked = [r for _, r in ratings[:look] if r is not None]
    if selection.top < trust and checked and not any(r.yes for r in checked):
        yield Review(selection, True, tuple(ratings), len(checked))
        return
    if weight <= 0:  # the check only: the first "yes" comes first
        first = next((c for c, r in heard if r.yes), selection.chosen[0])
        rest = tuple(c for c in selection.chosen if c is not first)
        yield Review(replace(selection, chosen=(first, *rest)), False, tuple(ratings))
        return
    yield Review(_reranked(selection, heard, weight, choose), False, tuple(ratings))


def _reranked(selection: Selection, heard: Sequence[tuple[Candidate, Rating]], weight: float,
              choose: Choose) -> Selection:
    """The rated candidates re-ordered by score + weight x P(yes), ahead of the rest."""
    moved = {id(c): replace(c, score=round(c.score + weight * r.p, 5)) for c, r in heard}
    rated = sorted(moved.values(), key=lambda c: -c.score)
    ranked = (*rated, *(c for c in selection.ranked if id(c) not in moved))
    return Selection(choose(ranked), ranked)


def _settled(selection: Selection, ratings: Sequence[tuple[Candidate, Rating | None]],
             left: Sequence[Candidate], *, look: int, trust: float, weight: float,
             choose: Choose) -> Review | None:
    """A provisional Review when the ratings so far settle the first sentence, else None."""
    heard = [(c, r) for c, r in ratings if r is not None]
    if len(heard) < len(ratings):
        return None  # an unreadable rating: wait for the whole picture
    if selection.top < trust and not any(r.yes for _, r in heard[:look]):
        return None  # may still be refused
    best = max(c.score + weight * r.p for c, r in heard)
    if any(best <= c.score + weight for c in left):
        return None  # a candidate still to be rated could come first
    ahead = _reranked(selection, heard, weight, choose)
    # Final: the first sentence and what is tied to it (its lead-in, the sentence continuing
    # it); the sentences after them depend on the ratings still to come.
    leader = ahead.ranked[0]
    at = (leader.n, leader.start)
    settled = 0
    for c in ahead.chosen:
        if not (c is leader or (c.n, c.start) == leader.lead_at or c.lead_at == at):
            break
        settled += 1
    return Review(ahead, False, tuple(ratings), settled=settled)
