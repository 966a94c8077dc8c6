"""The console's Evaluation and Feedback-to-gold tabs without a browser: feedback -> candidate
(checked like gold), plot numbers from a results.json, and an evaluation started from the tab."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import gradio as gr

from core.settings import Settings
from eval import plots
from eval.candidates import (
    CandidateInput,
    add_candidate,
    check_file,
    check_gold,
    cited_passages,
    first_quote,
    parse_key_facts,
    read_feedback,
    to_review,
)
from eval.gold import Evidence
from eval.job import EvalJob, EvalRequest, run_evaluation
from ingest.embeddings import HashEmbeddings
from ingest.pipeline import ingest
from oncoqa.console_insight import candidates_file, insight_actions
from oncoqa.wiring import eval_builders, keyword_builder
from ui.insight import (
    CandidateForm,
    EvalProgress,
    evaluation_tab,
    feedback_tab,
    progress_html,
    verdict_markdown,
)

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "000_61149c4b2133eace.txt"
QUOTE = ("the purpose of which is to shrink the mass and kill the invisible metastatic cells "
         "early to facilitate subsequent surgery")
QUESTION = "My oncologist says chemo comes first and the operation later: what is that for?"
ZH_QUESTION = "手术前先化疗到底有什么用？"
OFF_TOPIC = "Can I dye my hair during radiotherapy?"
SMALL_IDS = ("en-001", "zh-001", "un-001", "mt-001")


def feedback_records(corpus: Path) -> list[dict[str, Any]]:
    """Three rated answers as ui/feedback.py writes them: a thumbs-down citing the passage
    that holds QUOTE, a thumbs-up with a comment, and a plain thumbs-up (not for review)."""
    text = Evidence(corpus).text(SOURCE)
    at = text.find(QUOTE)
    start, end = max(0, at - 120), min(len(text), at + len(QUOTE) + 80)

    def record(time: str, rating: str, comment: str, question: str, lang: str,
               cited: bool) -> dict[str, Any]:
        citations = [{"n": 1, "source": SOURCE, "title": "Neoadjuvant chemotherapy",
                      "start": start, "end": end}] if cited else []
        return {"time": time, "rating": rating, "comment": comment, "question": question,
                "answer": "Chemotherapy first [1].", "kind": "answer", "citations": citations,
                "language": lang}

    return [record("2026-11-29T09:00:00+00:00", "down", "misses the point", QUESTION, "en", True),
            record("2026-11-29T10:00:00+00:00", "up", "ok but vague", ZH_QUESTION, "zh", True),
            record("2026-11-29T11:00:00+00:00", "up", "", OFF_TOPIC, "en", False)]


def write_feedback(settings: Settings) -> Path:
    path = settings.feedback_file
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r, ensure_ascii=False) for r in feedback_records(settings.corpus_dir)]
    path.write_text("\n".join([lines[0], '{"torn', *lines[1:]]) + "\n", encoding="utf-8")
    return path


def test_feedback_to_review_keeps_thumbs_down_and_comments(settings: Settings) -> None:
    write_feedback(settings)
    items = read_feedback(settings.feedback_file)
    assert [i.line for i in items] == [1, 3, 4]  # the torn line 2 is skipped
    review = to_review(items)
    assert [i.question for i in review] == [ZH_QUESTION, QUESTION]  # newest first
    shown = cited_passages(review[1], settings.corpus_dir)
    assert QUOTE in shown[0].text and not shown[0].problem
    assert 40 <= len(shown[0].suggested) <= 300 and shown[0].suggested in shown[0].text


def test_first_quote_fits_the_gold_length() -> None:
    long = "First sentence is here and long enough to count. " * 10
    assert first_quote(long).endswith(".") and len(first_quote(long)) <= 300
    assert first_quote("short") == "short"
    assert parse_key_facts("shrink | 缩小\n\n 6 weeks ｜六周 ") == (("shrink", "缩小"),
                                                                   ("6 weeks", "六周"))


def _choice(settings: Settings, line: int, **values: Any) -> CandidateInput:
    item = next(i for i in read_feedback(settings.feedback_file) if i.line == line)
    return CandidateInput(item, **values)


def test_valid_quote_is_accepted_and_the_line_passes_check_gold(settings: Settings,
                                                                tmp_path: Path) -> None:
    write_feedback(settings)
    path = tmp_path / "candidates.jsonl"
    verdict = add_candidate(_choice(settings, 1, answerable=True, source=SOURCE, quote=QUOTE,
                                    key_facts=(("shrink", "缩小"),), note="patient wording"),
                            path, settings.corpus_dir)
    assert verdict.ok and verdict.written, verdict.errors
    (line,) = path.read_text(encoding="utf-8").splitlines()
    item = json.loads(line)
    assert list(item) == ["id", "language", "question", "turns", "answerable", "sources",
                          "evidence", "key_facts", "notes", "split"]
    taken = {json.loads(x)["id"] for x in (ROOT / "eval/gold/en.jsonl").read_text().splitlines()}
    assert item["id"].startswith("en-") and item["id"] not in taken
    assert (item["evidence"], item["split"]) == ([QUOTE], "dev")
    assert "misses the point" in item["notes"] and "patient wording" in item["notes"]

    # check_gold itself, on the command line, agrees; then a tampered quote fails it
    script = ROOT / "eval" / "gold" / "check_gold.py"
    run = subprocess.run([sys.executable, str(script), "--candidates", str(path)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout
    assert check_file(path, settings.corpus_dir).ok
    path.write_text(line.replace("shrink the mass", "shrink the tumour"), encoding="utf-8")
    run = subprocess.run([sys.executable, str(script), "--candidates", str(path)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 1 and "not an exact substring" in run.stdout
    tampered = check_file(path, settings.corpus_dir)
    assert not tampered.ok and any("not an exact substring" in e for e in tampered.errors)


def test_quote_not_in_the_source_is_rejected_and_not_written(settings: Settings,
                                                             tmp_path: Path) -> None:
    write_feedback(settings)
    path = tmp_path / "candidates.jsonl"
    verdict = add_candidate(_choice(settings, 1, answerable=True, source=SOURCE,
                                    quote=QUOTE.replace("invisible", "visible"),
                                    key_facts=(("shrink", "缩小"),)), path, settings.corpus_dir)
    assert not verdict.written and not path.exists()
    assert any("not an exact substring" in e for e in verdict.errors)
    # a key fact without a Chinese form is rejected for the reason check_gold gives
    verdict = add_candidate(_choice(settings, 1, answerable=True, source=SOURCE, quote=QUOTE,
                                    key_facts=(("shrink",),)), path, settings.corpus_dir)
    assert any("lacks a Chinese form" in e for e in verdict.errors) and not path.exists()


def test_unanswerable_candidate_and_duplicates(settings: Settings, tmp_path: Path) -> None:
    write_feedback(settings)
    path = tmp_path / "candidates.jsonl"
    verdict = add_candidate(_choice(settings, 4, answerable=False, quote="ignored"), path,
                            settings.corpus_dir)
    assert verdict.written, verdict.errors
    item = json.loads(path.read_text(encoding="utf-8"))
    assert item["id"].startswith("un-") and item["answerable"] is False
    assert (item["sources"], item["evidence"], item["key_facts"]) == ([], [], [])
    errors, _ = check_gold().check_candidates(str(path), str(settings.corpus_dir))
    assert errors == []
    again = add_candidate(_choice(settings, 4, answerable=False), path, settings.corpus_dir)
    assert not again.written and any("duplicate question" in e for e in again.errors)
    # a question already in the gold sets cannot come back as a candidate
    gold_question = json.loads((ROOT / "eval/gold/en.jsonl").read_text().splitlines()[0])
    records = [dict(json.loads(x), question=gold_question["question"])
               for x in settings.feedback_file.read_text().splitlines()[:1]]
    settings.feedback_file.write_text(json.dumps(records[0]) + "\n", encoding="utf-8")
    dup = add_candidate(_choice(settings, 1, answerable=True, source=SOURCE, quote=QUOTE,
                                key_facts=(("shrink", "缩小"),)), path, settings.corpus_dir)
    assert any("duplicate question text (also the gold sets)" in e for e in dup.errors)


def small_results(path: Path) -> Path:
    """A results.json as eval.report writes it, with two languages and made-up numbers."""
    def stat(value: float, n: int = 2) -> dict[str, Any]:
        return {"value": value, "low": None, "high": None, "n": n}

    summary = {
        "all": {"n": 5, "metrics": {"doc.hit@1": stat(0.75, 4), "doc.hit@4": stat(1.0, 4),
                                    "doc.mrr": stat(0.875, 4), "passage.hit@1": stat(0.5, 4),
                                    "passage.hit@4": stat(0.75, 4), "passage.mrr": stat(0.6, 4),
                                    "latency.retrieval.p50": stat(20.0, 5)}},
        "language:en": {"n": 3, "metrics": {"passage.hit@1": stat(1.0), "passage.hit@4":
                                            stat(1.0), "passage.mrr": stat(1.0),
                                            "doc.hit@4": stat(1.0)}},
        "language:zh": {"n": 2, "metrics": {"passage.hit@1": stat(0.0), "passage.hit@4":
                                            stat(0.5), "passage.mrr": stat(0.2),
                                            "doc.hit@4": stat(1.0)}},
        "direction:en->none": {"n": 1, "metrics": {}},
        "direction:zh->en": {"n": 2, "metrics": {"passage.hit@4": stat(0.5)}},
        "file:en": {"n": 3, "metrics": {"passage.hit@4": stat(1.0)}},
    }
    rows = [{"id": f"q{i}", "error": "" if i != 4 else "boom", "timings": {"retrieval": ms}}
            for i, ms in enumerate((10.0, 20.0, 30.0, 40.0, 999.0))]
    path.write_text(json.dumps({"config": {"k": 4, "mode": "retrieval"}, "summary": summary,
                                "failures": [], "rows": rows}), encoding="utf-8")
    return path


def test_plot_data_from_a_results_file(tmp_path: Path) -> None:
    results = plots.load_results(small_results(tmp_path / "results.json"))
    bars = plots.by_slice(results)
    assert bars.categories == ("all (n=4)", "en (n=2)", "zh (n=2)", "zh->en (n=0)")
    assert [name for name, _ in bars.series] == ["hit@1", "hit@4", "mrr"]  # k=4: no extra hit@k
    assert bars.values("hit@4") == (0.75, 1.0, 0.5, 0.5)
    assert bars.values("mrr") == (0.6, 1.0, 0.2, None)
    level = plots.levels(results)
    assert level.values("doc")[:2] == (0.75, 1.0) and level.values("passage")[3] == 0.6
    assert plots.latencies(results) == (10.0, 20.0, 30.0, 40.0)  # the failed item is left out
    baseline = plots.load_results(small_results(tmp_path / "base.json"))
    compared = plots.against(results, baseline)
    assert "passage.mrr · zh" in compared.categories
    assert compared.values("this run") == compared.values("baseline")
    for figure in (plots.bar_figure(bars), plots.latency_figure(results)):
        assert figure.axes  # drawable


def _small_gold(path: Path) -> Path:
    lines = [line for f in sorted((ROOT / "eval/gold").glob("*.jsonl"))
             for line in f.read_text(encoding="utf-8").splitlines()
             if json.loads(line)["id"] in SMALL_IDS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_run_evaluation_reports_progress(settings: Settings, tmp_path: Path) -> None:
    ingest(settings, HashEmbeddings(), keywords=keyword_builder())
    seen: list[tuple[int, int, str]] = []
    outcome = run_evaluation(settings, eval_builders(), EvalRequest(), tmp_path / "out",
                             lambda d, n, s: seen.append((d, n, s)),
                             [_small_gold(tmp_path / "small.jsonl")])
    assert seen[0] == (0, 4, "loading the embedding model") and seen[-1][:2] == (4, 4)
    assert [d for d, _, _ in seen if d] == [1, 2, 3, 4]
    data = json.loads(outcome.results.read_text(encoding="utf-8"))
    assert data["config"]["from"] == "console" and len(data["rows"]) == outcome.items == 4


def _wait(actions: Any, seconds: float = 120) -> EvalProgress:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        progress = actions.eval_progress()
        if not progress.running:
            return progress
        time.sleep(0.2)
    raise AssertionError("the console evaluation did not finish")


def test_evaluation_from_the_tab_actions(settings: Settings, tmp_path: Path) -> None:
    ingest(settings, HashEmbeddings(), keywords=keyword_builder())
    actions = insight_actions(settings, gold_files=[_small_gold(tmp_path / "small.jsonl")])
    assert actions.modes == ("retrieval", "extractive")  # no model configured in tests
    assert actions.eval_figures().results is None
    assert actions.start_eval("retrieval", "all")
    assert not actions.start_eval("retrieval", "all")  # one at a time
    done = _wait(actions)
    assert (done.error, done.items, done.errors) == ("", 4, 0)
    assert (done.done, done.total) == (4, 4)  # the job saw every item's progress
    assert "Finished: 4 items" in progress_html(done)
    figures = actions.eval_figures()
    assert figures.results == settings.data_dir / "eval" / "latest" / "results.json"
    assert figures.results.is_file() and figures.hits is not None and figures.latency is not None
    assert figures.baseline is None
    kept = actions.save_baseline()
    assert kept.is_file() and actions.eval_figures().baseline is not None
    assert actions.eval_progress().version != done.version  # the tab redraws

    assert actions.start_eval("extractive", "all")
    answered = _wait(actions)
    assert answered.error == "" and answered.items == 4
    data = json.loads(figures.results.read_text(encoding="utf-8"))
    assert (data["config"]["mode"], data["config"]["llm"]) == ("answer", "extractive")


def test_failed_run_shows_why(settings: Settings, tmp_path: Path) -> None:
    job = EvalJob(lambda request, progress: run_evaluation(
        settings, eval_builders(), request, tmp_path / "out", progress,
        [_small_gold(tmp_path / "small.jsonl")]))
    assert job.start(EvalRequest())  # no index was built
    deadline = time.monotonic() + 60
    while job.status().state == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.status().state == "failed" and "index" in job.status().error.lower()


def test_tab_actions_turn_feedback_into_candidates(settings: Settings) -> None:
    write_feedback(settings)
    actions = insight_actions(settings)
    assert [i.line for i in actions.review()] == [3, 1]
    (shown,) = actions.passages(1)
    verdict = actions.add_candidate(CandidateForm(1, True, shown.source, f"  {QUOTE} ",
                                                  "shrink | 缩小", ""))
    assert verdict.written, verdict.errors
    assert candidates_file(settings) == settings.data_dir / "gold-candidates.jsonl"
    text = verdict_markdown(verdict, actions.candidates_file)
    assert "Accepted as en-" in text and QUOTE in text
    whole = actions.check_candidates()
    assert not whole.errors and "1 candidates, all pass" in verdict_markdown(
        whole, actions.candidates_file, whole_file=True)
    missing = actions.add_candidate(CandidateForm(99, False, "", "", "", ""))
    assert not missing.written and "no longer" in missing.errors[0]


def test_tabs_build_inside_blocks(settings: Settings) -> None:
    actions = insight_actions(settings)
    with gr.Blocks() as demo:
        with gr.Tab("Evaluation"):
            evaluation_tab(actions)
        with gr.Tab("Feedback"):
            feedback_tab(actions, "zh")
    assert len(demo.fns) >= 8



def test_the_consoles_retrieval_run_loads_no_model_beside_the_apps() -> None:
    from oncoqa.console_insight import _request

    # retrieval: no renderings of Chinese questions, so no second copy of the local model
    assert _request("retrieval", "dev").llm == "extractive"
    assert _request("answer", "dev").llm is None  # the configured generator
    assert _request("extractive", "test").llm == "extractive"
