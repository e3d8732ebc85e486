"""Implementation (issue 19): an adopted decision is carried out year by year, as far as its implementers are willing,
at the pace of its form."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from sim.cli import main
from sim.core.engine import Stance, Valuation
from sim.core.records import Status
from sim.inputs.scenario import load_scenario
from sim.model import implementation
from sim.model.runner import simulate
from sim.model.tables import aggregate
from sim.studies.validation import load_cases, prepare

from .conftest import ROOT


def valuation(benefit: list[float], cost: list[float]) -> Valuation:
    b, c = np.array([benefit]), np.array([cost])
    return Valuation(b, c, np.zeros_like(b), np.zeros_like(c))


def test_willingness_is_the_share_of_the_adopted_ambition_a_member_would_choose_itself():
    # ideal ambitions b / 2c: 1.0 (wants all), 0.25 (half of 0.5), none (no benefit), all (no cost), 0.1
    value = valuation([1.0, 0.5, -0.2, 0.3, 0.2], [0.5, 1.0, 0.1, 0.0, 1.0])
    willing = implementation.willingness(value, np.array([0.5]))
    np.testing.assert_allclose(willing, [[1.0, 0.5, 0.0, 1.0, 0.2]])
    # a member whose utility at the adopted ambition is negative carries out less than half of it
    utility = value.benefit * 0.5 - value.cost * 0.25
    assert (willing[utility < 0] < 0.5).all()


def test_willingness_is_zero_where_nothing_was_adopted():
    value = valuation([1.0, 1.0], [0.5, 0.5])
    assert implementation.willingness(value, np.array([np.nan])).tolist() == [[0.0, 0.0]]


def test_the_will_is_the_capability_weighted_mean_of_the_implementers():
    willing = np.array([[1.0, 0.0, 0.5], [1.0, 0.0, 0.5]])
    who = np.array([[True, True, False], [False, False, False]])
    np.testing.assert_allclose(implementation.will(willing, who, np.array([3.0, 1.0, 5.0])), [0.75, 0.0])


def test_implementers_are_the_members_that_took_part():
    stance = np.array([[Stance.SUPPORT, Stance.RESERVATION, Stance.OBJECTION, Stance.STAND_ASIDE, Stance.ABSENT]],
                      dtype=np.int8)
    assert implementation.implementers(stance).tolist() == [[True, True, True, False, False]]


def test_a_year_closes_the_pace_s_share_of_the_gap_and_nan_stays_nan():
    state = np.array([0.0, 0.5, np.nan])
    moved = implementation.advance(state, np.array([1.0, 0.0, 1.0]), np.array([0.5, 0.2, 0.5]))
    np.testing.assert_allclose(moved, [0.5, 0.4, np.nan])


@pytest.fixture(scope="module")
def rats_run():
    """RATS tabled from 2002 to 2012 (a body): adopted, then carried out in the following years."""
    scenario = load_scenario(ROOT / "scenarios" / "history.yaml", replicates=100, seed=3, years=(2002, 2012),
                             agenda=["rats"], overrides={"proposals.rats.tabled": list(range(2002, 2013))})
    return scenario, simulate(scenario)


def test_implementation_starts_at_zero_on_adoption_and_is_nan_where_not_adopted(rats_run):
    _, records = rats_run
    for record in records:
        adopted = record.status == Status.ADOPTED
        assert (record.implementation[adopted] == 0.0).all()
        in_force = record.status == Status.IN_FORCE
        assert not np.isnan(record.implementation[in_force]).any()
        assert np.isnan(record.implementation[~adopted & ~in_force]).all()
        done = record.implementation[~np.isnan(record.implementation)]
        assert ((done >= 0) & (done <= 1)).all()


def test_a_body_is_carried_out_faster_than_a_statement(rats_run):
    scenario, records = rats_run
    statement = load_scenario(ROOT / "scenarios" / "history.yaml", replicates=100, seed=3, years=(2002, 2012),
                              agenda=["rats"], overrides={"proposals.rats.tabled": list(range(2002, 2013)),
                                                          "proposals.rats.form": "statement"})
    slow = simulate(statement)
    for fast, late in zip(records[1:4], slow[1:4], strict=True):
        assert fast.year == late.year
        np.testing.assert_array_equal(fast.status, late.status)  # the form does not touch adoption
        both = fast.status == Status.IN_FORCE  # adopted at an earlier summit (0 in both where adopted this year)
        assert both.any()
        assert (fast.implementation[both] > late.implementation[both]).all()


def test_the_aggregates_report_adoption_and_implementation(rats_run):
    scenario, records = rats_run
    tables = aggregate(records, {}, scenario.world_size)
    last = tables.by_year.iloc[-1]
    assert last.year == 2012 and 0 < last.implemented <= 1
    summary = tables.summary.iloc[0]
    assert summary.implemented == pytest.approx(last.implemented) and summary.implemented_year == 2012


# --- implementation cases (validation/implementation.yaml) ------------------------------------------------------


def write_cases(tmp_path, *cases: dict):
    path = tmp_path / "cases.yaml"
    entries = [{"scenario": str(ROOT / "scenarios" / "history.yaml"), "what_happened": "-", "source": "test",
                "replicates": 100, **c} for c in cases]
    path.write_text(yaml.safe_dump({"cases": entries}, sort_keys=False), encoding="utf-8")
    return path


LOAN = {"id": "loan", "year": 2004, "by": 2006, "proposal": "preferential_loan", "outcome": "adopted"}


def test_an_implementation_case_passes_or_fails_on_what_was_carried_out(tmp_path, capsys):
    assert main(["validate", "--fixed-parameters", str(write_cases(tmp_path, LOAN | {"implemented": "carried_out"}))]) \
        == 0
    out = capsys.readouterr().out
    assert "carried out 2006" in out and "carried out by 2006: 0.7" in out and "flips when implementation.body" in out
    assert "Implementation cases: 1 of 1 pass" in out
    assert main(["validate", "--fixed-parameters", str(write_cases(tmp_path, LOAN | {"implemented": "lagging"}))]) == 3
    out = capsys.readouterr().out
    assert "FAIL" in out and "of what was adopted, not below 0.5" in out


def test_the_case_files_implementation_cases_are_read(tmp_path):
    cases = {case.id: case for case, _ in load_cases(ROOT / "validation" / "implementation.yaml")}
    assert {"loan-2004-implemented", "rats-working", "econ-strategy-2030-lagging", "energy-strategy-2030-lagging",
            "radicalisation-statement-lagging"} == set(cases)
    loan = cases["loan-2004-implemented"]
    assert loan.span == (2004, 2006) and loan.years == (2004, 2004)
    assert prepare(loan, ROOT / "validation" / "implementation.yaml").configuration(2005).implementation.follow


@pytest.mark.parametrize(("keys", "fragment"), [
    ({"implemented": "carried_out"}, "expected 'implemented' and 'by' together"),
    ({"implemented": "done", "by": 2006}, "cases.0.implemented"),
    ({"implemented": "lagging", "by": 2004}, "expected 'by' after the case's last summit (2004), got 2004"),
    ({"implemented": "lagging", "by": 2006, "outcome": "not_adopted"}, "expected outcome 'adopted'"),
])
def test_a_bad_implementation_case_is_a_one_line_error(tmp_path, capsys, keys, fragment):
    entry = {key: value for key, value in LOAN.items() if key != "by"} | keys
    assert main(["validate", str(write_cases(tmp_path, entry))]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cases.yaml" in err and fragment in err


def test_following_records_what_was_adopted_to_the_end_whatever_the_batches():
    scenario = load_scenario(ROOT / "scenarios" / "history.yaml", replicates=60, seed=2, years=(2001, 2006),
                             overrides={"implementation.follow": True})
    records = simulate(scenario)
    loan = [r for r in records if r.proposal == "preferential_loan"]
    assert [r.year for r in loan] == [2004, 2005, 2006]  # on the agenda in 2004 only; followed after
    assert not Status.decided(loan[1].status).any()
    assert set(np.unique(loan[-1].status)) <= {Status.IN_FORCE, Status.NOT_DECIDED}
    assert (loan[-1].implementation[loan[-1].status == Status.IN_FORCE] > 0).all()
    convention = [r for r in records if r.proposal == "three_isms_convention"]
    assert [r.year for r in convention] == list(range(2001, 2007))
    for whole, batched in zip(records, simulate(scenario, batch=7), strict=True):
        assert (whole.year, whole.proposal) == (batched.year, batched.proposal)
        np.testing.assert_array_equal(whole.implementation, batched.implementation)
        np.testing.assert_array_equal(whole.status, batched.status)
    unfollowed = simulate(load_scenario(ROOT / "scenarios" / "history.yaml", replicates=60, seed=2,
                                        years=(2001, 2006)))
    assert [r.year for r in unfollowed if r.proposal == "preferential_loan"] == [2004]  # off: the agenda's years only
    assert {(r.year, r.proposal) for r in unfollowed} < {(r.year, r.proposal) for r in records}
