"""Sponsors who learn (issue 17, point 4): a sponsor that meets the same objection twice lowers its offer or does
not table; a new situation (an event) makes it try again; the record says ``not_tabled``. Forum choice (issue 19,
point 2): a blocked sponsor takes a proposal outside the SCO where its route is worth more; the record says
``elsewhere``. The tests of resting switch forum choice off, so that the rule they test is the only one acting."""

from __future__ import annotations

import numpy as np

from sim.core.engine import Procedure, Stance
from sim.core.records import Status
from sim.inputs.scenario import load_scenario
from sim.model.model import SCOModel
from sim.model.runner import simulate
from sim.model.sponsors import Belief, learn, objector_bits, perceived_limit
from sim.model.tables import outcome_table

OBJ, S = Stance.OBJECTION, Stance.SUPPORT

#: Persistence 1 in every world: the written value, and a fitted range that is that point.
PERSISTENT = {"noise.persistence": 1.0, "fitted": {"noise.persistence": [1.0, 1.0]}}
#: The learning sponsor alone: no route outside the SCO.
IN_THE_SCO = {"rules.forum_choice": False}


def test_a_sponsor_convinced_twice_by_the_same_objectors_rests_and_otherwise_tables():
    belief = Belief.fresh(1.0, 3)
    assert belief.tables(0.5).all() and (belief.opening(1.0, 0.5) == 1.0).all()
    stance = np.array([[S, OBJ, S], [S, OBJ, S], [S, OBJ, S]], dtype=np.int8)
    blocked = np.array([True, True, False])
    voters = np.ones((3, 3), dtype=bool)
    once = learn(belief, blocked, stance, np.array([0.3, 0.7, 0.1]), voters)
    assert once.met.tolist() == [1, 1, 0]
    assert once.passes_up_to.tolist() == [0.3, 0.7, 1.0]  # lowered where blocked, never raised
    assert once.tables(0.5).all()  # one objection does not convince it
    other = np.array([[S, OBJ, S], [OBJ, S, S], [S, OBJ, S]], dtype=np.int8)
    twice = learn(once, blocked, other, np.array([0.4, 0.2, 0.1]), voters)
    assert twice.met.tolist() == [2, 1, 0]  # the second replicate met different objectors
    assert twice.passes_up_to.tolist() == [0.3, 0.2, 1.0]
    assert twice.tables(0.5).tolist() == [False, True, True]
    assert twice.tables(0.25).tolist() == [True, True, True]  # it expects its floor to pass: it tables
    assert twice.opening(1.0, 0.25).tolist() == [0.3, 0.25, 1.0]
    assert twice.facing(voters, 1.0) is twice  # the same voting body: it remembers
    joined = np.ones((3, 4), dtype=bool)  # a fourth member votes now
    again = twice.facing(joined, 1.0)
    assert again.met.tolist() == [0, 0, 0] and again.tables(0.5).all() and (again.passes_up_to == 1.0).all()


def test_objectors_are_remembered_as_a_set():
    stance = np.array([[OBJ, S, OBJ], [S, S, S]], dtype=np.int8)
    assert objector_bits(stance).tolist() == [0b101, 0]


def test_the_sponsor_reads_limits_with_error_through_the_rule():
    objection = np.array([[0.2, 0.8, 0.9]])
    voters = np.ones((1, 3), dtype=bool)
    exact = perceived_limit(objection, np.zeros((1, 3)), voters, np.ones(3), Procedure())
    assert exact.tolist() == [0.2]  # consensus: the most reluctant member
    off = perceived_limit(objection, np.array([[0.1, -0.9, 0.0]]), voters, np.ones(3), Procedure())
    assert off.tolist() == [0.0]  # it misreads the second member as the most reluctant (never below 0)


def _model_years(path, years):
    model = SCOModel(load_scenario(path))
    beliefs = {}
    for _ in years:
        model.step()
        beliefs[model.year - 1] = model.beliefs.get("free_trade_zone")
    return model, beliefs


def test_a_sponsor_that_meets_the_same_objection_twice_lowers_its_offer_or_does_not_table(write_scenario):
    # 2018-2021: no events, no accessions (India and Pakistan vote from 2017, Iran from 2023)
    path = write_scenario(agenda=["free_trade_zone"], base_events=False, start=2018, end=2021, replicates=300,
                          set=IN_THE_SCO)
    model, beliefs = _model_years(path, range(2018, 2022))
    records = {r.year: r for r in model.records}
    first, second, third = records[2018], records[2019], records[2020]
    ambition = model.arrays.per_replicate(model.arrays.ambition)[:, model.arrays.proposals.index("free_trade_zone")]
    same = ((first.status == Status.BLOCKED) & (second.status == Status.BLOCKED)
            & (objector_bits(first.stance) == objector_bits(second.stance)))
    assert same.sum() > 20  # the situation arises often enough to be tested
    lowered = beliefs[2019].passes_up_to < np.broadcast_to(ambition, same.shape)
    rested = third.status == Status.NOT_TABLED
    assert (lowered[same] | rested[same]).all()
    assert rested[same].any() and not rested[~same & (first.status == Status.ADOPTED)].any()


def test_an_event_makes_the_sponsor_try_again(write_scenario):
    # 2020 and 2021 blocked; in 2022 the base's timeline has an event (Russia's invasion of Ukraine): a new situation
    spec = {"agenda": ["free_trade_zone"], "start": 2020, "end": 2022, "replicates": 300,
            "set": PERSISTENT | IN_THE_SCO}
    events = {r.year: r for r in simulate(load_scenario(write_scenario(**spec))) if r.proposal == "free_trade_zone"}
    quiet = write_scenario(name="quiet", base_events=False, **spec)
    without = {r.year: r for r in simulate(load_scenario(quiet)) if r.proposal == "free_trade_zone"}
    assert (without[2022].status == Status.NOT_TABLED).any()  # with nothing new, some sponsors rest in 2022
    assert not (events[2022].status == Status.NOT_TABLED).any()  # the event makes every one try again


def test_not_tabled_is_its_own_status_in_the_tidy_table(write_scenario):
    path = write_scenario(agenda=["free_trade_zone"], base_events=False, start=2018, end=2021, replicates=100,
                          set=PERSISTENT | IN_THE_SCO)
    table = outcome_table(simulate(load_scenario(path)))
    assert "not_tabled" in set(table.status)
    assert table.loc[table.status == "not_tabled", "objectors"].eq("").all()


def test_without_learning_nothing_rests(write_scenario):
    path = write_scenario(agenda=["free_trade_zone"], base_events=False, start=2015, end=2018, replicates=100,
                          set={**PERSISTENT, "rules.sponsor_learns": False})
    table = outcome_table(simulate(load_scenario(path)))
    assert "not_tabled" not in set(table.status)


# --- forum choice -------------------------------------------------------------------------------------

#: A sponsor that gains U = a - 0.25 a**2 (0.75 in full) from a proposal with floor 0.5.
GAIN = (np.full(4, 1.0), np.full(4, 0.25))


def test_a_sponsor_takes_a_proposal_elsewhere_once_blocked_where_the_route_is_worth_more():
    belief = Belief.fresh(1.0, 4)
    never_blocked = belief.weighing(*GAIN, 1.0, 0.5, 0.9)
    assert not never_blocked.elsewhere.any()  # it tries the SCO first, however good the route
    stance = np.array([[OBJ, S]] * 4, dtype=np.int8)
    # blocked everywhere; it now expects 0.8, 0.6, 0.4 (below its floor: nothing) and 0.8 to pass
    blocked = learn(belief, np.ones(4, bool), stance, np.array([0.8, 0.6, 0.4, 0.8]), np.ones((4, 2), bool))
    share = np.array([0.5, 0.9, 0.1, 0.0])
    going = blocked.weighing(*GAIN, 1.0, 0.5, share)
    # the SCO is worth U(0.8) = 0.64, U(0.6) = 0.51, 0 and 0.64; the route 0.375, 0.675, 0.075 and 0
    assert going.elsewhere.tolist() == [False, True, True, False]
    assert going.weighing(*GAIN, 1.0, 0.5, 0.0).elsewhere.tolist() == [False, True, True, False]  # it stays there
    assert not going.facing(np.ones((4, 3), bool), 1.0).elsewhere.any()  # a new voting body: back to the SCO


def test_a_blocked_proposal_goes_elsewhere_and_its_sponsor_stops_tabling_it(write_scenario):
    path = write_scenario(agenda=["free_trade_zone"], base_events=False, start=2018, end=2021, replicates=300,
                          set=PERSISTENT)
    records = [r for r in simulate(load_scenario(path)) if r.proposal == "free_trade_zone"]
    status = np.stack([r.status for r in records])  # (years, R)
    away = status == Status.ELSEWHERE
    assert away.any(axis=0).mean() > 0.5  # the FTZ is blocked often enough for the route to matter
    assert not away[0].any()  # never before it has been blocked
    ever_blocked = np.maximum.accumulate(status == Status.BLOCKED, axis=0)
    assert not (away[1:] & ~ever_blocked[:-1]).any()  # only after a block
    gone = np.maximum.accumulate(away, axis=0)
    assert (status[gone] == Status.ELSEWHERE).all()  # its effort stays outside while the situation lasts
    table = outcome_table(records)
    assert table.loc[table.status == "elsewhere", "objectors"].eq("").all()
    off = write_scenario(name="off", agenda=["free_trade_zone"], base_events=False, start=2018, end=2021,
                         replicates=300, set=PERSISTENT | IN_THE_SCO)
    assert not any((r.status == Status.ELSEWHERE).any() for r in simulate(load_scenario(off)))


def test_an_event_brings_the_sponsor_back_to_the_sco(write_scenario):
    path = write_scenario(agenda=["free_trade_zone"], start=2019, end=2022, replicates=300, set=PERSISTENT)
    records = {r.year: r for r in simulate(load_scenario(path)) if r.proposal == "free_trade_zone"}
    assert (records[2021].status == Status.ELSEWHERE).any()
    assert not (records[2022].status == Status.ELSEWHERE).any()  # 2022's event: it tries the SCO again
