"""The index contract: chunk ids and metadata keys, built here and read back here only."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.documents import Document

from ingest.chunk import Chunk

SOURCE = "source"
TITLE = "title"
LANGUAGE = "language"
CHUNK_INDEX = "chunk_index"
START = "start"
END = "end"
DOC_SHA = "doc_sha256"
SECTION = "section"
TRANSLATION_SECTION = "translation_section"
REL_START = "rel_start"
REL_END = "rel_end"


def chunk_id(name: str, doc_sha: str, chunk: Chunk) -> str:
    """Content hash: the same file content always yields the same ids (idempotent upserts).
    name is the file's relative path as the OS gave it: a name whose bytes are not UTF-8 holds
    lone surrogates, encoded back to those exact bytes (lossless, so two such names never share
    ids); a UTF-8 name hashes as before."""
    key = f"{name}\0{doc_sha}\0{chunk.start}\0{chunk.end}\0{chunk.text}"
    return hashlib.sha256(key.encode("utf-8", errors="surrogateescape")).hexdigest()[:32]


def chunk_document(source: str, title: str, doc_sha: str, chunk: Chunk, *,
                   name: str = "") -> Document:
    """The one place chunk metadata is written; source is the displayable name, name the OS's
    (defaults to source)."""
    return Document(
        id=chunk_id(name or source, doc_sha, chunk),
        page_content=chunk.text,
        metadata={
            SOURCE: source,
            TITLE: title,
            LANGUAGE: chunk.language,
            CHUNK_INDEX: chunk.index,
            START: chunk.start,
            END: chunk.end,
            DOC_SHA: doc_sha,
            SECTION: chunk.section,
            TRANSLATION_SECTION: chunk.translation_section,
            REL_START: chunk.rel_start,
            REL_END: chunk.rel_end,
        },
    )


@dataclass(frozen=True)
class ChunkMeta:
    """Typed view of a stored chunk's metadata, for the query side."""

    source: str
    title: str
    language: str
    chunk_index: int
    start: int
    end: int
    doc_sha: str
    section: int
    translation_section: int
    rel_start: float = 0.0
    rel_end: float = 1.0

    @classmethod
    def of(cls, metadata: Mapping[str, Any]) -> ChunkMeta:
        return cls(
            source=str(metadata[SOURCE]),
            title=str(metadata.get(TITLE, metadata[SOURCE])),
            language=str(metadata.get(LANGUAGE, "en")),
            chunk_index=int(metadata.get(CHUNK_INDEX, 0)),
            start=int(metadata.get(START, 0)),
            end=int(metadata.get(END, 0)),
            doc_sha=str(metadata.get(DOC_SHA, "")),
            section=int(metadata.get(SECTION, 0)),
            translation_section=int(metadata.get(TRANSLATION_SECTION, -1)),
            rel_start=float(metadata.get(REL_START, 0.0)),
            rel_end=float(metadata.get(REL_END, 1.0)),
        )

    def translates(self, other: ChunkMeta) -> bool:
        """True when other is (mostly) the same text in the paired section of the document."""
        if self.source != other.source or self.translation_section != other.section:
            return False
        overlap = min(self.rel_end, other.rel_end) - max(self.rel_start, other.rel_start)
        shorter = min(self.rel_end - self.rel_start, other.rel_end - other.rel_start)
        return overlap > 0.5 * max(shorter, 1e-6)
