"""Parameter sweeps: many points of a design, each run for many replicates, streamed to disk.

The folder of a sweep holds

- ``sweep.json``: the manifest (scenario, parameters, method, seeds, replicates, chunking, versions);
- ``design.parquet``: the points, one row each, with their parameter values;
- ``chunks/NNNNNN.*.parquet``: the aggregates of each chunk of points, written when the chunk
  finishes (the ``.summary`` file last, atomically, marks the chunk done);
- ``summary.parquet``, ``by_year.parquet``, ``stances.parquet``, ``failures.parquet``: all chunks
  merged, once every chunk is done.

A chunk is a pure function of the manifest and its points: each point's seed derives from the root
seed and the point's number, each replicate's draws from that seed and the replicate's number. So the
numbers do not depend on the executor, the number of workers or the order in which chunks finish,
and ``--resume`` finishes an interrupted sweep without redoing or duplicating anything.
"""

from __future__ import annotations

import json
import shutil
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import __version__, streams
from .design import Parameter
from .files import atomic_parquet, atomic_text
from .results import Record, aggregate
from .scenario import ConfigError, Scenario, load_scenario

MANIFEST = "sweep.json"


@dataclass(frozen=True)
class Plan:
    """Everything that determines a sweep's numbers; stored as its manifest."""

    scenario: str  # absolute path
    scenario_sha256: str
    parameters: list[dict[str, Any]]  # Parameter fields
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
    return int(streams._key(root, ("point", point)) >> np.uint64(1))


def simulate(scenario: Scenario) -> list[Record]:
    """:func:`sim.runner.simulate`, imported when first needed: a sweep's parent process never loads Mesa."""
    from .runner import simulate as run

    return run(scenario)


def run_chunk(plan: Plan, points: list[tuple[int, dict[str, Any]]]) -> dict[str, pd.DataFrame]:
    """Run the points of one chunk; a point that fails is recorded with its error, the others go on."""
    tables: dict[str, list[pd.DataFrame]] = {"summary": [], "by_year": [], "stances": [], "failures": []}
    for index, values in points:
        try:
            scenario = load_scenario(Path(plan.scenario), overrides={**plan.overrides, **values},
                                     replicates=plan.replicates, seed=plan.seed_of(index))
            result = aggregate(simulate(scenario), {})
        except Exception as error:  # noqa: BLE001 - recorded per point, reported at the end
            message = str(error) if isinstance(error, ConfigError) else f"{type(error).__name__}: {error}"
            tables["failures"].append(pd.DataFrame({"point": [index], "error": [message],
                                                    "detail": ["" if isinstance(error, ConfigError) else traceback.format_exc(limit=3)]}))
            continue
        for name in ("summary", "by_year", "stances"):
            frame = getattr(result, name).drop(columns=["name"], errors="ignore")
            frame.insert(0, "point", index)
            tables[name].append(frame)
    return {name: pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"point": pd.Series(dtype=int)})
            for name, frames in tables.items()}


# --- the folder -----------------------------------------------------------------------------------


def create(folder: Path, plan: Plan, points: list[dict[str, Any]], force: bool = False) -> None:
    """Lay out a new sweep folder: manifest, design, an empty chunks folder."""
    if folder.exists() and any(folder.iterdir()):
        if not force:
            raise FileExistsError(f"{folder}: --out: already holds results; choose another folder, pass --force, or --resume it")
        shutil.rmtree(folder)
    (folder / "chunks").mkdir(parents=True, exist_ok=True)
    design = pd.DataFrame(points)
    design.insert(0, "point", np.arange(len(points)))
    atomic_parquet(design, folder / "design.parquet")
    manifest = {"plan": asdict(plan), "created": datetime.now(UTC).isoformat(timespec="seconds")}
    atomic_text(json.dumps(manifest, indent=2, default=str) + "\n", folder / MANIFEST)  # last: the folder is a sweep


def open_sweep(folder: Path) -> tuple[Plan, list[dict[str, Any]]]:
    """The plan and the points of an existing sweep folder."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise ConfigError(folder, MANIFEST, "not a sweep folder (no manifest); expected the --out folder of an earlier sweep")
    try:
        plan = Plan(**json.loads(manifest.read_text(encoding="utf-8"))["plan"])
        design = pd.read_parquet(folder / "design.parquet")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigError(folder, MANIFEST, f"the sweep folder is damaged ({type(error).__name__}: {error})") from None
    names = [c for c in design.columns if c != "point"]
    points = [{name: _plain(row[name]) for name in names} for _, row in design.iterrows()]
    return plan, points


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def done_chunks(folder: Path) -> set[int]:
    """Chunks whose results are all on disk (their summary file, written last, exists)."""
    return {int(p.name.split(".")[0]) for p in (folder / "chunks").glob("*.summary.parquet")}


def remaining_chunks(folder: Path, plan: Plan) -> dict[int, range]:
    """The points of each chunk not yet done, by chunk number, in order."""
    done = done_chunks(folder)
    return {number: chunk for number, chunk in enumerate(plan.chunks()) if number not in done}


def _write_chunk(folder: Path, number: int, tables: dict[str, pd.DataFrame]) -> None:
    for name in ("by_year", "stances", "failures", "summary"):  # summary last: it marks the chunk done
        atomic_parquet(tables[name], folder / "chunks" / f"{number:06d}.{name}.parquet")


def merge(folder: Path) -> dict[str, pd.DataFrame]:
    """Merge every chunk's tables into the sweep's own; the summary gets the parameter values beside it."""
    design = pd.read_parquet(folder / "design.parquet")
    merged = {}
    for name in ("summary", "by_year", "stances", "failures"):
        # read as Arrow tables and convert once: converting each chunk's file to pandas cost more than reading it
        parts = [part for part in (pq.read_table(path) for path in sorted((folder / "chunks").glob(f"*.{name}.parquet"))) if part.num_rows]
        table = pa.concat_tables(parts, promote_options="default").to_pandas() if parts else pd.DataFrame({"point": pd.Series(dtype=int)})
        if name in ("summary", "by_year") and len(table):
            table = design.merge(table, on="point", how="right")
        merged[name] = table.sort_values("point", kind="stable", ignore_index=True)
        atomic_parquet(merged[name], folder / f"{name}.parquet")
    return merged


# --- running --------------------------------------------------------------------------------------


def execute(
    folder: Path,
    plan: Plan,
    points: list[dict[str, Any]],
    executor: Executor,
    in_flight: int,
    progress: Callable[[int], None] = lambda n: None,
) -> None:
    """Run every chunk not yet done, at most ``in_flight`` at a time, writing each as it finishes."""
    chunks = remaining_chunks(folder, plan)
    pending: dict[Future, int] = {}
    try:
        for number, chunk in chunks.items():
            pending[executor.submit(run_chunk, plan, [(i, points[i]) for i in chunk])] = number
            if len(pending) >= in_flight:
                _collect(folder, pending, chunks, progress)
        while pending:
            _collect(folder, pending, chunks, progress)
    except BaseException:
        for future in pending:
            future.cancel()
        raise


def _collect(folder: Path, pending: dict[Future, int], chunks: dict[int, range], progress: Callable[[int], None]) -> None:
    finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
    for future in finished:
        number = pending.pop(future)
        _write_chunk(folder, number, future.result())
        progress(len(chunks[number]))


def parameters_of(plan: Plan) -> list[Parameter]:
    """The plan's parameters as :class:`Parameter` objects."""
    return [Parameter(p["path"], tuple(p["values"]) if p["values"] is not None else None,
                      tuple(p["bounds"]) if p["bounds"] is not None else None) for p in plan.parameters]
