"""The override check (qa.override) on its example and held-out sets: attempts found and
innocent look-alikes refused, by the rules alone and with the e5 neighbours, per language."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from eval.gold import GOLD_DIR, default_gold_files, load_gold
from qa import safety
from qa.override import EXAMPLES, Neighbours

HELD_OUT = GOLD_DIR / "injection" / "held_out.jsonl"
Check = Callable[[str], bool]


@dataclass(frozen=True)
class Message:
    id: str
    language: str
    text: str
    attempt: bool


@dataclass(frozen=True)
class Counts:
    """(refused, total) of attempts and of innocent messages."""

    attempts: tuple[int, int]
    innocent: tuple[int, int]


def load(path: Path) -> list[Message]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [Message(r["id"], r["language"], r["text"], bool(r["injection"])) for r in rows]


def by_rules(text: str) -> bool:
    return safety.Risk.OVERRIDE in safety.assess(text).risks


def with_neighbours(neighbours: Neighbours) -> Check:
    return lambda text: by_rules(text) or neighbours.nearest_attempt(text) is not None


def count(messages: Sequence[Message], check: Check) -> Counts:
    refused = [check(m.text) for m in messages]
    attempts = [r for r, m in zip(refused, messages, strict=True) if m.attempt]
    innocent = [r for r, m in zip(refused, messages, strict=True) if not m.attempt]
    return Counts((sum(attempts), len(attempts)), (sum(innocent), len(innocent)))


def gold_questions() -> list[str]:
    """Every patient question of the gold sets, less the unanswerable items written as
    attacks (they are counted as attempts, not as innocent questions)."""
    return [q for item in load_gold(default_gold_files()) if not _attack(item.id)
            for q in (item.turns or [item.question])]


def _attack(item_id: str) -> bool:
    return item_id in {f"un-{n:03d}" for n in range(21, 27)}


def render(checks: dict[str, Check]) -> str:
    sets = {"examples (the rules and the neighbours are built from them)": load(EXAMPLES),
            "held-out (written by someone who never saw the rules)": load(HELD_OUT)}
    lines = ["# Override check: attempts to change how the assistant works", "",
             "Attempts found / innocent look-alikes refused, per language. `rules` is "
             "`qa/override.py` alone; `rules + e5` adds the nearest-neighbour layer the app uses "
             "with the e5 model.", "",
             "How the sets were made: the rules were written from 24 examples of our own; a "
             "first set written blind by another author (40 attempts, 40 look-alikes) then "
             "scored 25/40 found and 0/40 refused, and was added to the examples. The held-out "
             "set below was written blind after that and is not tuned on, with one exception: "
             "a bare 'role-play' rule refused one of its innocent questions and was narrowed to "
             "'role-play as' / 'you role-play'. The e5 margin (answer.override_margin) was set "
             "on the gold questions (the smallest that refuses at most 1 of them), not on the "
             "held-out set.", ""]
    for title, messages in sets.items():
        lines += [f"## {title}", "", "| check | language | attempts found | innocent refused |",
                  "|---|---|---|---|"]
        for name, check in checks.items():
            for language in ("en", "zh"):
                c = count([m for m in messages if m.language == language], check)
                lines.append(f"| {name} | {language} | {_frac(c.attempts)} | {_frac(c.innocent)} |")
        lines.append("")
    questions = gold_questions()
    lines += ["## Gold questions (patients' questions of eval/gold)", "",
              "| check | refused as an attempt |", "|---|---|"]
    for name, check in checks.items():
        lines.append(f"| {name} | {sum(map(check, questions))} / {len(questions)} |")
    return "\n".join(lines) + "\n"


def _frac(pair: tuple[int, int]) -> str:
    done, total = pair
    return f"{done}/{total} ({done / total:.2f})" if total else "-"
