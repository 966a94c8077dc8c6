"""Translations prepared ahead of the questions. A Chinese reader of an English source sentence
waits for the model to translate it (several seconds on two cores, most of the wait for a first
sentence); the translation depends on the sentence alone, not on the question, so it can be
made, verified and remembered (qa.memory) before anyone asks. `oncoqa pretranslate` does it for
the whole index; the app does it in the background while no conversation is being answered.

Every translation made here passes the same verifier as one made during an answer, and is
verified again when it is shown."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from core.text import Lang
from qa.phrase import Phraser
from qa.select import Candidate, distinct_sentences, flags_of

LANGS: tuple[Lang, ...] = ("zh", "en")


@dataclass(frozen=True)
class Progress:
    """Where a run stands. translated + quoted + known = done."""

    total: int
    done: int = 0
    translated: int = 0  # a verified translation, remembered now
    quoted: int = 0  # every attempt rejected: readers get the source quoted, without a wait
    known: int = 0  # remembered before this run
    failure: str = ""  # why the run stopped early (the model could not be asked)


Work = tuple[Candidate, Lang]  # a source sentence and the language to translate it into


def plan(texts: Iterable[str], targets: Sequence[Lang] = LANGS,
         titles: Iterable[str] = ()) -> list[Work]:
    """Each distinct prose sentence of the texts, for every target language it is not in
    (headings, teasers, fragments and references are left out: selection puts them last).
    The documents' titles come first (a refusal names the closest documents by title, in the
    reader's language when a verified translation is remembered), then the sentences; those
    for the first target before those for the next."""
    named = [Candidate.of_text(title.strip()) for title in dict.fromkeys(titles) if title.strip()]
    sentences = [Candidate.of_text(text, start, end)
                 for _, start, end, text in distinct_sentences(texts) if not flags_of(text)]
    return [(c, target) for group in (named, sentences) for target in targets for c in group
            if c.language in LANGS and c.language != target]


def run(phraser: Phraser, work: Sequence[Work], *, retry: bool = True,
        proceed: Callable[[], bool] = lambda: True,
        report: Callable[[Progress], None] = lambda _: None) -> Progress:
    """Translate and remember each sentence the memory does not hold yet, in order.

    - retry: as for a direct answer (a literal second attempt, then clause by clause), or one
      attempt only (shorter model calls, for the background).
    - proceed: asked before each sentence; False stops the run (it may also wait, e.g. until
      no conversation is being answered).
    - report: called after each sentence.
    A backend failure stops the run (nothing is remembered for that sentence)."""
    progress = Progress(total=len(work))
    for candidate, target in work:
        if not proceed():
            break
        if phraser.remembered(candidate, target, retry=retry):
            progress = replace(progress, known=progress.known + 1)
        else:
            phrased = phraser.phrase(candidate, target, retry=retry)
            if phrased.failure:
                return replace(progress, failure=phrased.failure)
            if phrased.mode == "translation":
                progress = replace(progress, translated=progress.translated + 1)
            else:
                progress = replace(progress, quoted=progress.quoted + 1)
        progress = replace(progress, done=progress.done + 1)
        report(progress)
    return progress
