"""Bilingual oncology glossary that bridges Chinese questions and English passages (and back)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from typing import overload

from core.text import CJK_CHAR, to_simplified, to_traditional
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
# What a gap in a form (glossary_file.GAP) may hold: up to three words ("chemo…before…surgery"
# is also "chemo given before my surgery"), or up to three Chinese characters that negate
# nothing (先化疗…手术 is 先化疗再做手术, not 先化疗不做手术); a Chinese comma is allowed
# (先化疗，再手术), no other punctuation: a gap never spans two sentences or clauses of a list.
_EN_GAP = r"(?:[\s\-/]+[A-Za-z0-9'’]+){0,3}?[\s\-/]+"
_ZH_GAP = r"(?:(?![不没沒未别別非无無勿])[\w，, ]){0,3}?"

# A pattern matching the forms of one side, and the entry of a match (-1: a blocker)
Side = tuple[re.Pattern[str], Callable[[re.Match[str]], int]]


def _english_pattern(term: str) -> str:
    # Words may be joined by space, hyphen or slash ("PET-CT", "PET/CT", "pet ct").
    body = _EN_GAP.join(
        r"[\s\-/]*".join(re.escape(w) for w in re.split(r"[\s\-/]+", piece) if w)
        for piece in term.split(glossary_file.GAP))
    if term[-1].isalpha():
        body += "(?:e?s)?"
    return body


def _chinese_pattern(term: str) -> str:
    return _ZH_GAP.join(re.escape(piece) for piece in term.split(glossary_file.GAP))


def _side(index: dict[str, int], pattern: Callable[[str], str], group: str,
          edges: tuple[str, str] = ("", "")) -> Side:
    # Alternatives longest first: re takes the first alternative that matches at a position,
    # so this gives leftmost-longest matching.
    forms = sorted(index, key=len, reverse=True)
    if not forms:
        return re.compile(r"(?!)"), lambda m: -1  # matches nothing
    if group == "z" and not any(map(glossary_file.is_gapped, forms)):
        # Literal Chinese forms: the match is the form. A group per form would make this
        # pattern some twenty times slower (re then tries the alternatives one by one).
        literal = re.compile("|".join(map(re.escape, forms)))
        return literal, lambda m: index[m.group()]
    groups = "|".join(f"(?P<{group}{n}>{pattern(t)})" for n, t in enumerate(forms))
    flags = re.IGNORECASE if group == "e" else 0
    entry_of = {f"{group}{n}": index[t] for n, t in enumerate(forms)}
    return (re.compile(f"{edges[0]}(?:{groups}){edges[1]}", flags),
            lambda m: entry_of[str(m.lastgroup)])


@lru_cache(maxsize=1)
def _compiled() -> tuple[Side, Side, Side, Side]:
    """The fixed forms of each side (Chinese, English), then the gapped ones (each may be
    empty)."""
    # Blockers contain a form but mean something else (周围 is not 周, week); matching
    # them first consumes their span.
    # English ones too: "cost him his chance" is no question about money.
    blockers = glossary_file.load().blockers
    zh: dict[str, int] = dict.fromkeys((b for b in blockers if CJK_CHAR.search(b)), -1)
    en: dict[str, int] = dict.fromkeys((b.lower() for b in blockers if not CJK_CHAR.search(b)),
                                       -1)
    zh_gapped: dict[str, int] = {}
    en_gapped: dict[str, int] = {}
    for i, (zh_terms, en_terms) in enumerate(_entries()):
        for term in zh_terms:
            (zh_gapped if glossary_file.is_gapped(term) else zh).setdefault(term, i)
        for term in en_terms:
            (en_gapped if glossary_file.is_gapped(term) else en).setdefault(term.lower(), i)
    edges = (f"(?<![{_LATIN_EDGE}])", f"(?![{_LATIN_EDGE}])")
    return (_side(zh, _chinese_pattern, "z"), _side(en, _english_pattern, "e", edges),
            _side(zh_gapped, _chinese_pattern, "z"),
            _side(en_gapped, _english_pattern, "e", edges))


def _found(text: str, *, gapped: bool = True) -> list[tuple[int, str, int, str]]:
    """(position, words matched, entry index, side) of every glossary hit, in text order.

    A longer fixed form consumes its span: 新辅助化疗 yields only its own entry, whose English
    forms already carry "chemotherapy"; a 化疗 elsewhere in the text still counts. A gapped form
    consumes nothing: 先化疗再做手术 names neoadjuvant chemotherapy as well as chemotherapy and
    surgery (gapped=False: the fixed forms only)."""
    sides = _compiled()
    hits: list[tuple[int, str, int, str]] = []
    for (pattern, entry_of), side in zip(sides if gapped else sides[:2],
                                         ("zh", "en", "zh", "en"), strict=False):
        for m in pattern.finditer(text):
            entry = entry_of(m)
            if entry >= 0:
                hits.append((m.start(), m.group(), entry, side))
    hits.sort(key=lambda h: h[0])
    return hits


def entries(text: str, *, gapped: bool = True) -> set[int]:
    """Indexes of the glossary entries text names, in either language: one id per concept, so
    "chemotherapy" and 化疗 give the same one. gapped=False: only what it names in so many
    words (a rewrite that reorders "before surgery, chemotherapy" names nothing new)."""
    return {entry for _, _, entry, _ in _found(text, gapped=gapped)}


def plain(forms: Iterable[str]) -> tuple[str, ...]:
    """The forms that are words to use (in a query, a hint, a message), not gapped patterns."""
    return tuple(f for f in forms if not glossary_file.is_gapped(f))


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
    for _, _, entry, side in _found(question):
        zh_terms, en_terms = _entries()[entry]
        out.update(dict.fromkeys(plain(en_terms if side == "zh" else zh_terms)))
    return list(out)


def translate_terms(question: str) -> str:
    """The English forms of the entries named in Chinese, space-joined ("" if none)."""
    out: dict[str, None] = {}
    for _, _, entry, side in _found(question):
        if side == "zh":
            out.update(dict.fromkeys(plain(_entries()[entry][1])))
    return " ".join(out)


def concepts(question: str) -> list[tuple[str, tuple[str, ...]]]:
    """(matched span, the entry's English forms) for every glossary entry the question names,
    in either language, in question order. The gate treats each as one concept that any of its
    English forms satisfies ("chemo" is satisfied by "chemotherapy")."""
    return [(span, plain(_entries()[entry][1])) for _, span, entry, _ in _found(question)]


_ACRONYM = re.compile(r"[A-Z][A-Z0-9]*(?:[-/][A-Z0-9]+)*")


def hints(text: str, target: str) -> list[tuple[str, str]]:
    """(term as written in text, its form in the target language) for each drug, test, cancer
    and treatment the text names in the other language, in order of appearance (a term once,
    whatever its case): given to the model with a sentence to translate, so a drug comes out as
    尼妥珠单抗 and not as a guessed transliteration, and neoadjuvant chemotherapy as 新辅助化疗,
    not 辅助化疗 (adjuvant), which the verifier rejects."""
    out: dict[str, tuple[str, str]] = {}  # by the term's casefolded form: the first wins
    for _, span, entry, side in _found(text, gapped=False):
        named = concept(entry).kind in ("drug", "test", "cancer", "treatment")
        if not named or (side == "zh") == (target == "zh"):
            continue
        zh_terms, en_terms = _entries()[entry]
        if target == "zh" and _ACRONYM.fullmatch(span):
            form = span  # Chinese writing keeps PET-CT, MRI, HER2 as they are
        else:
            form = zh_terms[0] if target == "zh" else en_terms[0]
        out.setdefault(span.casefold(), (span, form))
    return list(out.values())


def mentions(text: str) -> dict[int, str]:
    """Each specific thing the text names (not the generic words), with the words it uses."""
    out: dict[int, str] = {}
    for _, span, entry, _ in _found(text):
        if not is_generic(entry):
            out.setdefault(entry, span)
    return out


def blank_names(text: str, *, numbered_only: bool = False) -> str:
    """The text with its glossary names blanked out (same length), or only those that carry a
    digit (5-fluorouracil, 5-FU): such a number is part of a name, which a translation may
    rightly drop (氟尿嘧啶), and "FU" in 5-FU is no name of its own."""
    out = text
    for position, span, _, _ in _found(text, gapped=False):
        if not numbered_only or any(c.isdigit() for c in span):
            out = out[:position] + " " * len(span) + out[position + len(span):]
    return out
