"""The keyword index on disk: one folder per index version next to the Chroma data, written at
ingest by a builder handed in (the tokenizer lives in `qa`), found or found stale by readers."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from core.settings import Settings
from ingest.schema import ChunkMeta

FORMAT = 1  # bump when the folder layout changes
STAMP = "stamp.json"
_ABANDONED = 3600.0  # seconds after which a half-written folder is someone's crash


class KeywordBuilder(Protocol):
    """Builds a keyword index from (chunk id, text) pairs into a folder; its fingerprint names
    everything that decides the terms (tokenizer, stop words, glossary), so an index built by
    another tokenizer is stale."""

    fingerprint: str

    def write(self, docs: Iterable[tuple[str, str]], folder: Path) -> None: ...


def keyword_root(settings: Settings) -> Path:
    """Where the keyword indexes of this collection live (beside Chroma's own files)."""
    return settings.chroma_dir / f"keywords-{settings.store.collection}"


def find(root: Path, version: str, fingerprint: str) -> Path | None:
    """The folder holding the keyword index of this index version built by this tokenizer;
    None when it is missing or stale."""
    folder = root / _name(version)
    try:
        stamp = json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    wanted = {"format": FORMAT, "version": version, "tokenizer": fingerprint}
    return folder if all(stamp.get(k) == v for k, v in wanted.items()) else None


def stale_reason(root: Path, version: str) -> str:
    """Why find() returned None, in words for a log line."""
    if (root / _name(version) / STAMP).exists():
        return "it was built by another tokenizer or format"
    if root.is_dir() and any(f.name.startswith("v") for f in root.iterdir()):
        return "it was built for another version of the index"
    return "there is none"


def write(root: Path, version: str, builder: KeywordBuilder,
          docs: Iterable[tuple[str, str]]) -> Path:
    """Builds into a private folder, then renames it into place (readers never see half an
    index), and removes the folders of other versions. Returns the folder."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    try:
        builder.write(docs, tmp)
        stamp = {"format": FORMAT, "version": version, "tokenizer": builder.fingerprint,
                 "written_at": time.time()}
        (tmp / STAMP).write_text(json.dumps(stamp), encoding="utf-8")
        final = root / _name(version)
        if final.exists():  # stale (another tokenizer): move it aside, then replace it
            os.replace(final, Path(tempfile.mkdtemp(prefix=".old-", dir=root)) / "index")
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    _prune(root, keep=final.name)
    return final


def _prune(root: Path, keep: str) -> None:
    """Other versions go (a reader that mapped them keeps its open files); half-written
    folders only when old, since another process may be writing one right now."""
    now = time.time()
    for folder in root.iterdir():
        if folder.name == keep:
            continue
        if folder.name.startswith(".building-"):
            try:
                if now - folder.stat().st_mtime < _ABANDONED:
                    continue
            except OSError:
                continue
        shutil.rmtree(folder, ignore_errors=True)


def _name(version: str) -> str:
    return f"v{version}" if version else "v0"


def live_chunks(collection: Any, valid: dict[str, str],
                page_size: int = 5000) -> Iterator[tuple[str, str, ChunkMeta]]:
    """(id, text, metadata) of every chunk whose document is committed at the sha in `valid`
    (source -> sha), in the collection's stored order, read in pages."""
    offset = 0
    while True:
        page = collection.get(include=["documents", "metadatas"], limit=page_size,
                              offset=offset)
        for cid, text, meta in zip(page["ids"], page["documents"] or [],
                                   page["metadatas"] or [], strict=False):
            info = ChunkMeta.of(meta)
            if valid.get(info.source) == info.doc_sha:
                yield cid, text or "", info
        if len(page["ids"]) < page_size:
            return
        offset += page_size
