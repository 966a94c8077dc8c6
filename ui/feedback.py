"""Feedback on answers, appended one JSON object per line to the feedback file."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from qa.types import Answer

Rating = Literal["up", "down"]

_LOCK = threading.Lock()  # one writer at a time within the app process


def rating_of(liked: object) -> Rating | None:
    """Gradio's like value (True / False, or "Like" / "Dislike") as "up" / "down"."""
    if liked is True or liked in ("Like", "up"):
        return "up"
    if liked is False or liked in ("Dislike", "down"):
        return "down"
    return None


def make_record(question: str, answer: Answer, rating: Rating, comment: str = "",
                when: datetime | None = None) -> dict[str, Any]:
    """The JSONL record for one click on an answer."""
    return {
        "time": (when or datetime.now(UTC)).isoformat(timespec="seconds"),
        "rating": rating,
        "comment": (comment or "").strip(),
        "question": question,
        "answer": answer.text,
        "kind": answer.kind,
        "citations": [
            {"n": c.n, "source": c.source, "title": c.title, "start": c.start, "end": c.end}
            for c in answer.citations
        ],
        "language": answer.language,
    }


def append(path: Path, record: dict[str, Any]) -> None:
    """Appends one line; the parent directory is created; the line is flushed to disk. Text that
    UTF-8 cannot hold (a lone surrogate typed or pasted into a question) is written as its JSON
    escape, so the line stays valid and reads back the same."""
    line = json.dumps(record, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK, path.open("a", encoding="utf-8", errors="backslashreplace") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def read(path: Path) -> list[dict[str, Any]]:
    """All records in the file (an empty list when there is none yet)."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
