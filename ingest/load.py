"""Find corpus files and turn their bytes (txt/md/html/pdf) into one normalised text each."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from core.settings import OcrSettings
from ingest.decode import Unreadable, decode_counted, normalise_newlines, sanitise
from ingest.extract import html_title, html_to_text, pdf_text
from ingest.ocr import PageOcr

__all__ = ["MANIFEST", "SUPPORTED", "Skipped", "SourceText", "discover", "display_name",
           "fallback_title", "html_title", "html_to_text", "load_file", "normalise_newlines",
           "scan"]

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
MANIFEST = "manifest.json"
_KINDS = {".txt": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html",
          ".pdf": "pdf"}
_H1 = re.compile(r"^ {0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
_HEADING_MARK = re.compile(r"^ {0,3}#{1,6}[ \t]+")
# Version-control and archive-junk folders without a leading dot; dot-folders (.git, .svn, .hg...)
# are hidden anyway.
_VCS_FOLDERS = {"CVS", "_darcs", "__MACOSX"}
OUTSIDE = "symbolic link to a path outside the corpus folder (not read)"


@dataclass(frozen=True)
class SourceText:
    """A decoded corpus file; every citation offset is a character offset into `text`."""

    source: str  # the relative path as shown (bytes that are not UTF-8 appear as \xNN)
    path: Path
    text: str
    encoding: str
    kind: str
    sha256: str
    name: str = ""  # the relative path exactly as the OS gave it (chunk ids are built from it)
    replaced: int = 0  # invalid bytes decoded as U+FFFD
    ocr: tuple[PageOcr, ...] = ()  # PDF pages without a text layer, and what OCR made of them


@dataclass(frozen=True)
class Skipped:
    """A corpus file that was not loaded, with a human-readable reason."""

    source: str
    reason: str


def discover(corpus_dir: Path) -> list[Path]:
    """Supported files under corpus_dir, recursively, sorted by their POSIX relative path."""
    return scan(corpus_dir)[0]


def scan(corpus_dir: Path) -> tuple[list[Path], list[Skipped]]:
    """Supported files under corpus_dir, and the links skipped because they leave it.

    Hidden files and folders, version-control folders and the manifest are ignored. Linked
    folders are never entered; a linked file counts only if it resolves inside the corpus.
    """
    corpus_dir = Path(corpus_dir)
    root = corpus_dir.resolve()
    found: list[Path] = []
    skipped: list[Skipped] = []
    for folder, dirs, files in os.walk(corpus_dir):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not _ignored(d))
        for name in [d for d in dirs if (here / d).is_symlink()]:
            dirs.remove(name)
            if not _inside(here / name, root):
                skipped.append(Skipped(_source(here / name, corpus_dir), OUTSIDE))
        for name in files:
            path = here / name
            if _ignored(name) or name == MANIFEST or path.suffix.lower() not in SUPPORTED:
                continue
            if not _inside(path, root):
                skipped.append(Skipped(_source(path, corpus_dir), OUTSIDE))
            elif path.is_file():
                found.append(path)
    found.sort(key=lambda p: p.relative_to(corpus_dir).as_posix())
    return found, skipped


def _ignored(name: str) -> bool:
    return name.startswith(".") or name in _VCS_FOLDERS


def _inside(path: Path, root: Path) -> bool:
    """Whether path, with every link followed, stays under root (root already resolved)."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a link loop, or a path the OS refuses to resolve
        return False


def display_name(name: str) -> str:
    """A relative path as text that can be shown and stored: the OS gives undecodable name bytes
    as lone surrogates, shown here as \\xNN."""
    return os.fsencode(name).decode("utf-8", errors="backslashreplace")


def _source(path: Path, corpus_dir: Path) -> str:
    return display_name(path.relative_to(corpus_dir).as_posix())


def load_file(path: Path, corpus_dir: Path, *, max_bytes: int | None = None,
              ocr: OcrSettings | None = None, ocr_cache: Path | None = None
              ) -> SourceText | Skipped:
    """Load one file; bad content becomes Skipped, never an exception.

    The returned text has newlines normalised to "\\n" (CRLF and lone CR both become "\\n") and
    unstorable characters replaced by U+FFFD, so offsets refer to that text, not to the raw bytes.
    HTML text is the visible text with the <title> as its first line (unless the body already
    starts with it); PDF text is the pages' text joined with a blank line, a page without a text
    layer read by OCR as `ocr` says (default: OcrSettings(); the pages are listed in `.ocr`;
    with ocr_cache, a folder, readings are remembered there so an unchanged scan is read once).
    A file that resolves outside corpus_dir, or is larger than max_bytes, is skipped unread.
    Raises ValueError only if path is not inside corpus_dir (a caller bug).
    """
    path, corpus_dir = Path(path), Path(corpus_dir)
    name = path.relative_to(corpus_dir).as_posix()
    source = display_name(name)
    kind = _KINDS.get(path.suffix.lower())
    if kind is None:
        return Skipped(source, f"unsupported extension {path.suffix.lower() or '(none)'}")
    if not _inside(path, corpus_dir.resolve()):
        return Skipped(source, OUTSIDE)
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            return Skipped(source, f"file is {size / 1e6:.3g} MB, over the "
                           f"{max_bytes / 1e6:g} MB limit (ONCOQA_INGEST__MAX_FILE_MB)")
        raw = path.read_bytes()
    except OSError as exc:
        return Skipped(source, f"cannot read file ({exc.strerror or type(exc).__name__})")
    if not raw.strip():
        return Skipped(source, "empty file")
    replaced = 0
    pages: tuple[PageOcr, ...] = ()
    try:
        if kind == "pdf":
            pdf = pdf_text(raw, ocr or OcrSettings(), ocr_cache)
            text, encoding, pages = pdf.text, "pdf", pdf.ocr
        else:
            text, encoding, replaced = decode_counted(raw)
            if kind == "html":
                text, encoding = html_to_text(normalise_newlines(text)), "html"
    except Unreadable as exc:
        return Skipped(source, str(exc))
    text = sanitise(normalise_newlines(text))
    if not text.strip():
        return Skipped(source, "HTML has no visible text" if kind == "html" else "empty file")
    digest = hashlib.sha256(raw).hexdigest()
    return SourceText(source, path, text, encoding, kind, digest, name, replaced, pages)


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
