"""Read and check the red-flag triage rules clinicians edit: qa/triage.toml."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from core.text import CJK_CHAR

TRIAGE_FILE = "triage.toml"
ACTIONS = ("emergency", "poison", "crisis")
CUES = ("report", "not_report", "hypothetical", "now", "negation_before")
DEGREE = "degree_zh"  # a regular expression of Chinese degree words removed before matching
PATTERN_LISTS = ("reported", "self_evident", "needs")
CLASS_KEYS = {"action", "even_if_asked_as_if", "count", *PATTERN_LISTS}


class TriageFileError(ValueError):
    """The triage file breaks one of its rules; the message names each class and rule."""


@dataclass(frozen=True)
class Count:
    pattern: re.Pattern[str]  # with a group n: the number
    at_least: float


@dataclass(frozen=True)
class TriageClass:
    name: str
    action: str  # emergency | poison | crisis
    reported: re.Pattern[str] | None  # counts with a report cue
    self_evident: re.Pattern[str] | None  # counts by itself
    needs: re.Pattern[str] | None  # must also be there, when given
    counts: tuple[Count, ...] = ()
    even_if_asked_as_if: bool = False


@dataclass(frozen=True)
class Cues:
    report: re.Pattern[str]
    not_report: re.Pattern[str]
    hypothetical: re.Pattern[str]
    now: re.Pattern[str]
    negation_before: re.Pattern[str]
    degree_zh: re.Pattern[str] = re.compile("(?!)")


@dataclass(frozen=True)
class TriageRules:
    cues: Cues
    classes: tuple[TriageClass, ...]


@lru_cache(maxsize=1)
def load() -> TriageRules:
    """The packaged rules, read and checked once, on first use."""
    return parse_rules(resources.files("qa").joinpath(TRIAGE_FILE).read_text(encoding="utf-8"))


def parse_rules(text: str, source: str = TRIAGE_FILE) -> TriageRules:
    """The rules of a triage TOML; raises TriageFileError listing every broken rule."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TriageFileError(f"{source}: not valid TOML: {exc}") from exc
    problems: list[str] = []
    raw_cues = data.pop("cues", {})
    missing = [c for c in CUES if not raw_cues.get(c)]
    if missing:
        problems.append(f"{source} [cues]: needs non-empty lists {', '.join(missing)}")
    cues = {c: _union(raw_cues.get(c, []), f"{source} [cues] {c}", problems) for c in CUES}
    cues[DEGREE] = _union([raw_cues.get(DEGREE, "(?!)")], f"{source} [cues] {DEGREE}", problems)
    classes = [_class(name, body, f"{source} [{name}]", problems) for name, body in data.items()]
    if not classes:
        problems.append(f"{source}: no triage class")
    if problems:
        raise TriageFileError("\n".join(problems))
    return TriageRules(Cues(**cues), tuple(c for c in classes if c is not None))


def _class(name: str, body: Any, where: str, problems: list[str]) -> TriageClass | None:
    if not isinstance(body, dict):
        problems.append(f"{where}: must be a table")
        return None
    unknown = sorted(set(body) - CLASS_KEYS)
    if unknown:
        problems.append(f"{where}: unknown keys {', '.join(unknown)}")
    if body.get("action") not in ACTIONS:
        problems.append(f"{where}: action must be one of {', '.join(ACTIONS)}")
    counts = []
    for i, entry in enumerate(body.get("count", []), 1):
        pattern = _compile(entry.get("pattern", ""), f"{where} count {i}", problems)
        if pattern is not None and "n" not in pattern.groupindex:
            problems.append(f"{where} count {i}: the pattern needs a group (?P<n>...)")
        if not isinstance(entry.get("at_least"), int | float):
            problems.append(f"{where} count {i}: at_least must be a number")
        elif pattern is not None:
            counts.append(Count(pattern, float(entry["at_least"])))
    texts = [p for key in ("reported", "self_evident") for p in body.get(key, [])]
    texts += [entry.get("pattern", "") for entry in body.get("count", [])]
    if not texts:
        problems.append(f"{where}: needs reported, self_evident or count patterns")
    elif not any(CJK_CHAR.search(p) for p in texts) or all(CJK_CHAR.search(p) for p in texts):
        problems.append(f"{where}: needs patterns in both English and Chinese")
    lists = {key: _union(body.get(key, []), f"{where} {key}", problems) if body.get(key)
             else None for key in PATTERN_LISTS}
    return TriageClass(name, str(body.get("action")), counts=tuple(counts),
                       even_if_asked_as_if=bool(body.get("even_if_asked_as_if", False)), **lists)


def _compile(pattern: str, where: str, problems: list[str]) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error as exc:
        problems.append(f"{where}: {pattern!r} is not a valid regular expression ({exc})")
        return None


def _union(patterns: list[str], where: str, problems: list[str]) -> re.Pattern[str]:
    valid = [p for p in patterns if _compile(p, where, problems) is not None]
    for pattern in patterns:
        if "'" in pattern:
            problems.append(f"{where}: {pattern!r} has an apostrophe; they are removed from "
                            "the text before matching")
    try:
        return re.compile("|".join(f"(?:{p})" for p in valid) or "(?!)")
    except re.error as exc:  # e.g. a global flag such as (?s) that only works alone
        problems.append(f"{where}: the patterns do not combine ({exc})")
        return re.compile("(?!)")
