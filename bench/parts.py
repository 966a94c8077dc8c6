"""What the entry point hands the benchmarks: builders for what they measure, and the commands
that start one stage (or the app) in a child process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: the command line starts without loading Chroma
    from core.settings import Settings
    from ingest.embeddings import CountingEmbeddings
    from ingest.store import ChunkStore, Registry


@dataclass(frozen=True)
class BenchParts:
    # The configured embedding model (ingestion throughput, query embedding).
    embeddings: Callable[[Settings], CountingEmbeddings]
    # The existing index for reading, over the given embedder.
    index: Callable[[Settings, CountingEmbeddings], tuple[ChunkStore, Registry]]
    # The retriever the chain uses, over the existing index and the given embedder.
    retriever: Callable[[Settings, CountingEmbeddings], Any]
    # The full answer chain with the configured generator, passed through the given wrapper
    # (which records every call) before the chain gets it.
    answerer: Callable[[Settings, Callable[[Any], Any]], Any]
    # argv that runs one stage in a child process; SPEC.json and OUT.json are appended.
    stage_command: tuple[str, ...]
    # argv that serves the app in a child process; --host and --port are appended.
    app_command: tuple[str, ...]
    # argv that starts the serving topology (store server + model server + apps); --apps and
    # the ports are appended. Empty: the "stack" stage cannot run.
    stack_command: tuple[str, ...] = ()
