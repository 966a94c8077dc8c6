"""Does a source sentence answer the question? The model reads one candidate sentence at a time
and its reply is read as a rating: the probability it gives "yes" over "no" (the bundled model;
a server without token probabilities replies yes or no under a llama.cpp grammar: 1 or 0).

- The best candidates are re-ranked with the rating (the e5 score plus `weight` x rating): e5
  similarity puts a sentence that only shares the question's topic first about as often as the
  one that answers it, and the 1.5B model tells them apart better when it reads them one by one
  (on the dev split, the evidence sentence came first for 0.35 of questions by score alone,
  0.49 re-ranked over six candidates). Asked to pick from a numbered list, it nearly always
  picks the first: one sentence per call.
- A question whose candidates are all rated "no" (below 0.5) is refused when the best score is
  below the trusted score ("Can I drink coffee during chemo?" answered with how chemotherapy
  works); a confident selection is re-ranked but never refused by the model. (The chain trusts
  no score in a follow-up that borrowed the conversation's topic: the borrowed names are what
  made it confident.)"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from qa import prompts
from qa.llm import backend_errors, failure_detail
from qa.select import Candidate, Selection

Verdict = bool | None  # True: answers; False: does not; None: no reply that can be read
Rating = float | None  # the probability of "yes" (0..1); None: no reply that can be read
Choose = Callable[[Sequence[Candidate]], tuple[Candidate, ...]]

_YES = re.compile(r"^\W*(?:yes|是|对)", re.IGNORECASE)
_NO = re.compile(r"^\W*(?:no|否|不)", re.IGNORECASE)
# A rating at least this reads as "yes". On the dev split's 32 single-turn questions rated below
# the trusted score (15 answerable, 17 not), "all six below 0.5" refused 4 answerable and 15 of
# the 17 others; 0.4: 2 and 12; 0.3: 0 and 5. A refusal that names what is missing beats a
# near-topic quote, so 0.5.
YES_FROM = 0.5


@dataclass(frozen=True)
class Review:
    """The selection after the model's ratings, and whether nothing it read answers."""

    selection: Selection
    refuse: bool  # every sentence asked about was rated "no", and none is confident
    ratings: tuple[tuple[Candidate, Rating], ...] = ()

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

    def rate(self, question: str, sentence: str) -> Rating:
        """P("yes") from the model's first reply token where the backend gives token
        probabilities (the bundled model: qa.llm's `first_token_logprobs`), else the yes/no
        reply as 1 or 0."""
        if not getattr(self.llm, "first_token_logprobs", False):
            verdict = self.answers(question, sentence)
            return None if verdict is None else float(verdict)
        try:
            reply = self.llm.invoke(self._messages(question, sentence), max_tokens=1,
                                    temperature=0.0, logprobs=True, top_logprobs=10)
        except backend_errors() as exc:
            self.last_failure = failure_detail(exc)
            return None
        self.last_failure = ""
        return yes_share(reply.response_metadata.get("logprobs"))

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


def yes_share(logprobs: Mapping[str, Any] | None) -> Rating:
    """P(yes) / (P(yes) + P(no)) over the first token's top alternatives, in the OpenAI logprobs
    shape ({"content": [{"top_logprobs": [{"token", "logprob"}, ...]}]}); any case and
    surrounding spaces count ("Yes", " no"). None when neither word is among them."""
    content = (logprobs or {}).get("content") or []
    if not content:
        return None
    mass = {True: 0.0, False: 0.0}
    for alternative in content[0].get("top_logprobs") or []:
        verdict = read_verdict(str(alternative.get("token", "")))
        word = str(alternative.get("token", "")).strip().lower()
        if verdict is not None and word in ("yes", "no"):
            mass[verdict] += math.exp(float(alternative["logprob"]))
    total = mass[True] + mass[False]
    return mass[True] / total if total > 0 else None


def read_verdict(reply: str) -> Verdict:
    """yes / no from the start of a reply (the grammar allows only those; without it a model
    may add words after them); anything else is no verdict."""
    if _YES.match(reply):
        return True
    if _NO.match(reply):
        return False
    return None


def review(selection: Selection, question: str, rate: Callable[[str, str], Rating], *,
           look: int, trust: float, weight: float, choose: Choose) -> Review:
    """Rate the best `look` unflagged candidates and re-rank them.

    - Each rated candidate's score becomes score + weight x rating; they are re-ordered among
      themselves ahead of the rest, and `choose` (the selector's) picks what to show.
    - With weight 0, a selection at or above `trust` stands without a call (the check only).
    - If every rated candidate is a "no" and the best score is below `trust`, the answer step
      refuses; a confident selection is never refused by the model.
    - Without a readable rating (no model, a server down), the selection stands (`unheard`;
      the chain then adds the note that the model is not available)."""
    if weight <= 0 and selection.best >= trust:
        return Review(selection, False)
    ratings: list[tuple[Candidate, Rating]] = []
    for candidate in [c for c in selection.ranked if not c.flags][:look]:
        rating = rate(question, candidate.text)
        ratings.append((candidate, rating))
        if weight <= 0 and rating is not None and rating >= YES_FROM:
            break  # the check only: the first "yes" is enough
    heard = [(c, r) for c, r in ratings if r is not None]
    if not heard:
        return Review(selection, False, tuple(ratings))
    if selection.best < trust and all(r < YES_FROM for _, r in heard):
        return Review(selection, True, tuple(ratings))
    if weight <= 0:  # the check only: the first "yes" comes first
        first = next(c for c, r in heard if r >= YES_FROM)
        rest = tuple(c for c in selection.chosen if c is not first)
        return Review(replace(selection, chosen=(first, *rest)), False, tuple(ratings))
    moved = {id(c): replace(c, score=round(c.score + weight * r, 5)) for c, r in heard}
    rated = sorted(moved.values(), key=lambda c: -c.score)
    ranked = (*rated, *(c for c in selection.ranked if id(c) not in moved))
    return Review(Selection(choose(ranked), ranked), False, tuple(ratings))
