"""Feedback: what the SCO does, and fails to do, moves the members' relations (issue 19, point 4).

Without feedback, dependence and relations change only by scripted events. In the brief they also follow from the
SCO's record: economic integration (a bank, trade deals) would deepen the members' dependence on China, and China's
"own bilateral initiatives", taken up where the SCO failed it, made it "at the center of much regional trade", so
that "Russia may be forced to accept the reality on the ground" (New developments). Two feedbacks, each with a
switch in the configuration's ``feedback`` block, so that a scenario can compare the world with and without it:

* **integration** (``feedback.integration``): an adopted measure with a positive economic effect ``e``, as it is
  carried out (:mod:`sim.model.implementation`), deepens the dependence on its sponsor of the members that carry it
  out, in proportion to its ambition ``a`` and to what is carried out that year, ``dI``:
  ``d dependence = integration_rate * e * a * dI``.
* **elsewhere** (``feedback.elsewhere``): each year a proposal is pursued outside the SCO (forum choice,
  :mod:`sim.model.sponsors`), every member's dependence on its sponsor deepens by ``elsewhere_rate * share``, the
  route's share of the proposal's value: what the sponsor builds outside draws the region to it.

Dependence raises a member's cost of objecting to its patron's proposals (:func:`sim.model.interests.tolerance`, by
``rules.deference``). What a member gains is held per sponsor and replicate, on top of the written (or drawn)
dependence, and the sum never passes 1, the bound of a relation. The rates are choices (configs/choices.yaml), with
plausible ranges (:data:`sim.inputs.plausible.CONSTANTS`) that the worlds draw.

Every function works on arrays over replicates (R) and members (N): no loop over replicates.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def integration(rate: Array | float, economic: Array | float, ambition: Array, carried_out: Array,
                who: NDArray[np.bool_]) -> Array:
    """What each member's dependence on the sponsor gains this year from an adopted measure (R, N): ``rate`` x its
    economic effect (counted where positive) x its adopted ``ambition`` (R,) x what was ``carried_out`` this year (R,),
    for the members ``who`` carry it out (R, N); 0 where it is not adopted (NaN ambition or progress)."""
    step = np.asarray(rate * np.maximum(economic, 0.0) * ambition * np.maximum(carried_out, 0.0), dtype=float)
    gained: Array = np.where(who, np.nan_to_num(step, nan=0.0)[:, None], 0.0)
    return gained


def elsewhere(rate: Array | float, share: Array | float, pursued: NDArray[np.bool_],
              members: NDArray[np.bool_]) -> Array:
    """What each member's dependence on the sponsor gains this year from a proposal pursued outside the SCO (R, N):
    ``rate`` x the route's ``share`` where it is ``pursued`` (R,), for the ``members`` (R, N)."""
    step = np.broadcast_to(np.asarray(rate * share, dtype=float), pursued.shape)
    gained: Array = np.where(members & pursued[:, None], step[:, None], 0.0)
    return gained


def deepened(gained: Array, step: Array, written: Array) -> Array:
    """The dependence gained so far (R, N) after this year's ``step`` (R, N), so that with the ``written`` dependence
    (1 or R, N) it stays within [0, 1]."""
    bounded: Array = np.minimum(gained + step, np.maximum(1.0 - written, 0.0))
    return bounded
