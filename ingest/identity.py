"""Which model and runtime made an index's vectors, and when a stored index no longer fits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmbeddingIdentity:
    """What made a set of vectors. Vectors of two identities are not comparable: a question
    embedded by one must not be searched against passages embedded by the other.

    `model` names the weights, `runtime` the runtime, precision and build recipe (its version is
    part of the string: a new recipe changes the vectors); `detail` is for people only (library
    versions) and is not compared, so a library upgrade does not force a rebuild.
    """

    model: str
    runtime: str
    detail: str = ""

    def same_vectors(self, other: EmbeddingIdentity) -> bool:
        return (self.model, self.runtime) == (other.model, other.runtime)

    def __str__(self) -> str:
        return f"{self.model} ({self.runtime})"


def mismatch(stored: EmbeddingIdentity | None, current: EmbeddingIdentity,
             stored_chunks: int) -> str | None:
    """Why an index of stored_chunks vectors made by `stored` cannot take `current`'s vectors;
    None when it can (same identity, or nothing stored yet)."""
    if stored_chunks == 0:
        return None
    if stored is None:
        return (f"the index holds {stored_chunks} chunks but does not record which embedding "
                f"model made them (built before OncoQA recorded it); the configured one is "
                f"{current}")
    if stored.same_vectors(current):
        return None
    return f"the index was embedded with {stored}; the configured embedding is {current}"
