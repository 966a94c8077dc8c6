"""The composition root: the only place stores, retrievers, LLMs and answerers are built."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from core.errors import NoIndexError, OncoQAError
from core.settings import Settings
from core.text import Lang

if TYPE_CHECKING:  # the heavy libraries load when something is built, not at import
    from langchain_core.language_models import BaseChatModel

    from bench.parts import BenchParts
    from eval.components import Builders
    from ingest.embeddings import CountingEmbeddings
    from ingest.keywords import KeywordBuilder
    from ingest.store import ChunkStore, Registry
    from qa.retriever import HybridRetriever

log = logging.getLogger(__name__)


def build_embeddings(settings: Settings) -> CountingEmbeddings:
    from ingest.embeddings import make_embeddings

    return make_embeddings(settings.embedding, settings.models_dir)


def keyword_builder() -> KeywordBuilder:
    """What ingest builds the persistent keyword index with (the retriever's own tokenizer)."""
    from qa.bm25 import BM25Builder

    return BM25Builder()


def open_index(
    settings: Settings, embeddings: CountingEmbeddings
) -> tuple[ChunkStore, Registry]:
    """The existing index for reading; raises NoIndexError when there is none yet."""
    from ingest.store import ChunkStore, Registry, open_client

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


def ensure_index(settings: Settings) -> str | None:
    """Builds the index from settings.corpus_dir when there is none; the problem, if any."""
    from ingest.pipeline import ingest

    embeddings = build_embeddings(settings)
    try:
        if index_status(settings)["documents"]:
            stale = embedding_mismatch(settings, embeddings)
            if not stale:
                return None
            log.warning("Re-embedding the index (same as `oncoqa ingest`): %s", stale)
    except NoIndexError:
        log.warning("No index yet: building it from %s (same as `oncoqa ingest`)",
                    settings.corpus_dir)
    try:
        report = ingest(settings, embeddings, keywords=keyword_builder())
    except OncoQAError as exc:
        log.error("Could not build the index: %s. Run `oncoqa ingest` and reload the page.",
                  exc.friendly())
        return exc.friendly()
    log.info("Indexed %d documents in %.1f s", len(report.documents), report.seconds)
    return None


def embedding_mismatch(settings: Settings, embeddings: CountingEmbeddings) -> str | None:
    """Why the existing index's vectors do not fit this embedder (None: they do)."""
    from ingest.identity import mismatch

    store, registry = open_index(settings, embeddings)
    return mismatch(registry.embedding(), embeddings.identity, store.collection.count())


def build_retriever(settings: Settings, embeddings: CountingEmbeddings | None = None, *,
                    llm: BaseChatModel | None = None) -> HybridRetriever:
    """The hybrid retriever over the existing index: the one place it is constructed. With an
    LLM and retrieval.translate on, questions are also searched through its translation."""
    from ingest.identity import mismatch
    from ingest.keywords import keyword_root
    from qa.retriever import HybridRetriever

    embeddings = embeddings or build_embeddings(settings)
    store, registry = open_index(settings, embeddings)
    stale = mismatch(registry.embedding(), embeddings.identity, store.collection.count())
    if stale:
        log.warning("Questions and the index are embedded differently, so retrieval is "
                    "unreliable: %s. Run `oncoqa ingest` to rebuild the index.", stale)
    translator = None
    if llm is not None and settings.retrieval.translate:
        from qa.translate import QuestionTranslator

        translator = QuestionTranslator(llm)
    return HybridRetriever(store=store, registry=registry, config=settings.retrieval,
                           k=settings.retrieval.k, translator=translator,
                           keyword_dir=keyword_root(settings))


def llm_available(settings: Settings) -> bool:
    """Whether the configured generator can run here (the local model needs its GGUF file)."""
    backend = settings.llm.backend
    return backend == "openai" or (backend == "local" and settings.gguf_path.exists())


def measured_retriever(settings: Settings,
                       embeddings: CountingEmbeddings | None = None) -> HybridRetriever:
    """The retriever an evaluation measures: as the chain builds it, with an LLM translator only
    when retrieval.translate is on and a generator is available here."""
    llm = None
    if settings.retrieval.translate and llm_available(settings):
        from qa.llm import make_llm

        llm = make_llm(settings)
    return build_retriever(settings, embeddings, llm=llm)


def build_answerer(settings: Settings, embeddings: CountingEmbeddings | None = None, *,
                   wrap_llm: Callable[[BaseChatModel], BaseChatModel] | None = None) -> Any:
    """The full answer chain over the existing index, with the configured LLM backend (passed
    through wrap_llm first, e.g. by the benchmark to record every call)."""
    from qa.llm import make_llm

    llm = make_llm(settings)
    if llm is not None and wrap_llm is not None:
        llm = wrap_llm(llm)
    return make_answerer(build_retriever(settings, embeddings, llm=llm), llm, settings)


def build_answerers(settings: Settings, designs: Sequence[str],
                    embeddings: CountingEmbeddings | None = None) -> dict[str, Any]:
    """One answerer per answer design, sharing one retriever and one LLM (side-by-side eval)."""
    from qa.llm import make_llm

    llm = make_llm(settings)
    retriever = build_retriever(settings, embeddings, llm=llm)
    return {design: make_answerer(retriever, llm, with_design(settings, design))
            for design in designs}


def with_design(settings: Settings, design: str) -> Settings:
    """A copy of settings with answer.design set (validated: an unknown design raises)."""
    answer = settings.answer.model_validate(settings.answer.model_dump() | {"design": design})
    return settings.model_copy(update={"answer": answer})


def make_answerer(retriever: Any, llm: Any, settings: Settings) -> Any:
    """The configured answer design over a retriever and a generator (None: extractive), behind
    the language front (other languages refused, Traditional Chinese answered in Traditional)."""
    from qa.chain import Answerer
    from qa.compose import ComposeAnswerer
    from qa.judge import Judge
    from qa.languages import LanguageFront
    from qa.phrase import Phraser
    from qa.select import SentenceSelector

    if settings.answer.design == "compose":
        return LanguageFront(ComposeAnswerer(retriever, llm, settings))
    embeddings = retriever.store.embeddings
    selector = SentenceSelector(embeddings, idf=lambda: retriever.view().bm25.idf)
    phraser = Phraser(llm, similarity=selector.similarity, simplify=settings.answer.simplify,
                      memory=phrase_memory(settings) if llm is not None else None)
    judge = Judge(llm) if llm is not None else None
    # the retriever's translator, when it has one: a Chinese question is rendered in English once
    translator = getattr(retriever, "translator", None)
    return LanguageFront(Answerer(retriever, llm, settings, selector=selector, phraser=phraser,
                                  neighbours=override_neighbours(embeddings, settings),
                                  judge=judge, translator=translator))


def phrase_memory(settings: Settings) -> Any:
    """The on-disk memory of verified phrasings for the configured model (None: turned off)."""
    from qa.memory import PhraseMemory

    if not settings.answer.phrase_memory:
        return None
    llm = settings.llm
    if llm.backend == "local":
        path = settings.gguf_path
        size = path.stat().st_size if path.exists() else 0
        model = f"local:{path.name}:{size}"
    else:
        model = f"{llm.backend}:{llm.base_url}:{llm.model}"
    return PhraseMemory(settings.phrase_memory_path, model)


def pretranslation(answerer: Any, targets: Sequence[Lang] | None = None) -> Any:
    """(phraser, work) to translate ahead for an answerer make_answerer built (qa.pretranslate):
    every document title and prose sentence of the live index, for each target language it is
    not in; None when there is nothing to do (no model, no phrase memory, or the compose
    design)."""
    from qa import pretranslate

    inner = getattr(answerer, "inner", answerer)
    phraser = getattr(inner, "phraser", None)
    if phraser is None or phraser.llm is None or phraser.memory is None:
        return None
    work = pretranslate.plan(inner.retriever.live_texts(), tuple(targets or pretranslate.LANGS),
                             titles=inner.retriever.live_titles())
    return phraser, work


def index_version(answerer: Any) -> str:
    """The index version an answerer make_answerer built reads (it changes with each ingest)."""
    inner = getattr(answerer, "inner", answerer)
    return str(inner.retriever.view().version)


def override_neighbours(embeddings: Any, settings: Settings) -> Any:
    """The e5 second layer of the override check (its margin is calibrated for e5, whichever
    runtime runs it; not for the hash embedder of tests)."""
    from qa.override import Neighbours

    margin = settings.answer.override_margin
    if settings.embedding.backend == "hash" or margin < 0:  # any e5 runtime, not the fake
        return None
    batch = getattr(embeddings, "embed_queries", None) or (
        lambda texts: [embeddings.embed_query(t) for t in texts])
    return Neighbours(batch, margin=margin)


def eval_builders() -> Builders:
    """What `oncoqa eval` and `oncoqa eval-ablation` measure, built here and handed in."""
    from eval.components import Builders

    return Builders(embeddings=build_embeddings, retriever=measured_retriever,
                    answerers=build_answerers, llm_available=llm_available)


def bench_parts() -> BenchParts:
    """What `oncoqa bench` measures, and how it starts a stage or the app in a child process."""
    import sys

    from bench.parts import BenchParts

    return BenchParts(
        embeddings=build_embeddings, index=open_index, retriever=build_retriever,
        answerer=lambda settings, wrap: build_answerer(settings, wrap_llm=wrap),
        stage_command=(sys.executable, "-m", "oncoqa.bench_stage"),
        app_command=(sys.executable, "-m", "oncoqa.cli", "ui"),
        stack_command=(sys.executable, "-m", "oncoqa.cli", "serve-stack"),
    )
