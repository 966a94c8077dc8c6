"""The benchmark plan: configuration, one stage per child process, and the collected results."""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.parts import BenchParts
from core.settings import Settings

Log = Callable[[str], None]
REPO = Path(__file__).resolve().parents[1]
STAGES = ("ingest", "retrieval", "answers", "app", "stack")


@dataclass(frozen=True)
class BenchConfig:
    chunks: int = 10_000  # ingestion corpus size
    chunks_per_doc: int = 12
    # Passages also embedded in batches of this size, beside the configured one, in the same
    # run (32 was the default before 2026-12-07); None: not compared.
    baseline_batch_size: int | None = 32
    retrieval_sizes: tuple[int, ...] = (1_000, 10_000, 100_000)
    retrieval_questions: int = 25  # per language
    llm_questions: int = 12  # per language
    concurrency: int = 16  # issue 11: 16 simultaneous conversations, app and stack alike
    stack_apps: int = 2  # app processes of the serving topology (stage "stack")
    skip_llm: bool = False
    skip_concurrency: bool = False
    isolate: bool = True  # each stage in its own process, so each peak RSS is its own
    request_timeout: float = 600.0
    stage_timeout: float = 3 * 3600.0
    seed: int = 0
    quick: bool = False
    stages: tuple[str, ...] = field(default=STAGES)


def quick_config(**overrides: Any) -> BenchConfig:
    """Tiny sizes: a smoke run of every stage in a few minutes, numbers not meaningful."""
    base = BenchConfig(chunks=200, retrieval_sizes=(1_000,), retrieval_questions=5,
                       llm_questions=1, quick=True)
    return replace(base, **overrides)


def gold_for(stage: str, config: BenchConfig) -> list[Any]:
    from bench.measure import gold_questions

    if stage == "retrieval":
        return gold_questions(config.retrieval_questions)
    if stage == "answers":
        return gold_questions(config.llm_questions)
    half = gold_questions(math.ceil(config.concurrency / 2))
    en = [q for q in half if q.language == "en"]
    zh = [q for q in half if q.language == "zh"]
    return [q for pair in zip(en, zh, strict=False) for q in pair]  # alternate en / zh


def run_stage(name: str, config: BenchConfig, settings: Settings, workdir: Path,
              parts: BenchParts, log: Log | None = None) -> dict[str, Any]:
    """Run one stage in this process; its result as plain JSON-able data."""
    from bench.measure import peak_rss_mb

    workdir.mkdir(parents=True, exist_ok=True)
    result: Any
    if name == "ingest":
        from bench.ingest_bench import run_ingest

        baseline = None
        if config.baseline_batch_size not in (None, settings.embedding.batch_size):
            other = settings.model_copy(update={"embedding": settings.embedding.model_copy(
                update={"batch_size": config.baseline_batch_size})})
            baseline = (config.baseline_batch_size, parts.embeddings(other))
        result = run_ingest(settings, parts.embeddings(settings), parts.index, workdir,
                            config.chunks, chunks_per_doc=config.chunks_per_doc,
                            seed=config.seed, baseline=baseline, log=log)
    elif name == "retrieval":
        from bench.retrieval_bench import run_retrieval

        result = run_retrieval(settings, parts.embeddings(settings), parts.retriever, workdir,
                               config.retrieval_sizes, gold_for(name, config),
                               seed=config.seed, log=log)
    elif name == "answers":
        from bench.answer_bench import run_answers
        from bench.measure import gold_questions

        extra = gold_questions(config.llm_questions + 1)
        warm_up = next(q for q in extra if q not in gold_for(name, config))
        result = run_answers(lambda wrap: parts.answerer(settings, wrap), gold_for(name, config),
                             warm_up, log=log)
    elif name == "app":
        from bench.app_bench import run_app
        from bench.measure import gold_questions

        result = run_app(settings, parts.app_command, workdir, gold_for(name, config),
                         gold_questions(3)[:3], conversations=config.concurrency,
                         timeout=config.request_timeout, log=log)
    elif name == "stack":
        from bench.measure import gold_questions
        from bench.stack_bench import run_stack

        if not parts.stack_command:
            raise ValueError("no stack command was handed in (BenchParts.stack_command)")
        result = run_stack(settings, parts.stack_command, workdir, gold_for(name, config),
                           gold_questions(3)[:3], apps=config.stack_apps,
                           conversations=config.concurrency, timeout=config.request_timeout,
                           log=log)
    else:
        raise ValueError(f"unknown stage {name!r}; choose from {', '.join(STAGES)}")
    data = json.loads(json.dumps(asdict(result), default=str))
    data["process_peak_rss_mb"] = peak_rss_mb()
    return data


def _in_child(name: str, config: BenchConfig, settings: Settings, workdir: Path,
              command: tuple[str, ...]) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    spec, out = workdir / f"{name}.spec.json", workdir / f"{name}.result.json"
    spec.write_text(json.dumps({"stage": name, "config": asdict(config), "workdir": str(workdir),
                                "settings": settings.model_dump(mode="json")}), encoding="utf-8")
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    proc = subprocess.Popen([*command, str(spec), str(out)], cwd=REPO, env=env)
    try:
        code = proc.wait(timeout=config.stage_timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise TimeoutError(f"stage {name} did not finish in {config.stage_timeout:.0f} s") from None
    if code != 0 or not out.exists():
        raise RuntimeError(f"stage {name} exited with {code}")
    return dict(json.loads(out.read_text(encoding="utf-8")))


def config_from(data: dict[str, Any]) -> BenchConfig:
    data = dict(data)
    data["retrieval_sizes"] = tuple(data["retrieval_sizes"])
    data["stages"] = tuple(data["stages"])
    return BenchConfig(**data)


def merge(results: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """Results of this run plus the stages it did not run taken from an earlier run's report
    (for machines too busy to run every stage in one go); the order stays STAGES'."""
    old = previous.get("stages", {})
    stages = {name: results["stages"].get(name) or old.get(name) for name in STAGES}
    carried = [n for n in STAGES if n not in results["stages"] and n in old]
    meta = {**results["meta"], "carried_over": {n: old[n].get("finished", "?") for n in carried}}
    config = {**previous.get("config", {}), **results["config"]}
    for key in ("chunks", "retrieval_sizes", "llm_questions", "concurrency"):
        source = next((n for n in carried if _uses(n, key)), None)
        if source and key in previous.get("config", {}):
            config[key] = previous["config"][key]
    return {**results, "meta": meta, "config": config,
            "stages": {n: s for n, s in stages.items() if s is not None}}


def _uses(stage: str, key: str) -> bool:
    return {"chunks": "ingest", "retrieval_sizes": "retrieval", "llm_questions": "answers",
            "concurrency": "app", "stack_apps": "stack"}[key] == stage


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(line.split(":", 1)[1].strip() for line in
                   Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    versions: dict[str, str | None] = {}
    for package in ("llama_cpp_python", "torch", "sentence-transformers", "chromadb", "gradio"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "versions": versions}


def run_all(config: BenchConfig, settings: Settings, workdir: Path, parts: BenchParts,
            log: Log | None = None) -> dict[str, Any]:
    """Every selected stage (a failing stage is recorded, not fatal); results plus metadata.
    With config.isolate each stage runs in a child process started by parts.stage_command."""
    from bench.answer_bench import llm_smoke_check

    say = log or (lambda message: None)
    settings = settings.model_copy(update={"data_dir": settings.data_dir.resolve(),
                                           "corpus_dir": settings.corpus_dir.resolve()})
    started, load_before = time.perf_counter(), os.getloadavg()
    stages: dict[str, dict[str, Any]] = {}
    app_settings, app_note = settings, ""
    llm_ok, llm_note = settings.llm.backend != "local", ""
    if config.skip_llm:
        llm_note = "skipped (--skip-llm)"
    elif settings.llm.backend == "local" and {"answers", "app", "stack"} & set(config.stages):
        llm_ok, detail = llm_smoke_check(settings.gguf_path)
        llm_note = "" if llm_ok else f"local LLM unusable: {detail}"
        say(f"local LLM check: {'ok' if llm_ok else llm_note}")
    if config.skip_llm or not llm_ok:
        app_settings = settings.model_copy(update={
            "llm": settings.llm.model_copy(update={"backend": "extractive"})})
        app_note = f"extractive backend ({llm_note})"
    for name in config.stages:
        if name == "answers" and (config.skip_llm or not llm_ok):
            stages[name] = {"skipped": llm_note}
            continue
        if name in ("app", "stack") and config.skip_concurrency:
            stages[name] = {"skipped": "skipped (--skip-concurrency)"}
            continue
        chosen = app_settings if name in ("app", "stack") else settings
        say(f"stage {name}: starting")
        began = time.perf_counter()
        try:
            if config.isolate:
                stages[name] = _in_child(name, config, chosen, workdir / name,
                                         parts.stage_command)
            else:
                stages[name] = run_stage(name, config, chosen, workdir / name, parts, log=say)
        except Exception as exc:  # one broken stage must not lose the others' results
            stages[name] = {"error": f"{type(exc).__name__}: {exc}"}
        stages[name]["stage_seconds"] = round(time.perf_counter() - began, 1)
        stages[name]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
        stages[name]["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        if name in ("app", "stack") and app_note:
            stages[name]["note"] = app_note
        say(f"stage {name}: done in {stages[name]['stage_seconds']:.0f} s")
    return {
        "meta": {
            "date": datetime.now(UTC).isoformat(timespec="seconds"), **machine(),
            "load_average_start": [round(x, 2) for x in load_before],
            "load_average_end": [round(x, 2) for x in os.getloadavg()],
            "seconds": round(time.perf_counter() - started, 1),
            "embedding": f"{settings.embedding.backend} {settings.embedding.model}",
            "llm": settings.llm.backend if llm_ok and not config.skip_llm else app_note,
            "gguf": settings.gguf_path.name, "isolated_stages": config.isolate,
        },
        "config": asdict(config),
        "stages": stages,
    }
