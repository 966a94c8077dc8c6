"""Build the ONNX e5 from the local sentence-transformers folder: export with torch, fuse with
onnxruntime's transformer optimizer (fp32 graph), quantize that dynamically (int8 graph).
Offline, at `oncoqa prepare`."""

from __future__ import annotations

import importlib.metadata
import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ingest.onnx_embeddings import MARKER, TOKENIZER_FILE, model_file
from oncoqa.model_packages import ModelPrepError, is_current, staged_folder

log = logging.getLogger(__name__)

Say = Callable[[str], None]


@dataclass(frozen=True)
class Recipe:
    """How the graphs are made. Any change here changes the vectors, so `version` goes into the
    runtime names an index records (and an index built with another recipe is rebuilt)."""

    version: int = 1
    per_channel: bool = True  # one scale per output channel: mean cosine 0.987 -> 0.997
    reduce_range: bool = False  # measured: no better on this CPU
    op_types: tuple[str, ...] = ("MatMul", "Attention")
    opset: int = 17

    def runtimes(self) -> dict[str, str]:
        return {"fp32": f"onnxruntime fp32 fused r{self.version}",
                "int8": f"onnxruntime int8-dynamic per-channel r{self.version}"}


RECIPE = Recipe()


class _Pooled:
    """Factory for the exported module: BERT, then e5's mean pooling and L2 normalisation, so
    the graph returns sentence vectors (pooling inside the graph costs nothing extra)."""

    @staticmethod
    def build(e5_dir: Path) -> Any:
        import torch
        from transformers import AutoModel

        # Eager attention exports the pattern onnxruntime's optimizer fuses into Attention ops.
        bert = AutoModel.from_pretrained(str(e5_dir), add_pooling_layer=False,
                                         attn_implementation="eager").eval()

        class Pooled(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.bert = bert

            def forward(self, input_ids: Any, attention_mask: Any) -> Any:
                hidden = self.bert(input_ids=input_ids,
                                   attention_mask=attention_mask).last_hidden_state
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(pooled, p=2, dim=1)

        return Pooled().eval(), bert.config


def _export(e5_dir: Path, dest: Path, recipe: Recipe) -> Any:
    import warnings

    import torch

    module, config = _Pooled.build(e5_dir)
    ids = torch.full((2, 16), 5, dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    mask[1, 9:] = 0  # trace with padding, so the mask path is the general one
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "embedding": {0: "batch"}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation + tracer notes
        torch.onnx.export(module, (ids, mask), str(dest), input_names=["input_ids",
                          "attention_mask"], output_names=["embedding"], dynamic_axes=axes,
                          opset_version=recipe.opset, dynamo=False)
    return config


def _fuse(src: Path, dest: Path, config: Any) -> dict[str, int]:
    from onnxruntime.transformers.optimizer import optimize_model

    model = optimize_model(str(src), model_type="bert", num_heads=config.num_attention_heads,
                           hidden_size=config.hidden_size, opt_level=1)
    model.save_model_to_file(str(dest))
    return {k: v for k, v in model.get_fused_operator_statistics().items() if v}


def _quantize(src: Path, dest: Path, recipe: Recipe) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # its advice to pre-process applies to static quantization
    try:
        quantize_dynamic(str(src), str(dest), weight_type=QuantType.QInt8,
                         op_types_to_quantize=list(recipe.op_types),
                         per_channel=recipe.per_channel, reduce_range=recipe.reduce_range,
                         # The fused ops come from onnxruntime's own domain: shape inference
                         # cannot type their outputs, and all of them are float.
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        root.setLevel(level)


def _versions() -> dict[str, str]:
    return {name: importlib.metadata.version(name)
            for name in ("torch", "transformers", "onnx", "onnxruntime")}


def _source_key(e5_dir: Path) -> Any:
    """What identifies the source weights: the e5 build's own key, or the files' sizes."""
    try:
        return json.loads((e5_dir / ".oncoqa-build.json").read_text(encoding="utf-8"))["key"]
    except (OSError, ValueError, KeyError):
        return {p.name: p.stat().st_size for p in sorted(e5_dir.glob("*")) if p.is_file()}


def build_e5_onnx(e5_dir: Path, out_dir: Path, *, force: bool = False,
                  recipe: Recipe = RECIPE, say: Say | None = None) -> Path:
    """The ONNX model folder (fp32 and int8 graphs) for the e5 folder e5_dir; instant when
    out_dir already holds a build of the same source, recipe and library versions."""
    say = say or log.info
    e5_dir, out_dir = Path(e5_dir), Path(out_dir)
    if not (e5_dir / "config.json").is_file() or not (e5_dir / TOKENIZER_FILE).is_file():
        raise ModelPrepError(f"{e5_dir} is not a built e5 model folder; build it first")
    # Through JSON, so it compares equal to the marker's copy (tuples come back as lists).
    key = json.loads(json.dumps({"recipe": asdict(recipe), "source": _source_key(e5_dir),
                                 "versions": _versions()}))
    if is_current(out_dir / MARKER, key, force=force):
        return out_dir
    started = time.perf_counter()
    with staged_folder(out_dir) as tmp:
        say(f"ONNX embedding model: exporting {e5_dir.name} (fp32, ~20 s)")
        config = _export(e5_dir, tmp / "fp32.onnx", recipe)
        say("ONNX embedding model: fusing attention, layer norm and GELU (~40 s)")
        fused = _fuse(tmp / "fp32.onnx", tmp / model_file("fp32"), config)
        (tmp / "fp32.onnx").unlink()
        say("ONNX embedding model: quantizing to int8 (~20 s)")
        _quantize(tmp / model_file("fp32"), tmp / model_file("int8"), recipe)
        shutil.copyfile(e5_dir / TOKENIZER_FILE, tmp / TOKENIZER_FILE)
        identity = {"model": e5_dir.name, "runtimes": recipe.runtimes(),
                    "detail": ", ".join(f"{k} {v}" for k, v in key["versions"].items())}
        (tmp / MARKER).write_text(json.dumps({"key": key, "identity": identity, "fused": fused},
                                             indent=2) + "\n", encoding="utf-8")
    say(f"ONNX embedding model: built {out_dir} in {time.perf_counter() - started:.0f} s")
    return out_dir
