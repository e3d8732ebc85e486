"""Figures and reports: produced for runs, sweeps and comparisons, and redrawn identically from saved results."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from sim.cli import main
from sim.outputs.figures import MEMBER_COLOURS, alignment, member_colour
from sim.outputs.run_folder import RunResults

from .conftest import ROOT

RUN_FIGURES = {"adoption", "implementation", "objections", "stances", "alignment"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("plots")
    for name in ("era-2016", "era-2024"):
        assert main(["run", str(ROOT / "scenarios" / f"{name}.yaml"), "--replicates", "200", "--out", str(root / name),
                     "--quiet"]) == 0
    return root


def test_a_run_draws_every_figure(runs):
    assert {p.stem for p in (runs / "era-2016" / "figures").glob("*.png")} == RUN_FIGURES


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_plot_on_saved_results_gives_the_runs_own_figures(runs, tmp_path, fmt):
    out = tmp_path / "run"
    assert main(["run", str(ROOT / "scenarios" / "era-2016.yaml"), "--replicates", "200", "--out", str(out), "--quiet",
                 "--format", fmt]) == 0
    drawn = {p.name: p.read_bytes() for p in (out / "figures").iterdir()}
    assert len(drawn) == len(RUN_FIGURES) and all(name.endswith(f".{fmt}") for name in drawn)
    assert main(["plot", str(out), "--format", fmt]) == 0
    assert {p.name: p.read_bytes() for p in (out / "figures").iterdir()} == drawn


def test_no_figures_means_none(tmp_path):
    out = tmp_path / "quiet"
    assert main(["run", str(ROOT / "scenarios" / "era-2016.yaml"), "--replicates", "20", "--out", str(out), "--quiet",
                 "--no-figures"]) == 0
    assert not (out / "figures").exists()


def test_a_sweep_draws_its_line_heat_map_and_sensitivity_figures(tmp_path):
    out = tmp_path / "grid"
    argv = ["sweep", str(ROOT / "scenarios" / "baseline.yaml"),
            "--param", "members.russia.relations.china.dependence=0:1:3",
            "--param", "members.india.relations.china.rivalry=0:1:2",
            "--replicates", "30", "--out", str(out), "--quiet", "--workers", "1"]
    assert main(argv) == 0
    assert {p.stem for p in (out / "figures").glob("*.png")} == {"adoption_by_parameter", "adoption_heatmap"}
    before = {p.name: p.read_bytes() for p in (out / "figures").iterdir()}
    assert main(["plot", str(out)]) == 0
    assert {p.name: p.read_bytes() for p in (out / "figures").iterdir()} == before
    sobol = tmp_path / "sobol"
    argv = ["sweep", str(ROOT / "scenarios" / "baseline.yaml"), "--method", "sobol", "--samples", "8", "--common-noise",
            "--param", "members.russia.relations.china.dependence=U(0,1)",
            "--param", "members.india.relations.china.rivalry=U(0,1)",
            "--replicates", "30", "--out", str(sobol), "--quiet", "--workers", "1"]
    assert main(argv) == 0
    assert main(["sensitivity", str(sobol)]) == 0
    assert (sobol / "figures" / "sensitivity.png").stat().st_size > 10_000


def test_compare_two_runs(runs, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", str(runs / "era-2016"), str(runs / "era-2024"), "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"adoption.png", "objections.png", "stances.png", "alignment.png",
                                               "differences.png", "differences.csv", ".sco-sim.json"}
    table = pd.read_csv(out / "differences.csv").set_index("proposal")
    energy = table.loc["energy_framework"]
    assert energy.difference == pytest.approx(energy["p_adopted era-2024"] - energy["p_adopted era-2016"])
    assert energy.ci_low < energy.difference < energy.ci_high
    assert main(["compare", str(runs / "era-2016"), str(runs / "era-2024"), "--out", str(out)]) == 2  # never overwrites
    assert "--force" in capsys.readouterr().err
    assert main(["compare", str(runs / "era-2016"), str(tmp_path), "--out", str(tmp_path / "x")]) == 2


def test_the_report_is_one_self_contained_html_file(runs):
    assert main(["report", str(runs / "era-2024")]) == 0
    page = (runs / "era-2024" / "report.html").read_text()
    assert page.count("data:image/png;base64,") == len(RUN_FIGURES)
    assert "src='http" not in page and 'src="http' not in page and "<link" not in page
    assert "Scenario era-2024" in page and "consensus" in page
    assert "New developments" in page  # the provenance of the events and key numbers
    assert "Different aspirations" in page


def test_alignment_is_the_mean_share_of_members_not_objecting_to_the_first_offer(runs):
    results = RunResults(runs / "era-2016")
    table = alignment(results)
    decided = results.outcomes[results.outcomes.status.isin(["adopted", "blocked", "withdrawn"])]
    objecting = decided.initial_objectors.astype(str).map(lambda names: len(names.split(";")) if names else 0)
    assert table.voters.iloc[0] == 6  # the six founders in 2016
    assert table.alignment.iloc[0] == pytest.approx(1 - objecting.mean() / 6)
    assert (table.ci_low <= table.alignment).all() and (table.alignment <= table.ci_high).all()
    assert alignment(RunResults(runs / "era-2024")).voters.iloc[0] == 10


def test_each_member_keeps_one_distinct_colour():
    assert len(set(MEMBER_COLOURS.values())) == 10
    assert member_colour("russia") == MEMBER_COLOURS["russia"] and member_colour("turkey") == member_colour("turkey")


def test_a_run_written_before_implementation_draws_its_other_figures(runs, tmp_path):
    """A run folder from before issue 19 (no implementation columns) still plots, without the implementation figure."""
    old = tmp_path / "old"
    shutil.copytree(runs / "era-2016", old)
    for name in ("by_year.csv", "summary.csv"):
        table = pd.read_csv(old / name)
        table.drop(columns=[c for c in ("implemented", "implemented_year") if c in table]).to_csv(old / name,
                                                                                                 index=False)
    assert main(["plot", str(old)]) == 0
    assert {p.stem for p in (old / "figures").glob("*.png")} == RUN_FIGURES - {"implementation"}
