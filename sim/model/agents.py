"""Member agents: one per state, holding its state in every replicate at once."""

from __future__ import annotations

import mesa
import numpy as np
from numpy.typing import NDArray

from ..core import streams
from ..inputs.configuration import Member

#: Year used for "never": a member not admitted during the run.
NEVER = np.iinfo(np.int32).max


class MemberAgent(mesa.Agent):
    """A state in the SCO's orbit: a member that votes, or an observer or partner that does not.

    Its state carries a leading replicate axis: ``weights`` is (R, D), this year's interest weights
    in each replicate (they wobble around ``base_weights``, (1 or R, D): the configured weights as each replicate's
    world reads them, 1 where all read them as written), ``drift`` is (R, D), the standardised wobble, which
    persists from year to year as an AR(1) process, and ``admitted_from`` is (R,), the year from which a
    membership proposal adopted during the run lets it vote in that replicate.
    """

    def __init__(self, model: mesa.Model, code: str, member: Member, base_weights: NDArray[np.float64]) -> None:
        super().__init__(model)
        self.code = code
        self.member = member
        self.base_weights = base_weights
        self.weights: NDArray[np.float64] = np.zeros((len(self.model.replicates), base_weights.shape[-1]))
        self.drift: NDArray[np.float64] | None = None  # None until its first year
        self.admitted_from: NDArray[np.int32] = np.full(len(self.model.replicates), NEVER, dtype=np.int32)

    def take_on(self, member: Member, base_weights: NDArray[np.float64]) -> None:
        """Take on the configuration in force: its description of this state and its configured weights."""
        self.member, self.base_weights = member, base_weights

    def votes(self, year: int) -> NDArray[np.bool_]:
        """Whether it is a voting member in ``year``, in each replicate."""
        return np.logical_or(self.member.votes_in(year), self.admitted_from <= year)

    def admit(self, replicates: NDArray[np.bool_], year: int) -> None:
        """Make it a member from ``year`` on in the given replicates (if it is not one already)."""
        admitted = np.where(replicates, np.minimum(self.admitted_from, year), self.admitted_from)
        self.admitted_from = admitted.astype(np.int32)

    def reconsider(self, year: int) -> None:
        """This year's priorities: the configured weights, each wobbling by a relative noise whose standardised
        value drifts from last year's by the model's persistence (see :func:`persist`)."""
        noise = self.model.constant("noise.weights")
        if np.all(np.asarray(noise) == 0):
            self.weights = np.broadcast_to(self.base_weights, self.weights.shape).copy()
            return
        draw = streams.normal(
            self.model.seed, ("weights", year, self.code), self.model.replicates, self.weights.shape[1:]
        )
        self.drift = persist(self.drift, draw, self.model.constant("noise.persistence"))
        self.weights = np.minimum(np.maximum(self.base_weights * (1.0 + noise * self.drift), -1.0), 1.0)


def persist(
    previous: NDArray[np.float64] | None, innovation: NDArray[np.float64], persistence: NDArray[np.float64] | float
) -> NDArray[np.float64]:
    """One year of a stationary AR(1) process with standard normal margins: z = rho z' + sqrt(1 - rho**2) e.

    ``previous`` is last year's z (None in the first year, where z = e). Where ``previous`` has fewer columns than
    ``innovation`` (a member that joined the decisions this year), the new columns start at e. With rho = 0 every
    year is a fresh draw; with rho = 1 the first year's draw is kept. ``persistence`` is one number or one per
    replicate, (R, 1).
    """
    if previous is None or np.all(np.asarray(persistence) == 0):
        return innovation
    kept = previous.shape[-1]
    carried = persistence * previous + np.sqrt(1.0 - persistence**2) * innovation[..., :kept]
    return np.concatenate([carried, innovation[..., kept:]], axis=-1) if kept < innovation.shape[-1] else carried
