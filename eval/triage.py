"""Red-flag triage on its gold set: recall per class and false alarms, against thresholds."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from eval.gold import GOLD_DIR, GoldError
from qa import safety, triage_file

TRIAGE_GOLD = GOLD_DIR / "triage"
NONE = "none"  # the expected class of an ordinary question
SPLITS = ("dev", "held_out")  # dev: written before the rules were tuned; held_out: after
# On dev every class must find this share of its items; held-out classes have 2-4 items each,
# so there only all red flags together are held to a floor. At most this share of ordinary
# questions may be escalated.
MIN_CLASS_RECALL = {"dev": 0.8}
MIN_RECALL = {"dev": 0.9, "held_out": 0.55}  # held-out round 6 measured 0.67 (24/36)
MAX_FALSE_ALARMS = {"dev": 0.1, "held_out": 0.15}


@dataclass(frozen=True)
class TriageItem:
    id: str
    language: str
    question: str
    expected: str  # a class of qa/triage.toml, or "none"
    split: str


@dataclass(frozen=True)
class TriageRow:
    item: TriageItem
    found: tuple[str, ...]  # the classes the rules raised
    matched: tuple[str, ...]

    @property
    def hit(self) -> bool:
        """A red flag is found when its class is among those raised; an ordinary question is
        right when nothing is raised."""
        return self.item.expected in self.found if self.item.expected != NONE else not self.found


@dataclass(frozen=True)
class SplitResult:
    split: str
    recall: dict[str, tuple[int, int]]  # class -> (found, items)
    false_alarms: tuple[int, int]  # (ordinary questions escalated, ordinary questions)
    misses: tuple[TriageRow, ...]
    escalated: tuple[int, int] = (0, 0)  # (red flags given any urgent message, red flags)

    @property
    def false_alarm_rate(self) -> float:
        alarms, total = self.false_alarms
        return alarms / total if total else 0.0

    @property
    def overall_recall(self) -> float:
        total = sum(n for _, n in self.recall.values())
        return sum(h for h, _ in self.recall.values()) / total if total else 1.0

    def failures(self) -> list[str]:
        ceiling = MAX_FALSE_ALARMS[self.split]
        floor = MIN_CLASS_RECALL.get(self.split)
        out = [f"{self.split}: recall of {cls} {hit}/{n} < {floor}"
               for cls, (hit, n) in self.recall.items()
               if floor is not None and n and hit / n < floor]
        if self.overall_recall < MIN_RECALL[self.split]:
            out.append(f"{self.split}: red-flag recall {self.overall_recall:.2f} < "
                       f"{MIN_RECALL[self.split]}")
        if self.false_alarm_rate > ceiling:
            out.append(f"{self.split}: false alarms {self.false_alarm_rate:.2f} > {ceiling}")
        return out


def load_items(paths: Iterable[Path] | None = None) -> list[TriageItem]:
    """The triage gold items (default: every eval/gold/triage/*.jsonl), checked."""
    classes = {c.name for c in triage_file.load().classes} | {NONE}
    items: list[TriageItem] = []
    for path in sorted(paths or TRIAGE_GOLD.glob("*.jsonl")):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = TriageItem(**json.loads(line))
            except (TypeError, ValueError) as exc:
                raise GoldError(f"{path.name}:{lineno}: not a triage item ({exc})") from exc
            if item.expected not in classes or item.split not in SPLITS or item.language not in (
                    "en", "zh"):
                raise GoldError(f"{path.name}:{lineno}: expected must be one of "
                                f"{', '.join(sorted(classes))}, split one of "
                                f"{', '.join(SPLITS)}, language en or zh")
            items.append(item)
    if len({i.id for i in items}) != len(items):
        raise GoldError("triage gold: an id is used twice")
    return items


def run(items: Sequence[TriageItem]) -> list[TriageRow]:
    rows = []
    for item in items:
        result = safety.assess(item.question)
        rows.append(TriageRow(item, result.classes, result.matched))
    return rows


def summarize(rows: Sequence[TriageRow]) -> list[SplitResult]:
    out = []
    for split in SPLITS:
        mine = [r for r in rows if r.item.split == split]
        if not mine:
            continue
        recall: dict[str, tuple[int, int]] = {}
        for row in mine:
            if row.item.expected != NONE:
                hit, n = recall.get(row.item.expected, (0, 0))
                recall[row.item.expected] = (hit + row.hit, n + 1)
        ordinary = [r for r in mine if r.item.expected == NONE]
        alarms = sum(not r.hit for r in ordinary)
        red = [r for r in mine if r.item.expected != NONE]
        out.append(SplitResult(split, recall, (alarms, len(ordinary)),
                               tuple(r for r in mine if not r.hit),
                               (sum(bool(r.found) for r in red), len(red))))
    return out


def render(results: Sequence[SplitResult]) -> str:
    """The markdown report: per-class recall and the false-alarm rate per split."""
    lines = ["# Red-flag triage", "",
             "Rules: `qa/triage.toml` (UKONS 24-hour triage tool classes). Gold: "
             "`eval/gold/triage/` (dev: written before the rules were tuned; held_out: written "
             "after, never used to tune them). A red flag counts as found when its class is "
             "among the classes raised.", ""]
    for result in results:
        alarms, ordinary = result.false_alarms
        found = sum(h for h, _ in result.recall.values())
        total = sum(n for _, n in result.recall.values())
        lines += [f"## {result.split}", "",
                  f"Red flags found: {found}/{total} ({found / max(total, 1):.0%}); given an "
                  f"urgent message of any class: {result.escalated[0]}/{result.escalated[1]}. "
                  f"False alarms: {alarms}/{ordinary} ordinary questions "
                  f"({result.false_alarm_rate:.0%}). Thresholds: red-flag recall >= "
                  f"{MIN_RECALL[result.split]}"
                  + (f", per class >= {MIN_CLASS_RECALL[result.split]}"
                     if result.split in MIN_CLASS_RECALL else "")
                  + f", false alarms <= {MAX_FALSE_ALARMS[result.split]}.", "",
                  "| class | found | items | recall |", "|---|---|---|---|"]
        for cls, (hit, n) in sorted(result.recall.items()):
            lines.append(f"| {cls} | {hit} | {n} | {hit / n:.2f} |")
        if result.misses:
            lines += ["", "Missed or wrongly escalated:", ""]
            lines += [f"- `{r.item.id}` expected {r.item.expected}, raised "
                      f"{', '.join(r.found) or 'nothing'}: {r.item.question}"
                      for r in result.misses]
        lines.append("")
    failures = [f for r in results for f in r.failures()]
    lines.append("All thresholds pass." if not failures else
                 "Failing thresholds:\n\n" + "\n".join(f"- {f}" for f in failures))
    return "\n".join(lines) + "\n"
