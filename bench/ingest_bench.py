"""Ingestion throughput: end-to-end ingest against the same batches through the model alone."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.corpus_gen import GeneratedCorpus, generate
from bench.measure import peak_rss_mb
from core.settings import Settings
from ingest.chunk import chunk_text
from ingest.clean import clean
from ingest.embeddings import CountingEmbeddings
from ingest.load import SourceText, discover, load_file
from ingest.pipeline import ingest
from ingest.store import ChunkStore, Registry
from qa.bm25 import BM25Builder

Log = Callable[[str], None]
OpenIndex = Callable[[Settings, CountingEmbeddings], tuple[ChunkStore, Registry]]


class RecordingEmbeddings(CountingEmbeddings):
    """Passes through to a real embedder, keeping every passage batch and the time it took."""

    def __init__(self, inner: CountingEmbeddings) -> None:
        super().__init__()
        self.inner = inner
        self.batches: list[list[str]] = []
        self.seconds = 0.0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.batches.append(list(texts))
        started = time.perf_counter()
        vectors = self.inner.embed_documents(texts)
        self.seconds += time.perf_counter() - started
        self.embedded_passages += len(texts)
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


@dataclass(frozen=True)
class IngestResult:
    corpus: GeneratedCorpus
    embedding: str
    model_load_seconds: float
    chunks: int
    ingest_seconds: float
    ingest_chunks_per_second: float
    model_seconds_in_ingest: float  # embed_documents time inside the ingest run
    model_only_seconds: float  # the same batches through the model alone, afterwards
    model_only_chunks_per_second: float
    overhead_ratio: float  # ingest_seconds / model_only_seconds
    prepare_seconds: float  # read + clean + chunk every document, measured on its own
    registry_commit_ms: float  # one document record write, measured on the built index
    reingest_seconds: float
    reingest_embedded: int
    reingest_ratio: float  # reingest_seconds / ingest_seconds
    peak_rss_mb: float  # this process's peak right after the first ingest (model loaded)
    # The same batches through the model alone in passage batches of another size (the old
    # default), each recorded batch timed with both, one after the other: 0 when not compared.
    batch_size: int = 0
    baseline_batch_size: int = 0
    baseline_model_only_seconds: float = 0.0
    baseline_model_only_chunks_per_second: float = 0.0


def prepare_seconds(corpus_dir: Path, settings: Settings) -> float:
    """Time to read, clean and chunk every document: what ingest does before any embedding."""
    started = time.perf_counter()
    for path in discover(corpus_dir):
        loaded = load_file(path, corpus_dir)
        if isinstance(loaded, SourceText):
            chunk_text(loaded.text, clean(loaded.text).kept, max_tokens=settings.chunk.max_tokens,
                       overlap_tokens=settings.chunk.overlap_tokens)
    return time.perf_counter() - started


def registry_commit_ms(registry: Registry, samples: int = 20) -> float:
    """Mean time of one registry commit (rewriting existing records unchanged)."""
    records = list(registry.all().values())[:samples]
    if not records:
        return 0.0
    started = time.perf_counter()
    for record in records:
        registry.commit(record)
    return (time.perf_counter() - started) * 1000 / len(records)


def run_ingest(settings: Settings, embeddings: CountingEmbeddings, open_index: OpenIndex,
               workdir: Path, chunks: int, *, chunks_per_doc: int = 12, seed: int = 0,
               baseline: tuple[int, CountingEmbeddings] | None = None,
               log: Log | None = None) -> IngestResult:
    """Generate a corpus of about `chunks` chunks, ingest it into a fresh index, replay the same
    embedding batches through the model alone, then re-ingest the unchanged corpus (the index
    is reopened through open_index for the registry timing).

    baseline: (its passage batch size, the same model built with it); each recorded batch then
    also goes through it, right after the configured model, so both see the same machine."""
    say = log or (lambda message: None)
    corpus = generate(workdir / "corpus", chunks, chunk=settings.chunk,
                      chunks_per_doc=chunks_per_doc, seed=seed)
    say(f"ingest: generated {corpus.documents} documents, {corpus.chunks} chunks "
        f"in {corpus.seconds:.1f} s")
    fresh = settings.model_copy(update={
        "data_dir": workdir / "data", "corpus_dir": corpus.directory,
        "store": settings.store.model_copy(update={"host": None})})
    started = time.perf_counter()
    embeddings.warm_up()
    embeddings.embed_documents(["passage warm-up"] * 8)  # first-call allocations, untimed
    load_seconds = time.perf_counter() - started
    recorder = RecordingEmbeddings(embeddings)

    next_report = [1000]

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "embed" and done >= next_report[0]:
            say(f"ingest: embedded {done} chunks")
            next_report[0] = (done // 1000 + 1) * 1000

    # With the keyword index, as `oncoqa ingest` writes it.
    first = ingest(fresh, recorder, corpus.directory, progress=progress, keywords=BM25Builder())
    peak = peak_rss_mb()
    say(f"ingest: {first.chunks_added} chunks in {first.seconds:.1f} s; model-only pass next")
    model_only = other = 0.0
    if baseline is not None:
        baseline[1].warm_up()
        baseline[1].embed_documents(["passage warm-up"] * 8)
    for batch in recorder.batches:
        started = time.perf_counter()
        embeddings.embed_documents(batch)
        model_only += time.perf_counter() - started
        if baseline is not None:
            started = time.perf_counter()
            baseline[1].embed_documents(batch)
            other += time.perf_counter() - started
    again = ingest(fresh, RecordingEmbeddings(embeddings), corpus.directory,
                   keywords=BM25Builder())
    compared = f" ({other:.1f} s in batches of {baseline[0]})" if baseline is not None else ""
    say(f"ingest: model alone {model_only:.1f} s{compared}; re-ingest {again.seconds:.1f} s "
        f"({again.embedded} embedded)")
    prepare = prepare_seconds(corpus.directory, fresh)
    commit_ms = registry_commit_ms(open_index(fresh, embeddings)[1])
    return IngestResult(
        corpus=corpus,
        embedding=type(embeddings).__name__,
        model_load_seconds=round(load_seconds, 3),
        chunks=first.chunks_added,
        ingest_seconds=round(first.seconds, 3),
        ingest_chunks_per_second=round(first.chunks_per_second, 2),
        model_seconds_in_ingest=round(recorder.seconds, 3),
        model_only_seconds=round(model_only, 3),
        model_only_chunks_per_second=round(first.chunks_added / model_only, 2)
        if model_only > 0 else 0.0,
        overhead_ratio=round(first.seconds / model_only, 4) if model_only > 0 else 0.0,
        prepare_seconds=round(prepare, 3),
        registry_commit_ms=round(commit_ms, 2),
        reingest_seconds=round(again.seconds, 3),
        reingest_embedded=again.embedded,
        reingest_ratio=round(again.seconds / first.seconds, 4) if first.seconds > 0 else 0.0,
        peak_rss_mb=peak,
        batch_size=settings.embedding.batch_size if baseline is not None else 0,
        baseline_batch_size=baseline[0] if baseline is not None else 0,
        baseline_model_only_seconds=round(other, 3),
        baseline_model_only_chunks_per_second=round(first.chunks_added / other, 2)
        if other > 0 else 0.0,
    )
