"""Read and check the glossary data files clinicians edit: qa/glossary.tsv and its blockers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal, cast, get_args

from core.text import CJK_CHAR

Kind = Literal["treatment", "drug", "test", "cancer", "anatomy", "symptom", "concern", "generic"]
KINDS: tuple[str, ...] = get_args(Kind)
COLUMNS = ("english", "simplified", "traditional", "kind", "explanation_en", "explanation_zh")
GLOSSARY_FILE = "glossary.tsv"
# A form with a gap: its pieces in this order, a few words apart ("先化疗…手术" is also
# 先化疗再做手术). Typed as "…" or "...".
GAP = "…"
BLOCKERS_FILE = "glossary_blockers.txt"
_LATIN = re.compile("[A-Za-z]")


class GlossaryFileError(ValueError):
    """A glossary file breaks one of its rules; the message names each line and rule."""


@dataclass(frozen=True)
class Concept:
    """One row of the glossary: a concept's forms in each script, the first one canonical."""

    english: tuple[str, ...]
    simplified: tuple[str, ...]
    traditional: tuple[str, ...]
    kind: Kind
    explanation_en: str = ""
    explanation_zh: str = ""

    @property
    def chinese(self) -> tuple[str, ...]:
        """Simplified forms first, so the canonical Chinese form stays the Simplified one."""
        return self.simplified + self.traditional


@dataclass(frozen=True)
class GlossaryData:
    concepts: tuple[Concept, ...]
    blockers: tuple[str, ...]


@lru_cache(maxsize=1)
def load() -> GlossaryData:
    """The packaged glossary, read and checked once, on first use."""
    folder = resources.files("qa")
    concepts = parse_concepts(folder.joinpath(GLOSSARY_FILE).read_text(encoding="utf-8-sig"))
    blockers = parse_blockers(folder.joinpath(BLOCKERS_FILE).read_text(encoding="utf-8-sig"),
                              concepts)
    return GlossaryData(concepts, blockers)


def parse_concepts(text: str, source: str = GLOSSARY_FILE) -> tuple[Concept, ...]:
    """The rows of a glossary TSV; raises GlossaryFileError listing every broken rule."""
    problems: list[str] = []
    concepts: list[Concept] = []
    owner: dict[tuple[str, str], int] = {}  # (language, form) -> line that has it
    lines = _content_lines(text)
    header = next(lines, None)
    if header is None or tuple(c for c in _cells(header[1]) if c) != COLUMNS:
        raise GlossaryFileError(f"{source}: the first row must name the columns "
                                f"{', '.join(COLUMNS)}, separated by tabs")
    for lineno, line in lines:
        cells = _cells(line)
        where = f"{source}:{lineno}"
        if len(cells) > len(COLUMNS):
            problems.append(f"{where}: {len(cells)} columns, expected at most {len(COLUMNS)} "
                            "(is there a tab inside a cell?)")
            continue
        row = dict(zip(COLUMNS, cells + [""] * (len(COLUMNS) - len(cells)), strict=True))
        english, simplified, traditional = (_forms(row[c]) for c in COLUMNS[:3])
        problems += _row_problems(where, english, simplified, traditional, row["kind"])
        for lang, forms in (("English", [f.lower() for f in english]),
                            ("Chinese", simplified + traditional)):
            for form in dict.fromkeys(f for f in forms if f):
                first = owner.setdefault((lang, form), lineno)
                if first != lineno:
                    problems.append(f"{where}: {lang} form {form!r} is already on line {first}")
                elif forms.count(form) > 1:
                    problems.append(f"{where}: {lang} form {form!r} is twice in this row (leave "
                                    "out Traditional forms written like the Simplified ones)")
        concepts.append(Concept(tuple(english), tuple(simplified), tuple(traditional),
                                cast(Kind, row["kind"]), row["explanation_en"],
                                row["explanation_zh"]))
    if problems:
        raise GlossaryFileError("\n".join(dict.fromkeys(problems)))
    return tuple(concepts)


def _contains(word: str, form: str, latin: bool) -> bool:
    """Whether the blocker holds the form where the matcher would find it: anywhere in a
    Chinese word; as whole words, or their plural, in an English phrase."""
    if not latin:
        return form in word
    return bool(re.search(rf"(?<![a-z0-9]){re.escape(form)}(?:e?s)?(?![a-z0-9])", word.lower()))


def parse_blockers(text: str, concepts: tuple[Concept, ...],
                   source: str = BLOCKERS_FILE) -> tuple[str, ...]:
    """Words that contain a glossary form but mean something else, one per line: Chinese
    words, or English phrases (matched as whole words, case aside)."""
    chinese = {form for concept in concepts for form in concept.chinese}
    english = {form.lower() for concept in concepts for form in concept.english}
    problems: list[str] = []
    blockers: dict[str, None] = {}
    for lineno, line in _content_lines(text):
        word, where = line.strip(), f"{source}:{lineno}"
        latin = not CJK_CHAR.search(word)
        forms = english if latin else chinese
        if latin and not re.fullmatch(r"[A-Za-z][A-Za-z' -]*", word):
            problems.append(f"{where}: {word!r} is neither Chinese nor English words")
        elif (word.lower() if latin else word) in forms:
            problems.append(f"{where}: {word!r} is a glossary form; blocking it would hide it")
        elif not any(_contains(word, form, latin) for form in forms):
            problems.append(f"{where}: {word!r} contains no glossary form, so it blocks nothing")
        elif word in blockers:
            problems.append(f"{where}: {word!r} is listed twice")
        blockers[word] = None
    if problems:
        raise GlossaryFileError("\n".join(problems))
    return tuple(blockers)


def _row_problems(where: str, english: list[str], simplified: list[str],
                  traditional: list[str], kind: str) -> list[str]:
    problems = []
    if not english or not simplified:
        problems.append(f"{where}: every row needs an English and a Simplified Chinese form")
    if kind not in KINDS:
        problems.append(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    if "" in english + simplified + traditional:
        problems.append(f"{where}: an empty form (two '|' in a row, or one at a cell's edge)")
    for form in english:
        if form and (not _LATIN.search(form) or CJK_CHAR.search(form)):
            problems.append(f"{where}: English form {form!r} needs Latin letters and no Chinese")
    for form in simplified + traditional:
        if form and not CJK_CHAR.search(form):
            problems.append(f"{where}: Chinese form {form!r} has no Chinese character")
    for forms in (english, simplified, traditional):
        if forms and is_gapped(forms[0]):
            problems.append(f"{where}: the first form {forms[0]!r} is the one shown to readers: "
                            "it cannot have a gap (…)")
        for form in forms:
            if is_gapped(form) and any(not piece.strip() for piece in form.split(GAP)):
                problems.append(f"{where}: form {form!r} needs words on both sides of each gap")
    return problems


def _content_lines(text: str) -> Iterator[tuple[int, str]]:
    """(1-based line number, line) of every line that is not blank or a # comment."""
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield lineno, line


def _cells(line: str) -> list[str]:
    return [_unquote(cell.strip()) for cell in line.split("\t")]


def _unquote(cell: str) -> str:
    # A spreadsheet saves a cell holding quotes as "...""..."; quotes typed inside a cell in a
    # text editor stay as they are.
    if len(cell) >= 2 and cell[0] == cell[-1] == '"':
        return cell[1:-1].replace('""', '"').strip()
    return cell


def _forms(cell: str) -> list[str]:
    return [form.strip().replace("...", GAP) for form in cell.split("|")] if cell else []


def is_gapped(form: str) -> bool:
    """Whether a form matches pieces a few words apart, not one fixed string."""
    return GAP in form
