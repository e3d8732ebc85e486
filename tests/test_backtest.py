"""The DEU III backtest: file format and bad rows, the mapping onto the engine, and the result against baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.studies.backtest import Issue, compromise, engine_prediction, read_issues

from .conftest import ROOT

DEU = ROOT.parent / "shared" / "data" / "deu3" / "deu3_calibration.tsv"
HEADER = ["isnr", "counvte", "rp", "out", "pde", "sde", "pfr", "sfr", "pit", "sit"]


def write(tmp_path, rows):
    path = tmp_path / "deu.tsv"
    path.write_text("\n".join("\t".join(map(str, row)) for row in [HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_malformed_rows_are_reported_by_row_and_skipped(tmp_path):
    path = write(tmp_path, [
        ["ok1", "QMV", 0, 60, 100, 80, 50, 40, 0, 20],
        ["badrule", "Majority", 0, 50, 100, 80, 50, 40, 0, 20],
        ["noout", "Unan", 0, "", 100, 80, 50, 40, 0, 20],
        ["nosal", "Unan", 0, 40, 100, "", 50, 40, 0, 20],
        ["lonely", "QMV", 0, 40, 100, 80, "", "", "", ""],
        ["text", "QMV", "abc", 40, 100, 80, 50, 40, 0, 20],
    ])
    issues, skipped = read_issues(path)
    assert [i.name for i in issues] == ["ok1", "nosal", "text"]
    assert set(issues[1].positions) == {"fr", "it"} and issues[2].reference is None  # unreadable rp: none
    assert any("deu.tsv:3 (badrule): unknown rule 'Majority'" in s for s in skipped)
    assert any("deu.tsv:4 (noout): no outcome" in s for s in skipped)
    assert any("deu.tsv:5 (nosal): de has a position but no salience" in s for s in skipped)
    assert any("deu.tsv:6 (lonely): fewer than two" in s for s in skipped)
    assert any("deu.tsv:7 (text): reference point 'abc' is not a number" in s for s in skipped)


def test_the_engines_utility_is_the_quadratic_loss_measured_from_the_status_quo():
    rp, offer, x, s = 0.2, 0.7, 0.5, 0.8
    d = offer - rp
    for a in np.linspace(0, 1, 11):
        o = rp + a * d
        engine = 2 * s * d * (x - rp) * a - s * d * d * a * a
        assert engine == pytest.approx(-s * (o - x) ** 2 + s * (rp - x) ** 2)


def test_a_veto_under_unanimity_pulls_the_outcome_toward_the_status_quo():
    issue = Issue(2, "t", "unanimity", {"de": 1.0, "fr": 0.9, "it": 0.0}, {"de": 0.5, "fr": 0.5, "it": 1.0}, 0.0, 0.3)
    offer = compromise(issue)
    assert engine_prediction(issue, float("inf")) == pytest.approx(offer)  # nobody can afford to object
    vetoed = engine_prediction(issue, 0.0)
    assert 0.0 <= vetoed < offer  # Italy, at the status quo, accepts nothing: only less than the compromise passes
    no_status_quo = Issue(2, "t", "unanimity", issue.positions, issue.saliences, None, 0.3)
    assert engine_prediction(no_status_quo, 0.0) == pytest.approx(offer)


def test_a_bad_file_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "bad.tsv").write_text("a\tb\n1\t2\n")
    assert main(["backtest", "deu", str(tmp_path / "bad.tsv"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bad.tsv: header" in err
    assert main(["backtest", "deu", str(tmp_path / "missing.tsv")]) == 2


@pytest.mark.skipif(not DEU.exists(), reason="shared/ data not beside the project")
def test_on_the_calibration_file_the_engine_does_at_least_as_well_as_the_weighted_mean(tmp_path, capsys):
    out = tmp_path / "bt"
    assert main(["backtest", "deu", str(DEU), "--out", str(out)]) == 0
    assert "chosen by 5-fold cross-validation" in capsys.readouterr().out
    summary = pd.read_csv(out / "summary.csv").set_index(["model", "issues"])
    engine, mean = summary.loc["engine"], summary.loc["weighted mean"]
    assert engine.loc["unanimity", "mae"] <= mean.loc["unanimity", "mae"] + 1e-9
    assert engine.loc["all", "mae"] <= mean.loc["all", "mae"] + 1.0
    assert summary.loc[("reference point", "all"), "mae"] > 40  # the status quo is a poor guess, as in the literature
    assert len(pd.read_csv(out / "issues.csv")) == engine.loc["all", "n"]
