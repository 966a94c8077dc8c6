"""Sentence splitting and chunking: boundaries in both languages, offsets, sizes, en/zh split."""

from __future__ import annotations

from core.text import count_tokens, script_of, split_sentences
from ingest.chunk import chunk_text
from tests.conftest import CORPUS


def texts(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)]


def test_english_sentence_boundaries() -> None:
    text = "Chemo shrinks the tumor. Is surgery next? Yes! Dr. Li said e.g. 3.5 cm is fine."
    assert texts(text) == [
        "Chemo shrinks the tumor.",
        "Is surgery next?",
        "Yes!",
        "Dr. Li said e.g. 3.5 cm is fine.",
    ]


def test_chinese_sentence_boundaries() -> None:
    text = "化疗结束后多久手术？通常3到4周。如果用了贝伐珠单抗，至少6周；索拉非尼则1到2周！"
    assert texts(text) == [
        "化疗结束后多久手术？",
        "通常3到4周。",
        "如果用了贝伐珠单抗，至少6周；",
        "索拉非尼则1到2周！",
    ]


def test_a_reference_marker_after_the_full_stop_ends_the_sentence_it_cites() -> None:
    text = "Progression is a 20% increase.[1-2] Then the regimen changes.[3, 4] Next one."
    assert texts(text) == ["Progression is a 20% increase.[1-2]",
                           "Then the regimen changes.[3, 4]", "Next one."]
    assert texts("化疗结束后进行手术。[2]术后复查。") == ["化疗结束后进行手术。[2]", "术后复查。"]
    # a bracket inside a sentence is not an end
    assert texts("Stage [2] disease is treated first. Done.") == [
        "Stage [2] disease is treated first.", "Done."]


def test_line_breaks_end_sentences_and_offsets_point_into_the_text() -> None:
    text = "Heading without period\n  Body sentence one. Body two.\n"
    sentences = list(split_sentences(text))
    assert [s.text for s in sentences] == [
        "Heading without period", "Body sentence one.", "Body two."
    ]
    for s in sentences:
        assert text[s.start : s.end] == s.text


def test_script_detection() -> None:
    assert script_of("结直肠癌肝转移(CRLM)是临床面临的挑战") == "zh"
    assert script_of("The role of RAS/BRAF testing") == "en"
    assert script_of("3.5 + 4") is None


def test_chunks_never_mix_languages_and_link_translations() -> None:
    text = (CORPUS / "001_a72f36e8a6caebd0.txt").read_text(encoding="utf-8")
    chunks = chunk_text(text, [(0, len(text))], max_tokens=220, overlap_tokens=40)
    languages = [c.language for c in chunks]
    assert "en" in languages and "zh" in languages
    # one English run, then one Chinese run: the halves are separate chunks
    assert languages == sorted(languages)
    for chunk in chunks:
        assert script_of(chunk.text) == chunk.language
    en = {c.section for c in chunks if c.language == "en"}
    zh = {c.section for c in chunks if c.language == "zh"}
    assert len(en) == 1 and len(zh) == 1
    (en_section,), (zh_section,) = en, zh
    assert all(c.translation_section == zh_section for c in chunks if c.language == "en")
    assert all(c.translation_section == en_section for c in chunks if c.language == "zh")


def test_chunk_sizes_offsets_and_overlap() -> None:
    text = (CORPUS / "004_121bb378a756a13c.txt").read_text(encoding="utf-8")
    chunks = chunk_text(text, [(0, len(text))], max_tokens=120, overlap_tokens=30)
    assert len(chunks) > 3
    for chunk in chunks:
        assert count_tokens(chunk.text) <= 120 + 10  # joins add at most a few separators
        # the first and last sentence of the chunk sit at its offsets in the original text
        assert text[chunk.start : chunk.end].startswith(chunk.text[:20])
        assert text[chunk.start : chunk.end].endswith(chunk.text[-20:])
    overlapping = sum(1 for a, b in zip(chunks, chunks[1:], strict=False) if b.start < a.end)
    assert overlapping >= 1


def test_kept_spans_limit_what_is_chunked() -> None:
    text = "Keep this sentence. DROP THIS PART. Keep that one too."
    chunks = chunk_text(text, [(0, 19), (36, len(text))], max_tokens=100, overlap_tokens=0)
    assert len(chunks) == 1
    assert "DROP" not in chunks[0].text
    assert chunks[0].text == "Keep this sentence. Keep that one too."


def test_an_overlong_sentence_is_split_within_the_budget() -> None:
    text = "word " * 400 + "end."
    chunks = chunk_text(text, [(0, len(text))], max_tokens=64, overlap_tokens=0)
    assert len(chunks) >= 6
    assert all(count_tokens(c.text) <= 64 for c in chunks)
    assert chunks[0].start == 0 and chunks[-1].end == len(text)
