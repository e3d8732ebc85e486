"""Sweeps: designs, identical numbers on any executor, streaming to disk, resuming, sensitivity."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.experiments.design import design, parse_parameter, values_at
from sim.experiments.sweep_folder import open_sweep

from .conftest import ROOT

BASELINE = str(ROOT / "scenarios" / "baseline.yaml")
GRID = ["--param", "members.russia.relations.china.dependence=0:1:4", "--param", "rule=consensus,two_thirds"]
TABLES = ("summary", "by_year", "stances")


def sweep(out, *extra, replicates="100"):
    argv = ["sweep", BASELINE, *GRID, "--replicates", replicates, "--seed", "1", "--out", str(out), "--quiet", *extra]
    return main(argv)


def assert_same_results(a, b):
    for name in TABLES:
        pd.testing.assert_frame_equal(pd.read_parquet(a / f"{name}.parquet"), pd.read_parquet(b / f"{name}.parquet"),
                                      check_dtype=False)


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweeps") / "serial"
    assert sweep(out, "--workers", "1", "--chunk-size", "3") == 0
    return out


def test_a_grid_sweep_writes_one_row_per_point_and_proposal(serial):
    summary = pd.read_parquet(serial / "summary.parquet")
    assert len(summary) == 8 * 3  # 4 x 2 points, three proposals
    assert set(summary["rules.decision"]) == {"consensus", "two_thirds"}
    assert sorted(summary["members.russia.relations.china.dependence"].unique()) == pytest.approx([0, 1 / 3, 2 / 3, 1])
    assert ((summary.ci_low <= summary.p_adopted) & (summary.p_adopted <= summary.ci_high)).all()
    by_year = pd.read_parquet(serial / "by_year.parquet")
    assert {"p_adopted", "ci_low", "ci_high", "mean_ambition", "year"} <= set(by_year.columns)
    stances = pd.read_parquet(serial / "stances.parquet")
    assert {"point", "proposal", "member", "objected"} <= set(stances.columns)
    # Russia's dependence on China raises the FTZ's chance under consensus (New developments)
    ftz = summary[(summary.proposal == "free_trade_zone") & (summary["rules.decision"] == "consensus")]
    assert ftz.sort_values("members.russia.relations.china.dependence").p_adopted.is_monotonic_increasing


def test_results_do_not_depend_on_workers_or_chunking(serial, tmp_path):
    assert sweep(tmp_path / "two", "--workers", "2", "--chunk-size", "1") == 0
    assert_same_results(serial, tmp_path / "two")
    # with workers, the figures are prepared in a thread while the workers run: the same bytes come out
    figures = sorted(p.name for p in (serial / "figures").iterdir())
    assert figures and figures == sorted(p.name for p in (tmp_path / "two" / "figures").iterdir())
    assert all((serial / "figures" / f).read_bytes() == (tmp_path / "two" / "figures" / f).read_bytes()
               for f in figures)


def test_dask_cluster_gives_the_serial_numbers(serial, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        assert sweep(tmp_path / "dask", "--scheduler", cluster.scheduler_address, "--chunk-size", "2") == 0
    assert_same_results(serial, tmp_path / "dask")
    # the chunks were tapered for the cluster's two threads: 2, 2, then single points
    assert json.loads((tmp_path / "dask" / "sweep.json").read_text())["plan"]["taper"] == 2
    assert len(list((tmp_path / "dask" / "chunks").glob("*.summary.parquet"))) == 6


def test_a_point_run_alone_gives_the_sweeps_numbers(serial):
    from sim.experiments.sweep_folder import point_seed
    from sim.inputs.scenario import load_scenario
    from sim.model.runner import simulate
    from sim.model.tables import aggregate

    design_table = pd.read_parquet(serial / "design.parquet")
    row = design_table.iloc[5]
    scenario = load_scenario(BASELINE, overrides={c: row[c] for c in design_table.columns if c != "point"},
                             replicates=100, seed=point_seed(1, 5))  # each point's own noise, by default
    alone = aggregate(simulate(scenario), {}).summary
    swept = pd.read_parquet(serial / "summary.parquet").query("point == 5")
    assert alone.p_adopted.tolist() == swept.p_adopted.tolist()


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT])
def test_an_interrupted_sweep_resumes_to_the_same_numbers_without_redoing_work(serial, tmp_path, how):
    out = tmp_path / "interrupted"
    argv = [sys.executable, "-m", "sim", "sweep", BASELINE, *GRID, "--replicates", "100", "--seed", "1",
            "--out", str(out), "--workers", "1", "--chunk-size", "1", "--quiet"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    ledger = out / "chunks.jsonl"  # a record per finished chunk
    while time.monotonic() < deadline and (not ledger.exists() or ledger.read_bytes().count(b"\n") < 2):
        time.sleep(0.05)
    process.send_signal(how)
    _, err = process.communicate(timeout=60)
    # a chunk is finished once the ledger records it: one whose files were in place when the signal came, but not
    # yet its record, is rightly computed again
    recorded = open_sweep(out).records()
    done = {p.name: p.stat().st_mtime_ns for number in recorded for p in (out / "chunks").glob(f"{number:06d}.*")}
    assert 2 <= len(recorded) < 8, "the sweep must have been interrupted part-way"
    assert not (out / "summary.parquet").exists()
    if how == signal.SIGINT:
        assert process.returncode == 130 and "--resume" in err and "Traceback" not in err
    # the original command with --resume added is accepted when it agrees with the manifest
    assert main(["sweep", BASELINE, *GRID, "--replicates", "100", "--seed", "1", "--resume", str(out), "--quiet",
                 "--workers", "1"]) == 0
    assert_same_results(serial, out)
    for name, mtime in done.items():  # finished chunks were not redone
        assert (out / "chunks" / name).stat().st_mtime_ns == mtime
    assert len(list((out / "chunks").glob("*.summary.parquet"))) == 8


def test_a_sweep_never_overwrites_unless_forced(serial, capsys):
    before = (serial / "summary.parquet").stat().st_mtime_ns
    assert sweep(serial, "--workers", "1") == 2
    assert "--resume" in capsys.readouterr().err
    assert (serial / "summary.parquet").stat().st_mtime_ns == before


def test_failed_points_are_recorded_and_the_others_complete(tmp_path, capsys, monkeypatch):
    from sim.model import runner

    real = runner.simulate

    def flaky(scenario, *args, **kwargs):  # the point with dependence 1/3 under two-thirds raises
        config = scenario.configuration(scenario.start)
        if config.rules.decision == "two_thirds" and \
                config.members["russia"].relations["china"].dependence == pytest.approx(1 / 3):
            raise RuntimeError("injected fault")
        return real(scenario, *args, **kwargs)

    monkeypatch.setattr(runner, "simulate", flaky)
    assert sweep(tmp_path / "f", "--workers", "1") == 1
    assert "1 of 8 points failed" in capsys.readouterr().err
    failures = pd.read_parquet(tmp_path / "f" / "failures.parquet")
    assert failures.point.tolist() == [3] and failures.error.str.contains("injected fault").all()
    assert sorted(pd.read_parquet(tmp_path / "f" / "summary.parquet").point.unique()) == [0, 1, 2, 4, 5, 6, 7]


def test_a_value_invalid_in_the_first_point_that_has_it_stops_the_sweep(tmp_path, capsys):
    # a threshold is refused under consensus: (consensus, 0.6) is checked first and stops the sweep
    argv = ["sweep", BASELINE, "--param", "rule=majority,consensus", "--param", "rules.threshold=0.6,0.7",
            "--replicates", "20", "--out", str(tmp_path / "c"), "--quiet", "--workers", "1"]
    assert main(argv) == 2
    assert "threshold applies to" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--param", "members.russia.weights.economic"], "expected PATH=VALUES"),
        (["--param", "members.russia.weights.economc=0.1,0.2"], "unknown dimension 'economc'"),
        (["--param", "members.russia.weights.economic=0.5,1.5"], "--param members.russia.weights.economic=1.5"),
        (["--param", "members.russia.weights.economic=U(0,1)"], "grid method needs listed values"),
        (["--param", "members.russia.weights.economic=U(1,0)"], "needs low < high"),
        (["--method", "sobol", "--samples", "6", "--param", "members.russia.weights.economic=U(0,1)"], "power of 2"),
        (["--method", "sobol", "--samples", "8", "--param", "rule=consensus,majority"], "need a distribution"),
        (["--method", "lhs", "--param", "members.russia.weights.economic=U(0,1)"], "needs --samples"),
        (["--param", "rule=consensus,unanimity"], "--param rule=unanimity"),
        (["--param", "members.russia.dependence.china=0:1:3"],  # issue 4's example path; the key lives further down
         "--param members.russia.dependence.china=0.0: unknown key 'dependence' ('dependence' belongs at "
         "members.russia.relations.<code>.dependence"),
    ],
)
def test_bad_sweep_parameters_are_one_line_errors(tmp_path, capsys, argv, message):
    status = main(["sweep", BASELINE, *argv, "--replicates", "10", "--out", str(tmp_path / "x"), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "x").exists()


def test_random_and_latin_hypercube_designs_respect_bounds_and_strata():
    params = [parse_parameter("a.b=U(0,1)"), parse_parameter("c.d=U(10,20)")]
    lhs = design(params, "lhs", 50, seed=3)[["a.b", "c.d"]].to_numpy()
    assert lhs.shape == (50, 2) and (lhs[:, 0] >= 0).all() and (lhs[:, 1] <= 20).all()
    assert sorted(np.floor(lhs[:, 0] * 50).astype(int)) == list(range(50))  # one point per stratum
    assert sorted(np.floor((lhs[:, 1] - 10) / 10 * 50).astype(int)) == list(range(50))
    assert design(params, "lhs", 50, seed=3).equals(design(params, "lhs", 50, seed=3))
    rnd = design([parse_parameter("rule=consensus,majority")], "random", 200, seed=1)
    assert set(rnd["rules.decision"]) == {"consensus", "majority"}


def test_a_grid_is_every_combination_in_order_with_each_parameter_typed_as_given():
    grid = design([parse_parameter("a.b=1,2"), parse_parameter("c.d=x,y,z"), parse_parameter("e.f=0.5,1")], "grid",
                  None, seed=0)
    assert [tuple(row) for row in grid.itertuples(index=False)] == list(
        itertools.product([1, 2], ["x", "y", "z"], [0.5, 1.0]))
    assert values_at(grid, 7) == {"a.b": 2, "c.d": "x", "e.f": 1.0}
    assert type(values_at(grid, 7)["a.b"]) is int  # not numpy's, nor made a float beside e.f


def test_sobol_sweep_and_its_sensitivity_indices(tmp_path, capsys):
    out = tmp_path / "sobol"
    argv = ["sweep", BASELINE, "--method", "sobol", "--samples", "16",
            "--param", "members.russia.relations.china.dependence=U(0,1)",
            "--param", "members.mongolia.weights.security=U(0,1)",  # an observer's weight: no effect on any decision
            "--replicates", "100", "--out", str(out), "--quiet", "--workers", "2", "--common-noise"]
    assert main(argv) == 0
    assert len(pd.read_parquet(out / "design.parquet")) == 16 * 4
    assert main(["sensitivity", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "S1 [95% interval]" in printed and "ST [95% interval]" in printed
    table = pd.read_csv(out / "sensitivity.csv")
    ftz = table[table.outcome == "P(adopted) free_trade_zone"].set_index("parameter")
    assert ftz.loc["members.russia.relations.china.dependence", "ST"] > 0.5
    # with common random numbers a parameter without effect gets no share of the variance at all
    assert ftz.loc["members.mongolia.weights.security", "ST"] == pytest.approx(0, abs=1e-9)


def test_common_noise_gives_every_point_the_root_seed(tmp_path):
    from sim.experiments.sweep_folder import Plan, point_seed

    plan = Plan("s", "h", [], "grid", None, 7, 10, 3, 1, {})
    assert ([plan.seed_of(i) for i in range(3)] == [point_seed(7, i) for i in range(3)]
            and len({plan.seed_of(i) for i in range(3)}) == 3)
    common = Plan("s", "h", [], "grid", None, 7, 10, 3, 1, {}, common_noise=True)
    assert [common.seed_of(i) for i in range(3)] == [7, 7, 7]


def test_tapered_chunks_cover_every_point_once_and_end_in_single_points(tmp_path):
    from sim.experiments.sweep_folder import Plan, create

    even = Plan("s", "h", [], "grid", None, 7, 10, 100, 7, {})  # as a manifest without `taper` reads back
    assert [len(c) for c in even.chunks()] == [7] * 14 + [2]
    tapered = Plan("s", "h", [], "grid", None, 7, 10, 100, 7, {}, taper=2)
    chunks = tapered.chunks()
    assert [i for c in chunks for i in c] == list(range(100))
    sizes = [len(c) for c in chunks]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] == 7 and sizes[-3:] == [1, 1, 1]
    # each chunk is at most a quarter of what is left, so two workers end at most one point apart
    assert all(len(c) <= max(1, -(-(100 - c.start) // 4)) for c in chunks)
    # the layout is kept in the manifest: a resumed sweep, whatever its workers, finds the same chunks
    create(tmp_path / "s", tapered, pd.DataFrame({"x": range(100)}))
    assert open_sweep(tmp_path / "s").plan.chunks() == chunks


def test_the_report_times_the_whole_command_and_counts_only_the_runs_it_made(tmp_path, capsys):
    argv = ["sweep", BASELINE, "--param", "rule=consensus,two_thirds", "--replicates", "10", "--workers", "1",
            "--no-figures"]
    assert main([*argv, "--out", str(tmp_path / "s")]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert "(20 runs) in " in first and "runs/s, start-up and figures included" in first
    assert main(["sweep", "--resume", str(tmp_path / "s"), "--no-figures"]) == 0  # nothing left to run
    assert "(20 runs, 0 of them now) in " in capsys.readouterr().out.splitlines()[0]


def test_morris_sweep_and_a_grid_sweep_refused_by_sensitivity(tmp_path, serial, capsys):
    out = tmp_path / "morris"
    argv = ["sweep", BASELINE, "--method", "morris", "--samples", "4",
            "--param", "members.russia.relations.china.dependence=U(0,1)",
            "--param", "members.mongolia.weights.security=U(0,1)",
            "--replicates", "50", "--out", str(out), "--quiet", "--workers", "1"]
    assert main(argv) == 0
    assert main(["sensitivity", str(out)]) == 0
    table = pd.read_csv(out / "sensitivity.csv")
    assert {"mu_star", "mu_star_conf", "sigma"} <= set(table.columns)
    assert main(["sensitivity", str(serial)]) == 2
    assert "needs a sobol or morris sweep" in capsys.readouterr().err


def test_resume_refuses_a_changed_scenario(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text((ROOT / "scenarios" / "baseline.yaml").read_text().replace("../configs", str(ROOT / "configs")))
    out = tmp_path / "r"
    assert main(["sweep", str(scenario), "--param", "rule=consensus", "--replicates", "10", "--out", str(out),
                 "--quiet", "--workers", "1"]) == 0
    scenario.write_text(scenario.read_text().replace("seed: 7", "seed: 8"))
    assert main(["sweep", "--resume", str(out), "--quiet"]) == 2
    assert "changed" in capsys.readouterr().err
    os.remove(out / "sweep.json")
    assert main(["sweep", "--resume", str(out), "--quiet"]) == 2


def test_resume_refuses_options_that_differ_from_the_sweep(serial, capsys):
    assert main(["sweep", BASELINE, "--param", "rule=consensus", "--resume", str(serial), "--quiet"]) == 2
    assert "--param differs from the sweep" in capsys.readouterr().err
    assert main(["sweep", "--resume", str(serial), "--replicates", "7", "--quiet"]) == 2
    assert "--replicates differs" in capsys.readouterr().err
