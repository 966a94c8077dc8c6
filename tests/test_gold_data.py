"""The shipped gold sets: check_gold.py passes, every file loads with a dev/test split, and bad
splits or must-not claims that the evidence itself contains are rejected. No models, no index."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from eval.gold import Evidence, GoldError, default_gold_files, load_gold, parse_item

ROOT = Path(__file__).resolve().parents[1]
CHECK_GOLD = ROOT / "eval" / "gold" / "check_gold.py"
BEVACIZUMAB = ("If bevacizumab is used for treatment, surgery usually needs to be performed at "
               "least 6 weeks after stopping treatment.")


def _row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": "t-001", "language": "en", "question": "And if bevacizumab was used?", "turns": None,
        "answerable": True, "sources": ["000_61149c4b2133eace.txt"], "evidence": [BEVACIZUMAB],
        "key_facts": [["6 weeks", "六周"]], "must_not": [["at most 6 weeks", "最多6周"]],
        "notes": "n", "split": "test",
    }
    return row | changes


def _write(path: Path, *rows: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def _check_gold() -> ModuleType:
    """A fresh copy of the stdlib validator (its error list is module state)."""
    spec = importlib.util.spec_from_file_location("check_gold_under_test", CHECK_GOLD)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_check_gold_passes_with_zero_errors() -> None:
    result = subprocess.run([sys.executable, str(CHECK_GOLD)], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 error(s)" in result.stdout
    assert "ERROR" not in result.stdout


def test_every_shipped_file_loads_with_a_split_on_every_item() -> None:
    items = load_gold(default_gold_files())
    Evidence(ROOT / "corpus").check(items)
    by_file: dict[str, list[Any]] = {}
    for item in items:
        by_file.setdefault(item.file, []).append(item)
    assert set(by_file) == {"en", "zh", "unanswerable", "multiturn", "probes"}
    for name, members in by_file.items():
        splits = Counter(item.split for item in members)
        assert set(splits) == {"dev", "test"}, (name, splits)
        assert 0.25 <= splits["dev"] / len(members) <= 0.42, (name, splits)
    probes = by_file["probes"]
    assert len(probes) >= 36
    classes = Counter(item.probe for item in probes)
    assert set(classes) == {"polarity", "number", "list", "needle"}
    assert min(classes.values()) >= 6
    assert all(item.must_not for item in probes)
    forms = [form for item in probes for claim in item.must_not for form in claim]
    assert forms and all(isinstance(form, str) and form for form in forms)
    assert {item.language for item in probes} == {"en", "zh"}
    conversations = by_file["multiturn"]
    assert len(conversations) >= 22
    assert sum(item.language == "zh" for item in conversations) >= 9
    assert all(item.probe == "" for name in ("en", "zh", "multiturn") for item in by_file[name])


def test_items_without_the_new_fields_still_parse() -> None:
    row = _row()
    del row["must_not"], row["split"]
    item = parse_item(row)
    assert item.split == "" and item.must_not == () and item.probe == ""
    item = parse_item(_row(probe="number"))
    assert item.must_not == (("at most 6 weeks", "最多6周"),) and item.probe == "number"


def test_a_bad_split_is_rejected(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.jsonl", _row(split="train"))
    with pytest.raises(GoldError, match="split must be 'dev' or 'test'"):
        load_gold([bad])
    module = _check_gold()
    docs, _ = module.load_corpus()
    module.check_item("bad.jsonl", "t", 1, _row(split="train"), docs, set())
    assert any("split must be one of" in e for e in module.errors), module.errors


def test_a_must_not_form_found_in_the_evidence_is_rejected(tmp_path: Path) -> None:
    # case-insensitive and after NFKC: the full-width digit still matches the quote's "6"
    claim = [["no later than 2 weeks", "AT LEAST ６ WEEKS"]]
    bad = _write(tmp_path / "bad.jsonl", _row(must_not=claim))
    with pytest.raises(GoldError, match="must_not forms occur in the evidence"):
        load_gold([bad])
    module = _check_gold()
    docs, _ = module.load_corpus()
    module.check_item("bad.jsonl", "t", 1, _row(must_not=claim), docs, set())
    assert any("occurs in the item's evidence" in e for e in module.errors), module.errors


def test_malformed_must_not_and_unknown_keys_are_rejected(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.jsonl", _row(must_not=["at most 6 weeks"]),
                 _row(id="t-002", must_nots=[["x"]]))
    with pytest.raises(GoldError) as info:
        load_gold([bad])
    assert "must_not must be a list of non-empty lists" in str(info.value)
    assert "unknown keys ['must_nots']" in str(info.value)
