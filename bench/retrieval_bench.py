"""Retrieval latency per component (query embedding, dense, BM25, fusion) at growing index sizes."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.corpus_gen import generate
from bench.measure import GoldQuestion, Summary
from core.settings import Settings
from ingest.embeddings import CountingEmbeddings, SentenceTransformerEmbeddings
from ingest.onnx_embeddings import OnnxEmbeddings
from ingest.pipeline import ingest
from qa import retriever as retriever_module
from qa.bm25 import BM25Builder
from qa.retriever import HybridRetriever
from qa.types import Passage

Log = Callable[[str], None]
# The chain's retriever over the existing index of these settings, with this embedder.
RetrieverFor = Callable[[Settings, CountingEmbeddings], HybridRetriever]
COMPONENTS = ("prepare", "embed", "dense", "bm25", "fusion", "other")


class SyntheticPassages(CountingEmbeddings):
    """Questions go through the real model (timed); passages get seeded random unit vectors, so
    large indexes build without hours of embedding."""

    def __init__(self, query_model: CountingEmbeddings) -> None:
        super().__init__()
        self.query_model = query_model
        self.query_seconds = 0.0
        self.dims = len(query_model.embed_query("dimension probe"))

    def _embed(self, texts: list[str], *, query: bool) -> list[list[float]]:
        if not query:
            return [self._unit(text) for text in texts]
        started = time.perf_counter()
        self.query_model.forget_queries()  # time the model, never its memory
        vectors = self.query_model.embed_queries(texts)
        self.query_seconds += time.perf_counter() - started
        return vectors

    def _unit(self, text: str) -> list[float]:
        digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
        seed = int.from_bytes(digest, "little")
        vector = np.random.default_rng(seed).standard_normal(self.dims)
        return (vector / np.linalg.norm(vector)).tolist()


class _Clock:
    """Milliseconds spent in each wrapped callable, per component."""

    def __init__(self) -> None:
        self.ms = dict.fromkeys(COMPONENTS, 0.0)

    def wrap(self, component: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.ms[component] += (time.perf_counter() - started) * 1000

        return timed


class _TimedBM25:
    """The view's BM25 index with a clock around search()."""

    def __init__(self, index: Any, clock: _Clock) -> None:
        self._index = index
        self.search = clock.wrap("bm25", index.search)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)

    def __len__(self) -> int:
        return len(self._index)


@contextmanager
def instrumented(retriever: HybridRetriever) -> Iterator[_Clock]:
    """Clocks around the steps HybridRetriever.search calls (its own code runs unchanged):
    query variants, dense search (minus the query embedding, timed by the embedder), BM25 query
    tokenizing + search, RRF fusion + selection. Restored on exit."""
    clock = _Clock()
    view = retriever.view()
    module_patches = {"tokenize": "bm25", "rrf": "fusion"}
    method_patches = {"query_variants": "prepare", "_dense": "dense", "_select": "fusion"}
    missing = [n for n in module_patches if not hasattr(retriever_module, n)] + [
        n for n in method_patches if not hasattr(retriever, n)]
    if missing:
        raise RuntimeError(f"qa.retriever no longer has {missing}: update bench/retrieval_bench.py")
    saved = {name: getattr(retriever_module, name) for name in module_patches}
    index = view.bm25
    try:
        for name, component in module_patches.items():
            setattr(retriever_module, name, clock.wrap(component, saved[name]))
        for name, component in method_patches.items():
            # An instance attribute shadows the class's method for this one object only.
            object.__setattr__(retriever, name, clock.wrap(component, getattr(retriever, name)))
        view.bm25 = _TimedBM25(index, clock)  # type: ignore[assignment]
        yield clock
    finally:
        for name in module_patches:
            setattr(retriever_module, name, saved[name])
        for name in method_patches:
            retriever.__dict__.pop(name, None)
        view.bm25 = index


def timed_search(retriever: HybridRetriever, question: str,
                 clock: _Clock) -> tuple[list[Passage], float, dict[str, float]]:
    """One search() under `instrumented`: its passages, total ms and per-component ms."""
    embedder = retriever.store.embeddings
    assert isinstance(embedder, SyntheticPassages), "the store needs SyntheticPassages"
    embedder.forget_queries()  # each timed search embeds its question, as a new one would
    clock.ms = dict.fromkeys(COMPONENTS, 0.0)
    embedded_before = embedder.query_seconds
    started = time.perf_counter()
    passages = retriever.search(question)
    total = (time.perf_counter() - started) * 1000
    ms = dict(clock.ms)
    ms["embed"] = (embedder.query_seconds - embedded_before) * 1000
    ms["dense"] = max(0.0, ms["dense"] - ms["embed"])
    ms["other"] = max(0.0, total - sum(ms[name] for name in COMPONENTS if name != "other"))
    return passages, total, ms


@dataclass(frozen=True)
class SizeResult:
    requested_chunks: int
    chunks: int
    documents: int
    build_seconds: float  # generate + ingest with synthetic passage vectors
    snapshot_seconds: float  # first view(): load the keyword index written at ingest
    queries: int
    total: Summary  # HybridRetriever.search, end to end
    components: dict[str, Summary]
    total_by_language: dict[str, Summary]


@dataclass(frozen=True)
class RetrievalResult:
    query_embedding: str
    stored_vectors: str
    sizes: tuple[SizeResult, ...]
    # Query embedding alone (ms) per torch thread count, alternating rounds in one process:
    # on a busy machine the configured count can be far slower than one thread.
    embed_by_threads: dict[str, Summary]


def thread_probe(query_model: CountingEmbeddings, questions: Sequence[GoldQuestion],
                 rounds: int = 2) -> dict[str, Summary]:
    """Question embedding latency with 1 thread and with the passage thread count,
    interleaved."""
    if not isinstance(query_model, SentenceTransformerEmbeddings | OnnxEmbeddings):
        return {}  # no thread setting
    configured = query_model.query_threads
    times: dict[str, list[float]] = {}
    try:
        for _ in range(rounds):
            for threads in sorted({1, query_model.threads}):
                query_model.query_threads = threads
                for question in questions:
                    query_model.forget_queries()
                    started = time.perf_counter()
                    query_model.embed_query(question.question)
                    times.setdefault(str(threads), []).append(
                        (time.perf_counter() - started) * 1000)
    finally:
        query_model.query_threads = configured
    return {threads: Summary.of(values) for threads, values in times.items()}


def measure_size(settings: Settings, query_model: CountingEmbeddings, retriever_for: RetrieverFor,
                 workdir: Path, size: int, questions: Sequence[GoldQuestion], *,
                 chunks_per_doc: int = 50, seed: int = 0, log: Log | None = None) -> SizeResult:
    say = log or (lambda message: None)
    started = time.perf_counter()
    corpus = generate(workdir / "corpus", size, chunk=settings.chunk,
                      chunks_per_doc=chunks_per_doc, seed=seed)
    local = settings.model_copy(update={
        "data_dir": workdir / "data", "corpus_dir": corpus.directory,
        "store": settings.store.model_copy(update={"host": None})})
    embedder = SyntheticPassages(query_model)
    report = ingest(local, embedder, corpus.directory, keywords=BM25Builder())
    build = time.perf_counter() - started
    retriever = retriever_for(local, embedder)
    started = time.perf_counter()
    retriever.view()
    snapshot = time.perf_counter() - started
    say(f"retrieval {size}: index of {report.chunks_added} chunks built in {build:.1f} s, "
        f"keyword index loaded in {snapshot:.1f} s")
    totals: list[float] = []
    parts: dict[str, list[float]] = {name: [] for name in COMPONENTS}
    by_lang: dict[str, list[float]] = {}
    with instrumented(retriever) as clock:
        for question in questions[:3]:  # warm caches and lazy loads, untimed
            timed_search(retriever, question.question, clock)
        for question in questions:
            _, total, ms = timed_search(retriever, question.question, clock)
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
    )


def run_retrieval(settings: Settings, query_model: CountingEmbeddings,
                  retriever_for: RetrieverFor, workdir: Path, sizes: Sequence[int],
                  questions: Sequence[GoldQuestion], *, seed: int = 0,
                  log: Log | None = None) -> RetrievalResult:
    query_model.warm_up()
    results = tuple(
        measure_size(settings, query_model, retriever_for, workdir / f"size-{size}", size,
                     questions, seed=seed, log=log)
        for size in sizes
    )
    name = getattr(query_model, "model_name", "")
    return RetrievalResult(
        query_embedding=f"{type(query_model).__name__} {Path(name).name}".strip(),
        stored_vectors="seeded random unit vectors (synthetic), real texts for BM25",
        sizes=results,
        embed_by_threads=thread_probe(query_model, questions),
    )
