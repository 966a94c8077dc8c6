"""Evidence gate: decide from retrieval scores alone whether the corpus covers a question."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa import glossary
from qa.bm25 import tokenize
from qa.types import Passage

# Drug names by their international nonproprietary-name stems (ibuprofen, amoxicillin,
# omeprazole, trastuzumab, ...), for drugs the glossary does not list.
_DRUG_STEM = re.compile(
    r"\b[a-z]{3,}(?:profen|fenac|xifen|cillin|mycin|micin|cycline|floxacin|statin|pril|sartan|olol|"
    r"dipine|prazole|conazole|azepam|oxetine|triptan|parin|xaban|gatran|dronate|vir|mab|nib|"
    r"platin|taxel|rubicin|citabine|tinib|zomib|mustine|relin|lutamide|trozole|sone|olone)\b",
    re.IGNORECASE)

# A concept is a set of alternative forms (synonyms); a form is the tokens it needs, all of
# them ("pancreatic cancer" is not satisfied by "cancer" alone).
Concept = tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Evidence:
    covered: bool
    best_dense: float
    coverage: float  # idf-weighted share of the question's concepts found in the top passages
    missing: tuple[str, ...]  # the rarest question concepts no top passage contains
    absent: tuple[str, ...] = ()  # drugs the question names that no top passage mentions


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


def assess_evidence(
    readings: Sequence[Sequence[Concept]],
    passages: Sequence[Passage],
    *,
    idf: Callable[[str], float],
    min_dense: float,
    top: int = 3,
) -> Evidence:
    """Covered when the best passage is semantically close enough to the question. On the gold
    sets the dense cosine separated answerable from unanswerable questions best; keyword
    coverage (idf-weighted, so "pancreatic" counts more than "cancer") missed paraphrases, so it
    only explains a refusal: which rare question terms no top passage contains."""
    if not passages:
        return Evidence(False, 0.0, 0.0, ())
    best_dense = max(p.dense for p in passages[:top])
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


def absent_drugs(question: str, passages: Sequence[Passage], top: int = 4) -> tuple[str, ...]:
    """Drugs the question names (glossary drugs, or words with a drug-name stem) that none of
    the top passages mentions: the documents cannot say anything about them, so a question
    about one is not answered with sentences about something else."""
    texts = [p.text for p in passages[:top]]
    present = {e for text in texts for e in glossary.entries(text)}
    folded = " ".join(texts).casefold()
    missing: dict[str, None] = {}
    for entry, words in glossary.mentions(question).items():
        if glossary.concept(entry).kind == "drug" and entry not in present:
            missing[words] = None
    for match in _DRUG_STEM.finditer(glossary.blank_names(question)):
        if match.group().casefold() not in folded:
            missing[match.group()] = None
    return tuple(missing)
