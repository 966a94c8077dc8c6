"""One benchmark stage in a child process: SPEC.json in, OUT.json out (see bench.run._in_child).

The entry point that starts it (`python -m oncoqa.bench_stage`) hands in the parts."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from bench.parts import BenchParts
from bench.run import config_from, run_stage
from core.settings import Settings


def main(argv: list[str], parts: BenchParts) -> int:
    spec_path, out_path = Path(argv[0]), Path(argv[1])
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    result = run_stage(spec["stage"], config_from(spec["config"]), Settings(**spec["settings"]),
                       Path(spec["workdir"]), parts,
                       log=lambda message: print(f"  {message}", file=sys.stderr, flush=True))
    out_path.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return 0
