"""Visible text of HTML pages (title first, one line per block) and of PDF files (scanned
pages through ingest.ocr)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString
from bs4.element import PreformattedString
from pypdf import PdfReader

from core.settings import OcrSettings
from ingest.decode import Unreadable
from ingest.ocr import PageOcr, read_pages

_DROP_TAGS = ("head", "title", "script", "style", "noscript", "nav", "header", "footer",
              "aside", "form", "template", "svg", "iframe", "button", "select")
_BLOCK_TAGS = ("address", "article", "blockquote", "caption", "dd", "details", "div", "dl", "dt",
               "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li",
               "main", "ol", "p", "pre", "section", "summary", "table", "tr", "ul")
_DEFAULT_OCR = OcrSettings()


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


@dataclass(frozen=True)
class PdfText:
    """A PDF's text (pages joined with a blank line) and what OCR did to its scanned pages."""

    text: str
    ocr: tuple[PageOcr, ...] = ()  # one per page that had no text layer and was not blank


def pdf_text(raw: bytes, ocr: OcrSettings = _DEFAULT_OCR,
             ocr_cache: Path | None = None) -> PdfText:
    """The pages' text joined with a blank line; raises Unreadable with the skip reason.

    A page with no text layer, or with fewer than ocr.min_text_chars non-space characters and an
    image (a scan with a stamped page number), is read by OCR (ingest.ocr) when ocr.enabled; a
    page OCR could not read well enough keeps only its text layer and its PageOcr says why.
    The text is empty only if every page is, and then this raises.
    With ocr_cache (a folder), each page's reading is remembered there and reused.
    """
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unreadable("encrypted PDF (password required)")
        pages = [page.extract_text() or "" for page in reader.pages]
    except Unreadable:
        raise
    except Exception as exc:  # pypdf raises many unrelated types on malformed files
        raise Unreadable(f"unreadable PDF ({type(exc).__name__})") from None
    scanned = [i for i, page in enumerate(pages)
               if len("".join(page.split())) < ocr.min_text_chars]
    reports: list[PageOcr] = []
    if ocr.enabled and scanned:
        short = frozenset(i for i in scanned if pages[i].strip())
        readings = read_pages(raw, scanned, ocr, ocr_cache, need_image=short)
        for index, (text, report) in zip(scanned, readings, strict=True):
            if report is not None:
                pages[index] = text or pages[index]  # keep a stamped page number
                reports.append(report)
    text = "\n\n".join(page.strip("\n") for page in pages)
    if not text.strip():
        raise Unreadable(_why_empty(reports))
    return PdfText(text, tuple(reports))


def _why_empty(reports: list[PageOcr]) -> str:
    reasons = list(dict.fromkeys(report.reason for report in reports))
    if len(reasons) == 1 and reasons[0].startswith("not OCR'd"):  # e.g. tesseract missing
        return f"PDF has no extractable text; its scanned pages were {reasons[0]}"
    notes = "; ".join(report.note() for report in reports[:3])
    more = f"; {len(reports) - 3} more pages" if len(reports) > 3 else ""
    return "PDF has no extractable text" + (f" ({notes}{more})" if notes else "")
