"""From members' interests and relations to their utility for a proposal.

A member's value for a proposal at full ambition is a sum of contributions, one per interest
dimension and one per kind of relation:

- dimension ``d``: weight[d] * effect[d], where a benefit the member can also get elsewhere (its
  outside option on ``d``, e.g. the CSTO for security) is discounted by that option;
- ``influence``: weight[influence] * the member's own relative gain from the proposal;
- ``suspicion``, ``rivalry``: minus the relation's strength times the other member's gain;
- ``partnership``: plus the relation's strength times the other member's gain.

Positive contributions are benefits (linear in ambition), negative ones costs (quadratic in
ambition); see :mod:`sim.engine`. ``dependence`` does not change what a member wants, only how
costly it is to object to its patron (:func:`tolerance`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .config import INFLUENCE, Configuration
from .engine import Valuation

#: Relations that weigh another member's gains, with the sign they give them.
GAIN_RELATIONS: dict[str, float] = {"suspicion": -1.0, "rivalry": -1.0, "partnership": 1.0}


@dataclass(frozen=True)
class Parameters:
    """The arrays of one configuration, indexed by actor (N), dimension (D) and proposal (P)."""

    actors: tuple[str, ...]
    dimensions: tuple[str, ...]
    proposals: tuple[str, ...]
    weights: NDArray[np.float64]  # (N, D)
    outside_options: NDArray[np.float64]  # (N, D)
    relations: dict[str, NDArray[np.float64]]  # kind -> (N, N): row's relation to column
    capability: NDArray[np.float64]  # (N,)
    effects: NDArray[np.float64]  # (P, D); the influence column stays 0
    gains: NDArray[np.float64]  # (P, N)

    @property
    def sources(self) -> tuple[str, ...]:
        """Labels of the contributions, in the order :func:`contributions` returns them."""
        return self.dimensions + tuple(GAIN_RELATIONS)


def parameters(config: Configuration, actors: tuple[str, ...] | None = None) -> Parameters:
    """Arrays of ``config``; ``actors`` fixes their order (new actors must come last)."""
    actors = actors or tuple(config.members)
    dims = tuple(config.dimensions)
    proposals = tuple(config.proposals)
    index = {code: i for i, code in enumerate(actors)}
    n, d = len(actors), len(dims)
    weights, outside = np.zeros((n, d)), np.zeros((n, d))
    relations = {kind: np.zeros((n, n)) for kind in ("dependence", *GAIN_RELATIONS)}
    for i, code in enumerate(actors):
        member = config.members[code]
        weights[i] = [member.weights.get(dim, 0.0) for dim in dims]
        outside[i] = [member.outside_options.get(dim, 0.0) for dim in dims]
        for other, relation in member.relations.items():
            for kind, matrix in relations.items():
                matrix[i, index[other]] = getattr(relation, kind)
    effects, gains = np.zeros((len(proposals), d)), np.zeros((len(proposals), n))
    for p, code in enumerate(proposals):
        proposal = config.proposals[code]
        effects[p] = [proposal.effects.get(dim, 0.0) for dim in dims]
        gains[p] = [proposal.gains.get(actor, 0.0) for actor in actors]
    capability = np.array([config.members[code].capability for code in actors])
    return Parameters(actors, dims, proposals, weights, outside, relations, capability, effects, gains)


def contributions(
    weights: NDArray[np.float64], params: Parameters, proposal: int, rows: NDArray[np.intp] | None = None
) -> NDArray[np.float64]:
    """Each member's value of ``proposal`` at full ambition, split by source: shape (R, N, D + 3).

    ``weights`` is (R, N, D): this year's (wobbling) interest weights in every replicate of the
    members at ``rows`` of ``params`` (default: every actor). Others' gains count whoever gains.
    """
    rows = np.arange(len(params.actors)) if rows is None else rows
    by_dimension = weights * params.effects[proposal]
    discounted = by_dimension * (1.0 - params.outside_options[rows])
    by_dimension = np.where(by_dimension > 0, discounted, by_dimension)
    gain = params.gains[proposal]
    influence = params.dimensions.index(INFLUENCE)
    by_dimension[..., influence] = weights[..., influence] * gain[rows]
    by_relation = [sign * (params.relations[kind][rows] @ gain) for kind, sign in GAIN_RELATIONS.items()]
    relational = np.broadcast_to(np.stack(by_relation, axis=-1), (*weights.shape[:2], len(GAIN_RELATIONS)))
    return np.concatenate([by_dimension, relational], axis=-1)


def valuation(parts: NDArray[np.float64], n_dimensions: int, misjudgement: NDArray[np.float64] | float = 0.0) -> Valuation:
    """Utility coefficients from contributions: benefits linear, costs quadratic in ambition.

    ``misjudgement`` (R, N) shifts each member's perceived benefit. A member outside an opt-in
    proposal feels only the relational contributions.
    """
    benefit = np.clip(parts, 0.0, None).sum(axis=-1) + misjudgement
    cost = -np.clip(parts, None, 0.0).sum(axis=-1)
    relational = parts[..., n_dimensions:]
    return Valuation(
        benefit=benefit,
        cost=cost,
        outside_benefit=np.clip(relational, 0.0, None).sum(axis=-1),
        outside_cost=-np.clip(relational, None, 0.0).sum(axis=-1),
    )


def tolerance(
    params: Parameters, sponsor: int, objection_cost: float, deference: float, rows: NDArray[np.intp] | None = None
) -> NDArray[np.float64]:
    """Each member's cost of objecting: the base cost, plus deference to a sponsor it depends on.

    ``sponsor`` and ``rows`` index ``params.actors``.
    """
    dependence = params.relations["dependence"][:, sponsor]
    return objection_cost + deference * (dependence if rows is None else dependence[rows])
