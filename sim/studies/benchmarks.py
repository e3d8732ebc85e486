"""History's own benchmarks for forecasts of the SCO's decisions, each fitted on the decisions before an origin.

A model of the SCO earns its keep only if it forecasts better than what the record alone would have said. The
benchmarks (after the ViEWS evaluations, which score conflict forecasts against benchmarks built from conflict
history):

- **base rate**: the share of the decisions of the same kind adopted before the origin (Laplace's rule, (adopted
  + 1) / (decisions + 2); the rate over every kind where the kind has not come up, and 0.5 before any decision);
- **persistence**: the outcome of the last time the same proposal came up before the origin (1 or 0), and the base
  rate where it has not (:meth:`sim.studies.record.Decision.identity` says what "the same" is);
- **logistic**: a logistic regression of adoption on covariates known before the decision (:func:`covariates`),
  fitted on the decisions before the origin by penalised maximum likelihood (an L2 penalty of :data:`PENALTY` on
  the standardised coefficients, the intercept free, so that a covariate that separates a few early decisions
  does not run off to infinity).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from .record import KINDS, Decision

#: The L2 penalty of the logistic regression (on standardised covariates): a choice, the weight of one decision's
#: log-likelihood per unit coefficient, so that a dozen decisions cannot fit a coefficient of 5.
PENALTY = 1.0
#: The sponsors the logistic regression tells apart (the others, and an undocumented sponsor, are the reference).
SPONSORS = ("china", "russia")
#: The eras the logistic regression tells apart: from the Crimea annexation, and from the war in Ukraine (the base
#: timeline's events of 2014 and 2022, configs/base.yaml).
ERAS = (2014, 2022)


def base_rate(training: Sequence[Decision], targets: Sequence[Decision]) -> NDArray[np.float64]:
    """The share adopted of the training decisions of each target's kind (Laplace's rule)."""
    overall = _laplace([d.adopted for d in training])
    rates = {kind: _laplace([d.adopted for d in training if d.kind == kind], overall) for kind in KINDS}
    return np.array([rates[d.kind] for d in targets])


def persistence(training: Sequence[Decision], targets: Sequence[Decision], classes: set[str]) -> NDArray[np.float64]:
    """The last training outcome of each target's proposal (training in date order), or its kind's base rate."""
    last = {d.identity(classes): float(d.adopted) for d in sorted(training, key=lambda d: (d.date, d.id))}
    fallback = base_rate(training, targets)
    return np.array([last.get(d.identity(classes), fallback[i]) for i, d in enumerate(targets)])


def covariates(decision: Decision, members: int) -> list[float]:
    """The logistic regression's covariates: the kind (one-hot, ``institution`` the reference), the sponsor (China,
    Russia), whether the decision delegates authority, the number of voting members, and the eras."""
    kind = [float(decision.kind == k) for k in KINDS[1:]]
    sponsor = [float(decision.sponsor == s) for s in SPONSORS]
    eras = [float(decision.year >= year) for year in ERAS]
    return [*kind, *sponsor, float(decision.delegates), float(members), *eras]


def logistic(training: Sequence[Decision], targets: Sequence[Decision], members: dict[int, int],
             penalty: float = PENALTY) -> NDArray[np.float64]:
    """The penalised logistic regression fitted on ``training`` (``members``: voting members by year), applied to
    ``targets``; the base rate where the training decisions all went one way or there are none."""
    if len({d.adopted for d in training}) < 2:
        return base_rate(training, targets)
    x = np.array([covariates(d, members[d.year]) for d in training])
    y = np.array([d.adopted for d in training], dtype=float)
    mean, sd = x.mean(axis=0), x.std(axis=0)
    sd[sd == 0] = 1.0
    coefficients = _newton(np.column_stack([np.ones(len(x)), (x - mean) / sd]), y, penalty)
    z = np.array([covariates(d, members[d.year]) for d in targets])
    return _sigmoid(np.column_stack([np.ones(len(z)), (z - mean) / sd]) @ coefficients)


def _newton(x: NDArray[np.float64], y: NDArray[np.float64], penalty: float, steps: int = 50) -> NDArray[np.float64]:
    """The penalised maximum-likelihood coefficients by Newton's method (the intercept not penalised)."""
    beta = np.zeros(x.shape[1])
    ridge = np.full(x.shape[1], penalty)
    ridge[0] = 0.0
    for _ in range(steps):
        p = _sigmoid(x @ beta)
        gradient = x.T @ (y - p) - ridge * beta
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(ridge) + 1e-9 * np.eye(x.shape[1])
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.max(np.abs(step)) < 1e-8:
            break
    return beta


def _sigmoid(z: NDArray[np.float64]) -> NDArray[np.float64]:
    result: NDArray[np.float64] = 1 / (1 + np.exp(-np.clip(z, -30, 30)))
    return result


def _laplace(outcomes: list[bool], empty: float = 0.5) -> float:
    return (sum(outcomes) + 1) / (len(outcomes) + 2) if outcomes else empty
