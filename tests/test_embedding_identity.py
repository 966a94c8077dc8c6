"""The index records which embedder made its vectors; another one rebuilds it, with a message."""

from __future__ import annotations

import logging

import pytest

from core.settings import Settings
from ingest.embeddings import HashEmbeddings
from ingest.identity import EmbeddingIdentity, mismatch
from ingest.pipeline import ingest
from ingest.store import ChunkStore, Registry, open_client
from oncoqa.wiring import build_retriever, ensure_index


class OtherRuntime(HashEmbeddings):
    """The same vectors under another runtime name: what a backend switch looks like."""

    @property
    def identity(self) -> EmbeddingIdentity:
        return EmbeddingIdentity(model="hash-384", runtime="another runtime")


def _index(settings: Settings) -> tuple[ChunkStore, Registry]:
    client = open_client(settings)
    return (ChunkStore(client, settings.store.collection, HashEmbeddings()),
            Registry(client, settings.store.collection))


def test_mismatch_reasons() -> None:
    onnx = EmbeddingIdentity("multilingual-e5-small", "onnxruntime int8-dynamic r1", "ort 1.32")
    torch = EmbeddingIdentity("multilingual-e5-small", "sentence-transformers torch fp32")
    assert mismatch(None, onnx, 0) is None  # nothing stored: nothing to rebuild
    assert mismatch(torch, onnx, 0) is None
    assert mismatch(onnx, onnx, 10) is None
    # Library versions (detail) are for people: they do not make the vectors incomparable.
    assert mismatch(EmbeddingIdentity(onnx.model, onnx.runtime, "ort 1.40"), onnx, 10) is None
    reason = mismatch(torch, onnx, 10)
    assert reason and "torch fp32" in reason and "int8" in reason
    legacy = mismatch(None, onnx, 10)
    assert legacy and "10 chunks" in legacy and "does not record" in legacy


def test_ingest_records_the_embedder_and_a_switch_rebuilds(
        settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    first = ingest(settings, HashEmbeddings())
    assert first.rebuilt_because == "" and first.embedded > 10
    store, registry = _index(settings)
    assert registry.embedding() == HashEmbeddings().identity
    assert "hash-384" not in registry.all()  # the record is not a document

    again = ingest(settings, HashEmbeddings())
    assert again.embedded == 0 and again.rebuilt_because == ""

    other = OtherRuntime()
    with caplog.at_level(logging.WARNING, logger="ingest.pipeline"):
        switched = ingest(settings, other)
    assert "another runtime" in switched.rebuilt_because
    assert "Rebuilding the index" in caplog.text
    assert switched.embedded == first.embedded  # every chunk re-embedded, none left over
    store, registry = _index(settings)
    assert store.collection.count() == first.chunks_added
    assert registry.embedding() == other.identity
    assert len(registry.all()) == len(first.documents)
    assert ingest(settings, OtherRuntime()).embedded == 0


def test_an_index_without_a_record_is_rebuilt(settings: Settings) -> None:
    first = ingest(settings, HashEmbeddings())
    _, registry = _index(settings)
    registry._col.delete(ids=["__embedding__"])  # what an index built before this change holds
    assert registry.embedding() is None
    report = ingest(settings, HashEmbeddings())
    assert "does not record" in report.rebuilt_because
    assert report.embedded == first.embedded
    assert _index(settings)[1].embedding() == HashEmbeddings().identity


def test_readers_warn_and_the_app_reembeds(settings: Settings,
                                           caplog: pytest.LogCaptureFixture) -> None:
    ingest(settings, HashEmbeddings())
    with caplog.at_level(logging.WARNING, logger="oncoqa.wiring"):
        build_retriever(settings, OtherRuntime())
    assert "embedded differently" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="oncoqa.wiring"):
        build_retriever(settings, HashEmbeddings())
    assert "embedded differently" not in caplog.text

    # The app's start-up check (`oncoqa ui`) re-embeds an index made by another embedder.
    switched = settings.model_copy(update={"embedding": settings.embedding.model_copy(
        update={"backend": "hash"})})
    _, registry = _index(settings)
    registry.record_embedding(OtherRuntime().identity)
    with caplog.at_level(logging.WARNING, logger="oncoqa.wiring"):
        assert ensure_index(switched) is None
    assert "Re-embedding the index" in caplog.text
    assert _index(settings)[1].embedding() == HashEmbeddings().identity
