"""The maintainer console's actions: list, upload, delete documents and ingest in the background."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import IndexLockedError, NoIndexError, OncoQAError
from core.settings import Settings
from oncoqa import uploads
from ui.console_actions import ConsoleActions, DocumentRow, JobStatus, Outcome, ReportRow

if TYPE_CHECKING:
    from ingest.embeddings import CountingEmbeddings
    from ingest.pipeline import IngestReport

log = logging.getLogger(__name__)


class IngestJob:
    """One background ingest at a time. Asking while one runs queues exactly one more run, so a
    file saved during an ingest is indexed right after it."""

    def __init__(self, settings: Settings,
                 embeddings: Callable[[], CountingEmbeddings]) -> None:
        self._settings = settings
        self._embeddings = embeddings
        self._lock = threading.Lock()
        self._status = JobStatus()
        self._again = False
        self._thread: threading.Thread | None = None

    def status(self) -> JobStatus:
        with self._lock:
            return self._status

    def request(self) -> Outcome:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._again = True
                return Outcome(True, "console_ingest_queued")
            self._status = JobStatus(state="running")
            self._thread = threading.Thread(target=self._loop, name="oncoqa-console-ingest",
                                            daemon=True)
            self._thread.start()
        return Outcome(True, "console_ingest_started")

    def wait(self, timeout: float | None = None) -> JobStatus:
        """Blocks until no run is going or queued (for tests and the CLI)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                thread = self._thread
            if thread is None:
                return self.status()
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            with self._lock:
                if self._thread is thread and not thread.is_alive():
                    return self._status
            if deadline is not None and time.monotonic() >= deadline:
                return self.status()

    def _loop(self) -> None:
        while True:
            self._run_once()
            with self._lock:
                if not self._again:
                    self._thread = None
                    return
                self._again = False
                self._status = JobStatus(state="running")

    def _run_once(self) -> None:
        from ingest.pipeline import ingest
        from oncoqa.wiring import keyword_builder

        def progress(stage: str, done: int, total: int) -> None:
            with self._lock:
                self._status = replace(self._status, stage=stage, done=done, total=total)

        try:
            report = ingest(self._settings, self._embeddings(), progress=progress,
                            keywords=keyword_builder())
        except IndexLockedError as exc:
            log.warning("console ingest refused: %s", exc.friendly())
            self._finish(JobStatus(state="failed", problem="locked", finished_at=time.time()))
            return
        except OncoQAError as exc:
            log.warning("console ingest failed: %s", exc.friendly())
            self._finish(JobStatus(state="failed", problem=exc.friendly(),
                                   finished_at=time.time()))
            return
        log.info("console ingest: %d documents in %.1f s", len(report.documents), report.seconds)
        self._finish(JobStatus(state="done", rows=report_rows(report), totals=totals(report),
                               finished_at=time.time()))

    def _finish(self, status: JobStatus) -> None:
        with self._lock:
            self._status = status


def report_rows(report: IngestReport) -> tuple[ReportRow, ...]:
    """The CLI's per-document summary as data: read, skipped, removed."""
    rows = [ReportRow(d.source, d.status, d.chunks, d.notes()) for d in report.documents]
    rows += [ReportRow(s.source, "skipped", None, s.reason) for s in report.skipped]
    rows += [ReportRow(source, "removed", None, "") for source in report.documents_removed]
    return tuple(rows)


def totals(report: IngestReport) -> dict[str, float]:
    return {"documents": len(report.documents), "skipped": len(report.skipped),
            "removed": len(report.documents_removed), "chunks_added": report.chunks_added,
            "chunks_unchanged": report.chunks_unchanged, "chunks_removed": report.chunks_removed,
            "seconds": round(report.seconds, 1)}


class Maintenance:
    """The console's actions over settings.corpus_dir and the index."""

    def __init__(self, settings: Settings,
                 embeddings: Callable[[], CountingEmbeddings] | None = None) -> None:
        from oncoqa.wiring import build_embeddings

        self.settings = settings
        self._built: CountingEmbeddings | None = None
        self._factory = embeddings or (lambda: build_embeddings(settings))
        self._embed_lock = threading.Lock()
        self.job = IngestJob(settings, self._embedder)
        self._files = threading.Lock()  # one upload or delete at a time

    def _embedder(self) -> CountingEmbeddings:
        with self._embed_lock:
            if self._built is None:
                self._built = self._factory()
            return self._built

    def actions(self) -> ConsoleActions:
        return ConsoleActions(documents=self.documents, upload=self.upload, delete=self.delete,
                              ingest=self.job.request, status=self.job.status)

    def documents(self) -> list[DocumentRow]:
        from ingest.embeddings import HashEmbeddings
        from oncoqa.wiring import open_index

        try:  # listing needs no model: a stand-in embedder keeps it instant
            _, registry = open_index(self.settings, HashEmbeddings())
            records = registry.all()
        except NoIndexError:
            return []
        return [DocumentRow(r.source, r.title, r.languages, r.chunks, r.ingested_at, r.notes)
                for r in sorted(records.values(), key=lambda r: r.source)]

    def upload(self, temp: Path, name: str, replace_same: bool) -> Outcome:
        """Checks the file (size, kind by content, name), stores it in the corpus folder and
        starts an ingest. The temporary copy is removed either way."""
        try:
            return self._store(temp, name, replace_same)
        finally:
            _discard(temp)

    def _store(self, temp: Path, name: str, replace_same: bool) -> Outcome:
        limit = min(self.settings.console.max_upload_mb, self.settings.ingest.max_file_mb)
        try:
            size = temp.stat().st_size
            if size > limit * 1e6:
                return Outcome(False, "upload_too_big", {"size": f"{size / 1e6:.3g}",
                                                         "limit": f"{limit:g}"})
            data = temp.read_bytes()
        except OSError as exc:
            return Outcome(False, "console_error", {"problem": exc.strerror or str(exc)})
        try:
            checked = uploads.check(name, data)
        except uploads.Rejected as exc:
            return Outcome(False, exc.key, exc.values)
        folder = self.settings.corpus_dir
        with self._files:
            folder.mkdir(parents=True, exist_ok=True)
            same = folder / checked.name
            if same.is_file() and same.read_bytes() == data:
                return Outcome(True, "upload_same", {"name": checked.name})
            stored = checked.name if replace_same else uploads.free_name(folder, checked.name)
            target = folder / stored
            partial = folder / f".{stored}.part"  # hidden: ingest never reads a half-written file
            try:
                partial.write_bytes(data)
                os.replace(partial, target)
            except OSError as exc:
                _discard(partial)
                return Outcome(False, "console_error", {"problem": exc.strerror or str(exc)})
        log.info("console upload: %s (%s, %d bytes)", stored, checked.kind, len(data))
        self.job.request()
        renamed = stored != checked.name
        return Outcome(True, "upload_renamed" if renamed else "upload_saved",
                       {"name": stored, "asked": checked.name})

    def delete(self, source: str) -> Outcome:
        """Removes an indexed document's file from the corpus folder; the ingest that follows
        drops its chunks."""
        known = {d.source for d in self.documents()}
        folder = self.settings.corpus_dir
        path = folder / source  # a link is removed itself, never the file it points to
        inside = path.resolve().is_relative_to(folder.resolve())
        if source not in known or not inside or not path.is_file():
            return Outcome(False, "delete_unknown", {"name": source})
        with self._files:
            try:
                path.unlink()
            except OSError as exc:
                return Outcome(False, "console_error", {"problem": exc.strerror or str(exc)})
        log.info("console delete: %s", source)
        self.job.request()
        return Outcome(True, "delete_done", {"name": source})


def _discard(path: Path) -> None:
    """Removes the temporary copy of an upload (gradio keeps uploads in its cache folder)."""
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("could not remove %s: %s", path, exc)
