"""`sco-sim run` end to end: what it prints, what it writes, and that it never overwrites a run."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from sim.cli import main
from sim.outputs.run_folder import RunResults

from .conftest import ROOT

BASELINE = ROOT / "scenarios" / "baseline.yaml"
FILES = {"outcomes.parquet", "summary.csv", "stances.csv", "by_year.csv", "cohesion.csv", "summary.txt",
         "metadata.json", "figures", ".sco-sim.json"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "demo"
    assert main(["run", str(BASELINE), "--replicates", "300", "--seed", "7", "--out", str(out), "--quiet"]) == 0
    return out


def test_run_writes_the_tidy_table_aggregates_and_metadata(demo):
    assert {p.name for p in demo.iterdir()} == FILES
    table = pd.read_parquet(demo / "outcomes.parquet")
    assert list(table.columns) == ["replicate", "year", "proposal", "status", "ambition", "route", "objectors",
                                   "reservations", "stood_aside", "participants", "initial_objectors", "side_payment",
                                   "implementation"]
    # one row per replicate x year x tabled proposal: the FTZ, the bank and the energy framework every year 2015-2024
    assert len(table) == 300 * 10 * 3
    assert not table.duplicated(["replicate", "year", "proposal"]).any()
    adopted = table[table.status == "adopted"]
    assert adopted.ambition.between(0, 1).all() and table[table.status != "adopted"].ambition.isna().all()
    assert (adopted.objectors == "").all()  # under consensus nothing is adopted over an objection
    # implementation: 0 on adoption, in [0, 1] where in force, NaN where nothing was adopted (issue 19)
    assert (adopted.implementation == 0).all()
    assert table[table.status == "in_force"].implementation.between(0, 1).all()
    assert table[~table.status.isin(["adopted", "in_force"])].implementation.isna().all()
    summary = pd.read_csv(demo / "summary.csv")
    assert set(summary.proposal) == {"free_trade_zone", "sco_bank", "energy_framework"}
    assert (summary.ci_low <= summary.p_adopted).all() and (summary.p_adopted <= summary.ci_high).all()
    meta = json.loads((demo / "metadata.json").read_text())
    assert meta["seed"] == 7 and meta["replicates"] == 300
    assert meta["versions"]["sco-sim"] and meta["versions"]["mesa"].startswith("3.5")
    assert meta["configuration"]["2015"]["members"]["russia"]["weights"]["economic"] == 0.4  # after the 2014 event
    assert meta["configuration"]["2022"]["members"]["russia"]["weights"]["economic"] == 0.5
    assert meta["scenario"]["as_written"]["name"] == "baseline"


def test_aggregates_agree_with_the_tidy_table(demo):
    table = pd.read_parquet(demo / "outcomes.parquet")
    summary = pd.read_csv(demo / "summary.csv").set_index("proposal")
    for proposal, rows in table.groupby("proposal", observed=True):
        ever = rows.groupby("replicate").status.apply(lambda s: (s == "adopted").any())
        assert summary.loc[proposal, "p_adopted"] == pytest.approx(ever.mean())
    stances = pd.read_csv(demo / "stances.csv")
    ftz = table[(table.proposal == "free_trade_zone") & table.status.isin(["adopted", "blocked", "withdrawn"])]
    russia = stances[(stances.proposal == "free_trade_zone") & (stances.member == "russia")].iloc[0]
    assert russia.objected == pytest.approx(ftz.objectors.str.split(";").apply(lambda m: "russia" in m).mean())


def test_the_metadata_reproduces_the_run(demo, tmp_path):
    meta = json.loads((demo / "metadata.json").read_text())
    again = tmp_path / "again"
    argv = meta["command"][1:]
    argv[argv.index("--out") + 1] = str(again)
    assert main(argv) == 0
    assert (demo / "summary.csv").read_text() == (again / "summary.csv").read_text()
    pd.testing.assert_frame_equal(pd.read_parquet(demo / "outcomes.parquet"),
                                  pd.read_parquet(again / "outcomes.parquet"))


def test_run_prints_probabilities_intervals_and_objectors(capsys, tmp_path):
    assert main(["run", str(BASELINE), "--replicates", "100", "--out", str(tmp_path / "x")]) == 0
    out = capsys.readouterr().out
    assert "P(adopted)" in out and "95% interval" in out
    assert "Free trade zone" in out and "objected:" in out and "Russia" in out
    assert f"Results written to {tmp_path / 'x'}" in out


def test_without_out_each_run_gets_a_new_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        assert main(["run", str(BASELINE), "--replicates", "20", "--quiet"]) == 0
    folders = sorted((tmp_path / "results").iterdir())
    assert len(folders) == 2 and all(f.name.startswith("baseline-") for f in folders)
    assert all((f / "summary.csv").exists() for f in folders)


def test_force_replaces_an_earlier_run(tmp_path):
    out = tmp_path / "r"
    assert main(["run", str(BASELINE), "--replicates", "20", "--out", str(out), "--quiet"]) == 0
    assert main(["run", str(BASELINE), "--replicates", "20", "--out", str(out), "--quiet"]) == 2
    assert main(["run", str(BASELINE), "--replicates", "30", "--out", str(out), "--quiet", "--force"]) == 0
    assert json.loads((out / "metadata.json").read_text())["replicates"] == 30
    assert [p.name for p in tmp_path.iterdir()] == ["r"]  # no staging or replaced folder left behind


def test_rule_and_set_on_the_command_line(tmp_path):
    out = tmp_path / "r"
    argv = ["run", str(BASELINE), "--replicates", "200", "--rule", "majority", "--set", "rules.objection_cost=0.2",
            "--out", str(out), "--quiet"]
    assert main(argv) == 0
    config = json.loads((out / "metadata.json").read_text())["configuration"]["2015"]
    assert config["rules"]["decision"] == "majority" and config["rules"]["objection_cost"] == 0.2
    summary = pd.read_csv(out / "summary.csv").set_index("proposal")
    assert summary.loc["free_trade_zone", "p_adopted"] == 1.0  # Russia and India alone cannot block under majority


def test_python_dash_m_sim_is_the_same_cli(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sim", "check", str(BASELINE)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("ok: ")
    done = subprocess.run([sys.executable, "-m", "sim", "run", str(BASELINE), "--replicates", "10",
                           "--out", str(tmp_path / "m")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "m" / "outcomes.parquet").exists()
    done = subprocess.run([sys.executable, "-m", "sim", "check", str(tmp_path / "missing.yaml")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1  # the exit status survives the entry point


def test_the_version_is_the_installed_one(capsys):
    from importlib.metadata import version

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"sco-sim {version('sco-sim')}"


@pytest.mark.parametrize("scenario", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_scenario_is_valid(scenario, capsys):
    assert main(["check", str(scenario)]) == 0
    assert capsys.readouterr().out.startswith(f"ok: {scenario}")


def test_command_line_settings_win_over_the_scenarios_events(tmp_path):
    out = tmp_path / "r"
    argv = ["run", str(BASELINE), "--replicates", "20", "--set", "members.russia.relations.china.dependence=0.9",
            "--out", str(out), "--quiet"]
    assert main(argv) == 0
    timeline = RunResults(out).timeline  # metadata.json holds the first year's in full, then what changed
    # the 2022 event sets this dependence to 0.8; the command line says 0.9 throughout
    assert {year: c.members["russia"].relations["china"].dependence for year, c in timeline.items()} == {
        2015: 0.9, 2018: 0.9, 2022: 0.9}


def test_a_threshold_under_a_consensus_rule_is_refused_not_ignored(capsys):
    assert main(["check", str(BASELINE), "--set", "rules.threshold=0.6"]) == 2
    err = capsys.readouterr().err
    assert "--set rules.threshold" in err and "not to consensus" in err
