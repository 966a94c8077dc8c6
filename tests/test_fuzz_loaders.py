"""Fuzzing the loaders: random bytes, truncated PDFs and mixed encodings never raise, every
skip has one of the known reasons, and what is loaded can be stored, then ingested twice."""

from __future__ import annotations

import random
import re
from pathlib import Path

from core.settings import Settings
from ingest.embeddings import HashEmbeddings
from ingest.load import SUPPORTED, Skipped, SourceText, load_file
from ingest.pipeline import ingest
from tests.test_load import _pdf

KNOWN_REASONS = re.compile(
    r"empty file|binary file \((control characters|NUL bytes)\)|"
    r"cannot decode as UTF-8/UTF-16/GB18030|HTML has no visible text|"
    r"encrypted PDF \(password required\)|unreadable PDF \(\w+\)|PDF has no extractable text")
UNSTORABLE = re.compile("[\x00\ud800-\udfff\ufffe\uffff]")
SEGMENTS = ("Chemotherapy before surgery shrinks the tumour. ", "化疗结束后三到四周再评估手术。",
            "Nausea is common; call if you cannot drink. ", "鼻咽癌放疗通常采用调强放疗技术。")


def _check(result: SourceText | Skipped) -> None:
    if isinstance(result, Skipped):
        assert KNOWN_REASONS.fullmatch(result.reason), result.reason
    else:
        assert result.text.strip() and not UNSTORABLE.search(result.text)
        assert result.text.encode("utf-8")


def _random_bytes(rng: random.Random) -> bytes:
    size = rng.choice([1, 7, 64, 500, 4000])
    style = rng.choice(["any", "ascii", "high"])
    if style == "ascii":
        return bytes(rng.randrange(9, 127) for _ in range(size))
    if style == "high":
        return bytes(rng.randrange(128, 256) for _ in range(size))
    return rng.randbytes(size)


def test_random_bytes_under_every_extension(tmp_path: Path) -> None:
    rng = random.Random(7)
    for i in range(240):
        path = tmp_path / f"f{i}{rng.choice(SUPPORTED)}"
        path.write_bytes(_random_bytes(rng))
        _check(load_file(path, tmp_path))


def test_truncated_and_corrupted_pdfs(tmp_path: Path) -> None:
    rng = random.Random(11)
    whole = _pdf("Chemotherapy before surgery", "Radiotherapy after")
    for i in range(80):
        cut = bytearray(whole[: rng.randrange(1, len(whole))])
        for _ in range(rng.choice([0, 0, 3])):  # a few flipped bytes too
            if cut:
                cut[rng.randrange(len(cut))] = rng.randrange(256)
        path = tmp_path / f"p{i}.pdf"
        path.write_bytes(bytes(cut))
        _check(load_file(path, tmp_path))


def _mixed(rng: random.Random) -> tuple[bytes, int]:
    """Segments in several encodings; and how many bytes UTF-8 would replace, when the result
    is UTF-8 with a few stray bytes (else -1)."""
    codecs = rng.sample(["utf-8", "gbk", "utf-16-le", "latin-1", "utf-8"], rng.choice([1, 2, 3]))
    parts = []
    for codec in codecs:
        text = "".join(rng.choice(SEGMENTS) for _ in range(rng.randrange(1, 30)))
        parts.append(text.encode(codec, errors="replace"))
    if rng.random() < 0.4:  # UTF-8 with one or two damaged bytes
        strays = rng.choice([b"\xff", b"\xfe\xff"])
        body = "".join(rng.choice(SEGMENTS) for _ in range(200))
        return body[:60].encode() + strays + body[60:].encode(), len(strays)
    return b"".join(parts), -1


def test_mixed_encodings(tmp_path: Path) -> None:
    rng = random.Random(13)
    for i in range(120):
        raw, bad = _mixed(rng)
        path = tmp_path / f"m{i}{rng.choice(['.txt', '.md', '.html'])}"
        path.write_bytes(raw)
        result = load_file(path, tmp_path)
        _check(result)
        if bad > 0:
            assert isinstance(result, SourceText) and result.replaced == bad, result


def test_a_fuzzed_corpus_ingests_and_reingests_without_change(settings: Settings) -> None:
    rng = random.Random(17)
    for i in range(30):
        raw, _ = _mixed(rng) if i % 2 else (_random_bytes(rng), -1)
        (settings.corpus_dir / f"z{i:02d}{rng.choice(SUPPORTED)}").write_bytes(raw)
    first = ingest(settings, HashEmbeddings())
    assert len(first.documents) + len(first.skipped) == 35  # 5 seed documents
    assert all(KNOWN_REASONS.fullmatch(s.reason) for s in first.skipped)
    again = ingest(settings, HashEmbeddings())
    assert again.embedded == 0 and again.chunks_removed == 0
