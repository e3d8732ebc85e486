"""The Mesa model over several years: determinism, independent replicates, accessions, packages."""

from __future__ import annotations

import numpy as np
import pytest

from sim.core.engine import Stance
from sim.core.records import Record, Status
from sim.inputs.scenario import load_scenario
from sim.model.agents import MemberAgent
from sim.model.model import REPORTERS, SCOModel
from sim.model.runner import simulate

from .conftest import ROOT

FIELDS = Record.per_replicate()


def assert_same(a, b):
    assert [(r.year, r.proposal, r.actors) for r in a] == [(r.year, r.proposal, r.actors) for r in b]
    for x, y in zip(a, b, strict=True):
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(x, name), getattr(y, name), err_msg=f"{x.proposal} {x.year} {name}")


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(ROOT / "scenarios" / "baseline.yaml", replicates=200)


def test_same_scenario_and_seed_give_identical_numbers(baseline):
    assert_same(simulate(baseline), simulate(baseline))


def test_another_seed_gives_other_numbers():
    a = simulate(load_scenario(ROOT / "scenarios" / "baseline.yaml", replicates=200, seed=1))
    b = simulate(load_scenario(ROOT / "scenarios" / "baseline.yaml", replicates=200, seed=2))
    assert any(not np.array_equal(x.stance, y.stance) for x, y in zip(a, b, strict=True))


def test_replicates_do_not_depend_on_batching_or_on_each_other(baseline):
    whole = simulate(baseline)
    assert_same(whole, simulate(baseline, batch=37))
    alone = SCOModel(baseline, replicates=range(150, 160)).run()
    for x, y in zip(whole, alone, strict=True):
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(x, name)[150:160], getattr(y, name))


def test_package_records_do_not_depend_on_batching():
    # a linked proposal off the agenda is recorded whether or not its package was offered in a batch
    scenario = load_scenario(ROOT / "scenarios" / "expansion-2015.yaml", replicates=200)
    assert_same(simulate(scenario), simulate(scenario, batch=10))


def test_every_state_is_an_agent_and_the_deciders_are_the_members_sponsors_and_candidates():
    scenario = load_scenario(ROOT / "scenarios" / "expansion-2015.yaml", replicates=5)
    model = SCOModel(scenario)
    config = scenario.configuration(scenario.start)
    assert sorted(model.agents.get("code")) == sorted(config.members)
    assert all(isinstance(agent, MemberAgent) for agent in model.agents)
    members = {code for code, member in config.members.items() if member.status == "member"}
    assert set(model.decider_codes) == members | {"india", "pakistan"}  # the candidates of admit_india and its link
    assert all(agent in model.agents for agent in model.deciders)
    records = model.run()
    assert all(record.actors == model.decider_codes[: len(record.actors)] for record in records)


def test_the_reporters_declare_every_field_the_record_reports():
    assert tuple(REPORTERS) == Record.reported()
    assert Record.per_replicate()[0] == "replicates"


def test_replicates_differ(baseline):
    # the noise must make replicates differ somewhere, or 200 replicates would be one run 200 times
    stances = np.concatenate([r.stance for r in simulate(baseline)], axis=1)
    assert len(np.unique(stances, axis=0)) > 10


def test_member_acceding_mid_run_votes_only_from_its_accession(write_scenario):
    path = write_scenario(
        start=2014, end=2019, agenda=["free_trade_zone"],
        set={"members.india": {"status": "observer", "joined": None}, "noise.judgement": 0.0},
        events=[{"year": 2017, "accede": ["india"]}],
    )
    records = SCOModel(load_scenario(path)).run()
    assert [r.year for r in records] == list(range(2014, 2020))
    for r in records:
        # an observer is not even among the deciders; from its accession on it votes wherever there is a decision
        votes = r.stance[:, r.actors.index("india")] != Stance.ABSENT if "india" in r.actors else np.zeros(50, bool)
        decided = r.status <= Status.WITHDRAWN
        assert (votes == (decided & (r.year >= 2017))).all(), r.year
    # India objects to the free trade zone in some replicate once it votes (its rivalry with China)
    assert any((r.stance[:, r.actors.index("india")] == Stance.OBJECTION).any() for r in records if r.year >= 2017)


def test_admission_by_proposal_counts_from_the_next_summit():
    scenario = load_scenario(ROOT / "scenarios" / "expansion-2015.yaml", replicates=300)
    records = simulate(scenario)
    admitted = {}
    for r in records:
        if r.proposal == "admit_india":
            for rep in np.flatnonzero(r.status == Status.ADOPTED):
                admitted.setdefault(int(rep), r.year)
    assert admitted, "India must be admitted in some replicates"
    for r in records:
        if r.proposal != "free_trade_zone":
            continue
        india = r.stance[:, r.actors.index("india")]
        for rep in range(300):
            joined = admitted.get(rep)
            voted = india[rep] != Stance.ABSENT
            eligible = joined is not None and r.year > joined and r.status[rep] <= Status.WITHDRAWN
            assert voted == eligible, (rep, r.year)


def test_india_alone_is_blocked_by_china_and_passes_in_a_package_with_pakistan():
    records = simulate(load_scenario(ROOT / "scenarios" / "expansion-2015.yaml", replicates=300))
    first = next(r for r in records if r.proposal == "admit_india")
    china = first.actors.index("china")
    assert (first.initial_stance[:, china] == Stance.OBJECTION).mean() > 0.5
    package = first.route == 3  # Route.PACKAGE
    assert package.mean() > 0.5
    pakistan = next(r for r in records if r.proposal == "admit_pakistan" and r.year == first.year)
    assert np.array_equal(pakistan.status[package], first.status[package])  # adopted whole or not at all


def test_a_new_member_and_proposal_defined_in_the_scenario_run_without_code(write_scenario):
    path = write_scenario(
        agenda=["joint_statement"],
        set={
            "members.mongolia": {"status": "member", "joined": 2016},
            "proposals.joint_statement": {
                "name": "Joint statement against unilateral sanctions", "sponsor": "russia",
                "effects": {"multipolarity": 0.8}, "sources": {"sponsor": "test"},
            },
        },
    )
    records = SCOModel(load_scenario(path)).run()
    assert {r.proposal for r in records} == {"joint_statement"}
    assert "mongolia" in records[-1].actors
    mongolia = records[-1].stance[:, records[-1].actors.index("mongolia")]
    assert (mongolia != Stance.ABSENT).any() or (records[-1].status == Status.IN_FORCE).all()
    assert (records[0].status == Status.ADOPTED).mean() > 0.5


def test_events_change_alignment_in_their_year(write_scenario):
    path = write_scenario(start=2020, end=2023, agenda=["free_trade_zone"], replicates=400,
                          events=[{"year": 2022, "set": {"members.russia.relations.china.dependence": 1.0,
                                                         "members.russia.weights.economic": 0.9}}])
    scenario = load_scenario(path)
    assert scenario.configuration(2021).members["russia"].weights["economic"] == 0.4  # the base timeline's 2014 value
    assert scenario.configuration(2022).members["russia"].weights["economic"] == 0.9
    records = SCOModel(scenario).run()
    russia = records[0].actors.index("russia")
    objected = {r.year: (r.initial_stance[:, russia] == Stance.OBJECTION)[r.status <= Status.WITHDRAWN].mean()
                for r in records}
    assert objected[2022] < objected[2021]
