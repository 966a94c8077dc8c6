"""The Chroma index: client (embedded or server), chunk store, document registry, writer lock."""

from __future__ import annotations

import errno
import fcntl
import functools
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from core.errors import (
    DiskFullError,
    IndexLockedError,
    IndexReadOnlyError,
    NoIndexError,
    OncoQAError,
    StoreUnavailableError,
)
from core.settings import Settings
from ingest.identity import EmbeddingIdentity
from ingest.schema import DOC_SHA, SOURCE

_INDEX_RECORD = "__index__"
_EMBEDDING_RECORD = "__embedding__"  # which model and runtime made the stored vectors
_LOCK_NAME = ".oncoqa-writer.lock"
_LOW_SPACE = 16 << 20  # below this much free space, a failed Chroma write means a full disk
_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)
_FULL = (errno.ENOSPC, errno.EDQUOT)


def open_client(settings: Settings, *, create: bool = True) -> Any:
    """PersistentClient in the data dir, or HttpClient when a server host is configured. The
    client is guarded: a dead server, a read-only folder or a full disk raise OncoQAErrors
    that say so, from any call on the client or its collections."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb

    chroma_settings = chromadb.Settings(anonymized_telemetry=False)
    if settings.store.host:
        try:
            client = chromadb.HttpClient(
                host=settings.store.host, port=settings.store.port, settings=chroma_settings
            )
        except ValueError as exc:  # chromadb's own words for "nothing answers there"
            raise _server_down(settings) from exc
        return _Guarded(client, settings)
    if not create and not settings.chroma_dir.exists():
        raise NoIndexError(
            f"no index at {settings.chroma_dir}", hint="run `oncoqa ingest` (or `make run`)"
        )
    _writable_folder(settings)
    with _translated(settings):
        client = chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
    return _Guarded(client, settings)


def store_failure(exc: BaseException, settings: Settings) -> OncoQAError | None:
    """What a failed Chroma call means for the user; None when it is not one of the known
    infrastructure faults (then it is a bug and surfaces as one)."""
    import httpx

    if settings.store.host:
        if isinstance(exc, httpx.TransportError):
            return _server_down(settings, type(exc).__name__)
        return None
    text = str(exc).lower()
    code = exc.errno if isinstance(exc, OSError) else None
    if code in _READ_ONLY or "readonly database" in text:
        return _read_only(settings)
    if code in _FULL or "disk is full" in text or (
            not isinstance(exc, OSError) and _free_bytes(settings.chroma_dir) < _LOW_SPACE):
        return _disk_full(settings)
    return None


def _server_down(settings: Settings, detail: str = "") -> StoreUnavailableError:
    return StoreUnavailableError(
        f"the Chroma server at {settings.store.host}:{settings.store.port} is not answering"
        + (f" ({detail})" if detail else ""),
        hint="start it again (`chroma run`): OncoQA reconnects by itself; or unset "
        "ONCOQA_STORE__HOST to use the local index",
    )


def _read_only(settings: Settings) -> IndexReadOnlyError:
    return IndexReadOnlyError(
        f"the index folder {settings.chroma_dir} is read-only",
        hint="Chroma writes to its folder even to answer questions: make it writable, or copy "
        "the data folder somewhere writable and set ONCOQA_DATA_DIR to it",
    )


def _disk_full(settings: Settings) -> DiskFullError:
    free = _free_bytes(settings.chroma_dir)
    return DiskFullError(
        f"disk full: cannot write the index at {settings.chroma_dir} ({free // 1024} KB free)",
        hint="free some space, then run `oncoqa ingest` again: it repairs the index",
    )


def _free_bytes(path: Path) -> int:
    for folder in (path, *path.parents):
        if folder.exists():
            return shutil.disk_usage(folder).free
    return 0


def _writable_folder(settings: Settings) -> None:
    """Creates the index folder, or says why it cannot be written, before Chroma tries (after
    one failed open, chromadb's cached system fails with unrelated errors)."""
    folder = settings.chroma_dir
    with _translated(settings):
        folder.mkdir(parents=True, exist_ok=True)
    database = folder / "chroma.sqlite3"
    if not os.access(folder, os.W_OK) or (database.exists() and not os.access(database,
                                                                             os.W_OK)):
        raise _read_only(settings)


@contextmanager
def _translated(settings: Settings) -> Iterator[None]:
    import httpx
    from chromadb.errors import ChromaError

    try:
        yield
    except (OSError, ChromaError, httpx.TransportError) as exc:
        failure = store_failure(exc, settings)
        if failure is None:
            raise
        raise failure from exc


class _Guarded:
    """A Chroma client or collection whose calls raise the OncoQAErrors of store_failure."""

    def __init__(self, target: Any, settings: Settings) -> None:
        self._target = target
        self._settings = settings

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            from chromadb import Collection

            with _translated(self._settings):
                result = value(*args, **kwargs)
            return _Guarded(result, self._settings) if isinstance(result, Collection) else result

        return call


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
    notes: str = ""  # what cleaning did (DocReport.notes()); "" in indexes made before it


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
            if rid not in (_INDEX_RECORD, _EMBEDDING_RECORD):
                records[rid] = DocRecord(
                    source=rid,
                    sha256=str(meta["sha256"]),
                    title=str(meta["title"]),
                    languages=tuple(json.loads(str(meta["languages"]))),
                    chunks=int(meta["chunks"]),
                    ingested_at=float(meta["ingested_at"]),
                    notes=str(meta.get("notes", "")),
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
                    "notes": record.notes,
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

    def embedding(self) -> EmbeddingIdentity | None:
        """The identity of the embedder that made the stored vectors; None when not recorded."""
        page = self._col.get(ids=[_EMBEDDING_RECORD], include=["metadatas"])
        metas = page["metadatas"] or []
        if not metas:
            return None
        meta = metas[0]
        return EmbeddingIdentity(model=str(meta.get("model", "")),
                                 runtime=str(meta.get("runtime", "")),
                                 detail=str(meta.get("detail", "")))

    def record_embedding(self, identity: EmbeddingIdentity) -> None:
        self._col.upsert(
            ids=[_EMBEDDING_RECORD],
            embeddings=[[1.0]],
            metadatas=[{"model": identity.model, "runtime": identity.runtime,
                        "detail": identity.detail}],
        )

    @staticmethod
    def new_version() -> str:
        return f"{time.time_ns()}"

    def bump_version(self, version: str | None = None) -> None:
        """Publishes a new version (one made by new_version() beforehand, when files keyed on
        it had to be written before readers see it)."""
        self._col.upsert(
            ids=[_INDEX_RECORD],
            embeddings=[[1.0]],
            metadatas=[{"version": version or self.new_version()}],
        )


@contextmanager
def writer_lock(settings: Settings) -> Iterator[None]:
    """Refuse a second writer on an embedded Chroma directory (two writers corrupt it)."""
    if settings.store.host:  # the server serialises writers itself
        yield
        return
    _writable_folder(settings)
    path = settings.chroma_dir / _LOCK_NAME
    with _translated(settings):
        handle = open(path, "a+")  # noqa: SIM115 - closed below, after the lock is released
    with handle:
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
