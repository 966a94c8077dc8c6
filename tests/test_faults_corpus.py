"""Fault injection on the corpus: links out of it, hidden folders, odd names, bad bytes, size."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner

from core.settings import IngestSettings, Settings
from ingest.embeddings import HashEmbeddings
from ingest.load import OUTSIDE, load_file, scan
from ingest.pipeline import SAME_NAME, Plan, ingest
from ingest.store import ChunkStore, open_client
from oncoqa.cli import main
from oncoqa.console import estimate_line
from tests.conftest import cli_env

SECRET = "The vault code of the Zorblax facility is 7731."
FACT = "Cisplatin is given every three weeks in this invented regimen."


def _stored(settings: Settings) -> dict[str, dict[str, str]]:
    store = ChunkStore(open_client(settings), settings.store.collection, HashEmbeddings())
    page = store.collection.get(include=["metadatas", "documents"])
    return {cid: {"source": m["source"], "text": d}
            for cid, m, d in zip(page["ids"], page["metadatas"], page["documents"], strict=True)}


def _small(tmp_path: Path, **ingest_settings: float) -> Settings:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(FACT + "\n", encoding="utf-8")
    return Settings(data_dir=tmp_path / "data", corpus_dir=corpus,
                    embedding={"backend": "hash"}, llm={"backend": "extractive"},
                    ingest=IngestSettings(**ingest_settings))


def test_links_out_of_the_corpus_are_skipped_with_a_reason(tmp_path: Path) -> None:
    settings = _small(tmp_path)
    corpus = settings.corpus_dir
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET, encoding="utf-8")
    (corpus / "passwd.txt").symlink_to(outside / "secret.txt")
    (corpus / "linked-folder").symlink_to(outside)
    (corpus / "sub").mkdir()
    (corpus / "sub" / "up.txt").symlink_to("../../private/secret.txt")
    (corpus / "alias.txt").symlink_to(corpus / "good.txt")  # stays inside: indexed
    report = ingest(settings, HashEmbeddings())
    assert {(s.source, s.reason) for s in report.skipped} == {
        ("passwd.txt", OUTSIDE), ("linked-folder", OUTSIDE), ("sub/up.txt", OUTSIDE)}
    assert OUTSIDE == "symbolic link to a path outside the corpus folder (not read)"
    texts = [v["text"] for v in _stored(settings).values()]
    assert not any("Zorblax" in t for t in texts)
    assert sorted(d.source for d in report.documents) == ["alias.txt", "good.txt"]
    # load_file checks again at read time (a link swapped in after the scan)
    (corpus / "late.txt").symlink_to(outside / "secret.txt")
    assert load_file(corpus / "late.txt", corpus).reason == OUTSIDE  # type: ignore[union-attr]


def test_hidden_and_version_control_folders_are_not_read(tmp_path: Path) -> None:
    settings = _small(tmp_path)
    for name in (".git/objects/notes.txt", ".svn/text.txt", ".hg/store.md", "CVS/Entries.txt",
                 "sub/.cache/old.md", ".hidden.txt"):
        path = settings.corpus_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SECRET, encoding="utf-8")
    paths, skipped = scan(settings.corpus_dir)
    assert [p.name for p in paths] == ["good.txt"] and skipped == []


def test_file_names_that_are_not_utf8_are_indexed_under_a_shown_name(tmp_path: Path) -> None:
    settings = _small(tmp_path)
    folder = os.fsencode(settings.corpus_dir)
    for raw, text in ((b"bad\xff.txt", "Radiotherapy lasts six weeks."),
                      (b"bad\xfe.txt", "Radiotherapy lasts six weeks."),
                      (b"bad\\xff.txt", "A literal backslash name.")):
        with open(os.path.join(folder, raw), "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    report = ingest(settings, HashEmbeddings())
    shown = sorted(d.source for d in report.documents)
    assert shown == ["bad\\xfe.txt", "bad\\xff.txt", "good.txt"]
    assert [(s.source, s.reason) for s in report.skipped] == [("bad\\xff.txt", SAME_NAME)]
    stored = _stored(settings)
    # same text in two files: two sets of ids, because ids hash the name's exact bytes
    assert sorted(v["source"] for v in stored.values()) == shown
    again = ingest(settings, HashEmbeddings())
    assert again.embedded == 0 and again.chunks_removed == 0


def test_a_few_invalid_bytes_are_replaced_and_counted(tmp_path: Path) -> None:
    settings = _small(tmp_path)
    damaged = ("Chemotherapy is given in cycles. " * 20).encode() + b"\xff\xfe" + b" End.\n"
    (settings.corpus_dir / "damaged.txt").write_bytes(damaged)
    result = CliRunner().invoke(main, ["ingest"], env=cli_env(settings))
    assert result.exit_code == 0, result.output
    assert "-; 2 invalid bytes replaced" in result.output
    docs = {d.source: d for d in ingest(settings, HashEmbeddings()).documents}
    assert docs["damaged.txt"].replaced == 2
    assert any("\ufffd\ufffd End." in v["text"] for v in _stored(settings).values())


def test_files_over_the_size_cap_are_skipped_and_long_runs_are_estimated(
        tmp_path: Path) -> None:
    settings = _small(tmp_path, max_file_mb=0.001, chunks_per_second=0.05, warn_seconds=10)
    (settings.corpus_dir / "huge.txt").write_text("Nausea is common. " * 200, encoding="utf-8")
    plans: list[Plan] = []
    report = ingest(settings, HashEmbeddings(), plan=plans.append)
    assert [(s.source, s.reason) for s in report.skipped] == [
        ("huge.txt", "file is 0.0036 MB, over the 0.001 MB limit (ONCOQA_INGEST__MAX_FILE_MB)")]
    assert plans == [Plan(chunks=1, seconds=20.0)]
    assert estimate_line(Plan(1500, 1500 / 25), 25) == (
        "1500 chunks to embed: about 60 seconds at 25 chunks/s "
        "(Ctrl-C stops; documents already written are kept)")
    (settings.corpus_dir / "good.txt").write_text(FACT + " Changed.\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["ingest"], env=cli_env(settings))
    assert result.exit_code == 0, result.output
    assert "1 chunks to embed: about 20 seconds at 0.05 chunks/s" in result.output
