"""Checks each answer sentence against the passages it cites: numbers first, then wording."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from core.stopwords import EN_STOP_WORDS, english_stemmer
from core.text import CJK_RUN, script_of, split_sentences
from qa.citations import cited_sentences, strip_markers

Glossary = Callable[[str], list[str]]
Number = tuple[str, bool]  # canonical value, is a percentage


@dataclass(frozen=True)
class SupportResult:
    supported: bool
    reason: str  # "ok" | "no-citation" | "unsupported-number" | "low-overlap"
    overlap: float  # share of the sentence's content found in the passages; -1.0: not measurable
    numbers_missing: tuple[str, ...] = ()
    best_sentence: str = ""  # the cited passage sentence with the highest overlap


# The shared list plus prepositions and hedges ("usually", "often") an answer may add to
# the passage's wording.
_STOP_WORDS = EN_STOP_WORDS | {"after", "before", "between", "during", "few", "generally", "often",
                               "one", "onto", "through", "typically", "usually", "without"}
_WORD = re.compile(r"[a-z0-9]*[a-z][a-z0-9]*")
# Particles split CJK runs so bigrams like "的化" do not count as content.
_ZH_PARTICLES = re.compile(r"[的了吗呢吧啊着]")
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]*(?:[-/][A-Z0-9]+)*\b|\b[A-Za-z]+\d[A-Za-z0-9]*\b")
_MIN_CONTENT = 4  # fewer content tokens: a connective like "In short:" or "总之："
# A list item's own number ("2. Surgery ...") is not a claim to check.
_LIST_PREFIX = re.compile(r"^\s*(?:[-*•·]\s*|\d+(?:[.)]\s+|、)|[(]\d+[)]\s*)")

_NUM = r"\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?"
# Digits glued to letters ("HER2", "PD-1", "T3N1") are names, not quantities.
_NUMBER = re.compile(
    rf"(?<![A-Za-z\d.])(?<![A-Za-z]-)({_NUM})"
    rf"(?:\s*(?:-|‐|–|—|~|to|至|到|或)\s*({_NUM}))?(\s*(?:%|percent\b|per cent\b))?",
    re.IGNORECASE,
)
_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety"
)
_SMALL = _NUMBER_WORDS.split()[:20]
_TENS = {w: 10 * i for i, w in enumerate(_NUMBER_WORDS.split()[20:], 2)}
_WORD_NUMBER = re.compile(
    rf"\b(?:({'|'.join(_TENS)})(?:[- ]({'|'.join(_SMALL[1:10])}))?|({'|'.join(_SMALL)}))\b"
    r"(\s*(?:%|percent\b|per cent\b))?",
    re.IGNORECASE,
)
_ROMAN_STAGE = re.compile(r"(?i:stage|grade|phase|type|class|level)\s+(IV|V|I{1,3})[A-C]?\b")
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}
_ZH_DIGITS = dict(zip("零一二两三四五六七八九", (0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_ZH_RUN = re.compile(r"[零一二两三四五六七八九十]+")
_ZH_NUMERAL = re.compile(r"[\d零一二两三四五六七八九十]")
_ZH_CONNECT = "到至或~-、"
# Units that make a Chinese numeral a count ("三周", "两个疗程"), not part of a word ("一般").
_ZH_UNIT = re.compile(
    r"个?(?:周期|疗程|小时|分钟|毫克|毫升|厘米|公分|星期|周|天|日|次|年|月|期|片|粒|颗|倍|成|岁"
    r"|种|项|例|轮|剂|针|级|度|组|位|名|线)"
)


def check_sentence(sentence: str, cited: Sequence[str], *, glossary_terms: Glossary | None = None,
                   threshold: float = 0.35, cross_threshold: float = 0.2) -> SupportResult:
    """Whether the cited passage texts back the sentence: every quantity must appear in one of
    them, then enough of its content must (threshold in one script, cross_threshold across)."""
    body = _LIST_PREFIX.sub("", _normalise(strip_markers(sentence)))
    numbers = _numbers(body, strict=True)
    tokens = _tokens(body)
    if not cited:
        if len(tokens) < _MIN_CONTENT and not numbers:
            return SupportResult(True, "ok", -1.0)
        return SupportResult(False, "no-citation", 0.0)
    passages = [_normalise(p) for p in cited]
    known = set().union(*(_numbers(p, strict=False) for p in passages))
    missing = tuple(v + "%" * pc for v, pc in dict.fromkeys(numbers) if not _found((v, pc), known))
    lang = script_of(body)
    same = lang is None or any(script_of(p) in (lang, None) for p in passages)
    view = _Lexical(body, tokens, lang, same, glossary_terms)
    overlap = view.overlap(" ".join(passages))
    best = _best_sentence(view, numbers, cited)
    if missing:
        return SupportResult(False, "unsupported-number", overlap, missing, best)
    if len(tokens) < _MIN_CONTENT or overlap < 0:
        return SupportResult(True, "ok", overlap, (), best)
    ok = overlap >= (threshold if same else cross_threshold)
    return SupportResult(ok, "ok" if ok else "low-overlap", overlap, (), best)


def check_answer(answer: str, passages: Sequence[str], *, glossary_terms: Glossary | None = None,
                 **thresholds: float) -> list[tuple[str, tuple[int, ...], SupportResult]]:
    """Every answer sentence with its citations (1-based into passages) and its check."""
    out = []
    for sentence, numbers in cited_sentences(answer, len(passages)):
        cited = [passages[n - 1] for n in numbers]
        result = check_sentence(sentence, cited, glossary_terms=glossary_terms, **thresholds)
        out.append((sentence, numbers, result))
    return out


class _Lexical:
    """The sentence's content as units, each to be found whole in a passage's token set.

    Same script: its content tokens. Chinese sentence vs English passage: its Latin tokens and
    the glossary's English terms (a multiword term is one unit). English sentence vs Chinese
    passage: its tokens against the passage's Latin tokens and glossary English, or only its
    acronyms without a glossary. No units: overlap is not measurable.
    """

    def __init__(self, body: str, tokens: set[str], lang: str | None, same: bool,
                 glossary: Glossary | None) -> None:
        self.expand = glossary if not same and lang == "en" else None
        if same:
            self.units = [frozenset([t]) for t in tokens]
        elif lang == "zh":
            terms = glossary(body) if glossary else []
            latin = {frozenset([t]) for t in _latin_tokens(body)}
            self.units = list(latin | {u for t in terms if (u := frozenset(_latin_tokens(t)))})
        elif glossary:
            self.units = [frozenset([t]) for t in _latin_tokens(body)]
        else:
            self.units = [frozenset(_latin_tokens(a)) for a in _ACRONYM.findall(body)]

    def overlap(self, passage: str) -> float:
        if not self.units:
            return -1.0
        found = _tokens(passage)
        if self.expand:
            found |= {t for term in self.expand(passage) for t in _latin_tokens(term)}
        return sum(unit <= found for unit in self.units) / len(self.units)


def _best_sentence(view: _Lexical, numbers: list[Number], passages: Sequence[str]) -> str:
    best, best_score = "", 0.0
    for passage in passages:
        for piece in split_sentences(passage):  # the original text, for highlighting
            text = _normalise(piece.text)
            hits = sum(_found(n, _numbers(text, strict=False)) for n in numbers)
            score = max(view.overlap(text), 0.0) + 0.1 * hits
            if score > best_score:
                best, best_score = piece.text, score
    return best


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _tokens(text: str) -> set[str]:
    out = _latin_tokens(text)
    for run in CJK_RUN.findall(text):
        for piece in _ZH_PARTICLES.split(run):
            if len(piece) == 1 and len(run) == 1:
                out.add(piece)
            out.update(piece[i : i + 2] for i in range(len(piece) - 1))
    return out


def _latin_tokens(text: str) -> set[str]:
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP_WORDS]
    return {english_stemmer().stemWord(w) if w.isalpha() else w for w in words}


def quantities(text: str, *, strict: bool) -> list[Number]:
    """Quantities in text (after NFKC), as (canonical value, is a percentage)."""
    return _numbers(_normalise(text), strict=strict)


def _numbers(text: str, *, strict: bool) -> list[Number]:
    """Quantities in text; strict (the answer side) skips what is too ambiguous to demand:
    "one", a lone 一, ordinals (第三) and Chinese numerals that are not counts."""
    out: list[Number] = []
    for m in _NUMBER.finditer(text):
        out.extend((_canonical(v), bool(m.group(3))) for v in m.group(1, 2) if v)
    for m in _WORD_NUMBER.finditer(text):
        ones = m.group(2) or m.group(3)
        value = _SMALL.index(ones.lower()) if ones else 0
        value += _TENS.get((m.group(1) or "").lower(), 0)
        if not (strict and value == 1):
            out.append((str(value), bool(m.group(4))))
    if not strict:
        out.extend((str(_ROMAN[m.group(1)]), False) for m in _ROMAN_STAGE.finditer(text))
    for m in _ZH_RUN.finditer(text):
        before, after = text[max(0, m.start() - 3) : m.start()], text[m.end() : m.end() + 2]
        percent = before.endswith("百分之")
        ranged = bool(before) and before[-1] in _ZH_CONNECT or (
            bool(after) and after[0] in _ZH_CONNECT and bool(_ZH_NUMERAL.match(after, 1))
        )
        counted = percent or ranged or (m.group() != "一" and _ZH_UNIT.match(text, m.end()))
        if strict and (before.endswith("第") or not counted):
            continue
        out.extend((str(v), percent) for v in _zh_values(m.group()))
    return out


def _zh_values(run: str) -> list[int]:
    """1-99 in simple Chinese numerals; "三四" (three or four) gives both."""
    if "十" in run:
        tens, _, ones = run.partition("十")
        if len(tens) > 1 or len(ones) > 1 or not set(tens + ones) <= _ZH_DIGITS.keys():
            return []
        return [(_ZH_DIGITS[tens] if tens else 1) * 10 + (_ZH_DIGITS[ones] if ones else 0)]
    values = [_ZH_DIGITS[c] for c in run]
    if len(values) == 1 or (len(values) == 2 and values[1] - values[0] == 1):
        return values
    return []


def _canonical(value: str) -> str:
    number = Decimal(value.replace(",", ""))
    integral = number == number.to_integral_value()
    return str(int(number)) if integral else format(number.normalize(), "f")


def _found(number: Number, known: set[Number] | list[Number]) -> bool:
    # A bare number may match a percentage in the passage, but "20%" needs a percentage.
    value, percent = number
    return (value, True) in known or (not percent and (value, False) in known)
