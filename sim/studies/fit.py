"""Fitting the chosen constants on the historical cases: a likelihood over plausible worlds, with leave-one-out.

The model's constants (the cost of objecting, deference, the sponsor's error, the noise levels, their persistence)
and every proposal's floor are choices: the brief does not give them. Each has a plausible range
(:mod:`sim.inputs.plausible`), and every world of replicates reads them, with every other coded number, at its own
point of those ranges (:mod:`sim.model.worlds`). The fit weighs the worlds by how well they reproduce the record:

1. Every case (``validation/*.yaml``) is run with ``worlds x world_size`` replicates under one seed, so world ``w``
   reads every number the same way in every case (its quantiles depend on the seed, the world and the number).
2. For case ``c`` and world ``w``, ``p[c, w]`` is the share of the world's replicates in which what happened
   happened (the case's event, :func:`sim.studies.validation.event`, or its absence for a case whose outcome is
   ``not_adopted``), clipped to [1/(2k), 1 - 1/(2k)] for worlds of k replicates.
3. A world's log-likelihood on a set of cases is the sum of ``log p[c, w]`` over them; its weight is the likelihood
   normalised over the worlds (importance sampling, with the plausible ranges as the prior). The effective number
   of worlds, ``(sum w)**2 / sum w**2``, says how many carry the fit; when it is small the fit rests on few worlds.
4. The *fitted range* of a constant or floor is the weighted 5th to 95th percentile of its value over the worlds,
   weighted on every case (in-sample). Written as a configuration's ``fitted`` block, it replaces the number's
   plausible range, so the model then draws from it.
5. Leave-one-out: each case is predicted with the weights of the other cases, less those that record the same
   decision (:func:`sim.studies.leave_one_out.same_decision`); its probability is the weighted mean of ``p[c, w]``,
   its members' stance shares the weighted shares; it passes where outcome and named stances match the record
   (:func:`sim.studies.validation.matched`). No case is scored with weights that saw it. The falsifiability search
   of ``validate`` is not run here.

Nothing is changed by hand: the fitted ranges are what the procedure returns, weak fits included.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core.engine import Stance
from ..core.errors import ConfigError
from ..core.files import claim, staged_folder
from ..core.records import Record, Status
from ..core.statistics import wilson
from ..core.vocabulary import MAX_CASE_REPLICATES, SEED_LIMIT
from ..inputs.plausible import CONSTANTS, Range, plausible_ranges
from ..inputs.scenario import PRIOR_PARAMETERS
from ..model.runner import simulate
from ..model.worlds import quantiles, world_of
from .leave_one_out import same_decision
from .validation import Case, Prediction, collect_cases, event, matched, prepare

#: Worlds and replicates per world of the fit (5,000 replicates per case): enough worlds that the likelihood is
#: spread over more than a handful, and enough replicates per world that a world's probability is not 0 or 1 by chance.
WORLDS, WORLD_SIZE = 1000, 5
#: The most worlds, and replicates per world, one fit may ask for (worlds x size is also at most a case's limit).
MAX_WORLDS, MAX_WORLD_SIZE = 100_000, 1000
#: The seed of the fit's worlds (every case is run under it).
SEED = 2025
#: The fitted range: from this weighted quantile of a number's value to one minus it.
TAIL = 0.05


@dataclass(frozen=True)
class CaseRun:
    """One case run in every world: the probability of its recorded outcome and its members' stance counts."""

    case: Case
    p: NDArray[np.float64]  # (W,) share of the world's replicates with the case's event (validate's probability)
    likelihood: NDArray[np.float64]  # (W,) share in which what happened happened, clipped away from 0 and 1
    earlier: NDArray[np.float64]  # (W,) an adopted trajectory: adopted first before its window
    counts: dict[str, NDArray[np.float64]]  # stance -> (W, members) decisions in which each member took it
    voted: NDArray[np.float64]  # (W, members) decisions each member voted in
    members: tuple[str, ...]


@dataclass(frozen=True)
class HeldOutCase:
    """A case predicted with the weights of the other cases."""

    case: Case
    prediction: Prediction
    effective_worlds: float
    matched: bool


@dataclass(frozen=True)
class Fit:
    """The fitted ranges, the in-sample and held-out predictions, and how much the fit rests on."""

    ranges: dict[str, tuple[float, float]]  # dotted path -> fitted [low, high]
    prior: dict[str, Range]
    in_sample: list[HeldOutCase]  # weighted on every case (the label says in-sample)
    held_out: list[HeldOutCase]
    effective_worlds: float
    worlds: int
    world_size: int
    seconds: float


def fit(paths: list[Path], worlds: int = WORLDS, world_size: int = WORLD_SIZE, seed: int = SEED) -> Fit:
    """Run every case in every world, weigh the worlds, and score each case held out (module docstring)."""
    started = time.monotonic()
    for option, value, most in (("--worlds", worlds, MAX_WORLDS), ("--world-size", world_size, MAX_WORLD_SIZE)):
        if not 2 <= value <= most:
            raise ConfigError("command line", option, f"expected 2 to {most:,}, got {value}")
    if worlds * world_size > MAX_CASE_REPLICATES:
        raise ConfigError("command line", "--worlds", f"worlds x world size is at most {MAX_CASE_REPLICATES:,} "
                                                      f"replicates per case, got {worlds * world_size:,}")
    if not 0 <= seed < SEED_LIMIT:
        raise ConfigError("command line", "--seed", f"expected a whole number from 0 to 2**63-1, got {seed}")
    # the implementation cases are about the paces of implementation, which this fit does not fit: they stay out
    cases = [(case, file) for case, file in collect_cases(paths) if case.implemented is None]
    runs = [run_in_worlds(case, file, worlds, world_size, seed) for case, file in cases]
    loglik = np.stack([np.log(run.likelihood) for run in runs])  # (cases, W)
    everything = likelihood_weights(loglik.sum(axis=0))
    in_sample = [_predict(run, everything) for run in runs]
    held_out = []
    for i, run in enumerate(runs):
        training = [j for j, other in enumerate(runs) if j != i and not same_decision(run.case, other.case)]
        held_out.append(_predict(run, likelihood_weights(loglik[training].sum(axis=0))))
    prior = _fitted_numbers(cases)
    values = _values(prior, seed, worlds)
    ranges = {path: _weighted_interval(values[path], everything) for path in prior}
    return Fit(ranges, prior, in_sample, held_out, effective_worlds(everything), worlds, world_size,
               time.monotonic() - started)


def run_in_worlds(case: Case, file: Path, worlds: int, world_size: int, seed: int) -> CaseRun:
    """The case in every world: each world's probability of what happened, and its members' stances."""
    setting = case.set | {"noise.world_size": world_size, **PRIOR_PARAMETERS}
    drawn = case.model_copy(update={"seed": seed, "set": setting})
    scenario = prepare(drawn, file, worlds * world_size)
    records = [r for r in simulate(scenario) if r.proposal == case.proposal]
    world = world_of(records[0].replicates, world_size)
    happens, before = event(case, records)
    p = np.bincount(world, weights=happens, minlength=worlds) / world_size
    likelihood = _clip(p if case.outcome == "adopted" else 1 - p, world_size)
    earlier = np.bincount(world, weights=before, minlength=worlds) / world_size
    members = records[-1].actors
    counts, voted = stance_counts(records, members, world, worlds)
    return CaseRun(case, p, likelihood, earlier, counts, voted, members)


#: The stances whose shares a case can name, by the name a Prediction gives them.
STANCES = {"objected": Stance.OBJECTION, "stood_aside": Stance.STAND_ASIDE, "reservation": Stance.RESERVATION}


def stance_counts(records: list[Record], members: tuple[str, ...], world: NDArray[np.int64],
                  worlds: int) -> tuple[dict[str, NDArray[np.float64]], NDArray[np.float64]]:
    """Per world and member, the decisions in which it took each stance, and those it voted in (W, members): the
    numerators and denominators of the shares ``validate`` reports (at the final offer, decisions voted in)."""
    counts = {name: np.zeros((worlds, len(members))) for name in STANCES}
    voted = np.zeros((worlds, len(members)))
    for record in records:
        decided = Status.decided(record.status)
        for j, member in enumerate(members):
            if member not in record.actors:
                continue
            stance = record.stance[:, record.actors.index(member)]
            took_part = decided & (stance != Stance.ABSENT)
            voted[:, j] += np.bincount(world, weights=took_part, minlength=worlds)
            for name, kind in STANCES.items():
                counts[name][:, j] += np.bincount(world, weights=took_part & (stance == kind), minlength=worlds)
    return counts, voted


def _clip(p: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    return np.clip(p, 1 / (2 * k), 1 - 1 / (2 * k))


def likelihood_weights(loglik: NDArray[np.float64]) -> NDArray[np.float64]:
    """The worlds' weights: each world's likelihood (``exp`` of its summed log-likelihood ``loglik``, (W,))
    normalised over the worlds (step 3 of the module docstring)."""
    weights = np.exp(loglik - loglik.max())
    normalised: NDArray[np.float64] = weights / weights.sum()
    return normalised


def effective_worlds(weights: NDArray[np.float64]) -> float:
    """How many worlds a weighting rests on: ``(sum w)**2 / sum w**2`` of normalised weights."""
    return float(1.0 / np.sum(weights**2))


def _predict(run: CaseRun, weights: NDArray[np.float64]) -> HeldOutCase:
    p = float(weights @ run.p)
    n = effective_worlds(weights)
    low, high = wilson(p * n, n)

    def shares(stance: str) -> dict[str, float]:
        voted = weights @ run.voted
        taken = weights @ run.counts[stance]
        return {m: float(t / v) for m, t, v in zip(run.members, taken, voted, strict=True) if v > 0}

    prediction = Prediction(p, (float(low), float(high)), float(weights @ run.earlier), shares("objected"),
                            shares("stood_aside"), shares("reservation"), float("nan"))
    return HeldOutCase(run.case, prediction, n, matched(run.case, prediction))


def _fitted_numbers(cases: list[tuple[Case, Path]]) -> dict[str, Range]:
    """The numbers the fit gives ranges to: the model's constants and every floor, as the first case's scenario
    configures them in its first year (the base configuration's numbers: no event moves them)."""
    case, file = cases[0]
    config = prepare(case, file).configuration(case.years[0])
    ranges = plausible_ranges(config, fitted=False)
    return {path: found for path, found in ranges.items()
            if (path in CONSTANTS or path.endswith(".min_ambition")) and found.width > 0}


def _values(prior: dict[str, Range], seed: int, worlds: int) -> dict[str, NDArray[np.float64]]:
    """Each world's value of each fitted number (W,)."""
    paths = tuple(prior)
    u = quantiles(seed, paths, np.arange(worlds))
    return {path: prior[path].low + u[:, i] * prior[path].width for i, path in enumerate(paths)}


def _weighted_interval(values: NDArray[np.float64], weights: NDArray[np.float64]) -> tuple[float, float]:
    """The weighted TAIL and 1 - TAIL quantiles of ``values``."""
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    low = values[order][int(np.searchsorted(cumulative, TAIL))]
    high = values[order][min(int(np.searchsorted(cumulative, 1 - TAIL)), values.size - 1)]
    return round(float(low), 4), round(float(high), 4)


def with_fitted(fit: Fit) -> dict[str, Any]:
    """The fit as a configuration's ``fitted`` block, nested as the configuration is."""
    block: dict[str, Any] = {}
    for path, (low, high) in fit.ranges.items():
        *parents, name = path.split(".")
        node = block
        for part in parents:
            node = node.setdefault(part, {})
        node[name] = [low, high]
    return block


def passes(fit: Fit) -> tuple[int, int, int, int]:
    """Held-out passes: single-summit matched, single-summit cases, trajectories matched, trajectories."""
    single = [h for h in fit.held_out if not h.case.trajectory]
    paths = [h for h in fit.held_out if h.case.trajectory]
    return sum(h.matched for h in single), len(single), sum(h.matched for h in paths), len(paths)



def write(result: Fit, out: Path, argv: list[str]) -> None:
    """The fit's folder: ``fitted.yaml`` (the configuration's ``fitted`` block, with how it was made) and
    ``cases.csv`` (each case in-sample and held out); locked while written, a folder with results is refused."""
    import pandas as pd
    import yaml

    rows = [{"case": h.case.id, "trajectory": h.case.trajectory, "outcome": h.case.outcome,
             "p_held_out": h.prediction.p, "matched_held_out": h.matched, "effective_worlds_held_out":
             h.effective_worlds, "p_in_sample": i.prediction.p, "matched_in_sample": i.matched}
            for h, i in zip(result.held_out, result.in_sample, strict=True)]
    document = {"made_by": " ".join(argv), "worlds": result.worlds, "world_size": result.world_size,
                "effective_worlds": round(result.effective_worlds, 1),
                "procedure": "sim/studies/fit.py: worlds weighted by the likelihood of every case; weighted "
                             f"{TAIL:.0%} to {1 - TAIL:.0%} quantiles", "fitted": with_fitted(result)}
    with claim(out, False, argv, hint="choose another folder"), staged_folder(out, kind="fit") as staging:
        pd.DataFrame(rows).to_csv(staging / "cases.csv", index=False)
        (staging / "fitted.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
