"""Phrasings remembered on disk. Translating one source sentence for a Chinese reader costs the
local model several seconds, and the same sentences come back for many questions; once the
model's output for a sentence has been verified (or rejected), the next reader gets it from
here instead of waiting for the model again.

An entry is keyed by the model and the exact instructions it was given, so another model or a
changed prompt starts afresh (qa.phrase adds the verifier's revision to the key of a
rejection, so a verifier that accepts more asks again). The model runs at temperature 0, so a
remembered phrasing is what the model would say again; it is still verified again before it is
shown (qa.phrase), so a stricter verifier applies to old entries too. A memory that cannot be
read or written only costs time: the model is asked as if it were empty."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = ("CREATE TABLE IF NOT EXISTS phrasings (key TEXT PRIMARY KEY, text TEXT, "
           "created REAL NOT NULL)")


@dataclass(frozen=True)
class Recall:
    """What the model produced for these instructions before: a verified text, or None when
    every attempt was rejected by the verifier."""

    text: str | None


class PhraseMemory:
    """One SQLite file shared by every app process on the data dir (each call opens its own
    short connection: no handle crosses threads, and writers wait for each other)."""

    def __init__(self, path: Path, model: str, *, timeout: float = 2.0) -> None:
        self.path = path
        self.model = model
        self.timeout = timeout
        self._ready = False

    def key(self, *parts: str) -> str:
        """The key of one phrasing request: the model and everything it is told."""
        digest = hashlib.sha256(self.model.encode("utf-8"))
        for part in parts:
            digest.update(b"\0" + part.encode("utf-8"))
        return digest.hexdigest()

    def get(self, key: str) -> Recall | None:
        """The remembered outcome, or None when there is none (or the file cannot be read)."""
        rows = self._run("SELECT text FROM phrasings WHERE key = ?", (key,))
        if not rows or not (rows[0][0] is None or isinstance(rows[0][0], str)):
            return None
        return Recall(rows[0][0])

    def put(self, key: str, text: str | None) -> None:
        """Remember a verified text, or (None) that every attempt was rejected."""
        self._run("INSERT OR REPLACE INTO phrasings VALUES (?, ?, ?)", (key, text, time.time()))

    def _run(self, sql: str, args: tuple[object, ...]) -> list[tuple[object, ...]]:
        """One statement in its own connection and transaction; nothing on any failure."""
        try:
            if not self._ready:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=self.timeout)
        except (OSError, sqlite3.Error):
            return []
        try:
            with db:
                if not self._ready:
                    db.execute("PRAGMA journal_mode=WAL")  # readers do not wait for a writer
                    db.execute(_SCHEMA)
                    self._ready = True
                return db.execute(sql, args).fetchall()
        except sqlite3.Error:
            return []
        finally:
            db.close()
