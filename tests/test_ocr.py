"""Scanned PDFs: pages rendered from text to images (no text layer) are read by Tesseract at
ingest, weak pages are left out and named, and an invented fact on a scan is found by a question."""

from __future__ import annotations

import io
import subprocess
import time
from functools import cache
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from pypdf import PdfReader, PdfWriter

from core.settings import OcrSettings, Settings
from core.text import CJK_CHAR
from ingest import ocr
from ingest.decode import Unreadable
from ingest.embeddings import HashEmbeddings
from ingest.extract import pdf_text
from ingest.load import Skipped, SourceText, load_file
from ingest.ocr import PageOcr, parse_tsv
from ingest.ocr_cache import PageCache
from ingest.pipeline import DocReport, ingest
from oncoqa.wiring import build_retriever, keyword_builder
from tests.test_load import _pdf

DPI = 300
# One invented fact per language: nothing but the scan can tell the retriever where it is.
EN_LINES = ("The Zorvex clinic runs chemotherapy infusions on Tuesdays.",
            "Patients should arrive thirty minutes early and bring",
            "their medication list. Parking is free in the east garage.")
ZH_LINES = ("佐维克斯诊所每周二进行化疗输液。",
            "患者应提前三十分钟到达，并携带用药清单。",
            "东侧停车场可免费停车。")
EN_FACT = "The Zorvex clinic runs chemotherapy infusions on Tuesdays."
ZH_FACT = "佐维克斯诊所每周二进行化疗输液。"
TEXT_PAGE = "Quillmar leaflets are printed on green paper"


@cache
def _cjk_font() -> tuple[str, int]:
    """The Noto Sans CJK SC face (fonts-noto-cjk, installed by `make browser-deps`)."""
    found = subprocess.run(["fc-match", "-f", "%{file}:%{index}", "Noto Sans CJK SC"],
                           capture_output=True, text=True, check=False).stdout
    path, _, index = found.rpartition(":")
    if "NotoSansCJK" not in path:
        pytest.fail(f"Noto Sans CJK missing (fc-match gave {found!r}): run `make browser-deps`")
    return path, int(index or 0)


def _font(lang: str, pixels: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if lang == "zh":
        path, index = _cjk_font()
        return ImageFont.truetype(path, pixels, index=index)
    return ImageFont.load_default(size=pixels)  # Pillow's bundled Latin TrueType face


def _scan(lines: tuple[str, ...], lang: str, *, points: float = 12, blur: float = 0) -> Image.Image:
    """A page of text as a scanner would give it: a greyscale image at 300 dpi."""
    pixels = round(points * DPI / 72)
    width, height = round(8.27 * DPI), round(4 * DPI)  # half a page: OCR time grows with area
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    font = _font(lang, pixels)
    for row, line in enumerate(lines):
        draw.text((DPI // 2, DPI // 2 + row * round(pixels * 1.7)), line, font=font, fill=0)
    return image.filter(ImageFilter.GaussianBlur(blur)) if blur else image


def _pdf_of(*images: Image.Image) -> bytes:
    """Images as PDF pages with no text layer (what a scanner writes)."""
    out = io.BytesIO()
    images[0].save(out, format="PDF", resolution=DPI, save_all=True,
                   append_images=list(images[1:]))
    return out.getvalue()


@cache
def scanned(kind: str) -> bytes:
    if kind == "en":
        return _pdf_of(_scan(EN_LINES, "en"))
    if kind == "zh":
        return _pdf_of(_scan(ZH_LINES, "zh"))
    if kind == "unreadable":  # small, blurred print: read partly (confidence measured 45)
        return _pdf_of(_scan(ZH_LINES, "zh", points=8, blur=3.0))
    if kind == "mixed":  # page 1 has a text layer, page 2 is a scan
        writer = PdfWriter()
        for raw in (_pdf(TEXT_PAGE), scanned("en")):
            for page in PdfReader(io.BytesIO(raw)).pages:
                writer.add_page(page)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    raise ValueError(kind)


def _loaded(result: SourceText | Skipped) -> SourceText:
    assert isinstance(result, SourceText), result
    return result


@pytest.mark.parametrize(("kind", "fact"), [("en", EN_FACT), ("zh", ZH_FACT)])
def test_a_scanned_page_is_read_with_its_confidence(kind: str, fact: str) -> None:
    started = time.perf_counter()
    result = pdf_text(scanned(kind))
    seconds = time.perf_counter() - started
    print(f"{kind}: confidence {result.ocr[0].confidence:.1f}, {seconds:.1f} s")
    assert fact in result.text, result.text
    assert [(p.page, p.indexed) for p in result.ocr] == [(1, True)]
    confidence = result.ocr[0].confidence
    assert confidence is not None and confidence >= 80
    assert result.ocr[0].note() == f"page 1 OCR confidence {confidence:.0f}"
    if kind == "zh":  # Tesseract's spaces between CJK characters are gone, punctuation kept
        assert "患者应提前三十分钟到达，并携带用药清单。" in result.text


@pytest.mark.slow  # two to four Tesseract runs: 10-35 s on 2 busy cores
def test_an_unreadable_page_is_flagged_and_not_indexed(tmp_path: Path) -> None:
    raw = scanned("unreadable")
    (tmp_path / "blurred.pdf").write_bytes(raw)
    skipped = load_file(tmp_path / "blurred.pdf", tmp_path)
    assert isinstance(skipped, Skipped), skipped
    assert skipped.reason.startswith("PDF has no extractable text (page 1 OCR confidence ")
    assert skipped.reason.endswith(" < 60, not indexed)")
    # Next to a readable page it is left out of the text and named in the report.
    (tmp_path / "two.pdf").write_bytes(_merge(scanned("en"), raw))
    doc = _loaded(load_file(tmp_path / "two.pdf", tmp_path))
    assert doc.text.strip() == "\n".join(EN_LINES)
    good, bad = doc.ocr
    assert good.indexed and not bad.indexed and bad.confidence is not None
    assert bad.confidence < 60
    report = DocReport("two.pdf", "t", 1, "added", (), ocr=doc.ocr)
    assert report.ocr_pages == (1,) and report.low_confidence_pages == (2,)
    assert f"page 2 OCR confidence {bad.confidence:.0f} < 60, not indexed" in report.notes()


def _merge(*pdfs: bytes) -> bytes:
    writer = PdfWriter()
    for raw in pdfs:
        for page in PdfReader(io.BytesIO(raw)).pages:
            writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_mixed_pdf_keeps_its_text_page_and_its_scanned_page() -> None:
    result = pdf_text(scanned("mixed"))
    text_page, scan_page = result.text.split("\n\n", 1)
    assert text_page == TEXT_PAGE
    assert EN_FACT in scan_page
    assert [(p.page, p.indexed) for p in result.ocr] == [(2, True)]


def test_a_short_text_page_keeps_its_text_layer_and_a_stamped_scan_is_read() -> None:
    short = pdf_text(_pdf("Page 7"))  # a few characters and no image: nothing to OCR
    assert (short.text, short.ocr) == ("Page 7", ())
    writer = PdfWriter(clone_from=io.BytesIO(scanned("en")))
    stamp = PdfReader(io.BytesIO(_pdf("Page 7"))).pages[0]
    writer.pages[0].merge_page(stamp)  # a stamped page number over the scan
    out = io.BytesIO()
    writer.write(out)
    stamped = pdf_text(out.getvalue())
    assert EN_FACT in stamped.text and [p.page for p in stamped.ocr] == [1]


@pytest.mark.slow  # two to four Tesseract runs: 10-35 s on 2 busy cores
def test_scanned_pdfs_are_ingested_and_their_facts_found(
        settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (corpus / "scans").mkdir()
    for kind in ("en", "zh", "mixed"):
        (corpus / "scans" / f"{kind}.pdf").write_bytes(scanned(kind))
    embeddings = HashEmbeddings()
    report = ingest(settings, embeddings, keywords=keyword_builder())
    docs = {doc.source: doc for doc in report.documents}
    assert {"scans/en.pdf", "scans/zh.pdf", "scans/mixed.pdf"} <= set(docs), report.skipped
    assert docs["scans/zh.pdf"].ocr_pages == (1,)
    assert docs["scans/mixed.pdf"].ocr_pages == (2,)
    assert "OCR pages 2 (confidence " in docs["scans/mixed.pdf"].notes()
    # Re-running ingest reads the scans from the OCR cache: Tesseract is not run again.
    monkeypatch.setattr(ocr, "recognise", _no_second_reading)
    again = ingest(settings, embeddings, keywords=keyword_builder())
    assert again.chunks_added == 0 and again.embedded == 0
    assert [d.notes() for d in again.documents] == [d.notes() for d in report.documents]
    monkeypatch.undo()
    retriever = build_retriever(settings, embeddings)
    for question, source, fact in [
        ("Which day does the Zorvex clinic run chemotherapy infusions?", "scans/en.pdf", EN_FACT),
        # (No glossary term in it: the English glossary variant of 化疗 would rank chunks that
        # mention chemotherapy in English above a Chinese-only chunk in this small corpus.)
        ("去佐维克斯诊所输液要提前多久到达？", "scans/zh.pdf", "患者应提前三十分钟到达"),
        ("What colour paper are Quillmar leaflets printed on?", "scans/mixed.pdf", TEXT_PAGE),
    ]:
        passages = retriever.search(question)
        assert passages and passages[0].source == source, [p.source for p in passages]
        assert fact in passages[0].text
        # Offsets point into the extracted text, OCR'd or not (the chunker's convention: the
        # chunk's first and last sentences sit at its ends; blank lines between are collapsed).
        span = _loaded(load_file(corpus / source, corpus)).text[passages[0].start:
                                                                passages[0].end]
        assert fact in span
        assert span.startswith(passages[0].text[:20]) and span.endswith(passages[0].text[-20:])


def _no_second_reading(*args: object, **kwargs: object) -> None:
    raise AssertionError("an unchanged scan was OCR'd again")


def test_the_ocr_cache_is_per_file_and_settings_and_survives_damage(tmp_path: Path) -> None:
    settings = OcrSettings()
    cache = PageCache(tmp_path, b"pdf one", settings)
    cache.put(2, "佐维克斯诊所", 91.5)
    assert PageCache(tmp_path, b"pdf one", settings).get(2) == ("佐维克斯诊所", 91.5)
    assert PageCache(tmp_path, b"pdf one", settings).get(1) is None
    assert PageCache(tmp_path, b"pdf two", settings).get(2) is None
    assert PageCache(tmp_path, b"pdf one", OcrSettings(dpi=200)).get(2) is None
    # The floor is applied after the cache: changing it reuses the readings.
    assert PageCache(tmp_path, b"pdf one", OcrSettings(min_confidence=95)).get(2) is not None
    cache.path.write_text("{not json", encoding="utf-8")
    assert PageCache(tmp_path, b"pdf one", settings).get(2) is None


def test_without_tesseract_a_scan_is_skipped_naming_the_package(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)
    (tmp_path / "scan.pdf").write_bytes(_pdf_of(Image.new("L", (300, 300), 0)))
    skipped = load_file(tmp_path / "scan.pdf", tmp_path)
    assert isinstance(skipped, Skipped), skipped
    assert skipped.reason == ("PDF has no extractable text; its scanned pages were not OCR'd: "
                              "tesseract is not installed (Debian package tesseract-ocr; run "
                              "`make ocr-deps`)")
    # A text page still loads; the scanned page beside it is named, not silently dropped.
    (tmp_path / "mixed.pdf").write_bytes(_merge(_pdf(TEXT_PAGE), _pdf_of(
        Image.new("L", (300, 300), 0))))
    doc = _loaded(load_file(tmp_path / "mixed.pdf", tmp_path))
    assert doc.text.strip() == TEXT_PAGE
    report = DocReport("mixed.pdf", "t", 1, "added", (), ocr=doc.ocr)
    assert report.left_out_pages == (2,) and report.low_confidence_pages == ()
    assert "page 2 not OCR'd: tesseract is not installed" in report.notes()


def test_a_missing_language_model_names_its_debian_package() -> None:
    problem = ocr.missing_engine("eng+chi_sim+xyz_test")
    assert problem is not None and "tesseract-ocr-xyz-test" in problem
    assert "chi" not in problem  # the installed ones are not blamed
    assert ocr.missing_engine("eng+chi_sim+chi_tra") is None  # `make ocr-deps` installed them


def test_ocr_off_or_blank_pages_leave_the_old_reason(tmp_path: Path) -> None:
    with pytest.raises(Unreadable, match="^PDF has no extractable text$"):
        pdf_text(_pdf_of(Image.new("L", (300, 300), 0)), OcrSettings(enabled=False))
    with pytest.raises(Unreadable, match="^PDF has no extractable text$"):
        pdf_text(_pdf(""))  # nothing drawn on the page: not worth an OCR run


def test_page_cap_leaves_later_pages_out() -> None:
    blank = Image.new("L", (300, 300), 255)
    ImageDraw.Draw(blank).rectangle((100, 100, 120, 120), fill=0)  # drawn, so not blank
    result = pdf_text(_merge(scanned("mixed"), _pdf_of(blank)), OcrSettings(max_pages=1))
    assert EN_FACT in result.text
    assert [(p.page, p.indexed) for p in result.ocr] == [(2, True), (3, False)]
    assert result.ocr[1].note() == ("page 3 not OCR'd: over the page cap "
                                    "(ONCOQA_INGEST__OCR__MAX_PAGES=1)")


def test_tsv_parsing_joins_lines_drops_cjk_gaps_and_weights_confidence() -> None:
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth" \
             "\theight\tconf\ttext"

    def word(block: int, line: int, conf: float, text: str) -> str:
        return f"5\t1\t{block}\t1\t{line}\t1\t0\t0\t1\t1\t{conf}\t{text}"

    tsv = "\n".join([header, "4\t1\t1\t1\t1\t0\t0\t0\t1\t1\t-1\t",
                     word(1, 1, 90, "化疗"), word(1, 1, 60, "输"), word(1, 1, 90, "液。"),
                     word(1, 2, 90, "PD-1"), word(1, 2, 90, "抑制剂"),
                     word(2, 1, 30, "Tuesday"), word(2, 1, -1, "")])
    found = parse_tsv(tsv)
    assert found.text == "化疗输液。\nPD-1 抑制剂\n\nTuesday"
    chars = 2 + 1 + 2 + 4 + 3 + 7
    assert found.confidence == pytest.approx((90 * 2 + 60 + 90 * 2 + 90 * 7 + 30 * 7) / chars)
    assert parse_tsv(header).confidence is None
    # A heading Tesseract read in Traditional on a Simplified page comes out Simplified.
    mixed = parse_tsv("\n".join([header, word(1, 1, 90, "診所輸液"),
                                 word(2, 1, 90, "患者应提前到达")]))
    assert mixed.text == "诊所输液\n\n患者应提前到达"
    assert CJK_CHAR.search(found.text)


def test_report_notes_name_ocr_pages_and_what_was_left_out() -> None:
    pages = (PageOcr(1, 93.4, True), PageOcr(2, 88.0, True),
             PageOcr(3, 41.2, False, "OCR confidence 41 < 60, not indexed"))
    report = DocReport("scan.pdf", "Scan", 2, "added", (("nav", 1),), ocr=pages)
    assert report.notes() == ("nav x1; OCR pages 1, 2 (confidence 93, 88); "
                              "page 3 OCR confidence 41 < 60, not indexed")
    assert report.ocr_confidence == pytest.approx((93.4 + 88.0) / 2)
    many = DocReport("big.pdf", "Big", 9, "added", (),
                     ocr=tuple(PageOcr(i, 90.0, True) for i in range(1, 9)))
    assert many.notes() == "-; OCR 8 pages (mean confidence 90)"
    assert DocReport("a.txt", "A", 1, "added", ()).notes() == "-"
