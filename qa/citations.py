"""Citation markers: numbering the context, parsing answers' [n] markers, and attributing them."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence

from core.text import split_sentences
from qa.types import Passage

# Models write ASCII, full-width and lenticular brackets, with ASCII or Chinese list separators
# and ranges; \d also accepts full-width digits, which int() converts.
_OPEN, _CLOSE = r"[\[［【〔]", r"[\]］】〕]"
_DASH, _SEP = r"[-‐–—~～]", r"[,，、;；]"
_ITEM = rf"\d+(?:\s*{_DASH}\s*\d+)?"
MARKER = re.compile(rf"{_OPEN}\s*{_ITEM}(?:\s*{_SEP}\s*{_ITEM})*\s*{_CLOSE}")
_MARKER_WITH_SPACE = re.compile(rf"([ \t]*)({MARKER.pattern})")
_LEADING_MARKERS = re.compile(rf"(?:[ \t]*{MARKER.pattern})+[.。!！?？]*")
_ENDS_WITH_MARKER = re.compile(rf"{MARKER.pattern}[\s.。!！?？:：]*$")
# A list item or heading starts its own paragraph even without a blank line before it.
_BLOCK_START = re.compile(r"\s*(?:[-*•·]\s|\d+(?:[.)]\s|、)|[（(]\d+[)）]|#+\s)")
_MAX_RANGE = 100  # "[1-3]" is a range; "[2019-2023]" is not worth expanding


def format_context(passages: Sequence[Passage]) -> str:
    """The prompt's context block; the only place passages get their citation numbers."""
    blocks = []
    for n, passage in enumerate(passages, 1):
        label = " — ".join(part for part in (passage.title.strip(), passage.source.strip()) if part)
        head = f"[{n}] ({label})" if label else f"[{n}]"
        # Bracketed reference numbers inside a document would read as citations to the model.
        text = MARKER.sub(lambda m: "(" + m.group()[1:-1].strip() + ")", passage.text.strip())
        blocks.append(f"{head}\n{text}")
    return "\n\n".join(blocks)


def parse_citations(answer: str, n_passages: int) -> list[int]:
    """Valid citation numbers in order of first appearance."""
    found: list[int] = []
    for match in MARKER.finditer(answer):
        found.extend(n for n in _numbers(match.group()) if 1 <= n <= n_passages)
    return _unique(found)


def strip_invalid(answer: str, n_passages: int) -> str:
    """Drops citations of nonexistent passages; every surviving marker is rewritten as ASCII [n]."""
    return _rewrite(answer, lambda n: n if 1 <= n <= n_passages else None)


def renumber(answer: str, mapping: dict[int, int]) -> str:
    """Applies old -> new numbers; numbers missing from the mapping are dropped."""
    return _rewrite(answer, mapping.get)


def strip_markers(text: str) -> str:
    """The text without any citation marker."""
    return _rewrite(text, lambda _n: None)


def cited_sentences(answer: str, n_passages: int) -> list[tuple[str, tuple[int, ...]]]:
    """(sentence, cited numbers) for each answer sentence, markers kept in the sentence text.

    A marker placed after the final punctuation ("... weeks. [1]") belongs to that sentence. When
    a paragraph of several sentences carries markers only at its very end, the model lumped its
    citations there, so every sentence of the paragraph gets them.
    """
    spans = _sentence_spans(answer)
    paragraph_of = _paragraphs(answer)
    items = [
        (answer[start:end], tuple(parse_citations(answer[start:end], n_passages)))
        for start, end in spans
    ]
    groups: dict[int, list[int]] = {}
    for index, (start, _end) in enumerate(spans):
        groups.setdefault(paragraph_of(start), []).append(index)
    for indices in groups.values():
        *head, last = indices
        text, cited = items[last]
        if head and cited and _ENDS_WITH_MARKER.search(text) and not any(items[i][1] for i in head):
            for i in head:
                items[i] = (items[i][0], cited)
    return items


def _sentence_spans(answer: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for sentence in split_sentences(answer):
        start, end = sentence.start, sentence.end
        lead = _LEADING_MARKERS.match(answer, start, end)
        # Markers opening a sentence close the previous one, unless a blank line separates them.
        if lead and spans and "\n\n" not in answer[spans[-1][1] : start]:
            spans[-1] = (spans[-1][0], lead.end())
            start = lead.end()
            while start < end and answer[start].isspace():
                start += 1
        if start < end:
            spans.append((start, end))
    return spans


def _paragraphs(answer: str) -> Callable[[int], int]:
    """Maps a character offset to the id of its paragraph."""
    starts: list[int] = []
    ids: list[int] = []
    paragraph, offset, after_blank = 0, 0, False
    for line in answer.split("\n"):
        if not line.strip():
            after_blank = True
        else:
            if after_blank or _BLOCK_START.match(line):
                paragraph += 1
            after_blank = False
        starts.append(offset)
        ids.append(paragraph)
        offset += len(line) + 1
    return lambda position: ids[bisect_right(starts, position) - 1]


def _numbers(marker: str) -> list[int]:
    out: list[int] = []
    for item in re.split(_SEP, marker[1:-1]):
        bounds = [int(x) for x in re.split(_DASH, item.strip()) if x.strip()]
        if len(bounds) == 2 and 0 <= bounds[1] - bounds[0] <= _MAX_RANGE:
            out.extend(range(bounds[0], bounds[1] + 1))
        else:
            out.extend(bounds)
    return out


def _rewrite(answer: str, new_number: Callable[[int], int | None]) -> str:
    def replace(match: re.Match[str]) -> str:
        kept = _unique(m for n in _numbers(match.group(2)) if (m := new_number(n)) is not None)
        if not kept:  # the space before a removed marker goes with it: "weeks [9]." -> "weeks."
            return ""
        return match.group(1) + "".join(f"[{n}]" for n in kept)

    return _MARKER_WITH_SPACE.sub(replace, answer)


def _unique(numbers: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(numbers))
