"""The few exceptions OncoQA raises on purpose; the CLI and UI turn them into friendly messages."""

from __future__ import annotations


class OncoQAError(Exception):
    """An expected failure with a hint that tells the user what to do next."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def friendly(self) -> str:
        return f"{self.message}. {self.hint}" if self.hint else self.message


class NoIndexError(OncoQAError):
    """The Chroma index is missing or empty."""


class IndexLockedError(OncoQAError):
    """Another process is writing to the same embedded Chroma directory."""


class ModelMissingError(OncoQAError):
    """A bundled model has not been prepared yet."""


class LLMUnavailableError(OncoQAError):
    """The configured LLM backend cannot be reached or loaded."""


class BadQuestionError(OncoQAError):
    """The question cannot be processed (empty, too long, no text)."""


class CorpusError(OncoQAError):
    """The corpus directory or manifest is unusable."""


class StoreUnavailableError(OncoQAError):
    """The Chroma server does not answer (down, restarting, unreachable)."""


class IndexReadOnlyError(OncoQAError):
    """The index folder cannot be written (Chroma needs to, even to answer)."""


class DiskFullError(OncoQAError):
    """The disk holding the index is full."""
