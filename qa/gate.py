"""Evidence gate: decide from retrieval scores alone whether the corpus covers a question."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from core.text import CLOSERS, Lang, script_of, split_sentences
from qa import answer_type, drugs, glossary
from qa.bm25 import tokenize
from qa.types import Passage

# Where a sentence breaks into clauses, and what marks a clause as a question.
_CLAUSE_BREAK = re.compile(r"[,;:，；：、]|\s[-–—]+\s|\.{2,}|…+")
_EN_CUE = re.compile(
    r"\W*(?:(?:and|or|but|so|then|also)\s+)?(?:what|how|why|when|which|who|where|whether|is|are|"
    r"am|was|were|can|could|should|would|will|shall|do|does|did|may|might|must|has|have|had|"
    r"isn't|aren't|can't|won't|don't|doesn't|didn't|wouldn't|shouldn't|any)\b", re.IGNORECASE)
_ZH_CUE = re.compile(r"吗|嗎|呢|什么|什麼|甚么|怎么|怎麼|怎样|怎樣|如何|多少|多久|多长|多長|几|幾|"
                     r"哪|为什么|為什麼|为何|為何|为啥|是否|能不能|可不可以|会不会|會不會|要不要|"
                     r"有没有|有沒有|是不是")
# Glossary kinds a question may not name unless a top passage does (qa.gate.absent_names).
ABSENT_KINDS = ("drug", "concern", "symptom")

# A concept is a set of alternative forms (synonyms); a form is the tokens it needs, all of
# them ("pancreatic cancer" is not satisfied by "cancer" alone).
Concept = tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Evidence:
    covered: bool
    best_dense: float
    coverage: float  # idf-weighted share of the question's concepts found in the top passages
    missing: tuple[str, ...]  # the rarest question concepts no top passage contains
    absent: tuple[str, ...] = ()  # drugs, concerns, symptoms asked about that no top passage has


def question_concepts(question: str) -> list[list[Concept]]:
    """Ways to read the question as concepts: its own tokens, and its glossary concepts (all
    English forms of each named term) plus the tokens the glossary did not cover."""
    own: list[Concept] = [((t,),) for t in dict.fromkeys(tokenize(question))]
    named = glossary.concepts(question)
    if not named:
        return [own]
    spanned = {t for span, _ in named for t in tokenize(span)}
    english: list[Concept] = []
    for _, forms in named:
        concept = tuple(dict.fromkeys(tuple(tokenize(f)) for f in forms if tokenize(f)))
        if concept and concept not in english:
            english.append(concept)
    leftover = [c for c in own if c[0][0] not in spanned]
    return [own, english + leftover]


GATE_TOP = 3  # passages whose scores the gate reads


def assess_evidence(
    readings: Sequence[Sequence[Concept]],
    passages: Sequence[Passage],
    *,
    idf: Callable[[str], float],
    min_dense: float,
    top: int = GATE_TOP,
    discount: Mapping[str, float] | None = None,
) -> Evidence:
    """Covered when the best passage is semantically close enough to the question. On the gold
    sets the dense cosine separated answerable from unanswerable questions best; keyword
    coverage (idf-weighted, so "pancreatic" counts more than "cancer") missed paraphrases, so it
    only explains a refusal: which rare question terms no top passage contains. discount: taken
    off the score of a passage in that language (e5 rates a Chinese question closer to Chinese
    text than the floor, calibrated on English passages, expects)."""
    if not passages:
        return Evidence(False, 0.0, 0.0, ())
    off = discount or {}
    best_dense = max(p.dense - off.get(p.language, 0.0) for p in passages[:top])
    found: set[str] = set()
    for passage in passages[:top]:
        found.update(passage.matched_terms)
    coverage, missing = 0.0, tuple[str, ...]()
    for concepts in readings:
        if not concepts:
            continue
        # A form is as rare as its rarest token; a concept as common as its commonest form.
        weights = {c: min(max(idf(t) for t in form) for form in c) for c in concepts}
        total = sum(weights.values()) or 1.0
        hit = {c for c in concepts if any(found.issuperset(form) for form in c)}
        share = sum(weights[c] for c in hit) / total
        if share >= coverage:
            coverage = share
            absent = sorted((c for c in concepts if c not in hit), key=lambda c: -weights[c])
            missing = tuple(" ".join(c[0]) for c in absent[:3])
    return Evidence(best_dense >= min_dense, round(best_dense, 4), round(coverage, 4), missing)


def absent_names(question: str, passages: Sequence[Passage], top: int = 4,
                 kinds: Sequence[str] = ABSENT_KINDS, *, lang: Lang | None = None,
                 english: Callable[[], str | None] | None = None) -> tuple[str, ...]:
    """Drugs, patient concerns and symptoms the question names that none of the top passages
    mentions (glossary entries of those kinds, or words with a drug-name stem): the documents
    cannot say anything about them, so a question about one is not answered with sentences
    about something else ("What is the best diet during radiotherapy?" or "How long does dry
    mouth last after radiotherapy?" with passages on radiotherapy alone). A drug keeps the
    words the question used; a concern or symptom is named by its glossary form in the
    reader's language (lang; by default the question's script: "eat" -> "diet", 吃什么 -> 饮食),
    since a follow-up rewritten with a Chinese conversation's topic is still read by whoever
    asked it. A concern counts only in the clauses that ask, a symptom also in the rest of an
    asking sentence whose asking clause names nothing else (asked_part): told as background it
    is no reason to refuse; a drug counts anywhere, since a drug the patient takes can change
    the answer. A Chinese drug name the glossary lacks is looked up through `english` (the
    question's English rendering, asked for only then); without one it counts as absent unless
    a passage has it verbatim."""
    texts = [p.text for p in passages[:top]]
    present = {e for text in texts for e in glossary.entries(text)}
    folded = " ".join(texts).casefold()
    chinese = (lang or script_of(question)) == "zh"
    asked = glossary.entries(asked_part(question))
    # A symptom told in an asking sentence is what it asks about when the asking clause names
    # nothing of its own (我爸放疗后一直便秘，吃什么药好？ / 指甲变黑了，这正常吗？), not when it
    # does ("I have a fever, how long until surgery after chemotherapy?").
    own = not all(map(glossary.is_generic, asked))
    symptoms = asked if own else glossary.entries(asked_part(question, whole=True))
    missing: dict[str, None] = {}
    for entry, words in glossary.mentions(question).items():
        kind = glossary.concept(entry).kind
        if kind not in kinds or entry in present:
            continue
        if kind == "drug":
            missing[words] = None
        elif entry in (symptoms if kind == "symptom" else asked):
            missing[glossary.name_in(entry, "zh" if chinese else "en")] = None
        # else context ("I drink a beer every evening. Why did it spread?")
    if "drug" in kinds:
        blanked = glossary.blank_names(question)
        for match in drugs.DRUG_STEM.finditer(blanked):
            if match.group().casefold() not in folded:
                missing[match.group()] = None
        unknown = [name for name in drugs.chinese_names(blanked) if name not in folded]
        if unknown and not _rendered_names_present(english() if english else None, folded):
            missing.update(dict.fromkeys(unknown))
    return tuple(missing)


def unnamed_term(question: str, passages: Sequence[Passage], top: int = 4) -> str | None:
    """The term a definition question asks about ("What does 'adjuvant chemotherapy' mean?"),
    when none of the top passages names it in any of its forms (qa.answer_type.names): they
    cannot say what it is, however close they are ("neoadjuvant chemotherapy"). None when the
    question asks no such thing, or its term cannot be checked (qa.answer_type.checkable)."""
    if "definition" not in answer_type.asked(question):
        return None
    terms = [t for t in answer_type.asked_terms(question) if answer_type.checkable(t)]
    texts = [p.text for p in passages[:top]]
    if not terms or any(answer_type.names(text, t) for text in texts for t in terms):
        return None
    return min(terms, key=len)


def _rendered_names_present(english: str | None, folded: str) -> bool:
    """A Chinese drug name the glossary does not know is matched through the question's English
    rendering: the drug names it has (by stem) must all be in the passages."""
    if not english:
        return False
    names = drugs.names(glossary.blank_names(english))
    return bool(names) and all(name in folded for name in names)


def asked_part(question: str, *, whole: bool = False) -> str:
    """The clauses of a message that ask something: in each sentence that ends in a question
    mark (or, with none, each sentence with a question cue), the clauses with a cue and the
    last one; the whole message when nothing looks like a question. Background told on the
    way ("I drive her to radiotherapy every day, and she asks: what kills the cells?") is
    left out. whole: the asking sentences, all their clauses."""
    sentences = [(s.text.strip(), _clauses(s.text.strip()))
                 for s in split_sentences(question) if s.text.strip()]
    marked = [(s, c) for s, c in sentences if s.rstrip(CLOSERS).endswith(("?", "？"))]
    asking = marked or [(s, c) for s, c in sentences if any(map(_cued, c))]
    if not asking:
        return question
    if whole:
        return " ".join(s for s, _ in asking)
    # the clause a question mark closes asks, whatever its words
    parts = [clause for _, clauses in asking for i, clause in enumerate(clauses)
             if _cued(clause) or (asking is marked and i == len(clauses) - 1)]
    return " ".join(parts)


def _clauses(sentence: str) -> list[str]:
    pieces = [p.strip() for p in _CLAUSE_BREAK.split(sentence)]
    return [p for p in pieces if p] or [sentence]


def _cued(clause: str) -> bool:
    return bool(_EN_CUE.match(clause) or _ZH_CUE.search(clause))
