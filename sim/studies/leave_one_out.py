"""Leave-one-case-out: the chosen constants fitted on the other cases, the held-out case predicted.

The constants that are the model's choices rather than read from the brief are the cost of objecting
(``rules.objection_cost``), the deference to a sponsor one depends on (``rules.deference``), the two noise
levels (``noise.weights``, ``noise.judgement``) and each proposal's floor (``proposals.<code>.min_ambition``,
where one is configured). Nothing else moves.

The fit, for each held-out case, on the other cases (single-summit and trajectory alike) except those that
record the same decision (:func:`same_decision`: the same proposal at a summit of both spans; ftz-2016 is one
of the summits of ftz-2016-2024, and a fit on the one would be told what happened in the other). The fit with
only the case itself left out is reported beside it (``plain``), to show what that exclusion changes:

- every point of a grid (:data:`GRID`: the global constants' values x the floors' values) is run at
  :data:`FIT_REPLICATES` replicates with each case's own seed (the same noise at every point);
- a point is scored by the number of training cases whose outcome and named stances match the record
  (:func:`sim.studies.validation.matched`), then by the summed log-likelihood of the recorded outcomes (the
  probability of what happened, clipped to [1/(2R), 1 - 1/(2R)]), then by its nearness to the configured
  values (so a fit the cases cannot tell apart leaves the configuration as it is), then by the grid's order;
- a floor moves only the cases of its proposal (each case decides its proposal alone), so it is fitted on
  those cases alone: the best floor is chosen at each point of the global constants, jointly with them. A
  floor no training case is about stays at its configured value (no other case is about its proposal, or all
  of them record the same decision): the report says so.

A case's score at a point does not depend on which case is held out, so every case is run once at every point
and the folds only sum different rows: the held-out case's runs are never read by its own fit. The held-out
case is then decided at the fitted values, at its own replicates, scored by the same rule, and searched for
the change that flips it (:mod:`sim.studies.falsify`), as ``validate`` does in-sample.

Where the worlds draw their numbers (``noise.parameters`` is not ``fixed``), the fit and the held-out predictions
draw them from the rule's plausible ranges around the values tried (``prior``), never from the configuration's
``fitted:`` block: that block was fitted on every case, the held-out one included, and a fitted range does not move
with the value tried. The in-sample verdicts are the model as ``validate`` runs it.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core.budget import processors
from ..core.errors import UsageError
from ..core.processes import Pool
from ..inputs.scenario import FIXED_PARAMETERS, PRIOR_PARAMETERS, Scenario
from .falsify import own_inputs, with_numbers
from .validation import Case, Verdict, collect_cases, matched, predict, prepare, run_case

#: Replicates of each run of the fit (with each case's seed); the held-out case is predicted at its own.
FIT_REPLICATES = 100


@dataclass(frozen=True)
class Grid:
    """The values tried for each chosen constant: the global ones by dotted path, and every proposal's floor."""

    constants: dict[str, tuple[float, ...]]
    floors: tuple[float, ...]  # capped at the proposal's ambition (a floor cannot exceed it)

    def points(self) -> list[dict[str, float]]:
        """Every combination of the global constants' values, in a fixed order (the last path varies fastest)."""
        return [dict(zip(self.constants, values, strict=True))
                for values in itertools.product(*self.constants.values())]

    def width(self, path: str) -> float:
        """The span of a constant's values (a floor's if ``path`` is not a global constant); 1 if one value."""
        values = self.constants.get(path, self.floors)
        return (max(values) - min(values)) or 1.0


#: The ranges are choices (docs/validation.md): the cost of objecting from nearly free (0.02) to a third of a
#: main aim's full effect (0.3), roughly doubling; deference from none to full (a member's cost of objecting
#: grows by its whole dependence on the sponsor); each noise level from half to twice its configured value;
#: a floor from a proposal watered down to under a third (0.3) to one that can barely be bargained (0.9).
#: 135 points x 5 floors: about 5 minutes on 2 cores for the project's 27 cases.
GRID = Grid({"rules.objection_cost": (0.02, 0.05, 0.1, 0.2, 0.3),
             "rules.deference": (0.0, 0.5, 1.0),
             "noise.weights": (0.05, 0.1, 0.2),
             "noise.judgement": (0.025, 0.05, 0.1)},
            (0.3, 0.45, 0.6, 0.75, 0.9))


@dataclass(frozen=True)
class Scores:
    """A case run at every point of the grid and every value of its own floors (none: one column)."""

    floors: tuple[str, ...]  # the dotted paths of the floors of its proposal (and those linked to it)
    configured: dict[str, float]  # the configured value of each global constant and floor (first year)
    matched: NDArray[np.bool_]  # (points, floor combinations)
    loglik: NDArray[np.float64]  # the log-probability of the recorded outcome


@dataclass(frozen=True)
class Fit:
    """The constants fitted on the training cases, and how well they fit there."""

    values: dict[str, float]  # the global constants and the fitted floors, by dotted path
    kept: dict[str, float]  # floors of the held-out case left at their configured value: no other case is about them
    matched: int  # training cases whose outcome and stances match at the fit
    training: int
    loglik: float


@dataclass(frozen=True)
class HeldOut:
    """A case predicted with the constants fitted on the others."""

    fit: Fit
    verdict: Verdict  # at the fitted values, at the case's own replicates, with the falsifiability search
    excluded: tuple[str, ...]  # the other cases left out of its fit: they record the same decision


@dataclass(frozen=True)
class LeaveOneOut:
    """The in-sample verdicts and, beside them, each case held out: with the cases that record the same decision
    (``held_out``, the score), and alone (``plain``, to show what leaving those in the fit would change)."""

    in_sample: list[Verdict]
    held_out: list[HeldOut]
    plain: list[HeldOut]
    grid: Grid
    fit_replicates: int
    seconds: float


def leave_one_out(paths: list[Path], replicates: int | None = None, grid: Grid | None = None,
                  workers: int | None = None, falsify: bool = True,
                  settings: Mapping[str, Any] | None = None) -> LeaveOneOut:
    """Every case scored in-sample and predicted with the constants fitted on the others (module docstring), on
    ``grid`` (default :data:`GRID`); ``falsify``: search every case for the change that flips it, in-sample and
    held out (the tests leave it out, for speed); ``settings`` as :func:`sim.studies.validation.collect_cases`."""
    started, grid = time.monotonic(), grid or GRID
    # the implementation cases are about the paces of implementation, not the grid's constants: they stay out
    in_sample = [(case, path) for case, path in collect_cases(paths, replicates, settings)
                 if case.implemented is None]
    fixed_parameters = (settings or {}).get("noise.parameters") == FIXED_PARAMETERS["noise.parameters"]
    if len(in_sample) < 2:
        raise UsageError("command line: --leave-one-out needs at least 2 cases (one held out, one to fit on)")
    cases = in_sample if fixed_parameters else [  # no range fitted on the held-out case (module docstring)
        (case.model_copy(update={"set": case.set | PRIOR_PARAMETERS}), path) for case, path in in_sample]
    longest_first = sorted(range(len(cases)), key=lambda i: cases[i][0].years[0] - cases[i][0].years[1])
    excluded = [tuple(j for j in range(len(cases)) if j != i and same_decision(cases[i][0], cases[j][0]))
                for i in range(len(cases))]
    # every run is seeded by its case: the results do not depend on the number of workers
    with Pool(min(workers or processors(), 2 * len(cases))) as pool:
        verdicts = [pool.submit(run_case, case, path, replicates, falsify) for case, path in in_sample]
        scored = {i: pool.submit(score_case, *cases[i], grid) for i in longest_first}
        scores = [scored[i].result() for i in range(len(cases))]

        def training(i: int, strict: bool) -> list[int]:
            return [j for j in range(len(cases)) if j != i and not (strict and j in excluded[i])]

        fits = {(i, strict): fit(scores, training(i, strict), grid,
                                 {path: scores[i].configured[path] for path in scores[i].floors})
                for i in range(len(cases)) for strict in (True, False)}
        runs: dict[tuple[int, tuple[tuple[str, float], ...]], Future[Verdict]] = {}
        for i, strict in itertools.product(longest_first, (True, False)):  # a fit found twice is run once
            key = (i, tuple(sorted(fits[i, strict].values.items())))
            if key not in runs:
                runs[key] = pool.submit(run_case, *cases[i], replicates, falsify, fits[i, strict].values)

        def held(i: int, strict: bool) -> HeldOut:
            verdict = runs[i, tuple(sorted(fits[i, strict].values.items()))].result()
            return HeldOut(fits[i, strict], verdict, tuple(cases[j][0].id for j in excluded[i]) if strict else ())

        return LeaveOneOut([v.result() for v in verdicts], [held(i, True) for i in range(len(cases))],
                           [held(i, False) for i in range(len(cases))], grid, FIT_REPLICATES,
                           time.monotonic() - started)


def same_decision(a: Case, b: Case) -> bool:
    """Whether two cases record the same decision (the same proposal at a summit of both spans): one held out,
    the other would tell its fit what happened."""
    return a.proposal == b.proposal and a.years[0] <= b.years[1] and b.years[0] <= a.years[1]


def score_case(case: Case, file: Path, grid: Grid) -> Scores:
    """The case at every point of the grid and every value of its floors, at FIT_REPLICATES replicates."""
    scenario = prepare(case, file, FIT_REPLICATES)
    floors = tuple(sorted(p for p in own_inputs(scenario, case.proposal) if p.endswith(".min_ambition")))
    first = scenario.configuration(scenario.start).model_dump(by_alias=True)
    configured = {path: float(_get(first, path)) for path in (*grid.constants, *floors)}
    caps = {path: _ceiling(scenario, path) for path in floors}
    combos = list(itertools.product(grid.floors, repeat=len(floors)))
    matches = np.zeros((len(grid.points()), len(combos)), dtype=bool)
    loglik = np.zeros(matches.shape)
    for i, point in enumerate(grid.points()):
        at_point = with_numbers(scenario, point)
        for k, combo in enumerate(combos):
            variant = with_numbers(at_point, {path: min(value, caps[path])
                                              for path, value in zip(floors, combo, strict=True)})
            prediction = predict(case, variant)
            matches[i, k] = matched(case, prediction)
            loglik[i, k] = _loglik(case, prediction.p)
    return Scores(floors, configured, matches, loglik)


def fit(scores: list[Scores], training: list[int], grid: Grid, held_floors: dict[str, float] | None = None) -> Fit:
    """The grid point that fits the ``training`` cases best (module docstring); only their runs are read (every
    case's configured values, inputs rather than records, are the tie-break's reference). ``held_floors``: the
    held-out case's floors and their configured values, kept where no training case is about them."""
    held_floors = held_floors or {}
    points = grid.points()
    reference = {path: value for own in scores for path, value in own.configured.items()}
    groups = _floor_groups([scores[i].floors for i in training])
    # max keeps the first of equals: the grid's order breaks the last ties
    (hits, loglik, _), g, floors = max((_at_point(scores, training, groups, g, point, grid, reference)
                                        for g, point in enumerate(points)), key=lambda item: item[0])
    fitted = {**points[g], **{path: value for path, value in floors.items() if path in held_floors}}
    kept = {path: value for path, value in held_floors.items() if path not in floors}
    return Fit(fitted, kept, int(hits), len(training), loglik)


def _at_point(scores: list[Scores], training: list[int], groups: list[tuple[str, ...]], g: int,
              point: dict[str, float], grid: Grid, reference: dict[str, float]
              ) -> tuple[tuple[float, float, float], int, dict[str, float]]:
    """The training cases' fit at the global point ``g`` with the best floors there: (matches, log-likelihood,
    minus the distance from the configured values), the point, and the floors."""
    unfloored = [i for i in training if not scores[i].floors]
    total = (sum(float(scores[i].matched[g, 0]) for i in unfloored),
             sum(float(scores[i].loglik[g, 0]) for i in unfloored),
             -sum(abs(v - reference[p]) / grid.width(p) for p, v in point.items()))
    chosen: dict[str, float] = {}
    for group in groups:
        members = [i for i in training if scores[i].floors and set(scores[i].floors) <= set(group)]
        key, values = max(((_group_key(scores, members, g, dict(zip(group, combo, strict=True)), grid, reference),
                            combo) for combo in itertools.product(grid.floors, repeat=len(group))),
                          key=lambda item: item[0])
        total = (total[0] + key[0], total[1] + key[1], total[2] + key[2])
        chosen.update(zip(group, values, strict=True))
    return total, g, chosen


def _group_key(scores: list[Scores], members: list[int], g: int, floors: dict[str, float], grid: Grid,
               reference: dict[str, float]) -> tuple[float, float, float]:
    """Matches, log-likelihood and (negated) distance from the configured floors of ``members`` at point ``g``
    with the floors ``floors``."""
    hits, loglik = 0.0, 0.0
    for i in members:
        own = scores[i]
        k = _combo_index(tuple(floors[path] for path in own.floors), grid.floors)
        hits += float(own.matched[g, k])
        loglik += float(own.loglik[g, k])
    return hits, loglik, -sum(abs(v - reference[p]) / grid.width(p) for p, v in floors.items())


def _floor_groups(floors: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """The floors fitted together: those that some case's decision shares, joined transitively (in practice
    one floor per proposal)."""
    groups: list[set[str]] = []
    for own in floors:
        joined = set(own)
        for group in [g for g in groups if g & joined]:
            joined |= group
            groups.remove(group)
        if joined:
            groups.append(joined)
    return sorted(tuple(sorted(g)) for g in groups)


def _combo_index(combo: tuple[float, ...], values: tuple[float, ...]) -> int:
    """The column of a combination of floor values, as :func:`score_case` orders them (product order)."""
    index = 0
    for value in combo:
        index = index * len(values) + values.index(value)
    return index


def _loglik(case: Case, p: float) -> float:
    """The log-probability of the recorded outcome, given the predicted probability ``p`` of the case's event."""
    observed = p if case.outcome == "adopted" else 1 - p
    edge = 1 / (2 * FIT_REPLICATES)
    return math.log(min(max(observed, edge), 1 - edge))


def _ceiling(scenario: Scenario, path: str) -> float:
    """The highest a floor can be: its proposal's ambition, in every year of the case."""
    proposal = path.rsplit(".", 1)[0]
    return min(float(_get(config.model_dump(by_alias=True), f"{proposal}.ambition"))
               for config in scenario.timeline.values())


def _get(tree: dict[str, Any], path: str) -> Any:
    node: Any = tree
    for part in path.split("."):
        node = node[part]
    return node
