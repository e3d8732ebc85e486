"""Parameter sweeps: many points of a design, each run for many replicates, streamed to disk chunk by chunk.

A chunk is a pure function of the plan and its points: each point's seed derives from the root seed and
the point's number, each replicate's draws from that seed and the replicate's number. So the numbers do
not depend on the executor, the number of workers or the order in which chunks finish, and a sweep
resumed after an interruption finishes without redoing or duplicating anything. The folder's format is
:mod:`sim.experiments.sweep_folder`'s.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.errors import ConfigError, UsageError
from ..core.files import PENDING, default_folder, destination, recover, sibling
from ..core.vocabulary import DASK_PROBE_SECONDS, Method
from ..inputs.scenario import Scenario, load_scenario
from ..inputs.yaml_files import file_sha256
from ..model.tables import aggregate
from .design import Parameter, design, parse_parameter, plain, values_at
from .sweep_folder import Plan, Sweep, create, is_sweep, no_rows, open_sweep, written_by_sco_sim

#: Runs (points x replicates) in one chunk by default, at most: enough to outweigh a task's overhead.
CHUNK_RUNS = 20_000
#: Chunks each worker gets at least by default, so that the work spreads evenly over the workers.
CHUNKS_PER_WORKER = 8


@dataclass(frozen=True)
class Request:
    """A sweep as the command line asks for it; None where an option was not given."""

    scenario: Path | None = None
    parameters: tuple[str, ...] = ()  # --param PATH=VALUES, as typed
    method: Method = "grid"
    samples: int | None = None
    replicates: int | None = None
    seed: int | None = None
    overrides: dict[str, Any] = field(default_factory=dict)  # --set, read
    common_noise: bool = False
    chunk_size: int | None = None
    out: Path | None = None
    force: bool = False
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # --bargaining ...: each, the overrides it means

    @property
    def applied(self) -> dict[str, Any]:
        """The overrides the sweep applies: those the settings stand for, then ``--set``'s, the order in which a run
        applies them (:func:`sim.inputs.scenario.load_scenario`), so that ``--set`` wins in both."""
        return {key: value for pairs in self.settings.values() for key, value in pairs.items()} | self.overrides


def start(request: Request, width: int) -> Sweep:
    """A new sweep, laid out on disk with its plan and points once every parameter's values have been tried.

    ``width`` is how many chunks the executor runs at once: it sizes the chunks and tapers the last ones,
    so that all workers finish at about the same time.
    """
    scenario, parameters, points = prepare(request)
    plan = Plan(str(scenario.path.resolve()), scenario.digest, [p.as_dict() for p in parameters], request.method,
                request.samples, scenario.seed, scenario.replicates, len(points),
                chunk_size(request, scenario.replicates, len(points), width), request.applied,
                request.common_noise, taper=width if width > 1 else 0, sources=scenario.sources)
    return create(request.out or default_folder(f"sweep-{scenario.name}"), plan, points, force=request.force)


def prepare(request: Request) -> tuple[Scenario, list[Parameter], pd.DataFrame]:
    """A new sweep's scenario, parameters and points, every parameter's values tried: all that :func:`start` checks
    before it writes anything, so that ``sweep --dry-run`` refuses what the sweep would."""
    if request.scenario is None:
        raise UsageError("command line: sweep needs a scenario file (or --resume DIR)")
    if request.chunk_size is not None and request.chunk_size < 1:
        raise ConfigError("command line", "--chunk-size", f"expected at least 1, got {request.chunk_size}")
    scenario = load_scenario(request.scenario, overrides=request.applied, replicates=request.replicates,
                             seed=request.seed)
    parameters = [parse_parameter(text) for text in request.parameters]
    points = design(parameters, request.method, request.samples, scenario.seed)
    _try_parameter_values(request.scenario, request.applied, parameters, points)
    return scenario, parameters, points


def chunk_size(request: Request, replicates: int, points: int, width: int) -> int:
    """Points per chunk: as asked, else about :data:`CHUNK_RUNS` runs, and :data:`CHUNKS_PER_WORKER` chunks per
    worker at least."""
    return request.chunk_size or max(1, min(-(-CHUNK_RUNS // replicates), -(-points // (CHUNKS_PER_WORKER * width))))


def resume(folder: Path, request: Request, say: Callable[[str], object] = lambda line: None) -> Sweep:
    """The interrupted sweep in ``folder``; refused if ``request`` asks for anything else than the sweep was begun
    with (the manifest decides, and what differs would be ignored), or if any file its scenario was built from
    changed since. Its done chunks are checked, and those damaged or missing are withdrawn to be recomputed, which
    ``say`` tells in one line."""
    recover(destination(folder), written_by_sco_sim)  # what a command cut short left beside it
    waiting = sibling(folder, PENDING)  # --resume OUT finishes the replacement begun beside OUT, if any
    sweep = open_sweep(waiting if is_sweep(waiting) else folder)
    _same_as_begun(request, sweep)
    _same_sources(sweep.plan)
    damaged = sweep.repair()
    if damaged:
        shown = "; ".join(f"{number:06d}: {problem}" for number, problem in list(damaged.items())[:3])
        more = f"; and {len(damaged) - 3} more" if len(damaged) > 3 else ""
        them = "them" if len(damaged) > 1 else "it"
        say(f"{len(damaged)} chunk{'s' * (len(damaged) > 1)} damaged or missing ({shown}{more}); recomputing {them}")
    return sweep


def _same_sources(plan: Plan) -> None:
    """Refuse a sweep whose scenario, or any file it builds on, changed since it began (a manifest of an earlier
    version names only the scenario)."""
    sources = plan.sources or {plan.scenario: plan.scenario_sha256}
    for name, digest in sources.items():
        path = Path(name)
        if not path.is_file():
            raise ConfigError(path, "", "gone since the sweep began; start a new sweep")
        if file_sha256(path) != digest:
            raise ConfigError(path, "", "changed since the sweep began (SHA-256 differs); start a new sweep")


def _same_as_begun(request: Request, sweep: Sweep) -> None:
    """Refuse an option given with ``--resume`` that differs from what the sweep began with, named as typed."""
    plan = sweep.plan
    given = {
        "scenario": (str(request.scenario.resolve()) if request.scenario else None, plan.scenario),
        "--param": ([parse_parameter(text) for text in request.parameters] or None, plan.swept()),
        "--method": (request.method if request.method != "grid" else None,
                     plan.method if plan.method != "grid" else None),
        "--samples": (request.samples, plan.samples if request.samples is not None else None),
        "--replicates": (request.replicates, plan.replicates if request.replicates is not None else None),
        "--seed": (request.seed, plan.seed if request.seed is not None else None),
        "--out": (str(request.out.resolve()) if request.out else None, str(destination(sweep.folder).resolve())),
        "--common-noise": (request.common_noise or None, plan.common_noise),
    }
    differing = [option for option, (value, begun) in given.items() if value is not None and value != begun]
    # the sweep's overrides hold --set's and the settings' together: each pair typed must be one of them
    for option, pairs in {"--set": request.overrides, **request.settings}.items():
        if any(key not in plan.overrides or plan.overrides[key] != value for key, value in pairs.items()):
            differing.append(option)
    if differing:
        raise UsageError(f"command line: {differing[0]} differs from the sweep in {sweep.folder} "
                         "(drop it: --resume takes the sweep's own)")


def _try_parameter_values(path: Path, overrides: dict[str, Any], parameters: list[Parameter],
                          points: pd.DataFrame) -> None:
    """Try each parameter's values before the sweep starts, each in the first point of the design that has it.

    Numbers are tried at their smallest and largest (the configuration's bounds are intervals), other
    values each once; a distribution ``U(low,high)`` at its ends, which the points drawn from it approach (and
    Morris's reach), in the points that hold its smallest and largest draw. A typo or an out-of-range value stops
    the sweep here; a point that fails only for its particular combination of values is recorded as failed when it
    runs, and the others go on.
    """
    tried: list[tuple[int, Parameter, Any]] = []  # (the first point holding a value to try, its parameter, the value)
    for p in parameters:
        column = points[p.path]
        numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
        # the position (the design's index is 0, 1, ...) of the first point holding each value to try
        firsts = [column.to_numpy().argmin(), column.to_numpy().argmax()] if numeric else \
            column.drop_duplicates().index.to_numpy()
        values = p.bounds or [plain(column.iat[int(first)]) for first in firsts]
        tried += [(int(first), p, value) for first, value in zip(firsts, values, strict=True)]
    for index in sorted({index for index, _, _ in tried}):
        fresh = [(p, value) for first, p, value in tried if first == index]
        point = values_at(points, index) | {p.path: value for p, value in fresh}
        try:
            load_scenario(path, overrides={**overrides, **point}, replicates=1)
        except ConfigError as error:
            culprit = next(
                ((p, value) for p, value in fresh if error.key.endswith(p.path) or p.path in error.key), None
            )
            if culprit is None:
                raise ConfigError("command line", "--param", f"{error.key}: {error.message}") from None
            parameter, value = culprit
            said = error.message if error.key == f"--set {parameter.path}" else f"{error.key}: {error.message}"
            raise ConfigError("command line", f"--param {parameter.label}={value}", said) from None


# --- running --------------------------------------------------------------------------------------


def run_chunk(plan: Plan, points: list[tuple[int, dict[str, Any]]]) -> dict[str, pd.DataFrame]:
    """Run the points of one chunk; a point that fails is recorded with its error, the others go on."""
    from ..model.runner import simulate  # here, not above: a parent that only hands chunks to workers never loads Mesa

    tables: dict[str, list[pd.DataFrame]] = {"summary": [], "by_year": [], "stances": [], "failures": []}
    for index, values in points:
        try:
            scenario = load_scenario(Path(plan.scenario), overrides={**plan.overrides, **values},
                                     replicates=plan.replicates, seed=plan.seed_of(index))
            result = aggregate(simulate(scenario), {}, scenario.world_size)
        except Exception as error:  # noqa: BLE001 - recorded per point, reported at the end
            message = str(error) if isinstance(error, ConfigError) else f"{type(error).__name__}: {error}"
            detail = "" if isinstance(error, ConfigError) else traceback.format_exc(limit=3)
            tables["failures"].append(pd.DataFrame({"point": [index], "error": [message], "detail": [detail]}))
            continue
        for name in ("summary", "by_year", "stances"):
            frame = getattr(result, name).drop(columns=["name"], errors="ignore")
            frame.insert(0, "point", index)
            tables[name].append(frame)
    return {name: pd.concat(frames, ignore_index=True) if frames else no_rows()
            for name, frames in tables.items()}


def execute(
    sweep: Sweep, executor: Executor, in_flight: int, progress: Callable[[int], object] = lambda n: None,
    alive: Callable[[], object] = lambda: None,
) -> None:
    """Run every chunk not yet done, at most ``in_flight`` at a time, writing each as it finishes; ``alive`` is asked
    whenever no chunk finishes for DASK_PROBE_SECONDS, and raises if the workers can no longer be reached."""
    chunks = sweep.remaining()
    pending: dict[Future[dict[str, pd.DataFrame]], int] = {}
    try:
        for number, chunk in chunks.items():
            pending[executor.submit(run_chunk, sweep.plan, sweep.points_of(chunk))] = number
            if len(pending) >= in_flight:
                _collect(sweep, pending, chunks, progress, alive)
        while pending:
            _collect(sweep, pending, chunks, progress, alive)
    except BaseException:
        for future in pending:
            future.cancel()
        raise


def _collect(sweep: Sweep, pending: dict[Future[dict[str, pd.DataFrame]], int], chunks: dict[int, range],
             progress: Callable[[int], object], alive: Callable[[], object]) -> None:
    """Write the chunks that finish next; a chunk may run for hours, so the wait asks ``alive`` now and then."""
    finished: set[Future[dict[str, pd.DataFrame]]] = set()
    while not finished:
        finished, _ = wait(list(pending), timeout=DASK_PROBE_SECONDS, return_when=FIRST_COMPLETED)
        if not finished:
            alive()
    for future in finished:
        number = pending.pop(future)
        sweep.write_chunk(number, future.result())
        progress(len(chunks[number]))
