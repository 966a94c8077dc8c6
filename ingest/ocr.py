"""OCR of PDF pages that have no text layer: render with PDFium, recognise with Tesseract 5."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.settings import OcrSettings
from core.text import CJK_CHAR, CJK_RANGES, is_traditional, to_simplified
from ingest.ocr_cache import PageCache

# A page rendered larger than this (a poster at 300 dpi) is rendered at a lower resolution.
_MAX_PIXELS = 40_000_000
# Tesseract separates every recognised CJK "word" by a space; between two CJK characters or
# full-width punctuation marks that space is an artefact, not text.
_CJK_WIDE = f"{CJK_RANGES}\u3000-\u303f\uff00-\uffef"
_CJK_GAP = re.compile(f"(?<=[{_CJK_WIDE}]) +(?=[{_CJK_WIDE}])")
_TSV_COLUMNS = 12


@dataclass(frozen=True)
class PageOcr:
    """One page without a text layer and what OCR made of it."""

    page: int  # 1-based, as a reader counts
    confidence: float | None  # mean word confidence 0-100, by characters; None if not read
    indexed: bool
    reason: str = ""  # why the page was left out, as the report says it

    def note(self) -> str:
        if self.indexed:
            return f"page {self.page} OCR confidence {self.confidence:.0f}"
        return f"page {self.page} {self.reason}"


@dataclass(frozen=True)
class Recognised:
    """Tesseract's reading of one image."""

    text: str
    confidence: float | None  # None when no word was found


def debian_package(language: str) -> str:
    """The Debian package that ships a Tesseract language model (chi_sim -> ...-chi-sim)."""
    return "tesseract-ocr-" + language.replace("_", "-")


def missing_engine(languages: str) -> str | None:
    """Why OCR cannot run on this machine, naming what to install; None when it can."""
    binary = shutil.which("tesseract")
    if binary is None:
        return "tesseract is not installed (Debian package tesseract-ocr; run `make ocr-deps`)"
    installed = _installed_languages(binary)
    missing = [lang for lang in languages.split("+") if lang not in installed]
    if missing:
        packages = ", ".join(debian_package(lang) for lang in missing)
        return (f"Tesseract has no language data for {'+'.join(missing)} (Debian package "
                f"{packages}; run `make ocr-deps`)")
    return None


@lru_cache(maxsize=4)
def _installed_languages(binary: str) -> frozenset[str]:
    try:
        listed = subprocess.run([binary, "--list-langs"], capture_output=True, text=True,
                                timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    # The first line is a header ("List of available languages in ...").
    return frozenset(line.strip() for line in listed.stdout.splitlines()[1:] if line.strip())


def read_pages(raw: bytes, pages: list[int], settings: OcrSettings,
               cache_dir: Path | None = None,
               need_image: frozenset[int] = frozenset()) -> list[tuple[str, PageOcr | None]]:
    """OCR the given pages (0-based) of a PDF: for each, the text to index ("" when the page is
    left out) and what happened to it. Blank pages (nothing drawn), and pages in need_image
    that draw no image (a short text page), are not OCR'd and get None.
    With a cache_dir, readings are remembered there (ingest.ocr_cache) and reused.
    Never raises on a bad page: the page is left out and its report says why."""
    import pypdfium2 as pdfium  # only documents with scanned pages pay for PDFium

    try:
        document = pdfium.PdfDocument(raw)
    except pdfium.PdfiumError:
        return [("", PageOcr(i + 1, None, False, "could not be rendered, not indexed"))
                for i in pages]
    try:
        results: list[tuple[str, PageOcr | None]] = []
        engine_problem: str | None = None
        engine_checked = False
        done = 0
        cache = PageCache(cache_dir, raw, settings) if cache_dir is not None else None
        for index in pages:
            number = index + 1
            try:
                page = document[index]
            except (pdfium.PdfiumError, IndexError):
                results.append(("", PageOcr(number, None, False,
                                            "could not be rendered, not indexed")))
                continue
            if _is_blank(page) or (index in need_image and not _has_image(page)):
                results.append(("", None))
                continue
            known = cache.get(index) if cache is not None else None
            if known is not None:
                results.append(_judge(number, Recognised(*known), settings))
                continue
            if not engine_checked:
                engine_problem, engine_checked = missing_engine(settings.languages), True
            if engine_problem:
                results.append(("", PageOcr(number, None, False, f"not OCR'd: {engine_problem}")))
                continue
            if done >= settings.max_pages:
                results.append(("", PageOcr(number, None, False, "not OCR'd: over the page cap "
                                            f"(ONCOQA_INGEST__OCR__MAX_PAGES={settings.max_pages})")))
                continue
            done += 1
            reading = _read_page(page, number, settings)
            if isinstance(reading, Recognised):
                if cache is not None:
                    cache.put(index, reading.text, reading.confidence)
                reading = _judge(number, reading, settings)
            results.append(reading)
        return results
    finally:
        document.close()


def _is_blank(page: Any) -> bool:
    return next(iter(page.get_objects(max_depth=2)), None) is None


def _has_image(page: Any) -> bool:
    import pypdfium2.raw as pdfium_c

    images = page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2)
    return next(iter(images), None) is not None


def _read_page(page: Any, number: int,
               settings: OcrSettings) -> Recognised | tuple[str, PageOcr]:
    """The best reading of a page, or ("", why it could not be read)."""
    import pypdfium2 as pdfium

    try:
        found = _recognise_page(page, settings, settings.dpi)
        if found.confidence is not None and found.confidence < settings.retry_below:
            # Large print in a low-resolution scan is read better smaller: try 2/3 the dpi.
            second = _recognise_page(page, settings, max(72, settings.dpi * 2 // 3))
            if second.confidence is not None and second.confidence > found.confidence:
                found = second
    except pdfium.PdfiumError:
        return "", PageOcr(number, None, False, "could not be rendered, not indexed")
    except subprocess.TimeoutExpired:
        return "", PageOcr(number, None, False,
                           f"OCR gave up after {settings.page_timeout:g} s, not indexed")
    except OcrFailed as exc:
        return "", PageOcr(number, None, False, f"OCR failed ({exc}), not indexed")
    return found


def _judge(number: int, found: Recognised, settings: OcrSettings) -> tuple[str, PageOcr]:
    """The text to index and the page's report: a reading below the floor is left out."""
    if found.confidence is None:
        return "", PageOcr(number, None, False, "OCR found no text")
    if found.confidence < settings.min_confidence:
        return "", PageOcr(number, found.confidence, False,
                           f"OCR confidence {found.confidence:.0f} < "
                           f"{settings.min_confidence:g}, not indexed")
    return found.text, PageOcr(number, found.confidence, True)


def _recognise_page(page: Any, settings: OcrSettings, dpi: int) -> Recognised:
    return recognise(render(page, dpi), settings.languages, timeout=settings.page_timeout,
                     dpi=dpi)


def render(page: Any, dpi: int) -> Any:
    """A PDF page (pypdfium2 PdfPage) as a greyscale PIL image at dpi, capped in pixels."""
    width, height = page.get_size()  # in points, 72 to the inch
    scale = dpi / 72
    pixels = width * height * scale * scale
    if pixels > _MAX_PIXELS:
        scale *= (_MAX_PIXELS / pixels) ** 0.5
    return page.render(scale=scale, grayscale=True).to_pil()


class OcrFailed(Exception):
    """Tesseract exited with an error (its last message is the exception's text)."""


def recognise(image: Any, languages: str, *, timeout: float, dpi: int = 300) -> Recognised:
    """Tesseract's text of a PIL image: one line per recognised line, a blank line between
    paragraphs, no spaces between CJK characters, a mostly Simplified page all Simplified.
    Raises subprocess.TimeoutExpired or OcrFailed."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    binary = shutil.which("tesseract") or "tesseract"
    done = subprocess.run(
        [binary, "stdin", "stdout", "-l", languages, "--dpi", str(dpi), "--psm", "3", "tsv"],
        input=buffer.getvalue(), capture_output=True, timeout=timeout, check=False,
    )
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OcrFailed(f"exit {done.returncode}: {lines[-1] if lines else 'no message'}")
    return parse_tsv(done.stdout.decode("utf-8", "replace"))


def parse_tsv(tsv: str) -> Recognised:
    """Text and character-weighted mean confidence from Tesseract's TSV output."""
    paragraphs: dict[tuple[str, str], dict[str, list[str]]] = {}
    weighted = characters = 0.0
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t", _TSV_COLUMNS - 1)
        if len(cells) != _TSV_COLUMNS or cells[0] != "5":  # level 5: a word
            continue
        word, confidence = cells[11].strip(), float(cells[10])
        if not word or confidence < 0:
            continue
        paragraph = paragraphs.setdefault((cells[2], cells[3]), {})
        paragraph.setdefault(cells[4], []).append(word)
        weighted += confidence * len(word)
        characters += len(word)
    if not characters:
        return Recognised("", None)
    text = "\n\n".join("\n".join(" ".join(words) for words in lines.values())
                       for lines in paragraphs.values())
    return Recognised(_tidy(text), weighted / characters)


def _tidy(text: str) -> str:
    text = _CJK_GAP.sub("", text)
    # With both Chinese models loaded Tesseract may read a Simplified heading as Traditional;
    # a page that is mostly Simplified is made all Simplified (Traditional pages stay as read).
    if CJK_CHAR.search(text) and not is_traditional(text):
        text = to_simplified(text)
    return text
