"""Answer types: what kind of thing a question asks for (a time, drugs, a test, a reason...), and
whether a sentence supplies one. A sentence that restates the topic without the asked-for thing
is not an answer, however similar it is."""

from __future__ import annotations

import re
from functools import lru_cache

from qa import glossary
from qa.support import quantities

# Question cues per type, English and Chinese (Simplified and Traditional forms).
_ASKS = {
    "time": r"\bhow (?:long|soon|many (?:weeks|days|months|years|hours))\b|\bwhen\b|多久|多长|"
            r"多長|几周|幾周|几天|幾天|几个月|幾個月|什么时候|什麼時候|何时|何時|时机|時機",
    "quantity": r"\bhow (?:much|many|big|large)\b|\bwhat (?:percentage|proportion|size|dose)\b|"
                r"多少|多大|几|幾|百分之",
    "drug": r"\b(?:which|what)\b[^?]{0,30}\b(?:drugs?|medicines?|medications?|agents?|"
            r"chemo(?:therapy)?s?|regimens?|inhibitors?)\b|什么药|什麼藥|哪些药|哪些藥|哪种药|"
            r"哪種藥|哪类药|哪類藥|用什么药|用什麼藥|药物有哪些|藥物有哪些",
    "test": r"\b(?:scans?|tests?|examinations?|imaging|check(?:ed|s)?|screening|x-?rays?)\b|"
            r"检查|檢查|片子|拍片|化验|化驗|筛查|篩查|复查|複查|影像",
    "method": r"\b(?:techniques?|methods?|options?|ways?|approaches?|machines?|kinds? of|"
              r"types? of|treatments? (?:are|is) (?:there|available|used))\b|技术|技術|方法|"
              r"手段|方式|哪些治疗|哪些治療|怎么治|怎麼治|治疗方案|治療方案",
    "reason": r"\bwhy\b|\bwhat for\b|\bpurpose\b|\breasons?\b|\bcauses?\b|为什么|為什麼|为何|"
              r"為何|目的|原因|为啥|為啥",
    "risk": r"\b(?:risks?|worr(?:y|ies)|dangers?|downsides?|concerns?|side[- ]effects?|harm|"
            r"problems?)\b|风险|風險|顾虑|顧慮|担心|擔心|副作用|坏处|壞處|危害|不良反应|不良反應",
}
# Sentence cues for the types that are not named things.
_GIVES = {
    "reason": r"\bbecause\b|\bpurpose\b|\bin order to\b|\bso (?:that|as to)\b|\bdue to\b|"
              r"\breasons?\b|\baims? (?:to|at)\b|\bhelps? (?:to )?\w+|\bto (?:reduce|prevent|"
              r"shrink|kill|allow|avoid|ensure|improve|assess|facilitate)\b|\bcaused by\b|"
              r"\brelated to\b|因为|因為|为了|為了|目的|以便|由于|由於|原因|导致|導致",
    "risk": r"\brisks?\b|\btoxicit(?:y|ies)\b|\bdamage\b|\binjur(?:y|ies)\b|\bcomplications?\b|"
            r"\bside effects?\b|\badverse\b|\bharm\w*\b|\bdelay\w*\b|\bprogress\w*\b|"
            r"风险|風險|毒性|损伤|損傷|并发症|併發症|副作用|不良反应|延误|延誤|进展|進展",
    "method": r"\bsuch as\b|\binclud\w+\b|\bcommon\w*\b|包括|例如|常用|常见|常見",
}
_TIME_UNIT = re.compile(
    r"\b(?:weeks?|days?|months?|years?|hours?)\b|周|週|天|个月|個月|年|小时|小時", re.IGNORECASE)
_KINDS = {"test": ("test",), "method": ("treatment",)}
# A named medicine, not a drug class or "resistance": the usual stems of drug names.
_DRUG_NAME = re.compile(r"\b\w+(?:mab|nib|platin|taxel|rubicin|citabine|uracil|mustine|zomib|"
                        r"fosfamide|trexate|tecan|poside|mycin|lib|parib)\b|\b5-FU\b",
                        re.IGNORECASE)


@lru_cache(maxsize=1)
def _compiled() -> tuple[dict[str, re.Pattern[str]], dict[str, re.Pattern[str]]]:
    asks = {k: re.compile(v, re.IGNORECASE) for k, v in _ASKS.items()}
    gives = {k: re.compile(v, re.IGNORECASE) for k, v in _GIVES.items()}
    return asks, gives


def asked(question: str) -> frozenset[str]:
    """The answer types a question asks for; empty for yes/no and open questions."""
    asks, _ = _compiled()
    return frozenset(kind for kind, pattern in asks.items() if pattern.search(question))


def supplies(sentence: str, wanted: frozenset[str], question: str = "") -> bool:
    """Whether the sentence holds something of a wanted type that the question does not."""
    if not wanted:
        return False
    _, gives = _compiled()
    numbers = {v for v, _ in quantities(sentence, strict=True)} - {
        v for v, _ in quantities(question, strict=True)}
    if "time" in wanted and numbers and _TIME_UNIT.search(sentence):
        return True
    if "quantity" in wanted and numbers:
        return True
    named = glossary.entries(sentence) - glossary.entries(question)
    kinds = {glossary.concept(e).kind for e in named}
    drugs = {e for e in named if _DRUG_NAME.search(glossary.english_form(e))}
    if "drug" in wanted and (drugs or _DRUG_NAME.search(sentence)):
        return True
    for kind, glossary_kinds in _KINDS.items():
        if kind in wanted and kinds & set(glossary_kinds):
            return True
    return any(kind in wanted and pattern.search(sentence) for kind, pattern in gives.items())
