"""Sentence selection (qa.select): what counts as a sentence, and what is chosen to be shown."""

from __future__ import annotations

from dataclasses import replace

from ingest.embeddings import HashEmbeddings
from qa.select import SentenceSelector, Weights, distinct_sentences, flags_of
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
