"""The Markdown report: goals table, where the time goes, and the per-stage detail tables."""

from __future__ import annotations

from statistics import median
from typing import Any

from bench.explain import LABELS


def _met(value: bool | None) -> str:
    return "—" if value is None else ("yes" if value else "**no**")


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    return lines + ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |"
                    for row in rows]


def _reduced(config: dict[str, Any]) -> str:
    """What this run shrank compared with the defaults of BenchConfig."""
    from bench.run import BenchConfig

    default = BenchConfig()
    parts = []
    if config.get("chunks", default.chunks) < default.chunks:
        parts.append(f"ingestion corpus {config['chunks']:,} chunks instead of "
                     f"{default.chunks:,}")
    sizes = tuple(config.get("retrieval_sizes", default.retrieval_sizes))
    if sizes and max(sizes) < max(default.retrieval_sizes):
        parts.append(f"retrieval up to {max(sizes):,} chunks instead of "
                     f"{max(default.retrieval_sizes):,}")
    if config.get("llm_questions", default.llm_questions) < default.llm_questions:
        parts.append(f"{config['llm_questions']} answer-latency questions per language instead "
                     f"of {default.llm_questions}")
    return "; ".join(parts)


def _stage_minutes(report: dict[str, Any]) -> float:
    stages = report.get("stages", {}).values()
    return sum(float(data.get("stage_seconds", 0)) for data in stages) / 60


def _header(report: dict[str, Any]) -> list[str]:
    meta = report.get("meta", {})
    config = report.get("config", {})
    lines = ["# OncoQA benchmark results", ""]
    if config.get("quick"):
        lines += ["> Quick run (tiny sizes): a smoke test of the benchmark code; the numbers "
                  "say nothing about the goals.", ""]
    elif reduced := _reduced(config):
        lines += [f"> Reduced sizes: {reduced} (the defaults did not fit the time available on "
                  f"this shared machine; `make bench` runs the defaults).", ""]
    load = meta.get("load_average_start", []), meta.get("load_average_end", [])
    lines.append(
        f"Run {meta.get('date', '?')} on {meta.get('cpu', '?')} ({meta.get('cores', '?')} cores"
        f"), load average {'/'.join(map(str, load[0]))} at start and "
        f"{'/'.join(map(str, load[1]))} at end (the machine is shared, so absolute times are "
        f"noisy; the ratios compare work done in the same run). Stage wall times total "
        f"{_stage_minutes(report):.0f} min. Regenerate with `make bench`.")
    carried = meta.get("carried_over") or {}
    if carried:
        lines += ["", "Stages run at different times (`--only STAGE --merge`, because the shared "
                  "machine was busy) and carried over from earlier runs: " + ", ".join(
                      f"{name} (finished {when})" for name, when in carried.items()) + "."]
    return lines + [""]


def _retrieval(report: dict[str, Any]) -> list[str]:
    ret = report.get("stages", {}).get("retrieval") or {}
    if "sizes" not in ret:
        return []
    order = ["prepare", "embed", "dense", "bm25", "fusion", "other"]
    rows = []
    for size in ret["sizes"]:
        parts = size["components"]
        by_lang = size["total_by_language"]
        rows.append([f"{size['chunks']:,}"]
                    + [f"{parts[n]['p50']:.1f} / {parts[n]['p95']:.1f}" for n in order]
                    + [f"**{size['total']['p50']:.1f} / {size['total']['p95']:.1f}**"]
                    + [f"{by_lang[lang]['p95']:.1f}" if lang in by_lang else "—"
                       for lang in ("en", "zh")]
                    + [f"{size['snapshot_seconds']:.1f} s"])
    head = ["Chunks", *(LABELS[n] for n in order), "Total", "en p95", "zh p95",
            "Keyword index load"]
    return ["## Retrieval latency by component (ms, p50 / p95)", "",
            f"{ret['sizes'][0]['queries']} gold questions per size, warm; query embedding: "
            f"{ret['query_embedding']}; stored vectors: {ret['stored_vectors']}. Total is "
            f"`HybridRetriever.search` end to end; components are clocks around the steps that "
            f"same call makes.", "", *_table(head, rows), ""]


def _answers(report: dict[str, Any]) -> list[str]:
    ans = report.get("stages", {}).get("answers") or {}
    if "records" not in ans:
        return []
    rows = []
    for lang in ("en", "zh"):
        records = [r for r in ans["records"] if r["language"] == lang]
        gen = [r for r in records if r["generated"]]
        if not records:
            continue

        def mid(key: str, items: list[dict[str, Any]] = gen) -> str:
            return f"{median(r[key] for r in items) / 1000:.2f} s" if items else "—"

        rows.append([lang, f"{len(gen)}/{len(records)}", mid("retrieval_ms", records),
                     mid("first_token_ms"), mid("total_ms"),
                     f"{median(r['prompt_tokens'] for r in gen):.0f}" if gen else "—"])
    head = ["Language", "Generated", "Retrieval p50", "First token p50", "Total p50",
            "Prompt tokens p50"]
    return ["## Answer latency by language", "",
            f"Backend {ans['backend']}, warm (load and one question first, "
            f"{ans['warm_up_seconds']:.0f} s), questions grouped by language.", "",
            *_table(head, rows), ""]


def _conversations(stage: dict[str, Any]) -> list[str]:
    rows = [[str(c["index"]), c["language"], f"{c['seconds']:.1f} s",
             str(c.get("queue_rank", -1)) if c.get("queue_rank", -1) >= 0 else "—",
             c["kind"] or "—", c["backend"] or "—",
             "ok" if c["ok"] else f"error: {c['error']}"] for c in stage["conversations"]]
    return _table(["#", "Language", "Latency", "Queue place seen", "Kind", "Backend", "Result"],
                  rows)


def _app(report: dict[str, Any]) -> list[str]:
    app = report.get("stages", {}).get("app") or {}
    if "conversations" not in app:
        return []
    return ["## Concurrent conversations", "",
            f"`oncoqa ui` in a child process on loopback ({app.get('note') or app['backend']}), "
            f"up in {app['startup_seconds']:.0f} s; one `gradio_client.Client` per conversation, "
            f"all submitted at once to `/ask_json`; wall time {app['wall_seconds']:.1f} s. RSS "
            f"idle {app['rss_idle_mb']:,.0f} MB, after warm-up {app['rss_loaded_mb']:,.0f} MB, "
            f"after the run {app['rss_after_mb']:,.0f} MB.", "",
            *_conversations(app), ""]


def _stack(report: dict[str, Any]) -> list[str]:
    stack = report.get("stages", {}).get("stack") or {}
    if "conversations" not in stack:
        return []
    return ["## Concurrent conversations through the serving topology", "",
            f"`oncoqa serve-stack --apps {stack['apps']}` in a child process on loopback "
            f"({stack.get('note') or stack['backend']}): `chroma run` on the index, the model "
            f"server (`oncoqa model-server`, llama-cpp-python; {stack.get('model_servers', 1)} "
            f"process(es) of {stack['model_threads']} threads), "
            f"{stack['apps']} app processes; up in {stack['startup_seconds']:.0f} s. The same "
            f"clients, spread over the apps in turn; wall time {stack['wall_seconds']:.1f} s. "
            f"RSS of all pieces: idle {stack['rss_idle_mb']:,.0f} MB, after warm-up "
            f"{stack['rss_loaded_mb']:,.0f} MB, after the run {stack['rss_after_mb']:,.0f} MB.",
            "", *_conversations(stack), ""]


def _method(report: dict[str, Any]) -> list[str]:
    stages = report.get("stages", {})
    ing = stages.get("ingest") or {}
    lines = ["## How it was measured", ""]
    if "corpus" in ing:
        corpus = ing["corpus"]
        lines.append(
            f"- Ingestion: `bench/corpus_gen.py` recombined the seed corpus into "
            f"{corpus['documents']:,} documents ({corpus['en_documents']} English, "
            f"{corpus['zh_documents']} Chinese, {corpus['chunks']:,} chunks), ingested into a "
            f"fresh index with {ing['embedding']}; the identical embedding batches were then "
            f"replayed through the model alone; then the unchanged corpus was ingested again.")
    lines += [
        "- Retrieval: indexes built by the real ingest pipeline from generated corpora; "
        "passage vectors are synthetic so 100k chunks build in minutes, the question is "
        "embedded by the real model.",
        "- Answers: gold questions through the full chain (`Answerer.stream`), timings from "
        "`Answer.timings`; prompt tokens counted on the exact messages sent to the model.",
    ]
    if report.get("meta", {}).get("isolated_stages"):
        lines.append("- Each stage runs in its own process, so each peak RSS is that stage's own.")
    timing = [f"{name} {data['stage_seconds']:.0f} s (load {data['load_average_end'][0]})"
              for name, data in stages.items() if "load_average_end" in data]
    if timing:
        lines.append("- Stage wall times (1-minute load average at the end): "
                     + ", ".join(timing) + ".")
    for name, data in stages.items():
        if data.get("error") or data.get("skipped"):
            lines.append(f"- Stage `{name}`: {data.get('error') or data.get('skipped')}")
    return lines + [""]


def markdown(report: dict[str, Any]) -> str:
    rows = [[g["metric"], g["goal"], g["measured"], _met(g["met"])] for g in report["goals"]]
    lines = _header(report) + _table(["Metric", "Goal", "Measured", "Met?"], rows) + [""]
    if report.get("explanations"):
        lines += ["## Where the time goes", ""]
        lines += [f"- {note}" for note in report["explanations"]] + [""]
    lines += _retrieval(report) + _answers(report) + _app(report) + _stack(report)
    lines += _method(report)
    return "\n".join(lines).rstrip() + "\n"
