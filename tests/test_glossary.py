"""The bilingual glossary: its data file, Chinese to English and back, longest match, boundaries."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from qa import glossary, glossary_file
from qa.glossary import GLOSSARY, concepts, entries, expand, is_generic, translate_terms
from qa.glossary_file import KINDS, GlossaryFileError, parse_blockers, parse_concepts

ROOT = Path(__file__).resolve().parents[1]

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
    # English blockers: a loss is not a price
    assert "cost" not in glossary.mentions("Could it cost him his chance of a cure?").values()
    assert list(glossary.mentions("How much does it cost him per cycle?").values()) == ["cost"]


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


# --- the data file -------------------------------------------------------------------------

HEADER = "english\tsimplified\ttraditional\tkind\texplanation_en\texplanation_zh\n"


def test_glossary_file_parses_and_every_row_follows_the_rules() -> None:
    rows = glossary_file.load().concepts
    assert len(rows) == len(GLOSSARY)
    en_seen: set[str] = set()
    zh_seen: set[str] = set()
    for row in rows:
        assert row.english and row.simplified, row
        assert row.kind in KINDS, row
        for form in row.english:
            assert form.lower() not in en_seen, f"{form} twice"
            en_seen.add(form.lower())
        for form in row.simplified + row.traditional:
            assert form not in zh_seen, f"{form} twice"
            zh_seen.add(form)
    blockers = glossary_file.load().blockers
    assert all(_CJK.search(w) or re.fullmatch(r"[a-z][a-z' -]*", w) for w in blockers)


def test_generic_entries_are_the_question_and_time_words() -> None:
    generic = {GLOSSARY[i][1][0] for i in range(len(GLOSSARY)) if is_generic(i)}
    assert generic == {"dose", "cycle", "how long", "when", "stop", "interval", "week", "month"}


def test_traditional_forms_follow_the_simplified_ones() -> None:
    zh_terms, en_terms = GLOSSARY[0]
    assert en_terms[0] == "chemotherapy"
    assert zh_terms[0] == "化疗" and "化療" in zh_terms
    assert zh_terms.index("化療") > zh_terms.index("做化疗")


@pytest.mark.parametrize(("traditional", "simplified"), [
    ("化療後多久可以做手術", "化疗后多久可以做手术"),
    ("貝伐珠單抗停藥多久可以手術？", "贝伐珠单抗停药多久可以手术？"),
    ("結直腸癌肝轉移能切除嗎", "结直肠癌肝转移能切除吗"),
    ("放療的副作用有哪些，會掉頭髮嗎", "放疗的副作用有哪些，会掉头发吗"),
])
def test_traditional_question_means_what_the_simplified_one_does(traditional: str,
                                                                  simplified: str) -> None:
    assert expand(traditional) == expand(simplified) != []
    assert translate_terms(traditional) == translate_terms(simplified)
    assert [forms for _, forms in concepts(traditional)] == [
        forms for _, forms in concepts(simplified)]
    assert entries(traditional) == entries(simplified)


def test_traditional_blockers() -> None:
    assert "week" not in expand("腫瘤周圍的淋巴結")
    assert "week" not in expand("週末可以來嗎")
    assert "week" in expand("停藥六週後手術")
    assert "cycle" in expand("化療週期")


def test_loading_waits_for_first_use() -> None:
    code = ("import qa.bm25, qa.glossary as g, qa.glossary_file as f\n"
            "assert f.load.cache_info().currsize == 0\n"
            "assert len(g.GLOSSARY) > 0 and f.load.cache_info().currsize == 1\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize(("row", "problem"), [
    ("chemo\t化疗\t\ttreatment", "already on line 3"),
    ("\t放疗\t\ttreatment", "needs an English and a Simplified"),
    ("radiotherapy\t\t放療\ttreatment", "needs an English and a Simplified"),
    ("radiotherapy\t放疗\t\tprocedure", "kind 'procedure'"),
    ("radiotherapy\t放疗\t放疗\ttreatment", "twice in this row"),
    ("radiotherapy||rt\t放疗\t\ttreatment", "empty form"),
    ("放疗\t放疗\t\ttreatment", "needs Latin letters"),
    ("radiotherapy\tradiation\t\ttreatment", "no Chinese character"),
    ("radiotherapy\t放疗\t放療\ttreatment\t\t\textra", "columns"),
])
def test_broken_rows_are_rejected_with_their_line(row: str, problem: str) -> None:
    text = HEADER + "# Treatments\nchemotherapy|chemo\t化疗\t化療\ttreatment\n" + row + "\n"
    with pytest.raises(GlossaryFileError, match=re.escape(problem)) as info:
        parse_concepts(text, "g.tsv")
    assert "g.tsv:4" in str(info.value)


def test_a_good_file_with_comments_quotes_and_short_rows_parses() -> None:
    text = ("# comment\n" + HEADER + "# section\n\n"
            "chemotherapy|chemo\t化疗|打化疗\t化療\ttreatment\t\"Drugs\" that kill cells.\n"
            "week\t周\t週\tgeneric\t\"\"\"Week\"\" as in 7 days.\"\n")
    rows = parse_concepts(text)
    assert [r.english for r in rows] == [("chemotherapy", "chemo"), ("week",)]
    assert rows[0].chinese == ("化疗", "打化疗", "化療")
    assert rows[0].explanation_en == '"Drugs" that kill cells.'
    assert rows[1].traditional == ("週",) and rows[1].kind == "generic"
    assert rows[1].explanation_en == '"Week" as in 7 days.'  # as a spreadsheet saves it


def test_a_wrong_header_is_rejected() -> None:
    with pytest.raises(GlossaryFileError, match="first row"):
        parse_concepts("english\tchinese\tkind\nchemo\t化疗\ttreatment\n")


def test_blockers_must_hide_a_form_without_being_one() -> None:
    rows = parse_concepts(HEADER + "week\t周\t週\tgeneric\n")
    assert parse_blockers("# c\n周围\n週末\n", rows) == ("周围", "週末")
    assert parse_blockers("weeks off work\n", rows) == ("weeks off work",)  # plural counts
    for bad, problem in (("周", "is a glossary form"), ("今天", "blocks nothing"),
                         ("weekend", "blocks nothing"), ("week", "is a glossary form"),
                         ("week 2", "neither Chinese nor English"), ("周围\n周围", "twice")):
        with pytest.raises(GlossaryFileError, match=problem):
            parse_blockers(bad + "\n", rows)


def test_translation_hints_name_drugs_tests_and_cancers_in_the_target_language() -> None:
    pairs = dict(glossary.hints("Patients get oxaliplatin after a PET-CT scan.", "zh"))
    assert pairs["oxaliplatin"] == "奥沙利铂"
    assert pairs["PET-CT"] == "PET-CT"  # an acronym stays as written in Chinese text
    assert "Patients" not in pairs and "after" not in pairs
    back = dict(glossary.hints("患者做完PET-CT后使用奥沙利铂。", "en"))
    assert back["奥沙利铂"] == "oxaliplatin"
    assert glossary.hints("Patients get oxaliplatin.", "en") == []  # nothing to translate


def test_translation_hints_name_treatments_once_whatever_the_case() -> None:
    # the model had written 辅助化疗 (adjuvant) for neoadjuvant chemotherapy without the hint
    pairs = glossary.hints("Neoadjuvant chemotherapy is also at risk, and some patients do not "
                           "benefit from neoadjuvant chemotherapy.", "zh")
    assert pairs == [("Neoadjuvant chemotherapy", "新辅助化疗")]
    assert dict(glossary.hints("肿瘤缩小后再做手术。", "en")) == {"做手术": "surgery",
                                                        "肿瘤缩小": "shrink the tumor"}


def test_advanced_is_the_stage_only_next_to_a_cancer_word() -> None:
    # "Advanced techniques" had been hinted as 晚期技术 ("late-stage techniques")
    assert glossary.hints("Advanced techniques such as SBRT deliver high doses.", "zh") == [
        ("SBRT", "SBRT")]  # the treatment, not the stage
    assert dict(glossary.hints("For patients with advanced tumors, surgery is rare.", "zh")) \
        == {"advanced tumors": "晚期", "surgery": "手术"}


def test_blanking_names_keeps_offsets_and_only_numbered_names_on_request() -> None:
    text = "Give 5-FU with oxaliplatin for 3 cycles."
    bare = glossary.blank_names(text, numbered_only=True)
    assert len(bare) == len(text) and "5-FU" not in bare and "oxaliplatin" in bare and "3" in bare
    assert "oxaliplatin" not in glossary.blank_names(text)


# --- forms with gaps ------------------------------------------------------------------------

GAPPED = (HEADER + "neoadjuvant chemotherapy|chemo…before…surgery\t新辅助化疗|先…化疗…手术\t\t"
          "treatment\n")


@pytest.mark.parametrize(("question", "named"), [
    ("为什么要先化疗再做手术？", True),
    ("为什么先做化疗，再手术？", True),  # a comma inside one sentence
    ("先手术再化疗好吗？", False),  # the other order: chemotherapy after surgery
    ("先化疗不做手术可以吗？", False),  # a gap never holds a negation
    ("先化疗。手术以后再说。", False),  # nor ends a sentence
    ("Why chemo before my operation?", True),
    ("Why is chemotherapy given before surgery?", True),
    ("How long after chemotherapy is surgery done?", False),
    ("Chemotherapy ends. Before surgery, rest.", False),
])
def test_a_gapped_form_matches_its_pieces_in_order_a_few_words_apart(question: str,
                                                                    named: bool) -> None:
    neoadjuvant = next(i for i, (_, en) in enumerate(GLOSSARY)
                       if en[0] == "neoadjuvant chemotherapy")
    assert (neoadjuvant in entries(question)) == named
    # It adds its concept and hides nothing: chemotherapy and surgery still count.
    chemo = expand("化疗") if re.search(_CJK, question) else expand("chemotherapy")
    assert set(chemo) <= set(expand(question))
    # Only what the text names in so many words, on request.
    assert neoadjuvant not in entries(question, gapped=False)


def test_a_gapped_form_is_never_given_out_as_a_word() -> None:
    for text in ("为什么要先化疗再做手术？", "Why chemo before my operation?"):
        given = expand(text) + translate_terms(text).split() + [
            f for _, forms in concepts(text) for f in forms]
        assert given and not any("…" in f or "..." in f for f in given)
    # the words the question used are what a match reports
    assert ("先化疗再做手术", ("neoadjuvant chemotherapy", "preoperative chemotherapy")) in [
        (span, forms[:2]) for span, forms in concepts("为什么要先化疗再做手术？")]


def test_gapped_forms_in_the_file_are_checked() -> None:
    rows = parse_concepts(GAPPED.replace("…", "..."))  # typed with three dots
    assert rows[0].english[1] == "chemo…before…surgery" and rows[0].simplified[1] == "先…化疗…手术"
    for row, problem in (("chemo…before\t化疗\t\ttreatment", "first form"),
                         ("chemotherapy\t先…化疗\t\ttreatment", "first form"),
                         ("chemotherapy|chemo…\t化疗\t\ttreatment", "both sides of each gap"),
                         ("chemotherapy\t化疗|…化疗\t\ttreatment", "both sides of each gap")):
        with pytest.raises(GlossaryFileError, match=problem):
            parse_concepts(HEADER + row + "\n")
