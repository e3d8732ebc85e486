"""Where results go, and writing them so that a crash never leaves a half-written file or folder under its
final name."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import UsageError

#: Where a command writes when it is given no --out: a new folder in here, named after what ran and when.
RESULTS = Path("results")
#: The folder, inside a run's or a sweep's, that holds its figures.
FIGURES = "figures"


def default_folder(name: str) -> Path:
    """A new folder under :data:`RESULTS` for ``name`` that does not exist yet (never an earlier run's)."""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name) or "run"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = RESULTS / f"{safe}-{stamp}"
    suffix = 1
    while candidate.exists():
        suffix += 1
        candidate = RESULTS / f"{safe}-{stamp}-{suffix}"
    return candidate


def occupied(folder: Path, force: bool, hint: str = "choose another folder or pass --force to replace it") -> bool:
    """Whether the output folder already holds something that ``force`` allows to be replaced.

    A folder that holds anything is refused without ``force`` (a UsageError ending in ``hint``); a file
    where the folder should be is refused always.
    """
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder}: --out: exists and is not a folder")
    if folder.exists() and any(folder.iterdir()):
        if not force:
            raise UsageError(f"{folder}: --out: already holds results; {hint}")
        return True
    return False


@contextmanager
def staged_folder(out: Path, replace: bool = False) -> Iterator[Path]:
    """A hidden sibling folder to write into, renamed to ``out`` when the block ends without error.

    Without ``replace``, ``out`` must not exist or be empty (the rename fails rather than merge);
    with it, an earlier ``out`` is removed only once the new one is complete.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield staging
        if out.exists() and (replace or not any(out.iterdir())):
            shutil.rmtree(out)
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def atomic_write(path: Path, write: Callable[[str], Any]) -> None:
    """Call ``write(temporary_path)``, then move the file to ``path`` in one step."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_parquet(frame: Any, path: Path) -> None:
    """Write a table to Parquet atomically."""
    atomic_write(path, lambda temporary: frame.to_parquet(temporary, index=False))


def atomic_text(text: str, path: Path) -> None:
    """Write a text file atomically."""
    atomic_write(path, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))
