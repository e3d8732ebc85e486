"""Plain-numpy implementations of the model's decision kernel: the floor for this work in Python.

Two kernels, each the same model as sim for proposals that are all-participation, unlinked and without side
payments, under consensus: what the baseline scenario needs. No Mesa, no validation, no records: arrays in,
adoption out. Their noise comes from numpy's own generator, so their numbers match sim's in distribution, not
draw for draw.

* :func:`run_point`: the model before issue 17 (the numbers as written, fresh noise at each summit, a sponsor that
  tables every year at the proposal's ambition); the benchmark runs sim in that configuration too
  (``bench/run.py``, ``POINT_MODEL``).
* :func:`run`: the model of issue 17 (the default): each world of ``world_size`` replicates reads every coded number
  and constant from its plausible range (read by sim's own :func:`sim.model.worlds.drawn`, the input stage, whose
  cost the benchmark reports on its own); members' priorities and judgement drift as AR(1) processes; a sponsor
  opens at what it believes will pass, learns from each block what the objectors would accept, as it sees it with
  error, and lets a proposal rest after meeting the same objectors twice when it expects not even its floor to
  pass; a new configuration or voting body makes it forget.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.inputs.configuration import INFLUENCE, Configuration
from sim.inputs.plausible import CONSTANTS, plausible_ranges
from sim.inputs.scenario import Scenario
from sim.model.interests import GAIN_RELATIONS, Arrays, to_arrays
from sim.model.worlds import drawn

Floats = NDArray[np.float64]


def _objection_limit(benefit: Floats, cost: Floats, tolerance: Floats) -> Floats:
    """The largest ambition at which benefit*a - cost*a**2 >= -tolerance (inf if there is none)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(cost > 0, (benefit + np.sqrt(benefit**2 + 4 * cost * tolerance)) / (2 * cost),
                        np.where(benefit < 0, tolerance / -benefit, np.inf))


def run_point(scenario: Scenario, replicates: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Adoption by the end of the run, per proposal, for ``replicates`` replicates of the model before issue 17."""
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
            bound = _objection_limit(benefit, cost, tolerance).min(axis=1)  # consensus: the most reluctant voter
            if proposal.floor < proposal.ambition:
                grid = np.linspace(proposal.ambition, proposal.floor, config.rules.ambition_steps)
            else:
                grid = np.array([proposal.ambition])
            gain = benefit[:, sponsor, None] * grid - cost[:, sponsor, None] * grid**2
            ok = (grid <= bound[:, None]) & (gain > 0)
            adopted[code] |= ok.any(axis=1)
    return adopted


class _Worlds:
    """One configuration's numbers, stored once per world (U worlds of S replicates: replicate u * S + s lives in
    world u, so per-replicate arrays are (U, S, ...) and per-world ones broadcast against them without a copy)."""

    def __init__(self, config: Configuration, seed: int, replicates: int) -> None:
        point = to_arrays(config)
        parameters = config.noise.parameters
        size = 1 if parameters == "fixed" else config.noise.world_size
        assert replicates % size == 0, "the kernel runs whole worlds"
        self.shape = (replicates // size, size)
        self.arrays: Arrays = point if parameters == "fixed" else drawn(
            point, plausible_ranges(config, fitted=parameters == "drawn"), seed, np.arange(replicates), size)
        # each constant the worlds may draw (U or 1, 1, 1): per world, against (U, S, n) arrays
        self.constant = {path: self.arrays.constants.get(path, np.full((1, 1), _written(config, path)))[:, :, None]
                         for path in CONSTANTS}

    def of(self, array: Floats) -> Floats:
        """``array`` (world axis first) against per-replicate arrays: a replicate axis of 1 after the world's."""
        return array[:, None]


def _written(config: Configuration, path: str) -> float:
    """A constant of the model as the configuration writes it (``rules.objection_cost``)."""
    block, field = path.split(".")
    return float(getattr(getattr(config, block), field))


def _ar1(previous: Floats | None, innovation: Floats, rho: Floats) -> Floats:
    """A stationary AR(1) step with standard normal margins (the first year: the innovation)."""
    return innovation if previous is None else rho * previous + np.sqrt(1 - rho**2) * innovation


def _bits(members: NDArray[np.bool_], codes: list[str], index: dict[str, int]) -> NDArray[np.uint64]:
    """A set of members (..., n) as one integer, one bit per member code (stable as members join)."""
    weights = np.array([1 << index.setdefault(code, len(index)) for code in codes], dtype=np.uint64)
    return (members.astype(np.uint64) * weights).sum(axis=-1, dtype=np.uint64)


def _loadings(worlds: _Worlds, code: str, rows: NDArray[np.intp]) -> dict[str, Floats]:
    """What the proposal ``code`` is worth to the members at ``rows`` per unit of each weight, per world (U, 1, ...):
    benefit = w+ . gain_up + w- . gain_down + ..., cost = w+ . loss_up + ...; the value of others' gains through
    relations; and each member's dependence on each member at ``rows`` as a sponsor."""
    a = worlds.arrays
    k = a.proposals.index(code)
    effect = a.effects[:, k].copy()
    effect[:, a.dimensions.index(INFLUENCE)] = 0.0
    up, down = np.maximum(effect, 0)[:, None, :], np.maximum(-effect, 0)[:, None, :]
    keep = 1 - a.outside_options[:, rows]
    gains = a.gains[:, k]
    relational = [sign * np.einsum("wnm,wm->wn", a.relations[kind][:, rows], gains)
                  for kind, sign in GAIN_RELATIONS.items()]
    at_world = {"gain_up": up * keep, "gain_down": down * keep, "loss_up": np.broadcast_to(down, keep.shape),
                "loss_down": np.broadcast_to(up, keep.shape), "own_gain": gains[:, rows],
                "relational_benefit": sum(np.maximum(value, 0) for value in relational),
                "relational_cost": sum(np.maximum(-value, 0) for value in relational),
                "dependence": a.relations["dependence"][:, rows][:, :, rows]}  # member x sponsor
    return {name: worlds.of(np.ascontiguousarray(value)) for name, value in at_world.items()}


def run(scenario: Scenario, replicates: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Adoption by the end of the run (and ``<code>:rested``: its sponsor let it rest in some year;
    ``<code>:elsewhere``: it took the proposal outside the SCO in some year), per proposal, for ``replicates``
    replicates of the model of issue 17 with issue 19's forum choice. The worlds are the scenario's (its seed);
    ``seed`` seeds the yearly noise."""
    rng = np.random.default_rng(seed)
    assert scenario.configuration(scenario.start).rules.decision == "consensus", "the kernel implements consensus"
    shape = _Worlds(scenario.configuration(scenario.start), scenario.seed, replicates).shape
    adopted = {code: np.zeros(shape, dtype=bool) for code in scenario.agenda}
    rested = {code: np.zeros(shape, dtype=bool) for code in scenario.agenda}
    away = {code: np.zeros(shape, dtype=bool) for code in scenario.agenda}
    drift: dict[str, Floats] = {}  # member -> (U, S, D) standardised wobble of its weights
    misjudged: dict[str, dict[str, tuple[int, Floats]]] = {code: {} for code in scenario.agenda}
    bit: dict[str, int] = {}
    config: Configuration | None = None
    for year in scenario.years:
        if scenario.configuration(year) is not config:
            config = scenario.configuration(year)
            worlds = _Worlds(config, scenario.seed, replicates)
            assert worlds.shape == shape
            beliefs: dict[str, dict[str, NDArray]] = {}  # a new configuration: sponsors forget
            loads: dict[tuple[str, tuple[str, ...]], dict[str, Floats]] = {}
        a, c = worlds.arrays, worlds.constant
        codes = [code for code, member in config.members.items() if member.votes_in(year)]
        rows = np.array([a.actors.index(code) for code in codes])
        n = rows.size
        innovation = rng.standard_normal((*shape, n, len(a.dimensions)))
        for j, code in enumerate(codes):  # priorities: the written (or drawn) weights, wobbling by an AR(1) drift
            drift[code] = _ar1(drift.get(code), innovation[:, :, j], c["noise.persistence"])
        wobble = np.stack([drift[code] for code in codes], axis=2)  # (U, S, n, D)
        weights = np.clip(worlds.of(a.weights[:, rows]) * (1 + c["noise.weights"][..., None] * wobble), -1, 1)
        w_up, w_down = np.maximum(weights, 0), np.maximum(-weights, 0)
        influence = a.dimensions.index(INFLUENCE)
        voters_now = _bits(np.ones(n, dtype=bool), codes, bit)
        for code in scenario.agenda:
            proposal = config.proposals[code]
            assert proposal.participation == "all" and not proposal.links and not proposal.admits
            if not proposal.is_tabled(year):
                continue
            if (code, tuple(codes)) not in loads:
                loads[code, tuple(codes)] = _loadings(worlds, code, rows)
            load = loads[code, tuple(codes)]
            benefit = np.einsum("usnd,usnd->usn", w_up, load["gain_up"]) + load["relational_benefit"]
            cost = np.einsum("usnd,usnd->usn", w_up, load["loss_up"]) + load["relational_cost"]
            if w_down.any():  # a weight drawn below zero counts progress on its dimension as a loss
                benefit += np.einsum("usnd,usnd->usn", w_down, load["gain_down"])
                cost += np.einsum("usnd,usnd->usn", w_down, load["loss_down"])
            own = weights[..., influence] * load["own_gain"]
            benefit += np.maximum(own, 0)
            cost += np.maximum(-own, 0)
            # judgement: each member's misjudgement drifts from the last year the proposal came up
            judged = rng.standard_normal((*shape, n))
            for j, member in enumerate(codes):
                last = misjudged[code].get(member)
                if last is not None:
                    judged[..., j] = _ar1(last[1], judged[..., j], c["noise.persistence"][..., 0] ** (year - last[0]))
                misjudged[code][member] = (year, judged[..., j])
            benefit += c["noise.judgement"] * judged

            sponsor = codes.index(proposal.sponsor)
            tolerance = c["rules.objection_cost"] + c["rules.deference"] * load["dependence"][..., sponsor]
            objection = _objection_limit(benefit, cost, tolerance)
            bound = objection.min(axis=-1)  # consensus: the most reluctant voter
            k = a.proposals.index(code)
            ambition, floor = worlds.of(a.ambition[:, k]), worlds.of(a.floor[:, k])
            assert not a.side_payment[:, k].any(), "the kernel implements no side payments"

            # the sponsor: what it believes will pass, and whether it tables the proposal
            learns = config.rules.sponsor_learns
            belief = beliefs.get(code)
            if belief is None or not learns:
                belief = {"up_to": np.broadcast_to(ambition, shape), "objectors": np.zeros(shape, np.uint64),
                          "met": np.zeros(shape, np.int64), "voters": np.zeros(shape, np.uint64),
                          "elsewhere": np.zeros(shape, bool)}
            new_body = (belief["met"] > 0) & (belief["voters"] != voters_now)
            belief = {key: np.where(new_body, fresh, value) for (key, value), fresh in zip(
                belief.items(), (ambition, 0, 0, 0, False), strict=True)}
            tables = ~((belief["met"] >= 2) & (belief["up_to"] < floor)) if learns else np.ones(shape, bool)
            opening = np.minimum(ambition, np.maximum(belief["up_to"], floor)) if learns else ambition
            share = worlds.of(a.elsewhere[:, k])
            if learns and config.rules.forum_choice and share.any():  # the route outside the SCO, once blocked
                b, q = benefit[..., sponsor], cost[..., sponsor]
                expected = np.where(belief["up_to"] >= floor, b * opening - q * opening**2, 0.0)
                route = share * np.maximum(b * ambition - q * ambition**2, 0.0)
                belief["elsewhere"] = belief["elsewhere"] | ((belief["met"] > 0) & (route > np.maximum(expected, 0)))
            gone = ~adopted[code] & belief["elsewhere"]
            away[code] |= gone
            tables &= ~belief["elsewhere"]
            grid = np.linspace(opening, np.minimum(floor, opening), config.rules.ambition_steps, axis=-1)
            grid = np.broadcast_to(grid, (*shape, grid.shape[-1]))
            gain = benefit[..., sponsor, None] * grid - cost[..., sponsor, None] * grid**2
            passes = ((grid <= bound[..., None]) & (gain > 0)).any(axis=-1)
            pending = ~adopted[code] & tables
            rested[code] |= ~adopted[code] & ~tables & ~gone
            blocked = pending & (grid[..., -1] > bound)
            adopted[code] |= pending & passes
            if learns:  # the sponsor reads the objections at its floor, each limit seen with an error
                error = c["rules.sponsor_error"] * rng.standard_normal((*shape, n))
                perceived = np.maximum(objection + error, 0).min(axis=-1)
                seen = _bits(grid[..., -1:] > objection, codes, bit)
                same = blocked & (seen == belief["objectors"])
                belief = {"up_to": np.where(blocked, np.minimum(belief["up_to"], perceived), belief["up_to"]),
                          "objectors": np.where(blocked, seen, belief["objectors"]),
                          "met": np.where(blocked, np.where(same, belief["met"] + 1, 1), belief["met"]),
                          "voters": np.where(blocked, voters_now, belief["voters"]), "elsewhere": belief["elsewhere"]}
            beliefs[code] = belief
    found = adopted | {f"{code}:rested": rests for code, rests in rested.items()}
    found |= {f"{code}:elsewhere": gone for code, gone in away.items()}
    return {name: value.reshape(replicates) for name, value in found.items()}
