"""Per-sentence verifier: is a rewrite or translation faithful to its one source sentence?"""

from __future__ import annotations

import os
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from core.text import CJK_RUN, Lang, script_of
from qa import glossary
from qa.bm25 import tokenize
from qa.support import quantities

Similarity = Callable[[str, str], float]

# Raise when the verifier starts accepting what it rejected before: rejections the phrase memory
# keeps (qa.phrase) hold only for the revision that made them, so their sentences are asked for
# again. (A stricter verifier needs no raise: remembered texts are verified again when used.)
# 2: a multiple in a word matches 倍 ("more than doubled", 增加一倍以上).
# 3: an abbreviation spelled out in its sentence may be left out of a translation; glossary
#    forms 预后 = outcomes, 生存 = survival.
# 4: 不佳 ("poor") negates nothing, as 不良.
# 5: "invisible" may be 隐藏的 ("hidden"), which counts as a lexical negative on both sides
#    (hidden / occult, 隐藏 / 隐匿).
# 6: glossary forms 反应评估/反应评价 = response evaluation, 骨与软组织肉瘤 = bone and soft
#    tissue sarcoma (its own row, so 骨肉瘤 "osteosarcoma" is no longer the model's guess).
# 7: a percentage said as a ratio is the same number ("one in ten" = 10%); glossary forms
#    保湿霜/润肤霜 = moisturiser.
REVISION = 7

# Negation cues, compared as "has any" between source and rewrite. Lexical negatives count on
# both sides ("insufficient" / 不足, "invisible" / 无法看到, "failure to" / 未能), so a faithful
# translation that renders one as a clausal negator still matches. In Chinese a negating
# character also sits inside transliterated drug names (索拉非尼 sorafenib), removed first, and
# in words that negate nothing (不断 "constantly", 不同 "different"), skipped.
_EN_NEGATION = re.compile(
    r"\b(?:not|no|never|without|cannot|none|neither|nor|unless|n't|nothing|nobody|avoid\w*|"
    r"rarely|seldom|unnecessary|unable|insufficient|inadequate|incomplete\w*|invisible|"
    r"undetect\w*|hidden|occult|ineffective|impossible|fail(?:s|ed|ure|ing)?|"
    r"lack(?:s|ed|ing)?|absen(?:t|ce)|lost|lose|loses)\b|n't\b",
    re.IGNORECASE,
)
_ZH_NOT_NEGATING = ("不断", "不同", "不少", "不久", "不仅", "不但", "不论", "不管", "不过",
                    "不良", "不佳", "不适", "不一定", "非常", "未来", "无论", "别人", "别的",
                    "特别", "分别", "区别", "差别", "类别", "级别", "个别", "识别", "鉴别",
                    "告别", "必不可少", "不可或缺")
_ZH_NEGATION = re.compile(r"[不没无未勿别非]|失去|缺乏|缺少|失败|隐藏|隐匿")
# Limits on a quantity: "at least 6 weeks" is not "within 6 weeks" (6周内). A cue counts only
# next to a number ("over time" or "outweigh" are not limits).
_NUM = r"(?:\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|" \
       r"a few|several|[一二两三四五六七八九十百千半几]+)"
_ZH_UNIT = r"(?:个)?(?:周|星期|天|日|月|年|小时|次|个|倍|厘米|公分|毫米|岁|%|％)"
_AT_LEAST = re.compile(
    rf"\b(?:at least|no (?:less|fewer) than|more than|longer than|over|greater than)\s+"
    rf"(?:about\s+)?{_NUM}|≥\s*\d|"
    rf"(?:至少|超过|不少于|多于|起码|大于)\s*(?:需要|要|需|有|约)?{_NUM}|"
    rf"{_NUM}\s*{_ZH_UNIT}?以上", re.IGNORECASE)
_AT_MOST = re.compile(
    rf"\b(?:within|at most|up to|no (?:more|longer) than|(?:less|fewer|shorter) than)\s+"
    rf"(?:about\s+)?(?:the\s+(?:first|next|last)\s+)?{_NUM}|≤\s*\d|"
    rf"(?:最多|至多|不超过|少于|不到)\s*(?:约)?{_NUM}|{_NUM}\s*{_ZH_UNIT}(?:以内|之内|内)",
    re.IGNORECASE)

# Units a number can carry, in both languages, mapped to one name (a measure word 个 may stand
# between: 3个周期).
_UNIT_FORMS = {
    "week": ("weeks", "week", "周", "星期", "礼拜"),
    "day": ("days", "day", "天", "日"),
    "month": ("months", "month", "个月", "月"),
    "year": ("years", "year", "岁", "年"),
    "hour": ("hours", "hour", "小时"),
    "cycle": ("cycles", "cycle", "courses", "course", "周期", "疗程", "轮"),
    "percent": ("percent", "per cent", "%", "％"),
    "mg": ("mg", "milligrams", "毫克"),
    "cm": ("cm", "centimetres", "centimeters", "centimetre", "centimeter", "厘米", "公分"),
    "mm": ("mm", "millimetres", "millimeters", "millimetre", "millimeter", "毫米"),
    "times": ("times", "倍"),
}
_UNIT_OF = {form: name for name, forms in _UNIT_FORMS.items() for form in forms}
_QUANTITY = re.compile(
    r"(?:\d+(?:\.\d+)?|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty)\b"
    r"|[一二两三四五六七八九十]+)"
    r"(?:\s*(?:-|–|to|or|至|到|或|~)\s*(?:\d+(?:\.\d+)?|\b\w+\b|[一二两三四五六七八九十]+))?"
    r"\s*(?:个\s*)?(" + "|".join(sorted(map(re.escape, _UNIT_OF), key=len, reverse=True)) + ")",
    re.IGNORECASE,
)
# Coded names (HER2, 5-FU, PD-1), acronyms (CT, MRI) and drug-like stems.
_LATIN_NAME = re.compile(r"\b[A-Za-z][A-Za-z0-9-]*\d[A-Za-z0-9-]*|\b[A-Z]{2,}[A-Za-z0-9-]*|"
                         r"\b(?i:[a-z]+(?:mab|nib|platin|taxel|rubicin|citabine|fluorouracil|"
                         r"mustine|zomib|tinib))\b")
# A lower-case Latin word of three letters or more (an English word, not an acronym or code).
_PLAIN_WORD = re.compile(r"(?<![A-Za-z0-9-])[a-z]{3,}(?![A-Za-z0-9-])")
# Disease and operation words by their endings (neuroblastoma, leukaemia, mucositis,
# mastectomy): a rewrite that brings one in names something its source does not. Only ever
# "added": a translation renders "carcinoma" as 癌, which is not a loss.
_DISEASE_WORD = re.compile(r"\b[a-z]+(?:omas?|a?emias?|itis|ectom(?:y|ies)|otom(?:y|ies)|"
                           r"plasias?)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str  # "ok" or the first check that failed
    detail: str = ""


@dataclass(frozen=True)
class Limits:
    """Tolerances; calibrated on rewrites of dev-split sentences (see eval/README.md)."""

    new_content: float = 0.5  # share of a same-language rewrite's words absent from the source
    min_similarity: float = 0.88  # e5 cosine source vs rewrite, same language
    min_similarity_cross: float = 0.80  # across languages (faithful translations of dev
    # sentences scored 0.825-0.84 with e5-small, so 0.84 turned good ones away)
    length: tuple[float, float] = (0.4, 1.9)  # rewrite / source size (words, or CJK chars / 1.7)


# A test result or receptor status: "HER2-positive" is HER2阳性, never HER2阴性. English counts
# the word where it is a result (hyphened to a code, after a code or "tested", before "for");
# "a positive attitude" is not one.
_EN_RESULT = re.compile(
    r"(?:-|\b[A-Z][A-Z0-9-]+\s+|\b(?i:test(?:ed|s)?\s+(?:was\s+|is\s+)?)|"
    r"\b(?i:results?\s+(?:is|are|was|were)\s+))((?i:positive|negative))\b|"
    r"\b((?i:positive|negative))\s+(?i:for|results?|tests?|status)\b")
_ZH_RESULT = re.compile(r"(阳性|陽性|阴性|陰性)")


def results(text: str) -> set[str]:
    """Which test results a sentence reports: positive, negative (either language)."""
    found = {"positive" if w in ("阳性", "陽性") else "negative" for w in _ZH_RESULT.findall(text)}
    for m in _EN_RESULT.finditer(text):
        found.add((m.group(1) or m.group(2)).lower())
    return found


# A short English word glued to the number after it, as text extracted from a PDF often is
# ("a diameter of1cm grows to1.2cm"): read as "of 1cm", not as a coded name like HER2.
_GLUED = re.compile(r"(?<![A-Za-z])(of|to|at|in|on|by|from|than|about|over|under|with|and|or|"
                    r"for|per|after|before|within|around|nearly|approximately)(?=\d)")


def verify(rewrite: str, source: str, target: Lang, *, similarity: Similarity | None = None,
           limits: Limits | None = None) -> Verdict:
    """Checks in order of cost; the first failure is the verdict."""
    limits = limits or Limits()
    text = _GLUED.sub(r"\1 ", unicodedata.normalize("NFKC", rewrite).strip())
    source = _GLUED.sub(r"\1 ", source)
    if not text:
        return Verdict(False, "empty")
    if script_of(text) != target:
        return Verdict(False, "language", f"expected {target}")
    if "=" in text and "=" not in source:  # the request's name list ("sorafenib = 索拉非尼")
        return Verdict(False, "instructions")
    if _repeats(text):
        return Verdict(False, "repetition")
    leftover = _untranslated(text) if target == "zh" else []
    if leftover:
        return Verdict(False, "untranslated", ", ".join(leftover))
    size, src = _size(text), _size(source)
    low, high = limits.length
    if not low * src - 2 <= size <= high * src + 4:  # slack: short sentences vary most
        return Verdict(False, "length", f"{size:.0f} vs {src:.0f}")
    # A number inside a glossary name (5-FU) is the name's, checked with the names below.
    bare_text = glossary.blank_names(text, numbered_only=True)
    bare_source = glossary.blank_names(source, numbered_only=True)
    src_numbers = Counter(v for v, _ in quantities(bare_source, strict=False))
    new_numbers = [v for v, _ in quantities(bare_text, strict=True) if v not in src_numbers]
    lost = [v for v, _ in quantities(bare_source, strict=True)
            if v not in {w for w, _ in quantities(bare_text, strict=False)}]
    if new_numbers or lost:
        return Verdict(False, "numbers", f"new {new_numbers} lost {lost}")
    if _unit_mismatch(text, source):
        return Verdict(False, "units", f"{sorted(units(text))} vs {sorted(units(source))}")
    if negated(text) != negated(source):
        return Verdict(False, "negation")
    if results(text) != results(source):
        return Verdict(False, "result", f"{sorted(results(text))} vs {sorted(results(source))}")
    if bounds(text) != bounds(source):
        return Verdict(False, "bounds", f"{sorted(bounds(text))} vs {sorted(bounds(source))}")
    same = script_of(source) == target
    added = _added_names(text, source) or _swapped_names(text, source)
    if added:
        return Verdict(False, "names", ", ".join(sorted(added)))
    dropped = _lost_names(text, source, translated=not same)
    if dropped:
        return Verdict(False, "names-lost", ", ".join(sorted(dropped)))
    if same and _new_share(text, source) > limits.new_content:
        return Verdict(False, "new-content", f"{_new_share(text, source):.2f}")
    if similarity is not None:
        floor = limits.min_similarity if same else limits.min_similarity_cross
        score = similarity(source, text)
        if score < floor:
            return Verdict(False, "meaning", f"{score:.3f}")
    return Verdict(True, "ok")


def _untranslated(text: str) -> list[str]:
    """Plain English words left in a Chinese translation ("是否 imminent"); names, acronyms and
    glossary terms (PET-CT, oxaliplatin, RECIST) may stay in Latin letters."""
    bare = glossary.blank_names(text)
    words = (m.group() for m in _PLAIN_WORD.finditer(bare))
    return [w for w in words if not _LATIN_NAME.fullmatch(w)]


def negated(text: str) -> bool:
    if script_of(text) == "zh":
        bare = text
        for entry in _named(text):
            for form in glossary.chinese_forms(entry):
                bare = bare.replace(form, " ")
        for word in _ZH_NOT_NEGATING:
            bare = bare.replace(word, " ")
        return bool(_ZH_NEGATION.search(bare)) or bool(_EN_NEGATION.search(text))
    return bool(_EN_NEGATION.search(text))


def bounds(text: str) -> set[str]:
    out = set()
    if _AT_LEAST.search(text):
        out.add("at least")
    if _AT_MOST.search(text):
        out.add("at most")
    return out


def units(text: str) -> set[str]:
    return {_UNIT_OF[m.group(1).lower()] for m in _QUANTITY.finditer(text)}


def _unit_mismatch(text: str, source: str) -> bool:
    """Different units, except a multiple the other side says in a word: "more than doubled"
    is 增加一倍以上 (一倍, "one times"), and a percentage the other side says as a ratio."""
    mine, theirs = units(text), units(source)
    if "percent" in mine ^ theirs and (
            _ratio_matches_percent(text, source) if "percent" in mine
            else _ratio_matches_percent(source, text)):
        mine, theirs = mine - {"percent"}, theirs - {"percent"}
    if "times" in mine ^ theirs:
        other = source if "times" in mine else text
        if _MULTIPLE.search(other):
            mine, theirs = mine - {"times"}, theirs - {"times"}
    return mine != theirs


def _ratio_matches_percent(with_percent: str, other: str) -> bool:
    """A percentage on one side is a ratio on the other: "one in ten" is 10%, 十分之一 is 10%."""
    percents = {float(v) for v, percent in quantities(with_percent, strict=False) if percent}
    return any(abs(p - r) < 0.5 for p in percents for r in _ratios(other))


def _ratios(text: str) -> list[float]:
    """Ratios as percentages: "1 in 10", "one out of every three", 三分之一."""
    out = []
    for m in _RATIO.finditer(text):
        part, whole = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        values = [quantities(x, strict=False) for x in (part, whole)]
        if all(values) and float(values[1][0][0]) > 0:
            out.append(100 * float(values[0][0][0]) / float(values[1][0][0]))
    return out


_RATIO = re.compile(
    r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?:in|out\s+of)\s+(?:every\s+)?"
    r"(\d+|two|three|four|five|six|seven|eight|nine|ten|twenty)\b|"
    r"(\d+|[二两三四五六七八九十]+)分之(\d+|[一二两三四五六七八九十]+)", re.IGNORECASE)


_MULTIPLE = re.compile(r"\b(?:doubl\w*|twice|tripl\w*|quadrupl\w*|\w+fold)\b|翻番|翻一番",
                       re.IGNORECASE)


def _named(text: str) -> set[int]:
    """The glossary entries a sentence names in so many words: the sense a gapped form gives
    ("chemotherapy before surgery" as neoadjuvant chemotherapy) is implied by word order, which
    a faithful rewrite may change."""
    return glossary.entries(text, gapped=False)


def names(text: str) -> set[str]:
    """Named things a sentence mentions: glossary concepts (treatments, drugs, tests, cancers;
    one id across languages) and Latin drug-like or coded names."""
    found = {glossary.english_form(e) for e in _named(text)
             if not glossary.is_generic(e)}
    found |= {_code(m.group()) for m in _LATIN_NAME.finditer(glossary.blank_names(text))
              if not _named(m.group())}
    return found


# A lower-case word hyphenated after a coded name says something about it ("HER2-positive",
# "BRCA1-mutated", "PD-1-targeted"); the name is the code, which a translation keeps
# (HER2阳性).
_CODE_SUFFIX = re.compile(r"(?:-[a-z]{3,})+$")


def _code(match: str) -> str:
    return _CODE_SUFFIX.sub("", match).lower().strip("-")


def _added_names(text: str, source: str) -> set[str]:
    """Names in the rewrite that the source lacks. A general term also counts as present when
    the source holds a word sharing its stem with one of the entry's English forms ("surgically"
    for "surgery", "immunotherapeutic" for "immunotherapy")."""
    in_source = names(source)
    stems = set(tokenize(source))
    added = set()
    for entry in _named(text):
        name = glossary.english_form(entry)
        if glossary.is_generic(entry) or name in in_source:
            continue
        forms = glossary.plain(glossary.concept(entry).english)
        if not any(_present(form, stems) for form in forms):
            added.add(name)
    added |= {_code(m.group()) for m in _LATIN_NAME.finditer(text)
              if not _named(m.group())} - in_source
    source_words = {w.lower() for w in re.findall(r"[A-Za-z]+", source)}
    added |= {w.lower() for w in _DISEASE_WORD.findall(text)
              if w.lower() not in source_words and not _named(w)}
    return added


def _swapped_names(text: str, source: str) -> set[str]:
    """Names the rewrite puts in place of a sibling the source names: two glossary concepts
    told apart only by a modifier ("adjuvant chemotherapy" for "neoadjuvant chemotherapy",
    辅助化疗 for 新辅助化疗). The stem test in `_added_names` finds "chemotherapy" in the source
    and lets such a swap through, although it reverses when the treatment is given."""
    mine = {e for e in _named(text) if not glossary.is_generic(e)}
    theirs = {e for e in _named(source) if not glossary.is_generic(e)}
    return {f"{glossary.english_form(r)} (source: {glossary.english_form(s)})"
            for r in mine - theirs for s in theirs - mine if _siblings(r, s)}


def _siblings(a: int, b: int) -> bool:
    """Two concepts with English forms that end alike but differ before: the same last word
    after different modifiers, or a form of six letters or more ending the other inside a
    word (adjuvant / neoadjuvant, resectable / unresectable)."""
    for x in glossary.concept(a).english:
        for y in glossary.concept(b).english:
            x_words, y_words = x.lower().split(), y.lower().split()
            if x_words == y_words:
                continue
            if len(x_words) > 1 and len(y_words) > 1 and x_words[-1] == y_words[-1]:
                return True
            short, long = sorted((x.lower(), y.lower()), key=len)
            if len(short) >= 6 and long.endswith(short) and long[-len(short) - 1].isalpha():
                return True
    return False


def _lost_names(text: str, source: str, *, translated: bool) -> set[str]:
    """Names of the source the rewrite drops or renders as something else: drugs and coded names
    always (a transliteration we cannot map is not a verified translation); tests and cancers
    too when translating, where each has a glossary form to use."""
    kept = names(text)
    lost = {glossary.english_form(e) for e in _named(source)
            if _must_keep(e, translated)} - kept
    folded = text.casefold()
    spelled_out = defined_abbreviations(source) if translated else set()
    lost |= {_code(m.group()) for m in _LATIN_NAME.finditer(glossary.blank_names(source))
             if not _named(m.group()) and _code(m.group()) not in folded
             and m.group() not in spelled_out}
    return lost


_ABBREVIATION = re.compile(r"\(\s*([A-Z][A-Za-z0-9]{1,9})\s*\)")


def defined_abbreviations(source: str) -> set[str]:
    """Abbreviations the sentence defines in brackets after their spelled-out form ("colorectal
    cancer liver metastasis (CRLM)"): a translation that renders the words may leave the letters
    out. The letters must be found in order in the words before the bracket, the first at the
    start of a word (after Schwartz and Hearst's rule), so "genes (RAS)" defines nothing."""
    found = set()
    for m in _ABBREVIATION.finditer(source):
        letters = m.group(1).lower()
        words = source[:m.start()].split()[-(len(letters) + 3):]
        if _spells(letters, " ".join(words).lower()):
            found.add(m.group(1))
    return found


def _spells(letters: str, phrase: str) -> bool:
    """Right to left: each letter is found before the previous one; the first letter of the
    abbreviation must begin a word."""
    i = len(phrase) - 1
    for k in range(len(letters) - 1, -1, -1):
        while i >= 0 and (phrase[i] != letters[k] or (
                k == 0 and i > 0 and phrase[i - 1].isalnum())):
            i -= 1
        if i < 0:
            return False
        i -= 1
    return True


def _must_keep(entry: int, translated: bool) -> bool:
    """Drugs always; tests and named diseases (not the broad words cancer / tumour / cancer
    cell, which translations render with many synonyms) when translating."""
    kind, name = glossary.concept(entry).kind, glossary.english_form(entry)
    if kind == "drug":
        return True
    if not translated:
        return False
    return kind == "test" or (kind == "cancer" and bool(_STRICT.search(name))
                              and name not in _BROAD)


_BROAD = {"cancer", "tumor", "cancer cell"}


def _present(name: str, stems: set[str]) -> bool:
    """Drugs, diseases and coded names must be in the source whole; a general term counts as
    present when one of its words shares a stem with a source word (血象 for "blood": the
    glossary's "blood count"; "surgic" in "surgically" for "surgical")."""
    words = set(tokenize(name))
    if _STRICT.search(name) or _LATIN_NAME.fullmatch(name) or name.isupper():
        return words <= stems
    return any(_shared_stem(w, s) for w in words for s in stems)


def _shared_stem(a: str, b: str) -> bool:
    if a == b:
        return True
    common = len(os.path.commonprefix([a, b]))
    return common >= 5 and common >= min(len(a), len(b)) - 2


_STRICT = re.compile(r"cancer|carcinoma|tumou?r|metasta|lymphoma|leuka?emia|sarcoma|"
                     r"mab\b|nib\b|platin|taxel|rubicin|citabine|uracil", re.IGNORECASE)


def _size(text: str) -> float:
    cjk = sum(len(run) for run in CJK_RUN.findall(text))
    return len(re.findall(r"[A-Za-z0-9]+", text)) + cjk / 1.7


def _new_share(rewrite: str, source: str) -> float:
    words = [t for t in tokenize(rewrite) if not t.isdigit()]
    if not words:
        return 0.0
    known = set(tokenize(source))
    return sum(t not in known for t in words) / len(words)


def _repeats(text: str) -> bool:
    """A generation loop: the same 2 words (or 4 characters) three times or more."""
    words = re.findall(r"\w+", text.lower())
    grams = Counter(tuple(words[i : i + 2]) for i in range(len(words) - 1))
    if grams and max(grams.values()) >= 3:
        return True
    chars = "".join(CJK_RUN.findall(text))
    quads = Counter(chars[i : i + 4] for i in range(len(chars) - 3))
    return bool(quads) and max(quads.values()) >= 3
