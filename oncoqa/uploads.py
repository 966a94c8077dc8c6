"""Checks on an uploaded document: its kind read from its bytes, and a safe file name."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ingest.decode import Unreadable, decode_counted

# Extensions the corpus loader reads, grouped by the kind the bytes must show.
EXTENSIONS = {".pdf": "pdf", ".html": "html", ".htm": "html", ".txt": "text", ".md": "text",
              ".markdown": "text"}
# Formats that are never a document here, named so the maintainer learns what was sent.
_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (or a Word/Excel file)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
    (b"{\\rtf", "an RTF document"),
)
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)[\s>]",
                         re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(rb"<(?:html|head|body|title|p|div|h[1-6])[\s>]", re.IGNORECASE)
_KEEP = re.compile(r"[^\w\-. ()（）]")  # \w is Unicode: letters and digits of any script
_MAX_STEM = 100


class Rejected(Exception):
    """An upload that is not accepted; the message says why (English, for the log and tests)."""

    def __init__(self, key: str, **values: str) -> None:
        super().__init__(f"{key}: {values}")
        self.key = key  # the ui.i18n string that explains it
        self.values = values


@dataclass(frozen=True)
class Checked:
    name: str  # the safe file name to store it under
    kind: str  # "pdf" | "html" | "text"


def sniff(data: bytes) -> str:
    """The document kind the bytes show: "pdf", "html" (text that starts as an HTML document) or
    "text"; raises Rejected for anything else (an image, an archive, a program, bytes that
    decode to no text)."""
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise Rejected("upload_binary", what=what)
    if not data.strip():
        raise Rejected("upload_empty")
    try:
        decode_counted(data)
    except Unreadable as exc:
        raise Rejected("upload_binary", what=str(exc)) from None
    return "html" if _HTML_START.match(data[:4096]) else "text"


def safe_name(raw: str) -> str:
    """A file name without folders, hidden dots, control characters or odd punctuation,
    Unicode-normalised (NFC); raises Rejected when nothing usable is left."""
    name = re.split(r"[/\\]", raw.strip())[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    suffix = Path(name).suffix.lower()
    stem = name[: len(name) - len(suffix)] if suffix else name
    stem = _KEEP.sub("_", stem)
    stem = re.sub(r"\s+", " ", stem).strip(" ._-")
    stem = stem[:_MAX_STEM].rstrip(" ._-")
    if suffix not in EXTENSIONS:
        raise Rejected("upload_extension", extension=suffix or "(none)",
                       allowed=", ".join(sorted(EXTENSIONS)))
    if not stem:
        raise Rejected("upload_bad_name", name=raw[:80])
    return stem + suffix


def check(raw_name: str, data: bytes) -> Checked:
    """The upload's safe name and kind; its extension must agree with what the bytes show."""
    name = safe_name(raw_name)
    kind = sniff(data)
    expected = EXTENSIONS[Path(name).suffix]
    # An HTML fragment (no <html> around it) is still HTML; Markdown may hold a few tags.
    if expected == "html" and kind == "text" and _HTML_TAG.search(data[:65536]):
        kind = "html"
    if kind != expected:
        raise Rejected("upload_mismatch", name=name, kind=kind)
    return Checked(name, kind)


def free_name(folder: Path, name: str) -> str:
    """name, or name with " (2)", " (3)"... before its extension, whichever is not taken in
    folder (compared without case, as a case-insensitive file system would)."""
    taken = {p.name.lower() for p in folder.iterdir()} if folder.is_dir() else set()
    stem, suffix = Path(name).stem, Path(name).suffix
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{stem} ({n}){suffix}"
    return candidate
