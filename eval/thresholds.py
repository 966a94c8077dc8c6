"""Metric thresholds per slice (eval/thresholds.toml) and the check that fails a run."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.errors import OncoQAError
from eval.run import Row
from eval.summary import SliceSummary, missed, slices

DEFAULT_THRESHOLDS = Path(__file__).resolve().parent / "thresholds.toml"


class ThresholdError(OncoQAError):
    """The thresholds file is malformed."""


@dataclass(frozen=True)
class Threshold:
    group: str  # "retrieval" or "answer": documentation only, any metric may go anywhere
    slice: str
    metric: str
    minimum: float | None = None
    maximum: float | None = None

    def passes(self, value: float) -> bool:
        return (self.minimum is None or value >= self.minimum) and (
            self.maximum is None or value <= self.maximum)

    @property
    def bound(self) -> str:
        return f">= {self.minimum}" if self.minimum is not None else f"<= {self.maximum}"


@dataclass(frozen=True)
class Failure:
    threshold: Threshold
    value: float | None  # None: the metric could not be computed on that slice
    missed: tuple[str, ...]


def load_thresholds(path: Path = DEFAULT_THRESHOLDS) -> list[Threshold]:
    """[group."slice"] tables of metric = min, or metric = {min = x} / {max = y}."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ThresholdError(f"cannot read thresholds {path}: {exc}",
                             hint="see eval/README.md, Thresholds") from exc
    found = []
    for group, tables in raw.items():
        if not isinstance(tables, dict):
            raise ThresholdError(f"{path}: [{group}] must contain slice tables")
        for slice_name, bounds in tables.items():
            if not isinstance(bounds, dict):
                raise ThresholdError(f"{path}: [{group}.{slice_name}] must be a table")
            for metric, bound in bounds.items():
                found.append(_threshold(path, group, slice_name, metric, bound))
    return found


def _threshold(path: Path, group: str, slice_name: str, metric: str, bound: object) -> Threshold:
    where = f"{path}: {group}.{slice_name}.{metric}"
    if isinstance(bound, int | float) and not isinstance(bound, bool):
        return Threshold(group, slice_name, metric, minimum=float(bound))
    if isinstance(bound, dict) and set(bound) in ({"min"}, {"max"}):
        (kind, value), = bound.items()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return (Threshold(group, slice_name, metric, minimum=float(value)) if kind == "min"
                    else Threshold(group, slice_name, metric, maximum=float(value)))
    raise ThresholdError(f"{where}: expected a number, {{min = x}} or {{max = x}}, got {bound!r}")


def check(thresholds: Sequence[Threshold], summary: Mapping[str, SliceSummary],
          rows: Sequence[Row]) -> tuple[list[Failure], list[Threshold]]:
    """(failures, skipped): a threshold is skipped when its slice or metric is not in this run
    (answer metrics in retrieval mode, a slice the gold files do not have)."""
    parts = slices(rows)
    failures, skipped = [], []
    for t in thresholds:
        part = summary.get(t.slice)
        stat = part.stats.get(t.metric) if part else None
        if part is None or stat is None:
            skipped.append(t)
            continue
        if stat.value is None or not t.passes(stat.value):
            failures.append(Failure(t, stat.value, tuple(missed(parts[t.slice], t.metric))))
    return failures, skipped


def describe(failure: Failure, limit: int = 20) -> str:
    t = failure.threshold
    value = "n/a" if failure.value is None else f"{failure.value:.3f}"
    ids = ", ".join(failure.missed[:limit]) + (" ..." if len(failure.missed) > limit else "")
    return (f"FAIL {t.metric} on {t.slice}: {value} (needs {t.bound})"
            + (f"; missed: {ids}" if ids else ""))
