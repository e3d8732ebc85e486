"""Scoring probability forecasts of yes/no events: proper scoring rules, ranking, calibration, skill.

The rules of forecast verification (Gneiting and Raftery 2007, "Strictly proper scoring rules, prediction, and
estimation"; the ViEWS evaluations use the same three): the Brier score (mean squared error of the probability,
lower is better), the log score (mean negative log probability of what happened, lower is better), and the area
under the ROC curve (how well the probabilities rank the events above the non-events, 0.5 is chance). The area
under the precision-recall curve is reported for the rarer outcome, where AUROC flatters. A skill score compares a
forecast's Brier score with a reference's: ``1 - brier / brier_reference``, positive when the forecast is better.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

#: Probabilities are kept this far from 0 and 1 in the log score, so that one confident miss costs log(1000) = 6.9
#: rather than infinity (a forecast from a finite number of replicates can be exactly 0 or 1).
LOG_FLOOR = 1e-3
#: Bins of the calibration table and the reliability diagram (forecasts in [0, 0.1), [0.1, 0.2), ... [0.9, 1]).
BINS = 10


@dataclass(frozen=True)
class Scores:
    """A forecast's scores on a set of events."""

    n: int
    brier: float
    log_score: float
    auroc: float  # NaN when every event went the same way
    aupr: float  # for the outcome 0 (the rarer one in the SCO's record: not adopted), NaN as above

    def as_dict(self) -> dict[str, float | int | None]:
        """JSON-ready, NaN as None."""
        return {key: (None if isinstance(value, float) and np.isnan(value) else round(value, 6)
                      if isinstance(value, float) else value)
                for key, value in self.__dict__.items()}


def brier(p: NDArray[np.float64], y: NDArray[np.bool_]) -> float:
    """Mean squared difference of the probability from the outcome (0 perfect; 0.25 for a constant 0.5)."""
    return float(np.mean((p - y) ** 2)) if p.size else float("nan")


def log_score(p: NDArray[np.float64], y: NDArray[np.bool_]) -> float:
    """Mean negative log of the probability given to what happened (0 perfect; log 2 = 0.69 for 0.5)."""
    q = np.clip(np.where(y, p, 1 - p), LOG_FLOOR, 1.0)
    return float(-np.mean(np.log(q))) if p.size else float("nan")


def auroc(p: NDArray[np.float64], y: NDArray[np.bool_]) -> float:
    """The probability that a random event gets a higher forecast than a random non-event (ties count half): the
    Mann-Whitney statistic over the product of the two counts."""
    positives, negatives = int(y.sum()), int((~y).sum())
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = _midranks(p)
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def aupr(p: NDArray[np.float64], y: NDArray[np.bool_]) -> float:
    """Average precision of the forecasts ranked by ``p`` for the events ``y`` (the area under the precision-recall
    curve, step-wise; tied forecasts enter together)."""
    positives = int(y.sum())
    if positives == 0 or positives == y.size:
        return float("nan")
    levels = np.unique(p)[::-1]
    precision_sum, found, taken = 0.0, 0, 0
    for level in levels:
        at = p == level
        hits = int(y[at].sum())
        found, taken = found + hits, taken + int(at.sum())
        precision_sum += hits * found / taken
    return precision_sum / positives


def scores(p: NDArray[np.float64], y: NDArray[np.bool_]) -> Scores:
    """Brier, log score and AUROC of ``p`` for ``y``; AUPR of ``1 - p`` for the outcome 0."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=bool)
    return Scores(int(p.size), brier(p, y), log_score(p, y), auroc(p, y), aupr(1 - p, ~y))


@dataclass(frozen=True)
class CalibrationBin:
    """Forecasts in one bin: how many, their mean, and how often the event happened."""

    low: float
    high: float
    n: int
    mean_forecast: float
    observed: float


def calibration(p: NDArray[np.float64], y: NDArray[np.bool_], bins: int = BINS) -> list[CalibrationBin]:
    """The calibration table: forecasts binned by value (the last bin closed), each bin's mean forecast and
    observed frequency (NaN in an empty bin)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    table = []
    for b in range(bins):
        inside = index == b
        n = int(inside.sum())
        table.append(CalibrationBin(float(edges[b]), float(edges[b + 1]), n,
                                    float(p[inside].mean()) if n else float("nan"),
                                    float(y[inside].mean()) if n else float("nan")))
    return table


@dataclass(frozen=True)
class Skill:
    """A Brier skill score and its bootstrap interval."""

    value: float
    low: float
    high: float


def skill(p: NDArray[np.float64], reference: NDArray[np.float64], y: NDArray[np.bool_], resamples: int = 2000,
          seed: int = 2025, level: float = 0.95) -> Skill:
    """``1 - brier(p) / brier(reference)`` and its percentile interval over ``resamples`` bootstrap resamples of the
    events (each resample draws the events with replacement and scores both forecasts on the same draw)."""
    p, reference, y = (np.asarray(a, dtype=float) for a in (p, reference, y))
    if y.size == 0 or brier(reference, y.astype(bool)) == 0:  # nothing to score, or a reference without error
        return Skill(float("nan"), float("nan"), float("nan"))
    value = 1 - brier(p, y.astype(bool)) / brier(reference, y.astype(bool))
    draws = np.random.default_rng(seed).integers(0, y.size, size=(resamples, y.size))
    errors, reference_errors = (p - y) ** 2, (reference - y) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        resampled = 1 - errors[draws].mean(axis=1) / reference_errors[draws].mean(axis=1)
    resampled = resampled[np.isfinite(resampled)]
    tail = (1 - level) / 2
    low, high = (np.quantile(resampled, [tail, 1 - tail]) if resampled.size else (float("nan"), float("nan")))
    return Skill(float(value), float(low), float(high))


def _midranks(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Ranks from 1, ties given the mean of the ranks they span."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    ranks = np.empty(values.size)
    start = 0
    while start < values.size:
        end = start
        while end + 1 < values.size and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start:end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return ranks
