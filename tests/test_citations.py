"""qa.citations: context numbering, marker parsing, cleaning, sentence attribution, renumbering."""

from __future__ import annotations

import pytest

from qa.citations import (
    cited_sentences,
    format_context,
    parse_citations,
    renumber,
    strip_invalid,
    strip_markers,
)
from qa.types import Passage


def _passage(title: str, source: str, text: str) -> Passage:
    return Passage(id=source, source=source, title=title, text=text, start=0, end=len(text),
                   language="en", score=1.0)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Surgery follows in 3 to 4 weeks [1].", [1]),
        ("Both apply [2, 1].", [2, 1]),
        ("Both apply [1][3].", [1, 3]),
        ("See [1-3].", [1, 2, 3]),
        ("See [2–4].", [2, 3, 4]),
        ("See [1 - 2, 4].", [1, 2, 4]),
        ("化疗后三到四周手术【1】。", [1]),
        ("化疗后三到四周手术［2］。", [2]),
        ("两者都适用[1，2]。", [1, 2]),
        ("两者都适用【1、3】。", [1, 3]),
        ("全角数字［２］。", [2]),
        ("No citation here.", []),
    ],
)
def test_parse_citations_formats(answer: str, expected: list[int]) -> None:
    assert parse_citations(answer, 4) == expected


def test_parse_citations_orders_by_first_appearance_and_dedupes() -> None:
    assert parse_citations("A [3]. B [1][3]. C [1, 2].", 3) == [3, 1, 2]


def test_parse_citations_drops_out_of_range() -> None:
    assert parse_citations("A [0]. B [5]. C [2]. D [1-9].", 3) == [2, 1, 3]
    assert parse_citations("A [7].", 3) == []


def test_parse_citations_ignores_non_markers() -> None:
    assert parse_citations("Stage (2) disease, PD-1, a [b] list and 3-4 weeks.", 5) == []


def test_strip_invalid_removes_whole_and_partial_markers() -> None:
    answer = "Surgery follows [9]. Radiotherapy helps [1, 9]. Both [2][7]."
    assert strip_invalid(answer, 3) == "Surgery follows. Radiotherapy helps [1]. Both [2]."


def test_strip_invalid_normalises_to_ascii() -> None:
    assert strip_invalid("化疗后手术【1、2】。见［3］", 2) == "化疗后手术[1][2]。见"
    assert strip_invalid("Range [2-5].", 3) == "Range [2][3]."


def test_strip_markers_removes_all() -> None:
    assert strip_markers("Surgery follows [1]. 手术【2】。") == "Surgery follows. 手术。"


def test_cited_sentences_trailing_marker_after_punctuation() -> None:
    answer = "Surgery follows after 3 to 4 weeks. [1] Radiotherapy may follow [2]."
    assert cited_sentences(answer, 2) == [
        ("Surgery follows after 3 to 4 weeks. [1]", (1,)),
        ("Radiotherapy may follow [2].", (2,)),
    ]


def test_cited_sentences_chinese_trailing_marker() -> None:
    answer = "化疗结束后通常要等三到四周才能手术。【1】术后可能需要放疗【2】。"
    assert cited_sentences(answer, 2) == [
        ("化疗结束后通常要等三到四周才能手术。【1】", (1,)),
        ("术后可能需要放疗【2】。", (2,)),
    ]


def test_cited_sentences_uncited_sentence_inherits_nothing() -> None:
    answer = "Surgery follows chemotherapy [1]. Ask your team about timing. Radiotherapy helps [2]."
    result = cited_sentences(answer, 2)
    assert [cited for _, cited in result] == [(1,), (), (2,)]


def test_cited_sentences_lumped_markers_cover_the_paragraph() -> None:
    answer = (
        "Chemotherapy shrinks the tumour. Surgery follows after some weeks. Recovery varies [1][2]."
        "\n\nRadiotherapy is another option. It is given daily [3]."
    )
    result = cited_sentences(answer, 3)
    assert [cited for _, cited in result] == [(1, 2), (1, 2), (1, 2), (3,), (3,)]


def test_cited_sentences_lumping_needs_markers_only_at_the_end() -> None:
    answer = "Chemotherapy shrinks the tumour [1]. Surgery follows. Recovery varies [2]."
    assert [cited for _, cited in cited_sentences(answer, 2)] == [(1,), (), (2,)]


def test_cited_sentences_list_items_are_separate_paragraphs() -> None:
    answer = "- Chemotherapy shrinks the tumour.\n- Surgery follows after weeks [1]."
    assert [cited for _, cited in cited_sentences(answer, 1)] == [(), (1,)]


def test_cited_sentences_ignore_invalid_numbers() -> None:
    assert cited_sentences("Surgery follows [4].", 2) == [("Surgery follows [4].", ())]


def test_renumber_maps_and_drops() -> None:
    answer = "A [3]. B [1, 3]. C [2]. D【3】."
    assert renumber(answer, {3: 1, 1: 2}) == "A [1]. B [2][1]. C. D[1]."


def test_renumber_does_not_chain_substitutions() -> None:
    assert renumber("A [1]. B [2].", {1: 2, 2: 1}) == "A [2]. B [1]."


def test_format_context_numbers_passages_in_order() -> None:
    passages = [
        _passage("Neoadjuvant therapy", "nccn/neoadjuvant.md", "Surgery follows in 3 weeks.\n"),
        _passage("", "esmo/npc.pdf", "Induction chemotherapy [12] is used."),
    ]
    context = format_context(passages)
    assert context == (
        "[1] (Neoadjuvant therapy — nccn/neoadjuvant.md)\nSurgery follows in 3 weeks.\n\n"
        "[2] (esmo/npc.pdf)\nInduction chemotherapy (12) is used."
    )
    # the document's own bracketed reference no longer reads as a citation
    assert parse_citations(context, 20) == [1, 2]


def test_format_context_empty() -> None:
    assert format_context([]) == ""
