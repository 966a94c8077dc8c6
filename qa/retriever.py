"""Hybrid bilingual retrieval: dense (Chroma) + BM25, fused by weighted RRF, as a BaseRetriever."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from core.settings import RetrievalSettings
from core.text import script_of, to_simplified
from ingest.schema import ChunkMeta
from ingest.store import ChunkStore, Registry
from qa import glossary
from qa.bm25 import BM25Index, tokenize
from qa.fusion import rrf
from qa.types import Passage

Translator = Callable[[str], str | None]


@dataclass(frozen=True)
class _Chunk:
    id: str
    text: str
    meta: ChunkMeta


class _View:
    """The committed chunks of one index version, with their BM25 index (built once)."""

    def __init__(self, version: str, chunks: list[_Chunk], valid: dict[str, str]) -> None:
        self.version = version
        self.valid = valid
        self.chunks = {c.id: c for c in chunks}
        self.bm25 = BM25Index([(c.id, c.text) for c in chunks])

    def is_live(self, meta: ChunkMeta) -> bool:
        return self.valid.get(meta.source) == meta.doc_sha


class HybridRetriever(BaseRetriever):
    """Dense + keyword retrieval over the committed index; Chinese questions are also searched
    through English glossary terms (and optionally an LLM translation)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: ChunkStore
    registry: Registry
    config: RetrievalSettings = RetrievalSettings()
    k: int = 4
    translator: Translator | None = None

    _view: _View | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = int(kwargs.get("k", self.k))
        return [
            Document(
                id=p.id,
                page_content=p.text,
                metadata={"source": p.source, "title": p.title, "start": p.start, "end": p.end,
                          "language": p.language, "score": p.score},
            )
            for p in self.search(query, k=k)
        ]

    def view(self) -> _View:
        """The current index snapshot; rebuilt only when an ingest changed the version."""
        version = self.registry.version()
        with self._lock:
            if self._view is None or self._view.version != version:
                valid = {r.source: r.sha256 for r in self.registry.all().values()}
                self._view = _View(version, self._load_chunks(valid), valid)
            return self._view

    def _load_chunks(self, valid: dict[str, str]) -> list[_Chunk]:
        chunks: list[_Chunk] = []
        offset, page_size = 0, 5000
        while True:
            page = self.store.collection.get(
                include=["documents", "metadatas"], limit=page_size, offset=offset
            )
            for cid, text, meta in zip(page["ids"], page["documents"] or [],
                                       page["metadatas"] or [], strict=False):
                info = ChunkMeta.of(meta)
                if valid.get(info.source) == info.doc_sha:
                    chunks.append(_Chunk(cid, text or "", info))
            if len(page["ids"]) < page_size:
                return chunks
            offset += page_size

    def search(self, question: str, k: int | None = None) -> list[Passage]:
        k = self.k if k is None else k
        if k < 1:
            raise ValueError("k must be at least 1")
        view = self.view()
        if not view.chunks:
            return []
        question = to_simplified(question)  # the index is searched in Simplified (and English)
        queries = self.query_variants(question)
        dense_scores: dict[str, float] = {}
        rankings: list[list[str]] = []
        weights: list[float] = []
        per_query = self.config.dense_weight / len(queries)
        for ranking in self._dense(view, queries, dense_scores) if per_query > 0 else []:
            rankings.append(ranking)
            weights.append(per_query)
        terms = tokenize(" ".join(queries))
        if self.config.glossary:  # synonyms too: "chemo" should find "chemotherapy"
            terms += [t for _, forms in glossary.concepts(question) for f in forms
                      for t in tokenize(f)]
        keyword_hits = view.bm25.search(terms, self.config.fetch_k)
        rankings.append([doc_id for doc_id, _, _ in keyword_hits])
        weights.append(self.config.bm25_weight)
        keyword = {doc_id: (score, matched) for doc_id, score, matched in keyword_hits}
        fused = rrf(rankings, weights, k=self.config.rrf_k)
        return self._select(view, fused, dense_scores, keyword, k, script_of(question) or "en")

    def query_variants(self, question: str) -> list[str]:
        """The question itself (Traditional Chinese in Simplified), plus English renderings when
        it is not English."""
        question = to_simplified(question)
        variants = [question]
        if script_of(question) == "zh":
            if self.config.glossary:
                terms = glossary.translate_terms(question)
                if terms:
                    variants.append(terms)
            if self.config.translate and self.translator is not None:
                translated = self.translator(question)
                if translated and translated not in variants:
                    variants.append(translated)
        return variants

    def _dense(self, view: _View, texts: list[str],
               scores: dict[str, float]) -> list[list[str]]:
        """One ranking per query text; all texts are embedded in one model call (a question
        embedded here is remembered for the answer step) and searched in one Chroma query."""
        embeddings = self.store.embeddings
        batch = getattr(embeddings, "embed_queries", None)
        vectors = (batch(texts) if batch is not None
                   else [embeddings.embed_query(t) for t in texts])  # type: ignore[union-attr]
        # Ask for extra: chunks of uncommitted or superseded documents are filtered out.
        n = min(self.config.fetch_k * 2, max(1, self.store.collection.count()))
        result = self.store.collection.query(
            query_embeddings=vectors, n_results=n, include=["metadatas", "distances"]
        )
        rankings = []
        for ids, metas, distances in zip(result["ids"], result["metadatas"],
                                         result["distances"], strict=True):
            ranking = []
            for cid, meta, distance in zip(ids, metas, distances, strict=False):
                if cid in view.chunks and view.is_live(ChunkMeta.of(meta)):
                    ranking.append(cid)
                    scores[cid] = max(scores.get(cid, -1.0), 1.0 - float(distance))
            rankings.append(ranking[: self.config.fetch_k])
        return rankings

    def _select(self, view: _View, fused: Sequence[tuple[str, float]],
                dense: dict[str, float], keyword: dict[str, tuple[float, tuple[str, ...]]],
                k: int, language: str) -> list[Passage]:
        """Top k, with duplicates collapsed, and a chunk and its translation collapsed into one
        hit at the better rank, shown in the question's language when the pair has it."""
        chosen: list[tuple[_Chunk, float]] = []
        seen_text: set[str] = set()
        for cid, score in fused:
            chunk = view.chunks[cid]
            if chunk.text in seen_text:
                continue
            twin = next((i for i, (c, _) in enumerate(chosen) if c.meta.translates(chunk.meta)),
                        None)
            if twin is not None:
                if chunk.meta.language == language != chosen[twin][0].meta.language:
                    chosen[twin] = (chunk, chosen[twin][1])
                continue
            chosen.append((chunk, score))
            seen_text.add(chunk.text)
            if len(chosen) == k:
                break
        passages = []
        for chunk, score in chosen:
            bm25, matched = keyword.get(chunk.id, (0.0, ()))
            passages.append(
                Passage(
                    id=chunk.id, source=chunk.meta.source, title=chunk.meta.title,
                    text=chunk.text, start=chunk.meta.start, end=chunk.meta.end,
                    language=chunk.meta.language, score=round(score, 6),
                    dense=round(dense.get(chunk.id, 0.0), 4), keyword=round(bm25, 4),
                    matched_terms=tuple(matched),
                )
            )
        return passages
