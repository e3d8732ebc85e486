"""Bargaining models of a decision, beside the veto reading of :func:`sim.core.engine.decide`.

Where :func:`~sim.core.engine.decide` lets the sponsor lower its offer until the rule passes it (the agenda
setter of the procedural models), these predict where a bargain among the members settles, from three things
about each member ``i`` and proposal (arrays (R, N), like the engine's):

* its position ``x_i``, the ambition it likes best on the table [0, ambition] (:func:`positions`);
* its salience ``s_i``, what distance from that position costs it (:func:`salience`): with
  U_i(a) = b_i a - c_i a**2 = -c_i (a - x_i)**2 + const, the curvature c_i (more where x_i is held back by
  the table's end);
* its capability ``w_i``, its weight in the bargain (the engine's ``capability``).

Who bargains: the voters and the sponsor, which tabled the proposal whether it votes or not (:func:`bargainers`).
The rule still judges the outcome by every member's true utility and cost of objecting, as under the veto
mechanism; side payments belong to the veto mechanism, and are never made here.

* :func:`compromise` (Stokman and van den Bos 1992; Achen 2006): the weighted mean of the positions;
* :func:`nash` (Nash 1950; Schneider, Finke and Bailer 2010): the weighted Nash product's maximum;
* :func:`exchange` (Stokman and van Oosten 1994; Arregui, Stokman and Thomson 2004): positions traded across
  the proposals decided together, then each proposal's compromise (alone, a proposal's exchange is its compromise).

The outcome is an ambition the sponsor accepts: the status quo (0, nothing adopted) or one between its floor
``terms.min_ambition`` and the tabled ambition; :func:`settle` turns it into a :class:`~sim.core.engine.Decision`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .engine import (
    Decision,
    Limits,
    Procedure,
    Route,
    Terms,
    Valuation,
    kth_smallest,
    limits,
    nonnegative_up_to,
    rule_limit,
    utility,
)
from .engine import decide as veto
from .vocabulary import BARGAINING

#: Bisection steps finding the Nash product's maximum on a piece: they narrow it to 2**-32 of its length.
NASH_BISECTIONS = 32
#: Halvings of an exchange's size before it is dropped: the smallest tried is 1/32 of the largest.
HALVINGS = 5
#: An outcome this close to the tabled ambition is the tabled ambition (the weighted mean's rounding).
ROUNDING = 1e-12
#: Replicates traded at once: the arrays (replicates, candidates) of a block stay in the processor's cache, which
#: makes trading about twice as fast as in one block of 10,000 (N = 10, K = 3).
EXCHANGE_BLOCK = 250
#: A gain smaller than this is rounding, not a gain (utilities are of order 1).
NO_GAIN = 1e-12
#: A valuation's arrays, in the order of its fields.
VALUATION_ARRAYS = ("benefit", "cost", "outside_benefit", "outside_cost")

Array = NDArray[np.float64]


def decide(
    valuation: Valuation,
    tolerance: Array,
    voters: NDArray[np.bool_],
    capability: Array,
    terms: Terms,
    procedure: Procedure,
    walk_away: Array | None = None,
) -> Decision:
    """Decide one proposal by the mechanism ``procedure.bargaining``: the veto reading of
    :func:`sim.core.engine.decide`, or one of the bargaining models here. What the model and the studies call, so
    that the engine does not import the models built on it. Exchange needs other proposals to trade across
    (:func:`exchange`); a proposal decided alone is its compromise. ``walk_away`` is read by :func:`nash` alone."""
    mechanism = procedure.bargaining
    if mechanism == "veto":
        return veto(valuation, tolerance, voters, capability, terms, procedure)
    if mechanism in ("compromise", "exchange"):
        return compromise(valuation, tolerance, voters, capability, terms, procedure)
    if mechanism == "nash":
        return nash(valuation, tolerance, voters, capability, terms, procedure, walk_away)
    raise ValueError(f"unknown bargaining {mechanism!r}; expected one of {', '.join(BARGAINING)}")


# --- what the models read ------------------------------------------------------------------------


def per_replicate(value: float | Array, replicates: int) -> Array:
    """A term (one number, or one per replicate) as one per replicate (R,)."""
    return np.broadcast_to(np.asarray(value, dtype=float), (replicates,))


def positions(valuation: Valuation, ambition: float | Array) -> Array:
    """Each member's position (R, N): its best ambition on the table [0, ambition].

    That is b / 2c where the cost is positive; with no cost, the tabled ambition where it gains (b > 0) and
    the status quo where it loses or does not care.
    """
    b, c = valuation.benefit, valuation.cost
    with np.errstate(divide="ignore", invalid="ignore"):
        ideal = np.where(c > 0, b / (2 * c), np.where(b > 0, np.inf, 0.0))
    return np.clip(ideal, 0.0, per_replicate(ambition, b.shape[0])[:, None])


def salience(valuation: Valuation, ambition: float | Array) -> Array:
    """How much distance from its position costs each member (R, N): the curvature c of its utility, where its
    best ambition lies on the table.

    A member whose best ambition lies beyond the table (its utility still rising at the tabled ambition A, or
    already falling at the status quo) also pulls with that slope: it gets c + U'(A) / A, or c + |U'(0)| / A,
    the curvature of the quadratic peaked at its end of the table that loses what its utility loses across the
    table. So salience is continuous in b and c, and a member without curvature (U = b a) gets |b| / A.
    """
    b, c = valuation.benefit, valuation.cost
    ambition = per_replicate(ambition, b.shape[0])[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        beyond = (np.maximum(b - 2 * c * ambition, 0.0) + np.maximum(-b, 0.0)) / ambition
    return c + np.where(ambition > 0, beyond, 0.0)


def bargainers(voters: NDArray[np.bool_], sponsor: int) -> NDArray[np.bool_]:
    """Who bargains (R, N): the voters, and the sponsor whether it votes or not."""
    taking_part = voters.copy()
    taking_part[:, sponsor] = True
    return taking_part


def compromise_outcome(position: Array, weight: Array) -> Array:
    """The compromise (R,): the mean of positions weighted by capability times salience (0 for a member that
    does not bargain); the status quo where nobody cares."""
    largest = weight.max(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(largest > 0, weight / largest, 0.0)  # weights near the smallest float keep their ratios
        outcome = (weight * position).sum(axis=1) / weight.sum(axis=1)
    return np.where(largest[:, 0] > 0, outcome, 0.0)


# --- from an outcome to a decision --------------------------------------------------------------


@dataclass(frozen=True)
class Bounds:
    """What limits an outcome, per replicate (R,): the rule, the members taking part, the table."""

    limit: Limits  # every member's stance limits (R, N)
    by_rule: Array  # the largest ambition the rule passes
    by_participants: Array  # the largest ambition enough members take part in
    ambition: Array  # the tabled ambition
    floor: Array  # the sponsor's floor, at most the tabled ambition


def bounds(
    valuation: Valuation, tolerance: Array, voters: NDArray[np.bool_], capability: Array, terms: Terms,
    procedure: Procedure,
) -> Bounds:
    """The bounds on an outcome, read as :func:`~sim.core.engine.decide` reads them."""
    replicates = voters.shape[0]
    limit = limits(valuation, tolerance, terms.opt_in)
    takes_part = limit.support if terms.opt_in else limit.objection
    enough = np.full(replicates, terms.min_participants - 1)
    ambition = per_replicate(terms.ambition, replicates)
    return Bounds(
        limit=limit,
        by_rule=per_replicate(rule_limit(limit.objection, voters, capability, procedure), replicates),
        by_participants=-kth_smallest(-takes_part, voters, enough),
        ambition=ambition,
        floor=np.minimum(per_replicate(terms.min_ambition, replicates), ambition),
    )


def settle(
    outcome: Array, valuation: Valuation, voters: NDArray[np.bool_], terms: Terms, bound: Bounds
) -> Decision:
    """The decision where the bargain settles at ``outcome`` (R,): 0 (the status quo) or an ambition the sponsor
    accepts (between its floor and the tabled ambition).

    The final offer is the outcome, or the floor where the bargain is the status quo. The rule blocks it where
    it does not pass the rule (BLOCKED); the sponsor withdraws it where the bargain is the status quo, where it
    would gain nothing (U <= 0) or where too few members take part (WITHDRAWN); otherwise it is adopted, as
    proposed where the outcome is the tabled ambition, LOWERED below it. No side payment is made.
    """
    final = np.where(outcome > 0, outcome, bound.floor)
    blocked = final > bound.by_rule
    gains = utility(valuation.benefit[:, terms.sponsor], valuation.cost[:, terms.sponsor], outcome) > 0
    adopted = (outcome > 0) & ~blocked & gains & (outcome <= bound.by_participants)
    route = np.where(outcome >= bound.ambition, Route.AS_PROPOSED, Route.LOWERED)
    route = np.where(adopted, route, np.where(blocked, Route.BLOCKED, Route.WITHDRAWN)).astype(np.int8)
    return Decision(
        adopted=adopted,
        ambition=np.where(adopted, outcome, np.nan),
        route=route,
        stance=bound.limit.stance(final, voters),
        initial_stance=bound.limit.stance(bound.ambition.copy(), voters),
        side_payment=np.zeros(voters.shape[0]),
    )


# --- compromise -------------------------------------------------------------------------------------


def on_the_table(outcome: Array, bound: Bounds) -> Array:
    """The outcome the sponsor accepts nearest ``outcome`` (R,): it, the floor, or the status quo (on a tie).

    The compromise minimises the weighted sum of squared distances to the positions, whose nearest point in the
    outcomes the sponsor accepts, {0} and [floor, ambition], is the one nearest the unconstrained compromise.
    """
    outcome = np.where(bound.ambition - outcome <= ROUNDING, bound.ambition, np.minimum(outcome, bound.ambition))
    return np.where(outcome >= bound.floor, outcome, np.where(bound.floor - outcome < outcome, bound.floor, 0.0))


def compromise(
    valuation: Valuation,
    tolerance: Array,
    voters: NDArray[np.bool_],
    capability: Array,
    terms: Terms,
    procedure: Procedure,
    held: Array | None = None,
) -> Decision:
    """The compromise model (Stokman and van den Bos 1992; Achen 2006): the bargain settles at the mean of the
    bargainers' positions weighted by capability times salience, which is the outcome that minimises their
    capability-weighted quadratic losses.

    It assumes that every bargainer pulls the outcome toward its position in proportion to its capability and
    salience, whatever the rule; the rule then only judges the outcome (members whose true utility at it falls
    below their cost of objecting object, and the rule counts them). The sponsor does not accept an outcome
    below its floor: the compromise is taken to the nearest outcome it accepts (:func:`on_the_table`), which for
    a proposal that cannot be bargained down (floor = ambition) is the proposal where the compromise lies in the
    upper half of the table and the status quo otherwise.

    ``held`` are positions other than the members' own (R, N), those the members hold after an
    :func:`exchange`; the saliences and the utilities the rule judges by stay the members' own.
    """
    tolerance = np.broadcast_to(tolerance, voters.shape)
    bound = bounds(valuation, tolerance, voters, capability, terms, procedure)
    position = positions(valuation, terms.ambition) if held is None else held
    weight = capability * salience(valuation, terms.ambition) * bargainers(voters, terms.sponsor)
    outcome = on_the_table(compromise_outcome(position, weight), bound)
    return settle(outcome, valuation, voters, terms, bound)


# --- Nash ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bargain:
    """The Nash product's ingredients, (R, N) each: each bargainer's exponent (its capability; 0 for a member that
    does not bargain) and its fallback, the utility it is left with where the bargain fails."""

    valuation: Valuation
    weight: Array
    fallback: Array
    objection: Array  # each bargainer's limit: beyond it a voter objects (outvoted or blocking) or an actor walks away
    opt_in: bool
    sponsor: int

    def coefficients(self, ambition: Array) -> tuple[Array, Array]:
        """Each member's benefit and cost (R, N) at the ambitions (R,): for an opt-in proposal, other members'
        better of taking part and staying out (as in their stances); the sponsor takes part."""
        v = self.valuation
        if not self.opt_in:
            return v.benefit, v.cost
        a = ambition[:, None]
        outside = utility(v.outside_benefit, v.outside_cost, a) > utility(v.benefit, v.cost, a)
        outside[:, self.sponsor] = False
        return np.where(outside, v.outside_benefit, v.benefit), np.where(outside, v.outside_cost, v.cost)

    def counted(self, ambition: Array) -> NDArray[np.bool_]:
        """The bargainers whose gain counts at the ambitions (R,): those that do not object there."""
        return (self.weight > 0) & (ambition[:, None] <= self.objection)

    def log_product(self, ambition: Array) -> Array:
        """sum_i w_i log(U_i(a) - fallback_i) over the members counted at the ambitions a (R,)."""
        b, c = self.coefficients(ambition)
        gain = np.maximum(utility(b, c, ambition[:, None]) - self.fallback, 0.0)  # below 0 only by rounding
        with np.errstate(divide="ignore", invalid="ignore"):  # log 0 = -inf: a member at its fallback
            terms = self.weight * np.log(gain)
        return np.where(self.counted(ambition), terms, 0.0).sum(axis=1)

    def slope_on(self, piece: Array) -> Callable[[Array], Array]:
        """The log product's derivative on the piece holding the ambitions ``piece`` (R,): with the members
        counted there, each with the utility it has there."""
        counted = self.counted(piece)
        b, c = (np.where(counted, coefficient, 0.0) for coefficient in self.coefficients(piece))
        weight, fallback = np.where(counted, self.weight, 0.0), np.where(counted, self.fallback, -1.0)  # terms 0

        def slope(ambition: Array) -> Array:
            a = ambition[:, None]
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # at a member's fallback: +-inf
                terms: Array = (weight * (b - 2 * c * a) / (utility(b, c, a) - fallback)).sum(axis=1)
            return terms

        return slope

    def breaks(self) -> Array:
        """The ambitions (R, M) where the log product stops being smooth: where a bargainer's objection limit
        is passed (it is outvoted) and, opt-in, where it switches between taking part and staying out."""
        objection = np.where(self.weight > 0, self.objection, np.inf)
        if not self.opt_in:
            return objection
        v = self.valuation
        with np.errstate(divide="ignore", invalid="ignore"):
            switch = (v.benefit - v.outside_benefit) / (v.cost - v.outside_cost)
        return np.concatenate([objection, np.where(np.isfinite(switch) & (self.weight > 0), switch, np.inf)], axis=1)


def pieces(low: Array, high: Array, breaks: Array) -> Array:
    """Edges (R, P + 1) of the pieces [low, high] is cut into at the ``breaks`` (R, M) inside it; a replicate with
    fewer pieces than another repeats ``high``."""
    inside = (breaks > low[:, None]) & (breaks < high[:, None])
    cuts = np.sort(np.where(inside, breaks, high[:, None]), axis=1)[:, : int(inside.sum(axis=1).max(initial=0))]
    return np.concatenate([low[:, None], cuts, high[:, None]], axis=1)


def concave_maximum(slope: Callable[[Array], Array], low: Array, high: Array) -> Array:
    """Per replicate, the maximiser on [low, high] (R,) of a concave function, by bisection on its ``slope``."""
    for _ in range(NASH_BISECTIONS):
        middle = (low + high) / 2
        rising = slope(middle) > 0
        low, high = np.where(rising, middle, low), np.where(rising, high, middle)
    best: Array = (low + high) / 2
    return best


def nash(
    valuation: Valuation,
    tolerance: Array,
    voters: NDArray[np.bool_],
    capability: Array,
    terms: Terms,
    procedure: Procedure,
    walk_away: Array | None = None,
) -> Decision:
    """The asymmetric Nash bargaining solution (Nash 1950; Schneider, Finke and Bailer 2010; Achen 2006).

    The bargain settles at the ambition a that maximises the capability-weighted product of the bargainers'
    gains over their fallbacks, prod_i (U_i(a) - fallback_i)^{w_i}. A member's fallback is to object, which
    leaves it the status quo less its cost of objecting (-t_i); the sponsor's is to withdraw, which costs it
    nothing (0), so the bargain leaves it a gain. The ambitions on offer are those between the sponsor's floor
    and the tabled ambition that the rule passes, that enough members take part in and that leave the sponsor
    a gain. The status quo (nothing adopted) stands where it scores at least as high: the sponsor gaining
    nothing there, where nothing is on offer (unless the sponsor's capability is 0). The route is then BLOCKED
    where not even the floor passes the rule, else WITHDRAWN.

    Under consensus every voter can insist on the status quo, so every one weakly prefers the outcome to its
    fallback: Nash's solution with U_i >= -t_i for all. Under the other rules an outvoted member (one that
    objects at a) has no say: the product runs over the members that do not object at a, so it jumps where a
    member's objection limit is passed (and, unlike Nash's, depends on the utilities' scale).

    ``walk_away`` (R, N) is what leaving the bargain costs each bargainer where that differs from its cost of
    objecting under the rule (default: the same, ``tolerance``): an actor that bargains but whose objection the
    rule does not count (on DEU III, the Commission and the Parliament, given an unbounded cost of objecting so
    that the Council's rule never counts them) keeps a finite fallback, so that it pulls on the bargain as a
    member does, and drops out of the product (it walks away, but cannot block) where the outcome leaves it
    below that fallback. Without it such an actor's fallback would lie so far below every outcome that its gain
    was the same everywhere: it had no say.

    Found exactly: between the points where the set of members counted changes (and, opt-in, where a member
    switches between taking part and staying out) the log product is concave, so bisection on its derivative
    finds each piece's maximum, and the best piece wins. Under consensus (not opt-in) there is one piece.
    """
    tolerance = np.broadcast_to(tolerance, voters.shape)
    bound = bounds(valuation, tolerance, voters, capability, terms, procedure)
    counted = bargainers(voters, terms.sponsor)
    walk = tolerance if walk_away is None else np.broadcast_to(walk_away, voters.shape)
    leaves = bound.limit.objection if walk_away is None else limits(valuation, walk, terms.opt_in).objection
    fallback = -walk.copy()
    fallback[:, terms.sponsor] = 0.0
    weight = np.where(counted, np.broadcast_to(capability, voters.shape), 0.0)
    product = Bargain(valuation, weight, fallback, leaves, terms.opt_in, terms.sponsor)
    sponsor_gains = nonnegative_up_to(valuation.benefit[:, terms.sponsor], valuation.cost[:, terms.sponsor])
    highest = np.clip(np.minimum.reduce([bound.ambition, bound.by_rule, bound.by_participants, sponsor_gains]), 0, None)
    edges, on_offer = pieces(bound.floor, highest, product.breaks()), bound.floor <= highest
    outcome, score = np.zeros(voters.shape[0]), product.log_product(np.zeros(voters.shape[0]))  # the status quo
    for low, high in zip(edges[:, :-1].T, edges[:, 1:].T, strict=True):
        # a piece's maximum is inside it or at an end (the floor, the tabled ambition: not a break, where the
        # member counted reaches its fallback and the product 0)
        for best in (low, concave_maximum(product.slope_on((low + high) / 2), low, high), high):
            best_score = np.where(on_offer & (best > 0), product.log_product(best), -np.inf)
            outcome, score = np.where(best_score > score, best, outcome), np.maximum(best_score, score)
    return settle(outcome, valuation, voters, terms, bound)


# --- exchange -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidates:
    """Every pair of members ``i < j`` and pair of proposals ``p < q`` that could trade, one entry each (C,)."""

    i: NDArray[np.intp]
    j: NDArray[np.intp]
    p: NDArray[np.intp]
    q: NDArray[np.intp]

    @staticmethod
    def of(members: int, proposals: int) -> Candidates:
        i, j, p, q = np.meshgrid(*(np.arange(members),) * 2, *(np.arange(proposals),) * 2, indexing="ij")
        keep = (i < j) & (p < q)
        return Candidates(i[keep], j[keep], p[keep], q[keep])


@dataclass(frozen=True)
class Exchange:
    """In each replicate (R,), the exchange a round executes: member ``i`` moves its position on proposal ``p`` by
    ``move_i`` toward ``j``'s, ``j`` on ``q`` by ``move_j`` toward ``i``'s, and each gains ``gain_``; ``chosen``
    is the pair's index among the candidates, -1 where no exchange is profitable (moves and gains 0)."""

    chosen: NDArray[np.intp]
    i: NDArray[np.intp]
    j: NDArray[np.intp]
    p: NDArray[np.intp]
    q: NDArray[np.intp]
    move_i: Array
    move_j: Array
    gain_i: Array
    gain_j: Array

    def rows(self, rows: NDArray[np.bool_]) -> Exchange:
        """The exchanges of the replicates ``rows``."""
        return Exchange(*(getattr(self, name)[rows] for name in EXCHANGE_FIELDS))


EXCHANGE_FIELDS = ("chosen", "i", "j", "p", "q", "move_i", "move_j", "gain_i", "gain_j")


@dataclass(frozen=True)
class Market:
    """What stays fixed while members trade across K proposals, in R replicates; (R, C) arrays are per candidate.

    Of members i and j, i gives way on the proposal g where j's salience is relatively the larger, j on the other,
    h: g is p, or q where ``flip``, so that both can gain. They plan with linear losses s |O - x|: a move of i's
    position on g by d shifts the compromise O_g by share_i d (share_i = w_i s_ig / sum_m w_m s_mg), and the
    shifts keep their gains equal, dO_h (s_ih + s_jh) = dO_g (s_ig + s_jg).
    """

    found: Candidates
    benefit: Array  # (R, N, K)
    cost: Array  # (R, N, K)
    weight: Array  # (R, N, K) capability times salience; 0 for a member that does not bargain
    flip: NDArray[np.bool_]
    index: NDArray[np.intp]  # (4, R, C) where i on g, i on h, j on g and j on h lie in a flattened (R, N, K) array
    share_i: Array
    share_j: Array
    rate: Array  # dO_h / dO_g
    possible: NDArray[np.bool_]  # both bargain, and both can gain

    @staticmethod
    def of(valuation: Valuation, weight: Array, saliences: Array) -> Market:
        """The market of members with ``valuation``'s arrays, ``weight`` and ``saliences`` (R, N, K)."""
        replicates, members, proposals = weight.shape
        found = Candidates.of(members, proposals)
        i, j, p, q = (found.i * proposals, found.j * proposals, found.p, found.q)
        s_ip, s_iq, s_jp, s_jq = (np.take(saliences.reshape(replicates, -1), cell, axis=1)
                                  for cell in (i + p, i + q, j + p, j + q))
        flip = s_jq * s_ip > s_jp * s_iq
        g, h = np.where(flip, q, p), np.where(flip, p, q)
        index = np.stack([i + g, i + h, j + g, j + h]) + (np.arange(replicates) * members * proposals)[:, None]
        s_ig, s_ih, s_jg, s_jh = np.take(saliences, index)
        total = weight.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            share = np.where(total > 0, weight / total, 0.0)
            rate = (s_ig + s_jg) / (s_ih + s_jh)
        share_i, share_j = np.take(share, index[0]), np.take(share, index[3])
        possible = (s_jg * s_ih > s_jh * s_ig) & (share_i > 0) & (share_j > 0)
        return Market(found, valuation.benefit, valuation.cost, weight, flip, index, share_i, share_j,
                      np.where(possible, rate, 1.0), possible)

    def rows(self, rows: NDArray[np.intp]) -> Market:
        """The market in the replicates ``rows``."""
        cells = self.weight[0].size
        index = self.index[:, rows] + ((np.arange(rows.size) - rows) * cells)[:, None]
        return Market(self.found, self.benefit[rows], self.cost[rows], self.weight[rows], self.flip[rows], index,
                      self.share_i[rows], self.share_j[rows], self.rate[rows], self.possible[rows])

    def best_exchange(self, held: Array, used: NDArray[np.bool_]) -> Exchange:
        """The exchange with the largest joint gain in each replicate, among those not ``used`` (R, C), where
        the members hold the positions ``held`` (R, N, K).

        Each exchange goes as far as neither moves past the other's position; the members' true (quadratic)
        gains at the outcomes decide: the size is halved until both gain (more than NO_GAIN), at most HALVINGS
        times, else the exchange is dropped.
        """
        x_ig, x_ih, x_jg, x_jh = np.take(held, self.index)
        toward_g, toward_h = x_jg - x_ig, x_ih - x_jh  # i moves on g toward j, j on h toward i
        shift_g = np.minimum(self.share_i * np.abs(toward_g), self.share_j * np.abs(toward_h) / self.rate)
        shift_g *= self.possible & ~used
        shift_g, shift_h = shift_g * np.sign(toward_g), self.rate * shift_g * np.sign(toward_h)
        # a member's gain when the outcomes shift by f (shift_g, shift_h) is f A - f**2 B
        marginal = self.benefit - 2 * self.cost * compromise_outcome(held, self.weight)[:, None, :]
        m_ig, m_ih, m_jg, m_jh = np.take(marginal, self.index)
        c_ig, c_ih, c_jg, c_jh = np.take(self.cost, self.index)
        slope_i, bend_i = m_ig * shift_g + m_ih * shift_h, c_ig * shift_g**2 + c_ih * shift_h**2
        slope_j, bend_j = m_jg * shift_g + m_jh * shift_h, c_jg * shift_g**2 + c_jh * shift_h**2
        size = largest_size(np.minimum(_limit(slope_i, bend_i), _limit(slope_j, bend_j)))
        gain_i, gain_j = size * slope_i - size**2 * bend_i, size * slope_j - size**2 * bend_j
        joint = np.where((gain_i > NO_GAIN) & (gain_j > NO_GAIN), gain_i + gain_j, -np.inf)
        best = joint.argmax(axis=1)
        rows = np.arange(best.size)
        traded = np.isfinite(joint[rows, best])
        with np.errstate(divide="ignore", invalid="ignore"):  # a move is the outcome's shift over the mover's share
            move_i = np.where(traded, size[rows, best] * shift_g[rows, best] / self.share_i[rows, best], 0.0)
            move_j = np.where(traded, size[rows, best] * shift_h[rows, best] / self.share_j[rows, best], 0.0)
        found, flipped = self.found, self.flip[rows, best]
        p, q = np.where(flipped, found.q[best], found.p[best]), np.where(flipped, found.p[best], found.q[best])
        return Exchange(np.where(traded, best, -1), found.i[best], found.j[best], p, q, move_i, move_j,
                        np.where(traded, gain_i[rows, best], 0.0), np.where(traded, gain_j[rows, best], 0.0))


def _limit(slope: Array, bend: Array) -> Array:
    """The share f of a shift below which a gain f slope - f**2 bend is positive (0 where none is)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        limit: Array = np.where(bend > 0, slope / bend, np.where(slope > 0, np.inf, 0.0))
    return limit


def largest_size(limit: Array) -> Array:
    """The largest of 1, 1/2, ..., 2**-HALVINGS below ``limit``: halving from 1 until the gains are positive."""
    size = np.zeros_like(limit)
    for halved in 2.0 ** -np.arange(HALVINGS, -1, -1):  # the smallest first: larger sizes overwrite it
        size = np.where(limit > halved, halved, size)
    return size


def exchange(
    valuations: Sequence[Valuation], voters: NDArray[np.bool_], capability: Array, ambitions: Sequence[float | Array],
    rounds: int | None = None,
) -> list[Array]:
    """The positions (R, N) the members hold on each proposal after trading across proposals decided together
    (the proposals on one summit's agenda; on DEU, the issues of one legislative proposal): a simplified
    exchange model of Stokman and van Oosten (1994), as in Arregui, Stokman and Thomson (2004).

    It assumes that the voters expect each proposal's outcome to be the compromise of the positions they hold
    (:func:`compromise_outcome`, before the sponsor's floor and the rule), and that two of them trade where each
    cares relatively more about the proposal on which the other gives way (:class:`Market`). Round after round
    each replicate executes the exchange with the largest joint gain (:meth:`Market.best_exchange`), until none
    is profitable or ``rounds`` (N * K unless told) have passed; the same pair of members trades across the same
    pair of proposals at most once. Positions move only toward another's, so they stay on the table. With one
    proposal there is nothing to trade: the positions are the members' own. Each proposal is then decided by
    :func:`compromise` with ``held`` its traded positions.
    """
    held = np.stack([positions(v, a) for v, a in zip(valuations, ambitions, strict=True)], axis=-1)  # (R, N, K)
    members, proposals = held.shape[1:]
    if proposals > 1:
        saliences = np.stack([salience(v, a) for v, a in zip(valuations, ambitions, strict=True)], axis=-1)
        weight = np.broadcast_to(capability, voters.shape)[..., None] * saliences * voters[..., None]
        rounds = members * proposals if rounds is None else rounds
        valuation = stacked(valuations)
        for block in range(0, held.shape[0], EXCHANGE_BLOCK):  # in blocks that stay in the processor's cache
            rows = slice(block, block + EXCHANGE_BLOCK)
            _trade(held[rows], Market.of(rows_of(valuation, rows), weight[rows], saliences[rows]), rounds)
    return [held[..., p] for p in range(proposals)]


def stacked(valuations: Sequence[Valuation]) -> Valuation:
    """The valuations of K proposals as one whose arrays are (R, N, K)."""
    return Valuation(*(np.stack([getattr(v, name) for v in valuations], axis=-1) for name in VALUATION_ARRAYS))


def rows_of(valuation: Valuation, rows: slice) -> Valuation:
    """The valuation in the replicates ``rows``."""
    return Valuation(*(getattr(valuation, name)[rows] for name in VALUATION_ARRAYS))


def _trade(held: Array, market: Market, rounds: int) -> None:
    """Execute the best exchange of each replicate round after round, moving ``held`` (R, N, K) in place; a
    replicate stops at its first round without one (nothing has changed for it since)."""
    used = np.zeros(market.possible.shape, dtype=bool)
    trading = np.arange(held.shape[0])  # the replicates ``market`` holds
    for _ in range(rounds):
        trade = market.best_exchange(held[trading], used[trading])
        traded = trade.chosen >= 0
        if not traded.all():
            market, trading, trade = market.rows(np.flatnonzero(traded)), trading[traded], trade.rows(traded)
        if trading.size == 0:
            return
        used[trading, trade.chosen] = True
        held[trading, trade.i, trade.p] += trade.move_i
        held[trading, trade.j, trade.q] += trade.move_j
