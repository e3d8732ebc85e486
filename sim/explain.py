"""Why members take the stances they do: each interest's and relation's part in a member's utility.

For a proposal in a given year, every voting member's utility at the proposed ambition ``a`` is split
into one term per interest dimension and per kind of relation (benefits times ``a``, costs times
``a**2``; the terms add up to U(a)). With the cost of objecting beside it, that shows why a member
supports, makes a reservation, stands aside or objects. The split uses the configured weights,
without the noise of replicates; the simulated probabilities below it include the noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import Configuration
from .engine import Procedure, Route, Stance, Terms, decide, limits
from .interests import contributions, parameters, tolerance, valuation
from .results import aggregate
from .runner import simulate
from .scenario import ConfigError, load_scenario


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


@dataclass(frozen=True)
class Explanation:
    """The reasons of every voting member, and the outcome with and without noise."""

    proposal: str
    name: str
    sponsor: str
    year: int
    rule: str
    ambition: float
    members: list[MemberView]
    outcome: str  # without noise
    p_adopted: float  # with noise
    replicates: int
    objected: dict[str, float]  # member name -> share of replicates in which it objected


def explain(path: Path, proposal: str, year: int | None = None, replicates: int = 400) -> Explanation:
    """Explain ``proposal`` in ``year`` (default: the scenario's first) of the scenario at ``path``."""
    probe = load_scenario(path)
    year = probe.start if year is None else year
    if not probe.start <= year <= probe.end:
        raise ConfigError("command line", "--year", f"expected a year from {probe.start} to {probe.end}, got {year}")
    config = probe.configuration(year)
    if proposal not in config.proposals:
        raise ConfigError("command line", "PROPOSAL", f"unknown proposal '{proposal}' (expected one of: {', '.join(sorted(config.proposals))})")
    scenario = load_scenario(path, overrides={f"proposals.{proposal}.tabled": [year]}, years=(year, year),
                             agenda=[proposal], replicates=replicates)
    records = [r for r in simulate(scenario) if r.proposal == proposal]
    summary = aggregate(records, {})
    names = {code: member.name for code, member in config.members.items()}
    objected = {names[m]: v for m, v in zip(summary.stances.member, summary.stances.objected, strict=True)} if len(summary.stances) else {}
    views, outcome = _views(config, proposal, year)
    spec = config.proposals[proposal]
    return Explanation(proposal, spec.name, config.members[spec.sponsor].name, year, config.rules.decision, spec.ambition,
                       views, outcome, float(summary.summary.p_adopted.iloc[0]), replicates, objected)


def _views(config: Configuration, proposal: str, year: int) -> tuple[list[MemberView], str]:
    params = parameters(config)
    spec = config.proposals[proposal]
    voting = [i for i, code in enumerate(params.actors)
              if config.members[code].status == "member" and (config.members[code].joined or year + 1) <= year]
    rows = np.array(voting, dtype=np.intp)
    parts = contributions(params.weights[rows][None], params, params.proposals.index(proposal), rows)
    value = valuation(parts, len(params.dimensions))
    sponsor = params.actors.index(spec.sponsor)
    tol = tolerance(params, sponsor, config.rules.objection_cost, config.rules.deference, rows)
    a = spec.ambition
    limit = limits(value, tol[None], spec.participation == "opt_in")
    stance = limit.stance(np.array([a]), np.ones((1, len(rows)), dtype=bool))[0]
    views = []
    for j, i in enumerate(rows):
        code = params.actors[i]
        share = {source: float(x * a if x > 0 else x * a * a) for source, x in zip(params.sources, parts[0, j], strict=True)}
        views.append(MemberView(code, config.members[code].name, Stance(int(stance[j])), float(value.benefit[0, j] * a - value.cost[0, j] * a * a),
                                share, float(tol[j]), float(tol[j] - config.rules.objection_cost), float(limit.objection[0, j])))
    outcome = "not decided: the sponsor is not a voting member this year"
    if sponsor in rows:
        terms = Terms(int(np.flatnonzero(rows == sponsor)[0]), a, spec.floor, spec.participation == "opt_in", spec.side_payment,
                      config.rules.min_participants)
        d = decide(value, tol[None], np.ones((1, len(rows)), dtype=bool), params.capability[rows], terms,
                   Procedure(config.rules.decision, config.rules.threshold, config.rules.ambition_steps))
        route = Route(int(d.route[0])).name.lower().replace("_", " ")
        outcome = f"adopted at ambition {d.ambition[0]:.2f} ({route})" if d.adopted[0] else f"{route} (alone; a package is not tried here)"
    return views, outcome


def format_explanation(e: Explanation) -> str:
    """The table ``sco-sim explain`` prints."""
    sources = list(e.members[0].parts) if e.members else []
    shown = [s for s in sources if any(abs(m.parts[s]) >= 0.005 for m in e.members)]
    lines = [
        f"{e.name} ({e.proposal}), sponsor {e.sponsor}, {e.year}, rule {e.rule}, proposed ambition {e.ambition:.2f}",
        "",
        "Each member's utility at the proposed ambition, by source (benefits x a, costs x a^2; they add up to U).",
        "It objects when U falls below minus its tolerance (the cost of objecting, raised by dependence on the sponsor).",
        "",
    ]
    header = f"{'member':<12} {'stance':<12} {'U':>6} {'tolerance':>9} {'objects >':>9}  " + " ".join(f"{s[:11]:>11}" for s in shown)
    lines += [header, "-" * len(header)]
    for m in e.members:
        above = "never" if np.isinf(m.objects_above) else f"{m.objects_above:.2f}"
        row = f"{m.name[:12]:<12} {m.stance.name.lower().replace('_', ' '):<12} {m.utility:>+6.2f} {m.tolerance:>9.2f} {above:>9}  "
        lines.append(row + " ".join(f"{m.parts[s]:>+11.2f}" if abs(m.parts[s]) >= 0.005 else f"{'.':>11}" for s in shown))
    lines += ["", f"Without noise: {e.outcome}.",
              f"With noise ({e.replicates} replicates): adopted with probability {e.p_adopted:.2f}"
              + (("; objected: " + ", ".join(f"{m} {v:.0%}" for m, v in sorted(e.objected.items(), key=lambda kv: -kv[1]) if v >= 0.01))
                 if any(v >= 0.01 for v in e.objected.values()) else "") + "."]
    return "\n".join(lines)
