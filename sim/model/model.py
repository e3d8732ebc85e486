"""The SCO model: the calendar, the agenda, the membership and the summit's decisions.

One step is one year (one summit). In each step the model applies the configuration in force that
year (a scenario's events change it), lets members reconsider their priorities, and decides every
proposal on the agenda in every replicate at once with :func:`sim.core.engine.decide`. What it records
of each decision is declared in one place, :data:`REPORTERS`, as a Mesa ``DataCollector`` declares its
reporters.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import reduce
from typing import Any

import mesa
import numpy as np
from mesa.agentset import AgentSet
from numpy.typing import NDArray

from ..core import streams
from ..core.bargaining import compromise, decide, exchange, positions
from ..core.engine import Decision, Route, Stance, Terms, Valuation, limits
from ..core.records import Record, Status
from ..inputs.configuration import Configuration
from ..inputs.plausible import plausible_ranges
from ..inputs.scenario import Scenario
from . import feedback, implementation
from .agents import MemberAgent, persist
from .interests import Arrays, Loadings, loadings, to_arrays, tolerance, valuation_of
from .sponsors import Belief, learn, perceived_limit
from .worlds import drawn


@dataclass(frozen=True)
class Summit:
    """One proposal's decision at one summit, in every replicate, as the reporters see it."""

    decision: Decision
    pending: NDArray[np.bool_]  # put to a decision (not in force already; its candidates not yet members)
    in_force: NDArray[np.bool_]  # adopted at an earlier summit
    resting: NDArray[np.bool_] | bool = False  # its sponsor let it rest this year
    elsewhere: NDArray[np.bool_] | bool = False  # its sponsor pursued it outside the SCO this year
    implemented: NDArray[np.float64] | None = None  # how far it is carried out this year where in force; else NaN
    spread: NDArray[np.float64] | None = None  # how far apart the voters' preferred ambitions are, where decided alone

    @property
    def adopted(self) -> NDArray[np.bool_]:
        """Adopted at this summit."""
        return self.pending & self.decision.adopted


def _status(summit: Summit) -> NDArray[np.int8]:
    decision = summit.decision
    settled = np.where(decision.adopted, Status.ADOPTED,
                       np.where(decision.route == Route.WITHDRAWN, Status.WITHDRAWN, Status.BLOCKED))
    undecided = np.where(summit.in_force, Status.IN_FORCE,
                         np.where(summit.elsewhere, Status.ELSEWHERE,
                                  np.where(summit.resting, Status.NOT_TABLED, Status.NOT_DECIDED)))
    return np.where(summit.pending, settled, undecided).astype(np.int8)


#: What the model records of each decision: one reporter per reported field of :class:`~sim.core.records.Record`.
REPORTERS: dict[str, Callable[[Summit], NDArray[Any]]] = {
    "status": _status,
    "ambition": lambda s: np.where(s.adopted, s.decision.ambition, np.nan),
    "route": lambda s: np.where(s.pending, s.decision.route, -1).astype(np.int8),
    "stance": lambda s: np.where(s.pending[:, None], s.decision.stance, Stance.ABSENT).astype(np.int8),
    "initial_stance": lambda s: np.where(s.pending[:, None], s.decision.initial_stance, Stance.ABSENT).astype(np.int8),
    "side_payment": lambda s: np.where(s.adopted, s.decision.side_payment, 0.0),
    "implementation": lambda s: np.where(s.adopted, 0.0, np.nan if s.implemented is None else s.implemented),
    "spread": lambda s: np.full(s.pending.shape, np.nan) if s.spread is None else np.where(s.pending, s.spread, np.nan),
}


class SCOModel(mesa.Model):
    """Decisions of the SCO's members over the years of a scenario, in many replicates at once.

    ``replicates`` are the replicate numbers this model runs (default ``range(scenario.replicates)``);
    replicate ``r`` gives the same numbers whatever other replicates run beside it. Every state is an agent
    (``self.agents``); ``self.deciders`` are those that can take part in a decision, in the order they
    first could, which is the order of the deciders' axis in the records.
    """

    def __init__(self, scenario: Scenario, replicates: Iterable[int] | None = None) -> None:
        super().__init__(rng=scenario.seed)
        self.sco_scenario = scenario  # not `self.scenario`: Mesa 3.5 reserves it for its experimental Scenario
        self.seed = scenario.seed
        self.replicates: NDArray[np.int64] = np.asarray(
            list(replicates) if replicates is not None else range(scenario.replicates), dtype=np.int64
        )
        self.year = scenario.start
        self.records: list[Record] = []
        self.in_force: dict[str, NDArray[np.bool_]] = {}
        # per adopted proposal (sim.model.implementation): how far it is carried out (NaN where not adopted), who
        # carries it out (R, deciders at its adoption) and the ambition it was adopted at
        self.implemented: dict[str, NDArray[np.float64]] = {}
        self.implementers: dict[str, NDArray[np.bool_]] = {}
        self.adopted_ambition: dict[str, NDArray[np.float64]] = {}
        self.recorded: dict[str, None] = {}  # the proposals recorded so far, in the order first recorded
        # per sponsor: the dependence on it each decider has gained by feedback (sim.model.feedback), (R, deciders)
        self.gained: dict[str, NDArray[np.float64]] = {}
        self._judged: dict[str, Valuation] = {}  # this year's valuations without misjudgement (for implementation)
        self.misjudgement: dict[str, tuple[int, NDArray[np.float64]]] = {}  # proposal -> (year, standardised)
        self.resting: dict[str, NDArray[np.bool_]] = {}  # this year's proposals whose sponsor let them rest
        self.elsewhere: dict[str, NDArray[np.bool_]] = {}  # this year's proposals pursued outside the SCO
        self.spreads: dict[str, NDArray[np.float64]] = {}  # this year's proposals tabled: how far apart voters are
        self.deciders: AgentSet[MemberAgent] = AgentSet([], random=self.random)
        self._configure(scenario.configuration(self.year))

    # --- configuration ----------------------------------------------------------------------------

    def _configure(self, config: Configuration) -> None:
        """Take on ``config``: new states join the model as agents; existing ones keep their run state."""
        self.config = config
        self.rules = config.rules
        self.beliefs: dict[str, Belief] = {}  # a new configuration is a new situation: sponsors start afresh
        known = tuple(self.agents.get("code"))
        actors = known + tuple(code for code in config.members if code not in known)
        self.arrays: Arrays = to_arrays(config, actors)
        if config.noise.parameters != "fixed":
            ranges = plausible_ranges(config, fitted=config.noise.parameters == "drawn")
            self.arrays = drawn(self.arrays, ranges, self.seed, self.replicates, config.noise.world_size)
        weights = self.arrays.per_replicate(self.arrays.weights).transpose(1, 0, 2)  # (N, 1 or R, D)
        for agent, own in zip(self.agents, weights[:len(known)], strict=True):
            agent.take_on(config.members[agent.code], own)
        for code, own in zip(actors[len(known):], weights[len(known):], strict=True):
            MemberAgent(self, code, config.members[code], own)
        for code in config.proposals:
            self.in_force.setdefault(code, np.zeros(len(self.replicates), dtype=bool))
        # Only members, candidates and sponsors can take part in a decision; observers' priorities
        # are not computed. New deciders come last so earlier records keep their column order.
        involved = {m for code in self._in_play(config)
                    for m in (*config.proposals[code].admits, config.proposals[code].sponsor)}
        joining = self.agents.select(
            lambda a: a not in self.deciders and (a.member.status == "member" or a.code in involved)
        )
        self.deciders = AgentSet([*self.deciders, *joining], random=self.random)
        self.decider_codes: tuple[str, ...] = tuple(self.deciders.get("code"))
        self.rows = np.array([actors.index(code) for code in self.decider_codes], dtype=np.intp)
        self._loadings: dict[str, Loadings] = {}  # per proposal, for the configuration and deciders in force
        self._constants: dict[str, NDArray[np.float64] | float] = {}  # per path, for the configuration in force
        self._tolerances: dict[int, NDArray[np.float64]] = {}  # per sponsor, for the configuration and deciders

    def _in_play(self, config: Configuration) -> set[str]:
        """The proposals that can come up: the agenda and, transitively, what they link to."""
        seen: set[str] = set()
        todo = list(self.sco_scenario.agenda)
        while todo:
            code = todo.pop()
            if code not in seen:
                seen.add(code)
                todo.extend(config.proposals[code].links)
        return seen

    # --- the calendar -----------------------------------------------------------------------------

    def step(self) -> None:
        """One summit: apply this year's configuration, reconsider priorities, decide the agenda."""
        scenario = self.sco_scenario
        if self.year in scenario.timeline and scenario.configuration(self.year) is not self.config:
            self._configure(scenario.configuration(self.year))
        self.deciders.do("reconsider", self.year)
        self.resting, self.elsewhere, self.spreads = {}, {}, {}
        weights = np.stack(self.deciders.get("weights"))  # (N, R, D): batched products in valuation_of
        self._judged = {}
        voters = np.stack(self.deciders.map("votes", self.year), axis=1)

        on_the_table = {code: self._table(code, weights, voters) for code in scenario.on_agenda(self.year)
                        if self.config.proposals[code].is_tabled(self.year)}
        held = self._traded(on_the_table, voters) if self.rules.bargaining == "exchange" else {}
        self.spreads = {code: spread(value, terms.ambition, voters)
                        for code, (_, value, terms, _) in on_the_table.items()}
        decided = {code: self._settle(code, *offer, voters, held.get(code)) for code, offer in on_the_table.items()}
        tabled = set(decided)
        for code in list(decided):
            self._decide_package(code, decided, tabled, weights, voters)
        self._implement(weights)  # after the decisions, whose valuations it reuses; before the records, which show it
        if self.config.feedback.elsewhere:
            self._pursued_elsewhere(voters)
        for code, (pending, decision) in decided.items():
            self._record(code, pending, decision)
        if self.config.implementation.follow:
            for code in [code for code in self.recorded if code not in decided]:
                self._follow(code)
        self.recorded |= dict.fromkeys(decided)
        self.year += 1
        self.running = self.year <= scenario.end

    def run(self) -> list[Record]:
        """Step through every year of the scenario; return the records of every decision."""
        while self.running and self.year <= self.sco_scenario.end:
            self.step()
        return self.records

    # --- decisions --------------------------------------------------------------------------------

    # --- implementation ---------------------------------------------------------------------------

    def _implement(self, weights: NDArray[np.float64]) -> None:
        """Carry every adopted decision a year further (:mod:`sim.model.implementation`), with this year's interests."""
        capability = self.arrays.capability[self.rows]
        for code, state in self.implemented.items():
            if code not in self.config.proposals:
                continue
            value = self._unjudged(code, weights)  # without misjudgement: nothing drawn
            who = self.implementers[code]
            who = np.pad(who, ((0, 0), (0, len(self.rows) - who.shape[1])))  # members who joined since take no part
            willing = implementation.willingness(value, self.adopted_ambition[code])
            pace = self._per_replicate(f"implementation.{self.config.proposals[code].form}")
            self.implemented[code] = implementation.advance(state, implementation.will(willing, who, capability),
                                                            pace)
            if self.config.feedback.integration:
                self._integrated(code, self.implemented[code] - state, who)

    # --- feedback -----------------------------------------------------------------------------------

    def _deepen(self, sponsor: str, step: NDArray[np.float64]) -> None:
        """Add ``step`` (R, deciders) to the deciders' dependence gained on ``sponsor``, within [0, 1] with the
        written (or drawn) dependence; the sponsor's tolerances are read afresh (:meth:`_tolerance`)."""
        if not step.any():
            return
        n = len(self.rows)
        gained = self.gained.get(sponsor, np.zeros((len(self.replicates), n)))
        gained = np.pad(gained, ((0, 0), (0, n - gained.shape[1])))  # members who joined since start at 0
        row = self.arrays.actors.index(sponsor)
        written = self.arrays.per_replicate(self.arrays.relations["dependence"][:, :, row])[:, self.rows]
        self.gained[sponsor] = feedback.deepened(gained, step, written)

    def _integrated(self, code: str, carried_out: NDArray[np.float64], who: NDArray[np.bool_]) -> None:
        """Integration feedback: what was carried out of ``code`` this year deepens its implementers' dependence on
        its sponsor, by its economic effect and adopted ambition."""
        proposal = self.config.proposals[code]
        if "economic" not in self.arrays.dimensions or proposal.sponsor not in self.decider_codes:
            return
        p, d = self.arrays.proposals.index(code), self.arrays.dimensions.index("economic")
        economic = self.arrays.per_replicate(self.arrays.effects[:, p, d])
        who = who.copy()
        who[:, self.decider_codes.index(proposal.sponsor)] = False
        self._deepen(proposal.sponsor, feedback.integration(
            self._per_replicate("feedback.integration_rate"), economic, self.adopted_ambition[code], carried_out, who))

    def _per_replicate(self, path: str) -> NDArray[np.float64] | float:
        """A constant of the model as one number or one per replicate (R,), not (R, 1)."""
        value = self.constant(path)
        return value[:, 0] if isinstance(value, np.ndarray) else value

    def _route_share(self, code: str) -> NDArray[np.float64]:
        """The share of its gain the sponsor's route outside the SCO yields for ``code``, in each replicate's world
        (R,), or (1,) where all share one; 0 where it has no route."""
        shares = self.arrays.per_replicate(self.arrays.elsewhere)
        share: NDArray[np.float64] = shares[:, self.arrays.proposals.index(code)]
        return share

    def _pursued_elsewhere(self, voters: NDArray[np.bool_]) -> None:
        """Elsewhere feedback: every proposal pursued outside the SCO this year deepens the voters' dependence on its
        sponsor, by its route's share."""
        for code, pursued in self.elsewhere.items():
            if not pursued.any():
                continue
            sponsor = self.config.proposals[code].sponsor
            share = self._route_share(code)
            members = voters.copy()
            members[:, self.decider_codes.index(sponsor)] = False
            self._deepen(sponsor, feedback.elsewhere(self._per_replicate("feedback.elsewhere_rate"), share, pursued,
                                                     members))

    def _valuation(self, code: str, weights: NDArray[np.float64]) -> Valuation:
        """Every decider's utility coefficients for ``code``, as each perceives them this year."""
        judgement = self.constant("noise.judgement")
        # the valuation without misjudgement, kept for implementation; adding the misjudgement last gives the same
        # bits as valuation_of(..., misjudgement), whose last term it is
        unjudged = self._unjudged(code, weights)
        if not np.any(np.asarray(judgement) > 0):
            return unjudged
        return replace(unjudged, benefit=unjudged.benefit + judgement * self._misjudgement(code))

    def _unjudged(self, code: str, weights: NDArray[np.float64]) -> Valuation:
        """Every decider's utility coefficients for ``code`` this year, without misjudgement (computed once a year)."""
        if code not in self._judged:
            if code not in self._loadings:
                self._loadings[code] = loadings(self.arrays, self.arrays.proposals.index(code), self.rows)
            self._judged[code] = valuation_of(weights, self.arrays, self._loadings[code])
        return self._judged[code]

    def _misjudgement(self, code: str) -> NDArray[np.float64]:
        """Each decider's standardised misjudgement of ``code`` this year (R, N): it drifts from the last year the
        proposal came up by the persistence, once per year that passed."""
        last = self.misjudgement.get(code)
        if last is not None and last[0] == self.year:
            return last[1]
        draw = streams.normal(self.seed, ("judgement", self.year, code), self.replicates, (len(self.decider_codes),))
        previous = None if last is None else last[1]
        now = persist(previous, draw, self.constant("noise.persistence") ** (self.year - last[0]) if last else 0.0)
        self.misjudgement[code] = (self.year, now)
        return now

    def _terms(self, code: str) -> Terms:
        proposal = self.config.proposals[code]
        terms = proposal.terms(self.decider_codes.index(proposal.sponsor), self.rules.min_participants)
        if self.arrays.shared:
            return terms
        p, each = self.arrays.proposals.index(code), self.arrays.per_replicate
        return replace(terms, ambition=each(self.arrays.ambition[:, p]), min_ambition=each(self.arrays.floor[:, p]),
                       side_payment=each(self.arrays.side_payment[:, p]))

    def _ambition(self, code: str) -> float | NDArray[np.float64]:
        """The ambition ``code`` is tabled at, in each replicate's world."""
        return self._terms(code).ambition

    def _tolerance(self, sponsor: int) -> NDArray[np.float64]:
        """Each decider's cost of objecting to a proposal of the decider ``sponsor``, (1 or R, N): with the dependence
        on the sponsor that feedback has deepened (:mod:`sim.model.feedback`), where it has."""
        if sponsor not in self._tolerances:
            self._tolerances[sponsor] = tolerance(self.arrays, int(self.rows[sponsor]),
                                                  self.constant("rules.objection_cost"),
                                                  self.constant("rules.deference"), self.rows)
        gained = self.gained.get(self.decider_codes[sponsor])
        if gained is None:
            return self._tolerances[sponsor]
        gained = np.pad(gained, ((0, 0), (0, len(self.rows) - gained.shape[1])))
        deepened: NDArray[np.float64] = self._tolerances[sponsor] + self.constant("rules.deference") * gained
        return deepened

    def constant(self, path: str) -> NDArray[np.float64] | float:
        """A constant of the model (``noise.persistence``) as each replicate's world reads it: (R, 1) where worlds
        draw it, else the configuration's number."""
        if path not in self._constants:
            block, field = path.split(".")
            self._constants[path] = self.arrays.constant(path, float(getattr(getattr(self.config, block), field)))
        return self._constants[path]

    def _pending(self, code: str, voters: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """Replicates in which the proposal is still to be decided (not in force; candidates not yet in)."""
        pending = ~self.in_force[code]
        admits = [self.decider_codes.index(a) for a in self.config.proposals[code].admits]
        if admits:
            pending &= ~voters[:, admits].all(axis=1)
        return pending

    def _decide(self, value: Valuation, terms: Terms, voters: NDArray[np.bool_],
                held: NDArray[np.float64] | None = None) -> Decision:
        """The engine's decision; with ``held``, the positions members hold after an exchange, their compromise."""
        capability = self.arrays.capability[self.rows]
        tolerance = self._tolerance(terms.sponsor)
        if held is not None:
            return compromise(value, tolerance, voters, capability, terms, self.rules.procedure, held=held)
        return decide(value, tolerance, voters, capability, terms, self.rules.procedure)

    def _table(self, code: str, weights: NDArray[np.float64], voters: NDArray[np.bool_]
               ) -> tuple[NDArray[np.bool_], Valuation, Terms, Belief | None]:
        """What comes to the table for ``code``: the replicates where it is decided, every decider's valuation, and
        the terms; where its sponsor learns, only where it tables the proposal (and has not taken it elsewhere), at
        its opening offer, with the belief it opens from (:mod:`sim.model.sponsors`)."""
        pending, value, terms = self._pending(code, voters), self._valuation(code, weights), self._terms(code)
        if not self.rules.sponsor_learns:
            return pending, value, terms, None
        belief = self.beliefs.get(code, Belief.fresh(terms.ambition, len(self.replicates))).facing(
            voters, terms.ambition)
        share = self._route_share(code)
        if self.rules.forum_choice and np.any(share > 0):
            sponsor = terms.sponsor
            belief = belief.weighing(value.benefit[:, sponsor], value.cost[:, sponsor], terms.ambition,
                                     terms.min_ambition, share)
        self.elsewhere[code] = pending & belief.elsewhere
        tabling = belief.tables(terms.min_ambition) & ~belief.elsewhere
        self.resting[code] = pending & ~tabling & ~belief.elsewhere
        terms = replace(terms, ambition=belief.opening(terms.ambition, terms.min_ambition))
        return pending & tabling, value, terms, belief

    def _traded(self, offers: dict[str, tuple[NDArray[np.bool_], Valuation, Terms, Belief | None]],
                voters: NDArray[np.bool_]) -> dict[str, NDArray[np.float64]]:
        """The positions members hold on each proposal on the table after trading across them (exchange)."""
        codes = list(offers)
        traded = exchange([offers[c][1] for c in codes], voters, self.arrays.capability[self.rows],
                          [offers[c][2].ambition for c in codes])
        return dict(zip(codes, traded, strict=True))

    def _settle(self, code: str, pending: NDArray[np.bool_], value: Valuation, terms: Terms, belief: Belief | None,
                voters: NDArray[np.bool_], held: NDArray[np.float64] | None = None
                ) -> tuple[NDArray[np.bool_], Decision]:
        """Decide ``code`` on its own; a learning sponsor learns from the objections where it is blocked."""
        decision = self._decide(value, terms, voters, held)
        if belief is None:
            return pending, decision
        blocked = pending & (decision.route == Route.BLOCKED)
        if blocked.any():
            objection = limits(value, np.broadcast_to(self._tolerance(terms.sponsor), voters.shape),
                               terms.opt_in).objection
            error = self.constant("rules.sponsor_error") * streams.normal(
                self.seed, ("sponsor", self.year, code), self.replicates, (len(self.decider_codes),))
            perceived = perceived_limit(objection, error, voters, self.arrays.capability[self.rows],
                                        self.rules.procedure)
            belief = learn(belief, blocked, decision.stance, perceived, voters)
        self.beliefs[code] = belief
        return pending, decision

    def _decide_package(self, lead: str, decided: dict[str, tuple[NDArray[np.bool_], Decision]], tabled: set[str],
                        weights: NDArray[np.float64], voters: NDArray[np.bool_]) -> None:
        """Where ``lead`` failed alone, offer it as a package with the proposals it links to.

        A linked proposal joins the package whether or not it is on the agenda alone; the package is
        offered only where none of its parts is in force or adopted this year. A linked proposal that
        is not on the agenda is recorded every year its lead is (``not_decided`` where its package was
        not offered), so the records never depend on which replicates run together.
        """
        pending, alone = decided[lead]
        proposals = self.config.proposals
        partners = proposals[lead].links
        if not partners:
            return
        offered = pending & ~alone.adopted
        for code in partners:
            available = decided[code][0] if code in tabled else self._pending(code, voters)
            offered &= available
            if code in decided:
                offered &= ~decided[code][1].adopted
        parts = [lead, *partners]
        value = reduce(operator.add, (self._valuation(c, weights).scaled(self._ambition(c)) for c in parts))
        floor = reduce(np.maximum, (self._terms(c).min_ambition / self._terms(c).ambition for c in parts))
        terms = replace(self._terms(lead), ambition=1.0, min_ambition=floor, opt_in=False)
        package = self._decide(value, terms, voters)
        won = offered & package.adopted
        for code in parts:
            ambition = package.ambition * self._ambition(code)
            as_part = _overlay(package, package, won, ambition)
            if code in tabled:
                part_pending, part = decided[code]
                decided[code] = (part_pending, _overlay(part, package, won, ambition))
            elif code in decided:  # also linked by an earlier lead this year
                part_pending, part = decided[code]
                decided[code] = (part_pending | offered, _choose(offered, as_part, part))
            else:  # decided only as part of the package, and only where it was offered
                decided[code] = (offered, as_part)

    def _record(self, code: str, pending: NDArray[np.bool_], decision: Decision) -> None:
        """Record the decision on ``code`` with the reporters; carry its adoption and any accession forward."""
        summit = Summit(decision, pending, self.in_force[code], self.resting.get(code, False),
                        self.elsewhere.get(code, False), self.implemented.get(code), self.spreads.get(code))
        reported = {field: report(summit) for field, report in REPORTERS.items()}
        self.records.append(Record(self.year, code, self.decider_codes, self.replicates, **reported))
        self.in_force[code] = self.in_force[code] | summit.adopted
        if summit.adopted.any():
            self._adopted(code, summit.adopted, decision)
        candidates = self.config.proposals[code].admits
        if candidates:  # an accession decided at this summit counts from the next summit's decisions on
            self.deciders.select(lambda agent: agent.code in candidates).do("admit", summit.adopted, self.year + 1)


    def _follow(self, code: str) -> None:
        """Record ``code``, off the agenda this year, to follow what was adopted of it (``implementation.follow``):
        nothing is decided; it is in force where adopted earlier, not decided elsewhere. The proposals followed are
        those recorded at an earlier summit, whatever any replicate did, so the records do not depend on batching."""
        n, deciders = len(self.replicates), len(self.decider_codes)
        absent = np.full((n, deciders), Stance.ABSENT, dtype=np.int8)
        nothing = Decision(adopted=np.zeros(n, dtype=bool), ambition=np.full(n, np.nan),
                           route=np.full(n, -1, dtype=np.int8), stance=absent, initial_stance=absent,
                           side_payment=np.zeros(n))
        summit = Summit(nothing, np.zeros(n, dtype=bool), self.in_force[code], False, False,
                        self.implemented.get(code))
        reported = {field: report(summit) for field, report in REPORTERS.items()}
        self.records.append(Record(self.year, code, self.decider_codes, self.replicates, **reported))

    def _adopted(self, code: str, adopted: NDArray[np.bool_], decision: Decision) -> None:
        """Start carrying out ``code`` where it was ``adopted`` this year: nothing done yet, by its participants."""
        n, deciders = len(self.replicates), len(self.rows)
        state = self.implemented.get(code, np.full(n, np.nan))
        who = self.implementers.get(code, np.zeros((n, deciders), dtype=bool))
        who = np.pad(who, ((0, 0), (0, deciders - who.shape[1])))
        self.implemented[code] = np.where(adopted, 0.0, state)
        self.implementers[code] = np.where(adopted[:, None], implementation.implementers(decision.stance), who)
        self.adopted_ambition[code] = np.where(adopted, decision.ambition,
                                               self.adopted_ambition.get(code, np.full(n, np.nan)))


def spread(value: Valuation, ambition: NDArray[np.float64] | float, voters: NDArray[np.bool_]) -> NDArray[np.float64]:
    """How far apart the voters are on a proposal (R,), the cohesion measure: the standard deviation of their preferred
    ambitions on the table (:func:`sim.core.bargaining.positions`), as a share of the tabled ambition; 0 where all
    want the same, 0.5 where half want all of it and half none. Each voter counts once, as under consensus."""
    share = positions(value, ambition) / np.reshape(np.asarray(ambition, dtype=float), (-1, 1))
    counted = voters.sum(axis=1)
    mean = np.where(voters, share, 0.0).sum(axis=1) / np.maximum(counted, 1)
    variance = np.where(voters, (share - mean[:, None]) ** 2, 0.0).sum(axis=1) / np.maximum(counted, 1)
    found: NDArray[np.float64] = np.sqrt(variance)
    return found


def _choose(where: NDArray[np.bool_], this: Decision, other: Decision) -> Decision:
    """``this`` decision in the replicates ``where``, ``other`` elsewhere."""
    pick = where[:, None]
    return Decision(
        adopted=np.where(where, this.adopted, other.adopted),
        ambition=np.where(where, this.ambition, other.ambition),
        route=np.where(where, this.route, other.route).astype(np.int8),
        stance=np.where(pick, this.stance, other.stance).astype(np.int8),
        initial_stance=np.where(pick, this.initial_stance, other.initial_stance).astype(np.int8),
        side_payment=np.where(where, this.side_payment, other.side_payment),
    )


def _overlay(alone: Decision, package: Decision, where: NDArray[np.bool_], ambition: NDArray[np.float64]) -> Decision:
    """``alone`` with the package's outcome in the replicates ``where`` the package was adopted."""
    pick = where[:, None]
    return Decision(
        adopted=alone.adopted | where,
        ambition=np.where(where, ambition, alone.ambition),
        route=np.where(where, Route.PACKAGE, alone.route).astype(np.int8),
        stance=np.where(pick, package.stance, alone.stance).astype(np.int8),
        initial_stance=alone.initial_stance,
        side_payment=np.where(where, package.side_payment, alone.side_payment),
    )
