"""qa.support: numbers, lexical overlap and cross-language checks of cited answer sentences."""

from __future__ import annotations

import dataclasses

import pytest

from qa.support import SupportResult, check_answer, check_sentence

TIMING = (
    "Surgery is usually performed 3 to 4 weeks after the last cycle of neoadjuvant chemotherapy. "
    "This interval lets blood counts recover before the operation."
)
DOSE = "About 20% of patients need a dose reduction of capecitabine. Stage III disease is common."
ZH_TIMING = "新辅助化疗结束后，通常需要等待三到四周再进行手术，以便血象恢复。"


def test_supported_sentence() -> None:
    result = check_sentence(
        "Surgery is usually done 3 to 4 weeks after the last neoadjuvant chemotherapy cycle [1].",
        [TIMING],
    )
    assert result.supported and result.reason == "ok"
    assert result.overlap >= 0.35
    assert result.numbers_missing == ()
    assert result.best_sentence.startswith("Surgery is usually performed 3 to 4 weeks")


def test_wrong_number_is_caught() -> None:
    result = check_sentence(
        "Surgery is usually done 5 to 6 weeks after the last neoadjuvant chemotherapy cycle [1].",
        [TIMING],
    )
    assert not result.supported
    assert result.reason == "unsupported-number"
    assert result.numbers_missing == ("5", "6")


@pytest.mark.parametrize(
    ("sentence", "ok"),
    [
        ("About 20% of patients need a capecitabine dose reduction [1].", True),
        ("About 20 % of patients need a capecitabine dose reduction [1].", True),
        ("About 20 percent of patients need a capecitabine dose reduction [1].", True),
        ("About 30% of patients need a capecitabine dose reduction [1].", False),
        ("Stage 3 disease is common among patients needing capecitabine [1].", True),
        ("HER2 and PD-1 status guide capecitabine dose reduction [1].", True),
    ],
)
def test_number_forms(sentence: str, ok: bool) -> None:
    assert check_sentence(sentence, [DOSE]).supported is ok


def test_percentage_needs_a_percentage() -> None:
    result = check_sentence("About 4% of patients need a capecitabine dose reduction [1].",
                            ["Around 4 patients need a capecitabine dose reduction."])
    assert result.reason == "unsupported-number" and result.numbers_missing == ("4%",)


def test_chinese_sentence_english_passage_numbers_pass() -> None:
    result = check_sentence("化疗结束后通常要等3到4周才能手术【1】", [TIMING])
    assert result.supported and result.reason == "ok"
    assert result.overlap == -1.0  # no glossary, no Latin tokens: not measurable


def test_chinese_sentence_english_passage_wrong_number_fails() -> None:
    result = check_sentence("化疗结束后通常要等8周才能手术【1】", [TIMING])
    assert result.reason == "unsupported-number"
    assert result.numbers_missing == ("8",)


def test_chinese_numerals() -> None:
    assert check_sentence("化疗结束后通常要等三到四周才能手术【1】", [TIMING]).supported
    bad = check_sentence("化疗结束后通常要等五到六周才能手术【1】", [TIMING])
    assert bad.reason == "unsupported-number" and bad.numbers_missing == ("5", "6")
    # words that merely contain numerals (一般, 第一) are not quantities
    assert check_sentence("一般来说，第一次手术在化疗之后进行【1】", [TIMING]).supported


def test_passage_number_words_match_digits() -> None:
    passage = "Surgery usually follows three to four weeks after neoadjuvant chemotherapy."
    assert check_sentence("化疗后通常3到4周手术【1】", [passage]).supported


def test_cross_language_with_glossary() -> None:
    def glossary(text: str) -> list[str]:
        return ["neoadjuvant chemotherapy", "surgery", "weeks"] if "化疗" in text else []

    ok = check_sentence("新辅助化疗后3到4周手术【1】", [TIMING], glossary_terms=glossary)
    assert ok.supported and ok.overlap == 1.0
    off_topic = "Proton therapy spares the heart in children with lymphoma."
    bad = check_sentence("新辅助化疗后手术【1】", [off_topic], glossary_terms=glossary)
    assert bad.reason == "low-overlap" and bad.overlap < 0.2


def test_cross_language_latin_tokens() -> None:
    passage = "Response is assessed with RECIST on PET-CT or MRI after two cycles."
    assert check_sentence("疗效通常在两个周期后用RECIST标准评估【1】", [passage]).supported
    result = check_sentence("疗效通常用iRANO标准和骨扫描评估【1】", [passage])
    assert result.reason == "low-overlap" and result.overlap == 0.0


def test_chinese_against_chinese_passage() -> None:
    result = check_sentence("新辅助化疗结束后通常等待三到四周再手术【1】。", [ZH_TIMING])
    assert result.supported
    assert result.best_sentence == ZH_TIMING  # verbatim (full-width comma kept) for highlighting
    result = check_sentence("质子治疗可以完全避免儿童的远期副作用【1】。", [ZH_TIMING])
    assert result.reason == "low-overlap"


def test_low_overlap_english_sentence_fails() -> None:
    result = check_sentence("Proton therapy eliminates all long-term side effects in children [1].",
                            [TIMING])
    assert not result.supported
    assert result.reason == "low-overlap"
    assert result.overlap < 0.35


def test_threshold_is_a_parameter() -> None:
    sentence = "Blood counts recover after neoadjuvant chemotherapy, so vaccines matter [1]."
    assert check_sentence(sentence, [TIMING], threshold=0.3).supported
    assert not check_sentence(sentence, [TIMING], threshold=0.9).supported


def test_no_citation() -> None:
    result = check_sentence("Surgery usually follows neoadjuvant chemotherapy within a month.", [])
    assert result == SupportResult(False, "no-citation", 0.0)


def test_short_connectives_are_trivially_supported() -> None:
    assert check_sentence("In short:", []).supported
    assert check_sentence("总之：", []).supported
    assert check_sentence("In short [1]:", [TIMING]).supported
    # but a short sentence still has its numbers checked
    assert check_sentence("About 9 weeks [1].", [TIMING]).reason == "unsupported-number"


def test_list_numbering_is_not_a_claim() -> None:
    assert check_sentence("7. Surgery follows neoadjuvant chemotherapy after some weeks [1].",
                          [TIMING]).supported


def test_result_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        check_sentence("In short:", []).supported = False  # type: ignore[misc]


def test_check_answer_end_to_end() -> None:
    answer = (
        "Surgery is usually done 3 to 4 weeks after neoadjuvant chemotherapy. [1] "
        "About 20% of patients need a capecitabine dose reduction [2]. "
        "Proton therapy eliminates all long-term side effects in children [1]. "
        "Surgery must wait 8 weeks after neoadjuvant chemotherapy [1]. "
        "Everyone should ask their oncologist about the exact schedule for them."
    )
    results = check_answer(answer, [TIMING, DOSE])
    assert [cited for _, cited, _ in results] == [(1,), (2,), (1,), (1,), ()]
    assert [r.reason for _, _, r in results] == [
        "ok", "ok", "low-overlap", "unsupported-number", "no-citation",
    ]
    assert results[0][0].endswith("[1]")
    assert results[1][2].best_sentence.startswith("About 20% of patients")


def test_check_answer_passes_glossary_and_ignores_invalid_markers() -> None:
    calls: list[str] = []

    def glossary(text: str) -> list[str]:
        calls.append(text)
        return ["surgery"]

    answer = "化疗后3到4周手术【1】。也有其他说法【5】。"
    results = check_answer(answer, [TIMING], glossary_terms=glossary)
    assert results[0][1] == (1,) and results[0][2].supported
    assert results[1][1] == () and results[1][2].reason == "no-citation"
    assert calls
