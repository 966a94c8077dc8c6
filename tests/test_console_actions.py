"""The console's actions: upload, ingest in the background, answerable at once, delete, lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from ingest.store import Registry, open_client, writer_lock
from oncoqa.maintain import Maintenance
from oncoqa.serve import build_engine
from tests.test_ui_client import make_ui_settings
from ui.chat import Session, final_answer

FACT_FILE = "quorvane-leaflet.md"
FACT_DOC = (
    "# Quorvane infusion day\n\n"
    "Quorvane infusions are given through a violet filter tube that the pharmacy changes "
    "every eleven minutes. The violet filter tube keeps quorvane crystals out of the vein.\n"
)
FACT_QUESTION = "How often does the pharmacy change the violet filter tube for quorvane infusions?"


@pytest.fixture
def ui_settings(tmp_path: Path) -> Settings:
    return make_ui_settings(tmp_path)


def sources_cited(settings: Settings, engine: object, question: str) -> set[str]:
    answer = final_answer(engine, question, Session())  # type: ignore[arg-type]
    return {c.source for c in answer.citations}


def upload_file(tmp_path: Path, name: str, data: bytes) -> Path:
    folder = tmp_path / "gradio-upload"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def test_upload_is_answerable_as_soon_as_its_ingest_commits(ui_settings: Settings,
                                                          tmp_path: Path) -> None:
    engine = build_engine(ui_settings)  # as the running app holds it: retriever already built
    assert FACT_FILE not in sources_cited(ui_settings, engine, FACT_QUESTION)
    maintain = Maintenance(ui_settings)
    temp = upload_file(tmp_path, FACT_FILE, FACT_DOC.encode())
    outcome = maintain.upload(temp, FACT_FILE, False)
    assert (outcome.ok, outcome.key) == (True, "upload_saved")
    assert not temp.exists()  # the temporary copy is gone
    assert (ui_settings.corpus_dir / FACT_FILE).read_text() == FACT_DOC
    status = maintain.job.wait(60)
    assert status.state == "done", status
    row = next(r for r in status.rows if r.source == FACT_FILE)
    assert (row.status, row.chunks) == ("added", 1)
    assert {r.status for r in status.rows} == {"added", "unchanged"}
    assert status.totals["chunks_added"] == 1
    listed = {d.source: d for d in maintain.documents()}
    doc = listed[FACT_FILE]
    assert doc.title == "Quorvane infusion day" and doc.languages == ("en",)
    assert doc.chunks == 1 and doc.ingested_at > 0 and doc.notes == "-"
    assert FACT_FILE in sources_cited(ui_settings, engine, FACT_QUESTION)

    outcome = maintain.delete(FACT_FILE)
    assert (outcome.ok, outcome.key) == (True, "delete_done")
    assert maintain.job.wait(60).state == "done"
    assert FACT_FILE not in {d.source for d in maintain.documents()}
    assert not (ui_settings.corpus_dir / FACT_FILE).exists()
    assert FACT_FILE not in sources_cited(ui_settings, engine, FACT_QUESTION)


def test_same_name_is_numbered_or_replaced_and_same_bytes_are_a_no_op(
        ui_settings: Settings, tmp_path: Path) -> None:
    maintain = Maintenance(ui_settings)
    first = maintain.upload(upload_file(tmp_path, "n.md", b"# One\n\nFirst text."), "n.md", False)
    assert first.key == "upload_saved"
    again = maintain.upload(upload_file(tmp_path, "n.md", b"# One\n\nFirst text."), "n.md", False)
    assert again.key == "upload_same"
    other = maintain.upload(upload_file(tmp_path, "n.md", b"# Two\n\nOther text."), "n.md", False)
    assert (other.key, other.values["name"]) == ("upload_renamed", "n (2).md")
    replaced = maintain.upload(upload_file(tmp_path, "n.md", b"# Three\n\nNew."), "n.md", True)
    assert replaced.key == "upload_saved"
    assert (ui_settings.corpus_dir / "n.md").read_bytes() == b"# Three\n\nNew."
    assert maintain.job.wait(60).state == "done"
    titles = {d.source: d.title for d in maintain.documents()}
    assert titles["n.md"] == "Three" and titles["n (2).md"] == "Two"


def test_bad_uploads_change_nothing(ui_settings: Settings, tmp_path: Path) -> None:
    maintain = Maintenance(ui_settings)
    before = sorted(p.name for p in ui_settings.corpus_dir.iterdir())
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    assert maintain.upload(upload_file(tmp_path, "x.md", png), "x.md", False).key == (
        "upload_binary")
    big = b"a" * int(ui_settings.ingest.max_file_mb * 1e6 + 10)
    assert maintain.upload(upload_file(tmp_path, "big.txt", big), "big.txt", False).key == (
        "upload_too_big")
    assert maintain.delete("../../etc/passwd").key == "delete_unknown"
    assert maintain.delete("not-indexed.md").key == "delete_unknown"
    assert sorted(p.name for p in ui_settings.corpus_dir.iterdir()) == before
    assert maintain.job.status().state == "idle"
    saved = maintain.upload(upload_file(tmp_path, "p.md", b"# P\n\ntext"), "../../p.md", False)
    assert saved.values["name"] == "p.md" and (ui_settings.corpus_dir / "p.md").exists()
    maintain.job.wait(60)


def test_a_locked_index_is_a_message_not_a_crash(ui_settings: Settings) -> None:
    maintain = Maintenance(ui_settings)
    with writer_lock(ui_settings):  # an `oncoqa ingest` in a terminal
        assert maintain.job.request().key == "console_ingest_started"
        status = maintain.job.wait(60)
    assert (status.state, status.problem) == ("failed", "locked")
    assert maintain.job.request().ok
    assert maintain.job.wait(60).state == "done"


def test_notes_are_recorded_and_old_records_without_them_still_read(
        ui_settings: Settings) -> None:
    client = open_client(ui_settings)
    registry = Registry(client, ui_settings.store.collection)
    records = registry.all()
    assert all(r.notes for r in records.values())
    # An index written before notes were recorded: the field is missing.
    source = sorted(records)[0]
    collection = client.get_collection(f"{ui_settings.store.collection}_documents")
    meta = dict(collection.get(ids=[source], include=["metadatas"])["metadatas"][0])
    meta.pop("notes")
    collection.delete(ids=[source])  # (an update would merge the old keys back)
    collection.add(ids=[source], embeddings=[[1.0]], metadatas=[meta])
    assert "notes" not in collection.get(ids=[source], include=["metadatas"])["metadatas"][0]
    assert Registry(client, ui_settings.store.collection).all()[source].notes == ""
    # The next ingest fills it in without re-embedding or changing the ingest time.
    maintain = Maintenance(ui_settings)
    maintain.job.request()
    status = maintain.job.wait(60)
    assert status.totals["chunks_added"] == 0
    record = Registry(client, ui_settings.store.collection).all()[source]
    assert record.notes == records[source].notes
    assert record.ingested_at == records[source].ingested_at
