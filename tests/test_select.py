"""Sentence selection (qa.select): what counts as a sentence, and what is chosen to be shown."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ingest.embeddings import HashEmbeddings
from qa import answer_type
from qa.select import Selection, SentenceSelector, Weights, distinct_sentences, flags_of, leans_back
from qa.types import Passage


def test_a_sources_own_reference_marker_is_cut_and_does_not_make_a_heading() -> None:
    text = ("Only when the sum of the target lesions grows by at least 20% is the regimen "
            "changed .[1-2]\nNext line.")
    (_, start, end, sentence), _ = distinct_sentences([text])
    assert sentence == "Only when the sum of the target lesions grows by at least 20% is the " \
        "regimen changed ."
    assert text[start:end] == sentence and "heading" not in flags_of(sentence)
    assert "heading" in flags_of(text[start:text.index("\n")] + " and more")


def test_english_that_starts_in_lower_case_is_a_fragment() -> None:
    assert "fragment" in flags_of("according to the rate of tumor shrinkage to determine "
                                  "whether drug resistance is imminent.")
    assert flags_of("According to the rate of tumor shrinkage, doctors judge whether drug "
                    "resistance is imminent.") == ()
    assert flags_of("5-FU is given by vein over several days in most regimens.") == ()


def _selector() -> SentenceSelector:
    return SentenceSelector(HashEmbeddings(), idf=lambda: (lambda term: 1.0))


def test_choose_takes_further_sentences_within_the_margin_only() -> None:
    selector = _selector()
    passage = Passage(text="Surgery usually follows the end of chemotherapy after three weeks. "
                      "The blood counts of most patients recover in that time. Radiotherapy "
                      "is another treatment that some patients receive.",
                      source="a.txt", title="a", start=0, end=160, score=1.0, id="a-0",
                      language="en")
    ranked = selector.select(["When is surgery done?"], ["surgery"], [passage], "en").ranked
    scored = [replace(c, score=s) for c, s in zip(ranked, (0.90, 0.85, 0.70), strict=True)]
    assert selector.choose(scored, margin=0.1) == tuple(scored[:2])
    assert selector.choose(scored, margin=0.01) == tuple(scored[:1])
    selector.weights = Weights(max_sentences=3)
    assert selector.choose(scored, margin=0.5) == tuple(scored)


def test_a_sentence_that_points_back_is_recognised_in_both_languages() -> None:
    for text in ("The purpose is to reduce bleeding during surgery.",
                 "These tiny lesions are difficult to detect early.",
                 "It can be an effective option when surgery is not feasible.",
                 "To address this issue, doctors adjust the treatment plan.",
                 "As a result, the lesions grow.", "- This process is called metastasis.",
                 "While it can cause side effects, newer regimens are gentler.",
                 "这些微小病灶早期很难发现。", "因此需要等待血象恢复。"):
        assert leans_back(text), text
    for text in ("The purpose of neoadjuvant chemotherapy is to shrink the tumour.",
                 "It is recommended to perform PET-CT before treatment.",
                 "Targeted drugs such as cetuximab bind to EGFR.",
                 "However, a 1 cm tumour has doubled about 30 times.",
                 "Studies show that chemotherapy works.", "此外，化疗可以口服。",
                 "While chemotherapy works, it can cause side effects.",
                 "其他治疗也可以考虑。",
                 "This article explores recent research on chemotherapy before surgery."):
        assert not leans_back(text), text


def _passage(text: str, n: int = 0) -> Passage:
    return Passage(text=text, source=f"{n}.txt", title="t", start=0, end=len(text), score=1.0,
                   id=f"p-{n}", language="en")


STOP = "Bevacizumab is stopped six weeks before liver surgery."
PURPOSE = "The purpose is to reduce bleeding during surgery and help the wound heal."


def test_a_sentence_that_points_back_carries_its_lead_in_and_comes_after_it() -> None:
    selector = _selector()
    passage = _passage(f"{STOP} {PURPOSE} Radiotherapy is another local treatment.")
    selection = selector.select(["What is the purpose of stopping it?"], ["purpose"],
                                [passage], "en")
    purpose = next(c for c in selection.ranked if c.text == PURPOSE)
    stop = next(c for c in selection.ranked if c.text == STOP)
    assert purpose.lead == STOP and purpose.lead_at == (stop.n, stop.start)
    assert stop.lead == "" and stop.lead_at is None
    # Ranked first on its own, it is shown after its lead-in, and the pair counts as two.
    ranked = [replace(purpose, score=0.95), replace(stop, score=0.60),
              *(c for c in selection.ranked if c.text not in (STOP, PURPOSE))]
    selector.weights = Weights(max_sentences=3)
    assert [c.text for c in selector.choose(ranked, margin=0.5)][:2] == [STOP, PURPOSE]
    assert Selection(selector.choose(ranked, margin=0.5), tuple(ranked)).best == 0.95
    selector.weights = Weights(max_sentences=1, continuation=False)
    assert [c.text for c in selector.choose(ranked, margin=0.5)] == [STOP]
    # (with the continuation, the first sentence shown brings the one that continues it)
    selector.weights = Weights(max_sentences=1)
    assert [c.text for c in selector.choose(ranked, margin=0.5)] == [STOP, PURPOSE]


RISK = "Chemotherapy before surgery also carries a risk for some patients."
RESULT = "As a result, the lesions grow and the chance of a cure may be lost."
OTHER = "Radiotherapy is another local treatment that is used for some tumours."


def test_the_direct_answer_is_followed_by_the_sentence_that_continues_it() -> None:
    selector = _selector()
    selection = selector.select(["Is chemotherapy first risky?"], ["risk"],
                                [_passage(f"{RISK} {RESULT} {OTHER}")], "en")
    risk, result, other = (next(c for c in selection.ranked if c.text == t)
                           for t in (RISK, RESULT, OTHER))
    assert result.lead_at == (risk.n, risk.start)
    # The continuation scores far below the margin: it comes second all the same.
    ranked = [replace(risk, score=0.95), replace(other, score=0.94),
              replace(result, score=0.50)]
    assert [c.text for c in selector.choose(ranked, margin=0.05)] == [RISK, RESULT, OTHER]
    assert Selection(selector.choose(ranked, margin=0.05), tuple(ranked)).leads_in
    # It comes on top of the sentences allowed: it belongs to the first.
    selector.weights = Weights(max_sentences=2)
    assert [c.text for c in selector.choose(ranked, margin=0.05)] == [RISK, RESULT, OTHER]
    selector.weights = Weights()
    # Only the direct answer's: a supporting sentence does not bring what follows it.
    ranked = [replace(other, score=0.95), replace(risk, score=0.94),
              replace(result, score=0.50)]
    assert [c.text for c in selector.choose(ranked, margin=0.05)] == [OTHER, RISK]
    # Not when switched off, and not from a document about another cancer.
    ranked = [replace(risk, score=0.95), replace(other, score=0.60),
              replace(result, score=0.50)]
    selector.weights = Weights(continuation=False)
    assert [c.text for c in selector.choose(ranked, margin=0.05)] == [RISK]
    selector.weights = Weights()
    ranked[2] = replace(result, score=0.50, other_cancer=True)
    assert [c.text for c in selector.choose(ranked, margin=0.05)] == [RISK]


def test_a_sentence_that_points_back_to_nothing_in_its_passage_is_flagged() -> None:
    selection = _selector().select(["Why stop it?"], ["stop"],
                                   [_passage(f"{PURPOSE} {STOP}")], "en")
    purpose = next(c for c in selection.ranked if c.text == PURPOSE)
    assert "dangling" in purpose.flags and purpose.lead_at is None
    assert selection.chosen[0].text == STOP


BEVACIZUMAB = "If bevacizumab is used, surgery usually waits at least 6 weeks after it is stopped."


@pytest.mark.parametrize(("question", "narrower"), [
    ("How long after chemotherapy can surgery be done?", True),
    ("化疗结束后多久可以做手术？", True),
    ("我爸用了贝伐珠单抗，停药多久可以手术？", False),  # the glossary's Chinese form
    ("He takes bevacizumab: when can he have surgery?", False),
])
def test_a_sentence_that_holds_only_for_a_drug_the_question_does_not_name_ranks_lower(
        question: str, narrower: bool) -> None:
    passage = _passage(f"{BEVACIZUMAB} Surgery usually follows 3 to 4 weeks after chemotherapy.")

    def score(weights: Weights) -> float:
        selector = _selector()
        selector.weights = weights
        ranked = selector.select([question], ["surgery"], [passage], "en").ranked
        return next(c.score for c in ranked if c.text == BEVACIZUMAB)

    gap = score(Weights(narrower=0.0)) - score(Weights(narrower=0.05))
    assert gap == pytest.approx(0.05 if narrower else 0.0)



@pytest.mark.parametrize(("question", "flagged"), [
    ("My husband gets cetuximab every week. How long must it be stopped before surgery?", True),
    ("我爸在用西妥昔单抗，手术前要停多久？", True),  # a glossary drug, Chinese
    ("He is on regorafenib: when can he have surgery?", True),  # a drug by its stem only
    ("How long after chemotherapy can surgery be done?", False),  # no drug: ranks lower only
    ("He takes bevacizumab: when can he have surgery?", False),  # the drug it holds for
    # a drug the question rules out is the other drug
    ("Standard chemo, with no bevacizumab. How long after it ends is surgery done?", True),
    ("我爸没有用贝伐珠单抗，化疗结束后多久可以手术？", True),
    ("Why is surgery not done soon after bevacizumab?", False),  # negated, but it is asked
])
def test_a_sentence_for_another_drug_is_no_answer_to_a_question_naming_a_drug(
        question: str, flagged: bool) -> None:
    passage = _passage(f"{BEVACIZUMAB} Surgery usually follows 3 to 4 weeks after chemotherapy.")
    selection = _selector().select([question], ["surgery"], [passage], "en")
    bevacizumab = next(c for c in selection.ranked if c.text == BEVACIZUMAB)
    assert ("other-drug" in bevacizumab.flags) == flagged
    if flagged:  # never chosen while a prose sentence is there
        assert BEVACIZUMAB not in [c.text for c in selection.chosen]


def test_a_sentence_whose_lead_in_is_about_a_drug_ruled_out_is_not_shown() -> None:
    why = "The purpose is to reduce bleeding during surgery."
    passage = _passage(f"{BEVACIZUMAB} {why} Surgery usually follows 3 to 4 weeks after "
                       "chemotherapy.")
    selector = _selector()
    selector.weights = Weights(margin=1.0)
    for question, shown in (("Standard chemo, with no bevacizumab. Why wait before surgery?",
                             False),
                            ("He had bevacizumab. Why wait before surgery?", True)):
        chosen = [c.text for c in selector.select([question], ["surgery"], [passage],
                                                  "en").chosen]
        assert (why in chosen) == shown and (BEVACIZUMAB in chosen) == shown, chosen

def test_a_list_items_bullet_is_not_part_of_its_sentence() -> None:
    text = ("Basic facts\n- Surgery usually follows chemotherapy after 3 to 4 weeks.\n"
            "• 化疗后三到四周手术。")
    sentences = [(start, sentence) for _, start, _, sentence in distinct_sentences([text])]
    assert [s for _, s in sentences] == [
        "Basic facts", "Surgery usually follows chemotherapy after 3 to 4 weeks.",
        "化疗后三到四周手术。"]
    assert all(text[start:start + len(s)] == s for start, s in sentences)
    assert distinct_sentences(["- 5 mg is a dose.", "-5 is a number."])[1][3] == "-5 is a number."


def test_a_sentence_from_a_document_about_another_cancer_is_never_shown_in_support() -> None:
    """A follow-up about nasopharyngeal cancer ("what is the gene test for?") is answered from
    its document; the colorectal review's sentence on gene tests (RAS/BRAF) is not added."""
    def passage(n: int, title: str, text: str) -> Passage:
        return Passage(text=text, source=f"{n}.txt", title=title, start=0, end=len(text),
                       score=1.0, id=f"{n}-0", language="en")

    npc = passage(1, "Why does nasopharyngeal carcinoma metastasize during treatment",
                  "Doctors may recommend genetic testing to select targeted drugs.")
    crc = passage(2, "Neoadjuvant chemotherapy for colorectal cancer liver metastases",
                  "Genetic testing such as RAS and BRAF helps tailor the regimens.")
    general = passage(3, "What Is Neoadjuvant Chemotherapy?",
                      "Genetic testing results are discussed by the whole team.")
    selector = _selector()
    selector.weights = Weights(max_sentences=3, margin=1.0)
    question = "医生说要做基因检测，这是为了选什么？"

    def shown(topic: str) -> list[str]:
        selection = selector.select([question], ["genetic", "testing"], [npc, crc, general],
                                    "zh", topic=topic)
        assert {c.other_cancer for c in selection.ranked if c.n == 2} == {
            "鼻咽癌" in topic}
        return [c.text for c in selection.chosen]

    follow_up = shown("鼻咽癌为什么会转移？医生说要做基因检测，这是为了选什么？")
    assert crc.text not in follow_up and general.text in follow_up and len(follow_up) == 2
    assert crc.text in shown(question)  # the question names no cancer: nothing is set aside
    # the sentence stays a candidate: first, when it ranks first, it is still shown
    only = selector.select([question], ["genetic"], [crc], "zh", topic="鼻咽癌基因检测")
    assert [c.text for c in only.chosen] == [crc.text]


@pytest.mark.parametrize(("question", "terms"), [
    ("The doctor said my cancer has 'metastasised'. What does that actually mean?",
     ("metastasised",)),
    ("What does RECIST stand for?", ("RECIST",)),
    ("What's a PET-CT?", ("PET-CT",)),
    ("They booked me for 'preoperative chemotherapy'. What exactly is that?",
     ("preoperative chemotherapy",)),
    ("什么是新辅助化疗？", ("新辅助化疗",)),
    ("CT报告上写着“疾病进展”，这是什么意思？", ("疾病进展",)),  # quoted; not the acronym CT
    ("病历上写的CRLM是什么病？", ("病历上写的CRLM", "CRLM")),
    # an apostrophe inside a word is no quotation mark
    ("My dad's hospital letters keep saying 'CRLM'. What does that stand for?", ("CRLM",)),
    ("新辅助化疗到底是什么？", ("新辅助化疗",)),  # emphasis is not part of the term
    # nor is a result written after it
    ('My pathology report says "Ki-67 40%". What does that mean?', ("Ki-67",)),
    ("病理报告上写着“HER2（3+）”，这是什么？", ("HER2",)),
    ("The letter says 'CA19-9'. What is that?", ("CA19-9",)),  # a code keeps its digits
    ("The letter says 'stage 4'. What is that?", ("stage 4",)),  # ... and a stage its number
    # a pointer in the slot: the drug the question names
    ("我舅舅的用药单上写着顺铂，这是一种什么药？", ("顺铂",)),
])
def test_a_definition_question_names_the_term_it_asks_about(
        question: str, terms: tuple[str, ...]) -> None:
    assert "definition" in answer_type.asked(question)
    assert answer_type.asked_terms(question) == terms


@pytest.mark.parametrize("question", [
    "What is the purpose of chemotherapy before surgery?",  # a reason
    "How long after chemotherapy can surgery be done?",
    "What are the chances my cancer comes back after the operation?",
    "What's the advantage of it?",  # what the term is good for, not what it is
    "靶向治疗用在已经转移的肿瘤上，最大的优势是什么？",
    "Is chemotherapy safe during pregnancy?",
])
def test_a_question_that_asks_for_something_else_is_no_definition_question(question: str) -> None:
    assert "definition" not in answer_type.asked(question)


METASTASIS = ("Metastatic tumors, also known as metastases, occur when cancer cells from the "
              "primary tumor spread to other parts of the body.")
CAUSES = ("Insufficient dose of radiotherapy, or chemotherapy that does not eliminate every "
          "tumor cell, may cause metastasis.")


@pytest.mark.parametrize(("sentence", "question", "defines"), [
    (METASTASIS, "My cancer has 'metastasised'. What does that mean?", True),
    (CAUSES, "My cancer has 'metastasised'. What does that mean?", False),  # no definition
    (METASTASIS, "The surgeon mentioned a 'metastasectomy'. What is that?", False),  # other term
    ("Neoadjuvant chemotherapy refers to systemic chemotherapy given before local treatment.",
     "什么是新辅助化疗？", True),  # across languages through the glossary
    ('Judged by the "Response Evaluation Criteria in Solid Tumors (RECIST)", the effect is poor.',
     "RECIST标准是什么意思？", True),  # the acronym spelled out
    ("Surgeons may perform procedures such as tumor resection, which involves removing the "
     "lesion.", "CT报告上写着“疾病进展”，这是什么意思？", False),  # "ct" inside a word is no CT
    # named among the examples of a kind: says what kind of thing it is
    ("Targeted drugs such as cetuximab and nimotuzumab can target specific molecular targets.",
     "西妥昔单抗是什么药？", True),
    ("Common radiotherapy techniques include intensity-modulated radiotherapy and proton "
     "therapy.", "What is proton therapy?", True),
    ("Cetuximab can be combined with other drugs, such as chemotherapy.",
     "西妥昔单抗是什么药？", False),  # the term is neither the example nor the kind
    # the kind just before the cue, explained by its examples
    ("Neoadjuvant chemotherapy is given before local treatment methods (such as surgery or "
     "radiotherapy).", "局部治疗指的是什么？", True),
    ("Local treatment is often combined with other drugs, such as cetuximab.",
     "局部治疗指的是什么？", False),  # too far before the cue to be the kind
])
def test_a_sentence_defines_the_asked_term_only_in_a_defining_construction(
        sentence: str, question: str, defines: bool) -> None:
    assert answer_type.defines(sentence, question) == defines


@pytest.mark.parametrize(("question", "first"), [
    ("My doctor says the cancer has 'metastasised'. What does that mean?", METASTASIS),
    ("My doctor says the cancer has 'metastasised'. Is that bad?", CAUSES),  # no definition asked
])
def test_a_definition_comes_first_for_a_definition_question(question: str, first: str) -> None:
    # similarity and keywords left out: the better-ranked passage's sentence leads unless the
    # answer type lifts the definition
    selector = _selector()
    selector.weights = Weights(dense=0.0, keyword=0.0, rank=0.01)
    passages = [_passage(CAUSES, 1), _passage(METASTASIS, 2)]
    assert selector.select([question], [], passages, "en").chosen[0].text == first


def test_chinese_sentences_are_scored_on_the_scale_of_english_ones(
        ) -> None:
    # e5 rates Chinese text closer to a Chinese question than the English text the thresholds
    # were calibrated on: the measured gap comes off a Chinese sentence's score (only there).
    zh = "新辅助化疗结束后，通常需要等待三到四周才能手术。"
    en = "Surgery usually follows three to four weeks after neoadjuvant chemotherapy ends."
    passages = [_passage(f"{en} {zh}")]

    def dense(selector: SentenceSelector, question: str) -> dict[str, float]:
        selection = selector.select([question], [], passages, "zh" if "？" in question else "en")
        return {c.language or "": c.dense for c in selection.ranked}

    plain = SentenceSelector(HashEmbeddings(), idf=lambda: (lambda term: 1.0),
                             weights=Weights(same_language_zh=0.0, english_zh=0.0))
    gap, back = Weights().same_language_zh, Weights().english_zh
    assert gap > 0 and back > 0
    asked = "化疗后多久可以手术？"
    raw, calibrated = dense(plain, asked), dense(_selector(), asked)
    assert calibrated["zh"] == pytest.approx(raw["zh"] - gap, abs=1e-3)
    assert calibrated["en"] == raw["en"]
    # An English reader of Chinese text (a document only in Chinese): e5 rates it lower than
    # the same text in English for an English question, and that gap is added back.
    question = "How long after chemotherapy is surgery?"
    raw, calibrated = dense(plain, question), dense(_selector(), question)
    assert calibrated["zh"] == pytest.approx(raw["zh"] + back, abs=1e-3)
    assert calibrated["en"] == raw["en"]
