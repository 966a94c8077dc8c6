"""Child-process entry of one benchmark stage: `python -m oncoqa.bench_stage SPEC OUT`."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from bench.stage import main
    from oncoqa.wiring import bench_parts

    sys.exit(main(sys.argv[1:], bench_parts()))
