"""`python -m bench`: the same as `oncoqa bench` (usable before the package is reinstalled)."""

from bench.cli import bench_command

bench_command()
