"""Retrieval that scales: each question embedded once, the keyword index persisted at ingest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.settings import AnswerSettings, RetrievalSettings, Settings
from ingest.embeddings import HashEmbeddings, SentenceTransformerEmbeddings, make_embeddings
from ingest.pipeline import ingest
from oncoqa.wiring import build_retriever, make_answerer

ZH_Q = "新辅助化疗结束后多久可以做手术？"  # has glossary terms: searched in English too
EN_Q = "How many weeks after the end of neoadjuvant chemotherapy is surgery usually done?"


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



def test_query_threads_is_a_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert Settings().embedding.query_threads == 1
    monkeypatch.setenv("ONCOQA_EMBEDDING__QUERY_THREADS", "2")
    settings = Settings()
    assert settings.embedding.query_threads == 2
    model = make_embeddings(settings.embedding.model_copy(update={"model": str(tmp_path)}),
                            tmp_path)
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
