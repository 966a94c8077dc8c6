"""Answer types: what kind of thing a question asks for (a time, drugs, a test, a reason, what a
term means...), and whether a sentence supplies one. A sentence that restates the topic without
the asked-for thing is not an answer, however similar it is."""

from __future__ import annotations

import re
from functools import lru_cache

from core.text import CJK_CHAR
from qa import glossary, verify
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
# "What does X mean?", "What is 'X'?", "什么是X", "X是什么意思": what a term is. Only when the
# question asks for nothing more specific (a time, a reason, risks...): "What is the purpose of
# ...?" wants the purpose.
_DEFINITION_ASKS = re.compile(
    r"\bwhat (?:does|do|did)\b[^?]{0,60}?\b(?:mean|stand for)\b|\bmeaning of\b|"
    r"\bdefin(?:e|ition)\b|\bwhat(?:'s| is| are| exactly is| exactly are)\s+(?:that|this|it|those|"
    r"these)\s*\?|"
    r"\bwhat(?:'s| is| are)\s+(?:exactly\s+)?(?:an?\s+|the (?:term|word)\s+|(?:this|that|the)\s+"
    r"(?=['\"\u2018\u201c]))?(?:['\"\u2018\u201c]"
    r"[^'\"\u2019\u201d?]{1,40}['\"\u2019\u201d]|(?!(?:the|my|your|his|her|their|our|its)\s)"
    r"[\w-]+(?:\s+[\w-]+){0,3}\s*\?)|"
    r"什么是|什麼是|什么叫|什麼叫|何谓|何謂|什么意思|什麼意思|啥意思|指的是什么|指的是什麼|"
    r"是指什么|是指什麼|(?<!优势|优点|好处|坏处|区别|不同|原因|目的|作用|风险|意义|关键|重点|问题|"
    r"办法|影响|效果|结果|依据|機制|机制|缺点)是(?:一种|一種)?(?:什么|什麼|啥)(?:东西|東西|病|药|藥|"
    r"检查|檢查|治疗|"
    r"治療|放疗|放療|化疗|化療|手术|手術|技术|技術)?[？?]", re.IGNORECASE)
_SPECIFIC = frozenset({"time", "quantity", "reason", "risk", "method"})
# Sentences that say what a term is.
_DEFINES = re.compile(
    r"\brefers? to\b|,\s*which (?:involves|means)\b|\b(?:is|are) defined as\b|"
    r"\bmeans?\b(?!\s+of\b)|\boccurs? when\b|"
    r"\b(?:also |commonly )?(?:known as|called|termed)\b|\bstands? for\b|\b(?:is|are) (?:a|an) "
    r"(?:type|kind|form|class|group|way|method|technique|stage|phase|condition|state|process)s? "
    r"of\b|是指|指的是|称为|稱為|又称|又稱|也叫|叫做|是一种|是一種|所谓|所謂|意思是|定义为|定義為|"
    r"简称|簡稱", re.IGNORECASE)
# The term a definition question asks about: quoted, or what follows "what is" / 什么是, or
# precedes 是什么意思.
# (An apostrophe inside an English word opens and closes nothing: "my dad's letters say 'CRLM'".)
_QUOTED = re.compile(
    r"(?<![A-Za-z0-9])['\"\u2018\u201c\u300c]([^'\"\u2019\u201d\u300d]{1,40})"
    r"['\"\u2019\u201d\u300d](?![A-Za-z0-9])")
_TERM_SLOT = re.compile(
    r"\bwhat (?:does|do|is|are|'s)\s+(?:exactly\s+)?(?:an?\s+|the (?:term|word)\s+)?"
    r"([\w-]+(?:\s+[\w-]+){0,3}?)(?:\s+(?:mean|stand for))?\s*\?|"
    r"(?:什么是|什麼是|什么叫|什麼叫|何谓|何謂)([^，,。？?！!]{1,20})|"
    r"([^，,。？?！!\s]{1,20}?)(?:是什么意思|是什麼意思|是什么|是什麼|是啥|指的是什么|指的是什麼)",
    re.IGNORECASE)
# A result written after a quoted term is not part of it ("Ki-67 40%", "HER2（3+）", "CEA: 12.5").
_VALUE_TAIL = re.compile(r"(?:\s*[(（][^)）]*[)）]|\s*[:：=<>≥≤]\s*\d[\d.,]*\s*[%+]?|"
                         r"\s+\d[\d.,]*\s*[%+])$")  # not a bare number: "stage 4" is a term
# A Chinese slot's emphasis words are not part of the term (新辅助化疗到底是什么？).
_SLOT_FILLER = re.compile(r"(?:到底|究竟|具体|具體|就)+$")
# A sentence that names the term among the examples of a kind says what kind of thing it is
# ("Targeted drugs such as cetuximab ...", "Common techniques include ... proton therapy"): the
# term must come after the cue.
_INSTANCE_OF = re.compile(r"\bsuch as\b|\binclud(?:e|es|ing)\b|\be\.g\.|例如|比如|诸如|諸如|包括",
                          re.IGNORECASE)
_ACRONYM = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9]{1,7}(?:-[A-Z0-9]+)?(?![A-Za-z0-9])")
_POINTER = {"that", "this", "it", "those", "these"}  # and 这/這 ... in Chinese

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
    kinds = {kind for kind, pattern in asks.items() if pattern.search(question)}
    if not kinds & _SPECIFIC and _DEFINITION_ASKS.search(question):
        kinds.add("definition")
    return frozenset(kinds)


def asked_terms(question: str) -> tuple[str, ...]:
    """What a definition question asks to have explained: its quoted words; else the words in
    the "what is X" / X是什么意思 slot (unless a pointer: "What does that mean?"); else its
    acronyms; else the drugs it names."""
    terms = [_without_value(m.group(1).strip()) for m in _QUOTED.finditer(question)]
    for m in _TERM_SLOT.finditer(question) if not terms else ():
        slot = _SLOT_FILLER.sub("", next(g for g in m.groups() if g is not None).strip())
        if slot.casefold().split()[0] in _POINTER or slot.startswith(("这", "這")):
            continue
        terms.append(slot)
        if "的" in slot:  # 病历上写的CRLM: the term is after the last 的
            terms.append(slot.rsplit("的", 1)[1])
    terms = [t for t in terms if re.search(r"\w", t)] or _ACRONYM.findall(question) or [
        words for entry, words in glossary.mentions(question).items()
        if glossary.concept(entry).kind == "drug"]  # 用药单上写着顺铂，这是一种什么药？
    return tuple(dict.fromkeys(terms))


def _without_value(term: str) -> str:
    bare = _VALUE_TAIL.sub("", term).strip()
    return bare if re.search(r"\w", bare) else term


def defines(sentence: str, question: str) -> bool:
    """Whether the sentence says what the question's term is: it names the term (any of its
    glossary forms, in either language, or an English word of the same stem) in a defining
    construction ("X refers to", "also known as", 是指...), spells out its acronym ("Response
    Evaluation Criteria in Solid Tumors (RECIST)"), or names it among the examples of a kind
    ("Targeted drugs such as cetuximab ...")."""
    spans = []
    if _DEFINES.search(sentence) or (
            set(_ACRONYM.findall(question)) & verify.defined_abbreviations(sentence)):
        spans.append(sentence)
    instance = _INSTANCE_OF.search(sentence)
    if instance:
        # the examples after the cue, and the kind just before it ("local treatment methods
        # (such as surgery or radiotherapy)" says what local treatment is)
        spans += [sentence[instance.end():], _kind_before(sentence[:instance.start()])]
    return any(names(span, term) for span in spans for term in asked_terms(question))


def checkable(term: str) -> bool:
    """Whether a text can be seen not to name the term: it is in Latin letters (an English word
    or a code, found verbatim or by its stem), or the glossary knows it in any language. A
    Chinese term the glossary lacks may be named in an English passage in words no rule can
    match (拖尾 for "tailing")."""
    return bool(re.search(r"[A-Za-z]", term)) or bool(glossary.entries(term))


def _kind_before(head: str) -> str:
    """The words just before an examples cue: the last six English words, or the last twelve
    characters of Chinese."""
    tail = " ".join(head.split()[-6:])
    return tail[-12:] if CJK_CHAR.search(tail[-12:]) else tail


def names(text: str, term: str) -> bool:
    """The text names the term: verbatim, through all of its glossary entries, or (English) by
    the stems of its long words."""
    folded = text.casefold()
    entries = glossary.entries(term)
    bounded = rf"(?<![a-z0-9]){re.escape(term.casefold())}(?![a-z0-9])"
    if re.search(bounded, folded) or (entries and entries <= glossary.entries(text)):
        return True
    # metastasised -> metastas(is, es); metastasectomy stays itself
    stems = {w[:max(7, len(w) - 4)] for w in re.findall(r"[a-z]{8,}", term.casefold())}
    return bool(stems) and all(re.search(rf"\b{s}", folded) for s in stems)


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
    if "definition" in wanted and defines(sentence, question):
        return True
    for kind, glossary_kinds in _KINDS.items():
        if kind in wanted and kinds & set(glossary_kinds):
            return True
    return any(kind in wanted and pattern.search(sentence) for kind, pattern in gives.items())
