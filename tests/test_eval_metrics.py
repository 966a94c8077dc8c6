"""Evaluation metrics against hand-computed trec_eval values, and gold relevance by span overlap."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from eval import metrics
from eval.gold import Evidence, GoldError, GoldItem, load_gold, parse_item


def _approx(value: float) -> object:
    return pytest.approx(value, abs=1e-6)


# --- retrieval metrics --------------------------------------------------------------------------

def test_hit_recall_rr_ndcg_match_hand_computed_trec_eval() -> None:
    qrels = {"q1": {"a": 1, "b": 1}, "q2": {"c": 1}}
    runs = {"q1": ["x", "a", "y", "b"], "q2": ["c", "z"]}
    scores = metrics.retrieval_scores(qrels, runs, cutoffs=(1, 2, 4))
    q1 = scores["q1"]
    assert q1["hit@1"] == 0.0
    assert q1["hit@2"] == 1.0
    assert q1["recall@2"] == _approx(0.5)
    assert q1["recall@4"] == _approx(1.0)
    assert q1["mrr"] == _approx(0.5)
    # DCG@4 = 1/log2(3) + 1/log2(5); ideal = 1/log2(2) + 1/log2(3)
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3)
    assert q1["ndcg@4"] == _approx(dcg / ideal)
    assert q1["ndcg@2"] == _approx((1 / math.log2(3)) / ideal)
    assert scores["q2"] == {name: 1.0 for name in scores["q2"]}
    means = metrics.mean_scores(scores)
    assert means["mrr"] == _approx(0.75)
    assert means["hit@1"] == _approx(0.5)


def test_rank_order_is_kept_not_doc_id_order() -> None:
    # trec_eval sorts by score and breaks ties by doc id: scores must encode our ranks
    scores = metrics.retrieval_scores({"q": {"a": 1}, "r": {"z": 1}},
                                      {"q": ["z", "a"], "r": ["a", "z"]}, cutoffs=(1,))
    for qid in ("q", "r"):  # whichever way ties were broken, one of these would score 1
        assert scores[qid]["mrr"] == _approx(0.5)
        assert scores[qid]["hit@1"] == 0.0


def test_repeated_docs_keep_their_first_rank() -> None:
    scores = metrics.retrieval_scores({"q": {"b": 1}}, {"q": ["a", "a", "a", "b"]}, cutoffs=(2,))
    assert scores["q"]["mrr"] == _approx(0.5)
    assert scores["q"]["hit@2"] == 1.0


def test_queries_without_results_count_as_zero() -> None:
    qrels = {"perfect": {"a": 1}, "empty": {"b": 1}, "absent": {"c": 1}}
    two = metrics.retrieval_scores({k: qrels[k] for k in ("perfect", "empty")},
                                   {"perfect": ["a"], "empty": []})
    assert set(two) == {"perfect", "empty"}
    assert metrics.mean_scores(two)["mrr"] == _approx(0.5)
    assert two["empty"] == dict.fromkeys(two["empty"], 0.0)
    three = metrics.retrieval_scores(qrels, {"perfect": ["a"]})
    assert metrics.mean_scores(three)["mrr"] == _approx(1 / 3)
    assert metrics.mean_scores(three)["hit@4"] == _approx(1 / 3)
    nothing = metrics.retrieval_scores(qrels, {})
    assert metrics.mean_scores(nothing)["ndcg@4"] == 0.0


def test_queries_without_relevant_documents_are_not_scored() -> None:
    assert metrics.retrieval_scores({"q": {}}, {"q": ["a"]}) == {}


def test_passage_units_are_evidence_quotes() -> None:
    covered = [frozenset({0}), frozenset(), frozenset({0, 1}), frozenset({2})]
    assert metrics.passage_ranking(covered) == ["e0", "x1", "e1", "e2"]
    assert metrics.coverage_recall(covered, 4, 1) == _approx(0.25)
    assert metrics.coverage_recall(covered, 4, 4) == _approx(0.75)
    # one chunk covering both quotes: recall 1 at rank 2, RR 1/2
    scores = metrics.passage_scores({"q": [frozenset(), frozenset({0, 1})], "none": []},
                                    {"q": 2, "none": 1})
    assert scores["q"]["hit@1"] == 0.0
    assert scores["q"]["hit@4"] == 1.0
    assert scores["q"]["recall@4"] == _approx(1.0)
    assert scores["q"]["mrr"] == _approx(0.5)
    assert scores["none"]["mrr"] == 0.0
    assert scores["none"]["recall@4"] == 0.0


# --- bootstrap and percentiles -----------------------------------------------------------------

def test_bootstrap_ci_contains_mean_and_is_deterministic() -> None:
    values = [0.13, 0.91, 0.47, 0.05, 0.66, 0.38, 0.72, 0.29, 0.84, 0.51, 0.07, 0.95]
    low, high = metrics.bootstrap_ci(values, seed=7)  # type: ignore[misc]
    mean = sum(values) / len(values)
    assert low < mean < high
    assert low >= 0.0 and high <= 1.0
    assert metrics.bootstrap_ci(values, seed=7) == (low, high)
    assert metrics.bootstrap_ci(values, seed=8) != (low, high)
    assert metrics.bootstrap_ci([0.4, 0.4, 0.4]) == (pytest.approx(0.4), pytest.approx(0.4))
    assert metrics.bootstrap_ci([]) is None


def test_percentile() -> None:
    assert metrics.percentile([10, 20, 30, 40, 50], 50) == 30
    assert metrics.percentile([0, 100], 95) == pytest.approx(95)
    assert metrics.percentile([], 50) is None


# --- answer metrics ------------------------------------------------------------------------------

def test_key_fact_recall_with_chinese_and_english_forms() -> None:
    facts = [["6 weeks", "六周", "6周"], ["bleed", "出血"], ["heal", "愈合"]]
    found = metrics.key_facts_found(facts, "停药后至少６周再做手术，以减少出血。")
    assert found == (True, True, False)
    assert metrics.key_fact_recall(facts, "Wait at least 6 WEEKS to limit Bleeding.") == \
        _approx(2 / 3)
    assert metrics.key_fact_recall(facts, "The documents do not cover this.") == 0.0
    assert metrics.key_fact_recall([], "anything") == 0.0


def test_refusal_precision_recall_and_false_refusals() -> None:
    answerable = [True, True, False, False, False]
    refused = [True, False, True, True, False]
    scores = metrics.refusal_scores(answerable, refused)
    assert scores[metrics.REFUSAL_PRECISION] == _approx(2 / 3)
    assert scores[metrics.REFUSAL_RECALL] == _approx(2 / 3)
    assert scores[metrics.FALSE_REFUSAL_RATE] == _approx(1 / 2)
    never = metrics.refusal_scores([True, False], [False, False])
    assert never[metrics.REFUSAL_PRECISION] is None
    assert never[metrics.REFUSAL_RECALL] == 0.0


def test_language_match() -> None:
    assert metrics.language_matches("新辅助化疗是在手术前进行的全身化疗 [1]。", "zh")
    assert metrics.language_matches("Neoadjuvant chemotherapy is given before surgery [1].", "en")
    assert not metrics.language_matches("Neoadjuvant chemotherapy is given first.", "zh")
    assert not metrics.language_matches("", "en")


# --- gold files and relevance --------------------------------------------------------------------

TEXT = ("Intro line about something else entirely.\n"
        "Surgery should wait six weeks after bevacizumab is stopped.\n"
        "最后一行是中文翻译：停用贝伐珠单抗后至少六周再手术。\n")
QUOTE = "Surgery should wait six weeks after bevacizumab is stopped."


@dataclass(frozen=True)
class _Span:
    source: str
    start: int
    end: int


@pytest.fixture
def evidence(tmp_path: Path) -> Evidence:
    (tmp_path / "doc.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "other.txt").write_text(TEXT, encoding="utf-8")
    return Evidence(tmp_path)


def _item(**changes: Any) -> GoldItem:
    raw: dict[str, Any] = {
        "id": "t-1", "language": "en", "question": "How long to wait?", "turns": None,
        "answerable": True, "sources": ["doc.txt"], "evidence": [QUOTE],
        "key_facts": [["six weeks"]], "notes": "test"}
    return parse_item(raw | changes)


def test_relevance_by_span_overlap(evidence: Evidence) -> None:
    item = _item()
    start = TEXT.index(QUOTE)
    end = start + len(QUOTE)
    (span,) = evidence.spans(item)
    assert (span.source, span.start, span.end) == ("doc.txt", start, end)
    assert evidence.passage_relevant(item, _Span("doc.txt", start - 10, start + 1))
    assert evidence.passage_relevant(item, _Span("doc.txt", end - 1, end + 40))
    assert evidence.passage_relevant(item, _Span("doc.txt", start + 5, start + 6))
    # adjacent but not overlapping: [start, end) spans are half-open
    assert not evidence.passage_relevant(item, _Span("doc.txt", 0, start))
    assert not evidence.passage_relevant(item, _Span("doc.txt", end, len(TEXT)))
    assert evidence.document_relevant(item, _Span("doc.txt", 0, start))
    # same offsets in a file that is not a source of the item
    assert not evidence.passage_relevant(item, _Span("other.txt", start, end))
    assert not evidence.document_relevant(item, _Span("other.txt", start, end))


def test_other_language_half_is_document_relevant_only(evidence: Evidence) -> None:
    item = _item()
    chinese = TEXT.index("最后一行")
    half = _Span("doc.txt", chinese, len(TEXT))
    assert evidence.document_relevant(item, half)
    assert not evidence.passage_relevant(item, half)
    both = _item(evidence=[QUOTE, "停用贝伐珠单抗后至少六周再手术。"])
    assert evidence.covered(both, half) == frozenset({1})
    assert both.direction == "en->zh"
    assert item.direction == "en->en"


def test_evidence_check_reports_quotes_missing_from_the_corpus(evidence: Evidence) -> None:
    evidence.check([_item()])
    with pytest.raises(GoldError, match="not found verbatim"):
        evidence.check([_item(evidence=["Surgery should wait seven weeks."])])
    with pytest.raises(GoldError, match="not in") as info:
        evidence.check([_item(sources=["missing.txt"]),
                        _item(id="t-2", evidence=["Surgery should wait seven weeks."])])
    assert "t-2: evidence quote not found" in str(info.value)  # every problem is listed


def test_load_gold_turns_and_validation(tmp_path: Path) -> None:
    good = tmp_path / "mt.jsonl"
    rows: list[dict[str, Any]] = [
        {"id": "a", "language": "en", "question": "Q?", "turns": None, "answerable": False,
         "sources": [], "evidence": [], "key_facts": [], "notes": "n"},
        {"id": "b", "language": "zh", "question": None, "turns": ["第一问？", "那第二问呢？"],
         "answerable": True, "sources": ["doc.txt"], "evidence": [QUOTE],
         "key_facts": [["six weeks", "六周"]], "notes": "n"},
    ]
    good.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    a, b = load_gold([good])
    assert a.turns == ("Q?",) and a.question == "Q?" and a.file == "mt"
    assert b.turns == ("第一问？", "那第二问呢？") and b.question == "那第二问呢？"
    assert b.key_facts == (("six weeks", "六周"),)
    assert a.direction == "en->none" and b.direction == "zh->en"
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(rows[1] | {"evidence": []}) + "\n" + json.dumps(rows[0]) + "\n"
                   + json.dumps(rows[0]) + "\n")
    with pytest.raises(GoldError) as info:
        load_gold([bad])
    assert "need sources and evidence" in str(info.value)
    assert "duplicate id 'a'" in str(info.value)


def test_shipped_gold_sets_load_and_match_the_corpus() -> None:
    from eval.gold import default_gold_files

    items = load_gold(default_gold_files())
    assert {i.file for i in items} == {"en", "zh", "unanswerable", "multiturn", "probes"}
    Evidence(Path(__file__).resolve().parents[1] / "corpus").check(items)
    assert {i.direction for i in items} >= {"en->en", "zh->en", "zh->zh"}
