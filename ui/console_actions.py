"""What the maintainer console can do, handed in by the entry point as typed callables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

JobState = Literal["idle", "running", "done", "failed"]


@dataclass(frozen=True)
class DocumentRow:
    """One indexed document, as the registry recorded it at ingest."""

    source: str
    title: str
    languages: tuple[str, ...]
    chunks: int
    ingested_at: float  # epoch seconds
    notes: str  # what cleaning removed or replaced (DocReport.notes())


@dataclass(frozen=True)
class ReportRow:
    """One line of an ingest report: a document read, skipped or removed."""

    source: str
    status: str  # "added" | "updated" | "unchanged" | "skipped" | "removed"
    chunks: int | None
    notes: str


@dataclass(frozen=True)
class Outcome:
    """The result of an action: a ui.i18n key and its values, so the page says it in its
    language."""

    ok: bool
    key: str
    values: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class JobStatus:
    """The background ingest as last seen: its stage, progress, and its report once done."""

    state: JobState = "idle"
    stage: str = ""  # "read" (documents) | "embed" (chunks) | "" before the first step
    done: int = 0
    total: int = 0
    rows: tuple[ReportRow, ...] = ()
    totals: Mapping[str, float] = field(default_factory=dict)  # the CLI's summary numbers
    problem: str = ""  # why it failed (or "locked")
    finished_at: float = 0.0


@dataclass(frozen=True)
class ConsoleActions:
    """The console's actions; the entry point (oncoqa/maintain.py) implements them."""

    documents: Callable[[], list[DocumentRow]]
    upload: Callable[[Path, str, bool], Outcome]  # temp file, its name, replace same name
    delete: Callable[[str], Outcome]  # a document's source
    ingest: Callable[[], Outcome]  # start (or queue) a background ingest
    status: Callable[[], JobStatus]
