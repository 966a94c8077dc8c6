"""Bilingual oncology glossary that bridges Chinese questions and English passages (and back)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import overload

from core.text import to_simplified, to_traditional
from qa import glossary_file

Entry = tuple[tuple[str, ...], tuple[str, ...]]


class _Glossary(Sequence[Entry]):
    """(Chinese forms, English forms) per concept, read from glossary.tsv on first use.

    The first form on each side is the canonical one; the Chinese side is the Simplified forms,
    then the Traditional ones. Entry indexes follow the rows of the file.
    """

    @overload
    def __getitem__(self, index: int) -> Entry: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Entry, ...]: ...
    def __getitem__(self, index: int | slice) -> Entry | tuple[Entry, ...]:
        return _entries()[index]

    def __len__(self) -> int:
        return len(_entries())

    def __iter__(self) -> Iterator[Entry]:
        return iter(_entries())

    def __repr__(self) -> str:
        return f"GLOSSARY({len(self)} entries)"


# A lazy sequence rather than a tuple, so `from qa.glossary import GLOSSARY` reads no file.
GLOSSARY: Sequence[Entry] = _Glossary()


@lru_cache(maxsize=1)
def _entries() -> tuple[Entry, ...]:
    return tuple((_chinese_forms(c), c.english) for c in glossary_file.load().concepts)


def _chinese_forms(concept: glossary_file.Concept) -> tuple[str, ...]:
    """The file's forms, each also converted to the other script: Traditional text matches
    without a row listing 化療, and a question converted to Simplified still meets regional
    Traditional wording (標靶治療 -> 标靶治疗)."""
    converted = tuple(to_traditional(f) for f in concept.simplified) + tuple(
        to_simplified(f) for f in concept.traditional)
    return tuple(dict.fromkeys(concept.chinese + converted))


_LATIN_EDGE = "A-Za-z0-9"


def _english_pattern(term: str) -> str:
    # Pieces may be joined by space, hyphen or slash ("PET-CT", "PET/CT", "pet ct").
    pieces = [re.escape(p) for p in re.split(r"[\s\-/]+", term) if p]
    body = r"[\s\-/]*".join(pieces)
    if term[-1].isalpha():
        body += "(?:e?s)?"
    return body


@lru_cache(maxsize=1)
def _compiled() -> tuple[re.Pattern[str], dict[str, int], re.Pattern[str], dict[str, int]]:
    # Blockers contain a form but mean something else (周围 is not 周, week); matching
    # them first consumes their span.
    zh_index: dict[str, int] = dict.fromkeys(glossary_file.load().blockers, -1)
    en_index: dict[str, int] = {}
    for i, (zh_terms, en_terms) in enumerate(_entries()):
        for term in zh_terms:
            zh_index.setdefault(term, i)
        for term in en_terms:
            en_index.setdefault(term.lower(), i)
    # Alternatives longest first: re takes the first alternative that matches at a position,
    # so this gives leftmost-longest matching.
    zh_terms_sorted = sorted(zh_index, key=len, reverse=True)
    zh_re = re.compile("|".join(re.escape(t) for t in zh_terms_sorted))
    en_sorted = sorted(en_index, key=len, reverse=True)
    groups = "|".join(f"(?P<e{n}>{_english_pattern(t)})" for n, t in enumerate(en_sorted))
    en_re = re.compile(f"(?<![{_LATIN_EDGE}])(?:{groups})(?![{_LATIN_EDGE}])", re.IGNORECASE)
    en_group_entry = {f"e{n}": en_index[t] for n, t in enumerate(en_sorted)}
    return zh_re, zh_index, en_re, en_group_entry


def _matches(question: str) -> list[tuple[int, int, str]]:
    """(position, entry index, side matched) for every glossary hit, in question order."""
    zh_re, zh_index, en_re, en_group_entry = _compiled()
    hits: list[tuple[int, int, str]] = []
    # A longer form consumes its span: 新辅助化疗 yields only its own entry, whose English
    # forms already carry "chemotherapy"; a 化疗 elsewhere in the question still counts.
    for m in zh_re.finditer(question):
        entry = zh_index[m.group()]
        if entry >= 0:
            hits.append((m.start(), entry, "zh"))
    for m in en_re.finditer(question):
        assert m.lastgroup is not None
        hits.append((m.start(), en_group_entry[m.lastgroup], "en"))
    hits.sort(key=lambda h: h[0])
    return hits


def entries(text: str) -> set[int]:
    """Indexes of the glossary entries text names, in either language: one id per concept, so
    "chemotherapy" and 化疗 give the same one."""
    return {entry for _, entry, _ in _matches(text)}


def is_generic(entry: int) -> bool:
    """Whether an entry names no treatment, drug, test or disease (question and time words):
    a rewrite may use these freely; any other entry it adds must be in its source sentence."""
    return glossary_file.load().concepts[entry].kind == "generic"


def concept(entry: int) -> glossary_file.Concept:
    """The glossary row of an entry: forms per script, kind and explanations."""
    return glossary_file.load().concepts[entry]


def chinese_forms(entry: int) -> tuple[str, ...]:
    """Every Chinese form of an entry (Simplified and Traditional)."""
    return tuple(GLOSSARY[entry][0])


def english_form(entry: int) -> str:
    """The canonical English form of an entry, for messages."""
    return _entries()[entry][1][0]


def name_in(entry: int, lang: str) -> str:
    """The entry's main form in a reader's language ("en", else its first Chinese form), for
    messages."""
    return english_form(entry) if lang == "en" else chinese_forms(entry)[0]


def expand(question: str) -> list[str]:
    """English forms of entries named in Chinese, Chinese forms of entries named in English.

    Deduplicated, in order of appearance in the question. Mixed text is handled per span, so
    "RAS 基因检测" expands 基因检测 to English and "PET-CT检查" expands PET-CT to Chinese.
    """
    out: dict[str, None] = {}
    for _, entry, side in _matches(question):
        zh_terms, en_terms = _entries()[entry]
        out.update(dict.fromkeys(en_terms if side == "zh" else zh_terms))
    return list(out)


def translate_terms(question: str) -> str:
    """The English forms of the entries named in Chinese, space-joined ("" if none)."""
    out: dict[str, None] = {}
    for _, entry, side in _matches(question):
        if side == "zh":
            out.update(dict.fromkeys(_entries()[entry][1]))
    return " ".join(out)


def concepts(question: str) -> list[tuple[str, tuple[str, ...]]]:
    """(matched span, the entry's English forms) for every glossary entry the question names,
    in either language, in question order. The gate treats each as one concept that any of its
    English forms satisfies ("chemo" is satisfied by "chemotherapy")."""
    zh_re, zh_index, en_re, en_group_entry = _compiled()
    found: list[tuple[int, str, tuple[str, ...]]] = []
    for m in zh_re.finditer(question):
        entry = zh_index[m.group()]
        if entry >= 0:
            found.append((m.start(), m.group(), tuple(_entries()[entry][1])))
    for m in en_re.finditer(question):
        assert m.lastgroup is not None
        found.append((m.start(), m.group(), tuple(_entries()[en_group_entry[m.lastgroup]][1])))
    return [(span, forms) for _, span, forms in sorted(found, key=lambda f: f[0])]


_ACRONYM = re.compile(r"[A-Z][A-Z0-9]*(?:[-/][A-Z0-9]+)*")


def hints(text: str, target: str) -> list[tuple[str, str]]:
    """(term as written in text, its form in the target language) for each drug, test, cancer
    and treatment the text names in the other language, in order of appearance (a term once,
    whatever its case): given to the model with a sentence to translate, so a drug comes out as
    尼妥珠单抗 and not as a guessed transliteration, and neoadjuvant chemotherapy as 新辅助化疗,
    not 辅助化疗 (adjuvant), which the verifier rejects."""
    out: dict[str, tuple[str, str]] = {}  # by the term's casefolded form: the first wins
    for position, entry, side in _matches(text):
        named = concept(entry).kind in ("drug", "test", "cancer", "treatment")
        if not named or (side == "zh") == (target == "zh"):
            continue
        zh_terms, en_terms = _entries()[entry]
        span = _span_at(text, position, side)
        if target == "zh" and _ACRONYM.fullmatch(span):
            form = span  # Chinese writing keeps PET-CT, MRI, HER2 as they are
        else:
            form = zh_terms[0] if target == "zh" else en_terms[0]
        out.setdefault(span.casefold(), (span, form))
    return list(out.values())


def mentions(text: str) -> dict[int, str]:
    """Each specific thing the text names (not the generic words), with the words it uses."""
    out: dict[int, str] = {}
    for position, entry, side in _matches(text):
        if not is_generic(entry):
            out.setdefault(entry, _span_at(text, position, side))
    return out


def blank_names(text: str, *, numbered_only: bool = False) -> str:
    """The text with its glossary names blanked out (same length), or only those that carry a
    digit (5-fluorouracil, 5-FU): such a number is part of a name, which a translation may
    rightly drop (氟尿嘧啶), and "FU" in 5-FU is no name of its own."""
    out = text
    for position, _, side in _matches(text):
        span = _span_at(text, position, side)
        if not numbered_only or any(c.isdigit() for c in span):
            out = out[:position] + " " * len(span) + out[position + len(span):]
    return out


def _span_at(text: str, position: int, side: str) -> str:
    zh_re, _, en_re, _ = _compiled()
    pattern = zh_re if side == "zh" else en_re
    match = pattern.match(text, position)
    assert match is not None
    return match.group()
