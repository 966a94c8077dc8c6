"""The Chroma index: client (embedded or server), chunk store, document registry, writer lock."""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from core.errors import IndexLockedError, NoIndexError
from core.settings import Settings
from ingest.schema import DOC_SHA, SOURCE

_INDEX_RECORD = "__index__"
_LOCK_NAME = ".oncoqa-writer.lock"


def open_client(settings: Settings, *, create: bool = True) -> Any:
    """PersistentClient in the data dir, or HttpClient when a server host is configured."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb

    chroma_settings = chromadb.Settings(anonymized_telemetry=False)
    if settings.store.host:
        return chromadb.HttpClient(
            host=settings.store.host, port=settings.store.port, settings=chroma_settings
        )
    if not create and not settings.chroma_dir.exists():
        raise NoIndexError(
            f"no index at {settings.chroma_dir}", hint="run `oncoqa ingest` (or `make run`)"
        )
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


class ChunkStore(Chroma):
    """LangChain's Chroma vector store over our chunk collection, in cosine space."""

    def __init__(self, client: Any, collection: str, embeddings: Embeddings) -> None:
        super().__init__(
            collection_name=collection,
            embedding_function=embeddings,
            client=client,
            collection_configuration={"hnsw": {"space": "cosine"}},
        )

    @property
    def collection(self) -> Any:
        return self._collection

    def ids_by_source(self, batch: int = 5000) -> dict[str, dict[str, str]]:
        """source -> {chunk id: doc sha} for every stored chunk, read in pages."""
        out: dict[str, dict[str, str]] = {}
        offset = 0
        while True:
            page = self._collection.get(include=["metadatas"], limit=batch, offset=offset)
            for cid, meta in zip(page["ids"], page["metadatas"] or [], strict=False):
                out.setdefault(str(meta[SOURCE]), {})[cid] = str(meta.get(DOC_SHA, ""))
            if len(page["ids"]) < batch:
                return out
            offset += batch


@dataclass(frozen=True)
class DocRecord:
    """What the registry knows of one ingested document."""

    source: str
    sha256: str
    title: str
    languages: tuple[str, ...]
    chunks: int
    ingested_at: float


class Registry:
    """One record per committed document. A document's chunks count only once its record names
    their content hash, so a crash mid-write never exposes a half-indexed document."""

    def __init__(self, client: Any, collection: str) -> None:
        # Records carry a constant dummy vector: this collection is only read by id.
        self._col = client.get_or_create_collection(
            f"{collection}_documents", embedding_function=None
        )

    def all(self) -> dict[str, DocRecord]:
        page = self._col.get(include=["metadatas"])
        records = {}
        for rid, meta in zip(page["ids"], page["metadatas"] or [], strict=False):
            if rid != _INDEX_RECORD:
                records[rid] = DocRecord(
                    source=rid,
                    sha256=str(meta["sha256"]),
                    title=str(meta["title"]),
                    languages=tuple(json.loads(str(meta["languages"]))),
                    chunks=int(meta["chunks"]),
                    ingested_at=float(meta["ingested_at"]),
                )
        return records

    def commit(self, record: DocRecord) -> None:
        self._col.upsert(
            ids=[record.source],
            embeddings=[[1.0]],
            metadatas=[
                {
                    "sha256": record.sha256,
                    "title": record.title,
                    "languages": json.dumps(list(record.languages)),
                    "chunks": record.chunks,
                    "ingested_at": record.ingested_at,
                }
            ],
        )

    def forget(self, sources: list[str]) -> None:
        if sources:
            self._col.delete(ids=sources)

    def version(self) -> str:
        """Changes whenever the set of committed documents changes (caches key on it)."""
        page = self._col.get(ids=[_INDEX_RECORD], include=["metadatas"])
        metas = page["metadatas"] or []
        return str(metas[0]["version"]) if metas else ""

    def bump_version(self) -> None:
        self._col.upsert(
            ids=[_INDEX_RECORD],
            embeddings=[[1.0]],
            metadatas=[{"version": f"{time.time_ns()}"}],
        )


@contextmanager
def writer_lock(settings: Settings) -> Iterator[None]:
    """Refuse a second writer on an embedded Chroma directory (two writers corrupt it)."""
    if settings.store.host:  # the server serialises writers itself
        yield
        return
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    path = settings.chroma_dir / _LOCK_NAME
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise IndexLockedError(
                f"the index at {settings.chroma_dir} is being written by {holder}",
                hint="wait for that ingest to finish, or use a Chroma server "
                "(ONCOQA_STORE__HOST) for several writers",
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
