"""Leave-one-case-out: the held-out case never shapes its own fit, only the chosen constants move, the numbers do
not depend on the workers, and bad options are one line (exit 2). A tiny grid and cheap cases keep it fast."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import yaml

from sim.cli import main
from sim.studies import leave_one_out as loo
from sim.studies.falsify import with_numbers
from sim.studies.leave_one_out import Fit, Grid, Scores, fit, leave_one_out, same_decision
from sim.studies.validation import Case, load_cases, prepare

from .conftest import ROOT, one_line

HISTORY = ROOT / "scenarios" / "history.yaml"
TINY = Grid({"rules.objection_cost": (0.05, 0.1), "rules.deference": (0.5,), "noise.weights": (0.1,),
             "noise.judgement": (0.05,)}, (0.45, 0.6))
CASES = [
    {"id": "ftz-2016", "year": 2016, "proposal": "free_trade_zone", "outcome": "not_adopted", "blocked_by": ["russia"]},
    {"id": "ftz-2017", "year": 2017, "proposal": "free_trade_zone", "outcome": "not_adopted"},
    {"id": "bank", "year": 2012, "proposal": "sco_bank", "outcome": "not_adopted", "blocked_by": ["russia"]},
    {"id": "rats", "year": 2002, "proposal": "rats", "outcome": "adopted"},
]


def write_cases(tmp_path, cases, name="cases.yaml"):
    path = tmp_path / name
    entries = [{"scenario": str(HISTORY), "what_happened": "-", "source": "test", "replicates": 20, **c}
               for c in cases]
    path.write_text(yaml.safe_dump({"cases": entries}, sort_keys=False), encoding="utf-8")
    return path


def test_the_held_out_case_never_shapes_its_own_fit(tmp_path):
    result = leave_one_out([write_cases(tmp_path, CASES)], grid=TINY, workers=1, falsify=False)
    flipped = [{**CASES[0], "outcome": "adopted", "blocked_by": []}, *CASES[1:]]  # the record of ftz-2016 reversed
    again = leave_one_out([write_cases(tmp_path, flipped, "flipped.yaml")], grid=TINY, workers=1, falsify=False)
    assert again.held_out[0].fit == result.held_out[0].fit
    assert again.held_out[1].fit != result.held_out[1].fit  # ... which the fits it is part of do see
    # ... and in the fit itself: whatever the held-out case's runs say, only the others' rows are read
    scores = [loo.score_case(case, path, TINY) for case, path in load_cases(write_cases(tmp_path, CASES))]
    garbage = dataclasses.replace(scores[0], matched=~scores[0].matched, loglik=scores[0].loglik - 5.0)
    assert fit(scores, [1, 2, 3], TINY) == fit([garbage, *scores[1:]], [1, 2, 3], TINY)


def test_a_floor_is_fitted_on_its_proposals_cases_only_and_kept_when_there_are_none(tmp_path):
    result = leave_one_out([write_cases(tmp_path, CASES)], grid=TINY, workers=1, falsify=False)
    by_id = {h.verdict.case.id: h.fit for h in result.held_out}
    assert "proposals.free_trade_zone.min_ambition" in by_id["ftz-2016"].values  # fitted on ftz-2017
    assert by_id["bank"].kept == {"proposals.sco_bank.min_ambition": 0.6}  # its proposal's only case
    assert not any(path.endswith("min_ambition") for path in by_id["rats"].values)  # no floor configured


def test_only_the_chosen_constants_move(tmp_path):
    chosen = set(TINY.constants)
    result = leave_one_out([write_cases(tmp_path, CASES)], grid=TINY, workers=1, falsify=False)
    for (case, path), held in zip(load_cases(write_cases(tmp_path, CASES)), result.held_out, strict=True):
        assert all(p in chosen or p.endswith(".min_ambition") for p in held.fit.values)
        scenario = prepare(case, path)
        before = _leaves(scenario.configuration(scenario.start).model_dump(by_alias=True))
        after = _leaves(with_numbers(scenario, held.fit.values).configuration(scenario.start).model_dump(by_alias=True))
        moved = {p for p in before if before[p] != after[p]}
        assert all(p in chosen or p.endswith(".min_ambition") for p in moved), moved


def test_the_fit_prefers_matches_then_likelihood_then_the_configured_values():
    one = Grid({"rules.objection_cost": (0.05, 0.1, 0.2)}, (0.6,))
    configured = {"rules.objection_cost": 0.1}

    def scores(matched, loglik):
        return Scores((), configured, np.array(matched, dtype=bool)[:, None], np.array(loglik, dtype=float)[:, None])

    assert fit([scores([0, 1, 1], [-1, -3, -2])], [0], one).values == {"rules.objection_cost": 0.2}
    assert fit([scores([1, 1, 1], [-1, -3, -2])], [0], one).values == {"rules.objection_cost": 0.05}
    assert fit([scores([1, 1, 1], [-1, -1, -1])], [0], one).values == {"rules.objection_cost": 0.1}


def test_cases_that_record_the_same_decision_are_left_out_together():
    def case(year, proposal="free_trade_zone", **keys):
        return Case.model_validate({"id": "t", "scenario": str(HISTORY), "year": year, "proposal": proposal,
                                    "outcome": "not_adopted", "what_happened": "-", "source": "test", **keys})

    span = case(2016, until=2024)
    assert same_decision(case(2016), span) and same_decision(span, case(2024))
    assert not same_decision(case(2016), case(2017)) and not same_decision(case(2015), span)
    assert not same_decision(case(2016), case(2016, "sco_bank"))


def test_a_fit_on_no_case_keeps_the_configured_values():
    one = Grid({"rules.objection_cost": (0.05, 0.1, 0.2)}, (0.6,))
    alone = Scores((), {"rules.objection_cost": 0.1}, np.ones((3, 1), dtype=bool), np.zeros((3, 1)))
    assert fit([alone], [], one) == Fit({"rules.objection_cost": 0.1}, {}, 0, 0, 0.0)


def test_the_numbers_do_not_depend_on_the_workers(tmp_path):
    path = write_cases(tmp_path, CASES)
    one = leave_one_out([path], grid=TINY, workers=1, falsify=False)
    two = leave_one_out([path], grid=TINY, workers=2, falsify=False)
    assert [h.fit for h in one.held_out] == [h.fit for h in two.held_out]
    assert [h.fit for h in one.plain] == [h.fit for h in two.plain]
    # repr: a NaN (no mean ambition where nothing was adopted) equals itself there
    assert repr([h.verdict.prediction for h in one.held_out]) == repr([h.verdict.prediction for h in two.held_out])
    assert repr([v.prediction for v in one.in_sample]) == repr([v.prediction for v in two.in_sample])


def test_validate_leave_one_out_reports_both_counts(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(loo, "GRID", TINY)
    # two cases that each have a change within its plausible range that flips them (ftz-2017 has none)
    energy = {"id": "energy", "year": 2012, "proposal": "energy_framework", "outcome": "not_adopted",
              "blocked_by": ["russia"]}
    status = main(["validate", "--leave-one-out", str(write_cases(tmp_path, [CASES[0], energy]))])
    out = capsys.readouterr().out
    assert status == 0  # both pass, in-sample and held out
    assert out.splitlines()[-2:] == ["in_sample_passes: 2/2", "leave_one_out_passes: 2/2"]
    assert "Leave-one-case-out: each case predicted with the chosen constants fitted on the other cases" in out


@pytest.mark.parametrize("args, message", [
    (["--replicates", "5"], "--replicates: expected 10 to"),
    ([], "--leave-one-out needs at least 2 cases"),
])
def test_bad_leave_one_out_options_are_one_line(tmp_path, capsys, args, message):
    status = main(["validate", "--leave-one-out", *args, str(write_cases(tmp_path, CASES[:1]))])
    one_line(status, capsys.readouterr().err, message)


def _leaves(tree, prefix=""):
    if isinstance(tree, dict):
        return {k: v for key, value in tree.items() for k, v in _leaves(value, f"{prefix}{key}.").items()}
    return {prefix[:-1]: tree}
