"""Goals against measurements, the explanation of every miss, and the JSON + Markdown files."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.render import markdown

RESULTS_MD = Path(__file__).resolve().parent / "RESULTS.md"
OVERHEAD_GOAL = 1.15
REINGEST_GOAL = 0.05
THROUGHPUT_GOAL = 20.0  # chunks/s end to end, issue 11; judged on a corpus of 10,000+ chunks
# Retrieval p95 goals (ms) by requested index size (issue 11: 60 ms at 10k, 150 ms at 100k).
RETRIEVAL_GOALS = {10_000: 60.0, 100_000: 150.0}
TTFT_GOAL_MS = 3000.0


@dataclass(frozen=True)
class Goal:
    metric: str
    goal: str  # "—" when the issue asks only to report the number
    measured: str
    met: bool | None  # None: nothing to meet, or not measured


def _stage(results: dict[str, Any], name: str) -> dict[str, Any] | None:
    data = results.get("stages", {}).get(name)
    return data if data and "error" not in data and "skipped" not in data else None


def _missing(results: dict[str, Any], name: str) -> str:
    data = results.get("stages", {}).get(name) or {}
    return str(data.get("error") or data.get("skipped") or "not run")


def _ms(value: float) -> str:
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


def goals(results: dict[str, Any]) -> list[Goal]:
    rows: list[Goal] = []
    ing = _stage(results, "ingest")
    if ing:
        rows += [
            Goal("Ingestion overhead (end-to-end time / model-only time)", f"≤ {OVERHEAD_GOAL}",
                 f"{ing['overhead_ratio']:.3f} ({ing['ingest_seconds']:.0f} s vs "
                 f"{ing['model_only_seconds']:.0f} s, {ing['chunks']:,} chunks)",
                 ing["overhead_ratio"] <= OVERHEAD_GOAL),
            Goal("Ingestion time / its own embedding time (same run, noise-free)", "—",
                 f"{ing['ingest_seconds'] / max(ing['model_seconds_in_ingest'], 1e-9):.3f}",
                 None),
            Goal("Ingestion throughput",
                 f"≥ {THROUGHPUT_GOAL:.0f} chunks/s" if ing["chunks"] >= 10_000 else "—",
                 f"{ing['ingest_chunks_per_second']:.1f} chunks/s end to end, "
                 f"{ing['model_only_chunks_per_second']:.1f} chunks/s model alone",
                 ing["ingest_chunks_per_second"] >= THROUGHPUT_GOAL if ing["chunks"] >= 10_000
                 else None),
        ]
        if ing.get("baseline_model_only_seconds"):
            speedup = ing["baseline_model_only_seconds"] / max(ing["model_only_seconds"], 1e-9)
            rows.append(Goal(
                f"Passage batch size {ing['batch_size']} vs {ing['baseline_batch_size']} "
                "(model alone, same batches, timed one after the other)", "—",
                f"{ing['model_only_chunks_per_second']:.1f} vs "
                f"{ing['baseline_model_only_chunks_per_second']:.1f} chunks/s ({speedup:.2f}x)",
                None))
        rows += [
            Goal("Re-ingest unchanged corpus: embeddings", "0", str(ing["reingest_embedded"]),
                 ing["reingest_embedded"] == 0),
            Goal("Re-ingest unchanged corpus: time vs first run", f"< {REINGEST_GOAL:.0%}",
                 f"{ing['reingest_ratio']:.1%} ({ing['reingest_seconds']:.1f} s)",
                 ing["reingest_ratio"] < REINGEST_GOAL),
            Goal("Peak RSS, ingestion process (model loaded)", "—",
                 f"{ing['peak_rss_mb']:,.0f} MB", None),
        ]
    else:
        rows.append(Goal("Ingestion", f"overhead ≤ {OVERHEAD_GOAL}", _missing(results, "ingest"),
                         None))
    ret = _stage(results, "retrieval")
    for size in ret["sizes"] if ret else []:
        goal = RETRIEVAL_GOALS.get(size["requested_chunks"])
        # Named by the requested size (the generator lands a few chunks off it; the component
        # table gives the exact count), so rows keep one name from run to run.
        rows.append(Goal(
            f"Retrieval latency at {size['requested_chunks']:,} chunks (p50 / p95)",
            f"p95 ≤ {goal:.0f} ms" if goal else "—",
            f"{_ms(size['total']['p50'])} / {_ms(size['total']['p95'])}",
            size["total"]["p95"] <= goal if goal else None))
    if not ret:
        rows.append(Goal("Retrieval latency", "p95 ≤ " + ", ".join(
            f"{ms:.0f} ms at {n:,}" for n, ms in RETRIEVAL_GOALS.items()) + " chunks",
            _missing(results, "retrieval"), None))
    ans = _stage(results, "answers")
    if ans:
        n = f"{ans['generated']} generated of {ans['questions']}"
        rows += [
            Goal("Time to first token (p50 / p95)", f"p50 ≤ {TTFT_GOAL_MS / 1000:.0f} s",
                 f"{_ms(ans['first_token']['p50'])} / {_ms(ans['first_token']['p95'])} ({n})",
                 ans["first_token"]["p50"] <= TTFT_GOAL_MS if ans["generated"] else None),
            Goal("Answer total time (p50 / p95)", "—",
                 f"{_ms(ans['total']['p50'])} / {_ms(ans['total']['p95'])}", None),
            Goal("Prompt tokens per answer (p50 / max)", "—",
                 f"{ans['prompt_tokens']['p50']:.0f} / {ans['prompt_tokens']['max']:.0f} "
                 f"(system prompt {ans['system_prompt_tokens']['en']} en, "
                 f"{ans['system_prompt_tokens']['zh']} zh)", None),
        ]
    else:
        rows.append(Goal("Time to first token", f"p50 ≤ {TTFT_GOAL_MS / 1000:.0f} s",
                         _missing(results, "answers"), None))
    app = _stage(results, "app")
    if app:
        label = app.get("note") or app["backend"]
        total = len(app["conversations"])
        rows += [
            Goal(f"Peak RSS, app with generator loaded ({label})", "—",
                 f"{app['peak_rss_mb']:,.0f} MB (after warm-up {app['rss_loaded_mb']:,.0f} MB)",
                 None),
            Goal(f"{total} simultaneous conversations ({label})",
                 "all complete, no errors", f"{app['completed']}/{total} complete, "
                 f"{app['errors']} errors", app["errors"] == 0 and app["completed"] == total),
            Goal("Conversation latency under that load (p50 / p95 / max)", "—",
                 f"{app['latency']['p50']:.1f} / {app['latency']['p95']:.1f} / "
                 f"{app['latency']['max']:.1f} s", None),
        ]
    else:
        rows.append(Goal("App memory and concurrency", "all complete, no errors",
                         _missing(results, "app"), None))
    return rows + topology_goals(results, app)


TOPOLOGY = "server topology: store server + model server + app"


def utilisation(stage: dict[str, Any]) -> float:
    """Model busy time / wall time of the conversations (1.0: the model never idled)."""
    return stage.get("model_busy_seconds", 0.0) / max(stage["wall_seconds"], 1e-9)


def topology_goals(results: dict[str, Any], app: dict[str, Any] | None) -> list[Goal]:
    """The serving topology against the single-process app of the same run (issue 11: p95 at
    most half of the single process's, errors 0, the model's utilisation said)."""
    stack = _stage(results, "stack")
    if not stack:
        return [Goal(f"Simultaneous conversations ({TOPOLOGY})", "all complete, no errors",
                     _missing(results, "stack"), None)]
    total = len(stack["conversations"])
    rows = [Goal(f"{total} simultaneous conversations ({TOPOLOGY})", "all complete, no errors",
                 f"{stack['completed']}/{total} complete, {stack['errors']} errors",
                 stack["errors"] == 0 and stack["completed"] == total)]
    p95 = stack["latency"]["p95"]
    single = app["latency"]["p95"] if app and app["completed"] else None
    rows.append(Goal(
        f"Topology conversation latency, {stack['apps']} apps (p50 / p95 / max)",
        f"≤ half the single process's p95 ({single / 2:.1f} s)" if single else "—",
        f"{stack['latency']['p50']:.1f} / {p95:.1f} / {stack['latency']['max']:.1f} s"
        + (f" (p95 {p95 / single:.2f}× the single process's)" if single else ""),
        p95 <= single / 2 if single else None))
    rows.append(Goal(
        "Model utilisation during the conversations (model busy / wall time)", "—",
        f"topology {utilisation(stack):.2f} ({stack['model_busy_seconds']:.0f} s of "
        f"{stack['wall_seconds']:.0f} s, {stack['model_calls']} calls)"
        + (f"; single process {utilisation(app):.2f} ({app['model_busy_seconds']:.0f} s of "
           f"{app['wall_seconds']:.0f} s, {app['model_calls']} calls)"
           if app and app.get("model_calls") else ""), None))
    rows.append(Goal("RSS, topology (all pieces: after warm-up / after the run / peaks)", "—",
                     f"{stack['rss_loaded_mb']:,.0f} / {stack['rss_after_mb']:,.0f} / "
                     f"{stack['peak_rss_mb']:,.0f} MB", None))
    return rows


def explanations(results: dict[str, Any]) -> list[str]:
    """Where the time goes, computed from the component timings, for each missed goal."""
    from bench.explain import answers, concurrency, ingestion, retrieval

    notes: list[str] = []
    if ing := _stage(results, "ingest"):
        notes += ingestion(ing, OVERHEAD_GOAL, REINGEST_GOAL)
    if ret := _stage(results, "retrieval"):
        notes += retrieval(ret, RETRIEVAL_GOALS)
    if ans := _stage(results, "answers"):
        notes += answers(ans, TTFT_GOAL_MS)
    app = _stage(results, "app")
    if app:
        notes += concurrency(app, ans["total_all"]["p50"] if ans else None)
    if app and app["errors"]:
        failed = [c for c in app["conversations"] if not c["ok"]]
        notes.append("Concurrency: failed conversations: " + "; ".join(
            f"#{c['index']} ({c['language']}): {c['error'] or c['kind']}" for c in failed))
    return notes


def build_report(results: dict[str, Any]) -> dict[str, Any]:
    return {**results, "goals": [asdict(g) for g in goals(results)],
            "explanations": explanations(results)}


def write_report(report: dict[str, Any], out_dir: Path,
                 results_md: Path | None = None) -> list[Path]:
    """latest.json and latest.md in out_dir; also the Markdown at results_md when given."""
    out_dir.mkdir(parents=True, exist_ok=True)
    text = markdown(report)
    written = [out_dir / "latest.json", out_dir / "latest.md"]
    written[0].write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n",
                          encoding="utf-8")
    written[1].write_text(text, encoding="utf-8")
    if results_md is not None:
        results_md.write_text(text, encoding="utf-8")
        written.append(results_md)
    return written
