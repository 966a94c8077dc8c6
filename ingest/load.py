"""Find corpus files and turn their bytes (txt/md/html/pdf) into one normalised text each."""

from __future__ import annotations

import codecs
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString
from bs4.element import PreformattedString
from pypdf import PdfReader

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
MANIFEST = "manifest.json"
_KINDS = {".txt": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html",
          ".pdf": "pdf"}
_UNDECODABLE = "cannot decode as UTF-8/UTF-16/GB18030"
# Whitespace controls (\t \n \v \f \r) are legitimate in text; everything else C0/C1 is not.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# Chroma stores UTF-8: lone surrogates cannot be encoded and NUL/noncharacters upset SQLite FTS.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff\ufffe\uffff]")
_STRAY_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_H1 = re.compile(r"^ {0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
_HEADING_MARK = re.compile(r"^ {0,3}#{1,6}[ \t]+")
_DROP_TAGS = ("head", "title", "script", "style", "noscript", "nav", "header", "footer",
              "aside", "form", "template", "svg", "iframe", "button", "select")
_BLOCK_TAGS = ("address", "article", "blockquote", "caption", "dd", "details", "div", "dl", "dt",
               "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li",
               "main", "ol", "p", "pre", "section", "summary", "table", "tr", "ul")


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


class _Unreadable(Exception):
    """Raised inside this module when bytes cannot become text; its message is the reason."""


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
            text, encoding = _pdf_text(raw), "pdf"
        else:
            text, encoding = _decode(raw)
            if kind == "html":
                text, encoding = html_to_text(normalise_newlines(text)), "html"
    except _Unreadable as exc:
        return Skipped(source, str(exc))
    text = _sanitise(normalise_newlines(text))
    if not text.strip():
        return Skipped(source, "HTML has no visible text" if kind == "html" else "empty file")
    digest = hashlib.sha256(raw).hexdigest()
    return SourceText(source, path, text, encoding, kind, digest)


def _decode(raw: bytes) -> tuple[str, str]:
    """(text, encoding name) of raw bytes; raises _Unreadable with the skip reason."""
    if raw.startswith(codecs.BOM_UTF8):
        # A BOM declares the encoding, so a stray bad byte is replaced rather than fatal.
        text, encoding = raw[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, encoding = raw.decode("utf-16", errors="replace"), "utf-16"
    elif b"\x00" in raw:
        return _bomless_utf16(raw)
    else:
        try:
            text, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            return _gb18030(raw), "gb18030"
    if _control_ratio(text) > 0.02:
        raise _Unreadable("binary file (control characters)")
    return text, encoding


def _control_ratio(text: str) -> float:
    return len(_CONTROL.findall(text)) / max(len(text), 1)


def _bomless_utf16(raw: bytes) -> tuple[str, str]:
    # ASCII-heavy UTF-16 has a NUL in (nearly) every high byte and almost none in the low ones;
    # binary data scatters NULs over both byte positions.
    units = len(raw) // 2
    even, odd = raw[0::2].count(0), raw[1::2].count(0)
    if len(raw) % 2 == 0:
        for nuls, others, codec in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
            if nuls < 0.2 * units or others > 0.02 * units:
                continue
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError:
                continue
            if _control_ratio(text) <= 0.01:
                return text, codec
    raise _Unreadable("binary file (NUL bytes)")


def _gb18030(raw: bytes) -> str:
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        raise _Unreadable(_UNDECODABLE) from None
    if _CONTROL.search(text):
        raise _Unreadable("binary file (control characters)")
    # GB18030 maps almost any high-byte pair to some character, so Latin-1/CP1252 text also
    # "decodes"; real Chinese uses mostly the common GB2312 repertoire, misdecodes do not.
    wide = [c for c in text if ord(c) > 0x7F]
    common = sum(1 for c in wide if _in_gb2312(c))
    unassigned = sum(1 for c in wide if 0xE000 <= ord(c) <= 0xF8FF or ord(c) >= 0xF0000)
    if unassigned or common < 0.5 * len(wide):
        raise _Unreadable(_UNDECODABLE)
    return text


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR become LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _sanitise(text: str) -> str:
    text = _UNSTORABLE.sub("\ufffd", text)
    # Same-length replacement keeps any offsets computed on this text valid.
    return _STRAY_CONTROL.sub(" ", text)


def html_title(raw: str) -> str | None:
    """The whitespace-collapsed <title> of an HTML document, or None."""
    return _soup_title(BeautifulSoup(raw, "html.parser"))


def _soup_title(soup: BeautifulSoup) -> str | None:
    tag = soup.find("title")
    title = " ".join(tag.get_text().split()) if tag else ""
    return title or None


def html_to_text(raw: str) -> str:
    """Visible text of an HTML page: one line per block element, at most one blank line in a row.

    Page chrome (nav, header, footer, aside, forms, scripts) is dropped; the <title> becomes the
    first line so the title fallback works the same for every kind of file.
    """
    soup = BeautifulSoup(raw, "html.parser")
    title = _soup_title(soup)
    for tag in soup.find_all(_DROP_TAGS):
        # An <article>'s own <header> carries its headline, not site chrome.
        keep = tag.name == "header" and tag.find_parent(("article", "main")) is not None
        if not tag.decomposed and not keep:
            tag.decompose()
    for node in soup.find_all(string=True):
        if isinstance(node, PreformattedString):  # comments, doctypes, CDATA
            node.extract()
        elif node.find_parent("pre") is None:
            # Source line breaks inside a paragraph are layout, not structure.
            node.replace_with(NavigableString(re.sub(r"\s+", " ", str(node))))
    for br in soup.find_all("br"):
        br.replace_with(NavigableString("\n"))
    for cell in soup.find_all(("td", "th")):
        cell.insert_after(NavigableString(" "))
    for block in soup.find_all(_BLOCK_TAGS):
        block.insert_before(NavigableString("\n"))
        block.insert_after(NavigableString("\n"))
    lines: list[str] = []
    for line in soup.get_text().split("\n"):
        line = line.strip()
        if line or (lines and lines[-1]):
            lines.append(line)
    body = "\n".join(lines).strip()
    if title and not body.startswith(title):
        body = f"{title}\n\n{body}" if body else title
    return body


def _pdf_text(raw: bytes) -> str:
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise _Unreadable("encrypted PDF (password required)")
        pages = [page.extract_text() or "" for page in reader.pages]
    except _Unreadable:
        raise
    except Exception as exc:  # pypdf raises many unrelated types on malformed files
        raise _Unreadable(f"unreadable PDF ({type(exc).__name__})") from None
    text = "\n\n".join(page.strip("\n") for page in pages)
    if not text.strip():
        raise _Unreadable("PDF has no extractable text")
    return text


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
