"""The decision engine on small hand-worked cases, and against a brute-force reference."""

from __future__ import annotations

import numpy as np
import pytest

from sim.core.engine import RULES, Procedure, Route, Stance, Terms, Valuation, decide, offers

S, R, OBJECTION, A, X = Stance.SUPPORT, Stance.RESERVATION, Stance.OBJECTION, Stance.STAND_ASIDE, Stance.ABSENT


def one(benefit, cost, outside_benefit=None, outside_cost=None) -> Valuation:
    """A valuation for one replicate from per-member lists."""
    b, c = np.array([benefit], float), np.array([cost], float)
    ob = np.zeros_like(b) if outside_benefit is None else np.array([outside_benefit], float)
    oc = np.zeros_like(c) if outside_cost is None else np.array([outside_cost], float)
    return Valuation(b, c, ob, oc)


def run(value, *, tolerance=0.1, voters=None, capability=None, rule="consensus", **terms):
    n = value.benefit.shape[1]
    voters = np.ones((1, n), bool) if voters is None else np.array([voters])
    capability = np.ones(n) if capability is None else np.array(capability, float)
    tol = np.full((1, n), tolerance, float) if np.isscalar(tolerance) else np.array([tolerance], float)
    return decide(value, tol, voters, capability, Terms(sponsor=0, **terms), Procedure(rule=rule, ambition_steps=9))


# Three members: the sponsor and one other gain; the third loses 1 at full ambition (beyond its tolerance 0.1).
THREE = one([1.0, 1.0, 0.0], [0.0, 0.0, 1.0])


@pytest.mark.parametrize(
    ("rule", "capability", "adopted"),
    [
        ("consensus", None, False),
        ("consensus_minus_one", None, True),
        ("two_thirds", None, True),
        ("majority", None, True),
        ("capability_majority", [1, 1, 1], True),
        ("capability_majority", [1, 1, 5], False),  # the objector holds 5/7 of the capability
    ],
)
def test_only_consensus_blocks_a_single_objector(rule, capability, adopted):
    decision = run(THREE, rule=rule, capability=capability)
    assert decision.adopted[0] == adopted
    assert decision.stance[0].tolist() == [S, S, OBJECTION]
    assert decision.route[0] == (Route.AS_PROPOSED if adopted else Route.BLOCKED)


def test_two_thirds_needs_two_thirds_of_voters():
    # four voters, two object: 2/4 < 2/3 fails; three of four would pass
    value = one([1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0])
    assert not run(value, rule="two_thirds").adopted[0]
    assert not run(value, rule="majority").adopted[0]  # 2 of 4 is not more than half
    assert run(one([1.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]), rule="two_thirds").adopted[0]


def test_ambition_is_lowered_to_what_the_most_reluctant_member_accepts():
    # Member 1: U(a) = 0.5a - 1.5a^2 >= -0.1 up to a = (0.5 + sqrt(0.85)) / 3 = 0.474.
    value = one([1.0, 0.5, 1.0], [0.0, 1.5, 0.0])
    decision = run(value, ambition=1.0, min_ambition=0.2)  # offers 1.0, 0.9, ..., 0.2
    assert decision.adopted[0]
    assert decision.route[0] == Route.LOWERED
    assert decision.ambition[0] == pytest.approx(0.4)  # the most ambitious offer below 0.474
    assert decision.stance[0].tolist() == [S, R, S]  # U(0.4) = -0.04: a reservation, not a block
    assert decision.initial_stance[0].tolist() == [S, OBJECTION, S]


def test_no_lowering_below_the_floor():
    value = one([1.0, 0.5, 1.0], [0.0, 1.5, 0.0])
    decision = run(value, ambition=1.0, min_ambition=0.6)
    assert not decision.adopted[0]
    assert decision.route[0] == Route.BLOCKED
    assert decision.stance[0].tolist() == [S, OBJECTION, S]  # at the last offer, the floor
    assert np.isnan(decision.ambition[0])


def test_a_package_turns_an_objection_into_support():
    alone = one([1.0, 1.0, 0.0], [0.0, 0.0, 1.0])  # member 2 objects (U = -1)
    sweetener = one([0.2, 0.0, 2.0], [0.0, 0.0, 0.0])  # the linked proposal is worth 2 to member 2
    assert not run(alone).adopted[0]
    package = alone.scaled(1.0) + sweetener.scaled(1.0)
    decision = run(package)
    assert decision.adopted[0]
    assert decision.stance[0].tolist() == [S, S, S]


def test_package_parts_scale_with_their_ambitions():
    part = one([1.0], [2.0])
    scaled = part.scaled(0.5)
    assert scaled.benefit[0, 0] == pytest.approx(0.5)  # U(s) = b*(0.5 s) - c*(0.5 s)^2
    assert scaled.cost[0, 0] == pytest.approx(0.5)


def test_side_payment_buys_out_an_objector_within_budget():
    value = one([2.0, 1.0, 0.0], [0.0, 0.0, 1.0])  # member 2: U(1) = -1, shortfall to -0.1 is 0.9
    paid = run(value, side_payment=1.0)
    assert paid.adopted[0]
    assert paid.route[0] == Route.SIDE_PAYMENT
    assert paid.side_payment[0] == pytest.approx(0.9)
    assert paid.stance[0].tolist() == [S, S, R]
    short = run(value, side_payment=0.5)
    assert not short.adopted[0]
    assert short.side_payment[0] == 0.0


def test_side_payment_must_leave_the_sponsor_a_gain():
    value = one([0.8, 1.0, 0.0], [0.0, 0.0, 1.0])  # paying 0.9 would cost the sponsor more than its 0.8
    assert not run(value, side_payment=5.0).adopted[0]


def test_opt_in_lets_the_reluctant_stand_aside():
    # member 2 loses by taking part, but staying out costs it nothing
    value = one([1.0, 1.0, 0.0], [0.0, 0.0, 1.0], outside_benefit=[0, 0, 0], outside_cost=[0, 0, 0])
    decision = run(value, opt_in=True)
    assert decision.adopted[0]
    assert decision.stance[0].tolist() == [S, S, A]


def test_opt_in_objection_when_staying_out_hurts_too():
    # member 2 is hurt by the others' gains even if it stays out (relative gains)
    value = one([1.0, 1.0, 0.0], [0.0, 0.0, 1.0], outside_benefit=[0, 0, 0], outside_cost=[0, 0, 0.5])
    decision = run(value, opt_in=True)
    assert not decision.adopted[0]
    assert decision.stance[0].tolist() == [S, S, OBJECTION]


def test_opt_in_needs_enough_participants():
    value = one([1.0, 0.0, 0.0], [0.0, 1.0, 1.0])
    decision = run(value, opt_in=True, min_participants=2)
    assert not decision.adopted[0]
    assert decision.route[0] == Route.WITHDRAWN  # nobody objects, but only the sponsor takes part
    assert run(value, opt_in=True, min_participants=1).adopted[0]


def test_sponsor_withdraws_what_is_worth_nothing_to_it():
    value = one([0.0, 1.0, 1.0], [1.0, 0.0, 0.0])
    decision = run(value, tolerance=[5.0, 0.1, 0.1])  # the sponsor would not object, but gains nothing
    assert not decision.adopted[0]
    assert decision.route[0] == Route.WITHDRAWN


def test_non_voters_neither_block_nor_count():
    decision = run(THREE, voters=[True, True, False])
    assert decision.adopted[0]
    assert decision.stance[0].tolist() == [S, S, X]


def test_dependence_as_tolerance_turns_an_objection_into_a_reservation():
    assert not run(THREE, tolerance=[0.1, 0.1, 0.5]).adopted[0]  # U = -1 below -0.5
    decision = run(THREE, tolerance=[0.1, 0.1, 1.5])
    assert decision.adopted[0]
    assert decision.stance[0].tolist() == [S, S, R]


def test_a_valuation_where_staying_out_costs_more_is_refused():
    with pytest.raises(ValueError, match="outside_cost"):
        run(one([1.0, 1.0], [0.0, 0.2], outside_benefit=[0, 0], outside_cost=[0, 0.5]), opt_in=True)


def test_offers_run_from_the_proposed_ambition_to_the_floor():
    stepped = offers(Terms(sponsor=0, ambition=1.0, min_ambition=0.5), 6)
    assert stepped.shape == (1, 6)  # one row of offers for every replicate
    assert stepped[0].tolist() == pytest.approx([1.0, 0.9, 0.8, 0.7, 0.6, 0.5])
    assert offers(Terms(sponsor=0, ambition=0.8), 21).tolist() == [[0.8]]
    # one row per replicate where each replicate's world reads the terms differently; a floor above the ambition
    # is lowered to it
    own = offers(Terms(sponsor=0, ambition=np.array([1.0, 0.6]), min_ambition=np.array([0.5, 0.8])), 6)
    assert own[0].tolist() == pytest.approx([1.0, 0.9, 0.8, 0.7, 0.6, 0.5])
    assert own[1].tolist() == pytest.approx([0.6] * 6)


# --- against a brute-force reference ----------------------------------------------------------


def reference(value, tol, voters, capability, terms, procedure):
    """The engine's rules applied literally: every replicate, every offer, every member, in Python."""
    grid = offers(terms, procedure.ambition_steps)[0]
    out = []
    for r in range(value.benefit.shape[0]):
        def at(a, r=r):
            stances, shortfall = [], 0.0
            for i in range(value.benefit.shape[1]):
                inside = value.benefit[r, i] * a - value.cost[r, i] * a * a
                outside = value.outside_benefit[r, i] * a - value.outside_cost[r, i] * a * a
                best = max(inside, outside) if terms.opt_in else inside
                if not voters[r, i]:
                    stances.append(X)
                    continue
                if terms.opt_in:
                    s = S if inside >= max(outside, 0) else (OBJECTION if best < -tol[r, i] else A)
                else:
                    s = S if inside >= 0 else (OBJECTION if inside < -tol[r, i] else R)
                stances.append(s)
                shortfall += (-tol[r, i] - best) if s == OBJECTION else 0.0
            return stances, shortfall

        def passes(stances):
            n = sum(s != X for s in stances)
            objecting = sum(s == OBJECTION for s in stances)
            share = procedure.threshold
            if procedure.rule == "consensus":
                return objecting == 0
            if procedure.rule == "consensus_minus_one":
                return objecting <= 1
            if procedure.rule == "two_thirds":
                return n - objecting >= (2 / 3 if share is None else share) * n - 1e-9
            if procedure.rule == "majority":
                return n - objecting > (0.5 if share is None else share) * n
            weight = [capability[i] for i, s in enumerate(stances) if s != X]
            yes = sum(capability[i] for i, s in enumerate(stances) if s not in (X, OBJECTION))
            return yes > (0.5 if share is None else share) * sum(weight)

        def gain(a, r=r):
            return value.benefit[r, terms.sponsor] * a - value.cost[r, terms.sponsor] * a * a

        result = None
        for g, a in enumerate(grid):
            stances, _ = at(a)
            participants = sum(s in (S, R) for s in stances)
            if passes(stances) and participants >= terms.min_participants and gain(a) > 0:
                result = (True, a, Route.AS_PROPOSED if g == 0 else Route.LOWERED, stances)
                break
        if result is None and terms.side_payment > 0:
            for a in grid:
                stances, payment = at(a)
                after = sum(s in ((S,) if terms.opt_in else (S, R, OBJECTION)) for s in stances)
                if payment <= terms.side_payment and gain(a) - payment > 0 and after >= terms.min_participants:
                    paid = [(A if terms.opt_in else R) if s == OBJECTION else s for s in stances]
                    result = (True, a, Route.SIDE_PAYMENT, paid)
                    break
        if result is None:
            stances, _ = at(grid[-1])
            result = (False, np.nan, Route.WITHDRAWN if passes(stances) else Route.BLOCKED, stances)
        out.append(result)
    return out


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("opt_in", [False, True])
@pytest.mark.parametrize("budget", [0.0, 0.6])
def test_engine_matches_brute_force_reference(rule, opt_in, budget):
    rng = np.random.default_rng(hash((rule, opt_in, budget)) % 2**32)
    n_rep, n = 300, 5
    cost = rng.uniform(0, 1.5, (n_rep, n)) * (rng.random((n_rep, n)) < 0.8)
    outside_cost = np.minimum(rng.uniform(0, 0.6, (n_rep, n)) * (rng.random((n_rep, n)) < 0.5), cost)
    value = Valuation(rng.uniform(-0.3, 1.2, (n_rep, n)), cost, rng.uniform(-0.2, 0.3, (n_rep, n)), outside_cost)
    tol = rng.uniform(0, 0.4, (n_rep, n))
    voters = rng.random((n_rep, n)) < 0.85
    voters[:, 0] = True
    capability = rng.uniform(0.1, 1.0, n)
    terms = Terms(sponsor=0, ambition=1.0, min_ambition=0.3, opt_in=opt_in, side_payment=budget, min_participants=2)
    procedure = Procedure(rule=rule, ambition_steps=8)
    decision = decide(value, tol, voters, capability, terms, procedure)
    expected = reference(value, tol, voters, capability, terms, procedure)
    assert decision.adopted.tolist() == [e[0] for e in expected]
    np.testing.assert_allclose(decision.ambition, [e[1] for e in expected])
    assert decision.route.tolist() == [int(e[2]) for e in expected]
    assert decision.stance.tolist() == [[int(s) for s in e[3]] for e in expected]
    assert len(set(decision.route.tolist())) >= 2  # the random cases exercise more than one route


def test_the_models_fast_valuation_equals_the_sum_of_contributions():
    from sim.inputs.scenario import load_scenario
    from sim.model.interests import contributions, loadings, to_arrays, valuation, valuation_of

    from .conftest import ROOT

    config = load_scenario(ROOT / "scenarios" / "history.yaml").configuration(2024)
    arrays = to_arrays(config)
    rows = np.arange(len(arrays.actors))
    rng = np.random.default_rng(5)
    weights = rng.uniform(-1, 1, (50, len(rows), len(arrays.dimensions)))  # negative weights too
    for p in range(len(arrays.proposals)):
        slow = valuation(contributions(weights, arrays, p, rows), len(arrays.dimensions))
        fast = valuation_of(np.ascontiguousarray(weights.transpose(1, 0, 2)), arrays, loadings(arrays, p, rows))
        for name in ("benefit", "cost", "outside_benefit", "outside_cost"):
            expected = np.broadcast_to(getattr(slow, name), (50, len(rows)))
            np.testing.assert_allclose(getattr(fast, name), expected, atol=1e-12, err_msg=name)
