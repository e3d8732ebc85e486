"""A sweep's folder, written and read here alone.

The folder of a sweep holds

- ``sweep.json``: the manifest, its :class:`Plan` (scenario, parameters, method, seeds, replicates, chunking,
  versions), written last when the folder is laid out, so a folder with a manifest is a sweep;
- ``design.parquet``: the points, one row each, with their parameter values;
- ``chunks/NNNNNN.<table>.parquet``: each chunk's tables, written when the chunk finishes (the ``summary``
  table last, atomically, marks the chunk done);
- ``summary.parquet``, ``by_year.parquet``, ``stances.parquet``, ``failures.parquet``: all chunks
  merged, once every chunk is done (the summary and by-year tables with the points' parameter values);
- ``sensitivity.csv`` and ``figures/``, written by the commands that make them.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import __version__
from ..core import streams
from ..core.errors import ConfigError
from ..core.files import atomic_parquet, atomic_text, occupied
from .design import Parameter

MANIFEST = "sweep.json"
DESIGN = "design.parquet"
CHUNKS = "chunks"
#: A chunk's tables, and the sweep's once merged; the last is written last and marks a chunk done.
TABLES = ("by_year", "stances", "failures", "summary")
SENSITIVITY = "sensitivity.csv"


@dataclass(frozen=True)
class Plan:
    """Everything that determines a sweep's numbers; stored as its manifest."""

    scenario: str  # absolute path
    scenario_sha256: str
    parameters: list[dict[str, Any]]  # Parameter.as_dict() of each
    method: str
    samples: int | None
    seed: int
    replicates: int
    points: int
    chunk_size: int
    overrides: dict[str, Any]  # --set, applied at every point under the point's own values
    common_noise: bool = False  # every point gets the same replicate noise (common random numbers)
    version: str = __version__
    taper: int = 0  # the last chunks shrink so that this many workers finish together; 0: all are chunk_size

    def seed_of(self, point: int) -> int:
        """The seed of a point: its own (a hash of the root seed and its number), or the root seed for all."""
        return self.seed if self.common_noise else point_seed(self.seed, point)

    def swept(self) -> list[Parameter]:
        """The parameters the sweep varies."""
        return [Parameter.from_dict(stored) for stored in self.parameters]

    def chunks(self) -> list[range]:
        """The points of each chunk, in order.

        Tapered, each chunk takes at most 1/(2 x taper) of the points left (guided scheduling), so the
        last chunks hold one point or a few and no worker is left idle while another runs a full chunk.
        """
        chunks, start = [], 0
        while start < self.points:
            left = self.points - start
            size = min(self.chunk_size, -(-left // (2 * self.taper))) if self.taper else self.chunk_size
            chunks.append(range(start, start + min(size, left)))
            start += size
        return chunks


def point_seed(root: int, point: int) -> int:
    """The seed of a point: a hash of the root seed and the point's number."""
    return streams.derived_seed(root, ("point", point))


@dataclass(frozen=True)
class Sweep:
    """A sweep's folder, with its plan and its points ({parameter path: value} each)."""

    folder: Path
    plan: Plan
    points: list[dict[str, Any]]

    def done(self) -> set[int]:
        """Chunks whose tables are all on disk (their summary, written last, exists)."""
        return {int(p.name.split(".")[0]) for p in self._chunk_files(TABLES[-1])}

    def remaining(self) -> dict[int, range]:
        """The points of each chunk not yet done, by chunk number, in order."""
        done = self.done()
        return {number: chunk for number, chunk in enumerate(self.plan.chunks()) if number not in done}

    def points_left(self) -> int:
        """How many points are in the chunks not yet done."""
        return sum(len(chunk) for chunk in self.remaining().values())

    def write_chunk(self, number: int, tables: dict[str, pd.DataFrame]) -> None:
        """Write a finished chunk's tables, the one that marks it done last."""
        for name in TABLES:
            atomic_parquet(tables[name], self.folder / CHUNKS / f"{number:06d}.{name}.parquet")  # as _chunk_files finds

    def merge(self) -> dict[str, pd.DataFrame]:
        """Merge every chunk's tables into the sweep's own; the summary and by-year tables get the parameter values."""
        design = pd.read_parquet(self.folder / DESIGN)
        merged = {}
        for name in TABLES:
            # read as Arrow tables and convert once: converting each chunk's file to pandas cost more than reading it
            files = self._chunk_files(name)
            parts = [part for part in (pq.read_table(path) for path in files) if part.num_rows]
            table = pa.concat_tables(parts, promote_options="default").to_pandas() if parts else no_rows()
            if name in ("summary", "by_year") and len(table):
                table = design.merge(table, on="point", how="right")
            merged[name] = table.sort_values("point", kind="stable", ignore_index=True)
            atomic_parquet(merged[name], self.table_path(name))
        return merged

    def require_finished(self) -> None:
        """Refuse a sweep whose chunks are not all done and merged."""
        if self.remaining() or not self.table_path(TABLES[-1]).is_file():
            raise ConfigError(self.folder, CHUNKS,
                              "the sweep is not finished; complete it with 'sco-sim sweep --resume' first")

    def table(self, name: str) -> pd.DataFrame:
        """One of the merged tables (``summary``, ``by_year``, ``stances``, ``failures``)."""
        path = self.table_path(name)
        return pd.read_parquet(path) if path.is_file() else no_rows()

    def table_path(self, name: str) -> Path:
        """Where one of the merged tables is written."""
        return self.folder / f"{name}.parquet"

    def _chunk_files(self, name: str) -> list[Path]:
        """Every finished chunk's file of one table, in chunk order."""
        return sorted((self.folder / CHUNKS).glob(f"*.{name}.parquet"))

    def save_sensitivity(self, indices: pd.DataFrame) -> Path:
        """Write the sensitivity indices (as Parquet and CSV); return the CSV's path."""
        atomic_parquet(indices, self.folder / f"{Path(SENSITIVITY).stem}.parquet")
        atomic_text(indices.to_csv(index=False), self.folder / SENSITIVITY)
        return self.folder / SENSITIVITY

    def sensitivity(self) -> pd.DataFrame | None:
        """The sensitivity indices, if they have been computed."""
        path = self.folder / SENSITIVITY
        return pd.read_csv(path) if path.is_file() else None


def no_rows() -> pd.DataFrame:
    """A table of a sweep with no rows: only the point column, for a chunk or a sweep in which nothing came out."""
    return pd.DataFrame({"point": pd.Series(dtype=int)})


def is_sweep(folder: Path) -> bool:
    """Whether ``folder`` was laid out as a sweep (it has a manifest)."""
    return (folder / MANIFEST).is_file()


def create(folder: Path, plan: Plan, points: list[dict[str, Any]], force: bool = False) -> Sweep:
    """Lay out a new sweep folder: an empty chunks folder, the design, and the manifest last."""
    if occupied(folder, force, hint="choose another folder, pass --force, or --resume it"):
        shutil.rmtree(folder)
    (folder / CHUNKS).mkdir(parents=True, exist_ok=True)
    design = pd.DataFrame(points)
    design.insert(0, "point", np.arange(len(points)))
    atomic_parquet(design, folder / DESIGN)
    manifest = {"plan": asdict(plan), "created": datetime.now(UTC).isoformat(timespec="seconds")}
    atomic_text(json.dumps(manifest, indent=2, default=str) + "\n", folder / MANIFEST)  # last: the folder is a sweep
    return Sweep(folder, plan, points)


def open_sweep(folder: Path) -> Sweep:
    """An existing sweep folder."""
    if not is_sweep(folder):
        raise ConfigError(folder, MANIFEST,
                          "not a sweep folder (no manifest); expected the --out folder of an earlier sweep")
    try:
        plan = Plan(**json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["plan"])
        design = pd.read_parquet(folder / DESIGN)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigError(folder, MANIFEST, f"the sweep folder is damaged ({type(error).__name__}: {error})") from None
    names = [c for c in design.columns if c != "point"]
    points = [{name: _plain(row[name]) for name in names} for _, row in design.iterrows()]
    return Sweep(folder, plan, points)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
