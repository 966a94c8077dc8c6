"""Evidence gate and extractive helpers on hand-made passages."""

from __future__ import annotations

from core.text import count_tokens
from qa.bm25 import tokenize
from qa.extractive import best_sentences, compress
from qa.gate import assess_evidence, question_concepts
from qa.types import Passage


def passage(text: str, dense: float, matched: tuple[str, ...] = (), n: int = 0,
            language: str = "en") -> Passage:
    return Passage(id=f"p{n}", source="doc.txt", title="Doc", text=text, start=0, end=len(text),
                   language=language, score=1.0, dense=dense, matched_terms=matched)


def flat_idf(term: str) -> float:
    return 1.0


def test_gate_follows_the_best_dense_score_and_explains_refusals() -> None:
    readings = question_concepts("What is the survival rate of pancreatic cancer?")
    close = [passage("Survival rates improve.", 0.90, ("surviv", "rate", "cancer"))]
    far = [passage("Survival rates improve.", 0.80, ("surviv", "rate", "cancer"))]
    assert assess_evidence(readings, close, idf=flat_idf, min_dense=0.84).covered
    refused = assess_evidence(readings, far, idf=flat_idf, min_dense=0.84)
    assert not refused.covered and refused.best_dense == 0.80
    assert refused.missing == ("pancreat",)  # what the documents lack
    assert not assess_evidence(readings, [], idf=flat_idf, min_dense=0.0).covered


def test_a_discount_lowers_only_the_passages_in_its_language() -> None:
    readings = question_concepts("化疗后多久可以手术？")
    chinese = passage("化疗结束后三到四周可以手术。", 0.90, language="zh")
    english = passage("Surgery follows 3 to 4 weeks after chemotherapy.", 0.86, n=1)
    assert assess_evidence(readings, [chinese, english], idf=flat_idf, min_dense=0.87).covered
    discounted = assess_evidence(readings, [chinese, english], idf=flat_idf, min_dense=0.87,
                                 discount={"zh": 0.05})
    assert not discounted.covered and discounted.best_dense == 0.86  # the English one's score
    assert assess_evidence(readings, [english], idf=flat_idf, min_dense=0.86,
                           discount={"zh": 0.05}).covered


def test_glossary_concepts_need_all_their_words() -> None:
    readings = question_concepts("胰腺癌的生存率是多少？")
    english = readings[-1]
    # "pancreatic cancer" is one concept: "cancer" alone does not satisfy it
    assert any(("pancreat", "cancer") in concept for concept in english)
    only_cancer = [passage("Cancer survival.", 0.9, ("cancer", "surviv", "rate"))]
    evidence = assess_evidence(readings, only_cancer, idf=flat_idf, min_dense=0.5)
    assert evidence.coverage < 1.0 and "pancreat cancer" in evidence.missing


def test_compress_keeps_the_matching_sentences_in_order() -> None:
    text = ("Radiotherapy uses X-rays. The weather was fine. Surgery comes 3 to 4 weeks after "
            "chemotherapy ends. Patients rest at home. Blood counts must recover first.")
    short = compress(text, tokenize("when is surgery after chemotherapy blood"), 30, idf=flat_idf)
    assert "3 to 4 weeks" in short and "weather" not in short
    assert short.index("Surgery") < short.index("Blood")
    assert count_tokens(short) <= 34
    assert compress(text, ["surgeri"], 500, idf=flat_idf) == text


def test_best_sentences_skip_headings_and_repeats() -> None:
    heading = "Timing of surgery after chemotherapy"
    body = "Surgery usually follows 3 to 4 weeks after the end of chemotherapy."
    passages = [passage(f"{heading}\n{body}", 0.9, n=1), passage(body, 0.9, n=2)]
    picks = best_sentences(tokenize("surgery after chemotherapy"), passages, idf=flat_idf)
    assert [p.sentence for p in picks] == [body] and picks[0].n == 1
