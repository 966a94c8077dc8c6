"""multilingual-e5-small through onnxruntime: the fused fp32 or int8 graph `oncoqa prepare` builds,
e5 prompts, mean pooling and normalisation inside the graph, batches sorted by length."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

from core.errors import ModelMissingError
from ingest.embeddings import CountingEmbeddings
from ingest.identity import EmbeddingIdentity

Precision = Literal["fp32", "int8"]
TOKENIZER_FILE = "tokenizer.json"
MARKER = ".oncoqa-build.json"  # written last by the build: its presence means a whole build
_PAD_ID = 1  # XLM-R's <pad>; masked out, so its value does not change the vectors
_BIG_TABLE = 1 << 22  # weights with at least this many values are shared between sessions


def model_file(precision: Precision) -> str:
    return f"model-{precision}.onnx"


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The build record of an ONNX model folder; None when it is missing or unreadable."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class OnnxEmbeddings(CountingEmbeddings):
    """An e5 model exported to ONNX, run by onnxruntime, loaded lazily.

    Passages and questions go through the same graph (their vectors must be comparable); a
    question may run on fewer threads, in a session of its own made on first use.
    """

    def __init__(
        self,
        folder: Path,
        *,
        precision: Precision = "int8",
        query_prefix: str = "query: ",
        passage_prefix: str = "passage: ",
        batch_size: int = 8,
        threads: int = 2,
        query_threads: int | None = None,
        max_tokens: int = 512,
    ) -> None:
        super().__init__()
        self.folder = Path(folder)
        self.precision = precision
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        self.threads = threads
        self.query_threads = query_threads or threads
        self.max_tokens = max_tokens
        self._tokenizer: Any = None
        self._sessions: dict[int, Any] = {}
        self._tables: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None  # questions side by side, made on first use

    @property
    def identity(self) -> EmbeddingIdentity:
        found = (read_marker(self.folder) or {}).get("identity") or {}
        runtime = (found.get("runtimes") or {}).get(self.precision, "onnxruntime (unknown build)")
        return EmbeddingIdentity(model=str(found.get("model", self.folder.name)),
                                 runtime=str(runtime), detail=str(found.get("detail", "")))

    def warm_up(self) -> None:
        self._session(self.threads)
        self._session(self.query_threads)

    def _check(self) -> None:
        for name in (model_file(self.precision), TOKENIZER_FILE):
            if not (self.folder / name).is_file():
                raise ModelMissingError(
                    f"the ONNX embedding model is not built ({self.folder / name} is missing)",
                    hint="run `oncoqa prepare` (or `make models`)")
        if read_marker(self.folder) is None:
            raise ModelMissingError(f"the ONNX embedding model in {self.folder} is incomplete",
                                    hint="rebuild it with `oncoqa prepare --force`")

    def _session(self, threads: int) -> Any:
        with self._lock:
            if threads not in self._sessions:
                self._check()
                import onnxruntime as ort
                from tokenizers import Tokenizer

                if self._tokenizer is None:
                    tokenizer = Tokenizer.from_file(str(self.folder / TOKENIZER_FILE))
                    tokenizer.enable_truncation(max_length=self.max_tokens)
                    tokenizer.no_padding()
                    self._tokenizer = tokenizer
                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                # A spinning worker burns a core its partner may need when the machine is shared.
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                from google.protobuf.message import DecodeError
                from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidProtobuf

                path = self.folder / model_file(self.precision)
                try:
                    for name, value in self._big_tables().items():
                        options.add_initializer(name, value)
                    self._sessions[threads] = ort.InferenceSession(
                        str(path), options, providers=["CPUExecutionProvider"])
                except (DecodeError, InvalidProtobuf, Fail) as exc:
                    raise ModelMissingError(f"the ONNX embedding model {path} is damaged",
                                            hint="rebuild it with `oncoqa prepare --force`"
                                            ) from exc
            return self._sessions[threads]

    def _big_tables(self) -> dict[str, Any]:
        """The large weight tables (the 250k-row word embeddings), read once and handed to every
        session: a second session (questions on fewer threads) then holds no copy of its own."""
        if self._tables is None:
            import numpy as np
            import onnx
            import onnxruntime as ort
            from onnx import numpy_helper

            graph = onnx.load(str(self.folder / model_file(self.precision))).graph
            self._tables = {
                t.name: ort.OrtValue.ortvalue_from_numpy(numpy_helper.to_array(t))
                for t in graph.initializer if int(np.prod(t.dims)) >= _BIG_TABLE}
        return self._tables

    def _embed(self, texts: list[str], *, query: bool) -> list[list[float]]:
        side_by_side = self.threads // self.query_threads
        if query and len(texts) > 1 and side_by_side > 1:
            # A question comes with its other search texts (for a Chinese one, its English
            # terms and rendering). Each goes through the question session on a thread of its
            # own: no barrier between the threads, so a busy core delays one text, not every
            # layer of all of them (as one 2-thread pass would), and on a quiet machine two
            # texts take the time of one (p50 23 -> 13 ms).
            session = self._session(self.query_threads)
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(side_by_side,
                                                    thread_name_prefix="oncoqa-question")
            return [row for part in self._pool.map(
                lambda text: self._run(session, [text], self.query_prefix), texts)
                for row in part]
        session = self._session(self.query_threads if query else self.threads)
        return self._run(session, texts, self.query_prefix if query else self.passage_prefix)

    def _run(self, session: Any, texts: list[str], prefix: str) -> list[list[float]]:
        import numpy as np

        encoded = [e.ids for e in self._tokenizer.encode_batch([prefix + t for t in texts])]
        out = np.zeros((len(texts), 0), dtype=np.float32)
        # Similar lengths share a batch, so little of each batch is padding.
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            ids, mask = padded([encoded[i] for i in rows])
            vectors = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            if out.shape[1] == 0:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
        return out.tolist()


def padded(sequences: list[list[int]]) -> tuple[Any, Any]:
    """Token ids padded to the longest sequence, and the attention mask (int64, as exported)."""
    import numpy as np

    width = max(len(s) for s in sequences)
    ids = np.full((len(sequences), width), _PAD_ID, dtype=np.int64)
    mask = np.zeros((len(sequences), width), dtype=np.int64)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = seq
        mask[row, : len(seq)] = 1
    return ids, mask
