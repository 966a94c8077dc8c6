"""The ONNX backends on a tiny random BERT built here: export, fuse, quantize, load, embed.

The real e5 is checked against today's torch vectors in tests/test_real_onnx.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.errors import ModelMissingError
from core.settings import EmbeddingSettings
from ingest.embeddings import ONNX_DIRNAME, make_embeddings
from ingest.onnx_embeddings import MARKER, OnnxEmbeddings, model_file, padded
from oncoqa.e5_onnx_build import RECIPE, build_e5_onnx

WORDS = ["query", "passage", ":", "chemo", "surgery", "radiotherapy", "fatigue", "nausea", "rest",
         "weeks", "after", "before", "the", "of", "and", "is", "a", "to", "化", "疗", "手", "术",
         "放", "后"]


def _tiny_bert(folder: Path) -> Path:
    """A 2-layer BERT with random weights and a word-level tokenizer adding <s> ... </s>."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    # Filler words: onnxruntime's fusion tells the word table from the position table by size.
    filler = [f"w{i}" for i in range(64)]
    vocab = {w: i for i, w in enumerate(["<s>", "<pad>", "</s>", "<unk>", *WORDS, *filler])}
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=64, max_position_embeddings=32,
                        pad_token_id=1)
    BertModel(config, add_pooling_layer=False).save_pretrained(str(folder))
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    tokenizer.save(str(folder / "tokenizer.json"))
    return folder


def _torch_vectors(folder: Path, texts: list[str]) -> np.ndarray:
    """The same model in torch fp32, mean-pooled and normalised as sentence-transformers does."""
    import torch
    from tokenizers import Tokenizer
    from transformers import BertModel

    model = BertModel.from_pretrained(str(folder), add_pooling_layer=False).eval()
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    out = []
    for text in texts:
        ids = torch.tensor([tokenizer.encode(text).ids])
        with torch.no_grad():
            hidden = model(input_ids=ids).last_hidden_state[0].mean(0)
        out.append((hidden / hidden.norm()).numpy())
    return np.stack(out)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("onnx")
    source = _tiny_bert(root / "tiny-e5")
    lines: list[str] = []
    folder = build_e5_onnx(source, root / "tiny-onnx", say=lines.append)
    assert any("quantizing" in line for line in lines)  # the progress lines of `prepare`
    return source, folder


def test_build_writes_fused_fp32_and_int8_graphs_and_reruns_instantly(
        built: tuple[Path, Path]) -> None:
    import onnx

    source, folder = built
    marker = json.loads((folder / MARKER).read_text())
    assert marker["identity"]["runtimes"] == RECIPE.runtimes()
    assert marker["fused"].get("Attention") == 2  # one fused attention per layer
    ops = {p: {node.op_type for node in onnx.load(str(folder / model_file(p)),
                                                 load_external_data=False).graph.node}
           for p in ("fp32", "int8")}
    assert "Attention" in ops["fp32"] and not {"QAttention", "MatMulInteger"} & ops["fp32"]
    assert {"QAttention", "MatMulInteger"} & ops["int8"]  # the layers really run in int8
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temp left
    stamp = (folder / model_file("int8")).stat().st_mtime_ns
    quiet: list[str] = []
    assert build_e5_onnx(source, folder, say=quiet.append) == folder
    assert (folder / model_file("int8")).stat().st_mtime_ns == stamp and not quiet


TEXTS = ["chemo before surgery", "fatigue after radiotherapy is a the of and rest weeks",
         "化 疗 后", "nausea", "the surgery is weeks after chemo and rest"]


def test_fp32_graph_gives_torchs_vectors(built: tuple[Path, Path]) -> None:
    source, folder = built
    model = OnnxEmbeddings(folder, precision="fp32", batch_size=2, threads=1)
    vectors = np.array(model.embed_documents(TEXTS))
    reference = _torch_vectors(source, ["passage: " + t for t in TEXTS])
    assert np.abs(vectors - reference).max() < 1e-4  # same vectors, padding and all


def test_int8_vectors_match_torch_and_do_not_depend_on_batching(built: tuple[Path, Path]) -> None:
    source, folder = built
    texts = TEXTS
    model = OnnxEmbeddings(folder, batch_size=2, threads=1)
    together = np.array(model.embed_documents(texts))
    alone = np.array([model.embed_documents([t])[0] for t in texts])
    # Length-sorted, padded batches give each text the vector it gets alone, in input order.
    # (Not bit for bit: dynamic quantization scales activations per batch.)
    same = together @ alone.T
    assert (same.argmax(1) == np.arange(len(texts))).all()
    assert np.diag(same).min() > 0.999
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-4)
    reference = _torch_vectors(source, ["passage: " + t for t in texts])
    cosines = (together * reference).sum(1)
    assert cosines.min() > 0.98, cosines  # int8 stays close to the fp32 model
    question = np.array(model.embed_query("chemo before surgery"))
    assert not np.allclose(question, together[0])  # query: and passage: prefixes differ
    assert model.embedded_passages == 2 * len(texts) and model.embedded_queries == 1
    assert model.embed_documents([]) == []


def test_identity_comes_from_the_build(built: tuple[Path, Path]) -> None:
    _, folder = built
    int8, fp32 = OnnxEmbeddings(folder).identity, OnnxEmbeddings(folder, precision="fp32").identity
    assert int8.model == fp32.model == "tiny-e5"
    assert (int8.runtime, fp32.runtime) == (RECIPE.runtimes()["int8"], RECIPE.runtimes()["fp32"])
    assert not int8.same_vectors(fp32) and "onnxruntime" in int8.detail


def test_padding_and_missing_model_errors(tmp_path: Path) -> None:
    ids, mask = padded([[0, 5, 2], [0, 2]])
    assert ids.tolist() == [[0, 5, 2], [0, 2, 1]] and mask.tolist() == [[1, 1, 1], [1, 1, 0]]
    model = OnnxEmbeddings(tmp_path / "nothing")
    with pytest.raises(ModelMissingError, match="not built") as missing:
        model.embed_query("x")
    assert "oncoqa prepare" in missing.value.friendly()
    for backend, precision in (("onnx-int8", "int8"), ("onnx-fp32", "fp32")):
        made = make_embeddings(EmbeddingSettings(backend=backend), tmp_path)
        assert isinstance(made, OnnxEmbeddings) and made.folder == tmp_path / ONNX_DIRNAME
        assert made.precision == precision
        assert made.query_threads == EmbeddingSettings().query_threads
    with pytest.raises(ModelMissingError, match="only the bundled") as other:
        make_embeddings(EmbeddingSettings(backend="onnx-int8", model="some/other-model"),
                        tmp_path)
    assert "BACKEND=sentence-transformers" in other.value.friendly()


def test_a_damaged_graph_is_named_with_the_fix(built: tuple[Path, Path], tmp_path: Path) -> None:
    import shutil

    _, folder = built
    copy = Path(shutil.copytree(folder, tmp_path / "copy"))
    graph = copy / model_file("fp32")
    graph.write_bytes(graph.read_bytes()[:1000])  # a copy cut short
    with pytest.raises(ModelMissingError, match="is damaged") as damaged:
        OnnxEmbeddings(copy, precision="fp32").embed_query("chemo")
    assert "oncoqa prepare --force" in damaged.value.friendly()


def test_question_texts_go_side_by_side_with_the_vectors_of_one_by_one(
        built: tuple[Path, Path]) -> None:
    """A Chinese question and its English search texts are embedded in one call: each text on a
    1-thread session of its own thread, in input order, with the vector it gets alone."""
    _, folder = built
    texts = ["化 疗 后", "chemo before surgery", "nausea", "the surgery is weeks after chemo"]
    model = OnnxEmbeddings(folder, precision="fp32", threads=2, query_threads=1)
    together = np.array(model.embed_queries(texts))
    assert model._pool is not None and model.query_calls == 1  # one call, run side by side
    alone = np.array([OnnxEmbeddings(folder, precision="fp32", threads=1).embed_query(t)
                      for t in texts])
    assert np.abs(together - alone).max() < 1e-5
    passages = np.array(model.embed_documents(texts))  # passages still go as one batch
    assert not np.allclose(passages, together)  # (the passage prefix, not the question's)
