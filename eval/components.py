"""Settings variants for an evaluation run and the retriever/answerer built from them."""

from __future__ import annotations

from typing import Any, Literal

from ingest.embeddings import CountingEmbeddings
from core.settings import Settings
from oncoqa.wiring import build_embeddings, open_index
from qa.retriever import HybridRetriever

RetrieverKind = Literal["hybrid", "dense", "bm25"]


def configure(settings: Settings, *, retriever: RetrieverKind = "hybrid",
              glossary: bool | None = None, translate: bool | None = None,
              llm: str | None = None, k: int | None = None) -> Settings:
    """A copy of settings with the evaluation's overrides (dense = BM25 weight 0 and so on)."""
    update: dict[str, Any] = {}
    if retriever == "dense":
        update["bm25_weight"] = 0.0
    elif retriever == "bm25":
        update["dense_weight"] = 0.0
    if glossary is not None:
        update["glossary"] = glossary
    if translate is not None:
        update["translate"] = translate
    if k is not None:
        update["k"] = k
    changes: dict[str, Any] = {"retrieval": settings.retrieval.model_copy(update=update)}
    if llm is not None:
        changes["llm"] = settings.llm.model_copy(update={"backend": llm})
    return settings.model_copy(update=changes)


def retriever_kind(settings: Settings) -> str:
    r = settings.retrieval
    if r.bm25_weight == 0:
        return "dense"
    return "bm25" if r.dense_weight == 0 else "hybrid"


def llm_available(settings: Settings) -> bool:
    """Whether the configured generator can run here (the local model needs its GGUF file)."""
    backend = settings.llm.backend
    return backend == "openai" or (backend == "local" and settings.gguf_path.exists())


def open_retriever(settings: Settings,
                   embeddings: CountingEmbeddings | None = None) -> HybridRetriever:
    """The hybrid retriever over the existing index, as the chain builds it (with an LLM
    translator only when retrieval.translate is on and a generator is available)."""
    store, registry = open_index(settings, embeddings or build_embeddings(settings))
    translator = None
    if settings.retrieval.translate and llm_available(settings):
        from qa.llm import make_llm
        from qa.translate import llm_translator

        llm = make_llm(settings)
        translator = llm_translator(llm) if llm is not None else None
    return HybridRetriever(store=store, registry=registry, config=settings.retrieval,
                           k=settings.retrieval.k, translator=translator)


def describe(settings: Settings, mode: str) -> dict[str, Any]:
    """The run configuration recorded in results.json."""
    r = settings.retrieval
    config: dict[str, Any] = {
        "mode": mode, "retriever": retriever_kind(settings), "k": r.k, "fetch_k": r.fetch_k,
        "dense_weight": r.dense_weight, "bm25_weight": r.bm25_weight, "glossary": r.glossary,
        "translate": r.translate, "embedding": f"{settings.embedding.backend}:"
        f"{settings.embedding.model}",
        "chunk_tokens": settings.chunk.max_tokens,
    }
    if mode == "answer":
        config["llm"] = settings.llm.backend
    return config
