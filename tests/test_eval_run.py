"""Evaluation runs: the real e5 index against the thresholds, and `oncoqa eval` end to end."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from core.settings import Settings
from eval import report
from eval.cli import register
from eval.components import Builders, in_split
from eval.gold import Evidence, default_gold_files, load_gold, parse_item
from eval.run import retrieval_query, run_answers, run_retrieval
from eval.summary import summarize
from eval.thresholds import check, describe, load_thresholds
from ingest.embeddings import HashEmbeddings
from ingest.pipeline import ingest
from oncoqa.wiring import eval_builders, measured_retriever
from qa.types import Answer, Passage, Turn

GOLD = Path(__file__).resolve().parents[1] / "eval" / "gold"
SMALL_IDS = ("en-001", "zh-001", "un-001", "mt-001")


def _root(builders: Builders | None = None) -> click.Group:
    @click.group()
    def root() -> None:
        """The bare group register() attaches to (ctx.obj comes from CliRunner.invoke)."""

    register(root, builders or eval_builders())
    return root


def _small_gold(path: Path) -> Path:
    lines = [line for f in sorted(GOLD.glob("*.jsonl")) for line in f.read_text().splitlines()
             if json.loads(line)["id"] in SMALL_IDS]
    assert len(lines) == len(SMALL_IDS)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.real_embedding
@pytest.mark.slow
def test_real_index_meets_retrieval_thresholds(tmp_path: Path, corpus: Path,
                                               e5_embeddings: object) -> None:
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus)
    ingest(settings, e5_embeddings)  # type: ignore[arg-type]
    items = load_gold(default_gold_files())
    retriever = measured_retriever(settings, e5_embeddings)  # type: ignore[arg-type]
    rows = run_retrieval(items, retriever, Evidence(corpus), settings.retrieval.k)
    summary = summarize(rows)
    limits = [t for t in load_thresholds() if t.group == "retrieval"]
    assert {t.slice for t in limits} >= {"language:en", "language:zh", "direction:zh->en"}
    failures, skipped = check(limits, summary, rows)
    assert not skipped, f"thresholds for slices/metrics this run lacks: {skipped}"
    assert not failures, "\n".join(describe(f) for f in failures)


def test_eval_command_end_to_end(tmp_path: Path, settings: Settings) -> None:
    ingest(settings, HashEmbeddings())
    gold = _small_gold(tmp_path / "small.jsonl")
    easy = tmp_path / "easy.toml"
    easy.write_text('[retrieval."language:en"]\n"doc.hit@4" = 0.0\n'
                    '[answer.all]\n"answer.refusal_recall" = 0.0\n'
                    '"answer.false_refusal_rate" = { max = 1.0 }\n')
    out = tmp_path / "report"
    runner = CliRunner()
    args = ["eval", "--gold", str(gold), "--llm", "extractive", "--out", str(out)]
    result = runner.invoke(_root(), [*args, "--thresholds", str(easy)], obj=settings)
    assert result.exit_code == 0, result.output
    assert "3 passed, 0 failed" in result.output
    data = json.loads((out / "results.json").read_text())
    assert [r["id"] for r in data["rows"]] == ["en-001", "mt-001", "un-001", "zh-001"]
    assert data["config"]["mode"] == "answer" and data["config"]["llm"] == "extractive"
    assert (data["config"]["design"], data["config"]["split"]) == ("select", "all")
    assert {"all", "language:en", "language:zh", "file:small"} <= set(data["summary"])
    assert "answer.refusal_recall" in data["summary"]["all"]["metrics"]
    summary_md = (out / "summary.md").read_text()
    assert "## By language" in summary_md and "doc.hit@4" in summary_md

    hard = tmp_path / "hard.toml"
    hard.write_text('[retrieval."language:en"]\n"doc.mrr" = 1.01\n')  # above any achievable MRR
    out2 = tmp_path / "report2"
    result = runner.invoke(_root(), [*args[:-1], str(out2), "--thresholds", str(hard),
                                     "--baseline", str(out / "results.json")], obj=settings)
    assert result.exit_code == 1, result.output
    assert "FAIL doc.mrr on language:en" in result.output
    assert "(+0.000)" in (out2 / "summary.md").read_text()  # same run: zero deltas


def test_eval_retrieval_mode_applies_overrides(tmp_path: Path, settings: Settings) -> None:
    ingest(settings, HashEmbeddings())
    gold = _small_gold(tmp_path / "small.jsonl")
    out = tmp_path / "report"
    result = CliRunner().invoke(_root(), [
        "eval", "--gold", str(gold), "--mode", "retrieval", "--retriever", "bm25",
        "--no-glossary", "--k", "2", "--out", str(out), "--thresholds", str(_empty(tmp_path)),
    ], obj=settings)
    assert result.exit_code == 0, result.output
    data = json.loads((out / "results.json").read_text())
    config = data["config"]
    assert (config["retriever"], config["dense_weight"], config["glossary"], config["k"]) == (
        "bm25", 0.0, False, 2)
    assert all(len(r["retrieved"]) <= 2 for r in data["rows"])
    assert all(r["answer"] is None for r in data["rows"])


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "none.toml"
    path.write_text("")
    return path


def test_eval_command_rejects_bad_gold(tmp_path: Path, settings: Settings) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n')
    result = CliRunner().invoke(_root(), ["eval", "--gold", str(bad), "--out",
                                          str(tmp_path / "o")], obj=settings)
    assert result.exit_code == 2
    assert "missing keys" in result.output


class _Searcher:
    """Deterministic fake: returns fixed passages (none for questions containing 'nothing')."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = list(passages)
        self.queries: list[str] = []

    def search(self, question: str, k: int | None = None) -> list[Passage]:
        self.queries.append(question)
        return [] if "nothing" in question else self.passages[: k or 4]


class _Answerer:
    """Deterministic fake chain: records each call's history, answers with the question."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Turn, ...]]] = []

    def answer(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        self.calls.append((question, tuple(history)))
        return Answer(text=f"answer to {question}", language="en")


def _gold_item(id_: str, turns: list[str]) -> object:
    return parse_item({"id": id_, "language": "en", "question": None, "turns": turns,
                       "answerable": True, "sources": ["000_61149c4b2133eace.txt"],
                       "evidence": ["Neoadjuvant chemotherapy refers to systemic chemotherapy"],
                       "key_facts": [["systemic"]], "notes": "n"})


def test_multiturn_history_and_empty_results(tmp_path: Path) -> None:
    corpus = Path(__file__).resolve().parents[1] / "corpus"
    follow = _gold_item("m", ["How long after chemo can I have surgery?", "And with that drug?"])
    empty = _gold_item("e", ["This question finds nothing at all, sadly?", "And then what?"])
    hit = Passage(id="p", source="000_61149c4b2133eace.txt", title="t", text="x", start=0, end=80,
                  language="en", score=1.0)
    searcher = _Searcher([hit])
    rows = run_retrieval([follow, empty], searcher, Evidence(corpus), 4)  # type: ignore[list-item]
    assert searcher.queries[0] == retrieval_query(follow)  # type: ignore[arg-type]
    assert searcher.queries[0].startswith("How long after chemo")  # previous turn prepended
    assert rows[0].values["passage.mrr"] == 1.0
    assert rows[1].retrieved == () and rows[1].values["doc.mrr"] == 0.0
    assert summarize(rows)["all"].stats["doc.mrr"].value == pytest.approx(0.5)

    chain = _Answerer()
    run_answers([follow], chain, Evidence(corpus), 4)  # type: ignore[list-item]
    first, second = chain.calls
    assert first == ("How long after chemo can I have surgery?", ())
    assert second[1] == (Turn("How long after chemo can I have surgery?",
                              "answer to How long after chemo can I have surgery?"),)


class _Fixed:
    """Fake chain that gives one fixed answer to every question."""

    def __init__(self, answer: Answer) -> None:
        self.fixed = answer

    def answer(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        return self.fixed


def test_a_refusal_states_no_key_fact_even_when_a_topic_it_names_holds_one() -> None:
    corpus = Path(__file__).resolve().parents[1] / "corpus"
    item = _gold_item("r", ["What is neoadjuvant chemotherapy?", "Is it systemic?"])
    named = "My documents do not cover this. The closest topic I have is “Systemic therapy”."
    refused = run_answers([item], _Fixed(Answer(text=named, language="en", refused=True)),
                          Evidence(corpus), 4)  # type: ignore[list-item]
    answered = run_answers([item], _Fixed(Answer(text="It is systemic.", language="en")),
                           Evidence(corpus), 4)  # type: ignore[list-item]
    assert refused[0].values["answer.key_fact_recall"] == 0.0
    assert refused[0].answer is not None and refused[0].answer.facts_missing == ("systemic",)
    assert answered[0].values["answer.key_fact_recall"] == 1.0


def _fake_builders(calls: dict[str, list[tuple[str, str]]]) -> Builders:
    """Builders that build nothing real: one scripted answerer per design, recording its calls."""

    class Designed:
        def __init__(self, design: str) -> None:
            self.design = design

        def answer(self, question: str, history: Sequence[Turn] = ()) -> Answer:
            calls.setdefault(self.design, []).append((self.design, question))
            return Answer(text=f"{self.design}: answer", language="en")

    def answerers(settings: Settings, designs: Sequence[str], embeddings: object) -> dict:
        assert settings.answer.design == designs[0]
        return {design: Designed(design) for design in designs}

    return Builders(embeddings=lambda settings: None,
                    retriever=lambda settings, embeddings: _Searcher([]),
                    answerers=answerers, llm_available=lambda settings: False)


def test_design_both_runs_the_same_items_through_each_design(tmp_path: Path,
                                                              settings: Settings) -> None:
    calls: dict[str, list[tuple[str, str]]] = {}
    gold = _small_gold(tmp_path / "small.jsonl")
    out = tmp_path / "report"
    result = CliRunner().invoke(_root(_fake_builders(calls)), [
        "eval", "--gold", str(gold), "--design", "both", "--out", str(out),
        "--thresholds", str(_empty(tmp_path))], obj=settings)
    assert result.exit_code == 0, result.output
    assert set(calls) == {"select", "compose"}
    assert [q for _, q in calls["select"]] == [q for _, q in calls["compose"]]
    assert len(calls["select"]) >= len(SMALL_IDS)
    for design in ("select", "compose"):
        data = json.loads((out / design / "results.json").read_text())
        assert data["config"]["design"] == design
        assert {r["answer"]["text"] for r in data["rows"]} == {f"{design}: answer"}
    if hasattr(report, "write_comparison"):  # the side-by-side report, when eval has one
        assert "select" in (out / "comparison.md").read_text()


def test_split_keeps_only_that_splits_items(tmp_path: Path, settings: Settings) -> None:
    class Item:
        def __init__(self, split: str) -> None:
            self.split = split

    items = [Item("dev"), Item("test"), Item("dev")]
    assert [i.split for i in in_split(items, "dev")] == ["dev", "dev"]  # type: ignore[arg-type]
    assert in_split(items, "all") == items  # type: ignore[arg-type]
    assert in_split([object()], "test") == []  # type: ignore[list-item]  # no split recorded
    gold = tmp_path / "split.jsonl"
    lines = _small_gold(tmp_path / "small.jsonl").read_text().splitlines()
    gold.write_text("\n".join(lines[:1]) + "\n", encoding="utf-8")
    split = getattr(load_gold([gold])[0], "split", "")
    other = "test" if split == "dev" else "dev"
    result = CliRunner().invoke(_root(_fake_builders({})), [
        "eval", "--gold", str(gold), "--split", other, "--out", str(tmp_path / "o"),
        "--thresholds", str(_empty(tmp_path))], obj=settings)
    assert result.exit_code == 2 and "no gold items" in result.output
