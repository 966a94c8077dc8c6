"""Embedding models behind LangChain's Embeddings: e5 via sentence-transformers, or a hash fake."""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from core.errors import ModelMissingError
from core.settings import DEFAULT_E5, EmbeddingSettings
from core.text import CJK_RUN
from ingest.identity import EmbeddingIdentity

_WORD = re.compile(r"[a-z0-9]+")


class CountingEmbeddings(Embeddings):
    """Base that counts every passage and question it embeds, so 'nothing re-embedded' and
    'each question embedded once' are checkable.

    The last few question vectors are remembered: the retriever embeds a question and the
    answer step ranks sentences against the same question moments later.
    """

    remembered_queries = 32

    def __init__(self) -> None:
        self.embedded_passages = 0
        self.embedded_queries = 0  # questions that went through the model (not remembered)
        self.query_calls = 0  # model calls made for questions (several questions per call)
        self._queries: OrderedDict[str, list[float]] = OrderedDict()
        self._queries_lock = threading.Lock()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded_passages += len(texts)
        return self._embed(texts, query=False)

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries([text])[0]

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Question vectors, the ones not remembered embedded together in one model call."""
        with self._queries_lock:
            known = {t: self._queries[t] for t in texts if t in self._queries}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            self.embedded_queries += len(missing)
            self.query_calls += 1
            known.update(zip(missing, self._embed(missing, query=True), strict=True))
        with self._queries_lock:
            for text in texts:
                self._queries[text] = known[text]
                self._queries.move_to_end(text)
            while len(self._queries) > self.remembered_queries:
                self._queries.popitem(last=False)
        return [list(known[t]) for t in texts]  # copies: a caller may change its vector

    def forget_queries(self) -> None:
        """Drop the remembered question vectors (benchmarks time the model, not the memory)."""
        with self._queries_lock:
            self._queries.clear()

    def _embed(self, texts: list[str], *, query: bool) -> list[list[float]]:
        raise NotImplementedError

    @property
    def identity(self) -> EmbeddingIdentity:
        """Which model and runtime make these vectors (recorded in the index; cheap, no load)."""
        return EmbeddingIdentity(model=type(self).__name__, runtime="python")

    def warm_up(self) -> None:
        """Load whatever is lazy now, so the first user does not pay for it."""


class SentenceTransformerEmbeddings(CountingEmbeddings):
    """A sentence-transformers model with e5-style query/passage prefixes, loaded lazily."""

    def __init__(
        self,
        model: str,
        *,
        query_prefix: str = "query: ",
        passage_prefix: str = "passage: ",
        batch_size: int = 8,
        threads: int = 2,
        query_threads: int | None = None,
    ) -> None:
        super().__init__()
        self.model_name = model
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        self.threads = threads
        # A question is one short sequence: on a busy machine a second thread mostly waits for
        # its descheduled partner (bench/RESULTS.md), so questions may use fewer threads.
        self.query_threads = query_threads or threads
        self._model: Any = None

    @property
    def identity(self) -> EmbeddingIdentity:
        import importlib.metadata

        versions = ", ".join(f"{name} {importlib.metadata.version(name)}"
                             for name in ("sentence-transformers", "torch"))
        return EmbeddingIdentity(model=Path(self.model_name).name,
                                 runtime="sentence-transformers torch fp32", detail=versions)

    def warm_up(self) -> None:
        self._load()

    def _load(self) -> Any:
        if self._model is None:
            folder = Path(self.model_name)
            problem = damaged_file(folder) if folder.is_dir() else None
            if problem:
                raise ModelMissingError(f"the embedding model cannot be loaded: {problem}",
                                        hint="rebuild it with `oncoqa prepare --force` (or "
                                        "`make models`)")
            import torch
            from sentence_transformers import SentenceTransformer

            torch.set_num_threads(self.threads)
            self._model = SentenceTransformer(self.model_name, device="cpu")
        return self._model

    def _embed(self, texts: list[str], *, query: bool) -> list[list[float]]:
        prefix = self.query_prefix if query else self.passage_prefix
        model = self._load()
        import torch

        threads = self.query_threads if query else self.threads
        if torch.get_num_threads() != threads:  # process-wide: set per call, cheap when equal
            torch.set_num_threads(threads)
        vectors = model.encode(
            [prefix + t for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return [[float(x) for x in row] for row in vectors.tolist()]


class HashEmbeddings(CountingEmbeddings):
    """Deterministic bag-of-features embedder: English words plus Chinese character unigrams
    and bigrams, hashed into a fixed space. For tests and model-free runs; not semantic."""

    def __init__(self, dims: int = 384) -> None:
        super().__init__()
        self.dims = dims

    @property
    def identity(self) -> EmbeddingIdentity:
        return EmbeddingIdentity(model=f"hash-{self.dims}", runtime="python")

    def _embed(self, texts: list[str], *, query: bool) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def _vector(self, text: str) -> list[float]:
        vec = [0.0] * self.dims
        for feature in features(text):
            digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
            slot = int.from_bytes(digest[:4], "little") % self.dims
            vec[slot] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(v * v for v in vec))
        if norm == 0:
            vec[0], norm = 1.0, 1.0  # an empty text still needs a valid unit vector
        return [v / norm for v in vec]


def features(text: str) -> list[str]:
    lowered = text.lower()
    out = _WORD.findall(lowered)
    for run in CJK_RUN.findall(lowered):
        out.extend(run)
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def damaged_file(folder: Path) -> str | None:
    """What is wrong with the first missing, unreadable or cut-short file of a
    sentence-transformers folder; None when all look whole (checked before torch loads them)."""
    for name in ("modules.json", "config.json", "tokenizer.json", "model.safetensors"):
        if not (folder / name).is_file():
            return f"{folder / name} is missing"
    for path in sorted(folder.rglob("*.json")):
        try:
            json.loads(path.read_bytes())
        except (OSError, ValueError):
            return f"{path} is damaged (not valid JSON)"
    weights = folder / "model.safetensors"
    return None if _whole_safetensors(weights) else f"{weights} is damaged or cut short"


def _whole_safetensors(path: Path) -> bool:
    """The header parses and its tensors end exactly at the end of the file."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        length = int.from_bytes(handle.read(8), "little")
        if size < 8 or length > size - 8:
            return False
        try:
            header = json.loads(handle.read(length))
            ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
        except (ValueError, KeyError, TypeError, IndexError, AttributeError):
            return False
    return bool(ends) and 8 + length + max(ends) == size


def resolve_model(settings: EmbeddingSettings, models_dir: Path) -> str:
    """The bundled e5 name maps to the folder `oncoqa prepare` builds; anything else is used as
    given (a local path or a hub name)."""
    if settings.model != DEFAULT_E5:
        return settings.model
    folder = models_dir / DEFAULT_E5
    if not (folder / "modules.json").exists():
        raise ModelMissingError(
            f"the embedding model is not built yet ({folder})",
            hint="run `make models` or `oncoqa prepare`",
        )
    return str(folder)


def make_embeddings(settings: EmbeddingSettings, models_dir: Path) -> CountingEmbeddings:
    match settings.backend:
        case "sentence-transformers":
            return SentenceTransformerEmbeddings(
                resolve_model(settings, models_dir),
                query_prefix=settings.query_prefix,
                passage_prefix=settings.passage_prefix,
                batch_size=settings.batch_size,
                threads=settings.threads,
                query_threads=settings.query_threads,
            )
        case "onnx-fp32" | "onnx-int8":
            from ingest.onnx_embeddings import OnnxEmbeddings

            return OnnxEmbeddings(
                onnx_folder(settings, models_dir),
                precision="int8" if settings.backend == "onnx-int8" else "fp32",
                query_prefix=settings.query_prefix,
                passage_prefix=settings.passage_prefix,
                batch_size=settings.batch_size,
                threads=settings.threads,
                query_threads=settings.query_threads,
            )
        case "hash":
            return HashEmbeddings()
    raise ValueError(
        f"unknown embedding backend {settings.backend!r}; choose onnx-fp32, onnx-int8, "
        "sentence-transformers or hash"
    )


ONNX_DIRNAME = f"{DEFAULT_E5}-onnx"


def onnx_folder(settings: EmbeddingSettings, models_dir: Path) -> Path:
    """The ONNX build of the bundled e5 (`oncoqa prepare` makes it from the local weights);
    other models have no ONNX build."""
    if settings.model != DEFAULT_E5:
        raise ModelMissingError(
            f"the {settings.backend} embedding backend runs only the bundled {DEFAULT_E5}, not "
            f"{settings.model!r}",
            hint="set ONCOQA_EMBEDDING__BACKEND=sentence-transformers for other models",
        )
    return models_dir / ONNX_DIRNAME
