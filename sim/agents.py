"""Member agents: one per state, holding its state in every replicate at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np
from numpy.typing import NDArray

from . import streams
from .config import Member

if TYPE_CHECKING:
    from .model import SCOModel

#: Year used for "never": a member not admitted during the run.
NEVER = np.iinfo(np.int32).max


class MemberAgent(mesa.Agent):
    """A state in the SCO's orbit: a member that votes, or an observer or partner that does not.

    Its state carries a leading replicate axis: ``weights`` is (R, D), this year's interest weights
    in each replicate (they wobble around the configured ones), and ``admitted_from`` is (R,), the
    year from which a membership proposal adopted during the run lets it vote in that replicate.
    """

    def __init__(self, model: SCOModel, code: str, member: Member) -> None:
        super().__init__(model)
        self.code = code
        self.member = member
        n_replicates, n_dimensions = len(model.replicates), len(model.params.dimensions)
        self.weights: NDArray[np.float64] = np.zeros((n_replicates, n_dimensions))
        self.admitted_from: NDArray[np.int32] = np.full(n_replicates, NEVER, dtype=np.int32)

    def votes(self, year: int) -> NDArray[np.bool_]:
        """Whether it is a voting member in ``year``, in each replicate."""
        by_charter = self.member.status == "member" and self.member.joined is not None and self.member.joined <= year
        return np.logical_or(by_charter, self.admitted_from <= year)

    def admit(self, replicates: NDArray[np.bool_], year: int) -> None:
        """Make it a member from ``year`` on in the given replicates (if it is not one already)."""
        self.admitted_from = np.where(replicates, np.minimum(self.admitted_from, year), self.admitted_from).astype(np.int32)

    def reconsider(self, base_weights: NDArray[np.float64], year: int) -> None:
        """Draw this year's priorities: the configured weights, each wobbling by a relative noise."""
        noise = self.model.noise.weights
        if noise == 0:
            self.weights = np.broadcast_to(base_weights, self.weights.shape).copy()
            return
        draw = streams.normal(self.model.seed, ("weights", year, self.code), self.model.replicates, base_weights.shape)
        self.weights = np.minimum(np.maximum(base_weights * (1.0 + noise * draw), -1.0), 1.0)
