"""Ingest a corpus directory into the index: load, clean, chunk, embed only what changed, commit."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from core.errors import CorpusError
from core.settings import Settings
from ingest import keywords as keyword_index
from ingest.chunk import chunk_text
from ingest.clean import clean
from ingest.embeddings import CountingEmbeddings
from ingest.identity import mismatch
from ingest.load import Skipped, SourceText, fallback_title, load_file, scan
from ingest.manifest import load_manifest
from ingest.ocr import PageOcr
from ingest.schema import chunk_document
from ingest.store import ChunkStore, DocRecord, Registry, open_client, writer_lock

# (stage, done, total): stage is "read" (documents) or "embed" (chunks).
Progress = Callable[[str, int, int], None]
SAME_NAME = "same shown name as another file (name bytes that are not UTF-8 show as \\xNN)"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """What is about to be embedded, told before the embedding starts."""

    chunks: int
    seconds: float  # estimate at settings.ingest.chunks_per_second


@dataclass(frozen=True)
class DocReport:
    source: str
    title: str
    chunks: int
    status: str  # "added" | "updated" | "unchanged"
    removed: tuple[tuple[str, int], ...]  # boilerplate kind -> lines/blocks removed
    replaced: int = 0  # invalid bytes decoded as U+FFFD
    ocr: tuple[PageOcr, ...] = ()  # PDF pages without a text layer, and what OCR made of them

    @property
    def ocr_pages(self) -> tuple[int, ...]:
        """Pages (1-based) whose text came from OCR and was indexed."""
        return tuple(page.page for page in self.ocr if page.indexed)

    @property
    def ocr_confidence(self) -> float | None:
        """Mean OCR confidence (0-100) of the indexed OCR'd pages."""
        scores = [page.confidence for page in self.ocr
                  if page.indexed and page.confidence is not None]
        return sum(scores) / len(scores) if scores else None

    @property
    def low_confidence_pages(self) -> tuple[int, ...]:
        """Pages OCR read below the confidence floor: left out of the index."""
        return tuple(page.page for page in self.ocr
                     if not page.indexed and page.confidence is not None)

    @property
    def left_out_pages(self) -> tuple[int, ...]:
        """Every page without a text layer that is not in the index, whatever the reason."""
        return tuple(page.page for page in self.ocr if not page.indexed)

    def notes(self) -> str:
        """What cleaning and OCR did to the document, in one line (the CLI's and the
        console's report): pages OCR'd with their confidence, and every page left out."""
        text = ", ".join(f"{kind} x{count}" for kind, count in self.removed) or "-"
        if self.replaced:
            text += f"; {self.replaced} invalid bytes replaced"
        read = [page for page in self.ocr if page.indexed]
        if 0 < len(read) <= 6:
            text += (f"; OCR pages {', '.join(str(p.page) for p in read)} (confidence "
                     f"{', '.join(f'{p.confidence:.0f}' for p in read)})")
        elif read:
            text += f"; OCR {len(read)} pages (mean confidence {self.ocr_confidence:.0f})"
        left_out = [page for page in self.ocr if not page.indexed]
        text += "".join(f"; {page.note()}" for page in left_out[:10])
        if len(left_out) > 10:
            text += f"; {len(left_out) - 10} more pages left out"
        return text


@dataclass(frozen=True)
class IngestReport:
    documents: tuple[DocReport, ...]
    skipped: tuple[Skipped, ...]
    chunks_added: int
    chunks_unchanged: int
    chunks_removed: int
    documents_removed: tuple[str, ...]
    embedded: int
    seconds: float
    rebuilt_because: str = ""  # set when stored vectors came from another embedder

    @property
    def chunks_per_second(self) -> float:
        return self.chunks_added / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Pending:
    """Documents whose new chunks are waiting for one shared embedding batch."""

    items: list[tuple[DocRecord, list[Document], list[str]]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(docs) for _, docs, _ in self.items)


def ingest(
    settings: Settings,
    embeddings: CountingEmbeddings,
    corpus_dir: Path | None = None,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    plan: Callable[[Plan], None] | None = None,
    keywords: keyword_index.KeywordBuilder | None = None,
) -> IngestReport:
    """Brings the index in line with the corpus folder. With a keyword builder (the composition
    root hands in `qa`'s), the keyword index of the new version is written before the version
    is published, so readers never find it missing."""
    corpus_dir = corpus_dir or settings.corpus_dir
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus directory {corpus_dir} does not exist", hint="create it or "
                          "pass the right path: `oncoqa ingest PATH`")
    started = time.perf_counter()
    embedded_before = embeddings.embedded_passages
    notify = progress or (lambda stage, done, total: None)
    with writer_lock(settings):
        client = open_client(settings)
        reason = "" if rebuild else stale_embedding(client, settings, embeddings) or ""
        if reason:
            log.warning("Rebuilding the index: %s", reason)
        if rebuild or reason:
            for name in (settings.store.collection, f"{settings.store.collection}_documents"):
                if name in {c.name for c in client.list_collections()}:
                    client.delete_collection(name)
        store = ChunkStore(client, settings.store.collection, embeddings)
        registry = Registry(client, settings.store.collection)
        registry.record_embedding(embeddings.identity)  # before any vector is written
        run = _Run(settings, store, registry, embeddings, notify, plan or (lambda p: None),
                   keywords)
        run.sync(corpus_dir)
    return IngestReport(
        documents=tuple(run.reports),
        skipped=tuple(run.skipped),
        chunks_added=run.added,
        chunks_unchanged=run.unchanged,
        chunks_removed=run.removed,
        documents_removed=tuple(run.gone),
        embedded=embeddings.embedded_passages - embedded_before,
        seconds=time.perf_counter() - started,
        rebuilt_because=reason,
    )


def stale_embedding(client: Any, settings: Settings,
                    embeddings: CountingEmbeddings) -> str | None:
    """Why the stored index must be rebuilt for this embedder (its vectors came from another
    model or runtime); None when it fits or there is no index yet."""
    if settings.store.collection not in {c.name for c in client.list_collections()}:
        return None
    chunks = client.get_collection(settings.store.collection, embedding_function=None).count()
    stored = Registry(client, settings.store.collection).embedding()
    return mismatch(stored, embeddings.identity, chunks)


class _Run:
    """One ingest run's state and steps (kept apart from the public function for readability)."""

    def __init__(self, settings: Settings, store: ChunkStore, registry: Registry,
                 embeddings: CountingEmbeddings, notify: Progress,
                 plan: Callable[[Plan], None],
                 keywords: keyword_index.KeywordBuilder | None = None) -> None:
        self.settings, self.store, self.registry = settings, store, registry
        self.embeddings, self.notify, self.plan = embeddings, notify, plan
        self.keywords = keywords
        self.reports: list[DocReport] = []
        self.skipped: list[Skipped] = []
        self.gone: list[str] = []
        self.added = self.unchanged = self.removed = 0
        self.embedded_chunks = 0
        self.to_embed = 0
        ocr = settings.ingest.ocr
        self.ocr_cache = settings.data_dir / "ocr-cache" if ocr.enabled and ocr.cache else None

    def sync(self, corpus_dir: Path) -> None:
        manifest = load_manifest(corpus_dir)
        stored = self.store.ids_by_source()
        records = self.registry.all()
        paths, outside = scan(corpus_dir)
        self.skipped.extend(outside)
        seen: set[str] = set()
        pending = _Pending()
        changed = False
        max_bytes = int(self.settings.ingest.max_file_mb * 1e6)
        for done, path in enumerate(paths, 1):
            loaded = load_file(path, corpus_dir, max_bytes=max_bytes,
                               ocr=self.settings.ingest.ocr, ocr_cache=self.ocr_cache)
            self.notify("read", done, len(paths))
            if isinstance(loaded, Skipped) or loaded.source in seen:
                self.skipped.append(loaded if isinstance(loaded, Skipped)
                                    else Skipped(loaded.source, SAME_NAME))
                continue
            seen.add(loaded.source)
            entry = manifest.get(loaded.source)
            record, docs, report = self._prepare(loaded, entry.title if entry else None)
            title = record.title
            existing = stored.get(loaded.source, {})
            old = records.get(loaded.source)
            if old and old.sha256 == record.sha256 and set(existing) == {d.id for d in docs}:
                if old.title != title:
                    self._retitle(record, docs)
                    changed = True
                elif old.notes != record.notes:  # an index from before notes were kept
                    self.registry.commit(replace(record, ingested_at=old.ingested_at))
                self.unchanged += len(docs)
                self.reports.append(report)
                continue
            changed = True
            new = [d for d in docs if d.id not in existing]
            self.unchanged += len(docs) - len(new)
            stale = [cid for cid in existing if cid not in {d.id for d in docs}]
            self.to_embed += len(new)
            pending.items.append((record, new, stale))
            status = "updated" if old or existing else "added"
            self.reports.append(replace(report, status=status))
        self.plan(Plan(self.to_embed, self.to_embed / self.settings.ingest.chunks_per_second))
        # Documents are committed a batch at a time, so an interrupted run keeps what it wrote.
        group = _Pending()
        for item in pending.items:
            group.items.append(item)
            if group.size >= self.settings.store.batch_size:
                self._flush(group)
        self._flush(group)
        for source in sorted((set(records) | set(stored)) - seen):
            self._remove(source, list(stored.get(source, {})))
            changed = True
        version = self.registry.new_version() if changed else self.registry.version()
        if self.keywords is not None:
            self._write_keywords(version, self.keywords)
        if changed:
            self.registry.bump_version(version)

    def _write_keywords(self, version: str, builder: keyword_index.KeywordBuilder) -> None:
        """The keyword index of the committed chunks, unless this version's is already there."""
        root = keyword_index.keyword_root(self.settings)
        if keyword_index.find(root, version, builder.fingerprint) is not None:
            return
        valid = {r.source: r.sha256 for r in self.registry.all().values()}
        live = keyword_index.live_chunks(self.store.collection, valid)
        keyword_index.write(root, version, builder, ((cid, text) for cid, text, _ in live))

    def _prepare(self, loaded: SourceText, title: str | None) -> tuple[DocRecord, list[Document],
                                                                       DocReport]:
        cleaned = clean(loaded.text)
        # Without a manifest title, the first line of *content* names the document.
        title = title or fallback_title(cleaned.kept_text())
        chunks = chunk_text(
            loaded.text,
            cleaned.kept,
            max_tokens=self.settings.chunk.max_tokens,
            overlap_tokens=self.settings.chunk.overlap_tokens,
        )
        docs = [chunk_document(loaded.source, title, loaded.sha256, c, name=loaded.name)
                for c in chunks]
        kinds: dict[str, int] = {}
        for removal in cleaned.removed:
            kinds[removal.kind] = kinds.get(removal.kind, 0) + 1
        record = DocRecord(
            source=loaded.source,
            sha256=loaded.sha256,
            title=title,
            languages=tuple(sorted({c.language for c in chunks})),
            chunks=len(chunks),
            ingested_at=time.time(),
        )
        report = DocReport(loaded.source, title, len(chunks), "unchanged",
                           tuple(sorted(kinds.items())), loaded.replaced, loaded.ocr)
        # The registry keeps the cleaning notes, so the console can show them later.
        return replace(record, notes=report.notes()), docs, report

    def _flush(self, pending: _Pending) -> None:
        """Embed and write the pending chunks, then commit each document and drop its stale
        chunks: the commit comes only after all of a document's chunks are stored."""
        docs = [d for _, new, _ in pending.items for d in new]
        batch = self.settings.store.batch_size
        for i in range(0, len(docs), batch):
            part = docs[i : i + batch]
            vectors = self.embeddings.embed_documents([d.page_content for d in part])
            self.store.collection.upsert(
                ids=[d.id for d in part],
                embeddings=vectors,
                documents=[d.page_content for d in part],
                metadatas=[d.metadata for d in part],
            )
            self.embedded_chunks += len(part)
            self.notify("embed", self.embedded_chunks, max(self.to_embed, 1))
        for record, new, stale in pending.items:
            self.registry.commit(record)
            self.added += len(new)
            self._delete(stale)
        pending.items.clear()

    def _retitle(self, record: DocRecord, docs: list[Document]) -> None:
        self.store.collection.update(ids=[d.id for d in docs], metadatas=[d.metadata for d in docs])
        self.registry.commit(record)

    def _remove(self, source: str, ids: list[str]) -> None:
        self.registry.forget([source])
        self._delete(ids)
        self.gone.append(source)

    def _delete(self, ids: list[str]) -> None:
        batch = self.settings.store.batch_size
        for i in range(0, len(ids), batch):
            self.store.collection.delete(ids=ids[i : i + batch])
        self.removed += len(ids)
