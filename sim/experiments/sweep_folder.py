"""A sweep's folder, written and read here alone.

The folder of a sweep holds

- ``sweep.json``: the manifest, its :class:`Plan` (scenario, parameters, method, seeds, replicates, chunking,
  versions), written last when the folder is laid out, so a folder with a manifest is a sweep;
- ``design.parquet``: the points, one row each, with their parameter values;
- ``chunks/NNNNNN.<table>.parquet``: each chunk's tables, written atomically when the chunk finishes;
- ``chunks.jsonl``: the ledger of finished chunks, part of the manifest, appended to (and flushed to disk) once a
  chunk's files are in place: one JSON line per chunk with its points and, per table, its rows and the SHA-256 of
  its file. A chunk is done only if it has a record; a later line for the same chunk supersedes an earlier one
  (``"void": true`` withdraws it, for a damaged chunk about to be recomputed), and a torn last line is ignored.
  Resuming and merging check every done chunk's files against their records, so a chunk deleted, truncated or
  swapped is recomputed, never merged. A folder of an earlier version without a ledger has its complete chunks
  adopted (checked and recorded) when it is resumed;
- ``summary.parquet``, ``by_year.parquet``, ``stances.parquet``, ``failures.parquet``: all chunks
  merged, once every chunk is done (the summary and by-year tables with the points' parameter values);
- ``sensitivity.csv`` and ``figures/``, written by the commands that make them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import __version__
from ..core import streams
from ..core.errors import ConfigError, UsageError
from ..core.files import (
    PENDING,
    atomic_parquet,
    atomic_text,
    atomic_write,
    destination,
    manifest_says_sco_sim,
    mark,
    occupied,
    promote,
    recover,
    remove,
    sibling,
)
from .design import Parameter, plain

MANIFEST = "sweep.json"
DESIGN = "design.parquet"
CHUNKS = "chunks"
#: The ledger of finished chunks (see the module's docstring).
LEDGER = "chunks.jsonl"
#: A chunk's tables, and the sweep's once merged.
TABLES = ("by_year", "stances", "failures", "summary")
SENSITIVITY = "sensitivity.csv"
#: Rows gathered before the merge writes them out: fewer, larger row groups than one per chunk, in bounded memory.
ROW_GROUP = 100_000


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
    # every input file the scenario was built from (path -> SHA-256); empty in the manifests of earlier versions
    sources: dict[str, str] = field(default_factory=dict)

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
        return list(_layout(self.points, self.chunk_size, self.taper))


@functools.lru_cache(maxsize=4)
def _layout(points: int, chunk_size: int, taper: int) -> tuple[range, ...]:
    """:meth:`Plan.chunks`, computed once per plan (a sweep looks up a chunk's points each time one finishes)."""
    chunks, start = [], 0
    while start < points:
        left = points - start
        size = min(chunk_size, -(-left // (2 * taper))) if taper else chunk_size
        chunks.append(range(start, start + min(size, left)))
        start += size
    return tuple(chunks)


def _well_formed(record: dict[str, Any]) -> bool:
    """Whether a ledger record vouches for a chunk: its points, and the rows and SHA-256 of each of its tables."""
    files, points = record.get("files"), record.get("points")
    return (isinstance(points, list) and len(points) == 2 and isinstance(files, dict)
            and all(isinstance(files.get(name), dict) and isinstance(files[name].get("rows"), int)
                    and isinstance(files[name].get("sha256"), str) for name in TABLES))


def _write_synced(path: str, data: bytes) -> None:
    """Write a file and flush it to disk."""
    with open(path, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries (the files just renamed into it) to disk."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def point_seed(root: int, point: int) -> int:
    """The seed of a point: a hash of the root seed and the point's number."""
    return streams.derived_seed(root, ("point", point))


@dataclass(frozen=True)
class Sweep:
    """A sweep's folder, with its plan and its design: a row per point, a column per parameter path."""

    folder: Path
    plan: Plan
    design: pd.DataFrame

    def points_of(self, chunk: range) -> list[tuple[int, dict[str, Any]]]:
        """Each point of ``chunk`` with its values ({parameter path: value}), as plain Python values."""
        rows = self.design.iloc[chunk.start:chunk.stop]
        return [(index, {name: plain(value) for name, value in zip(rows.columns, row, strict=True)})
                for index, row in zip(chunk, rows.itertuples(index=False, name=None), strict=True)]

    def done(self) -> set[int]:
        """Chunks recorded in the ledger as finished (:meth:`damaged` checks their files against the records)."""
        return set(self.records())

    def remaining(self) -> dict[int, range]:
        """The points of each chunk not yet done, by chunk number, in order."""
        done = self.done()
        return {number: chunk for number, chunk in enumerate(self.plan.chunks()) if number not in done}

    def points_left(self) -> int:
        """How many points are in the chunks not yet done."""
        return sum(len(chunk) for chunk in self.remaining().values())

    def write_chunk(self, number: int, tables: dict[str, pd.DataFrame]) -> None:
        """Write a finished chunk's tables, then record them in the ledger, which makes the chunk done."""
        files = {}
        for name in TABLES:
            data = tables[name].to_parquet(index=False)
            atomic_write(self.chunk_file(number, name), functools.partial(_write_synced, data=data))
            files[name] = {"rows": len(tables[name]), "sha256": hashlib.sha256(data).hexdigest()}
        _sync_folder(self.folder / CHUNKS)  # the renames reach the disk before the record that vouches for them
        chunk = _layout(self.plan.points, self.plan.chunk_size, self.plan.taper)[number]
        self._record([{"chunk": number, "points": [chunk.start, chunk.stop], "files": files}])

    def records(self) -> dict[int, dict[str, Any]]:
        """The ledger's live record of each done chunk; a line that does not parse (a torn last line) is ignored."""
        try:
            lines = (self.folder / LEDGER).read_bytes().splitlines()
        except FileNotFoundError:
            return {}
        records: dict[int, dict[str, Any]] = {}
        for line in lines:
            try:
                record = json.loads(line)
                number = record["chunk"]
            except (ValueError, KeyError, TypeError):
                continue
            if not isinstance(number, int):
                continue
            if _well_formed(record):
                records[number] = record
            else:  # a withdrawn chunk, or a record this version cannot vouch for: to be recomputed
                records.pop(number, None)
        return records

    def damaged(self) -> dict[int, str]:
        """The done chunks whose files do not match their records, each with the first thing found wrong."""
        layout = _layout(self.plan.points, self.plan.chunk_size, self.plan.taper)
        found = {}
        for number, record in sorted(self.records().items()):
            problem = self._problem(number, record, layout)
            if problem:
                found[number] = problem
        return found

    def repair(self) -> dict[int, str]:
        """Withdraw every done chunk whose files do not match its record, so that it is recomputed; return them, each
        with what was wrong. A folder of an earlier version, without a ledger, has its complete chunks adopted first."""
        if not (self.folder / LEDGER).exists():
            self._adopt()
        damaged = self.damaged()
        for number in damaged:
            for name in TABLES:
                self.chunk_file(number, name).unlink(missing_ok=True)
        if damaged:
            self._record([{"chunk": number, "void": True} for number in damaged])
        return damaged

    def merge(self) -> None:
        """Merge every chunk's tables into the sweep's own, one chunk at a time, so that memory does not grow with the
        number of points; the summary and by-year tables get the points' parameter values.

        Every chunk is checked against its record first, and every point must come from the one chunk that holds it:
        a chunk not done, damaged since it was recorded, or holding other points stops the merge before anything is
        merged.
        """
        layout = _layout(self.plan.points, self.plan.chunk_size, self.plan.taper)
        ends = [0, *(chunk.stop for chunk in layout)]
        if ends[-1] != self.plan.points or any(chunk.start != end for chunk, end in zip(layout, ends, strict=False)):
            raise ConfigError(self.folder / MANIFEST, "plan", "its chunks do not cover every point exactly once")
        records = self.records()
        missing = [number for number in range(len(layout)) if number not in records]
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise ConfigError(self.folder / LEDGER, f"{missing[0]:06d}", f"chunk not done{more}; nothing was merged; "
                              f"finish with: sco-sim sweep --resume {self.folder}")
        damaged = self.damaged()
        if damaged:
            (number, problem), rest = next(iter(damaged.items())), len(damaged) - 1
            others = f" (and {rest} more chunk{'s' * (rest > 1)})" if rest else ""
            raise ConfigError(self.folder / CHUNKS, f"{number:06d}",
                              f"{problem} since the chunk was recorded{others}; nothing was merged; "
                              f"recompute with: sco-sim sweep --resume {self.folder}")
        design = _read(self.folder / DESIGN)
        allocator = pa.default_memory_pool()
        # the C library's allocator, which returns what a chunk freed: Arrow's own (mimalloc) keeps freed pages for
        # reuse, and the parent's memory would grow with the number of chunks merged
        pa.set_memory_pool(pa.system_memory_pool())
        try:
            for name in TABLES:
                atomic_write(self.table_path(name), functools.partial(self._merge_table, name, design))
        finally:
            pa.set_memory_pool(allocator)

    def _merge_table(self, name: str, design: pa.Table, target: str) -> None:
        """Stream one table of every chunk into the file ``target``."""
        with open(target, "wb") as file:  # opened here: Arrow opens only paths that are UTF-8 text
            self._merge_into(name, design, file)

    def _merge_into(self, name: str, design: pa.Table, target: BinaryIO) -> None:
        """Stream one table of every chunk into ``target``, in chunk order (so in order of the points), in Arrow's
        columns throughout: memory holds one chunk and one row group at a time, whatever the number of points."""
        layout = _layout(self.plan.points, self.plan.chunk_size, self.plan.taper)
        writer: pq.ParquetWriter | None = None
        waiting: list[pa.Table] = []
        try:
            for number, chunk in enumerate(layout):
                part = _read(self.chunk_file(number, name)).replace_schema_metadata(None)
                if not part.num_rows:
                    continue
                points = part.column("point")
                low, high = pc.min_max(points).values()
                if low.as_py() < chunk.start or high.as_py() >= chunk.stop:
                    raise ConfigError(self.chunk_file(number, name), "point",
                                      f"holds points outside its chunk's {chunk.start} to {chunk.stop - 1}")
                part = part.take(pc.sort_indices(points))  # a stable sort: rows of one point keep their order
                if name in ("summary", "by_year"):  # the points' parameter values, after the point column
                    values = design.slice(chunk.start, len(chunk)).take(pc.subtract(part.column("point"), chunk.start))
                    part = pa.Table.from_arrays([*values.columns, *part.drop_columns("point").columns],
                                                names=[*values.column_names, *part.drop_columns("point").column_names])
                writer = writer or pq.ParquetWriter(target, part.schema)
                waiting.append(part.cast(writer.schema))
                if sum(t.num_rows for t in waiting) >= ROW_GROUP:
                    writer.write_table(pa.concat_tables(waiting))
                    waiting = []
            if writer is None:
                no_rows().to_parquet(target, index=False)
            elif waiting:
                writer.write_table(pa.concat_tables(waiting))
        finally:
            if writer is not None:
                writer.close()

    def require_finished(self) -> None:
        """Refuse a sweep whose chunks are not all done and merged."""
        if self.remaining() or not self.table_path(TABLES[-1]).is_file():
            raise ConfigError(self.folder, CHUNKS,
                              "the sweep is not finished; complete it with 'sco-sim sweep --resume' first")

    def table(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        """One of the merged tables (``summary``, ``by_year``, ``stances``, ``failures``); with ``columns``, only
        those of them it has (a table in which nothing came out has only the point column)."""
        path = self.table_path(name)
        if not path.is_file():
            return no_rows()
        with path.open("rb") as file:  # opened here: Arrow opens only paths that are UTF-8 text
            if columns is not None:
                columns = [column for column in columns if column in pq.read_schema(file).names]
            return pd.read_parquet(file, columns=columns)

    def table_path(self, name: str) -> Path:
        """Where one of the merged tables is written."""
        return self.folder / f"{name}.parquet"

    def _problem(self, number: int, record: dict[str, Any], layout: tuple[range, ...]) -> str | None:
        if number >= len(layout) or record["points"] != [layout[number].start, layout[number].stop]:
            return "not one of the plan's chunks"
        for name in TABLES:
            path, expected = self.chunk_file(number, name), record["files"][name]
            try:
                with path.open("rb") as file:
                    digest = hashlib.file_digest(file, "sha256").hexdigest()
                    rows = pq.read_metadata(file).num_rows if digest == expected["sha256"] else None
            except FileNotFoundError:
                return f"{name} missing"
            except (OSError, pa.ArrowException) as error:
                return f"{name} unreadable ({type(error).__name__})"
            if digest != expected["sha256"]:
                return f"{name} SHA-256 differs"
            if rows != expected["rows"]:
                return f"{name} has {rows} rows, {expected['rows']} recorded"
        return None

    def _adopt(self) -> None:
        """Record the complete chunks of a folder written before the ledger: all tables there, readable, and holding
        only their own chunk's points; any other chunk is recomputed."""
        records = []
        for number, chunk in enumerate(_layout(self.plan.points, self.plan.chunk_size, self.plan.taper)):
            files = {}
            for name in TABLES:
                path = self.chunk_file(number, name)
                try:
                    points = _read(path, columns=["point"]).column("point").to_numpy()
                    data = path.read_bytes()
                except (OSError, pa.ArrowException, KeyError):
                    break
                if len(points) and (points.min() < chunk.start or points.max() >= chunk.stop):
                    break
                files[name] = {"rows": len(points), "sha256": hashlib.sha256(data).hexdigest()}
            if len(files) == len(TABLES):
                records.append({"chunk": number, "points": [chunk.start, chunk.stop], "files": files})
        self._record(records)

    def _record(self, records: list[dict[str, Any]]) -> None:
        """Append records to the ledger and flush them to disk; a torn last line, left by a crash, is closed first."""
        text = b"".join(json.dumps(record, separators=(",", ":")).encode() + b"\n" for record in records)
        with (self.folder / LEDGER).open("a+b") as ledger:
            if ledger.tell():
                ledger.seek(-1, os.SEEK_END)
                if ledger.read(1) != b"\n":
                    text = b"\n" + text
            ledger.write(text)
            ledger.flush()
            os.fsync(ledger.fileno())

    def chunk_file(self, number: int, name: str) -> Path:
        """Where one table of a chunk is written."""
        return self.folder / CHUNKS / f"{number:06d}.{name}.parquet"

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


def create(folder: Path, plan: Plan, design: pd.DataFrame, force: bool = False) -> Sweep:
    """Lay out a new sweep folder: sco-sim's marker, an empty chunks folder, the design, and the manifest last.

    Call it with ``folder`` locked. With ``force``, results already in ``folder`` stay there until the new sweep
    is complete: it is laid out in the hidden sibling ``.NAME.pending``, whose manifest records what it replaces,
    and :func:`install` swaps it in once merged. An unfinished replacement there is discarded only with ``force``.
    """
    recover(folder, written_by_sco_sim)
    replace = occupied(folder, force, hint="choose another folder, pass --force, or --resume it",
                       legacy=written_by_sco_sim)
    waiting = sibling(folder, PENDING)
    if waiting.exists():
        if not force:
            raise UsageError(f"{folder}: --out: a sweep begun to replace it is unfinished ({waiting}); finish it with "
                             f"'sco-sim sweep --resume {folder}', or pass --force to start over")
        occupied(waiting, force, legacy=written_by_sco_sim)  # refuses what sco-sim did not write
        remove(waiting)
    where = waiting if replace else folder
    (where / CHUNKS).mkdir(parents=True, exist_ok=True)
    # first: a sweep cut short while laid out is still known to be sco-sim's; its chunks and ledger are its own
    mark(where, "sweep", owned=[f"{CHUNKS}/", LEDGER])
    atomic_parquet(pd.concat([pd.DataFrame({"point": np.arange(len(design))}), design], axis=1), where / DESIGN)
    manifest = {"plan": asdict(plan), "created": datetime.now(UTC).isoformat(timespec="seconds"),
                **({"replaces": str(folder.resolve())} if replace else {})}
    atomic_text(json.dumps(manifest, indent=2, default=str) + "\n", where / MANIFEST)  # last: the folder is a sweep
    return Sweep(where, plan, design)


def install(sweep: Sweep) -> Sweep:
    """The finished ``sweep`` under its own name: one laid out beside an earlier sweep to replace it
    (``.NAME.pending``) is swapped in for NAME now, in one step, and the earlier one removed. Call it with NAME
    locked."""
    if destination(sweep.folder) == sweep.folder:
        return sweep
    return replace(sweep, folder=promote(sweep.folder))


def written_by_sco_sim(folder: Path) -> bool:
    """Whether ``folder``, without a marker, holds a sweep an earlier version wrote (its manifest's plan has the
    version of sco-sim)."""
    return manifest_says_sco_sim(folder / MANIFEST, ("plan", "version"))


def open_sweep(folder: Path) -> Sweep:
    """An existing sweep folder."""
    if not is_sweep(folder):
        raise ConfigError(folder, MANIFEST,
                          "not a sweep folder (no manifest); expected the --out folder of an earlier sweep")
    try:
        plan = Plan(**json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["plan"])
        with (folder / DESIGN).open("rb") as file:
            design = pd.read_parquet(file)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigError(folder, MANIFEST, f"the sweep folder is damaged ({type(error).__name__}: {error})") from None
    return Sweep(folder, plan, design.drop(columns="point"))


def _read(path: Path, columns: list[str] | None = None) -> pa.Table:
    """A Parquet file's table, opened here: Arrow opens only paths that are UTF-8 text, and a folder's name need not
    be (the byte 0xff)."""
    with path.open("rb") as file:
        return pq.read_table(file, columns=columns)
