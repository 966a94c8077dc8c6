"""Ingestion into a real Chroma in a temp dir: summary, boilerplate, idempotence, edits, locks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.errors import CorpusError, IndexLockedError
from core.settings import Settings
from ingest.embeddings import HashEmbeddings
from ingest.pipeline import ingest
from ingest.store import ChunkStore, Registry, open_client, writer_lock
from tests.conftest import ROOT

# Boilerplate from the seed pages (issue 2): none of it may reach a stored chunk.
BOILERPLATE = [
    "Contact Us Careers",
    "Click on the blue text to follow us",
    "图片",
    "人气",
    "<<:",
    ">>:",
    "下一篇",
    "ringworm",
    "stains from shoes",
    "donkey-hide",
    "O-shaped legs",
    "We are associated with",
    "JCI & NABH",
    "Written by",
    "Reviewed by",
    "Typeset by",
    "Click to view past",
]


def stored(settings: Settings) -> dict[str, dict]:
    client = open_client(settings)
    store = ChunkStore(client, settings.store.collection, HashEmbeddings())
    page = store.collection.get(include=["documents", "metadatas"])
    return {
        cid: {"text": doc, **meta}
        for cid, doc, meta in zip(page["ids"], page["documents"], page["metadatas"], strict=True)
    }


def test_seed_corpus_is_indexed_without_boilerplate(settings: Settings, hash_embeddings) -> None:
    report = ingest(settings, hash_embeddings)
    assert len(report.documents) == 5 and not report.skipped
    chunks = stored(settings)
    assert len(chunks) == report.chunks_added > 10
    everything = "\n".join(c["text"] for c in chunks.values())
    for phrase in BOILERPLATE:
        assert phrase.lower() not in everything.lower(), phrase
    assert "Recommend" not in {line.strip() for line in everything.splitlines()}
    # content right next to the boilerplate survives
    assert "Reference source" in everything or "RECIST guideline" in everything
    assert "promptly detect and treat metastatic lesions" in everything
    assert "improve patient outcomes in the challenging landscape" in everything
    # every chunk carries the contract metadata, offsets pointing into the original file
    for chunk in chunks.values():
        original = (settings.corpus_dir / chunk["source"]).read_text(encoding="utf-8")
        assert original[chunk["start"] : chunk["end"]].startswith(chunk["text"][:15])
        assert chunk["language"] in ("en", "zh") and chunk["title"]
    languages = {c["language"] for c in chunks.values() if c["source"].startswith("001_")}
    assert languages == {"en", "zh"}
    removed = {d.source: dict(d.removed) for d in report.documents}
    assert removed["002_d0e0c941352d6edd.txt"]  # the teaser block was reported


def test_reingest_of_unchanged_corpus_embeds_nothing(settings: Settings) -> None:
    first = ingest(settings, HashEmbeddings())
    counter = HashEmbeddings()
    second = ingest(settings, counter)
    assert first.embedded > 0
    assert counter.embedded_passages == 0 and second.embedded == 0
    assert second.chunks_added == 0 and second.chunks_removed == 0
    assert second.chunks_unchanged == first.chunks_added
    assert set(stored(settings)) == {cid for cid in stored(settings)}  # readable
    assert len(stored(settings)) == first.chunks_added


def test_edit_replaces_only_that_documents_chunks(settings: Settings) -> None:
    ingest(settings, HashEmbeddings())
    before = stored(settings)
    target = settings.corpus_dir / "000_61149c4b2133eace.txt"
    target.write_text(target.read_text(encoding="utf-8") + "\nAn added sentence about rest.\n",
                      encoding="utf-8")
    counter = HashEmbeddings()
    report = ingest(settings, counter)
    after = stored(settings)
    untouched_before = {k for k, v in before.items() if v["source"] != target.name}
    untouched_after = {k for k, v in after.items() if v["source"] != target.name}
    assert untouched_before == untouched_after
    edited = [v for v in after.values() if v["source"] == target.name]
    assert counter.embedded_passages == report.chunks_added == len(edited)
    assert any("added sentence about rest" in v["text"] for v in edited)
    assert report.chunks_removed == sum(1 for v in before.values() if v["source"] == target.name)


def test_deleted_file_chunks_go_away(settings: Settings) -> None:
    ingest(settings, HashEmbeddings())
    (settings.corpus_dir / "004_121bb378a756a13c.txt").unlink()
    report = ingest(settings, HashEmbeddings())
    assert report.documents_removed == ("004_121bb378a756a13c.txt",)
    assert all(v["source"] != "004_121bb378a756a13c.txt" for v in stored(settings).values())
    registry = Registry(open_client(settings), settings.store.collection)
    assert "004_121bb378a756a13c.txt" not in registry.all()


def test_bad_files_are_skipped_with_reasons(settings: Settings) -> None:
    (settings.corpus_dir / "empty.txt").write_text("")
    (settings.corpus_dir / "blob.txt").write_bytes(bytes(range(256)) * 8)
    gbk = "鼻咽癌的放疗通常采用调强放疗技术。".encode("gbk")
    (settings.corpus_dir / "gbk.txt").write_bytes(gbk)
    report = ingest(settings, HashEmbeddings())
    reasons = {s.source: s.reason for s in report.skipped}
    assert set(reasons) == {"empty.txt", "blob.txt"}
    assert "empty" in reasons["empty.txt"] and "binary" in reasons["blob.txt"]
    texts = [v["text"] for v in stored(settings).values() if v["source"] == "gbk.txt"]
    assert texts == ["鼻咽癌的放疗通常采用调强放疗技术。"]


def test_missing_corpus_dir_is_a_clear_error(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        ingest(settings, HashEmbeddings(), tmp_path / "nope")


def test_a_second_writer_is_refused(settings: Settings) -> None:
    with writer_lock(settings), pytest.raises(IndexLockedError, match="being written by pid"):
        ingest(settings, HashEmbeddings())
    ingest(settings, HashEmbeddings())  # the lock is released afterwards


SLOW_INGEST = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from ingest.embeddings import HashEmbeddings
    from ingest.pipeline import ingest
    from core.settings import EmbeddingSettings, StoreSettings, Settings

    class Slow(HashEmbeddings):
        def _embed(self, texts, *, query):
            time.sleep(0.3)
            return super()._embed(texts, query=query)

    def progress(stage, done, total):
        if stage == "embed":
            print("embedded", done, flush=True)

    settings = Settings(data_dir=Path(sys.argv[1]), corpus_dir=Path(sys.argv[2]),
                        embedding=EmbeddingSettings(backend="hash"),
                        store=StoreSettings(batch_size=4))
    ingest(settings, Slow(), progress=progress)
    print("finished", flush=True)
    """
)


def test_kill_9_mid_ingest_then_repair(settings: Settings, tmp_path: Path) -> None:
    # Index the corpus once, then edit every document so the next run rewrites everything.
    ingest(settings, HashEmbeddings())
    for path in sorted(settings.corpus_dir.glob("*.txt")):
        path.write_text(path.read_text(encoding="utf-8") + "\nRevised edition.\n", encoding="utf-8")
    script = tmp_path / "slow_ingest.py"
    script.write_text(SLOW_INGEST)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(settings.data_dir), str(settings.corpus_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    seen = 0
    deadline = time.monotonic() + 60
    while seen < 3 and time.monotonic() < deadline:  # let a few batches land, then kill
        line = proc.stdout.readline()
        if line.startswith("embedded"):
            seen += 1
        assert not line.startswith("finished"), "ingest finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    # The committed view stays consistent: each registered document has exactly its chunks.
    registry = Registry(open_client(settings), settings.store.collection).all()
    chunks = stored(settings)
    for source, record in registry.items():
        live = [c for c in chunks.values()
                if c["source"] == source and c["doc_sha256"] == record.sha256]
        assert len(live) == record.chunks, source

    repair = ingest(settings, HashEmbeddings())
    chunks = stored(settings)
    fresh_settings = settings.model_copy(update={"data_dir": tmp_path / "fresh"})
    reference = ingest(fresh_settings, HashEmbeddings())
    assert set(chunks) == set(stored(fresh_settings))  # no duplicate, no missing chunk
    assert len(chunks) == reference.chunks_added
    assert repair.embedded < reference.chunks_added  # work done before the kill was kept
