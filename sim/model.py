"""The SCO model: the calendar, the agenda, the membership and the summit's decisions.

One step is one year (one summit). In each step the model applies the configuration in force that
year (a scenario's events change it), lets members reconsider their priorities, and decides every
proposal on the agenda in every replicate at once with :func:`sim.engine.decide`.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from functools import reduce

import mesa
import numpy as np
from numpy.typing import NDArray

from . import streams
from .agents import MemberAgent
from .config import Configuration
from .engine import Decision, Procedure, Route, Stance, Terms, Valuation, decide
from .interests import Loadings, Parameters, loadings, parameters, tolerance, valuation_of
from .results import Record, Status
from .scenario import Scenario


class SCOModel(mesa.Model):
    """Decisions of the SCO's members over the years of a scenario, in many replicates at once.

    ``replicates`` are the replicate numbers this model runs (default ``range(scenario.replicates)``);
    replicate ``r`` gives the same numbers whatever other replicates run beside it.
    """

    def __init__(self, scenario: Scenario, replicates: Iterable[int] | None = None) -> None:
        super().__init__(rng=scenario.seed)
        self.spec = scenario  # not `self.scenario`: Mesa 3.5 reserves it for its experimental Scenario
        self.seed = scenario.seed
        self.replicates: NDArray[np.int64] = np.asarray(
            list(replicates) if replicates is not None else range(scenario.replicates), dtype=np.int64
        )
        self.year = scenario.start
        self.records: list[Record] = []
        self.in_force: dict[str, NDArray[np.bool_]] = {}
        self.members: dict[str, MemberAgent] = {}
        self._loadings: dict[str, Loadings] = {}  # per proposal, for the configuration and deciders in force
        self._configure(scenario.configuration(self.year))

    # --- configuration ----------------------------------------------------------------------------

    def _configure(self, config: Configuration) -> None:
        """Take on ``config``: new actors join the model; existing ones keep their run state."""
        self.config = config
        self.rules = config.rules
        self.noise = config.noise
        actors = tuple(self.members) + tuple(code for code in config.members if code not in self.members)
        self.params: Parameters = parameters(config, actors)
        for code in actors:
            if code in self.members:
                self.members[code].member = config.members[code]
            else:
                self.members[code] = MemberAgent(self, code, config.members[code])
        for code in config.proposals:
            self.in_force.setdefault(code, np.zeros(len(self.replicates), dtype=bool))
        # Only members, candidates and sponsors can take part in a decision; observers' priorities
        # are not computed. New deciders come last so earlier records keep their column order.
        involved = {m for code in self._in_play(config) for m in (*config.proposals[code].admits, config.proposals[code].sponsor)}
        new = tuple(c for c in actors if c not in getattr(self, "deciders", ()) and (config.members[c].status == "member" or c in involved))
        self.deciders: tuple[str, ...] = getattr(self, "deciders", ()) + new
        self.rows = np.array([actors.index(code) for code in self.deciders], dtype=np.intp)
        self._loadings = {}

    def _in_play(self, config: Configuration) -> set[str]:
        """The proposals that can come up: the agenda and, transitively, what they link to."""
        seen: set[str] = set()
        todo = list(self.spec.agenda)
        while todo:
            code = todo.pop()
            if code not in seen:
                seen.add(code)
                todo.extend(config.proposals[code].links)
        return seen

    @property
    def procedure(self) -> Procedure:
        """The decision rule in force."""
        return Procedure(self.rules.decision, self.rules.threshold, self.rules.ambition_steps)

    # --- the calendar -----------------------------------------------------------------------------

    def step(self) -> None:
        """One summit: apply this year's configuration, reconsider priorities, decide the agenda."""
        if self.year in self.spec.timeline and self.spec.configuration(self.year) is not self.config:
            self._configure(self.spec.configuration(self.year))
        deciders = [self.members[code] for code in self.deciders]
        for agent, row in zip(deciders, self.rows, strict=True):
            agent.reconsider(self.params.weights[row], self.year)
        weights = np.stack([agent.weights for agent in deciders])  # (N, R, D): batched products in valuation_of
        voters = np.stack([agent.votes(self.year) for agent in deciders], axis=1)

        decided: dict[str, tuple[NDArray[np.bool_], Decision]] = {}
        for code in self.spec.on_agenda(self.year):
            if self.config.proposals[code].is_tabled(self.year):
                decided[code] = self._decide_alone(code, weights, voters)
        tabled = set(decided)
        for code in list(decided):
            self._decide_package(code, decided, tabled, weights, voters)
        for code, (pending, decision) in decided.items():
            self._record(code, pending, decision)
        self.year += 1
        self.running = self.year <= self.spec.end

    def run(self) -> list[Record]:
        """Step through every year of the scenario; return the records of every decision."""
        while self.running and self.year <= self.spec.end:
            self.step()
        return self.records

    # --- decisions --------------------------------------------------------------------------------

    def _valuation(self, code: str, weights: NDArray[np.float64]) -> Valuation:
        """Every member's utility coefficients for ``code``, as each perceives them this year."""
        if code not in self._loadings:
            self._loadings[code] = loadings(self.params, self.params.proposals.index(code), self.rows)
        misjudgement = 0.0
        if self.noise.judgement > 0:
            draw = streams.normal(self.seed, ("judgement", self.year, code), self.replicates, (len(self.deciders),))
            misjudgement = self.noise.judgement * draw
        return valuation_of(weights, self.params, self._loadings[code], misjudgement)

    def _terms(self, code: str) -> Terms:
        proposal = self.config.proposals[code]
        return Terms(
            sponsor=self.deciders.index(proposal.sponsor),
            ambition=proposal.ambition,
            min_ambition=proposal.floor,
            opt_in=proposal.participation == "opt_in",
            side_payment=proposal.side_payment,
            min_participants=self.rules.min_participants,
        )

    def _tolerance(self, sponsor: int) -> NDArray[np.float64]:
        """Each decider's cost of objecting to a proposal of the decider ``sponsor``."""
        sponsor_row = int(self.rows[sponsor])
        return tolerance(self.params, sponsor_row, self.rules.objection_cost, self.rules.deference, self.rows)[None, :]

    def _pending(self, code: str, voters: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """Replicates in which the proposal is still to be decided (not in force; candidates not yet in)."""
        pending = ~self.in_force[code]
        admits = [self.deciders.index(a) for a in self.config.proposals[code].admits]
        if admits:
            pending &= ~voters[:, admits].all(axis=1)
        return pending

    def _decide_alone(self, code: str, weights: NDArray, voters: NDArray[np.bool_]) -> tuple[NDArray[np.bool_], Decision]:
        terms = self._terms(code)
        value = self._valuation(code, weights)
        decision = decide(value, self._tolerance(terms.sponsor), voters, self.params.capability[self.rows], terms, self.procedure)
        return self._pending(code, voters), decision

    def _decide_package(self, lead: str, decided: dict, tabled: set[str], weights: NDArray, voters: NDArray[np.bool_]) -> None:
        """Where ``lead`` failed alone, offer it as a package with the proposals it links to.

        A linked proposal joins the package whether or not it is on the agenda alone; the package is
        offered only where none of its parts is in force or adopted this year. A linked proposal that
        is not on the agenda is recorded every year its lead is (``not_decided`` where its package was
        not offered), so the records never depend on which replicates run together.
        """
        pending, alone = decided[lead]
        partners = self.config.proposals[lead].links
        if not partners:
            return
        offered = pending & ~alone.adopted
        for code in partners:
            available = decided[code][0] if code in tabled else self._pending(code, voters)
            offered &= available
            if code in decided:
                offered &= ~decided[code][1].adopted
        parts = [lead, *partners]
        value = reduce(operator.add, (self._valuation(c, weights).scaled(self.config.proposals[c].ambition) for c in parts))
        lead_terms = self._terms(lead)
        floor = max(self.config.proposals[code].floor / self.config.proposals[code].ambition for code in parts)
        terms = Terms(lead_terms.sponsor, 1.0, floor, False, lead_terms.side_payment, lead_terms.min_participants)
        package = decide(value, self._tolerance(terms.sponsor), voters, self.params.capability[self.rows], terms, self.procedure)
        won = offered & package.adopted
        for code in parts:
            ambition = package.ambition * self.config.proposals[code].ambition
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
        status = np.where(decision.adopted, Status.ADOPTED, np.where(decision.route == Route.WITHDRAWN, Status.WITHDRAWN, Status.BLOCKED))
        status = np.where(pending, status, np.where(self.in_force[code], Status.IN_FORCE, Status.NOT_DECIDED)).astype(np.int8)
        adopted = pending & decision.adopted
        self.records.append(
            Record(
                year=self.year,
                proposal=code,
                actors=self.deciders,
                replicates=self.replicates,
                status=status,
                ambition=np.where(adopted, decision.ambition, np.nan),
                route=np.where(pending, decision.route, -1).astype(np.int8),
                stance=np.where(pending[:, None], decision.stance, Stance.ABSENT).astype(np.int8),
                initial_stance=np.where(pending[:, None], decision.initial_stance, Stance.ABSENT).astype(np.int8),
                side_payment=np.where(adopted, decision.side_payment, 0.0),
            )
        )
        self.in_force[code] |= adopted
        for candidate in self.config.proposals[code].admits:
            # an accession decided at this summit counts from the next summit's decisions on
            self.members[candidate].admit(adopted, self.year + 1)


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
