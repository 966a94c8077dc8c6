"""Mark web-page boilerplate as removed spans of a document, leaving text and offsets intact."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.boilerplate import (
    IMAGE_PREFIX,
    REFERENCE_HEAD,
    RELATED_HEAD,
    SENTENCE,
    line_kind,
    sentence_kind,
    title_like,
    truncated,
)

Segment = tuple[int, int, str | None]  # absolute start, end, removal kind (None: content)


@dataclass(frozen=True)
class Removal:
    """A stretch of the original text judged to be boilerplate, and why."""

    kind: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Cleaned:
    """The original text with the [start, end) spans of it that are content."""

    text: str
    kept: tuple[tuple[int, int], ...]
    removed: tuple[Removal, ...]

    def kept_text(self) -> str:
        """The kept spans joined with newlines, for inspection and tests."""
        return "\n".join(self.text[start:end] for start, end in self.kept)


def clean(text: str) -> Cleaned:
    """Split text into content spans and classified boilerplate removals (text is unchanged).

    Kept spans are sorted, whitespace-trimmed and disjoint from the removals; every visible
    character of text lies in exactly one kept span or removal.
    """
    breaks = [m.start() for m in re.finditer("\n", text)]
    lines = list(zip([0, *(b + 1 for b in breaks)], [*breaks, len(text)], strict=True))
    segs = [_classify(text[s:e], s) for s, e in lines]
    _mark_teaser_blocks(text, lines, segs)
    _mark_trailing_ads(text, segs)
    return _assemble(text, segs)


def _classify(line: str, base: int) -> list[Segment]:
    body = line.strip()
    if not body:
        return [(base, base + len(line), "other")] if line else []
    lead = len(line) - len(line.lstrip())
    image = IMAGE_PREFIX.match(line, lead)
    if image and image.end() > lead:
        cut = image.end()
        return [(base, base + cut, "image-placeholder"), *_classify(line[cut:], base + cut)]
    kind = line_kind(body)
    if kind is None:
        # A paragraph made mostly of prompts or self-promotion goes whole; otherwise only its
        # trailing prompts do, and self-promotion inside prose is left to _mark_trailing_ads.
        kinds = [sentence_kind(m.group(), promo=True) for m in SENTENCE.finditer(body)]
        found = [k for k in kinds if k]
        if len(found) >= 0.6 * len(kinds):
            kind = max(found, key=found.count)
    if kind:
        return [(base, base + len(line), kind)]
    return _strip_suffix(line, base, promo=False)


def _strip_suffix(line: str, base: int, promo: bool) -> list[Segment]:
    """The line as content followed by its trailing boilerplate sentences, if any."""
    tail: list[Segment] = []
    cut = len(line)
    for match in reversed(list(SENTENCE.finditer(line))):
        kind = sentence_kind(match.group(), promo)
        if kind is None:
            break
        tail.insert(0, (base + match.start(), base + cut, kind))
        cut = match.start()
    if tail and not line[:cut].strip():
        return [(base, tail[0][1], tail[0][2]), *tail[1:]]
    return [(base, base + cut, None), *tail]


def _mark_trailing_ads(text: str, segs: list[list[Segment]]) -> None:
    # Self-promotion inside prose is only trusted as such at the very end of a document, where
    # publishers append their pitch to the last paragraph.
    for line in reversed(segs):
        content = [j for j, seg in enumerate(line) if seg[2] is None]
        if content:
            start, end, _ = line[content[-1]]
            judged = _strip_suffix(text[start:end], start, promo=True)
            line[content[-1]:content[-1] + 1] = judged
            if judged[0][2] is None:  # content survives, so the pitch started in this line
                return


def _mark_teaser_blocks(text: str, lines: list[tuple[int, int]],
                        segs: list[list[Segment]]) -> None:
    """Related/recommended lists: a heading plus teasers, or >= 3 teasers without a heading."""
    nonblank = [i for i, (s, e) in enumerate(lines) if text[s:e].strip()]
    bodies = [text[slice(*lines[i])].strip() for i in nonblank]
    i = 0
    while i < len(nonblank):
        last = (_headed_run if RELATED_HEAD.search(bodies[i]) else _headless_run)(bodies, i)
        if last is None:
            i += 1
            continue
        first_line, last_line = nonblank[i], nonblank[last]
        segs[first_line] = [(lines[first_line][0], lines[last_line][1], "related-articles")]
        for j in range(first_line + 1, last_line + 1):
            segs[j] = []
        i = last + 1


def _headed_run(bodies: list[str], i: int) -> int | None:
    k, last_snippet = i + 1, None
    while k < len(bodies) and not REFERENCE_HEAD.search(bodies[k]) and (
            title_like(bodies[k]) or truncated(bodies[k])):
        last_snippet = k if truncated(bodies[k]) else last_snippet
        k += 1
    if k == i + 1:
        return None  # a lone "Recommended" before prose is a content heading
    # Up to the document's end the whole run is teasers; otherwise stop at the last snippet so a
    # following content heading survives, and a snippet-less title list is left alone.
    return k - 1 if k == len(bodies) else last_snippet


def _headless_run(bodies: list[str], i: int) -> int | None:
    k, snippets = i, 0
    while k < len(bodies):
        if truncated(bodies[k], 200):
            k, snippets = k + 1, snippets + 1
        elif title_like(bodies[k]) and k + 1 < len(bodies) and truncated(bodies[k + 1], 200):
            k, snippets = k + 2, snippets + 1
        else:
            break
    return k - 1 if snippets >= 3 else None


def _assemble(text: str, segs: list[list[Segment]]) -> Cleaned:
    kept: list[tuple[int, int]] = []
    removed: list[Removal] = []
    after_content = False
    for start, end, kind in (seg for line in segs for seg in line):
        if kind is None:
            chunk = text[start:end]
            lo, hi = start + len(chunk) - len(chunk.lstrip()), start + len(chunk.rstrip())
            if lo >= hi:
                continue
            if kept and after_content:
                # Content separated only by blank lines stays one span: paragraphs keep together.
                kept[-1] = (kept[-1][0], hi)
            else:
                kept.append((lo, hi))
            after_content = True
        else:
            if removed and not after_content and removed[-1].kind == kind:
                start = removed.pop().start  # one removal per run of same-kind boilerplate
            removed.append(Removal(kind, start, end, text[start:end]))
            after_content = False
    return Cleaned(text, tuple(kept), tuple(removed))
