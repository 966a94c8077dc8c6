"""Sentence-aware, single-language, token-sized chunks with offsets into the original text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.text import Lang, Sentence, count_tokens, split_sentences

# Chinese text is denser than English, so a translation is this much shorter in characters;
# adjacent sections outside the band are not treated as translations of each other.
_ZH_PER_EN_CHARS = (0.12, 0.8)


@dataclass(frozen=True)
class Chunk:
    index: int
    start: int
    end: int
    text: str
    language: Lang
    section: int
    translation_section: int  # -1 when the section has no translation in the document
    # Where the chunk sits inside its section (0..1): aligns a chunk with its translation.
    rel_start: float = 0.0
    rel_end: float = 1.0


@dataclass(frozen=True)
class _Section:
    language: Lang
    sentences: tuple[Sentence, ...]

    @property
    def chars(self) -> int:
        return sum(len(s.text) for s in self.sentences)


def chunk_text(
    text: str,
    kept: Sequence[tuple[int, int]],
    *,
    max_tokens: int,
    overlap_tokens: int,
    default_language: Lang = "en",
) -> list[Chunk]:
    """Chunks of the kept spans of text; a chunk never mixes languages or splits a sentence
    unless the sentence alone exceeds max_tokens."""
    sentences = [s for start, end in kept for s in split_sentences(text, start, end)]
    sections = _sections(sentences, default_language)
    partners = _translation_partners(sections)
    chunks: list[Chunk] = []
    for number, section in enumerate(sections):
        pieces = [p for s in section.sentences for p in _fit(s, max_tokens)]
        first = section.sentences[0].start
        span = section.sentences[-1].end - first
        for group in _pack(pieces, max_tokens, overlap_tokens):
            chunks.append(
                Chunk(
                    index=len(chunks),
                    start=group[0].start,
                    end=group[-1].end,
                    text=_join(text, group),
                    language=section.language,
                    section=number,
                    translation_section=partners.get(number, -1),
                    rel_start=round((group[0].start - first) / max(1, span), 4),
                    rel_end=round((group[-1].end - first) / max(1, span), 4),
                )
            )
    return chunks


def _sections(sentences: list[Sentence], default: Lang) -> list[_Section]:
    """Runs of consecutive same-language sentences; language-neutral ones (numbers, symbols)
    join the run they sit in."""
    first = next((s.lang for s in sentences if s.lang), default)
    runs: list[tuple[Lang, list[Sentence]]] = []
    for sentence in sentences:
        lang = sentence.lang or (runs[-1][0] if runs else first)
        if runs and runs[-1][0] == lang:
            runs[-1][1].append(sentence)
        else:
            runs.append((lang, [sentence]))
    return [_Section(lang, tuple(items)) for lang, items in runs]


def _translation_partners(sections: list[_Section]) -> dict[int, int]:
    """Pair each Chinese section with an adjacent English one of plausible translated length."""
    partners: dict[int, int] = {}
    for i, section in enumerate(sections):
        if section.language != "zh" or i in partners:
            continue
        for j in (i - 1, i + 1):
            if not 0 <= j < len(sections) or j in partners or sections[j].language != "en":
                continue
            ratio = section.chars / max(1, sections[j].chars)
            if _ZH_PER_EN_CHARS[0] <= ratio <= _ZH_PER_EN_CHARS[1]:
                partners[i], partners[j] = j, i
                break
    return partners


def _fit(sentence: Sentence, max_tokens: int) -> list[Sentence]:
    """Split a sentence longer than max_tokens at character positions, keeping offsets."""
    if count_tokens(sentence.text) <= max_tokens:
        return [sentence]
    pieces: list[Sentence] = []
    start = 0
    text = sentence.text
    while start < len(text):
        end = _longest_prefix(text, start, max_tokens)
        pieces.append(
            Sentence(sentence.start + start, sentence.start + end, text[start:end], sentence.lang)
        )
        start = end
    return pieces


def _longest_prefix(text: str, start: int, max_tokens: int) -> int:
    lo, hi = start + 1, len(text)
    while lo < hi:  # binary search for the longest slice that fits
        mid = (lo + hi + 1) // 2
        if count_tokens(text[start:mid]) <= max_tokens:
            lo = mid
        else:
            hi = mid - 1
    # Prefer to cut after a space or comma when one is close to the limit.
    for cut in range(lo, max(start + 1, lo - 40), -1):
        if cut < len(text) and text[cut - 1] in " ,，、":
            return cut
    return lo


def _pack(
    pieces: list[Sentence], max_tokens: int, overlap_tokens: int
) -> list[list[Sentence]]:
    sizes = [count_tokens(p.text) + 1 for p in pieces]
    groups: list[list[Sentence]] = []
    i = 0
    while i < len(pieces):
        j, total = i, 0
        while j < len(pieces) and (j == i or total + sizes[j] <= max_tokens):
            total += sizes[j]
            j += 1
        groups.append(pieces[i:j])
        if j >= len(pieces):
            break
        # Start the next chunk with trailing sentences worth at most overlap_tokens.
        back, carried = j, 0
        while back - 1 > i and carried + sizes[back - 1] <= overlap_tokens:
            back -= 1
            carried += sizes[back]
        i = back
    return groups


def _join(text: str, group: list[Sentence]) -> str:
    parts = [group[0].text]
    for previous, current in zip(group, group[1:], strict=False):
        gap = text[previous.end : current.start]
        if "\n" in gap:
            parts.append("\n")
        elif gap:
            parts.append(" ")
        parts.append(current.text)
    return "".join(parts)
