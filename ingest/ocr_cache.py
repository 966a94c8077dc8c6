"""What OCR read on each scanned page, remembered on disk so re-running ingest does not OCR an
unchanged PDF again (Tesseract takes seconds per page)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from core.settings import OcrSettings

# Bump when the reading of a page changes for the same settings (parsing, tidying, retries).
READER_VERSION = 1


class PageCache:
    """Readings of one PDF's pages, in one JSON file named by the file's bytes and the settings
    that shape a reading (the confidence floor is applied afterwards, so it is not part of it)."""

    def __init__(self, folder: Path, raw: bytes, settings: OcrSettings) -> None:
        shape = f"{READER_VERSION}|{settings.languages}|{settings.dpi}|{settings.retry_below:g}"
        name = (hashlib.sha256(raw).hexdigest()[:40] + "-"
                + hashlib.sha256(shape.encode()).hexdigest()[:12])
        self.path = folder / f"{name}.json"
        self._pages: dict[str, list[object]] = {}
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                self._pages = loaded
        except (OSError, ValueError):
            pass  # no reading yet, or a damaged file: OCR again

    def get(self, index: int) -> tuple[str, float | None] | None:
        """(text, confidence) read before for the page (0-based), or None."""
        entry = self._pages.get(str(index))
        if (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)
                and (entry[1] is None or isinstance(entry[1], int | float))):
            return entry[0], None if entry[1] is None else float(entry[1])
        return None

    def put(self, index: int, text: str, confidence: float | None) -> None:
        """Remember a reading; a cache that cannot be written only costs time later."""
        self._pages[str(index)] = [text, confidence]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        except OSError:
            return
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(self._pages, out, ensure_ascii=False)
            os.replace(temporary, self.path)  # readers never see half a file
        except OSError:
            Path(temporary).unlink(missing_ok=True)
