"""Triage of a question before generation: red-flag symptoms (the classes and phrases of
qa/triage.toml), personal dosing, stopping treatment, and messages that try to override how the
assistant works (qa.override)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum, auto
from functools import lru_cache

from core.text import Lang, to_simplified
from qa import override, prompts, triage_file


class Risk(StrEnum):
    NONE = auto()
    RED_FLAG = auto()
    PERSONAL_DOSING = auto()
    STOP_DRUG = auto()
    OVERRIDE = auto()  # the message tells the assistant to drop its sources, rules or role


# Dosing: asking for a prescription is personal by wording; "how much / what dose" needs a
# personal cue and a medication word ("What is the usual dose of cisplatin?" is general).
_TAKE_ZH = r"(?:吃|用|服|打)"  # take a medicine (by mouth, by injection)
_WHICH_ZH = r"(?:什么|哪种|哪个|啥|哪些)"
DOSING_DIRECT: tuple[str, ...] = (
    r"\b(?:can|could|would|will) you (?:please )?prescribe\b|\bprescribe (?:me|him|her|us|my)\b"
    r"|\bwrite (?:me )?a prescription\b",
    r"\b(?:what|which) (?:drugs?|medicines?|medications?|meds|pills?|tablets?) should"
    r" (?:i|we|he|she|my \w+) (?:take|use|get|be (?:on|given))\b",
    r"\bshould (?:i|we|he|she) (?:increase|double|reduce|lower|cut|halve)"
    r" (?:my |his |her |the )?dos",
    r"(?:给|帮|替)(?:我|他|她|我妈|我爸|家人)?开(?:点|些|个|一些)?.{0,6}药|开(?:点|些|个)药",
    r"(?:我|他|她|我妈|我爸|家人|老公|老婆|孩子)(?:现在)?(?:应该|该|要|得|需要)" + _TAKE_ZH
    + _WHICH_ZH + "药",
    r"吃几(?:片|粒|颗|支|次)|(?:该|要|应该)吃多少|吃多少(?:片|粒|颗|毫克|mg)",
    # which medicine is good for it: a recommendation for the asker ("化疗常用哪些药" is general)
    rf"(?:{_TAKE_ZH}|喝){_WHICH_ZH}(?:药|西药|中药)"
    r"(?:最好|比较好|好|合适|管用|有效|能缓解|能治|可以缓解)",
    r"\b(?:what|which) (?:medicines?|medications?|meds|pills?|tablets?|drugs?) (?:is|are|would be"
    r"|works?) (?:the )?(?:best|better)\b|\bwhat (?:can|should) (?:i|we|he|she) take for\b",
)
DOSING_ASK = (
    r"\bhow (?:much|many)\b|\bwhat (?:dose|dosage|amount)\b|\bwhich dose\b|\bhow often\b"
    r"|剂量|用量|多少毫克|多少mg|多大量|用多少"
)
MEDICATION = (
    r"\btak(?:e|ing)\b|\bmg\b|\bmilligrams?\b|\bdos(?:e|es|age|ing)\b|\bdrugs?\b|\bmedic\w*|\bmeds\b"
    r"|\bpills?\b|\btablets?\b|\bcapsules?\b|\binjections?\b"
    r"|\w+(?:platin|mab|nib|taxel|rubicin|fen|zole|mide|tabine|tron)\b|药|片|粒|针|剂量|用量"
)

# Stopping: a stop verb near a treatment word, with a personal cue or a "may I" modal.
_STOP_VERB = (
    r"\b(?:stop(?:ping)?|quit(?:ting)?|skip(?:ping)?|discontinu\w*|come off|coming off|go off"
    r"|pause|give up|giving up|refuse|refusing|cancel|postpone|miss|not (?:take|have|do|continue"
    r"|finish)|don'?t (?:want to )?(?:take|have|do|continue|finish)|no longer (?:take|have))"
)
_TREATMENT = (
    r"(?:chemo\w*|treatments?|therap(?:y|ies)|radiotherapy|radiation|immunotherapy|medications?"
    r"|medicines?|meds|drugs?|pills|tablets|cycles?|course|sessions?|doses?|infusions?|injections?"
    r"|\w+(?:platin|mab|nib|taxel|rubicin|fen|zole|mide|tabine))\b"
)
STOP: tuple[str, ...] = (
    rf"{_STOP_VERB}(?:\s+(?:taking|having|doing|using|the|my|his|her|their|our|next|this"
    rf"|remaining|rest of|of|with|a|an)){{0,3}}\s+{_TREATMENT}",
    r"停药|停掉|停用|停止(?:化疗|放疗|治疗|用药|服药|吃药)|断药|减停"
    r"|不(?:想|要|打算)?再?(?:吃药|化疗|放疗|治疗|打针|做化疗|做放疗)|放弃(?:治疗|化疗|放疗)"
    r"|跳过(?:这|下|一)?(?:次|个|期|周期|疗程)|推迟(?:化疗|放疗|治疗)|停一(?:次|期|个疗程|周期)",
)
STOP_DIRECT = (
    r"\bis it (?:ok|okay|safe|fine|alright|all right|bad|dangerous|risky) (?:to|if (?:i|we|he|she"
    r"|my \w+)) (?:stop|skip|quit|miss|come off)"
)
STOP_MODAL = r"能不能|可不可以|可以不|能否|行不行|行吗|可以吗|自己|自行|擅自"


@dataclass(frozen=True)
class Assessment:
    risks: frozenset[Risk] = frozenset()  # empty when the question raises no concern
    matched: tuple[str, ...] = ()  # the phrases that raised them
    classes: tuple[str, ...] = ()  # red-flag classes of qa/triage.toml, in the file's order
    overrides: tuple[str, ...] = ()  # the parts addressed to the assistant's rules (qa.override)

    @property
    def is_urgent(self) -> bool:
        return Risk.RED_FLAG in self.risks

    @property
    def primary(self) -> Risk:
        """The risk to act on first, Risk.NONE if there is none."""
        order = (Risk.RED_FLAG, Risk.OVERRIDE, Risk.STOP_DRUG, Risk.PERSONAL_DOSING)
        return next((r for r in order if r in self.risks), Risk.NONE)


def assess(question: str) -> Assessment:
    """Which risks the question raises, in English or Chinese (Simplified or Traditional)."""
    p = _patterns()
    text = normalise(question)
    cues = triage_file.load().cues
    personal = bool(cues.report.search(cues.not_report.sub(" ", text)))
    risks: set[Risk] = set()

    def hits(pattern: re.Pattern[str]) -> list[str]:
        return [m.group() for m in pattern.finditer(text)]

    flags = red_flags(text)
    matched = [phrase for phrases in flags.values() for phrase in phrases]
    if flags:
        risks.add(Risk.RED_FLAG)
    dosing = hits(p.dosing_direct)
    if personal and p.medication.search(text):
        dosing += hits(p.dosing_ask)
    if dosing:
        risks.add(Risk.PERSONAL_DOSING)
        matched += dosing
    stop = hits(p.stop_direct)
    if personal or p.stop_modal.search(text):
        stop += hits(p.stop)
    if stop:
        risks.add(Risk.STOP_DRUG)
        matched += stop
    instructions = tuple(dict.fromkeys(override.found(text)))
    if instructions:
        risks.add(Risk.OVERRIDE)
    return Assessment(frozenset(risks), tuple(dict.fromkeys(matched)), tuple(flags),
                      instructions)


def normalise(question: str) -> str:
    """What the rules read: NFKC, lower case, no apostrophes, Traditional as Simplified, no
    Chinese degree words."""
    text = unicodedata.normalize("NFKC", question).lower()
    text = to_simplified(re.sub("[\'\u2018\u2019`]", "", text))
    return triage_file.load().cues.degree_zh.sub("", text)


def red_flags(text: str) -> dict[str, list[str]]:
    """The triage classes a normalised question reports, each with the phrases that did it."""
    rules = triage_file.load()
    cues = rules.cues
    plain = cues.not_report.sub(" ", text)
    # A present-tense cue ("right now", a temperature reading) outweighs "if" wording.
    factual = plain if cues.now.search(plain) else cues.hypothetical.sub(" ", plain)
    found: dict[str, list[str]] = {}
    for rule in rules.classes:
        source = plain if rule.even_if_asked_as_if else factual
        if rule.needs is not None and not rule.needs.search(source):
            continue
        phrases = _phrases(rule.self_evident, source) + _counted(rule.counts, source)
        if rule.reported is not None and cues.report.search(source):
            phrases += _phrases(rule.reported, source)
        if phrases:
            found[rule.name] = list(dict.fromkeys(phrases))
    return found


def urgent_message(risk: Assessment, lang: Lang) -> str:
    """The message for the red-flag classes found: a crisis line first when there is one, then
    why each symptom matters and what to do now (emergency care or poison control)."""
    rules = {c.name: c for c in triage_file.load().classes}
    actions = list(dict.fromkeys(rules[c].action for c in risk.classes))
    parts = [prompts.TRIAGE_ACTION["crisis"](lang)] if "crisis" in actions else []
    reasons = [prompts.TRIAGE_REASON[c](lang) for c in risk.classes if rules[c].action != "crisis"]
    if reasons:
        steps = [prompts.TRIAGE_ACTION[a](lang) for a in ("poison", "emergency") if a in actions]
        parts.append("⚠️ " + _gap(lang).join(reasons + steps))
    return "\n\n".join(parts) or prompts.URGENT(lang)


def _gap(lang: Lang) -> str:
    return "" if lang == "zh" else " "


def _phrases(pattern: re.Pattern[str] | None, text: str) -> list[str]:
    if pattern is None:
        return []
    return [m.group() for m in pattern.finditer(text) if not _negated(text, m.start())]


def _negated(text: str, start: int) -> bool:
    return bool(triage_file.load().cues.negation_before.search(text[max(0, start - 25):start]))


def _counted(counts: tuple[triage_file.Count, ...], text: str) -> list[str]:
    out = []
    for count in counts:
        for m in count.pattern.finditer(text):
            value = _number(m.group("n"))
            if value is not None and value >= count.at_least and not _negated(text, m.start()):
                out.append(m.group())
    return out


_EN_NUMBERS = {w: i for i, w in enumerate(["zero", "one", "two", "three", "four", "five", "six",
                                           "seven", "eight", "nine", "ten", "eleven", "twelve"])}
_EN_NUMBERS["a dozen"] = 12
_ZH_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2}


def _number(word: str) -> float | None:
    """3, 38.5, "seven", 七, 十二, 十几 (10), 七八 (7: the lower of a range)."""
    if word in _EN_NUMBERS:
        return float(_EN_NUMBERS[word])
    try:
        return float(word)
    except ValueError:
        pass
    if word.startswith("十"):
        return 10.0 + _ZH_DIGITS.get(word[1:2], 0)
    if len(word) >= 2 and word[1] == "十":
        return 10.0 * _ZH_DIGITS.get(word[0], 0) + _ZH_DIGITS.get(word[2:3], 0)
    first = _ZH_DIGITS.get(word[:1])
    return None if first is None else float(first)


@dataclass(frozen=True)
class _Patterns:
    dosing_direct: re.Pattern[str]
    dosing_ask: re.Pattern[str]
    medication: re.Pattern[str]
    stop: re.Pattern[str]
    stop_direct: re.Pattern[str]
    stop_modal: re.Pattern[str]


@lru_cache(maxsize=1)
def _patterns() -> _Patterns:
    def union(*alternatives: str) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)

    return _Patterns(
        dosing_direct=union(*DOSING_DIRECT),
        dosing_ask=union(DOSING_ASK),
        medication=union(MEDICATION),
        stop=union(*STOP),
        stop_direct=union(STOP_DIRECT),
        stop_modal=union(STOP_MODAL),
    )
