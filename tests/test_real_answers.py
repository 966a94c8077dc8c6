"""A small answer-quality guard with the real models: dev-split gold items in both languages,
probe items included, through the full chain; a regression in selection, phrasing or
verification fails CI here, per question."""

from __future__ import annotations

import shutil

import pytest

from core.settings import LLMSettings, Settings
from eval import metrics
from eval.gold import Evidence, GoldItem, default_gold_files, load_gold
from eval.run import Row, run_answers
from ingest.pipeline import ingest
from oncoqa.wiring import build_answerer
from tests.conftest import CORPUS, models_dir

# The first test pays for the module fixture: a dozen answers, a few minutes on 2 quiet cores.
pytestmark = [pytest.mark.real_embedding, pytest.mark.real_llm, pytest.mark.slow,
              pytest.mark.timeout(2400)]

GGUF = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
# Dev-split items only (the test split is for the report, never for tuning or guarding).
GUARD = ("en-009", "en-025", "zh-006", "zh-007", "pr-001", "pr-008", "pr-012", "pr-023",
         "pr-024", "mt-001", "mt-028", "un-001", "un-004")


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory, e5_embeddings) -> dict[str, Row]:
    root = tmp_path_factory.mktemp("guard")
    shutil.copytree(CORPUS, root / "corpus")
    settings = Settings(data_dir=root / "data", corpus_dir=root / "corpus",
                        llm=LLMSettings(backend="local", model_path=models_dir() / GGUF))
    ingest(settings, e5_embeddings)
    items = {i.id: i for i in load_gold(default_gold_files())}
    chosen: list[GoldItem] = [items[i] for i in GUARD]
    assert all(i.split == "dev" for i in chosen)
    answerer = build_answerer(settings, e5_embeddings)
    result = run_answers(chosen, answerer, Evidence(settings.corpus_dir), settings.retrieval.k)
    return {r.id: r for r in result}


def _mean(rows: dict[str, Row], metric: str, language: str | None = None) -> float:
    values = [r.values[metric] for r in rows.values()
              if metric in r.values and (language is None or r.language == language)]
    assert values, metric
    return sum(values) / len(values)


def test_no_answer_states_a_contradicted_claim(rows) -> None:
    bad = {i: r.answer.must_not_found for i, r in rows.items()
           if r.answer and r.answer.must_not_found}
    assert not bad, bad


def test_no_loops_and_no_refusal_of_answerable_questions(rows) -> None:
    loops = [i for i, r in rows.items() if r.values.get(metrics.LOOP)]
    refused = [i for i, r in rows.items() if r.values.get(metrics.FALSE_REFUSAL_RATE)]
    assert not loops, loops
    assert len(refused) <= 1, refused


def test_out_of_scope_questions_are_refused(rows) -> None:
    assert rows["un-001"].answer and rows["un-001"].answer.refused
    assert rows["un-004"].answer and rows["un-004"].answer.refused
    # A near-topic follow-up ("Does the hospital have free parking for patients coming in for
    # treatment?" after a question about chemotherapy before liver surgery) borrows the topic,
    # and with it a confident score: the model's check refuses it.
    follow_up = rows["mt-028"].answer
    assert follow_up and follow_up.refused and follow_up.backend == "judge", follow_up


def test_key_facts_and_language(rows) -> None:
    assert _mean(rows, metrics.KEY_FACT_RECALL) >= 0.5, {
        i: r.answer.facts_missing for i, r in rows.items() if r.answer and r.answer.facts_missing}
    # Measured 0.82 on these items after the fifth session (0.57 before: the verifier's named
    # numbers and acronym hints, and clause-by-clause translation of the direct answer, turned
    # two English quotes into verified Chinese). A Chinese reader still gets the English direct
    # answer when no translation passes the verifier (pr-012). A floor, not the target.
    assert _mean(rows, metrics.BODY_LANGUAGE, "zh") >= 0.7
    assert _mean(rows, metrics.BODY_LANGUAGE, "en") >= 0.98


def test_every_citation_carries_its_source_sentence(rows) -> None:
    for row in rows.values():
        if row.answer is None or row.answer.refused:
            continue
        assert _mean({row.id: row}, metrics.CITATION_RECALL) == 1.0, row.answer.text
