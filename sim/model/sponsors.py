"""Sponsors who learn: what a proposal's sponsor believes will pass, and whether it tables the proposal again.

Within a summit the sponsor bargains its offer down to its floor (:func:`sim.core.engine.decide`). Between
summits it remembers. Its *belief* is the highest ambition it expects the members to accept; it starts at the
proposal's ambition (a sponsor tables its proposal in full the first time). When the proposal is blocked, the
sponsor reads the objections: it sees each voter's objection limit with an error (``rules.sponsor_error``, in
units of ambition, a fresh normal error per member and summit) and lowers its belief to what the decision rule
would pass under the limits it perceived, never raising it. It also remembers who objected.

Each year the proposal comes up, the sponsor tables it unless it has met the same objection (the same objectors)
at least twice in a row and believes that not even its floor would pass: then it lets the proposal rest (the
record says ``not_tabled``). When it tables, it opens at its belief (no lower than its floor, no higher than the
proposal's ambition). A new situation makes the sponsor forget and try the proposal in full again: a new
configuration (a scheduled event: sanctions, a war) or a new voting body (a member joined since it learnt).

**Forum choice** (``rules.forum_choice``, issue 19). The SCO is one platform among several: a proposal may have a
route outside it (``elsewhere``: bilateral deals, the BRI, the China-Central Asia format), which yields the sponsor
a share of its own gain from the proposal in full. Once blocked (in this situation), the sponsor weighs the two
each year the proposal comes up: what it expects from the SCO, its gain at the offer it would open with where it
believes that offer passes (at least its floor), nothing where it believes not even the floor passes; against the
route's share of its gain from the proposal in full. Where the route is worth more it takes the proposal there
(the record says ``elsewhere``), and its effort stays there: it does not table the proposal in the SCO again while
the situation lasts (each year the record says ``elsewhere``). A new situation brings it back to the SCO, with the
proposal in full, as it forgets its objections. Before its first block a sponsor always tries the SCO (it tables in
full the first time): the route is its fallback, not its first choice, as the brief's China, which turned to "its
own bilateral initiatives" after its economic proposals failed in the SCO (New developments).

With ``rules.sponsor_learns: false`` the sponsor tables every year at the proposal's ambition, as before issue 17,
and has no memory to weigh a route with.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from ..core.engine import Procedure, Stance, rule_limit, utility

#: The consecutive blocks by the same objectors after which a sponsor that expects to fail lets a proposal rest.
CONVINCED_AFTER = 2


@dataclass(frozen=True)
class Belief:
    """A sponsor's memory of one proposal, in every replicate (R,)."""

    passes_up_to: NDArray[np.float64]  # the highest ambition it expects to pass
    objectors: NDArray[np.uint64]  # who objected at the last block, one bit per decider (0: none yet)
    met: NDArray[np.int8]  # consecutive blocks by those same objectors
    voters: NDArray[np.uint64]  # the voting body it learnt from, one bit per decider
    elsewhere: NDArray[np.bool_]  # it has taken the proposal to its route outside the SCO

    @classmethod
    def fresh(cls, ambition: NDArray[np.float64] | float, replicates: int) -> Belief:
        """What a sponsor believes before it has tabled the proposal: the proposal passes in full."""
        return cls(np.broadcast_to(np.asarray(ambition, dtype=float), (replicates,)).copy(),
                   np.zeros(replicates, dtype=np.uint64), np.zeros(replicates, dtype=np.int8),
                   np.zeros(replicates, dtype=np.uint64), np.zeros(replicates, dtype=bool))

    def facing(self, voters: NDArray[np.bool_], ambition: NDArray[np.float64] | float) -> Belief:
        """This belief, forgotten in the replicates where the voting body is not the one it learnt from."""
        new = (self.met > 0) & (bits(voters) != self.voters)
        if not new.any():
            return self
        fresh = Belief.fresh(ambition, new.size)
        return Belief(*(np.where(new, getattr(fresh, name), getattr(self, name)) for name in BELIEF_FIELDS))

    def tables(self, floor: NDArray[np.float64] | float) -> NDArray[np.bool_]:
        """Whether the sponsor puts the proposal on the table this year."""
        convinced = self.met >= CONVINCED_AFTER
        return ~(convinced & (self.passes_up_to < floor))

    def opening(self, ambition: NDArray[np.float64] | float,
                floor: NDArray[np.float64] | float) -> NDArray[np.float64]:
        """The ambition it opens with: its belief, within [floor, ambition]."""
        return np.minimum(ambition, np.maximum(self.passes_up_to, floor))

    def weighing(self, benefit: NDArray[np.float64], cost: NDArray[np.float64], ambition: NDArray[np.float64] | float,
                 floor: NDArray[np.float64] | float, share: NDArray[np.float64] | float) -> Belief:
        """This belief after the sponsor (utility ``benefit`` a - ``cost`` a**2, (R,)) weighs the SCO against its
        route outside it, which yields ``share`` of its gain from the proposal in full (the module's forum choice):
        it takes the proposal elsewhere where it has been blocked and the route is worth more than the SCO."""
        expected = np.where(self.passes_up_to >= floor, utility(benefit, cost, self.opening(ambition, floor)), 0.0)
        route = share * np.maximum(utility(benefit, cost, ambition), 0.0)
        going = (self.met > 0) & (route > np.maximum(expected, 0.0))
        return replace(self, elsewhere=self.elsewhere | going)


#: A belief's fields, in order.
BELIEF_FIELDS = ("passes_up_to", "objectors", "met", "voters", "elsewhere")


def bits(members: NDArray[np.bool_]) -> NDArray[np.uint64]:
    """A set of deciders (R, N) as one integer per replicate, one bit per decider (the first 64; enough for any
    SCO)."""
    members = members[:, :64]
    weights = np.uint64(1) << np.arange(members.shape[1], dtype=np.uint64)
    found: NDArray[np.uint64] = (members.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)
    return found


def objector_bits(stance: NDArray[np.int8]) -> NDArray[np.uint64]:
    """Who objected, as :func:`bits`."""
    return bits(stance == Stance.OBJECTION)


def learn(belief: Belief, blocked: NDArray[np.bool_], stance: NDArray[np.int8],
          perceived: NDArray[np.float64], voters: NDArray[np.bool_]) -> Belief:
    """The belief after a summit: where the proposal was ``blocked``, lowered to ``perceived`` (what the rule passes
    under the limits the sponsor perceived), the objectors and the voting body remembered; elsewhere unchanged."""
    seen = objector_bits(stance)
    same = blocked & (seen == belief.objectors)
    met = np.where(blocked, np.minimum(np.where(same, belief.met + 1, 1), 100), belief.met).astype(np.int8)
    return Belief(np.where(blocked, np.minimum(belief.passes_up_to, perceived), belief.passes_up_to),
                  np.where(blocked, seen, belief.objectors), met, np.where(blocked, bits(voters), belief.voters),
                  belief.elsewhere)


def perceived_limit(objection: NDArray[np.float64], error: NDArray[np.float64], voters: NDArray[np.bool_],
                    capability: NDArray[np.float64], procedure: Procedure) -> NDArray[np.float64]:
    """The largest ambition the rule passes under the members' objection limits as the sponsor sees them (R,):
    each limit off by ``error`` (R, N), never below 0."""
    return rule_limit(np.maximum(objection + error, 0.0), voters, capability, procedure)
