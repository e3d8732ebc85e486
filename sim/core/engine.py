"""The decision engine: a pure function of arrays, independent of Mesa.

Every array carries a leading replicate axis ``R`` and a member axis ``N``, so one call decides a
proposal in every replicate at once. A member's utility for a proposal adopted at ambition ``a``
(0 = the status quo, 1 = the full proposal) is

    U(a) = benefit * a - cost * a**2

Benefits grow linearly with ambition; costs (delegated authority, rivals' relative gains) grow
faster than linearly, so a deep version of a proposal can be objectionable while a shallow one is
not. That is what lets a sponsor bargain ambition down (see ``docs/ODD.md``, "Submodels").

A member's stance follows from its utility and its cost of objecting ``tolerance``:
support (U >= 0), reservation (-tolerance <= U < 0; states its view without blocking), objection
(U < -tolerance). For an opt-in proposal a member that would rather not take part stands aside
instead, and objects only if even standing aside leaves it worse off than its tolerance.
The decision rule only counts objections; the stances are the same under every rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from .vocabulary import RULES, Bargaining, Rule


class Stance(IntEnum):
    """A member's position on a proposal at a given ambition."""

    ABSENT = -1  # not a voting member (observer, partner, or not yet joined)
    SUPPORT = 0
    RESERVATION = 1
    OBJECTION = 2
    STAND_ASIDE = 3  # opt-in proposals only: does not take part, does not block


class Route(IntEnum):
    """How a proposal was settled."""

    AS_PROPOSED = 0  # adopted at the proposed ambition
    LOWERED = 1  # adopted after the sponsor lowered the ambition
    SIDE_PAYMENT = 2  # adopted after the sponsor compensated the objectors
    PACKAGE = 3  # adopted as part of a package of linked proposals
    BLOCKED = 4  # no offer down to the floor passed the rule
    WITHDRAWN = 5  # an offer passed, but the sponsor gained nothing or too few took part


@dataclass(frozen=True)
class Valuation:
    """Utility coefficients of every member for one proposal, shape ``(R, N)`` each.

    ``outside_*`` are the coefficients of a member that stays out of an opt-in proposal
    (only the relational part: others' gains still touch it). Costs are never negative, and taking
    part costs at least what staying out does (``cost >= outside_cost``): an outsider feels a subset
    of what a participant feels. :func:`decide` relies on both.
    """

    benefit: NDArray[np.float64]
    cost: NDArray[np.float64]
    outside_benefit: NDArray[np.float64]
    outside_cost: NDArray[np.float64]

    def __add__(self, other: Valuation) -> Valuation:
        return Valuation(
            self.benefit + other.benefit,
            self.cost + other.cost,
            self.outside_benefit + other.outside_benefit,
            self.outside_cost + other.outside_cost,
        )

    def scaled(self, ambition: float | NDArray[np.float64]) -> Valuation:
        """The valuation of this proposal as one part of a package scaled by ``s`` in [0, 1].

        The part is offered at ``ambition * s``, so U(s) = (benefit*ambition) s - (cost*ambition**2) s**2.
        ``ambition`` is one number, or one per replicate (R,).
        """
        if isinstance(ambition, np.ndarray):
            ambition = ambition[:, None]
        return Valuation(
            self.benefit * ambition,
            self.cost * ambition**2,
            self.outside_benefit * ambition,
            self.outside_cost * ambition**2,
        )


@dataclass(frozen=True)
class Terms:
    """What the sponsor puts on the table and how far it will bargain.

    ``ambition``, ``min_ambition`` and ``side_payment`` are one number for every replicate, or one per replicate
    (R,) where each replicate's world reads them differently.
    """

    sponsor: int
    ambition: float | NDArray[np.float64] = 1.0
    min_ambition: float | NDArray[np.float64] = 1.0
    opt_in: bool = False
    side_payment: float | NDArray[np.float64] = 0.0  # budget, in utility units, to compensate objectors
    min_participants: int = 2


@dataclass(frozen=True)
class Procedure:
    """The decision rule and the bargaining resolution."""

    rule: Rule = "consensus"
    threshold: float | None = None  # share needed under the majority rules; None = the rule's own
    ambition_steps: int = 21  # offers tried between the proposed ambition and the floor
    bargaining: Bargaining = "veto"  # how the ambition is settled: the sponsor's offers, or sim.core.bargaining


@dataclass(frozen=True)
class Decision:
    """The outcome in every replicate, shape ``(R,)`` unless noted."""

    adopted: NDArray[np.bool_]
    ambition: NDArray[np.float64]  # adopted ambition; NaN where not adopted
    route: NDArray[np.int8]
    stance: NDArray[np.int8]  # (R, N) at the final offer (the adopted one, or the floor)
    initial_stance: NDArray[np.int8]  # (R, N) at the proposed ambition
    side_payment: NDArray[np.float64]  # paid by the sponsor; 0 where none


def utility(
    benefit: NDArray[np.float64], cost: NDArray[np.float64], ambition: NDArray[np.float64] | float
) -> NDArray[np.float64]:
    """U(a) = benefit*a - cost*a**2."""
    return benefit * ambition - cost * ambition**2


def offers(terms: Terms, steps: int) -> NDArray[np.float64]:
    """The ambitions the sponsor tries, from the proposed one down to the floor: shape (1, offers) where the
    terms are one number for every replicate, (R, steps) where they are one per replicate."""
    ambition, floor = np.asarray(terms.ambition, dtype=float), np.asarray(terms.min_ambition, dtype=float)
    if ambition.ndim == 0 and floor.ndim == 0:
        if floor >= ambition:
            return np.array([[float(ambition)]])
        return np.linspace(float(ambition), float(floor), steps)[None, :]
    ambition, floor = np.broadcast_arrays(ambition, floor)
    return np.linspace(ambition, np.minimum(floor, ambition), steps, axis=-1)


def nonnegative_up_to(benefit: NDArray[np.float64], cost: NDArray[np.float64]) -> NDArray[np.float64]:
    """The largest ambition a >= 0 with benefit*a - cost*a**2 >= 0 (inf if every a qualifies).

    U is concave with U(0) = 0, so the ambitions at which U >= 0 form an interval [0, limit].
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # a vanishing cost: no limit (inf)
        root = np.where(cost > 0, np.maximum(benefit, 0.0) / cost, np.inf)
    return np.where((cost <= 0) & (benefit < 0), 0.0, root)


def tolerable_up_to(
    benefit: NDArray[np.float64], cost: NDArray[np.float64], tolerance: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The largest ambition a >= 0 with benefit*a - cost*a**2 >= -tolerance (inf if every a qualifies)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # a vanishing cost: no limit (inf)
        root = (benefit + np.sqrt(benefit**2 + 4 * cost * tolerance)) / (2 * cost)
        linear = np.where(benefit < 0, tolerance / -benefit, np.inf)
    return np.where(cost > 0, root, linear)


@dataclass(frozen=True)
class Limits:
    """Each member's stance as two ambition limits, shape (R, N) each.

    Up to ``support`` it supports (for an opt-in proposal: takes part); above ``objection`` it objects;
    in between it makes a reservation (opt-in: stands aside). ``support <= objection`` always.
    """

    support: NDArray[np.float64]
    objection: NDArray[np.float64]
    opt_in: bool

    def stance(self, ambition: NDArray[np.float64], voters: NDArray[np.bool_]) -> NDArray[np.int8]:
        """Stances (R, N) at the offer ``ambition`` (R,)."""
        a = ambition[:, None]
        middle = Stance.STAND_ASIDE if self.opt_in else Stance.RESERVATION
        stance = np.where(a <= self.support, Stance.SUPPORT, np.where(a > self.objection, Stance.OBJECTION, middle))
        return np.where(voters, stance, Stance.ABSENT).astype(np.int8)


def limits(valuation: Valuation, tolerance: NDArray[np.float64], opt_in: bool) -> Limits:
    """Every member's limits for a proposal.

    For an opt-in proposal a member takes part while that is worth something and beats staying out,
    and objects only when both taking part and staying out are worse than its tolerance.
    """
    inside = nonnegative_up_to(valuation.benefit, valuation.cost)
    objection = tolerable_up_to(valuation.benefit, valuation.cost, tolerance)
    if not opt_in:
        return Limits(inside, objection, opt_in)
    # taking part beats staying out where (b_in - b_out) a - (c_in - c_out) a**2 >= 0
    beats_outside = nonnegative_up_to(
        valuation.benefit - valuation.outside_benefit, valuation.cost - valuation.outside_cost
    )
    outside = tolerable_up_to(valuation.outside_benefit, valuation.outside_cost, tolerance)
    return Limits(np.minimum(inside, beats_outside), np.maximum(objection, outside), opt_in)


def kth_smallest(values: NDArray[np.float64], voters: NDArray[np.bool_], k: NDArray[np.intp]) -> NDArray[np.float64]:
    """Per replicate, the k-th smallest (0-based) of ``values`` among voters; inf where there are not enough."""
    ordered = np.sort(np.where(voters, values, np.inf), axis=1)
    index = np.clip(k, 0, ordered.shape[1] - 1)
    picked = np.take_along_axis(ordered, index[:, None], axis=1)[:, 0]
    return np.where((k >= 0) & (k < voters.sum(axis=1)), picked, np.where(k < 0, -np.inf, np.inf))


def rule_limit(
    objection: NDArray[np.float64],
    voters: NDArray[np.bool_],
    capability: NDArray[np.float64],
    procedure: Procedure,
) -> NDArray[np.float64]:
    """Per replicate, the largest ambition that passes the rule, given members' objection limits.

    Objectors at ambition a are the voters whose objection limit is below a, so every rule passes
    exactly up to some ambition: under consensus, the most reluctant voter's limit; when k objections
    are allowed, the (k+1)-th smallest limit; under capability-weighted majority, the limit of the voter
    at which the objectors' cumulative capability would reach the blocking share.
    """
    n = voters.sum(axis=1)
    rule = procedure.rule
    if rule == "capability_majority":
        share = 0.5 if procedure.threshold is None else procedure.threshold
        order = np.argsort(np.where(voters, objection, np.inf), axis=1, kind="stable")
        limit = np.take_along_axis(objection, order, axis=1)
        weight = np.take_along_axis(np.where(voters, np.broadcast_to(capability, voters.shape), 0.0), order, axis=1)
        blocking = (1 - share) * weight.sum(axis=1, keepdims=True)
        reaches = np.cumsum(weight, axis=1) >= blocking - 1e-12
        first = np.where(reaches.any(axis=1), reaches.argmax(axis=1), limit.shape[1] - 1)
        return np.where(reaches.any(axis=1), np.take_along_axis(limit, first[:, None], axis=1)[:, 0], np.inf)
    if rule == "consensus":
        allowed = np.zeros_like(n)
    elif rule == "consensus_minus_one":
        allowed = np.ones_like(n)
    elif rule == "two_thirds":
        share = 2 / 3 if procedure.threshold is None else procedure.threshold
        allowed = np.floor(n * (1 - share) + 1e-9).astype(np.intp)  # yes >= share * n
    elif rule == "majority":
        share = 0.5 if procedure.threshold is None else procedure.threshold
        allowed = (np.ceil(n * (1 - share) - 1e-9) - 1).astype(np.intp)  # yes > share * n
    else:
        raise ValueError(f"unknown decision rule {rule!r}; expected one of {', '.join(RULES)}")
    return kth_smallest(objection, voters, allowed)


def decide(
    valuation: Valuation,
    tolerance: NDArray[np.float64],
    voters: NDArray[np.bool_],
    capability: NDArray[np.float64],
    terms: Terms,
    procedure: Procedure = Procedure(),
) -> Decision:
    """Decide one proposal in every replicate.

    The sponsor offers the proposed ambition; if that does not pass, it offers less, in
    ``procedure.ambition_steps`` steps down to the floor, and takes the most ambitious offer that
    passes, that enough members take part in, and that still leaves the sponsor better off than the
    status quo. If there is none, it may compensate the objectors out of its side-payment budget at
    the most ambitious offer it can afford. Otherwise the proposal is blocked (no offer passed the
    rule) or withdrawn (one passed, but was worth nothing to the sponsor or too few took part).

    That is the veto mechanism (``procedure.bargaining``), the agenda setter of the procedural models (Romer and
    Rosenthal 1978; Tsebelis 2002); :func:`sim.core.bargaining.decide` decides under every mechanism.
    """
    if (valuation.outside_cost < 0).any() or (valuation.cost < valuation.outside_cost).any():
        raise ValueError("a valuation needs 0 <= outside_cost <= cost (see Valuation)")
    if procedure.bargaining != "veto":
        raise ValueError(f"engine.decide is the veto mechanism; decide {procedure.bargaining!r} with "
                         "sim.core.bargaining.decide, which decides under every mechanism")
    grid = offers(terms, procedure.ambition_steps)  # (1 or R, offers)
    n_offers = grid.shape[1]
    tolerance = np.broadcast_to(tolerance, voters.shape)
    limit = limits(valuation, tolerance, terms.opt_in)
    takes_part = limit.support if terms.opt_in else limit.objection
    # (R,) bounds on the ambition: the rule, enough participants, a sponsor who still gains
    by_rule = np.broadcast_to(rule_limit(limit.objection, voters, capability, procedure), voters.shape[:1])
    by_participants = -kth_smallest(-takes_part, voters, np.full(voters.shape[0], terms.min_participants - 1))
    sponsor_b, sponsor_c = valuation.benefit[:, terms.sponsor], valuation.cost[:, terms.sponsor]

    sponsor_gains = utility(sponsor_b[:, None], sponsor_c[:, None], grid) > 0
    free = (grid <= np.minimum(by_rule, by_participants)[:, None]) & sponsor_gains
    first_free = _first_true(free)
    first_paid = np.full_like(first_free, n_offers)
    payment = np.zeros((voters.shape[0], n_offers))
    unsettled = first_free == n_offers
    if np.any(np.asarray(terms.side_payment) > 0) and unsettled.any():
        first_paid[unsettled], payment[unsettled] = _side_payments(
            valuation, tolerance, voters, terms, grid, limit, by_participants, unsettled
        )

    adopted = (first_free < n_offers) | (first_paid < n_offers)
    chosen = np.where(first_free < n_offers, first_free, np.where(first_paid < n_offers, first_paid, n_offers - 1))
    route = np.full(chosen.shape, Route.BLOCKED, dtype=np.int8)
    route[grid[:, -1] <= by_rule] = Route.WITHDRAWN
    route[first_paid < n_offers] = Route.SIDE_PAYMENT
    route[first_free < n_offers] = Route.LOWERED
    route[first_free == 0] = Route.AS_PROPOSED

    rows = np.arange(chosen.size)
    offered = np.broadcast_to(grid, (chosen.size, n_offers))
    final = limit.stance(offered[rows, chosen], voters)
    by_payment = route == Route.SIDE_PAYMENT
    compensated = Stance.STAND_ASIDE if terms.opt_in else Stance.RESERVATION
    final = np.where(by_payment[:, None] & (final == Stance.OBJECTION), compensated, final).astype(np.int8)
    return Decision(
        adopted=adopted,
        ambition=np.where(adopted, offered[rows, chosen], np.nan),
        route=route,
        stance=final,
        initial_stance=limit.stance(np.ascontiguousarray(offered[:, 0]), voters),
        side_payment=np.where(by_payment, payment[rows, chosen], 0.0),
    )


def _side_payments(
    valuation: Valuation,
    tolerance: NDArray[np.float64],
    voters: NDArray[np.bool_],
    terms: Terms,
    grid: NDArray[np.float64],
    limit: Limits,
    by_participants: NDArray[np.float64],
    rows: NDArray[np.bool_],
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """For the replicates ``rows``, the first offer the sponsor can buy through, and the payment at each offer.

    A payment lifts every objector to its tolerance, so each then makes a reservation (opt-in: stands
    aside); it costs the sum of the objectors' shortfalls and must leave the sponsor a gain.
    """
    grid = np.broadcast_to(grid, (rows.size, grid.shape[1]))[rows]  # (r, offers)
    budget = np.broadcast_to(np.asarray(terms.side_payment, dtype=float), rows.shape)[rows][:, None]
    b, c = valuation.benefit[rows][..., None], valuation.cost[rows][..., None]
    best = utility(b, c, grid[:, None, :])
    if terms.opt_in:
        outside_b, outside_c = valuation.outside_benefit[rows][..., None], valuation.outside_cost[rows][..., None]
        best = np.maximum(best, utility(outside_b, outside_c, grid[:, None, :]))
    tol = tolerance[rows][..., None]
    objecting = voters[rows][..., None] & (grid[:, None, :] > limit.objection[rows][..., None])
    payment = np.where(objecting, -tol - best, 0.0).sum(axis=1)
    gain = utility(b[:, terms.sponsor], c[:, terms.sponsor], grid)
    # after payment, objectors make reservations and take part (opt-in: they stand aside)
    if terms.opt_in:
        enough = grid <= by_participants[rows][:, None]
    else:
        enough = (voters[rows].sum(axis=1) >= terms.min_participants)[:, None]
    feasible = (payment <= budget) & (gain - payment > 0) & enough
    return _first_true(feasible), payment


def _first_true(mask: NDArray[np.bool_]) -> NDArray[np.intp]:
    """Index of the first True along the last axis; the axis length where there is none."""
    return np.where(mask.any(axis=-1), mask.argmax(axis=-1), mask.shape[-1])
