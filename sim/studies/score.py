"""The model's forecasts of the SCO's decision record, scored in-sample and by rolling origin against history.

Every decision of the record (:mod:`sim.studies.record`) is forecast from the configuration in force in its year
(:data:`sim.studies.record.SCENARIO`, the decision alone on the agenda), three ways, in one worker per decision:

- **in-sample**: the model as configured, its worlds drawing the constants and floors from the fitted ranges of
  ``configs/base.yaml`` (fitted on the 27 narrated cases, which span 2001-2024: in-sample for the record's years);
- **point calibration**: ``--fixed-parameters``, every number as written (the values were chosen with the narrated
  cases in view, so this too is in-sample);
- **in every prior world**: the worlds drawing every number from its plausible range (``fit``'s worlds,
  :func:`sim.studies.fit.run_in_worlds`), each world's probability of adoption and its members' stance counts.

**Rolling origin, out of sample.** For each origin year T from :data:`FIRST_ORIGIN` to the record's last year, the
worlds are weighted by their likelihood on the decisions before T (the fit procedure of :mod:`sim.studies.fit`,
steps 2-3), the weights frozen, and the decisions of T forecast with them (horizon 1), and those of T+1 to
T+:data:`HORIZON` (horizon 2); history's benchmarks (:mod:`sim.studies.benchmarks`) are fitted on the same
decisions before T. What is not out of sample, stated: the coded interests, relations and the timeline's events
are the brief's (2025) reading of every year, written knowing what happened; only the constants and floors the
brief does not give are fitted before T.

The forecasts are pooled per regime and scored (:mod:`sim.core.scoring`): Brier, log score, AUROC, AUPR of the not
adopted; the model's calibration table; its Brier skill over the best benchmark with a bootstrap interval over the
decisions; and, for the decisions whose stances the record documents, a Brier score on who objects, makes a
reservation or stands aside (each voting member and stance a forecast of whether the record names it).
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core.budget import processors
from ..core.errors import ConfigError
from ..core.files import claim, staged_folder
from ..core.processes import Pool
from ..core.scoring import BINS, CalibrationBin, Scores, Skill, calibration, scores, skill
from ..core.vocabulary import SEED_LIMIT
from ..inputs.scenario import FIXED_PARAMETERS, load_scenario
from .benchmarks import base_rate, logistic, persistence
from .fit import STANCES, CaseRun, effective_worlds, likelihood_weights, run_in_worlds
from .record import CLASSES, FIRST_YEAR, LAST_YEAR, SCENARIO, Decision, as_case, load_classes, load_record, record_files
from .validation import Case, Prediction, predict, prepare

#: The first origin of the rolling forecasts: the decisions of 2001-2007 are the first training set.
FIRST_ORIGIN = 2008
#: The second horizon: the decisions of T+1 to T+HORIZON, forecast from origin T.
HORIZON = 3
#: The forecasters, the model first; the others are the benchmarks.
FORECASTERS = ("model", "base_rate", "persistence", "logistic", "point_calibration")
BENCHMARKS = FORECASTERS[1:]
#: The benchmarks built from the record alone (the point calibration is the model's own numbers).
HISTORY = ("base_rate", "persistence", "logistic")
#: The regimes, as score.json names them.
REGIMES = ("in_sample", "rolling", "rolling_horizon_2")
SEED = 2025


@dataclass(frozen=True)
class Budget:
    """How many replicates each forecast rests on."""

    worlds: int  # prior worlds, for the rolling fit
    world_size: int  # replicates per world
    replicates: int  # of the in-sample and point-calibration forecasts


#: The full score (its cost in docs/validation.md) and the quick one for CI and the tests.
FULL = Budget(worlds=10000, world_size=5, replicates=1000)
QUICK = Budget(worlds=100, world_size=5, replicates=100)


@dataclass(frozen=True)
class DecisionRun:
    """One decision forecast the three ways."""

    in_sample: Prediction
    point: Prediction
    worlds: CaseRun


@dataclass(frozen=True)
class Forecast:
    """Every forecaster's probability that one decision is adopted, in one regime, from one origin."""

    decision: Decision
    regime: str
    origin: int  # the first year not trained on (in-sample: the year after the record)
    probabilities: dict[str, float]  # forecaster -> P(adopted)
    effective_worlds: float  # what the model's rolling forecast rests on (NaN in-sample)


@dataclass(frozen=True)
class StanceScore:
    """The Brier score on who objects, reserves or stands aside, over the decisions whose stances are documented."""

    decisions: int
    forecasts: int  # decisions x voting members x the three stances
    named: int  # how many of them the record names
    brier: dict[str, float]  # regime (and "nobody", a forecast of 0 for every member) -> Brier


@dataclass(frozen=True)
class Score:
    """The record's forecasts and their scores."""

    decisions: list[Decision]
    summits: int
    forecasts: list[Forecast]
    scores: dict[str, dict[str, Scores]]  # regime -> forecaster -> scores
    calibration: dict[str, list[CalibrationBin]]  # regime -> the model's calibration table
    skill: dict[str, tuple[str, Skill]]  # regime -> (the best benchmark by Brier, the model's skill over it)
    skill_history: dict[str, tuple[str, Skill]]  # the same over the best of history's benchmarks (HISTORY)
    stances: StanceScore
    origins: dict[int, float]  # origin -> the effective worlds of its fit
    budget: Budget
    seed: int
    seconds: float


def score(paths: list[Path] | None = None, budget: Budget = FULL, seed: int = SEED) -> Score:
    """Forecast and score every decision of the record files (the project's, if none)."""
    started = time.monotonic()
    if not 0 <= seed < SEED_LIMIT:
        raise ConfigError("command line", "--seed", f"expected a whole number from 0 to 2**63-1, got {seed}")
    classes = load_classes()
    history = load_scenario(SCENARIO, replicates=1, years=(FIRST_YEAR, LAST_YEAR))
    catalogue = history.configuration(LAST_YEAR)
    decisions = load_record(record_files(paths), set(catalogue.proposals) | set(classes), set(catalogue.members))
    cases = [as_case(d, classes, history.configuration(d.year)) for d in decisions]
    for case, decision in zip(cases, decisions, strict=True):
        prepare(case, decision.file, budget.replicates)  # every row checked before any is run: bad input is one line
    members = {year: sum(m.votes_in(year) for m in history.configuration(year).members.values())
               for year in range(FIRST_YEAR, LAST_YEAR + 1)}
    with Pool(min(processors(), len(cases))) as pool:
        futures = [pool.submit(run_decision, case, d.file, budget, seed) for case, d in zip(cases, decisions,
                                                                                               strict=True)]
        runs = [future.result() for future in futures]
    forecasts, weights = forecast(decisions, runs, set(classes), members)
    scored = {regime: _scores(forecasts, regime) for regime in REGIMES}
    calibrated = {regime: calibration(*_pooled(forecasts, regime, "model")) for regime in REGIMES}
    skills = {regime: _skill(forecasts, regime, scored[regime], BENCHMARKS, seed) for regime in REGIMES}
    history_skills = {regime: _skill(forecasts, regime, scored[regime], HISTORY, seed) for regime in REGIMES}
    summits = len({d.year for d in decisions if d.meeting == "heads_of_state"})  # one a year
    stances = stance_score(decisions, runs, weights)
    origins = {origin: effective_worlds(w) for origin, w in weights.items()}
    return Score(decisions, summits, forecasts, scored, calibrated, skills, history_skills, stances, origins, budget,
                 seed, time.monotonic() - started)


def run_decision(case: Case, file: Path, budget: Budget, seed: int) -> DecisionRun:
    """The decision in-sample, under the point calibration, and in every prior world (a worker's task)."""
    in_sample = predict(case, prepare(case.model_copy(update={"seed": seed}), file, budget.replicates))
    fixed = case.model_copy(update={"seed": seed, "set": case.set | FIXED_PARAMETERS})
    point = predict(fixed, prepare(fixed, file, budget.replicates))
    return DecisionRun(in_sample, point, run_in_worlds(case, file, budget.worlds, budget.world_size, seed))


def origin_weights(decisions: list[Decision], runs: list[DecisionRun]) -> dict[int, NDArray[np.float64]]:
    """For each rolling origin, the prior worlds' weights fitted on the decisions before it (fit.py, steps 2-3)."""
    loglik = np.log(np.stack([r.worlds.likelihood for r in runs]))  # (decisions, worlds)
    years = np.array([d.year for d in decisions])
    return {origin: likelihood_weights(loglik[years < origin].sum(axis=0))
            for origin in range(FIRST_ORIGIN, LAST_YEAR + 1)}


def forecast(decisions: list[Decision], runs: list[DecisionRun], classes: set[str],
             members: dict[int, int]) -> tuple[list[Forecast], dict[int, NDArray[np.float64]]]:
    """Every forecast: in-sample (the benchmarks fitted on the whole record), and from each rolling origin; and
    the worlds' weights of each origin."""
    everything = range(len(decisions))
    forecasts = _forecasts(decisions, runs, "in_sample", LAST_YEAR + 1, list(everything), list(everything),
                           np.array([r.in_sample.p for r in runs]), float("nan"), classes, members)
    p_worlds = np.stack([r.worlds.p for r in runs])
    weights = origin_weights(decisions, runs)
    for origin, fitted in weights.items():
        training = [i for i in everything if decisions[i].year < origin]
        for regime, years in (("rolling", {origin}), ("rolling_horizon_2", set(range(origin + 1,
                                                                                    origin + HORIZON + 1)))):
            targets = [i for i in everything if decisions[i].year in years]
            if targets:
                forecasts += _forecasts(decisions, runs, regime, origin, training, targets, p_worlds[targets] @ fitted,
                                        effective_worlds(fitted), classes, members)
    return forecasts, weights


def _forecasts(decisions: list[Decision], runs: list[DecisionRun], regime: str, origin: int, training: list[int],
               targets: list[int], model: NDArray[np.float64], effective: float, classes: set[str],
               members: dict[int, int]) -> list[Forecast]:
    train = [decisions[i] for i in training]
    aimed = [decisions[i] for i in targets]
    if regime == "in_sample":  # persistence looks back from each decision, not from after the record
        persisted = np.array([persistence([t for t in train if t.year < d.year], [d], classes)[0] for d in aimed])
    else:
        persisted = persistence(train, aimed, classes)
    columns = {"model": model, "base_rate": base_rate(train, aimed), "persistence": persisted,
               "logistic": logistic(train, aimed, members),
               "point_calibration": np.array([runs[i].point.p for i in targets])}
    return [Forecast(d, regime, origin, {name: float(values[k]) for name, values in columns.items()}, effective)
            for k, d in enumerate(aimed)]


def _pooled(forecasts: list[Forecast], regime: str, forecaster: str) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    chosen = [f for f in forecasts if f.regime == regime]
    return (np.array([f.probabilities[forecaster] for f in chosen]),
            np.array([f.decision.adopted for f in chosen], dtype=bool))


def _scores(forecasts: list[Forecast], regime: str) -> dict[str, Scores]:
    return {name: scores(*_pooled(forecasts, regime, name)) for name in FORECASTERS}


def _skill(forecasts: list[Forecast], regime: str, scored: dict[str, Scores], among: tuple[str, ...],
           seed: int) -> tuple[str, Skill]:
    """The model's Brier skill over the benchmark ``among`` those with the lowest Brier score in the regime."""
    best = min(among, key=lambda name: scored[name].brier)
    p, y = _pooled(forecasts, regime, "model")
    reference, _ = _pooled(forecasts, regime, best)
    return best, skill(p, reference, y, seed=seed)


def stance_score(decisions: list[Decision], runs: list[DecisionRun],
                 weights: dict[int, NDArray[np.float64]]) -> StanceScore:
    """The Brier score on the documented stances: in-sample, under the point calibration, and rolling (the
    worlds' ``weights`` of the decision's own year as origin, horizon 1)."""
    errors: dict[str, list[float]] = {"in_sample": [], "point_calibration": [], "rolling": [], "nobody": []}
    chosen = [i for i, d in enumerate(decisions) if d.stances_documented]
    named = 0
    for i in chosen:
        decision, run = decisions[i], runs[i]
        fitted = weights.get(decision.year)
        shares_rolling = None if fitted is None else _world_shares(run.worlds, fitted)
        for stance, listed in (("objected", decision.objected), ("reservation", decision.reservation),
                               ("stood_aside", decision.stood_aside)):
            for member, share in getattr(run.in_sample, stance).items():
                truth = float(member in listed)
                named += int(truth)
                errors["in_sample"].append((share - truth) ** 2)
                errors["point_calibration"].append((getattr(run.point, stance).get(member, 0.0) - truth) ** 2)
                errors["nobody"].append(truth)
                if shares_rolling is not None:
                    errors["rolling"].append((shares_rolling[stance].get(member, 0.0) - truth) ** 2)
    return StanceScore(len(chosen), len(errors["in_sample"]), named,
                       {name: float(np.mean(values)) if values else float("nan") for name, values in errors.items()})


def _world_shares(run: CaseRun, weights: NDArray[np.float64]) -> dict[str, dict[str, float]]:
    voted = weights @ run.voted
    return {stance: {m: float(t / v) for m, t, v in zip(run.members, weights @ run.counts[stance], voted, strict=True)
                     if v > 0} for stance in STANCES}


# --- writing ------------------------------------------------------------------------------------------

#: What each regime is, in score.json and in what the command prints.
LABELS = {
    "in_sample": "in-sample: the model with its current fitted ranges (fitted on the narrated cases of 2001-2024); "
                 "the benchmarks fitted on the whole record",
    "rolling": "rolling origin, out of sample for the constants and floors: each decision of year T forecast with "
               f"the worlds weighted on the decisions before T ({FIRST_ORIGIN}-{LAST_YEAR}), the benchmarks fitted "
               "on them; the coded interests are the brief's 2025 reading",
    "rolling_horizon_2": f"as rolling, the decisions of T+1 to T+{HORIZON} forecast from origin T (pooled)",
}


def document(result: Score, argv: list[str]) -> dict[str, Any]:
    """score.json: the counts, each regime's scores and skill, the stances, the calibration, the budget."""
    regimes: dict[str, Any] = {}
    for regime in REGIMES:
        regimes[regime] = {"label": LABELS[regime], "forecasts": result.scores[regime]["model"].n,
                           **{name: result.scores[regime][name].as_dict() for name in FORECASTERS},
                           "skill_vs_best": _skill_document(*result.skill[regime]),
                           "skill_vs_history": _skill_document(*result.skill_history[regime]),
                           "calibration": [dataclasses.asdict(b) for b in result.calibration[regime]]}
    stances = result.stances
    return {"made_by": " ".join(argv), "decisions": len(result.decisions), "summits": result.summits,
            "adopted": sum(d.adopted for d in result.decisions), "first_origin": FIRST_ORIGIN,
            **regimes,
            "stances": {"decisions": stances.decisions, "forecasts": stances.forecasts, "named": stances.named,
                        "brier": {k: round(v, 6) for k, v in stances.brier.items()}},
            "effective_worlds_by_origin": {str(k): round(v, 1) for k, v in result.origins.items()},
            "budget": dataclasses.asdict(result.budget), "seed": result.seed, "seconds": round(result.seconds, 1),
            "classes": str(CLASSES.relative_to(CLASSES.parents[2])), "bins": BINS}


def _skill_document(benchmark: str, found: Skill) -> dict[str, Any]:
    return {"benchmark": benchmark, "value": round(found.value, 6), "low": round(found.low, 6),
            "high": round(found.high, 6)}


def forecast_rows(result: Score) -> list[dict[str, Any]]:
    """forecasts.csv: a row per decision, regime and origin."""
    return [{"id": f.decision.id, "year": f.decision.year, "kind": f.decision.kind, "proposal": f.decision.proposal,
             "outcome": f.decision.outcome, "adopted": int(f.decision.adopted), "regime": f.regime,
             "origin": f.origin, **{f"p_{name}": round(p, 6) for name, p in f.probabilities.items()},
             "effective_worlds": round(f.effective_worlds, 1), "brier_model": round((f.probabilities["model"] -
                                                                                     f.decision.adopted) ** 2, 6)}
            for f in result.forecasts]


def write(result: Score, out: Path, argv: list[str]) -> None:
    """The score's folder: score.json and forecasts.csv (locked while written; a folder with results is
    refused)."""
    import pandas as pd

    with claim(out, False, argv, hint="choose another folder"), staged_folder(out, kind="score") as staging:
        (staging / "score.json").write_text(json.dumps(document(result, argv), indent=2) + "\n", encoding="utf-8")
        pd.DataFrame(forecast_rows(result)).to_csv(staging / "forecasts.csv", index=False)
