"""Why members take the stances they do: each interest's and relation's part in a member's utility.

For a proposal in a given year, every voting member's utility at the proposed ambition ``a`` is split
into one term per interest dimension and per kind of relation (benefits times ``a``, costs times
``a**2``; the terms add up to U(a)). With the cost of objecting beside it, that shows why a member
supports, makes a reservation, stands aside or objects. Beside it, what the bargaining mechanism reads of each
member (:mod:`sim.core.bargaining`): the ambition it prefers on the table and its weight in the bargain (capability x
salience, as a share of all bargainers'), so that a compromise or Nash outcome can be read off. The split uses the
numbers as written (the point calibration), without the noise of replicates; the simulated probabilities below it
include the noise and, unless the scenario fixes them, each world's own reading of the coded numbers
(:mod:`sim.model.worlds`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.bargaining import decide, positions, salience
from ..core.engine import Route, Stance, limits
from ..core.errors import ConfigError
from ..core.vocabulary import Bargaining
from ..inputs.configuration import Configuration
from ..inputs.scenario import load_scenario
from ..model.interests import contributions, to_arrays, tolerance, valuation
from ..model.runner import simulate
from ..model.tables import aggregate


@dataclass(frozen=True)
class MemberView:
    """One member's reasons."""

    code: str
    name: str
    stance: Stance
    utility: float
    parts: dict[str, float]  # source -> its share of the utility at the proposed ambition
    tolerance: float
    deference: float  # the part of the tolerance owed to dependence on the sponsor
    objects_above: float  # the ambition above which it objects
    prefers: float  # its position: the ambition on the table it likes best
    weight: float  # its share of the bargain's weight, capability x salience (0: it does not bargain)


@dataclass(frozen=True)
class Explanation:
    """The reasons of every voting member, and the outcome with and without noise."""

    proposal: str
    name: str
    sponsor: str
    year: int
    rule: str
    bargaining: str
    ambition: float
    members: list[MemberView]
    outcome: str  # without noise
    p_adopted: float  # with noise
    replicates: int
    objected: dict[str, float]  # member name -> share of replicates in which it objected
    worlds: bool = False  # the probabilities also span each world's reading of the coded numbers


def explain(path: Path, proposal: str, year: int | None = None, replicates: int = 400,
            bargaining: Bargaining | None = None) -> Explanation:
    """Explain ``proposal`` in ``year`` (default: the scenario's first) of the scenario at ``path``, under the
    scenario's bargaining mechanism or ``bargaining``."""
    probe = load_scenario(path, bargaining=bargaining)
    year = probe.start if year is None else year
    if not probe.start <= year <= probe.end:
        raise ConfigError("command line", "--year", f"expected a year from {probe.start} to {probe.end}, got {year}")
    config = probe.configuration(year)
    if proposal not in config.proposals:
        raise ConfigError("command line", "PROPOSAL",
                          f"unknown proposal '{proposal}' (expected one of: {', '.join(sorted(config.proposals))})")
    scenario = load_scenario(path, overrides={f"proposals.{proposal}.tabled": [year]}, years=(year, year),
                             agenda=[proposal], replicates=replicates, bargaining=bargaining)
    records = [r for r in simulate(scenario) if r.proposal == proposal]
    summary = aggregate(records, {}, scenario.world_size)
    names = {code: member.name for code, member in config.members.items()}
    objected = ({names[m]: v for m, v in zip(summary.stances.member, summary.stances.objected, strict=True)}
                if len(summary.stances) else {})
    views, outcome = _views(config, proposal, year)
    tabled = config.proposals[proposal]
    return Explanation(proposal, tabled.name, config.members[tabled.sponsor].name, year, config.rules.decision,
                       config.rules.bargaining, tabled.ambition, views, outcome,
                       float(summary.summary.p_adopted.iloc[0]), replicates, objected, scenario.world_size is not None)


def _views(config: Configuration, proposal: str, year: int) -> tuple[list[MemberView], str]:
    arrays = to_arrays(config)
    tabled = config.proposals[proposal]
    rows = np.array([i for i, code in enumerate(arrays.actors) if config.members[code].votes_in(year)], dtype=np.intp)
    parts = contributions(arrays.weights[0, rows][None], arrays, arrays.proposals.index(proposal), rows)
    value = valuation(parts, len(arrays.dimensions))
    sponsor = arrays.actors.index(tabled.sponsor)
    tol = tolerance(arrays, sponsor, config.rules.objection_cost, config.rules.deference, rows)
    a = tabled.ambition
    limit = limits(value, tol, tabled.participation == "opt_in")
    voting = np.ones((1, len(rows)), dtype=bool)
    prefers = positions(value, a)[0]
    weight = arrays.capability[rows] * salience(value, a)[0]
    weight = weight / weight.sum() if weight.sum() > 0 else weight
    stance = limit.stance(np.array([a]), np.ones((1, len(rows)), dtype=bool))[0]
    views = []
    for j, i in enumerate(rows):
        code = arrays.actors[i]
        share = {source: float(x * a if x > 0 else x * a * a)
                 for source, x in zip(arrays.sources, parts[0, j], strict=True)}
        utility = float(value.benefit[0, j] * a - value.cost[0, j] * a * a)
        views.append(MemberView(code, config.members[code].name, Stance(int(stance[j])), utility, share,
                                float(tol[0, j]), float(tol[0, j] - config.rules.objection_cost),
                                float(limit.objection[0, j]), float(prefers[j]), float(weight[j])))
    outcome = "not decided: the sponsor is not a voting member this year"
    if sponsor in rows:
        terms = tabled.terms(int(np.flatnonzero(rows == sponsor)[0]), config.rules.min_participants)
        d = decide(value, tol, voting, arrays.capability[rows], terms,
                   config.rules.procedure)
        route = Route(int(d.route[0])).name.lower().replace("_", " ")
        outcome = (f"adopted at ambition {d.ambition[0]:.2f} ({route})" if d.adopted[0]
                   else f"{route} (alone; a package is not tried here)")
    return views, outcome
