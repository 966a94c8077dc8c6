"""Retrieval that scales: each question embedded once, the keyword index persisted at ingest."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.settings import AnswerSettings, RetrievalSettings, Settings
from core.text import language_of
from eval.gold import default_gold_files, load_gold
from ingest import keywords
from ingest.embeddings import HashEmbeddings, SentenceTransformerEmbeddings, make_embeddings
from ingest.pipeline import ingest
from oncoqa.wiring import build_retriever, keyword_builder, make_answerer, open_index
from qa.bm25 import BM25Builder, tokenize
from tests.conftest import ROOT

ZH_Q = "新辅助化疗结束后多久可以做手术？"  # has glossary terms: searched in English too
EN_Q = "How many weeks after the end of neoadjuvant chemotherapy is surgery usually done?"
NEOADJUVANT = "000_61149c4b2133eace.txt"
INVENTED = ("Quorvexin treatment notes\nQuorvexin is a drug that exists only in this test. "
            "Patients on quorvexin drink two cups of warm cranberry tea every morning.\n")
INVENTED_Q = "How many cups of cranberry tea do quorvexin patients drink?"


@pytest.fixture
def hash_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={
        "retrieval": RetrievalSettings(min_score=0.2, min_score_zh=0.2, k=6),
        "answer": AnswerSettings(min_sentence_score=0.0),
    })


@pytest.mark.parametrize("question", [ZH_Q, EN_Q])
def test_a_question_is_embedded_once(hash_settings: Settings, question: str) -> None:
    embeddings = HashEmbeddings()
    ingest(hash_settings, embeddings)
    retriever = build_retriever(hash_settings, embeddings)
    answerer = make_answerer(retriever, None, hash_settings)
    variants = retriever.query_variants(question)
    assert len(variants) == (2 if question == ZH_Q else 1)
    calls, queries = embeddings.query_calls, embeddings.embedded_queries
    answer = answerer.answer(question)
    assert answer.retrieved
    # Retrieval embeds the question and its English glossary terms together, and the answer
    # step's sentence ranking reuses the question's vector.
    assert embeddings.query_calls - calls == 1
    assert embeddings.embedded_queries - queries == len(variants)


def test_remembered_question_vectors_are_the_model_vectors() -> None:
    embeddings = HashEmbeddings()
    first = embeddings.embed_queries(["化疗 多久", "chemotherapy"])
    assert embeddings.embed_query("化疗 多久") == first[0]
    assert embeddings.embedded_queries == 2 and embeddings.query_calls == 1
    embeddings.forget_queries()
    assert embeddings.embed_query("化疗 多久") == HashEmbeddings().embed_query("化疗 多久")
    assert embeddings.embedded_queries == 3


# --- the keyword index, written at ingest ------------------------------------------------


def _ingest(settings: Settings, **kwargs: object) -> None:
    ingest(settings, HashEmbeddings(), keywords=keyword_builder(), **kwargs)  # type: ignore[arg-type]


def _stamp(settings: Settings) -> dict[str, object]:
    registry = open_index(settings, HashEmbeddings())[1]
    folder = keywords.find(keywords.keyword_root(settings), registry.version(),
                           BM25Builder().fingerprint)
    assert folder is not None, "no keyword index for the current version"
    return json.loads((folder / keywords.STAMP).read_text(encoding="utf-8"))


def test_the_keyword_index_is_written_at_ingest_and_loaded(
        hash_settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    _ingest(hash_settings)
    stamp = _stamp(hash_settings)
    retriever = build_retriever(hash_settings, HashEmbeddings())
    with caplog.at_level(logging.WARNING):
        assert retriever.search(EN_Q)
    assert "Rebuilding the keyword index" not in caplog.text
    assert isinstance(retriever.view().bm25._docs, np.memmap)  # mapped, not rebuilt
    assert _stamp(hash_settings) == stamp
    # Unchanged corpus: same version, the index is not written again.
    _ingest(hash_settings)
    assert _stamp(hash_settings) == stamp


def test_an_ingest_that_changes_the_corpus_writes_the_new_version(
        hash_settings: Settings, corpus: Path) -> None:
    _ingest(hash_settings)
    retriever = build_retriever(hash_settings, HashEmbeddings())
    assert retriever.search(INVENTED_Q)[0].source != "951_invented.txt"
    old = _stamp(hash_settings)
    (corpus / "951_invented.txt").write_text(INVENTED, encoding="utf-8")
    _ingest(hash_settings)
    new = _stamp(hash_settings)
    assert new["version"] != old["version"]
    assert [f.name for f in keywords.keyword_root(hash_settings).iterdir()] == [
        f"v{new['version']}"]  # the old version's folder is gone
    assert retriever.search(INVENTED_Q)[0].source == "951_invented.txt"


@pytest.mark.parametrize("damage", ["missing", "other tokenizer", "ingested without it"])
def test_a_missing_or_stale_keyword_index_is_rebuilt_with_a_message(
        hash_settings: Settings, caplog: pytest.LogCaptureFixture, damage: str) -> None:
    root = keywords.keyword_root(hash_settings)
    if damage == "ingested without it":
        ingest(hash_settings, HashEmbeddings())
    else:
        _ingest(hash_settings)
        if damage == "missing":
            shutil.rmtree(root)
        else:
            (folder,) = root.iterdir()
            stamp = json.loads((folder / keywords.STAMP).read_text(encoding="utf-8"))
            (folder / keywords.STAMP).write_text(json.dumps(stamp | {"tokenizer": "old"}))
    retriever = build_retriever(hash_settings, HashEmbeddings())
    with caplog.at_level(logging.WARNING):
        passages = retriever.search(EN_Q)
    assert "Rebuilding the keyword index" in caplog.text
    assert passages[0].source == NEOADJUVANT
    assert _stamp(hash_settings)["tokenizer"] == BM25Builder().fingerprint  # saved for others
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        build_retriever(hash_settings, HashEmbeddings()).search(EN_Q)
    assert "Rebuilding" not in caplog.text


def test_a_second_process_loads_the_index_without_rebuilding(hash_settings: Settings) -> None:
    _ingest(hash_settings)
    stamp = _stamp(hash_settings)
    script = f"""
import logging, sys
from core.settings import Settings, EmbeddingSettings
from ingest.embeddings import HashEmbeddings
from oncoqa.wiring import build_retriever
from qa import bm25

def refuse(*args, **kwargs):
    raise SystemExit("the keyword index was rebuilt")

bm25.BM25Index.__init__ = refuse
logging.basicConfig(level=logging.WARNING)
settings = Settings(data_dir={str(hash_settings.data_dir)!r},
                    embedding=EmbeddingSettings(backend="hash"))
passages = build_retriever(settings, HashEmbeddings()).search({EN_Q!r})
print(passages[0].source)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == NEOADJUVANT
    assert "Rebuilding" not in done.stderr
    assert _stamp(hash_settings) == stamp


def test_results_equal_the_in_memory_index(hash_settings: Settings) -> None:
    """The persisted index ranks exactly as the snapshot rebuilt in every process did."""
    _ingest(hash_settings)
    embeddings = HashEmbeddings()
    persisted = build_retriever(hash_settings, embeddings)
    assert persisted.keyword_dir is not None
    in_memory = persisted.model_copy(update={"keyword_dir": None})
    loaded, built = persisted.view().bm25, in_memory.view().bm25
    assert isinstance(loaded._docs, np.memmap) and not isinstance(built._docs, np.memmap)
    questions = [item.question for item in load_gold(default_gold_files())]
    assert len(questions) > 20 and any(language_of(q) == "zh" for q in questions)
    for question in questions:
        terms = tokenize(question)
        assert loaded.search(terms, 20) == built.search(terms, 20), question
        assert [loaded.idf(t) for t in terms] == [built.idf(t) for t in terms]
        assert persisted.search(question) == in_memory.search(question), question


def test_query_threads_is_a_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert Settings().embedding.query_threads == 1
    monkeypatch.setenv("ONCOQA_EMBEDDING__QUERY_THREADS", "2")
    settings = Settings()
    assert settings.embedding.query_threads == 2
    model = make_embeddings(settings.embedding.model_copy(
        update={"model": str(tmp_path), "backend": "sentence-transformers"}), tmp_path)
    assert isinstance(model, SentenceTransformerEmbeddings)  # built lazily: nothing loaded
    assert (model.threads, model.query_threads) == (settings.embedding.threads, 2)


@pytest.mark.real_embedding
def test_questions_and_passages_use_their_own_thread_counts(
        e5_embeddings: SentenceTransformerEmbeddings) -> None:
    import torch

    configured = e5_embeddings.query_threads
    try:
        e5_embeddings.query_threads = 1
        e5_embeddings.forget_queries()
        single = e5_embeddings.embed_query("化疗后多久可以手术？")
        assert torch.get_num_threads() == 1
        e5_embeddings.embed_documents(["passage"])
        assert torch.get_num_threads() == e5_embeddings.threads
        # One thread changes the time, not the vector; nor does embedding variants together.
        e5_embeddings.forget_queries()
        both = e5_embeddings.embed_queries(["化疗后多久可以手术？", "chemotherapy surgery"])
        assert float(np.dot(single, both[0])) > 0.9999
    finally:
        e5_embeddings.query_threads = configured
