"""Find corpus files and turn their bytes (txt/md/html/pdf) into one normalised text each."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ingest.decode import Unreadable, decode, normalise_newlines, sanitise
from ingest.extract import html_title, html_to_text, pdf_text

__all__ = ["MANIFEST", "SUPPORTED", "Skipped", "SourceText", "discover", "fallback_title",
           "html_title", "html_to_text", "load_file", "normalise_newlines"]

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
MANIFEST = "manifest.json"
_KINDS = {".txt": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html",
          ".pdf": "pdf"}
_H1 = re.compile(r"^ {0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
_HEADING_MARK = re.compile(r"^ {0,3}#{1,6}[ \t]+")


@dataclass(frozen=True)
class SourceText:
    """A decoded corpus file; every citation offset is a character offset into `text`."""

    source: str
    path: Path
    text: str
    encoding: str
    kind: str
    sha256: str


@dataclass(frozen=True)
class Skipped:
    """A corpus file that was not loaded, with a human-readable reason."""

    source: str
    reason: str


def discover(corpus_dir: Path) -> list[Path]:
    """Supported files under corpus_dir, recursively, sorted by their POSIX relative path.

    Hidden files and anything inside hidden directories are ignored, as is the manifest.
    """
    corpus_dir = Path(corpus_dir)
    found: list[Path] = []
    for path in corpus_dir.rglob("*"):
        rel = path.relative_to(corpus_dir)
        if any(part.startswith(".") for part in rel.parts) or path.name == MANIFEST:
            continue
        if path.suffix.lower() in SUPPORTED and path.is_file():
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(corpus_dir).as_posix())


def load_file(path: Path, corpus_dir: Path) -> SourceText | Skipped:
    """Load one file; bad content becomes Skipped, never an exception.

    The returned text has newlines normalised to "\\n" (CRLF and lone CR both become "\\n") and
    unstorable characters replaced by U+FFFD, so offsets refer to that text, not to the raw bytes.
    HTML text is the visible text with the <title> as its first line (unless the body already
    starts with it); PDF text is the pages' text joined with a blank line.
    Raises ValueError only if path is not inside corpus_dir (a caller bug).
    """
    path, corpus_dir = Path(path), Path(corpus_dir)
    source = path.relative_to(corpus_dir).as_posix()
    kind = _KINDS.get(path.suffix.lower())
    if kind is None:
        return Skipped(source, f"unsupported extension {path.suffix.lower() or '(none)'}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return Skipped(source, f"cannot read file ({exc.strerror or type(exc).__name__})")
    if not raw.strip():
        return Skipped(source, "empty file")
    try:
        if kind == "pdf":
            text, encoding = pdf_text(raw), "pdf"
        else:
            text, encoding = decode(raw)
            if kind == "html":
                text, encoding = html_to_text(normalise_newlines(text)), "html"
    except Unreadable as exc:
        return Skipped(source, str(exc))
    text = sanitise(normalise_newlines(text))
    if not text.strip():
        return Skipped(source, "HTML has no visible text" if kind == "html" else "empty file")
    digest = hashlib.sha256(raw).hexdigest()
    return SourceText(source, path, text, encoding, kind, digest)


def fallback_title(text: str) -> str:
    """A title for a document without one: its first "# " heading, else its first line that
    has a letter or digit (heading marks removed); whitespace collapsed, at most 120 chars."""
    match = _H1.search(text)
    if match:
        candidate = match.group(1)
    else:
        lines = (line for line in text.split("\n") if any(c.isalnum() for c in line))
        candidate = _HEADING_MARK.sub("", next(lines, ""))
    return " ".join(candidate.split())[:120].rstrip()
