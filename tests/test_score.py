"""The decision record and the scores of its forecasts (issue 30): the scoring rules, history's benchmarks, the
rolling origin's promise that no forecast sees its own outcome or a later one, the record's checks, and the
command end to end."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.core.scoring import aupr, auroc, brier, calibration, log_score, skill
from sim.studies import benchmarks
from sim.studies.fit import CaseRun
from sim.studies.record import COLUMNS, RECORD, load_classes, record_files
from sim.studies.score import DecisionRun, forecast
from sim.studies.validation import Prediction

from .conftest import one_line

# --- the scoring rules -------------------------------------------------------------------------------


def test_brier_and_log_score_take_the_values_of_their_definitions():
    p, y = np.array([0.9, 0.2, 0.5]), np.array([True, False, True])
    assert brier(p, y) == pytest.approx((0.01 + 0.04 + 0.25) / 3)
    assert log_score(p, y) == pytest.approx(-(np.log(0.9) + np.log(0.8) + np.log(0.5)) / 3)
    assert log_score(np.array([0.0]), np.array([True])) == pytest.approx(-np.log(1e-3))  # a sure miss is finite


def test_auroc_is_the_share_of_event_non_event_pairs_ranked_right_ties_half():
    rng = np.random.default_rng(1)
    p = rng.choice([0.1, 0.4, 0.4, 0.7, 0.9], size=40)
    y = rng.random(40) < p
    pairs = [(a > b) + 0.5 * (a == b) for a in p[y] for b in p[~y]]
    assert auroc(p, y) == pytest.approx(np.mean(pairs))
    assert np.isnan(auroc(p, np.ones(40, dtype=bool)))


def test_aupr_is_the_average_precision_at_each_event():
    p, y = np.array([0.9, 0.8, 0.7, 0.6]), np.array([True, False, True, False])
    assert aupr(p, y) == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert aupr(np.array([0.5, 0.5]), np.array([True, False])) == pytest.approx(0.5)  # ties enter together


def test_calibration_bins_hold_every_forecast_once_and_their_observed_share():
    p = np.array([0.05, 0.15, 0.15, 0.95, 1.0])
    y = np.array([False, True, False, True, True])
    table = calibration(p, y)
    assert sum(b.n for b in table) == 5
    assert table[1].n == 2 and table[1].observed == 0.5 and table[9].n == 2 and table[9].mean_forecast == 0.975


def test_skill_is_positive_only_for_a_better_forecast_and_its_interval_holds_it():
    y = np.array([True, True, False, True, False, True, True, False] * 5)
    good, poor = np.where(y, 0.8, 0.2), np.full(y.size, 0.6)
    better = skill(good, poor, y)
    assert better.value > 0 and better.low <= better.value <= better.high
    assert skill(poor, good, y).value < 0


# --- history's benchmarks ----------------------------------------------------------------------------


def _decision(year: int, kind: str = "agreement", adopted: bool = True, proposal: str = "economic_agreement",
              words: str = "a decision", **more):
    from sim.studies.record import Decision

    return Decision(id=f"{year}-x", year=year, date=f"{year}-06-01", meeting="heads_of_state", place="x",
                    decision=words, proposal=proposal, kind=kind, domain="economic", subject=more.get("subject", ""),
                    sponsor=more.get("sponsor", ""), delegates=more.get("delegates", False),
                    outcome="adopted" if adopted else "not_adopted", objected=(), reservation=(), stood_aside=(),
                    source="s", quote="q", confidence="high", inferred=(), file=Path("x.csv"), line=2)


def test_base_rate_is_laplaces_rule_by_kind_and_falls_back_to_every_kind():
    training = [_decision(2001), _decision(2002), _decision(2003, adopted=False), _decision(2003, kind="statement")]
    rates = benchmarks.base_rate(training, [_decision(2004), _decision(2004, kind="admission")])
    assert rates[0] == pytest.approx(3 / 5) and rates[1] == pytest.approx(4 / 6)
    assert benchmarks.base_rate([], [_decision(2004)])[0] == 0.5


def test_persistence_repeats_the_last_outcome_of_the_same_proposal():
    training = [_decision(2010, proposal="sco_bank", kind="institution", adopted=True),
                _decision(2012, proposal="sco_bank", kind="institution", adopted=False)]
    forecasts = benchmarks.persistence(training, [_decision(2013, proposal="sco_bank", kind="institution"),
                                                  _decision(2013, kind="institution")], {"economic_agreement"})
    assert forecasts[0] == 0.0  # the later of the two
    assert forecasts[1] == pytest.approx(2 / 4)  # a first appearance: its kind's base rate


def test_logistic_regression_learns_the_direction_of_a_covariate_and_stays_finite_when_it_separates():
    training = [_decision(2001 + i, delegates=i % 2 == 0, adopted=i % 2 == 1) for i in range(12)]
    p = benchmarks.logistic(training, [_decision(2013, delegates=True), _decision(2013)], dict.fromkeys(
        range(2001, 2014), 6))
    assert p[0] < 0.5 < p[1]
    assert 0.01 < p[0] and p[1] < 0.99  # the penalty keeps a separating covariate from certainty


# --- the rolling origin sees nothing of what it forecasts --------------------------------------------


def _run(p: float, worlds: np.ndarray) -> DecisionRun:
    prediction = Prediction(p, (p, p), 0.0, {}, {}, {}, float("nan"))
    likelihood = np.clip(worlds, 0.05, 0.95)
    world_run = CaseRun(None, worlds, likelihood, np.zeros_like(worlds), {}, np.zeros((worlds.size, 0)), ())  # type: ignore[arg-type]
    return DecisionRun(prediction, prediction, world_run)


def test_a_rolling_forecast_is_unchanged_by_its_own_outcome_and_by_later_ones_and_moved_by_earlier_ones():
    rng = np.random.default_rng(7)
    years = [2005, 2006, 2007, 2008, 2009, 2010, 2011]
    decisions = [_decision(year, adopted=bool(i % 3)) for i, year in enumerate(years)]
    decisions = [dataclasses.replace(d, id=f"{d.year}-d{i}") for i, d in enumerate(decisions)]
    runs = [_run(0.5, rng.random(50)) for _ in decisions]
    members = dict.fromkeys(range(2001, 2025), 6)

    def rolling(ds, rs):
        found, _ = forecast(ds, rs, set(), members)
        return {(f.regime, f.origin, f.decision.id): f.probabilities for f in found if f.regime != "in_sample"}

    before = rolling(decisions, runs)
    # the decision of 2009 (index 4): flip its outcome and what the worlds said of it
    flipped = [*decisions[:4], dataclasses.replace(decisions[4], outcome="not_adopted" if decisions[4].adopted
                                                   else "adopted"), *decisions[5:]]
    rerun = [*runs[:4], _run(0.5, 1 - runs[4].worlds.p), *runs[5:]]
    after = rolling(flipped, rerun)
    for key, probabilities in before.items():
        regime, origin, decision = key
        if origin <= 2009 and decision != "2009-d4":  # trained on the years before the origin only
            assert after[key] == probabilities, key
    moved = [key for key in before if key[1] >= 2010 and before[key]["model"] != after[key]["model"]]
    assert moved, "a forecast from a later origin is trained on the flipped decision and should move"


# --- the record's checks ---------------------------------------------------------------------------


def _write_record(tmp_path: Path, rows: list[dict[str, str]], name: str = "r.csv") -> Path:
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


ROW = {"id": "2007-drills", "date": "2007-08-16", "meeting": "heads_of_state", "place": "Bishkek",
       "decision": "Peace Mission with the CSTO", "proposal": "drills_with_csto", "kind": "security_action",
       "domain": "security", "subject": "", "sponsor": "russia", "delegates": "no", "outcome": "not_adopted",
       "objected": "china", "reservation": "", "stood_aside": "", "source": "a source", "quote": "\"a quote\"",
       "confidence": "medium", "inferred": "", "note": ""}
DECLARATION = ROW | {"id": "2009-declaration", "date": "2009-06-15", "place": "Yekaterinburg",
                     "decision": "Yekaterinburg Declaration", "proposal": "summit_declaration", "kind": "statement",
                     "domain": "international", "sponsor": "", "outcome": "adopted", "objected": ""}


@pytest.mark.parametrize(("change", "fragments"), [
    ({"outcome": "passed"}, ["line 2: outcome", "expected one of adopted, adopted_interested, not_adopted"]),
    ({"proposal": "moon_base"}, ["line 2: proposal", "unknown proposal 'moon_base'"]),
    ({"objected": "china;atlantis"}, ["line 2: objected", "unknown member 'atlantis'"]),
    ({"date": "2007-8-16"}, ["line 2: date", "expected YYYY-MM-DD"]),
    ({"date": "2025-06-01", "id": "2025-x"}, ["line 2: date", "later decisions are kept for forecasting"]),
    ({"id": "2006-drills"}, ["line 2: id", "the year of its date (2007)"]),
    ({"quote": ""}, ["line 2: quote", "expected a value"]),
    ({"outcome": "adopted_interested", "objected": ""}, ["line 2: stood_aside", "did not join"]),
    ({"objected": "india"}, ["case 2007-drills", "blocked_by", "'india' does not vote in 2007"]),
])
def test_a_bad_row_is_refused_in_one_line_naming_file_line_and_column(tmp_path, capsys, change, fragments):
    path = _write_record(tmp_path, [ROW | change])
    status = main(["score", str(path), "--quick", "--out", str(tmp_path / "out")])
    one_line(status, capsys.readouterr().err, "r.csv", *fragments)
    assert not (tmp_path / "out").exists()


def test_a_bad_header_and_a_duplicate_id_are_refused(tmp_path, capsys):
    path = tmp_path / "h.csv"
    path.write_text("id,date,meeting\n2007-a,2007-01-01,heads_of_state\n", encoding="utf-8")
    one_line(main(["score", str(path), "--quick"]), capsys.readouterr().err, "h.csv", "header", "missing column")
    path = _write_record(tmp_path, [ROW, ROW])
    one_line(main(["score", str(path), "--quick"]), capsys.readouterr().err, "line 3: id", "duplicate id")


def test_the_project_record_covers_every_summit_from_2001_to_2024_with_a_source_for_each_decision():
    from sim.inputs.scenario import load_scenario
    from sim.studies.record import SCENARIO, load_record

    classes = load_classes()
    config = load_scenario(SCENARIO, replicates=1, years=(2001, 2024)).configuration(2024)
    decisions = load_record(record_files(), set(config.proposals) | set(classes), set(config.members))
    summits = {d.year for d in decisions if d.meeting == "heads_of_state"}
    assert summits == set(range(2001, 2025))
    assert len(decisions) >= 150
    assert all(d.source and d.quote for d in decisions)
    assert sum(not d.adopted for d in decisions) >= 10, "the record must hold the proposals not adopted"
    assert {path.name for path in RECORD.glob("*.csv")} == {"2001-2006.csv", "2007-2012.csv", "2013-2018.csv",
                                                           "2019-2024.csv"}


# --- the command end to end ----------------------------------------------------------------------------


def test_score_writes_the_scores_of_the_model_and_of_every_benchmark_in_both_regimes(tmp_path, capsys):
    rows = [ROW, DECLARATION, ROW | {"id": "2010-kyrgyz", "date": "2010-06-11", "proposal": "kyrgyz_intervention",
                                     "sponsor": "", "objected": "", "decision": "Act in the Kyrgyz crisis"},
            DECLARATION | {"id": "2010-declaration", "date": "2010-06-11", "decision": "Tashkent Declaration"}]
    out = tmp_path / "out"
    assert main(["score", str(_write_record(tmp_path, rows)), "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "rolling origin" in printed and "in-sample" in printed
    document = json.loads((out / "score.json").read_text())
    assert document["decisions"] == 4 and document["summits"] == 3
    for regime in ("in_sample", "rolling"):
        for name in ("model", "base_rate", "persistence", "logistic", "point_calibration"):
            assert set(document[regime][name]) >= {"brier", "log_score", "auroc"}
        assert set(document["rolling"]["skill_vs_best"]) >= {"value", "low", "high"}
    # the rolling regime forecasts the decisions from 2008 on, each from the origin of its own year
    forecasts = list(csv.DictReader((out / "forecasts.csv").open()))
    rolling = {(row["id"], row["origin"]) for row in forecasts if row["regime"] == "rolling"}
    assert rolling == {("2009-declaration", "2009"), ("2010-kyrgyz", "2010"), ("2010-declaration", "2010")}
    assert document["rolling"]["forecasts"] == 3 and document["in_sample"]["forecasts"] == 4
    assert (out / "figures" / "reliability.png").stat().st_size > 0
    one_line(main(["score", str(_write_record(tmp_path, rows, "again.csv")), "--quick", "--out", str(out)]),
             capsys.readouterr().err, "choose another folder")


def test_the_same_record_and_seed_give_the_same_forecasts_with_one_worker_or_two(tmp_path, monkeypatch):
    from sim.studies import score as scoring

    rows = [ROW, DECLARATION, DECLARATION | {"id": "2010-declaration", "date": "2010-06-11"}]
    path = _write_record(tmp_path, rows)
    found = {}
    for workers in (1, 2):
        monkeypatch.setattr(scoring, "processors", lambda workers=workers: workers)
        found[workers] = [(f.regime, f.origin, f.decision.id, f.probabilities)
                          for f in scoring.score([path], scoring.QUICK).forecasts]
    assert found[1] == found[2]


def test_the_project_record_scores_in_quick_mode_end_to_end(tmp_path):
    out = tmp_path / "score"
    assert main(["score", "--quick", "--out", str(out)]) == 0
    document = json.loads((out / "score.json").read_text())
    assert document["decisions"] >= 150 and document["summits"] == 24
    assert document["rolling"]["forecasts"] > 100  # every decision from 2008 on, each from its own year's origin
