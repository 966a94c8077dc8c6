"""Retrieval latency per component (query embedding, dense, BM25, fusion) at growing index sizes."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.corpus_gen import generate
from bench.measure import GoldQuestion, Summary
from ingest.embeddings import CountingEmbeddings
from ingest.pipeline import ingest
from oncoqa.settings import Settings
from oncoqa.wiring import open_index
from qa import glossary
from qa.bm25 import tokenize
from qa.fusion import rrf
from qa.retriever import HybridRetriever
from qa.types import Passage

Log = Callable[[str], None]
COMPONENTS = ("prepare", "embed", "dense", "bm25", "fusion")


class SyntheticPassages(CountingEmbeddings):
    """Questions go through the real model (timed); passages get seeded random unit vectors, so
    large indexes build without hours of embedding."""

    def __init__(self, query_model: CountingEmbeddings) -> None:
        super().__init__()
        self.query_model = query_model
        self.query_seconds = 0.0
        self.dims = len(query_model.embed_query("dimension probe"))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded_passages += len(texts)
        return [self._unit(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        started = time.perf_counter()
        vector = self.query_model.embed_query(text)
        self.query_seconds += time.perf_counter() - started
        self.embedded_queries += 1
        return vector

    def _unit(self, text: str) -> list[float]:
        digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
        seed = int.from_bytes(digest, "little")
        vector = np.random.default_rng(seed).standard_normal(self.dims)
        return (vector / np.linalg.norm(vector)).tolist()


def timed_search(retriever: HybridRetriever,
                 question: str) -> tuple[list[Passage], dict[str, float]]:
    """HybridRetriever.search step by step with a clock around each step (milliseconds). It calls
    the retriever's own methods in the same order; results are checked against search()."""
    embedder = retriever.store.embeddings
    assert isinstance(embedder, SyntheticPassages)
    config = retriever.config
    view = retriever.view()
    t0 = time.perf_counter()
    queries = retriever.query_variants(question)
    embedded_before = embedder.query_seconds
    t1 = time.perf_counter()
    dense_scores: dict[str, float] = {}
    per_query = config.dense_weight / len(queries)
    rankings = [retriever._dense(view, text, dense_scores) for text in queries]
    weights = [per_query] * len(queries)
    t2 = time.perf_counter()
    embed = embedder.query_seconds - embedded_before
    terms = tokenize(" ".join(queries))
    if config.glossary:
        terms += [t for _, forms in glossary.concepts(question) for f in forms for t in tokenize(f)]
    hits = view.bm25.search(terms, config.fetch_k)
    t3 = time.perf_counter()
    rankings.append([doc_id for doc_id, _, _ in hits])
    weights.append(config.bm25_weight)
    keyword = {doc_id: (score, matched) for doc_id, score, matched in hits}
    fused = rrf(rankings, weights, k=config.rrf_k)
    passages = retriever._select(view, fused, dense_scores, keyword, retriever.k)
    t4 = time.perf_counter()
    ms = {"prepare": t1 - t0, "embed": embed, "dense": t2 - t1 - embed, "bm25": t3 - t2,
          "fusion": t4 - t3}
    return passages, {name: value * 1000 for name, value in ms.items()}


@dataclass(frozen=True)
class SizeResult:
    requested_chunks: int
    chunks: int
    documents: int
    build_seconds: float  # generate + ingest with synthetic passage vectors
    snapshot_seconds: float  # first view(): load every chunk and build BM25
    queries: int
    total: Summary  # HybridRetriever.search, end to end
    components: dict[str, Summary]
    total_by_language: dict[str, Summary]
    mismatches: int  # questions where the timed steps disagreed with search()


@dataclass(frozen=True)
class RetrievalResult:
    query_embedding: str
    stored_vectors: str
    sizes: tuple[SizeResult, ...]


def measure_size(settings: Settings, query_model: CountingEmbeddings, workdir: Path, size: int,
                 questions: Sequence[GoldQuestion], *, chunks_per_doc: int = 50, seed: int = 0,
                 log: Log | None = None) -> SizeResult:
    say = log or (lambda message: None)
    started = time.perf_counter()
    corpus = generate(workdir / "corpus", size, chunk=settings.chunk,
                      chunks_per_doc=chunks_per_doc, seed=seed)
    local = settings.model_copy(update={
        "data_dir": workdir / "data", "corpus_dir": corpus.directory,
        "store": settings.store.model_copy(update={"host": None})})
    embedder = SyntheticPassages(query_model)
    report = ingest(local, embedder, corpus.directory)
    build = time.perf_counter() - started
    store, registry = open_index(local, embedder)
    retriever = HybridRetriever(store=store, registry=registry, config=local.retrieval,
                                k=local.retrieval.k)
    started = time.perf_counter()
    retriever.view()
    snapshot = time.perf_counter() - started
    say(f"retrieval {size}: index of {report.chunks_added} chunks built in {build:.1f} s, "
        f"snapshot {snapshot:.1f} s")
    for question in questions[:3]:  # warm caches and lazy loads, untimed
        retriever.search(question.question)
        timed_search(retriever, question.question)
    totals: list[float] = []
    parts: dict[str, list[float]] = {name: [] for name in COMPONENTS}
    by_lang: dict[str, list[float]] = {}
    mismatches = 0
    for question in questions:
        t0 = time.perf_counter()
        expected = retriever.search(question.question)
        total = (time.perf_counter() - t0) * 1000
        got, ms = timed_search(retriever, question.question)
        mismatches += [p.id for p in got] != [p.id for p in expected]
        totals.append(total)
        by_lang.setdefault(question.language, []).append(total)
        for name in COMPONENTS:
            parts[name].append(ms[name])
    return SizeResult(
        requested_chunks=size, chunks=report.chunks_added, documents=corpus.documents,
        build_seconds=round(build, 2), snapshot_seconds=round(snapshot, 2),
        queries=len(questions), total=Summary.of(totals),
        components={name: Summary.of(values) for name, values in parts.items()},
        total_by_language={lang: Summary.of(values) for lang, values in by_lang.items()},
        mismatches=mismatches,
    )


def run_retrieval(settings: Settings, query_model: CountingEmbeddings, workdir: Path,
                  sizes: Sequence[int], questions: Sequence[GoldQuestion], *, seed: int = 0,
                  log: Log | None = None) -> RetrievalResult:
    query_model.warm_up()
    results = tuple(
        measure_size(settings, query_model, workdir / f"size-{size}", size, questions,
                     seed=seed, log=log)
        for size in sizes
    )
    name = getattr(query_model, "model_name", "")
    return RetrievalResult(
        query_embedding=f"{type(query_model).__name__} {Path(name).name}".strip(),
        stored_vectors="seeded random unit vectors (synthetic), real texts for BM25",
        sizes=results,
    )
