"""Feedback to gold: read rated answers, turn one into a gold candidate, check it like gold."""

from __future__ import annotations

import importlib.util
import json
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from core.errors import OncoQAError
from eval.gold import GOLD_DIR, Evidence, parse_item

CANDIDATES_NAME = "gold-candidates.jsonl"
QUOTE_MAX = 300  # check_gold's EVIDENCE_MAX: a prefilled quote is cut to fit
_FORM_SPLIT = re.compile(r"\s*[|｜]\s*")
_CHECK_LOCK = threading.Lock()  # check_gold keeps its findings in module-level lists


@dataclass(frozen=True)
class CitedSpan:
    """A passage an answer cited, as the feedback file records it."""

    n: int
    source: str
    title: str
    start: int
    end: int


@dataclass(frozen=True)
class FeedbackItem:
    """One line of the feedback file; `line` (1-based) is its id in the console."""

    line: int
    time: str
    rating: str
    comment: str
    question: str
    answer: str
    kind: str
    language: str
    citations: tuple[CitedSpan, ...]


@dataclass(frozen=True)
class ShownPassage:
    """A cited passage's text, read from the corpus file at its span (problem: why not)."""

    n: int
    source: str
    title: str
    start: int
    end: int
    text: str
    problem: str = ""
    suggested: str = ""  # a first quote for the maintainer to cut down (first_quote)


@dataclass(frozen=True)
class CandidateInput:
    """What the maintainer decided about one feedback item."""

    feedback: FeedbackItem
    answerable: bool
    source: str = ""
    quote: str = ""
    key_facts: tuple[tuple[str, ...], ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Verdict:
    """check_gold's (and the evaluation loader's) judgement; item is what was checked."""

    errors: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    item: dict[str, Any] | None = None
    written: bool = False
    count: int = 0  # candidates checked (a whole file)

    @property
    def ok(self) -> bool:
        return not self.errors


def read_feedback(path: Path) -> list[FeedbackItem]:
    """Every readable record of the feedback file, in file order (a torn line is skipped)."""
    if not Path(path).exists():
        return []
    items = []
    lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
            items.append(_feedback(number, record))
        except (ValueError, TypeError, KeyError, AttributeError):
            continue
    return items


def _feedback(line: int, record: dict[str, Any]) -> FeedbackItem:
    citations = tuple(
        CitedSpan(int(c.get("n", 0)), str(c["source"]), str(c.get("title") or c["source"]),
                  int(c["start"]), int(c["end"]))
        for c in record.get("citations") or [])
    return FeedbackItem(
        line=line, time=str(record.get("time", "")), rating=str(record.get("rating", "")),
        comment=str(record.get("comment") or "").strip(), question=str(record["question"]),
        answer=str(record.get("answer", "")), kind=str(record.get("kind", "")),
        language=str(record.get("language", "")), citations=citations)


def to_review(items: Iterable[FeedbackItem]) -> list[FeedbackItem]:
    """Thumbs-down and commented answers, newest first."""
    return sorted((i for i in items if i.rating == "down" or i.comment),
                  key=lambda i: (i.time, i.line), reverse=True)


def cited_passages(item: FeedbackItem, corpus_dir: Path) -> list[ShownPassage]:
    """The text of each cited passage, read from the corpus at the recorded span (the text the
    evaluation locates quotes in, so a quote copied from here is found verbatim)."""
    evidence = Evidence(corpus_dir)
    shown = []
    for c in item.citations:
        try:
            text, problem = evidence.text(c.source)[c.start:c.end], ""
        except (OncoQAError, OSError) as exc:
            text, problem = "", str(exc)
        if not text and not problem:
            problem = "the span is empty: the file changed since the answer was given"
        shown.append(ShownPassage(c.n, c.source, c.title, c.start, c.end, text, problem,
                                  first_quote(text)))
    return shown


def first_quote(text: str, limit: int = QUOTE_MAX) -> str:
    """A starting quote from a passage: the passage itself, or its first sentences that fit in
    limit characters (the maintainer narrows it down)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    ends = [m.end() for m in re.finditer(r"[.!?。！？；;](?=\s|$)|[。！？；]", cut)]
    return cut[:ends[-1]].strip() if ends and ends[-1] >= 40 else cut.strip()


def parse_key_facts(text: str) -> tuple[tuple[str, ...], ...]:
    """Key facts typed one per line, surface forms separated by | ("shrink | 缩小 | smaller")."""
    facts = []
    for line in text.splitlines():
        forms = tuple(f for f in _FORM_SPLIT.split(line.strip()) if f)
        if forms:
            facts.append(forms)
    return tuple(facts)


@cache
def check_gold() -> ModuleType:
    """eval/gold/check_gold.py (a stdlib script, not a package module), loaded once."""
    spec = importlib.util.spec_from_file_location("oncoqa_check_gold", GOLD_DIR / "check_gold.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_candidates(path: Path) -> list[dict[str, Any]]:
    if not Path(path).exists():
        return []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _gold_items(gold_dir: Path) -> list[dict[str, Any]]:
    return [item for name in check_gold().FILES for item in read_candidates(gold_dir / name)]


def build_candidate(choice: CandidateInput, taken: Sequence[dict[str, Any]],
                    candidates: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The gold line for a decision, keys in gold order. The id continues the numbering of the
    file it would join (en-, zh-, un-) past the gold sets and earlier candidates; the split is
    dev for every third candidate of that file and language (about a third, as in the sets)."""
    fb = choice.feedback
    kind = "un" if not choice.answerable else fb.language
    numbers = [int(m.group(1)) for item in [*taken, *candidates]
               if (m := re.fullmatch(rf"{re.escape(kind)}-(\d+)", str(item.get("id"))))]
    same = [c for c in candidates
            if check_gold().kind_of(c) == kind and c.get("language") == fb.language]
    origin = f"from feedback {fb.time} ({fb.rating})" + (f": {fb.comment}" if fb.comment else "")
    notes = "; ".join(part for part in (choice.note.strip(), origin) if part)
    return {
        "id": f"{kind}-{max(numbers, default=0) + 1:03d}",
        "language": fb.language,
        "question": fb.question,
        "turns": None,
        "answerable": choice.answerable,
        "sources": [choice.source] if choice.answerable else [],
        "evidence": [choice.quote] if choice.answerable else [],
        "key_facts": [list(f) for f in choice.key_facts] if choice.answerable else [],
        "notes": notes,
        "split": "dev" if len(same) % 3 == 0 else "test",
    }


def check_candidates(items: Sequence[dict[str, Any]], corpus_dir: Path,
                     gold_dir: Path = GOLD_DIR, name: str = CANDIDATES_NAME) -> Verdict:
    """Check candidates as check_gold checks the gold sets (same rules per item, ids and
    questions new to the gold sets), then as `oncoqa eval --gold` loads them (quotes located
    in the text the evaluation reads)."""
    module = check_gold()
    taken = _gold_items(gold_dir)
    with _CHECK_LOCK:
        docs, _ = module.load_corpus(str(corpus_dir))
        docs.update(_other_texts(items, corpus_dir, docs))
        errors, warnings = module.check_extra(
            name, list(enumerate(items, 1)), docs, {t.get("id") for t in taken},
            {module.question_key(t) for t in taken})
    errors = list(errors)
    evidence = Evidence(corpus_dir)
    for number, raw in enumerate(items, 1):
        if any(e.startswith((f"{name}:{number} ", f"{name}:{number}:")) for e in errors):
            continue  # one reason is enough; the loader's check would repeat it
        try:
            evidence.check([parse_item(raw, file=Path(name).stem)])
        except (ValueError, OncoQAError) as exc:
            errors.append(f"{name}:{number}: {exc}")
    return Verdict(tuple(errors), tuple(warnings), count=len(items))


def _other_texts(items: Sequence[dict[str, Any]], corpus_dir: Path,
                 docs: dict[str, str]) -> dict[str, str]:
    """Sources check_gold does not read itself (.md, .html, .pdf): their loaded text."""
    evidence = Evidence(corpus_dir)
    texts = {}
    for item in items:
        for source in item.get("sources") or []:
            if isinstance(source, str) and source not in docs and (corpus_dir / source).is_file():
                try:
                    texts[source] = evidence.text(source)
                except OncoQAError:
                    continue
    return texts


def add_candidate(choice: CandidateInput, path: Path, corpus_dir: Path,
                  gold_dir: Path = GOLD_DIR) -> Verdict:
    """Build the candidate, check it together with the file's earlier candidates, and append
    it only when it passes; a rejected candidate is not written and the verdict says why."""
    existing = read_candidates(path)
    item = build_candidate(choice, _gold_items(gold_dir), existing)
    verdict = check_candidates([*existing, item], corpus_dir, gold_dir, Path(path).name)
    mine = (f"{Path(path).name}:{len(existing) + 1} ", f"{Path(path).name}:{len(existing) + 1}:")
    own = tuple(e for e in verdict.errors if e.startswith(mine))
    if own:  # an earlier line broken by hand shows in check_file's verdict, not here
        return Verdict(own, verdict.warnings, item)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(item, ensure_ascii=False) + "\n")
    return Verdict((), verdict.warnings, item, written=True, count=len(existing) + 1)


def check_file(path: Path, corpus_dir: Path, gold_dir: Path = GOLD_DIR) -> Verdict:
    """The verdict on the whole candidates file (a hand edit can break a written line)."""
    try:
        items = read_candidates(path)
    except ValueError as exc:
        return Verdict((f"{Path(path).name}: not JSON lines ({exc})",))
    return check_candidates(items, corpus_dir, gold_dir, Path(path).name)
