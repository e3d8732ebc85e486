"""Implementation: how far an adopted decision is carried out, year by year after its adoption.

The brief's central point is that the SCO's 'concrete implementation of these statements lags behind the rhetoric'
(Limited achievements). Adoption is the summit's decision (:mod:`sim.model.model`); implementation is what the members
that must carry the decision out do with it afterwards. Per adopted decision and replicate it is a state ``I`` in
[0, 1], 0 at the summit that adopts it, advanced once a year after that::

    I[t+1] = I[t] + pace[form] * (will[t] - I[t])

``will`` is what the implementing members (those that took part in the adoption: every voter but those who stood
aside from an opt-in decision) are willing to carry out this year, averaged with their capabilities as weights
(capability to carry it out). A member's *willingness* is the share of the adopted ambition ``a`` it would choose
itself, ``min(1, a* / a)``, where ``a* = benefit / (2 cost)`` is the ambition its utility ``benefit*a - cost*a**2``
peaks at (1 or more: it wants all of it; ``benefit <= 0``: none). A member whose utility at ``a`` is negative has
``a* < a / 2``, so it carries out less than half and drags the decision down. Utilities are this year's (its
priorities drift, events move them), read without the yearly misjudgement (:mod:`sim.model.model`), so
implementation draws nothing at random. ``pace`` is the share of the gap that closes in a year, by how binding the
decision's form is (:data:`sim.core.vocabulary.FORMS`; the numbers in
:class:`sim.inputs.configuration.Implementation`, their ranges in :data:`sim.inputs.plausible.PACES`).

Every function works on arrays over replicates (R) and members (N): no loop over replicates.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..core.engine import Stance, Valuation


def implementers(stance: NDArray[np.int8]) -> NDArray[np.bool_]:
    """The members that must carry out a decision, from their stances at its adoption (R, N): every voter that took
    part (supported, made a reservation, or objected and was overruled), not those who stood aside or did not vote."""
    took_part: NDArray[np.bool_] = (stance != Stance.ABSENT) & (stance != Stance.STAND_ASIDE)
    return took_part


def willingness(value: Valuation, ambition: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each member's willingness (R, N) to carry out a decision adopted at ``ambition`` (R,): the share of it that it
    would choose itself, ``min(1, a* / a)`` with ``a* = benefit / (2 cost)`` (module docstring); 0 where
    ``ambition`` is not a positive number (not adopted)."""
    benefit, cost = value.benefit, value.cost
    adopted = np.nan_to_num(ambition, nan=0.0)[:, None]
    wants = np.where(benefit > 0, benefit, 0.0)  # a member with no benefit wants none of it
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(adopted > 0, wants / (2 * cost * adopted), 0.0)  # cost 0 and a benefit: inf, all of it
    return np.clip(np.nan_to_num(share, nan=0.0, posinf=1.0), 0.0, 1.0)


def will(willing: NDArray[np.float64], who: NDArray[np.bool_], capability: NDArray[np.float64]) -> NDArray[np.float64]:
    """The capability-weighted mean willingness (R,) of the members ``who`` carry the decision out (R, N); 0 where
    none does."""
    weight = np.where(who, capability[None, :], 0.0)
    total = weight.sum(axis=1)
    mean: NDArray[np.float64] = np.divide((weight * willing).sum(axis=1), total, out=np.zeros(total.shape),
                                          where=total > 0)
    return mean


def advance(state: NDArray[np.float64], target: NDArray[np.float64],
            pace: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """One year of implementation: ``state + pace * (target - state)``; NaN (not adopted) stays NaN."""
    moved: NDArray[np.float64] = np.asarray(state + pace * (target - state), dtype=np.float64)
    return moved
