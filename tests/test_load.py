"""Tests for ingest.load: encodings, binary/empty detection, HTML and PDF text, discovery."""

from __future__ import annotations

import codecs
import hashlib
import io
import random
from pathlib import Path

import pytest
from pypdf import PdfWriter

from ingest.load import (
    Skipped,
    SourceText,
    discover,
    fallback_title,
    html_title,
    load_file,
)

ZH = "新辅助化疗可以缩小肿瘤，为手术创造条件。\n化疗结束后三到四周再评估手术。\n"
EN = "Neoadjuvant chemotherapy shrinks the tumour before surgery.\nSecond line.\n"
UNDECODABLE = "cannot decode as UTF-8/UTF-16/GB18030"


def _load(tmp_path: Path, name: str, data: bytes) -> SourceText | Skipped:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return load_file(path, tmp_path)


def _text(result: SourceText | Skipped) -> SourceText:
    assert isinstance(result, SourceText), result
    return result


def _skip_reason(result: SourceText | Skipped) -> str:
    assert isinstance(result, Skipped), result
    return result.reason


def _pdf(*pages: str) -> bytes:
    """A minimal valid PDF, one Helvetica text line per page ("" makes a page with no text)."""
    font = 3 + 2 * len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode()]
    for i, line in enumerate(pages):
        stream = f"BT /F1 12 Tf 72 720 Td ({line}) Tj ET".encode() if line else b""
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents "
                       f"{4 + 2 * i} 0 R /Resources << /Font << /F1 {font} 0 R >> >> >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def test_plain_utf8(tmp_path: Path) -> None:
    data = (EN + ZH).encode("utf-8")
    doc = _text(_load(tmp_path, "doc.txt", data))
    assert (doc.text, doc.encoding, doc.kind) == (EN + ZH, "utf-8", "txt")
    assert doc.source == "doc.txt" and doc.path == tmp_path / "doc.txt"
    assert doc.sha256 == hashlib.sha256(data).hexdigest()


def test_utf8_bom_is_stripped(tmp_path: Path) -> None:
    doc = _text(_load(tmp_path, "bom.md", codecs.BOM_UTF8 + ZH.encode("utf-8")))
    assert (doc.text, doc.encoding, doc.kind) == (ZH, "utf-8-sig", "md")


@pytest.mark.parametrize("bom, codec", [(codecs.BOM_UTF16_LE, "utf-16-le"),
                                        (codecs.BOM_UTF16_BE, "utf-16-be")])
def test_utf16_with_bom(tmp_path: Path, bom: bytes, codec: str) -> None:
    doc = _text(_load(tmp_path, "u16.txt", bom + (EN + ZH).encode(codec)))
    assert (doc.text, doc.encoding) == (EN + ZH, "utf-16")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_bomless_utf16_detected_from_nul_pattern(tmp_path: Path, codec: str) -> None:
    doc = _text(_load(tmp_path, "u16.txt", (EN * 3 + ZH).encode(codec)))
    assert (doc.text, doc.encoding) == (EN * 3 + ZH, codec)


def test_gbk_chinese(tmp_path: Path) -> None:
    doc = _text(_load(tmp_path, "legacy.txt", ZH.encode("gbk")))
    assert (doc.text, doc.encoding) == (ZH, "gb18030")


def test_gb18030_beyond_gbk(tmp_path: Path) -> None:
    text = "“𠮷”字不在 GBK 里。" + ZH  # U+20BB7 needs a four-byte GB18030 sequence
    with pytest.raises(UnicodeEncodeError):
        text.encode("gbk")
    doc = _text(_load(tmp_path, "gb.txt", text.encode("gb18030")))
    assert (doc.text, doc.encoding) == (text, "gb18030")


def test_random_binary_with_nuls_is_skipped(tmp_path: Path) -> None:
    data = random.Random(7).randbytes(4096) + b"\x00\x00"
    assert _skip_reason(_load(tmp_path, "blob.txt", data)).startswith("binary file")


def test_png_is_skipped(tmp_path: Path) -> None:
    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06"
           b"\x00\x00\x00\x1f\xf3\xffa" + random.Random(3).randbytes(256))
    assert _skip_reason(_load(tmp_path, "image.txt", png)) == "binary file (NUL bytes)"


def test_control_characters_without_nul_are_binary(tmp_path: Path) -> None:
    reason = _skip_reason(_load(tmp_path, "ctl.txt", bytes(range(1, 32)) * 20))
    assert reason == "binary file (control characters)"


@pytest.mark.parametrize("data", [b"", b"  \r\n\t\n   ", codecs.BOM_UTF16_LE + " \n ".encode(
    "utf-16-le"), codecs.BOM_UTF8 + b"\n\n"])
def test_empty_and_whitespace_only(tmp_path: Path, data: bytes) -> None:
    assert _skip_reason(_load(tmp_path, "empty.txt", data)) == "empty file"


@pytest.mark.parametrize("data", [
    b"caf\xe9 cr\xe8me br\xfbl\xe9e\n",  # Latin-1 that GB18030 rejects outright
    b"r\xe9sum\xe9s and na\xefve text\n",  # Latin-1 that GB18030 "decodes" into rare ideographs
    b"ok \x80\x80\x80 then \xff\n",
])
def test_undecodable(tmp_path: Path, data: bytes) -> None:
    assert _skip_reason(_load(tmp_path, "latin1.txt", data)) == UNDECODABLE


def test_newlines_normalised_and_offsets_refer_to_result(tmp_path: Path) -> None:
    doc = _text(_load(tmp_path, "crlf.txt", b"line one\r\nline two\rline three\r\n"))
    assert doc.text == "line one\nline two\nline three\n"
    assert doc.text.index("line two") == 9


def test_unstorable_characters_replaced(tmp_path: Path) -> None:
    lone_surrogate = b"\x00\xd8"  # U+D800 in UTF-16-LE with nothing after it
    data = (codecs.BOM_UTF16_LE + "ok ".encode("utf-16-le") + lone_surrogate
            + " fine\x0cnext".encode("utf-16-le"))
    doc = _text(_load(tmp_path, "sur.txt", data))
    assert doc.text == "ok \ufffd fine next"
    doc.text.encode("utf-8")  # would raise on a surrogate


def test_html_entities_cannot_smuggle_unstorable_characters(tmp_path: Path) -> None:
    doc = _text(_load(tmp_path, "ent.html", b"<p>a&#xD800;b&#0;c\x0bd</p>"))
    assert doc.text == "a\ufffdb\ufffdc d"
    doc.text.encode("utf-8")


HTML = """<!DOCTYPE html><html><head><title>Chemo  basics</title>
<style>p { color: red }</style><script>var tracking = "SECRET_JS";</script></head>
<body><nav><a href="/">Home</a> | <a href="/c">Contact Us</a></nav>
<header>Site banner</header>
<article><header><h1>What chemo does</h1></header>
<p>Chemotherapy kills
   fast-dividing cells &amp; <b>shrinks</b> tumours.</p><!-- hidden comment -->
<ul><li>Nausea</li><li>Fatigue</li></ul><p>Line one<br>Line two</p></article>
<aside>Related: ads</aside><form>Search box</form><noscript>Enable JS</noscript>
<footer>Copyright footer</footer></body></html>"""


def test_html_visible_text(tmp_path: Path) -> None:
    doc = _text(_load(tmp_path, "page.html", HTML.encode("utf-8")))
    assert (doc.kind, doc.encoding) == ("html", "html")
    assert doc.text.split("\n")[0] == "Chemo basics"  # the <title> is the first line
    assert "What chemo does" in doc.text
    assert "Chemotherapy kills fast-dividing cells & shrinks tumours." in doc.text
    assert "Nausea\n\nFatigue" in doc.text and "Line one\nLine two" in doc.text
    for gone in ("SECRET_JS", "color: red", "Contact Us", "Site banner", "Related: ads",
                 "Search box", "Enable JS", "Copyright footer", "hidden comment"):
        assert gone not in doc.text
    assert "\n\n\n" not in doc.text
    assert html_title(HTML) == "Chemo basics" and html_title("<p>x</p>") is None


def test_gbk_html_and_html_without_text(tmp_path: Path) -> None:
    page = "<html><body><p>化疗期间要注意营养。</p></body></html>"
    assert _text(_load(tmp_path, "zh.htm", page.encode("gbk"))).text == "化疗期间要注意营养。"
    empty = b"<html><body><script>x()</script></body></html>"
    assert _skip_reason(_load(tmp_path, "e.html", empty)) == "HTML has no visible text"


def test_pdf_text_pages_joined(tmp_path: Path) -> None:
    doc = _text(_load(tmp_path, "paper.pdf", _pdf("Hello PDF world", "Second page here")))
    assert (doc.kind, doc.encoding) == ("pdf", "pdf")
    assert doc.text == "Hello PDF world\n\nSecond page here"


def test_pdf_without_text_encrypted_or_broken(tmp_path: Path) -> None:
    assert _skip_reason(_load(tmp_path, "blank.pdf", _pdf(""))) == "PDF has no extractable text"
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    assert "encrypted" in _skip_reason(_load(tmp_path, "locked.pdf", buffer.getvalue()))
    assert _skip_reason(_load(tmp_path, "junk.pdf", b"not a pdf at all")).startswith(
        "unreadable PDF")


def test_unsupported_extension(tmp_path: Path) -> None:
    assert _skip_reason(_load(tmp_path, "a.docx", b"PK\x03\x04")) == "unsupported extension .docx"


def test_discover_recurses_sorted_and_skips_hidden_manifest_and_others(tmp_path: Path) -> None:
    for name in ("b.txt", "a.md", "sub/c.html", "sub/deep/d.PDF", "sub/e.markdown", "f.htm",
                 ".hidden.txt", ".git/x.txt", "sub/.cache/y.md", "manifest.json", "notes.docx",
                 "sub/readme"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("text", encoding="utf-8")
    (tmp_path / "dir.txt").mkdir()
    found = [p.relative_to(tmp_path).as_posix() for p in discover(tmp_path)]
    assert found == ["a.md", "b.txt", "f.htm", "sub/c.html", "sub/deep/d.PDF", "sub/e.markdown"]
    assert _text(load_file(tmp_path / "sub/c.html", tmp_path)).source == "sub/c.html"


def test_fallback_title() -> None:
    assert fallback_title("intro line\n# Real Title #\ntext") == "Real Title"
    assert fallback_title("\n\n   First   line  \nsecond") == "First line"
    assert fallback_title("---\n## Sub heading\nbody") == "Sub heading"
    assert fallback_title("x" * 300) == "x" * 120
    assert fallback_title("  \n") == ""


def test_seed_corpus_loads() -> None:
    corpus = Path(__file__).parents[1] / "corpus"
    docs = [load_file(path, corpus) for path in discover(corpus)]
    assert len(docs) == 5 and all(isinstance(d, SourceText) for d in docs)
    assert all(d.encoding == "utf-8" and d.kind == "txt" for d in docs if isinstance(d, SourceText))
