"""Sensitivity analysis with SALib: of a Sobol or Morris sweep, and of the coded numbers in one run of a scenario.

Of a sweep (:func:`analyse`): for each proposal the outcome is its probability of adoption by the end of the run at
each point; Sobol gives first-order and total indices with 95% bootstrap intervals, Morris the mean absolute
elementary effect (mu*) with its interval and the spread (sigma).

Of the coded numbers (:func:`attribute`): where each world of replicates draws its own reading of every coded
number (:mod:`sim.model.worlds`), one run is a sample of the numbers. Each world's share of replicates adopting a
proposal is the output, the world's quantile of each number an input, and given-data estimators need no design:
RBD-FAST's first-order index (S1, the share of the variance of a world's share that one number explains alone) for
every number, Borgonovo's delta for the numbers shown. Dummy numbers, drawn like a world's quantiles but read by
nothing, give the noise floor: the largest S1 that as many numbers without any effect reach.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .. import __version__
from ..core import streams
from ..core.errors import ConfigError
from ..core.files import staged_folder
from ..core.records import Status
from ..core.statistics import Worlds, between_worlds
from ..inputs.plausible import Range, plausible_ranges
from ..model.worlds import quantiles, world_of
from .design import salib_problem
from .sweep_folder import Sweep

if TYPE_CHECKING:
    from ..inputs.scenario import Scenario


def analyse(sweep: Sweep) -> pd.DataFrame:
    """One row per outcome x parameter with the indices of the sweep's method."""
    plan, folder = sweep.plan, sweep.folder
    if plan.method not in ("sobol", "morris"):
        raise ConfigError(folder, "method", f"sensitivity needs a sobol or morris sweep; this one is '{plan.method}'")
    sweep.require_finished()
    summary = sweep.table("summary")
    failures = sweep.table("failures")
    if len(failures):
        raise ConfigError(folder, "failures", f"{len(failures)} points failed; sensitivity needs every point")
    problem = salib_problem(plan.swept())
    names = problem["names"]
    design = sweep.design[names].to_numpy(dtype=float)
    rows = []
    for proposal, frame in summary.groupby("proposal", sort=False):
        y = frame.sort_values("point").p_adopted.to_numpy(dtype=float)
        if len(y) != plan.points:
            raise ConfigError(folder, "summary", f"{proposal}: {len(y)} points of {plan.points} have an outcome")
        rows += _indices(plan.method, problem, design, y, plan.seed, f"P(adopted) {proposal}")
    return pd.DataFrame(rows)


def _indices(
    method: str, problem: dict[str, Any], design: np.ndarray, y: np.ndarray, seed: int, outcome: str
) -> list[dict[str, Any]]:
    constant = bool(np.ptp(y) == 0)
    if method == "sobol":
        from SALib.analyze import sobol

        if constant:
            return [{"outcome": outcome, "parameter": n, "S1": 0.0, "S1_conf": 0.0, "ST": 0.0, "ST_conf": 0.0}
                    for n in problem["names"]]
        result = sobol.analyze(problem, y, calc_second_order=False, conf_level=0.95, seed=seed)
        return [{"outcome": outcome, "parameter": n, "S1": s1, "S1_conf": c1, "ST": st, "ST_conf": ct}
                for n, s1, c1, st, ct in zip(problem["names"], result["S1"], result["S1_conf"], result["ST"],
                                             result["ST_conf"], strict=True)]
    from SALib.analyze import morris

    result = morris.analyze(problem, design, y, conf_level=0.95, num_levels=4, seed=seed)
    return [{"outcome": outcome, "parameter": n, "mu_star": m, "mu_star_conf": c, "sigma": s}
            for n, m, c, s in zip(problem["names"], result["mu_star"], result["mu_star_conf"], result["sigma"],
                                  strict=True)]


# --- the coded numbers, from one run of a scenario ---------------------------------------------------
#
# Where each world reads every coded number at its own quantile of the number's plausible range
# (sim.model.worlds), one run is a given-data sample of the numbers: the worlds' quantiles are the inputs, each
# world's share of replicates adopting a proposal the output. Given-data estimators need no design of points.

#: Replicates by default: 400 worlds of 10. RBD-FAST's first-order index of a number with no effect scatters by
#: about 2*M/N around 0 (N worlds, M harmonics); at 400 worlds the largest of ~200 such indices is near 0.05, so a
#: number that explains a tenth of the variance stands out, and the run takes a few seconds.
CODED_REPLICATES = 4_000
#: Fewer worlds and the indices are mostly noise: RBD-FAST's bias correction 2*M/N grows past a tenth.
MIN_WORLDS = 100
#: The harmonics RBD-FAST sums (SALib's default).
HARMONICS = 10
#: Bootstrap resamples for the 95% intervals of S1 and of delta.
RESAMPLES = 100
DELTA_RESAMPLES = 10
#: Dummy numbers for delta's noise level. Delta is costly (SALib 1.6 fits a kernel density per bin, resample and
#: mode: some 130 per number at 10 resamples, 1 to 4 s a number on a 2-core machine), so it is asked for (``--delta``)
#: and computed for the numbers shown only.
DELTA_DUMMIES = 5
#: The purpose under which dummy numbers draw their quantiles (see :mod:`sim.core.streams`): no world reads them.
DUMMY_PURPOSE = ("sensitivity", "dummy")
#: The table of every number, written with ``--out``.
CODED_TABLE = "sensitivity_coded.csv"
CODED_PRINTED = "sensitivity_coded.txt"
CODED_SETTINGS = "sensitivity_coded.json"


@dataclass(frozen=True)
class Attribution:
    """One proposal's outcome attributed to the coded numbers: a row per number, and the noise it is read against."""

    proposal: str
    name: str
    p_adopted: float  # share of replicates adopting it by the end of the run
    worlds: Worlds  # how its variance splits between worlds and the noise within them
    explainable: float  # the share of the variance of a world's share that lies between worlds (the S1s' ceiling)
    numbers: pd.DataFrame  # per number: path, basis, value, low, high, S1, S1_conf, delta, delta_conf, rank
    dummies: NDArray[np.float64]  # the S1 of each dummy number (pure noise)
    floor: float  # the largest of the dummies' S1: what a number with no effect can reach among as many
    delta_noise: float  # the mean delta of DELTA_DUMMIES dummies (delta's bias for a number with no effect); NaN
    # where delta was not asked for

    @property
    def varies(self) -> bool:
        """Whether its worlds differ by more than their replicates' noise, so that there is something to attribute."""
        return bool(np.isfinite(self.floor))


@dataclass(frozen=True)
class CodedSensitivity:
    """Every proposal's attribution, from one run of ``scenario``."""

    scenario: Scenario
    world_size: int
    worlds: int
    ranges: dict[str, Range]  # every ranged number, as of the first year it has a range
    proposals: list[Attribution]
    with_delta: bool
    seconds: float  # the run and the analysis

    def table(self) -> pd.DataFrame:
        """Every proposal x number, for the CSV."""
        return pd.concat([a.numbers.assign(proposal=a.proposal, p_adopted=a.p_adopted,
                                           share_between_worlds=a.worlds.share_parameters,
                                           explainable=a.explainable, noise_floor=a.floor,
                                           delta_noise=a.delta_noise) for a in self.proposals], ignore_index=True)


def coded_numbers(scenario: Scenario) -> dict[str, Range]:
    """Every coded number a world draws, in any year's configuration (those with a range of some width): the first
    year's in its order, then any a later year adds; each with its range as of the first year it has one."""
    found: dict[str, Range] = {}
    for year in sorted(scenario.timeline):
        for path, where in plausible_ranges(scenario.timeline[year]).items():
            if where.width > 0:
                found.setdefault(path, where)
    return found


def attribute(scenario: Scenario, top: int = 10, with_delta: bool = False) -> CodedSensitivity:
    """Run ``scenario`` and attribute each proposal's outcome to the coded numbers its worlds drew.

    S1's interval is computed for the ``top`` numbers and every number above the noise floor; with ``with_delta``,
    Borgonovo's delta for the ``top`` numbers.
    """
    started = time.monotonic()
    size = _world_size(scenario)
    if scenario.replicates < MIN_WORLDS * size:
        raise ConfigError("command line", "--replicates",
                          f"expected at least {MIN_WORLDS * size:,} ({MIN_WORLDS} worlds of {size}; fewer give indices "
                          f"that are mostly noise), got {scenario.replicates:,}")
    from ..model.runner import simulate  # Mesa: not loaded for a sweep's analysis

    ranges = coded_numbers(scenario)
    records = simulate(scenario)
    names = scenario.proposal_names
    proposals = []
    for code in dict.fromkeys(r.proposal for r in records):
        mine = [r for r in records if r.proposal == code]
        adopted = np.stack([r.status == Status.ADOPTED for r in mine]).any(axis=0)
        proposals.append(_attribution(scenario, code, names.get(code, code), ranges, adopted,
                                      world_of(mine[0].replicates, size), top, with_delta))
    worlds = -(-scenario.replicates // size)
    return CodedSensitivity(scenario, size, worlds, ranges, proposals, with_delta, time.monotonic() - started)


def _world_size(scenario: Scenario) -> int:
    """The replicates per world; a ConfigError where the numbers are not drawn, or a world has one replicate."""
    size = scenario.world_size
    if size is None or any(config.noise.parameters == "fixed" for config in scenario.timeline.values()):
        raise ConfigError(scenario.path, "noise.parameters",
                          "every replicate reads the coded numbers as written (--fixed-parameters or "
                          "noise.parameters: fixed), so there is nothing to attribute; drop it to draw worlds")
    if size < 2 or any(config.noise.world_size != size for config in scenario.timeline.values()):
        raise ConfigError(scenario.path, "noise.world_size",
                          f"expected the same world size of at least 2 in every year (a world's numbers are told "
                          f"from its noise by its replicates), got {size}")
    return size


def _attribution(scenario: Scenario, code: str, name: str, ranges: dict[str, Range], adopted: NDArray[np.bool_],
                 world: NDArray[np.int64], top: int, with_delta: bool) -> Attribution:
    """One proposal's indices: each world's share adopting it against the worlds' quantiles of every number."""
    worlds, index = np.unique(world, return_inverse=True)
    y = np.bincount(index, weights=adopted.astype(float)) / np.bincount(index)
    split = between_worlds(adopted, world)
    spread = float(np.var(y, ddof=1)) if len(y) > 1 else 0.0
    explainable = min(split.sd_parameters ** 2 / spread, 1.0) if spread > 0 else float("nan")
    frame = _numbers(ranges)
    if np.ptp(y) == 0 or not split.share_parameters > 0:  # worlds differ no more than their noise: nothing to attribute
        frame = frame.assign(S1=np.nan, S1_conf=np.nan, delta=np.nan, delta_conf=np.nan, rank=np.nan, above_floor=False)
        return Attribution(code, name, float(adopted.mean()), split, explainable, frame, np.zeros(0), float("nan"),
                           float("nan"))
    x = quantiles(scenario.seed, tuple(ranges), worlds)
    dummies = streams.uniform_named(scenario.seed, DUMMY_PURPOSE, tuple(f"dummy.{k}" for k in range(len(ranges))),
                                    worlds)
    seed = streams.derived_seed(scenario.seed, ("sensitivity", code))  # a proposal's own: the others do not move it
    indices, noise, delta_noise = _coded_indices(x, dummies, y, seed, top, with_delta)
    return Attribution(code, name, float(adopted.mean()), split, explainable,
                       pd.concat([frame, indices], axis=1).sort_values("rank"), noise, float(noise.max()), delta_noise)


def _numbers(ranges: dict[str, Range]) -> pd.DataFrame:
    """A row per number: its path, the basis of its range, its value and range (as of the first year it has one)."""
    return pd.DataFrame({"number": list(ranges), "basis": [found.basis for found in ranges.values()],
                         "value": [found.value for found in ranges.values()],
                         "low": [found.low for found in ranges.values()],
                         "high": [found.high for found in ranges.values()]})


def _coded_indices(x: NDArray[np.float64], dummies: NDArray[np.float64], y: NDArray[np.float64], seed: int, top: int,
             with_delta: bool) -> tuple[pd.DataFrame, NDArray[np.float64], float]:
    """Each number's S1 (an interval for the ``top`` and those above the noise floor), rank and, ``with_delta``,
    delta of the ``top``; the dummies' S1; the dummies' mean delta (NaN without ``with_delta``)."""
    numbers = x.shape[1]
    s1 = _first_order(np.hstack([x, dummies]), y, seed)
    s1, noise = s1[:numbers], s1[numbers:]
    order = np.argsort(-s1, kind="stable")
    rank = np.empty(numbers)
    rank[order] = np.arange(1, numbers + 1)
    shown, above = order[:top], s1 > noise.max()
    conf, delta, delta_conf = np.full(numbers, np.nan), np.full(numbers, np.nan), np.full(numbers, np.nan)
    chosen = np.union1d(shown, np.flatnonzero(above))
    conf[chosen] = _first_order_intervals(x[:, chosen], y, seed)
    delta_noise = float("nan")
    if with_delta:
        estimated, half = _delta(np.hstack([x[:, shown], dummies[:, :DELTA_DUMMIES]]), y, seed)
        delta[shown], delta_conf[shown] = estimated[:len(shown)], half[:len(shown)]
        delta_noise = float(np.mean(estimated[len(shown):]))
    table = pd.DataFrame({"S1": s1, "S1_conf": conf, "delta": delta, "delta_conf": delta_conf, "rank": rank,
                          "above_floor": above})
    return table, noise, delta_noise


def _problem(columns: int) -> dict[str, Any]:
    """SALib's problem for ``columns`` quantiles, each on [0, 1]."""
    return {"num_vars": columns, "names": [f"x{k}" for k in range(columns)], "bounds": [[0.0, 1.0]] * columns}


def _first_order(x: NDArray[np.float64], y: NDArray[np.float64], seed: int) -> NDArray[np.float64]:
    """RBD-FAST's first-order index of each column (Tissot and Prieur's bias correction), on every world.

    The point estimate does not depend on the bootstrap, so it is taken with the fewest resamples SALib allows
    (their interval is discarded); :func:`_first_order_intervals` bootstraps the columns that are shown.
    """
    from SALib.analyze import rbd_fast

    with _salib():
        found = rbd_fast.analyze(_problem(x.shape[1]), x, y, M=HARMONICS, num_resamples=2, seed=seed)
    return np.asarray(found["S1"], dtype=float)


def _first_order_intervals(x: NDArray[np.float64], y: NDArray[np.float64], seed: int) -> NDArray[np.float64]:
    """Half the 95% interval of each column's RBD-FAST index (SALib bootstraps half-size samples: conservative)."""
    from SALib.analyze import rbd_fast

    with _salib():
        found = rbd_fast.analyze(_problem(x.shape[1]), x, y, M=HARMONICS, num_resamples=RESAMPLES,
                                 conf_level=0.95, seed=seed)
    return np.asarray(found["S1_conf"], dtype=float)


def _delta(x: NDArray[np.float64], y: NDArray[np.float64], seed: int) -> tuple[NDArray[np.float64],
                                                                                NDArray[np.float64]]:
    """Borgonovo's delta of each column, bias-reduced, and half its 95% interval (Plischke et al. 2013, on the
    worlds as drawn: SALib's ``delta_raw``)."""
    from SALib.analyze import delta

    with _salib():  # SALib seeds numpy's global generator, which must be 1 to 2**32-1
        found = delta.analyze(_problem(x.shape[1]), x, y, num_resamples=DELTA_RESAMPLES, conf_level=0.95,
                              seed=seed % (2**32 - 1) + 1, method="delta")
    return np.asarray(found["delta_raw"], dtype=float), np.asarray(found["delta_raw_conf"], dtype=float)


@contextmanager
def _salib() -> Iterator[None]:
    """Put back what SALib's analyses change for the whole process (numpy's global generator, the warnings' format
    and filters), and keep their notes (bins merged, raw and balanced delta differ) off the user's screen."""
    state, formatter = np.random.get_state(), warnings.formatwarning
    try:
        with warnings.catch_warnings(record=True):
            yield
    finally:
        np.random.set_state(state)
        warnings.formatwarning = formatter


def write_coded(out: Path, result: CodedSensitivity, printed: str, argv: list[str], replace: bool = False) -> Path:
    """The table of every number, what was printed and the settings, into ``out`` at once (a hidden folder renamed
    into place; with ``replace``, an earlier folder of sco-sim's there is swapped out in one step). Call it with
    ``out`` claimed (:func:`sim.core.files.claim`)."""
    scenario = result.scenario
    settings = {"scenario": {"file": str(scenario.path), "sha256": scenario.digest, "name": scenario.name},
                "seed": scenario.seed, "replicates": scenario.replicates, "world_size": result.world_size,
                "worlds": result.worlds, "years": [scenario.start, scenario.end], "numbers": len(result.ranges),
                "dummies": len(result.ranges), "estimators": {
                    "S1": f"SALib rbd_fast, M={HARMONICS}, {RESAMPLES} bootstrap resamples (half-size)",
                    "delta": (f"SALib delta (delta_raw), {DELTA_RESAMPLES} bootstrap resamples, for the numbers shown; "
                              f"delta_noise: the mean delta of {DELTA_DUMMIES} dummy numbers") if result.with_delta
                    else "not asked for (--delta)",
                    "noise_floor": "the largest S1 of as many dummy numbers (pure noise) as there are numbers"},
                "command": argv, "versions": {"sco-sim": __version__, "SALib": version("SALib")}}
    with staged_folder(out, replace=replace, kind="sensitivity") as staging:
        result.table().to_csv(staging / CODED_TABLE, index=False)
        (staging / CODED_PRINTED).write_text(printed + "\n", encoding="utf-8")
        (staging / CODED_SETTINGS).write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    return out / CODED_TABLE
