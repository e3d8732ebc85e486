"""Writing results so that a crash never leaves a half-written file or folder under its final name."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


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


def atomic_write(path: Path, write: Any) -> None:
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
