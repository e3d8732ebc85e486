"""A plain-numpy implementation of the model's decision kernel: the floor for this work in Python.

Same model as sim (interests -> benefit and cost, wobbling weights, misjudgement, ambition limits,
the rule's bound, the sponsor lowering its offer), for proposals that are all-participation and
unlinked, without side payments, under consensus: what the baseline scenario needs. It is the model before issue
17 (the numbers as written, fresh noise at each summit, a sponsor that tables every year); the benchmark runs sim
in that configuration too (``bench/run.py``, ``POINT_MODEL``), so both do the same work. A kernel of the model of
issue 17 (drawn worlds, AR(1) noise, learning sponsors) is not written yet. No Mesa, no
validation, no records: arrays in, adoption out. Its noise comes from numpy's own generator, so its
numbers match sim's in distribution, not draw for draw.
"""

from __future__ import annotations

import numpy as np

from sim.inputs.configuration import INFLUENCE
from sim.inputs.scenario import Scenario
from sim.model.interests import GAIN_RELATIONS, to_arrays


def run(scenario: Scenario, replicates: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Adoption by the end of the run, per proposal, for ``replicates`` replicates."""
    rng = np.random.default_rng(seed)
    adopted = {code: np.zeros(replicates, dtype=bool) for code in scenario.agenda}
    for year in scenario.years:
        config = scenario.configuration(year)
        p = to_arrays(config)
        voting = np.array([member.votes_in(year) for member in config.members.values()])
        rows = np.flatnonzero(voting)
        n, d = rows.size, len(p.dimensions)
        influence = p.dimensions.index(INFLUENCE)
        wobble = 1 + config.noise.weights * rng.standard_normal((n, replicates, d))
        weights = np.clip(p.weights[0, rows][:, None, :] * wobble, -1, 1)
        for code in scenario.agenda:
            proposal = config.proposals[code]
            if not proposal.is_tabled(year):
                continue
            k = p.proposals.index(code)
            effect = p.effects[0, k].copy()
            effect[influence] = 0.0
            keep = 1 - p.outside_options[0, rows]
            positive = np.maximum(weights, 0)  # the configured weights are not negative
            benefit = np.matmul(positive, (np.maximum(effect, 0) * keep)[:, :, None])[..., 0].T
            cost = np.matmul(positive, np.broadcast_to(np.maximum(-effect, 0), keep.shape)[:, :, None])[..., 0].T
            own = weights[:, :, influence].T * p.gains[0, k, rows]
            benefit += np.maximum(own, 0)
            cost += np.maximum(-own, 0)
            for kind, sign in GAIN_RELATIONS.items():
                value = sign * (p.relations[kind][0, rows] @ p.gains[0, k])
                benefit += np.maximum(value, 0)
                cost += np.maximum(-value, 0)
            benefit += config.noise.judgement * rng.standard_normal((replicates, n))
            sponsor = int(np.flatnonzero(rows == p.actors.index(proposal.sponsor))[0])
            dependence = p.relations["dependence"][0, rows, p.actors.index(proposal.sponsor)]
            tolerance = config.rules.objection_cost + config.rules.deference * dependence
            with np.errstate(divide="ignore", invalid="ignore"):
                limit = np.where(cost > 0, (benefit + np.sqrt(benefit**2 + 4 * cost * tolerance)) / (2 * cost),
                                 np.where(benefit < 0, tolerance / -benefit, np.inf))
            bound = limit.min(axis=1)  # consensus: the most reluctant voter
            if proposal.floor < proposal.ambition:
                grid = np.linspace(proposal.ambition, proposal.floor, config.rules.ambition_steps)
            else:
                grid = np.array([proposal.ambition])
            gain = benefit[:, sponsor, None] * grid - cost[:, sponsor, None] * grid**2
            ok = (grid <= bound[:, None]) & (gain > 0)
            adopted[code] |= ok.any(axis=1)
    return adopted
