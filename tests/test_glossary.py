"""The bilingual glossary: Chinese to English and back, longest match, word boundaries."""

from __future__ import annotations

import re

from qa.glossary import GLOSSARY, expand, translate_terms

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def test_chinese_question_expands_to_english_in_order_of_appearance() -> None:
    terms = expand("新辅助化疗结束后多久可以做手术？")
    for expected in ("neoadjuvant chemotherapy", "how long", "surgery"):
        assert expected in terms
    assert terms.index("neoadjuvant chemotherapy") < terms.index("how long")
    assert terms.index("how long") < terms.index("surgery")


def test_longest_match_consumes_the_shorter_term_inside_it() -> None:
    # 新辅助化疗 wins over the 化疗 inside it; 结直肠癌 over 直肠癌, 肝转移 over 转移.
    assert "chemotherapy" not in expand("新辅助化疗多久")
    terms = expand("结直肠癌肝转移能切除吗")
    assert {"colorectal cancer", "liver metastasis", "resection"} <= set(terms)
    assert "rectal cancer" not in terms
    assert "metastatic" not in terms


def test_shorter_term_still_counts_where_it_stands_alone() -> None:
    terms = expand("化疗和新辅助化疗有什么区别")
    assert terms.index("chemotherapy") < terms.index("neoadjuvant chemotherapy")


def test_patient_wording() -> None:
    assert {"chemotherapy", "hair loss"} <= set(expand("打化疗会掉头发吗"))
    assert "surgery" in expand("什么时候可以开刀")
    assert "metastasis" in expand("癌细胞扩散了怎么办")


def test_blocker_words_do_not_expand() -> None:
    assert "week" not in expand("肿瘤周围的淋巴结")
    assert "week" in expand("停药六周后手术")


def test_english_question_expands_to_chinese() -> None:
    terms = expand("How long after Bevacizumab should surgery wait?")
    assert terms.index("多久") < terms.index("贝伐珠单抗") < terms.index("手术")
    assert "bevacizumab" not in terms  # an English question gets the Chinese side only


def test_english_matching_is_case_insensitive_with_plurals_and_separators() -> None:
    assert "肿瘤" in expand("TUMORS")
    assert "肝转移" in expand("liver metastases")
    assert "正电子发射断层" in expand("Is a PET/CT scan needed?")
    assert "正电子发射断层" in expand("pet ct")
    assert "非小细胞肺癌" in expand("non-small cell lung cancer")
    assert "小细胞肺癌" not in expand("non-small cell lung cancer")


def test_no_match_inside_unrelated_english_words() -> None:
    # doctor ⊃ "ct", cooperation ⊃ "operation", spreadsheet ⊃ "spread", secure ⊃ "cure".
    assert expand("My doctor wants cooperation on a spreadsheet; is it secure?") == []
    assert "治愈" in expand("Is it curable or can it be a cure?")


def test_mixed_text() -> None:
    assert "genetic testing" in expand("RAS/BRAF 基因检测")
    terms = expand("surgery之后多久化疗")
    assert terms.index("手术") < terms.index("how long") < terms.index("chemotherapy")


def test_results_are_deduplicated() -> None:
    terms = expand("化疗，化疗，做化疗，chemotherapy and chemo")
    assert len(terms) == len(set(terms))
    assert terms.count("chemotherapy") == 1


def test_nothing_to_expand() -> None:
    assert expand("") == []
    assert expand("今天天气很好") == []
    assert translate_terms("今天天气很好") == ""


def test_translate_terms_gives_english_only() -> None:
    text = translate_terms("贝伐珠单抗停药多久可以手术？")
    assert text.startswith("bevacizumab Avastin stop discontinue discontinuation how long")
    assert "surgery" in text
    assert not _CJK.search(text)
    assert translate_terms("How long after bevacizumab?") == ""


def test_glossary_data_is_well_formed() -> None:
    zh_seen: set[str] = set()
    en_seen: set[str] = set()
    for zh_terms, en_terms in GLOSSARY:
        assert zh_terms and en_terms
        for term in zh_terms:
            assert _CJK.search(term), term
            assert term not in zh_seen, f"{term} in two entries"
            zh_seen.add(term)
        for term in en_terms:
            assert re.search("[A-Za-z]", term) and not _CJK.search(term), term
            assert term.lower() not in en_seen, f"{term} in two entries"
            en_seen.add(term.lower())
    assert len(GLOSSARY) >= 80
