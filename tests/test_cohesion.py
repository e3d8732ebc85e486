"""Cohesion (issue 19): how far apart the voters are on what is decided, reported each year."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.core.engine import Valuation
from sim.model.model import spread
from sim.model.tables import cohesion

from .conftest import ROOT


def _value(benefit, cost) -> Valuation:
    b, c = np.array(benefit, float), np.array(cost, float)
    return Valuation(b, c, np.zeros_like(b), np.zeros_like(c))


def test_the_spread_is_the_standard_deviation_of_the_voters_preferred_shares_of_the_table():
    # preferred ambitions b / 2c: 1 (capped at the table), 0 (loses), 0.25 and 0.25; the last does not vote
    value = _value([[4.0, -1.0, 1.0, 1.0]], [[1.0, 1.0, 2.0, 2.0]])
    voters = np.array([[True, True, True, False]])
    shares = np.array([1.0, 0.0, 0.25])
    assert spread(value, 1.0, voters)[0] == pytest.approx(shares.std())
    assert spread(value, 0.5, voters)[0] == pytest.approx(np.array([1.0, 0.0, 0.5]).std())  # as shares of 0.5
    same = _value([[1.0, 1.0]], [[1.0, 1.0]])
    assert spread(same, 1.0, np.ones((1, 2), bool))[0] == 0.0


def test_cohesion_weighs_the_proposals_of_a_year_by_the_replicates_that_decided_them():
    by_year = pd.DataFrame({"proposal": ["a", "b", "a"], "year": [2020, 2020, 2021], "decided": [300, 100, 0],
                            "spread": [0.2, 0.6, np.nan], "objected": [0.1, 0.5, np.nan]})
    table = cohesion(by_year)
    assert table.year.tolist() == [2020, 2021] and table.proposals_decided.tolist() == [2, 0]
    assert table.spread[0] == pytest.approx(0.3) and table.objected[0] == pytest.approx(0.2)
    assert np.isnan(table.spread[1])


def test_a_run_writes_its_cohesion_by_year(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "run"
    assert main(["run", "scenarios/baseline.yaml", "--replicates", "50", "--out", str(out), "--no-figures",
                 "--quiet"]) == 0
    table = pd.read_csv(out / "cohesion.csv")
    assert table.year.tolist() == list(range(2015, 2025))
    decided = table.proposals_decided > 0  # a year in which every sponsor rests or goes elsewhere has no spread
    assert decided.sum() >= 8 and table.spread[~decided].isna().all()
    assert ((table.spread[decided] > 0) & (table.spread[decided] <= 0.5)).all()  # a deviation of shares in [0, 1]
