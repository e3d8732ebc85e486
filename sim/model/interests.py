"""From members' interests and relations to their utility for a proposal.

A member's value for a proposal at full ambition is a sum of contributions, one per interest
dimension and one per kind of relation:

- dimension ``d``: weight[d] * effect[d], where a benefit the member can also get elsewhere (its
  outside option on ``d``, e.g. the CSTO for security) is discounted by that option;
- ``influence``: weight[influence] * the member's own relative gain from the proposal;
- ``suspicion``, ``rivalry``: minus the relation's strength times the other member's gain;
- ``partnership``: plus the relation's strength times the other member's gain.

Positive contributions are benefits (linear in ambition), negative ones costs (quadratic in
ambition); see :mod:`sim.core.engine`. ``dependence`` does not change what a member wants, only how
costly it is to object to its patron (:func:`tolerance`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ..core.engine import Valuation
from ..inputs.configuration import INFLUENCE, Configuration

#: Relations that weigh another member's gains, with the sign they give them.
GAIN_RELATIONS: dict[str, float] = {"suspicion": -1.0, "rivalry": -1.0, "partnership": 1.0}


@dataclass(frozen=True)
class Arrays:
    """The arrays of one configuration, indexed by actor (N), dimension (D) and proposal (P).

    Every coded number carries a leading *world* axis ``W``: 1 where every replicate reads the numbers as written
    (the point calibration, :func:`to_arrays`), one row per world where each world has its own reading of them
    (:func:`sim.model.worlds.drawn`); then ``world`` gives each replicate's row, and :meth:`per_replicate` reads an
    array replicate by replicate. Capability, read from a data set, has none.
    """

    actors: tuple[str, ...]
    dimensions: tuple[str, ...]
    proposals: tuple[str, ...]
    weights: NDArray[np.float64]  # (W, N, D)
    outside_options: NDArray[np.float64]  # (W, N, D)
    relations: dict[str, NDArray[np.float64]]  # kind -> (W, N, N): row's relation to column
    capability: NDArray[np.float64]  # (N,)
    effects: NDArray[np.float64]  # (W, P, D); the influence column stays 0
    gains: NDArray[np.float64]  # (W, P, N)
    ambition: NDArray[np.float64]  # (W, P) the ambition each proposal is tabled at
    floor: NDArray[np.float64]  # (W, P) the least ambitious version its sponsor would table
    side_payment: NDArray[np.float64]  # (W, P)
    elsewhere: NDArray[np.float64]  # (W, P) the share of its gain the sponsor's route outside the SCO yields
    #: the model's constants each world reads for itself (``rules.objection_cost`` -> (W, 1)); none where every
    #: replicate reads the configuration's
    constants: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    #: each replicate's row of the world axis (R,); None where every replicate reads the numbers as written
    world: NDArray[np.intp] | None = None

    def per_replicate(self, array: NDArray[np.float64]) -> NDArray[np.float64]:
        """``array`` (world axis first) read in each replicate's world: (R, ...), or as it is where all share one."""
        return array if self.world is None else array[self.world]

    def constant(self, path: str, written: float) -> NDArray[np.float64] | float:
        """A constant of the model, ``written`` in the configuration, as each replicate's world reads it: (R, 1), or
        one number."""
        drawn = self.constants.get(path)
        return written if drawn is None else self.per_replicate(drawn)

    @property
    def sources(self) -> tuple[str, ...]:
        """Labels of the contributions, in the order :func:`contributions` returns them."""
        return self.dimensions + tuple(GAIN_RELATIONS)

    @property
    def shared(self) -> bool:
        """Whether every replicate reads the numbers as written (a world axis of 1)."""
        return self.world is None


def to_arrays(config: Configuration, actors: tuple[str, ...] | None = None) -> Arrays:
    """Arrays of ``config`` as written (a world axis of 1); ``actors`` fixes their order (new actors must come
    last)."""
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
    terms = np.array([[p.ambition, p.floor, p.side_payment, p.elsewhere.share if p.elsewhere else 0.0]
                      for p in config.proposals.values()]).reshape(-1, 4)
    return Arrays(actors, dims, proposals, weights[None], outside[None],
                  {kind: matrix[None] for kind, matrix in relations.items()}, capability, effects[None], gains[None],
                  terms[None, :, 0], terms[None, :, 1], terms[None, :, 2], terms[None, :, 3])


def contributions(
    weights: NDArray[np.float64], arrays: Arrays, proposal: int, rows: NDArray[np.intp] | None = None
) -> NDArray[np.float64]:
    """Each member's value of ``proposal`` at full ambition, split by source: shape (R, N, D + 3).

    ``weights`` is (R, N, D): this year's (wobbling) interest weights in every replicate of the
    members at ``rows`` of ``arrays`` (default: every actor). Others' gains count whoever gains. ``arrays`` are
    the numbers as written (a world axis of 1).
    """
    if not arrays.shared:
        raise ValueError("contributions() takes the numbers as written (to_arrays), not drawn worlds")
    rows = np.arange(len(arrays.actors)) if rows is None else rows
    by_dimension = weights * arrays.effects[0, proposal]
    discounted = by_dimension * (1.0 - arrays.outside_options[0, rows])
    by_dimension = np.where(by_dimension > 0, discounted, by_dimension)
    gain = arrays.gains[0, proposal]
    influence = arrays.dimensions.index(INFLUENCE)
    by_dimension[..., influence] = weights[..., influence] * gain[rows]
    by_relation = [sign * (arrays.relations[kind][0, rows] @ gain) for kind, sign in GAIN_RELATIONS.items()]
    relational = np.broadcast_to(np.stack(by_relation, axis=-1), (*weights.shape[:2], len(GAIN_RELATIONS)))
    return np.concatenate([by_dimension, relational], axis=-1)


def valuation(
    parts: NDArray[np.float64], n_dimensions: int, misjudgement: NDArray[np.float64] | float = 0.0
) -> Valuation:
    """Utility coefficients from contributions: benefits linear, costs quadratic in ambition.

    ``misjudgement`` (R, N) shifts each member's perceived benefit. A member outside an opt-in
    proposal feels only the relational contributions.
    """
    benefit = np.maximum(parts, 0.0).sum(axis=-1) + misjudgement
    cost = np.maximum(-parts, 0.0).sum(axis=-1)
    relational = parts[..., n_dimensions:]
    return Valuation(
        benefit=benefit,
        cost=cost,
        outside_benefit=np.maximum(relational, 0.0).sum(axis=-1),
        outside_cost=np.maximum(-relational, 0.0).sum(axis=-1),
    )


@dataclass(frozen=True)
class Loadings:
    """A proposal's per-member loadings, so that benefit and cost are matrix products with the weights.

    With w+ = max(w, 0) and w- = max(-w, 0): benefit = w+ . gain_up + w- . gain_down (+ influence and
    relations), cost = w+ . loss_up + w- . loss_down (+ ...), each a (W, N, D) array, one row per world (W = 1 where
    all read the numbers as written); ``world`` gives each replicate's row, as :attr:`Arrays.world`. This is the
    sum of the positive and the negative contributions of :func:`contributions`, without building them. They are
    kept per world and read per replicate only when used: per replicate, a configuration of many members and
    proposals would not fit in memory.
    """

    gain_up: NDArray[np.float64]  # positive effects, discounted by outside options
    loss_up: NDArray[np.float64]  # negative effects
    gain_down: NDArray[np.float64]  # negative effects met by negative weights, discounted
    loss_down: NDArray[np.float64]  # positive effects met by negative weights
    own_gain: NDArray[np.float64]  # (W, N) each member's own relative gain
    relational: NDArray[np.float64]  # (K, W, N) each kind of relation's value of the others' gains
    world: NDArray[np.intp] | None = None


def loadings(arrays: Arrays, proposal: int, rows: NDArray[np.intp]) -> Loadings:
    """The loadings of ``proposal`` for the members at ``rows``, in every world of ``arrays``."""
    effect = arrays.effects[:, proposal].copy()  # (W, D)
    effect[:, arrays.dimensions.index(INFLUENCE)] = 0.0
    keep = 1.0 - arrays.outside_options[:, rows]  # (W, n, D)
    up, down = np.maximum(effect, 0.0)[:, None, :], np.maximum(-effect, 0.0)[:, None, :]
    gain = arrays.gains[:, proposal]  # (W, N)
    if arrays.shared:  # one world: a matrix-vector product per kind (the point calibration's exact arithmetic)
        relational = np.stack([sign * (arrays.relations[kind][0, rows] @ gain[0])
                               for kind, sign in GAIN_RELATIONS.items()])[:, None, :]
    else:
        relational = np.stack([sign * np.einsum("wnm,wm->wn", arrays.relations[kind][:, rows], gain)
                               for kind, sign in GAIN_RELATIONS.items()])
    return Loadings(up * keep, np.broadcast_to(down, keep.shape).copy(), down * keep,
                    np.broadcast_to(up, keep.shape).copy(), gain[:, rows].copy(), relational, arrays.world)


def _dot(weights: NDArray[np.float64], loading: NDArray[np.float64],
         world: NDArray[np.intp] | None) -> NDArray[np.float64]:
    """(R, N): each member's weights (N, R, D) dotted with its loading (W, N, D) in its replicate's world."""
    if world is None:  # batched matrix products, as the point calibration has always computed them
        product: NDArray[np.float64] = np.matmul(weights, loading[0][:, :, None])[..., 0].T
    else:  # read per replicate here, for this product only
        product = np.einsum("nrd,rnd->rn", weights, loading[world])
    return product


def valuation_of(weights: NDArray[np.float64], arrays: Arrays, load: Loadings,
                 misjudgement: NDArray[np.float64] | float = 0.0) -> Valuation:
    """Benefit and cost (R, N) from this year's weights, given as (N, R, D) for batched products.

    Equal to ``valuation(contributions(...))``, computed without the (R, N, D + 3) array.
    """
    influence = arrays.dimensions.index(INFLUENCE)
    world = load.world
    positive = np.maximum(weights, 0.0)
    benefit = _dot(positive, load.gain_up, world)
    cost = _dot(positive, load.loss_up, world)
    if (weights < 0).any():  # rare: a member that counts progress on a dimension as a loss
        negative = np.maximum(-weights, 0.0)
        benefit = benefit + _dot(negative, load.gain_down, world)
        cost = cost + _dot(negative, load.loss_down, world)
    own = weights[:, :, influence].T * (load.own_gain if world is None else load.own_gain[world])
    outside_benefit = np.maximum(load.relational, 0.0).sum(axis=0)  # each kind is its own contribution
    outside_cost = np.maximum(-load.relational, 0.0).sum(axis=0)
    if world is not None:
        outside_benefit, outside_cost = outside_benefit[world], outside_cost[world]
    return Valuation(
        benefit=benefit + np.maximum(own, 0.0) + outside_benefit + misjudgement,
        cost=cost + np.maximum(-own, 0.0) + outside_cost,
        outside_benefit=np.broadcast_to(outside_benefit, benefit.shape),
        outside_cost=np.broadcast_to(outside_cost, benefit.shape),
    )


def tolerance(
    arrays: Arrays, sponsor: int, objection_cost: NDArray[np.float64] | float, deference: NDArray[np.float64] | float,
    rows: NDArray[np.intp] | None = None
) -> NDArray[np.float64]:
    """Each member's cost of objecting, (1 or R, N): the base cost, plus deference to a sponsor it depends on.

    ``sponsor`` and ``rows`` index ``arrays.actors``; the constants are one number or one per replicate (R, 1).
    """
    dependence = arrays.per_replicate(arrays.relations["dependence"][:, :, sponsor])
    return objection_cost + deference * (dependence if rows is None else dependence[:, rows])
