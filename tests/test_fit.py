"""Fitting the chosen constants over plausible worlds (issue 17, point 5): a held-out case never informs its own
prediction, the fitted ranges lie inside the plausible ones, and the block the fit writes is a valid configuration."""

from __future__ import annotations

import pytest
import yaml

from sim.cli import main
from sim.inputs.scenario import load_scenario
from sim.studies.fit import fit

from .conftest import ROOT, one_line

HISTORY = ROOT / "scenarios" / "history.yaml"


def write_cases(tmp_path, name, *cases):
    path = tmp_path / f"{name}.yaml"
    entries = [{"scenario": str(HISTORY), "what_happened": "-", "source": "test", **c} for c in cases]
    path.write_text(yaml.safe_dump({"cases": entries}, sort_keys=False), encoding="utf-8")
    return path


CASES = [
    {"id": "ftz", "year": 2016, "proposal": "free_trade_zone", "outcome": "not_adopted"},
    {"id": "bank", "year": 2012, "proposal": "sco_bank", "outcome": "not_adopted"},
    {"id": "energy", "year": 2012, "proposal": "energy_framework", "outcome": "not_adopted"},
]


def test_a_held_out_case_is_predicted_without_its_own_outcome(tmp_path):
    recorded = fit([write_cases(tmp_path, "a", *CASES)], worlds=60, world_size=4)
    flipped = fit([write_cases(tmp_path, "b", {**CASES[0], "outcome": "adopted"}, *CASES[1:])], worlds=60,
                  world_size=4)
    # the first case's held-out weights come from the other two, identical in both fits
    assert flipped.held_out[0].prediction.p == pytest.approx(recorded.held_out[0].prediction.p)
    # in-sample, its own outcome weighs the worlds: the probability moves toward what it was told
    assert flipped.in_sample[0].prediction.p > recorded.in_sample[0].prediction.p
    # and the other cases' held-out predictions do see it
    assert flipped.held_out[1].prediction.p != pytest.approx(recorded.held_out[1].prediction.p)


def test_fitted_ranges_lie_inside_the_plausible_ones_and_load_as_a_configuration(tmp_path, write_scenario):
    result = fit([write_cases(tmp_path, "a", *CASES)], worlds=60, world_size=4)
    assert {"rules.objection_cost", "noise.persistence", "proposals.free_trade_zone.min_ambition"} <= set(result.ranges)
    for path, (low, high) in result.ranges.items():
        assert result.prior[path].low - 1e-9 <= low <= high <= result.prior[path].high + 1e-9, path
    assert 1 <= result.effective_worlds <= 60
    out = tmp_path / "fit"
    assert main(["fit", str(write_cases(tmp_path, "c", *CASES)), "--worlds", "30", "--world-size", "2",
                 "--out", str(out)]) == 0
    written = yaml.safe_load((out / "fitted.yaml").read_text(encoding="utf-8"))
    scenario = load_scenario(write_scenario(set={"fitted": written["fitted"]}))
    now = scenario.configuration(2015).fitted  # by dotted path, the base's block merged with the one written
    assert now["rules.objection_cost"] == written["fitted"]["rules"]["objection_cost"]
    assert now["proposals.free_trade_zone.min_ambition"] == (
        written["fitted"]["proposals"]["free_trade_zone"]["min_ambition"])
    assert (out / "cases.csv").read_text(encoding="utf-8").startswith("case,")


@pytest.mark.parametrize(("options", "fragment"), [
    (["--worlds", "1"], "--worlds: expected 2 to"),
    (["--world-size", "0"], "--world-size: expected 2 to"),
    (["--worlds", "100000", "--world-size", "1000"], "replicates per case"),
    (["--seed", "-1"], "--seed: expected a whole number"),
])
def test_bad_fit_options_are_one_line(capsys, options, fragment):
    status = main(["fit", *options])
    one_line(status, capsys.readouterr().err, fragment)
