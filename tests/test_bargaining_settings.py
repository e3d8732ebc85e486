"""`rules.bargaining` and `--bargaining`: the mechanism reaches the engine from a configuration, a scenario and the
command line, the run says which it used, and a bad name is one line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.inputs.scenario import load_scenario
from sim.model.runner import simulate
from sim.studies.validation import collect_cases

from .conftest import ROOT, one_line

BASELINE = ROOT / "scenarios" / "baseline.yaml"


def test_the_default_is_veto_and_the_command_line_chooses_another():
    assert load_scenario(BASELINE).configuration(2015).rules.procedure.bargaining == "veto"
    chosen = load_scenario(BASELINE, bargaining="nash").configuration(2024)
    assert chosen.rules.bargaining == "nash" and chosen.rules.procedure.bargaining == "nash"


def test_a_run_records_and_prints_its_mechanism_and_the_mechanism_changes_the_outcome(tmp_path, capsys):
    summaries = {}
    for mechanism in ("veto", "compromise"):
        out = tmp_path / mechanism
        argv = ["run", str(BASELINE), "--replicates", "200", "--bargaining", mechanism, "--out", str(out),
                "--no-figures"]
        assert main(argv) == 0
        assert f"bargaining {mechanism}," in capsys.readouterr().out
        config = json.loads((out / "metadata.json").read_text())["configuration"]["2015"]
        assert config["rules"]["bargaining"] == mechanism
        summaries[mechanism] = pd.read_csv(out / "summary.csv").set_index("proposal")
    # the compromise settles where the members' positions average out, not where the most reluctant one stops
    assert not summaries["veto"].mean_ambition.equals(summaries["compromise"].mean_ambition)


def test_a_scenario_sets_the_mechanism_and_the_command_line_wins(write_scenario):
    path = write_scenario(set={"rules.bargaining": "compromise"})
    assert load_scenario(path).configuration(2015).rules.bargaining == "compromise"
    assert load_scenario(path, bargaining="veto").configuration(2015).rules.bargaining == "veto"


def test_validation_cases_take_the_mechanism_from_the_command_line():
    cases = collect_cases([ROOT / "validation" / "history.yaml"], settings={"rules.bargaining": "nash"})
    assert cases and all(case.set["rules.bargaining"] == "nash" for case, _ in cases)


def test_an_unknown_mechanism_is_one_line(write_scenario, capsys):
    status = main(["check", str(write_scenario(set={"rules.bargaining": "auction"}))])
    one_line(status, capsys.readouterr().err, "rules.bargaining", "veto", "compromise", "nash", "exchange")


@pytest.mark.parametrize("command", ["run", "check", "validate", "sweep"])
def test_an_unknown_mechanism_on_the_command_line_is_one_line(command, capsys):
    status = main([command, str(BASELINE), "--bargaining", "auction"])
    one_line(status, capsys.readouterr().err, "--bargaining", "invalid choice: 'auction'")


def _frame(records) -> pd.DataFrame:
    rows = [pd.DataFrame({"year": r.year, "proposal": r.proposal, "replicate": r.replicates, "status": r.status,
                          "ambition": r.ambition}) for r in records]
    return pd.concat(rows, ignore_index=True).sort_values(["year", "proposal", "replicate"], ignore_index=True)


def test_in_the_model_members_trade_across_a_summits_agenda_and_the_batch_does_not_matter(write_scenario):
    path = write_scenario(agenda=["free_trade_zone", "sco_bank", "energy_framework"], replicates=60, end=2017)
    alone = _frame(simulate(load_scenario(path, bargaining="compromise")))
    traded = load_scenario(path, bargaining="exchange")
    together = _frame(simulate(traded))
    # the same valuations, but positions traded across the three proposals move some outcomes
    assert not np.allclose(alone.ambition.fillna(-1), together.ambition.fillna(-1))
    pd.testing.assert_frame_equal(_frame(simulate(traded, batch=7)), together)


def test_explain_shows_each_members_position_and_weight_in_the_bargain(capsys):
    from sim.studies.explain import explain

    e = explain(BASELINE, "free_trade_zone", 2017, replicates=100, bargaining="compromise")
    assert e.bargaining == "compromise"
    china = next(m for m in e.members if m.code == "china")
    russia = next(m for m in e.members if m.code == "russia")
    assert china.prefers == pytest.approx(1.0) and russia.prefers < 0.5  # the sponsor wants it all, Russia little
    assert sum(m.weight for m in e.members) == pytest.approx(1.0) and china.weight > russia.weight
    assert main(["explain", str(BASELINE), "free_trade_zone", "--year", "2017", "--replicates", "50",
                 "--bargaining", "nash"]) == 0
    out = capsys.readouterr().out
    assert "bargaining nash" in out and "prefers" in out and "weight" in out
