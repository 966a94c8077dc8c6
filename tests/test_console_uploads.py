"""Uploads to the console: the kind read from the bytes, safe names, no overwrite surprises."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from oncoqa import uploads
from oncoqa.uploads import Rejected

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
ZIP = b"PK\x03\x04" + b"\x00" * 40
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><head><title>T</title></head><body><p>Hi</p></body></html>"


def test_kinds_are_read_from_the_bytes() -> None:
    assert uploads.sniff(PDF) == "pdf"
    assert uploads.sniff(HTML) == "html"
    assert uploads.sniff("# 标题\n\n一些中文内容。".encode()) == "text"
    assert uploads.sniff("plain text\n".encode("gb18030")) == "text"


@pytest.mark.parametrize(("data", "what"), [(PNG, "PNG"), (ZIP, "ZIP"),
                                            (b"\x7fELF" + b"\x01" * 30, "program"),
                                            (zlib.compress(b"x" * 999) * 3, "binary")])
def test_binaries_are_rejected(data: bytes, what: str) -> None:
    with pytest.raises(Rejected) as caught:
        uploads.sniff(data)
    assert caught.value.key == "upload_binary" and what in caught.value.values["what"]


def test_extension_must_agree_with_the_content() -> None:
    assert uploads.check("leaflet.pdf", PDF).kind == "pdf"
    assert uploads.check("page.html", b"<p>a fragment</p>").kind == "html"
    assert uploads.check("notes.md", b"# Notes\n\nSome <b>bold</b> text.").kind == "text"
    for name, data in (("leaflet.txt", PDF), ("image.md", PNG), ("page.md", HTML),
                       ("fake.pdf", b"just text"), ("page.html", b"no tags at all")):
        with pytest.raises(Rejected) as caught:
            uploads.check(name, data)
        assert caught.value.key in {"upload_mismatch", "upload_binary"}, name
    with pytest.raises(Rejected) as caught:
        uploads.check("report.docx", b"text")
    assert caught.value.key == "upload_extension"
    with pytest.raises(Rejected) as caught:
        uploads.check("empty.txt", b"  \n ")
    assert caught.value.key == "upload_empty"


@pytest.mark.parametrize(("raw", "safe"), [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("C:\\Users\\x\\leaflet.PDF", "leaflet.pdf"),
    (".hidden.md", "hidden.md"),
    ("...md.md", "md.md"),
    ("a\x00b\nc.txt", "abc.txt"),
    ("化疗 须知（第二版）.md", "化疗 须知（第二版）.md"),
    ("Cafe\u0301 notes.md", "Caf\u00e9 notes.md"),  # NFC
    ("rm -rf $HOME;`x`.md", "rm -rf _HOME__x.md"),
    ("x" * 300 + ".md", "x" * 100 + ".md"),
])
def test_safe_names(raw: str, safe: str) -> None:
    assert uploads.safe_name(raw) == safe


@pytest.mark.parametrize("raw", [".md", "../.md", "///", "$$$.md"])
def test_names_with_nothing_usable_are_rejected(raw: str) -> None:
    with pytest.raises(Rejected):
        uploads.safe_name(raw)


def test_free_name_adds_a_number_instead_of_overwriting(tmp_path: Path) -> None:
    assert uploads.free_name(tmp_path, "a.md") == "a.md"
    (tmp_path / "a.md").write_text("one")
    (tmp_path / "A (2).md").write_text("two")
    assert uploads.free_name(tmp_path, "a.md") == "a (3).md"
