"""Wiring in one place: build the components a command needs from one Settings object."""

from __future__ import annotations

from typing import Any

from ingest.embeddings import CountingEmbeddings, make_embeddings
from ingest.store import ChunkStore, Registry, open_client
from core.settings import Settings


def build_embeddings(settings: Settings) -> CountingEmbeddings:
    return make_embeddings(settings.embedding, settings.models_dir)


def open_index(
    settings: Settings, embeddings: CountingEmbeddings
) -> tuple[ChunkStore, Registry]:
    """The existing index for reading; raises NoIndexError when there is none yet."""
    client = open_client(settings, create=False)
    return (
        ChunkStore(client, settings.store.collection, embeddings),
        Registry(client, settings.store.collection),
    )


def index_status(settings: Settings) -> dict[str, Any]:
    from ingest.embeddings import HashEmbeddings

    # Counting needs no model: a stand-in embedder keeps `status` instant.
    store, registry = open_index(settings, HashEmbeddings())
    records = registry.all()
    location = (
        f"chroma server {settings.store.host}:{settings.store.port}"
        if settings.store.host
        else str(settings.chroma_dir)
    )
    return {
        "location": location,
        "collection": settings.store.collection,
        "documents": len(records),
        "chunks": sum(r.chunks for r in records.values()),
        "stored_chunks": store.collection.count(),
        "sources": [
            {"source": r.source, "title": r.title, "languages": list(r.languages),
             "chunks": r.chunks}
            for r in sorted(records.values(), key=lambda r: r.source)
        ],
    }


def build_answerer(settings: Settings, embeddings: CountingEmbeddings | None = None) -> Any:
    """The full answer chain over the existing index, with the configured LLM backend."""
    from qa.llm import make_llm
    from qa.retriever import HybridRetriever

    store, registry = open_index(settings, embeddings or build_embeddings(settings))
    llm = make_llm(settings)
    translator = None
    if llm is not None and settings.retrieval.translate:
        from qa.translate import llm_translator

        translator = llm_translator(llm)
    retriever = HybridRetriever(store=store, registry=registry, config=settings.retrieval,
                                k=settings.retrieval.k, translator=translator)
    return make_answerer(retriever, llm, settings)


def make_answerer(retriever: Any, llm: Any, settings: Settings) -> Any:
    """The configured answer design over a retriever and a generator (None: extractive)."""
    from qa.chain import Answerer
    from qa.compose import ComposeAnswerer
    from qa.phrase import Phraser
    from qa.select import SentenceSelector

    if settings.answer.design == "compose":
        return ComposeAnswerer(retriever, llm, settings)
    selector = SentenceSelector(retriever.store.embeddings, idf=lambda: retriever.view().bm25.idf)
    phraser = Phraser(llm, similarity=selector.similarity, simplify=settings.answer.simplify)
    return Answerer(retriever, llm, settings, selector=selector, phraser=phraser)
