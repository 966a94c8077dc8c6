"""The import rules of ARCHITECTURE.md, checked on every module's syntax tree."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Which of our packages each package may import. The one source of the rules: ARCHITECTURE.md's
# table must say the same (test_the_document_states_these_rules).
ALLOWED: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "ingest": frozenset({"core"}),
    "qa": frozenset({"core", "ingest"}),
    "ui": frozenset({"core", "qa"}),
    "eval": frozenset({"core", "ingest", "qa"}),
    "bench": frozenset({"core", "ingest", "qa"}),
    "oncoqa": frozenset({"core", "ingest", "qa", "ui", "eval", "bench"}),
}
OURS = frozenset(ALLOWED)


def imported(source: str, module: str) -> Iterator[tuple[int, str]]:
    """(line, module name) of every import in source, nested ones and relative ones (resolved
    against `module`, e.g. "ui.chat") included, and of importlib.import_module("...") calls."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: -node.level]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            yield node.lineno, name
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and _called(node.func) in {"import_module", "__import__"}):
            yield node.lineno, node.args[0].value


def _called(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def violations(source: str, module: str) -> list[str]:
    """Imports in `module`'s source that the table forbids, as "module:line -> name"."""
    package = module.split(".")[0]
    found = []
    for line, name in imported(source, module):
        target = name.split(".")[0]
        if target in OURS and target != package and target not in ALLOWED[package]:
            found.append(f"{module}:{line} -> {name}")
    return found


def modules() -> list[tuple[str, Path]]:
    out = []
    for package in ALLOWED:
        for path in sorted((ROOT / package).rglob("*.py")):
            # A package's own module keeps "__init__", so `from . import x` resolves inside it.
            out.append((".".join(path.relative_to(ROOT).with_suffix("").parts), path))
    return out


def test_every_module_obeys_the_import_table() -> None:
    found = [v for name, path in modules()
             for v in violations(path.read_text(encoding="utf-8"), name)]
    assert not found, "forbidden imports (see ARCHITECTURE.md):\n" + "\n".join(found)


def test_every_package_is_checked() -> None:
    names = {name.split(".")[0] for name, _ in modules()}
    assert names == OURS
    assert len(modules()) > 60


def test_only_the_entry_point_imports_ui_and_nothing_imports_it() -> None:
    importers: dict[str, set[str]] = {}
    for name, path in modules():
        for _, target in imported(path.read_text(encoding="utf-8"), name):
            top = target.split(".")[0]
            if top in OURS and top != name.split(".")[0]:
                importers.setdefault(top, set()).add(name.split(".")[0])
    assert importers.get("ui", set()) <= {"oncoqa"}
    assert "oncoqa" not in importers


FORBIDDEN = {
    "top-level import": ("ui.app", "from oncoqa.wiring import build_answerer\n"),
    "import inside a function": ("eval.cli", "def f():\n    import oncoqa.wiring\n"),
    "plain import of a package": ("bench.run", "import ui\n"),
    "relative import climbing out": ("qa.chain", "from ..ui import render\n"),
    "importlib": ("core.text", "import importlib\nimportlib.import_module('qa.bm25')\n"),
    "a lower floor importing a higher one": ("ingest.store", "from qa.types import Passage\n"),
    "siblings": ("bench.cli", "from eval.run import run_answers\n"),
}


@pytest.mark.parametrize("module, source", FORBIDDEN.values(), ids=list(FORBIDDEN))
def test_the_checker_fails_on_a_forbidden_import(module: str, source: str) -> None:
    assert violations(source, module)


def test_the_checker_allows_what_the_table_allows() -> None:
    source = ("from __future__ import annotations\nimport json\nfrom core.text import "
              "language_of\nfrom qa.types import Answer\nfrom . import render\n"
              "def f():\n    from ui.i18n import t\n")
    assert violations(source, "ui.chat") == []
    assert violations("from ui.app import serve\nimport bench.cli\n", "oncoqa.cli") == []


def test_the_document_states_these_rules() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    table = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and re.fullmatch(r"`\w+`", cells[0]) and cells[0][1:-1] in OURS:
            table[cells[0][1:-1]] = frozenset(re.findall(r"`(\w+)`", cells[1]))
    assert table == ALLOWED
