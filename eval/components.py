"""Settings variants for an evaluation run and the builders the entry point hands it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # types only: the command line starts without loading the chain
    from core.settings import Settings
    from eval.gold import GoldItem
    from eval.run import Answering, Row, Searcher
    from eval.summary import SliceSummary
    from eval.thresholds import Failure, Threshold

RetrieverKind = Literal["hybrid", "dense", "bm25"]
Design = Literal["select", "compose"]
DESIGNS: tuple[Design, ...] = ("select", "compose")
SPLITS = ("dev", "test", "all")


@dataclass(frozen=True)
class Builders:
    """How to build what an evaluation measures. The evaluation never builds stores, models or
    chains itself: `oncoqa eval` hands these in (tests hand in their own)."""

    # One embedding model, shared by every retriever and answerer of a run.
    embeddings: Callable[[Settings], Any]
    # The retriever over the existing index (with an LLM translator when settings ask for one).
    retriever: Callable[[Settings, Any], Searcher]
    # One answerer per answer design, sharing a retriever and a generator.
    answerers: Callable[[Settings, Sequence[Design], Any], Mapping[str, Answering]]
    # Whether the configured generator can run here (the local model needs its GGUF file).
    llm_available: Callable[[Settings], bool]


@dataclass(frozen=True)
class DesignRun:
    """One answer design's results in a run (what a side-by-side report compares)."""

    design: str
    rows: Sequence[Row]
    summary: Mapping[str, SliceSummary]
    config: Mapping[str, Any]
    failures: Sequence[Failure]
    skipped: Sequence[Threshold]


def in_split(items: Sequence[GoldItem], split: str) -> list[GoldItem]:
    """The gold items of one split ("dev" for tuning, "test" for reporting); "all" keeps all."""
    if split == "all":
        return list(items)
    return [item for item in items if getattr(item, "split", "") == split]


def configure(settings: Settings, *, retriever: RetrieverKind = "hybrid",
              glossary: bool | None = None, translate: bool | None = None,
              llm: str | None = None, k: int | None = None,
              design: Design | None = None, phrase_memory: bool = False) -> Settings:
    """A copy of settings with the evaluation's overrides (dense = BM25 weight 0 and so on);
    without the phrase memory unless asked for (its hits make times depend on its history)."""
    update: dict[str, Any] = {}
    if retriever == "dense":
        update["bm25_weight"] = 0.0
    elif retriever == "bm25":
        update["dense_weight"] = 0.0
    if glossary is not None:
        update["glossary"] = glossary
    if translate is not None:
        update["translate"] = translate
    if k is not None:
        update["k"] = k
    changes: dict[str, Any] = {"retrieval": settings.retrieval.model_copy(update=update)}
    if llm is not None:
        changes["llm"] = settings.llm.model_copy(update={"backend": llm})
    if design is not None:
        changes["answer"] = settings.answer.model_copy(update={"design": design})
    changed = settings.model_copy(update=changes)
    return changed if phrase_memory and changed.answer.phrase_memory else changed.timed()


def retriever_kind(settings: Settings) -> str:
    r = settings.retrieval
    if r.bm25_weight == 0:
        return "dense"
    return "bm25" if r.dense_weight == 0 else "hybrid"


def describe(settings: Settings, mode: str) -> dict[str, Any]:
    """The run configuration recorded in results.json."""
    r = settings.retrieval
    config: dict[str, Any] = {
        "mode": mode, "retriever": retriever_kind(settings), "k": r.k, "fetch_k": r.fetch_k,
        "dense_weight": r.dense_weight, "bm25_weight": r.bm25_weight, "glossary": r.glossary,
        "translate": r.translate, "embedding": f"{settings.embedding.backend}:"
        f"{settings.embedding.model}",
        "chunk_tokens": settings.chunk.max_tokens,
    }
    if mode == "answer":
        config["llm"] = settings.llm.backend
        config["design"] = settings.answer.design
        config["phrase_memory"] = settings.answer.phrase_memory
    return config
