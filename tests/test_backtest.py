"""The DEU III backtest: file format and bad rows, the mapping onto the engine, and the result against baselines."""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.studies import backtest as backtest_module
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
def test_on_the_calibration_file_the_score_is_in_sample_and_the_cross_validated_row_is_beside_it(tmp_path, capsys):
    out = tmp_path / "bt"
    assert main(["backtest", "deu", str(DEU), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].startswith("in-sample:")
    assert "folds are whole legislative proposals (column prnr)" in " ".join(printed.split())
    summary = pd.read_csv(out / "summary.csv").set_index(["model", "issues"])
    assert summary.loc[("engine, cross-validated", "all"), "n"] == summary.loc[("engine", "all"), "n"]
    assert summary.loc[("reference point", "all"), "mae"] > 40  # the status quo is a poor guess, as in the literature
    assert len(pd.read_csv(out / "issues.csv")) == summary.loc[("engine", "all"), "n"]
    assert json.loads((out / "scoring.json").read_text())["score"] == "in-sample"


# --- fit here, score there ---------------------------------------------------------------------------

SYNTHETIC = ["prnr", "isnr", "proc", "counvte", "rp", "out", "pcom", "scom", "pep", "sep",
             *(f"{k}{a}" for a in ("de", "fr", "it", "es", "pl", "nl") for k in "ps")]
MACHINE = re.compile(r"^mae_(overall|unanimity|qmv): (nan|\d+\.\d{3})$")


def deu_file(path: Path, prefix: str, seed: int, proposals: int = 12, rules: tuple[str, ...] = ("QMV", "Unan")) -> Path:
    """A DEU-format file of ``proposals`` proposals of three issues each, the rules alternating; issue numbers
    start with ``prefix``, so that a test can tell which file an issue came from."""
    rng = np.random.default_rng(seed)
    rows = [SYNTHETIC]
    for p in range(proposals):
        for k in range(3):
            actors = [int(v) for pair in zip(rng.integers(0, 101, 6), rng.integers(10, 101, 6), strict=True)
                      for v in pair]
            rows.append([f"{prefix}{p}", f"{prefix}{p}i{k}", "COD" if p % 3 else "CNS", rules[p % len(rules)],
                         int(rng.integers(0, 101)), int(rng.integers(0, 101)), *rng.integers(0, 101, 4).tolist(),
                         *actors])
    path.write_text("\n".join("\t".join(map(str, row)) for row in rows) + "\n", encoding="utf-8")
    return path


def backtest(capsys, *argv) -> tuple[int, list[str]]:
    status = main(["backtest", "deu", *map(str, argv)])
    captured = capsys.readouterr()
    return status, (captured.out or captured.err).splitlines()


def machine_lines(lines: list[str]) -> dict[str, float]:
    found = [MACHINE.match(line) for line in lines[-3:]]
    assert all(found), lines[-3:]
    return {m.group(1): float(m.group(2)) for m in found if m}


def test_without_calibrate_on_or_with_the_same_file_the_first_line_says_in_sample(tmp_path, capsys):
    data = deu_file(tmp_path / "data.tsv", "d", 1)
    status, lines = backtest(capsys, data, "--out", tmp_path / "a")
    assert status == 0 and lines[0].startswith("in-sample: the parameters were fitted on the scored file itself")
    status, lines = backtest(capsys, data, "--calibrate-on", data, "--out", tmp_path / "b")
    assert status == 0 and lines[0].startswith("in-sample: --calibrate-on names the scored file")
    copy = tmp_path / "copy.tsv"
    copy.write_bytes(data.read_bytes())  # another name, the same bytes
    status, lines = backtest(capsys, data, "--calibrate-on", copy, "--out", tmp_path / "c")
    assert status == 0 and lines[0].startswith("in-sample: the calibration file") and "SHA-256" in lines[0]
    assert json.loads((tmp_path / "c" / "scoring.json").read_text())["score"] == "in-sample"


def test_the_fit_sees_only_the_calibration_issues_and_the_scored_file_cannot_move_it(tmp_path, capsys, monkeypatch):
    calibration = deu_file(tmp_path / "cal.tsv", "cal", 2)
    seen: list[str] = []
    original = backtest_module.cross_validate

    def spy(issues, *args, **kwargs):
        seen.extend(str(i.ident) for i in issues)
        return original(issues, *args, **kwargs)

    monkeypatch.setattr(backtest_module, "cross_validate", spy)
    fits = []
    for n, seed in enumerate((3, 4)):
        scored = deu_file(tmp_path / f"eval{n}.tsv", f"eval{n}-", seed)
        status, lines = backtest(capsys, scored, "--calibrate-on", calibration, "--out", tmp_path / f"o{n}")
        assert status == 0 and lines[0].startswith("out-of-sample:") and "in-sample" not in lines[0]
        assert json.loads((tmp_path / f"o{n}" / "scoring.json").read_text())["score"] == "out-of-sample"
        fits.append(json.loads((tmp_path / f"o{n}" / "fit.json").read_text()))
    assert seen and all(ident.startswith("cal") for ident in seen)
    assert fits[0] == fits[1]  # two scored files, one fit


def test_a_saved_fit_reproduces_the_score_and_the_folder_records_it(tmp_path, capsys):
    calibration, scored = deu_file(tmp_path / "cal.tsv", "cal", 5), deu_file(tmp_path / "eval.tsv", "ev", 6)
    saved = tmp_path / "fit.json"
    status, first = backtest(capsys, scored, "--calibrate-on", calibration, "--save-fit", saved,
                             "--out", tmp_path / "a")
    assert status == 0
    document = json.loads(saved.read_text())
    assert document["calibration_file"]["sha256"] == hashlib.sha256(calibration.read_bytes()).hexdigest()
    assert set(document["parameters"]["tolerance"]) == {"veto", "compromise", "nash", "exchange"}
    assert all(set(rules) == {"unanimity", "qmv"} for rules in document["parameters"]["tolerance"].values())
    assert document["procedure"]["grouping"] == "proposal" and document["sco_sim_version"]
    for mechanism in ("veto", "compromise", "nash", "exchange"):
        assert set(document["cross_validation"][mechanism]["qmv"]["mae_per_candidate"]) == {
            "0.0", "0.005", "0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "inf"}
    assert json.loads((tmp_path / "a" / "fit.json").read_text()) == document
    status, again = backtest(capsys, scored, "--fit", saved, "--out", tmp_path / "b")
    assert status == 0 and machine_lines(again) == machine_lines(first) and again[0].startswith("out-of-sample:")
    status, own = backtest(capsys, calibration, "--fit", saved, "--out", tmp_path / "c")
    assert status == 0 and own[0].startswith("in-sample:")  # the fit's own file, scored with it


def test_the_machine_lines_come_last_parse_and_agree_with_the_summary(tmp_path, capsys):
    calibration = deu_file(tmp_path / "cal.tsv", "cal", 7)
    scored = deu_file(tmp_path / "qmv.tsv", "q", 8, rules=("QMV",))
    status, lines = backtest(capsys, scored, "--calibrate-on", calibration, "--out", tmp_path / "o")
    assert status == 0
    mae = machine_lines(lines)
    summary = pd.read_csv(tmp_path / "o" / "summary.csv").set_index(["model", "issues"])
    assert mae["overall"] == pytest.approx(summary.loc[("engine", "all"), "mae"], abs=1e-3)
    assert mae["qmv"] == pytest.approx(summary.loc[("engine", "qmv"), "mae"], abs=1e-3)
    assert math.isnan(mae["unanimity"])  # no issue under unanimity in the scored file
    assert {"compromise model", "weighted mean", "median", "reference point"} <= set(summary.index.get_level_values(0))


@pytest.mark.parametrize(("content", "key"), [
    ("{not json", "format"),
    ('{"format": "something else"}', "format"),
    ('{"format": "sco-sim backtest fit", "parameters": {"tolerance": {"qmv": -1}}}', "parameters.tolerance.qmv"),
    ('{"format": "sco-sim backtest fit", "parameters": {"tolerance": {}}}', "parameters.tolerance"),
    # a fit written before the mechanisms (a tolerance per rule) is refused, naming the key
    ('{"format": "sco-sim backtest fit", "parameters": {"tolerance": {"unanimity": 0.1, "qmv": "inf"}}}',
     "parameters.tolerance.unanimity"),
    ('{"format": "sco-sim backtest fit", "parameters": {"tolerance": {"veto": {"qmv": 0.1}}}}',
     "parameters.tolerance.compromise"),
])
def test_a_malformed_fit_file_is_refused_in_one_line(tmp_path, capsys, content, key):
    scored, bad = deu_file(tmp_path / "eval.tsv", "ev", 9), tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    status, lines = backtest(capsys, scored, "--fit", bad, "--out", tmp_path / "o")
    assert status == 2 and len(lines) == 1 and lines[0].startswith(f"error: {bad}: {key}: expected")
    assert not (tmp_path / "o").exists()


def test_fit_and_calibrate_on_together_are_refused_in_one_line(tmp_path, capsys):
    scored = deu_file(tmp_path / "eval.tsv", "ev", 10)
    status, lines = backtest(capsys, scored, "--fit", tmp_path / "f.json", "--calibrate-on", scored)
    assert status == 2 and len(lines) == 1 and "not allowed with" in lines[0]


def test_folds_keep_a_proposals_issues_together_and_are_fixed_by_the_seed(tmp_path):
    issues = read_issues(deu_file(tmp_path / "d.tsv", "d", 11, proposals=15))[0]
    grouping = backtest_module.grouping_of(issues)
    fold = backtest_module.fold_of(issues, grouping)
    assert grouping == "proposal" and set(fold.tolist()) == set(range(5))
    for proposal in {i.proposal for i in issues}:
        assert len({f for f, i in zip(fold, issues, strict=True) if i.proposal == proposal}) == 1
    assert (backtest_module.fold_of(issues, grouping) == fold).all()


def test_a_calibration_file_sharing_issues_with_the_scored_file_is_called_partly_in_sample(tmp_path, capsys):
    calibration = deu_file(tmp_path / "cal.tsv", "x", 12)
    scored = tmp_path / "eval.tsv"
    lines = calibration.read_text().splitlines()
    fresh = deu_file(tmp_path / "fresh.tsv", "y", 13).read_text().splitlines()
    scored.write_text("\n".join([*lines[:4], *fresh[1:]]) + "\n")  # three issues of the calibration file
    status, printed = backtest(capsys, scored, "--calibrate-on", calibration, "--out", tmp_path / "o")
    assert status == 0 and printed[0].startswith("partly in-sample: 3 of the 39 issues")


# --- the mechanisms --------------------------------------------------------------------------------

INF = float("inf")


def three_states(rule="qmv", reference=0.0, institutions=None, proposal=None, saliences=None, row=2):
    """Germany, France and Italy on one side of the status quo (Italy farthest: the table's end)."""
    return Issue(row, f"t{row}", rule, {"de": 0.3, "fr": 0.6, "it": 0.9},
                 saliences or {"de": 0.5, "fr": 1.0, "it": 0.2}, reference, 0.5, proposal, f"i{row}",
                 institutions or {})


def capability_weighted_mean(issue):
    actors = [(x, backtest_module.NICE_VOTES[a] * issue.saliences[a]) for a, x in issue.positions.items()]
    actors += [(x, backtest_module.INSTITUTION_VOTES * s) for x, s in issue.institutions.values()]
    return sum(x * w for x, w in actors) / sum(w for _, w in actors)


@pytest.mark.parametrize("rule", ["unanimity", "qmv"])
def test_with_no_cost_that_binds_compromise_and_nash_are_the_capability_weighted_mean(rule):
    issue = three_states(rule)
    expected = capability_weighted_mean(issue)
    assert engine_prediction(issue, INF, bargaining="compromise") == pytest.approx(expected)
    assert engine_prediction(issue, INF, bargaining="nash") == pytest.approx(expected, abs=1e-6)
    assert engine_prediction(issue, INF, bargaining="exchange") == pytest.approx(expected)  # alone: its compromise
    assert backtest_module.compromise_model(issue) == pytest.approx(expected)


def test_under_unanimity_a_member_at_the_status_quo_blocks_the_compromise_but_not_the_veto_engines_lower_offer():
    issue = Issue(2, "t", "unanimity", {"de": 1.0, "fr": 0.9, "it": 0.0}, {"de": 0.5, "fr": 0.5, "it": 1.0}, 0.0, 0.3)
    assert engine_prediction(issue, 0.0, bargaining="compromise") == 0.0  # Italy objects: the status quo stands
    assert 0.0 < engine_prediction(issue, 0.01, bargaining="veto")
    nash = engine_prediction(issue, 0.01, bargaining="nash")
    assert 0.0 <= nash < engine_prediction(issue, INF, bargaining="nash")  # Italy's fallback pulls it down


def test_the_table_ends_at_the_farthest_position_and_positions_behind_the_status_quo_count_as_it():
    issue = three_states(reference=0.5)  # de at 0.3 is behind the status quo; the compromise lies above 0.5
    found = backtest_module.table(issue, "compromise")
    assert found is not None and found.d == pytest.approx(0.4)  # Italy at 0.9
    prediction = engine_prediction(issue, INF, bargaining="compromise")
    # on the table: de at 0 (the status quo), fr at 0.25, it at 1; de's salience is its curvature plus its slope
    # at the status quo (sim.core.bargaining.salience): 0.5 d^2 + 2 0.5 d 0.2 = 2 x 0.5 d^2 with d = 0.4
    weights = {"de": 29 * 0.5 * 2, "fr": 29 * 1.0, "it": 29 * 0.2}
    ambition = (weights["fr"] * 0.25 + weights["it"] * 1.0) / sum(weights.values())
    assert prediction == pytest.approx(0.5 + 0.4 * ambition)
    assert prediction > capability_weighted_mean(issue)  # clipping de pulls the outcome away from the status quo


def test_the_institutions_bargain_but_never_object_and_the_parliament_only_under_co_decision(tmp_path):
    rows = [[f"p{n}", f"i{n}", proc, "Unan", 0, 50, 80, 90, 10, 90, 30, 50, 60, 50, 40, 50]
            for n, proc in enumerate(("COD", "CNS"))]
    path = tmp_path / "inst.tsv"
    header = ["prnr", "isnr", "proc", "counvte", "rp", "out", "pcom", "scom", "pep", "sep",
              "pde", "sde", "pfr", "sfr", "pit", "sit"]
    path.write_text("\n".join("\t".join(map(str, r)) for r in [header, *rows]) + "\n", encoding="utf-8")
    cod, cns = read_issues(path)[0]
    assert set(cod.institutions) == {"com", "ep"} and set(cns.institutions) == {"com"}
    for issue in (cod, cns):
        assert engine_prediction(issue, INF, bargaining="compromise") == pytest.approx(capability_weighted_mean(issue))
    # the Parliament (at 0.1, salience 0.9) pulls the co-decision issue toward the status quo
    assert engine_prediction(cod, INF, bargaining="compromise") < engine_prediction(cns, INF, bargaining="compromise")
    # the veto engine has no institutions
    assert engine_prediction(cod, INF) == pytest.approx(engine_prediction(cns, INF))
    # an institution at the status quo, however salient, cannot block under unanimity
    blocked = three_states("unanimity", institutions={"com": (0.0, 1.0)})
    assert engine_prediction(blocked, 0.0, bargaining="compromise") > 0
    assert engine_prediction(blocked, 0.0, bargaining="nash") > 0


def test_the_institutions_leave_the_qmv_blocking_minority_to_the_member_states():
    # with the Commission's 29 votes counted among the voters, a blocking minority of 26% of all votes would be
    # smaller than Italy's share; as it is, Italy (29 of 87 member votes, 33%) blocks alone at tolerance 0
    behind = Issue(2, "t", "qmv", {"de": 0.9, "fr": 0.9, "it": 0.0}, {"de": 0.5, "fr": 0.5, "it": 1.0}, 0.0, 0.5,
                   institutions={"com": (1.0, 1.0), "ep": (1.0, 1.0)})
    assert engine_prediction(behind, 0.0, bargaining="compromise") == 0.0


def test_exchange_moves_a_prediction_only_when_saliences_differ_across_the_proposals_issues():
    same = [three_states(proposal="P", row=2), three_states(proposal="P", row=3)]
    held = backtest_module.traded_positions(same)
    for issue in same:
        assert engine_prediction(issue, INF, bargaining="exchange", held=held[issue.row]) == pytest.approx(
            engine_prediction(issue, INF, bargaining="compromise"))
    differ = [three_states(proposal="P", row=2, saliences={"de": 1.0, "fr": 0.2, "it": 0.2}),
              three_states(proposal="P", row=3, saliences={"de": 0.2, "fr": 0.2, "it": 1.0})]
    held = backtest_module.traded_positions(differ)
    moved = [engine_prediction(i, INF, bargaining="exchange", held=held[i.row])
             - engine_prediction(i, INF, bargaining="compromise") for i in differ]
    assert max(abs(m) for m in moved) > 1e-3
    assert backtest_module.traded_positions([differ[0]]) == {}  # alone: nothing to trade


def test_every_mechanism_is_scored_with_its_own_fit_and_cross_validated_only_in_sample(tmp_path, capsys):
    calibration, scored = deu_file(tmp_path / "cal.tsv", "cal", 14), deu_file(tmp_path / "eval.tsv", "ev", 15)
    status, lines = backtest(capsys, scored, "--calibrate-on", calibration, "--out", tmp_path / "a")
    assert status == 0 and lines[0].startswith("out-of-sample:")
    models = set(pd.read_csv(tmp_path / "a" / "summary.csv").model)
    mechanisms = {"engine", "engine (compromise)", "engine (nash)", "engine (exchange)"}
    assert mechanisms <= models and not any("cross-validated" in m for m in models)
    scoring = json.loads((tmp_path / "a" / "scoring.json").read_text())
    assert set(scoring["mechanisms"]) == {"veto", "compromise", "nash", "exchange"}
    status, lines = backtest(capsys, calibration, "--out", tmp_path / "b")
    assert status == 0 and lines[0].startswith("in-sample:")
    models = set(pd.read_csv(tmp_path / "b" / "summary.csv").model)
    assert {f"{m}, cross-validated" for m in mechanisms} <= models
