"""Hybrid bilingual retrieval: dense (Chroma) + BM25, fused by weighted RRF, as a BaseRetriever."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from core.settings import RetrievalSettings
from core.text import script_of, to_simplified
from ingest import keywords
from ingest.schema import ChunkMeta
from ingest.store import ChunkStore, Registry
from qa import glossary
from qa.bm25 import BM25Builder, BM25Index, tokenize
from qa.fusion import rrf
from qa.gate import asked_part
from qa.select import ENGLISH_ZH_GAP
from qa.types import Passage

Translator = Callable[[str], str | None]
log = logging.getLogger(__name__)


# Added to a chunk's similarity to a query text before ranking, by the query text's script and
# the chunk's language: e5 rates a Chinese text lower for an English query than the same text in
# English (qa.select.ENGLISH_ZH_GAP). Only for text that is in no other language (a bilingual
# document is in the ranking through its English half). The scores the gate reads stay raw.
LANGUAGE_SHIFT: dict[str, dict[str, float]] = {"en": {"zh": ENGLISH_ZH_GAP}}


@dataclass(frozen=True)
class StoredChunk:
    id: str
    text: str
    meta: ChunkMeta


class _View:
    """One committed index version: which document versions are live, and its BM25 index
    (loaded from the keyword index written at ingest). Chunk texts stay in Chroma."""

    def __init__(self, version: str, valid: dict[str, str], bm25: BM25Index) -> None:
        self.version = version
        self.valid = valid
        self.bm25 = bm25

    def is_live(self, meta: ChunkMeta) -> bool:
        return self.valid.get(meta.source) == meta.doc_sha


class HybridRetriever(BaseRetriever):
    """Dense + keyword retrieval over the committed index; Chinese questions are also searched
    through English glossary terms (and optionally an LLM translation), English questions
    through the glossary's Chinese words on text written only in Chinese.

    The keyword index is read from `keyword_dir` (written there by ingest); a missing or stale
    one is rebuilt from the chunks, once, and saved for the next process. Without a
    `keyword_dir` it is built in memory.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: ChunkStore
    registry: Registry
    config: RetrievalSettings = RetrievalSettings()
    k: int = 4
    translator: Translator | None = None
    keyword_dir: Path | None = None

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
        """The current index version; its keyword index is loaded again only when an ingest
        changed the version."""
        version = self.registry.version()
        with self._lock:
            if self._view is None or self._view.version != version:
                valid = {r.source: r.sha256 for r in self.registry.all().values()}
                self._view = _View(version, valid, self._keyword_index(version, valid))
            return self._view

    def live_texts(self) -> Iterator[str]:
        """The text of every live chunk of the current index version, in stored order."""
        view = self.view()
        return (text for _, text, _ in keywords.live_chunks(self.store.collection, view.valid))

    def live_titles(self) -> list[str]:
        """The title of every committed document, each once (from the registry)."""
        return list(dict.fromkeys(r.title for r in self.registry.all().values()))

    def _keyword_index(self, version: str, valid: dict[str, str]) -> BM25Index:
        def docs() -> Iterator[tuple[str, str]]:
            return ((cid, text) for cid, text, _ in keywords.live_chunks(self.store.collection,
                                                                          valid))

        if self.keyword_dir is None:
            return BM25Index(docs())
        builder = BM25Builder()
        folder = keywords.find(self.keyword_dir, version, builder.fingerprint)
        if folder is None:
            log.warning("Rebuilding the keyword index in %s: %s (`oncoqa ingest` writes it)",
                        self.keyword_dir, keywords.stale_reason(self.keyword_dir, version))
            try:
                folder = keywords.write(self.keyword_dir, version, builder, docs())
            except OSError as exc:  # a read-only or full disk: this process keeps it in memory
                log.warning("Could not save the keyword index (%s); keeping it in memory", exc)
                return BM25Index(docs())
        try:
            return BM25Index.load(folder)
        except OSError as exc:  # removed under us by an ingest that published a newer version
            log.warning("Could not read the keyword index (%s); building it in memory", exc)
            return BM25Index(docs())

    def _chunks(self, view: _View, ids: Sequence[str],
                known: dict[str, StoredChunk]) -> dict[str, StoredChunk]:
        """The live chunks among ids: those the dense search returned, the rest read from
        Chroma in one call."""
        missing = [cid for cid in ids if cid not in known]
        if missing:
            page = self.store.collection.get(ids=missing, include=["documents", "metadatas"])
            for cid, text, meta in zip(page["ids"], page["documents"] or [],
                                       page["metadatas"] or [], strict=False):
                known[cid] = StoredChunk(cid, text or "", ChunkMeta.of(meta))
        return {cid: known[cid] for cid in ids
                if cid in known and view.is_live(known[cid].meta)}

    def search(self, question: str, k: int | None = None) -> list[Passage]:
        k = self.k if k is None else k
        if k < 1:
            raise ValueError("k must be at least 1")
        view = self.view()
        if not len(view.bm25):
            return []
        question = to_simplified(question)  # the index is searched in Simplified (and English)
        queries = self.query_variants(question)
        scoring = [v for v in self.asked_variants(question) if v not in queries]
        dense_scores: dict[str, float] = {}
        chunks: dict[str, StoredChunk] = {}
        rankings: list[list[str]] = []
        weights: list[float] = []
        per_query = self.config.dense_weight / len(queries)
        dense = self._dense(view, queries + scoring, dense_scores, chunks) if per_query > 0 else []
        for ranking in dense[:len(queries)]:  # the asked part's rankings only lend scores
            rankings.append(ranking)
            weights.append(per_query)
        terms = tokenize(" ".join(queries))
        language = script_of(question) or "en"
        if self.config.glossary:  # synonyms too: "chemo" should find "chemotherapy"
            terms += [t for _, forms in glossary.concepts(question) for f in forms
                      for t in tokenize(f)]
        keyword_hits = view.bm25.search(terms, self.config.fetch_k)
        rankings.append([doc_id for doc_id, _, _ in keyword_hits])
        weights.append(self.config.bm25_weight)
        keyword = {doc_id: (score, matched) for doc_id, score, matched in keyword_hits}
        if self.config.glossary and language == "en":
            other = self._other_language_hits(view, question, chunks)
            rankings.append([doc_id for doc_id, _, _ in other])
            weights.append(self.config.bm25_weight)
            keyword.update((doc_id, (score, matched)) for doc_id, score, matched in other
                           if doc_id not in keyword)
        fused = rrf(rankings, weights, k=self.config.rrf_k)
        chunks = self._chunks(view, [cid for cid, _ in fused], chunks)
        fused = [(cid, score) for cid, score in fused if cid in chunks]
        return self._select(chunks, fused, dense_scores, keyword, k, language)

    def _other_language_hits(self, view: _View, question: str, chunks: dict[str, StoredChunk],
                             ) -> list[tuple[str, float, tuple[str, ...]]]:
        """Keyword hits, by the glossary's Chinese words for what an English question names
        ("skin": 皮肤; not its generic words, "when": 什么时候), on text that is only in
        Chinese: the English terms cannot find it. A bilingual document is found through its
        English half."""
        terms = [t for entry in glossary.entries(question) if not glossary.is_generic(entry)
                 for f in glossary.chinese_forms(entry) for t in tokenize(f)]
        if not terms:
            return []
        hits = view.bm25.search(terms, self.config.fetch_k)
        live = self._chunks(view, [doc_id for doc_id, _, _ in hits], chunks)
        return [(doc_id, score, matched) for doc_id, score, matched in hits
                if doc_id in live and live[doc_id].meta.language != "en"
                and live[doc_id].meta.translation_section < 0]

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

    def asked_variants(self, question: str) -> list[str]:
        """When a message tells background before it asks ("I drive my wife to radiotherapy
        every day, and she asks me: what kills the cancer cells?"), the part that asks (and,
        for Chinese, its English glossary terms), if it says enough to be searched alone. They
        only score passages (a passage is as close as its best variant, which the evidence gate
        reads); the ranking stays the whole message's: ranked by a short ask alone, the right
        document came first less often on the test split."""
        question = to_simplified(question)
        asked = asked_part(question)
        if asked == question or len(tokenize(asked)) < 2:
            return []
        variants = [asked]
        if script_of(asked) == "zh" and self.config.glossary:
            terms = glossary.translate_terms(asked)
            if terms:
                variants.append(terms)
        return variants

    def _dense(self, view: _View, texts: list[str], scores: dict[str, float],
               chunks: dict[str, StoredChunk]) -> list[list[str]]:
        """One ranking per query text; all texts are embedded in one model call (a question
        embedded here is remembered for the answer step) and searched in one Chroma query."""
        embeddings = self.store.embeddings
        batch = getattr(embeddings, "embed_queries", None)
        vectors = (batch(texts) if batch is not None
                   else [embeddings.embed_query(t) for t in texts])  # type: ignore[union-attr]
        # Ask for extra: chunks of uncommitted or superseded documents are filtered out.
        n = min(self.config.fetch_k * 2, max(1, self.store.collection.count()))
        result = self.store.collection.query(
            query_embeddings=vectors, n_results=n,
            include=["documents", "metadatas", "distances"],
        )
        rankings = []
        for query, ids, texts_, metas, distances in zip(texts, result["ids"], result["documents"],
                                                        result["metadatas"], result["distances"],
                                                        strict=True):
            shift = LANGUAGE_SHIFT.get(script_of(query) or "en", {})
            ranked = []
            for cid, text, meta, distance in zip(ids, texts_, metas, distances, strict=False):
                info = ChunkMeta.of(meta)
                if view.is_live(info):
                    chunks[cid] = StoredChunk(cid, text or "", info)
                    similarity = 1.0 - float(distance)
                    # (a bilingual document is in the ranking through its half in English)
                    lift = shift.get(info.language, 0.0) if info.translation_section < 0 else 0.0
                    ranked.append((similarity + lift, cid))
                    scores[cid] = max(scores.get(cid, -1.0), similarity)
            ranked.sort(key=lambda sc: -sc[0])  # stable: equal scores keep Chroma's order
            rankings.append([cid for _, cid in ranked[: self.config.fetch_k]])
        return rankings

    def _select(self, chunks: dict[str, StoredChunk], fused: Sequence[tuple[str, float]],
                dense: dict[str, float], keyword: dict[str, tuple[float, tuple[str, ...]]],
                k: int, language: str) -> list[Passage]:
        """Top k (see `pick`), as Passages."""
        chosen = pick([(chunks[cid], score) for cid, score in fused], k, language)
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


def pick(ranked: Sequence[tuple[StoredChunk, float]], k: int, language: str,
         ) -> list[tuple[StoredChunk, float]]:
    """The top k of a fused ranking, duplicates collapsed, and a chunk and its translation (the
    other half of a bilingual document) one hit at the better rank, in the question's language
    when the document has it, wherever that half ranks: for a Chinese question the glossary's
    English terms lift the English half above the Chinese one, which a reader should be shown
    as written rather than translated by the model."""
    chosen: list[tuple[StoredChunk, float]] = []
    taken: set[str] = set()  # texts in
    for chunk, score in ranked:
        if chunk.text in taken or any(c.meta.translates(chunk.meta) for c, _ in chosen):
            continue  # in already, or its translation is
        if chunk.meta.language != language:
            chunk = next((c for c, _ in ranked if c.meta.language == language
                          and c.text not in taken and c.meta.translates(chunk.meta)), chunk)
        chosen.append((chunk, score))
        taken.add(chunk.text)
        if len(chosen) == k:
            break
    return chosen
