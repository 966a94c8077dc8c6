"""Gold sets: load and validate JSONL items, locate evidence quotes, judge retrieved passages."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from core.errors import OncoQAError
from core.text import script_of
from ingest.load import SourceText, load_file

GOLD_DIR = Path(__file__).resolve().parent / "gold"
KEYS = ("id", "language", "question", "turns", "answerable", "sources", "evidence", "key_facts",
        "notes")
OPTIONAL_KEYS = ("must_not", "split", "probe")
SPLITS = ("dev", "test")


class GoldError(OncoQAError):
    """A gold file is malformed or does not match the corpus."""


class Located(Protocol):
    """Anything with a corpus span: a retrieved Passage or a Citation."""

    @property
    def source(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


@dataclass(frozen=True)
class GoldItem:
    """One gold question (or conversation: the last turn is the one evaluated)."""

    id: str
    language: str
    turns: tuple[str, ...]
    answerable: bool
    sources: tuple[str, ...]
    evidence: tuple[str, ...]
    key_facts: tuple[tuple[str, ...], ...]
    notes: str
    file: str = ""  # the gold file's stem (en, zh, unanswerable, multiturn, ...)
    split: str = ""  # "dev" (tune on it) or "test" (report it); "" when the file has no split
    must_not: tuple[tuple[str, ...], ...] = ()  # wrong claims, each as alternative surface forms
    probe: str = ""  # contradiction probe class (probes.jsonl): polarity, number, list, needle

    @property
    def question(self) -> str:
        return self.turns[-1]

    @property
    def target_language(self) -> str:
        """Language of the evidence: 'zh' if any quote is Chinese, 'en' otherwise."""
        if not self.evidence:
            return "none"
        return "zh" if any(script_of(q) == "zh" for q in self.evidence) else "en"

    @property
    def direction(self) -> str:
        """Question language -> evidence language, e.g. 'zh->en' (Chinese question, English doc)."""
        return f"{self.language}->{self.target_language}"


@dataclass(frozen=True)
class Span:
    """Where one evidence quote sits in a corpus file (offsets into load_file(...).text)."""

    source: str
    start: int
    end: int
    quote: int  # index of the quote in GoldItem.evidence


def load_gold(paths: Iterable[Path]) -> list[GoldItem]:
    """Items of all files, in file order; raises GoldError listing every problem found."""
    items: list[GoldItem] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise GoldError(f"gold file {path} not found", hint="pass an existing JSONL file")
        lines = path.read_text(encoding="utf-8").splitlines()
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{path.name}:{lineno}"
            try:
                item = parse_item(json.loads(line), file=path.stem)
            except (json.JSONDecodeError, ValueError) as exc:
                problems.append(f"{where}: {exc}")
                continue
            if item.id in seen:
                problems.append(f"{where}: duplicate id {item.id!r} (also {seen[item.id]})")
            seen[item.id] = where
            items.append(item)
    if problems:
        raise GoldError("invalid gold data:\n  " + "\n  ".join(problems),
                        hint="see eval/README.md for the format")
    return items


def default_gold_files() -> list[Path]:
    return sorted(GOLD_DIR.glob("*.jsonl"))


def parse_item(raw: Any, file: str = "") -> GoldItem:
    """One validated item; ValueError says what is wrong."""
    if not isinstance(raw, dict):
        raise ValueError("line is not a JSON object")
    missing = [k for k in KEYS if k not in raw]
    if missing:
        raise ValueError(f"missing keys {missing}")
    if not isinstance(raw["id"], str) or not raw["id"].strip():
        raise ValueError("id must be a non-empty string")
    if raw["language"] not in ("en", "zh"):
        raise ValueError(f"{raw['id']}: language must be 'en' or 'zh'")
    question, turns = raw["question"], raw["turns"]
    if (question is None) == (turns is None):
        raise ValueError(f"{raw['id']}: exactly one of question and turns must be set")
    texts = [question] if question is not None else turns
    if not isinstance(texts, list) or not texts or not all(
            isinstance(t, str) and t.strip() for t in texts):
        raise ValueError(f"{raw['id']}: question/turns must be non-empty strings")
    if not isinstance(raw["answerable"], bool):
        raise ValueError(f"{raw['id']}: answerable must be true or false")
    sources, evidence, facts = raw["sources"], raw["evidence"], raw["key_facts"]
    if not all(isinstance(v, list) for v in (sources, evidence, facts)):
        raise ValueError(f"{raw['id']}: sources, evidence and key_facts must be lists")
    if not all(isinstance(s, str) and s for s in [*sources, *evidence]):
        raise ValueError(f"{raw['id']}: sources and evidence must be non-empty strings")
    if not all(isinstance(f, list) and f and all(isinstance(x, str) and x for x in f)
               for f in facts):
        raise ValueError(f"{raw['id']}: each key fact must be a non-empty list of strings")
    if raw["answerable"] and not (sources and evidence):
        raise ValueError(f"{raw['id']}: answerable items need sources and evidence")
    if not raw["answerable"] and (sources or evidence or facts):
        raise ValueError(f"{raw['id']}: unanswerable items must have no sources/evidence/facts")
    unknown = [k for k in raw if k not in KEYS and k not in OPTIONAL_KEYS]
    if unknown:
        raise ValueError(f"{raw['id']}: unknown keys {unknown} "
                         f"(optional keys: {list(OPTIONAL_KEYS)})")
    split = raw.get("split")
    if split is not None and split not in SPLITS:
        raise ValueError(f"{raw['id']}: split must be 'dev' or 'test', got {split!r}")
    probe = raw.get("probe")
    if probe is not None and not (isinstance(probe, str) and probe.strip()):
        raise ValueError(f"{raw['id']}: probe must be a non-empty string")
    must_not = raw.get("must_not") or []
    if not isinstance(must_not, list) or not all(
            isinstance(c, list) and c and all(isinstance(x, str) and x.strip() for x in c)
            for c in must_not):
        raise ValueError(f"{raw['id']}: must_not must be a list of non-empty lists of strings")
    quoted = normal_form("\n".join(evidence))
    in_evidence = [form for claim in must_not for form in claim if normal_form(form) in quoted]
    if in_evidence:
        raise ValueError(f"{raw['id']}: must_not forms occur in the evidence (quoting the source "
                         f"would count as a contradiction): {in_evidence}")
    return GoldItem(
        id=raw["id"], language=raw["language"], turns=tuple(texts), answerable=raw["answerable"],
        sources=tuple(sources), evidence=tuple(evidence),
        key_facts=tuple(tuple(f) for f in facts), notes=str(raw["notes"] or ""), file=file,
        split=split or "", must_not=tuple(tuple(c) for c in must_not), probe=probe or "",
    )


def normal_form(text: str) -> str:
    """How answers are matched against key facts and must-not forms: NFKC, case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


class Evidence:
    """Evidence quote spans of gold items in one corpus, and relevance of passages to items."""

    def __init__(self, corpus_dir: Path) -> None:
        self.corpus_dir = Path(corpus_dir)
        self._texts: dict[str, str] = {}
        self._spans: dict[GoldItem, tuple[Span, ...]] = {}

    def text(self, source: str) -> str:
        if source not in self._texts:
            loaded = load_file(self.corpus_dir / source, self.corpus_dir)
            if not isinstance(loaded, SourceText):
                raise GoldError(f"gold source {source} cannot be loaded from {self.corpus_dir}",
                                hint=getattr(loaded, "reason", "check the corpus"))
            self._texts[source] = loaded.text
        return self._texts[source]

    def spans(self, item: GoldItem) -> tuple[Span, ...]:
        """First occurrence of every quote in every source of the item that contains it."""
        if item not in self._spans:
            found = []
            for n, quote in enumerate(item.evidence):
                for source in item.sources:
                    at = self.text(source).find(quote)
                    if at >= 0:
                        found.append(Span(source, at, at + len(quote), n))
            self._spans[item] = tuple(found)
        return self._spans[item]

    def check(self, items: Sequence[GoldItem]) -> None:
        """Raise GoldError if a source is missing or a quote is not in any of its item's sources."""
        problems = []
        for item in items:
            absent = [s for s in item.sources if not (self.corpus_dir / s).is_file()]
            problems += [f"{item.id}: source {s} not in {self.corpus_dir}" for s in absent]
            if absent:
                continue
            located = {s.quote for s in self.spans(item)}
            problems += [f"{item.id}: evidence quote not found verbatim: {q[:60]!r}"
                         for n, q in enumerate(item.evidence) if n not in located]
        if problems:
            raise GoldError("gold evidence does not match the corpus:\n  " + "\n  ".join(problems),
                            hint="quotes must be exact substrings of their source files")

    def covered(self, item: GoldItem, passage: Located) -> frozenset[int]:
        """Indexes of the evidence quotes whose span overlaps the passage's [start, end)."""
        return frozenset(
            s.quote for s in self.spans(item)
            if s.source == passage.source and s.start < passage.end and passage.start < s.end
        )

    def passage_relevant(self, item: GoldItem, passage: Located) -> bool:
        return bool(self.covered(item, passage))

    @staticmethod
    def document_relevant(item: GoldItem, passage: Located) -> bool:
        return passage.source in item.sources
