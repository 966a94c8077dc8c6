"""Does a source sentence answer the question? The model replies yes or no (a llama.cpp grammar
allows nothing else), one candidate sentence at a time, and the answer step uses the replies to
put a sentence that answers first, and to refuse a question whose closest sentences only share
its topic ("Can I drink coffee during chemo?" answered with how chemotherapy works). Only a
selection below the trusted score is checked: a confident one is never overturned by a "no".
(The chain trusts no score in a follow-up that borrowed the conversation's topic: the borrowed
names are what made it confident.)"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from qa import prompts
from qa.llm import backend_errors, failure_detail
from qa.select import Candidate, Selection

Verdict = bool | None  # True: answers; False: does not; None: no reply that can be read

_YES = re.compile(r"^\W*(?:yes|是|对)", re.IGNORECASE)
_NO = re.compile(r"^\W*(?:no|否|不)", re.IGNORECASE)


@dataclass(frozen=True)
class Review:
    """The selection after the model's yes/no replies, and whether nothing it read answers."""

    selection: Selection
    refuse: bool  # every sentence asked about was judged not to answer, and none is confident
    verdicts: tuple[tuple[Candidate, Verdict], ...] = ()

    @property
    def asked(self) -> int:
        return len(self.verdicts)

    @property
    def unheard(self) -> bool:
        """Asked, and no reply could be read (a backend down): the selection stands unchecked."""
        return bool(self.verdicts) and all(v is None for _, v in self.verdicts)


class Judge:
    """Asks the model whether one sentence answers the question (one short call each)."""

    def __init__(self, llm: BaseChatModel) -> None:
        self.llm = llm
        # Why the latest call got no reply ("" after a reply). The backend is shared by every
        # conversation, so whichever call failed last describes it.
        self.last_failure = ""

    def answers(self, question: str, sentence: str) -> Verdict:
        """The grammar goes to llama.cpp (local, or a server that takes it: qa.llm decides)."""
        try:
            reply = self.llm.invoke(
                [SystemMessage(content=prompts.JUDGE_SYSTEM),
                 HumanMessage(content=prompts.JUDGE.format(question=question,
                                                           sentence=sentence.strip()))],
                max_tokens=3, temperature=0.0, grammar=prompts.YES_NO_GRAMMAR,
            )
        except backend_errors() as exc:
            self.last_failure = failure_detail(exc)  # the answer's note names it
            return None
        self.last_failure = ""
        return read_verdict(str(reply.content))


def read_verdict(reply: str) -> Verdict:
    """yes / no from the start of a reply (the grammar allows only those; without it a model
    may add words after them); anything else is no verdict."""
    if _YES.match(reply):
        return True
    if _NO.match(reply):
        return False
    return None


def review(selection: Selection, question: str, ask: Callable[[str, str], Verdict], *,
           look: int, trust: float) -> Review:
    """When the best sentence scores below `trust`, ask about the best `look` unflagged
    candidates in rank order until one answers.

    - A selection at or above `trust` stands without a call: the model's "no" never overturns a
      confident sentence (and on the dev split, asking there gained no key facts).
    - The first that answers becomes the direct answer; the other chosen sentences follow it.
    - If none answers, the answer step refuses.
    - Without a readable verdict (no model, a server down), the selection stands (`unheard`;
      the chain then adds the note that the model is not available)."""
    if selection.best >= trust:
        return Review(selection, False)
    verdicts: list[tuple[Candidate, Verdict]] = []
    for candidate in [c for c in selection.ranked if not c.flags][:look]:
        verdict = ask(question, candidate.text)
        verdicts.append((candidate, verdict))
        if verdict:
            break
    first = next((c for c, v in verdicts if v), None)
    if first is not None:
        rest = tuple(c for c in selection.chosen if c is not first)
        return Review(replace(selection, chosen=(first, *rest)), False, tuple(verdicts))
    heard = any(v is not None for _, v in verdicts)
    return Review(selection, heard, tuple(verdicts))
