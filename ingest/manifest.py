"""The corpus manifest: optional title, languages, publisher and date per document."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from core.errors import CorpusError

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class ManifestEntry:
    title: str | None = None
    languages: tuple[str, ...] = ()
    publisher: str | None = None
    date: str | None = None


def load_manifest(corpus_dir: Path) -> dict[str, ManifestEntry]:
    """Entries keyed by file name relative to the corpus; a missing manifest is an empty one."""
    path = corpus_dir / MANIFEST_NAME
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(
            f"{path} is not valid JSON ({exc})", hint="fix or remove the manifest"
        ) from exc
    if not isinstance(raw, dict):
        raise CorpusError(f"{path} must map file names to entries", hint="see README, Corpus")
    entries = {}
    for name, item in raw.items():
        item = item if isinstance(item, dict) else {}
        entries[name] = ManifestEntry(
            title=item.get("title") or None,
            languages=tuple(item.get("languages") or ()),
            publisher=item.get("publisher") or None,
            date=item.get("date") or None,
        )
    return entries
