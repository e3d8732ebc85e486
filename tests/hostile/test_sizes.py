"""Sizes, long names and odd paths (issue 29, points 7 to 9): a scenario that expands through its aliases, names and
codes of any length, and paths the file system accepts but that are not text.

Each case runs the command line as the user would (in-process through :func:`sim.cli.main`, or ``python -m sim`` in a
child process where the process's own encoding matters) and checks what is written, or the one line on stderr.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.core.vocabulary import MAX_CODE, MAX_ERROR_LINE, MAX_METADATA_BYTES, MAX_NAME, MAX_YAML_EXPANDED
from sim.inputs.scenario import load_scenario
from sim.outputs.metadata import METADATA
from sim.outputs.run_folder import RunResults

from ..conftest import BASE, ROOT, one_line
from ..test_backtest import deu_file

HISTORY = ROOT / "scenarios" / "history.yaml"
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def invoke(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    """The CLI in-process: (exit status, stdout, stderr)."""
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


# --- metadata that grew with the years (point 7) ---------------------------------------------------------------


def aliased(folder: Path, end: int, length: int, copies: int) -> Path:
    """A scenario of a few tens of KB whose one string of ``length`` characters is aliased ``copies`` times into the
    configuration (a member's sources), with an event every year that changes a weight and adds one more copy."""
    lines = [f"name: aliased-{end}", f"description: &s {'x' * length}", f"base: {json.dumps(str(BASE))}",
             "start: 2015", f"end: {end}", "replicates: 2", "agenda: [sco_bank]", "set:",
             "  members.russia.sources:"]
    lines += [f"    k{i:03d}: *s" for i in range(copies)]
    lines += ["events:"]
    for year in range(2016, end + 1):
        lines += [f"  - year: {year}", "    set:", f"      members.russia.weights.economic: {0.3 + year % 7 / 100}",
                  f"      members.china.sources.y{year}: *s"]
    path = folder / f"aliased-{end}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_aliases_are_copied_into_the_metadata_once_not_once_a_year(tmp_path: Path) -> None:
    # before: every year's configuration was written in full, the 100 copies once per year of the timeline
    # (2,600 copies and 52 MB over 25 years)
    path = aliased(tmp_path, 2039, 20_000, 100)
    assert path.stat().st_size < 30_000
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--no-figures", "--quiet"]) == 0
    text = (out / METADATA).read_text(encoding="utf-8")
    copies = text.count("x" * 20_000)
    # the scenario as written (the description, the 100, one an event), the first year's configuration (100),
    # then two a year: the event as applied, and what it changed
    assert copies <= 1 + 100 + 100 + 3 * 24, copies
    assert len(text) < 6 * 100 * 20_000


def test_the_metadata_gives_back_every_years_configuration(tmp_path: Path) -> None:
    scenario = load_scenario(HISTORY)
    out = tmp_path / "out"
    assert main(["run", str(HISTORY), "--replicates", "2", "--out", str(out), "--no-figures", "--quiet"]) == 0
    results = RunResults(out)
    assert results.timeline == scenario.timeline
    assert results.members == scenario.member_names
    assert results.proposals == {code: p.name for c in scenario.timeline.values() for code, p in c.proposals.items()}


def test_a_folder_of_an_earlier_version_with_every_years_configuration_in_full_is_read(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = load_scenario(BASELINE)
    out = tmp_path / "out"
    assert main(["run", str(BASELINE), "--replicates", "2", "--out", str(out), "--no-figures", "--quiet"]) == 0
    meta = json.loads((out / METADATA).read_text(encoding="utf-8"))
    meta["configuration"] = {str(year): config.model_dump(mode="json", by_alias=True)
                             for year, config in scenario.timeline.items()}  # as written before issue 29
    (out / METADATA).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    assert RunResults(out).timeline == scenario.timeline
    assert invoke(capsys, ["report", str(out)])[0] == 0  # its figures and its tables of assumptions


def test_a_run_whose_metadata_would_pass_the_limit_is_refused_before_it_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = aliased(tmp_path, 2016, 60_000, 230)  # under the loader's limit, but the metadata holds it twice
    assert 230 * 60_000 < MAX_YAML_EXPANDED
    status, _, checked = invoke(capsys, ["check", str(path)])  # check refuses what run would
    one_line(status, checked, f"error: {path}: ", f"{METADATA} would be more than {MAX_METADATA_BYTES:,} bytes")
    out = tmp_path / "out"
    status, _, err = invoke(capsys, ["run", str(path), "--out", str(out), "--no-figures"])
    assert err == checked
    assert not out.exists()


def test_what_changed_gives_back_a_value_that_changed_form(tmp_path: Path, write_scenario: Any) -> None:
    # a span of years becomes a list and back, a route appears and goes, a member accedes
    bank = "proposals.sco_bank"
    path = write_scenario(agenda=["sco_bank"], events=[
        {"year": 2016, "set": {f"{bank}.tabled": {"from": 2015, "to": 2017}, f"{bank}.min_ambition": 0.5,
                               f"{bank}.elsewhere": {"forum": "bri", "share": 0.5}}},
        {"year": 2017, "set": {f"{bank}.tabled": [2017, 2018], f"{bank}.min_ambition": 0.6}, "accede": ["mongolia"]},
        {"year": 2018, "set": {f"{bank}.tabled": {"from": 2018, "to": 2018}, f"{bank}.elsewhere": None}}])
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--no-figures", "--quiet"]) == 0
    timeline = load_scenario(path).timeline
    assert len(timeline) == 4 and RunResults(out).timeline == timeline


# --- long names and codes (point 8) --------------------------------------------------------------------------


def test_a_name_of_900000_characters_is_refused_in_one_short_line(tmp_path: Path, write_scenario: Any,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    # before: the run drew its figures and matplotlib refused a 11,700,931-pixel-wide image (an internal error)
    path = write_scenario(set={"members.russia.name": "R" * 900_000})
    out = tmp_path / "out"
    status, _, err = invoke(capsys, ["run", str(path), "--out", str(out)])
    line = one_line(status, err, f"error: {path}: set.members.russia.name: ",
                    f"String should have at most {MAX_NAME:,} characters (got 'RRR", "900,000 characters")
    assert len(line) <= MAX_ERROR_LINE
    assert not out.exists()


@pytest.mark.parametrize("where", ["scenario", "command line"])
def test_a_code_of_100000_characters_is_refused_in_one_short_line(tmp_path: Path, write_scenario: Any,
                                                                  capsys: pytest.CaptureFixture[str],
                                                                  where: str) -> None:
    # before: the code was quoted twice in full, a line of 200,102 characters
    code = "a" * 100_000
    if where == "scenario":  # an explicit key: a plain one may be at most 1,024 characters in YAML
        path = write_scenario()
        path.write_text(path.read_text(encoding="utf-8") + f"set:\n  ? members.{code}\n  : {{name: X}}\n",
                        encoding="utf-8")
        argv = ["check", str(path)]
    else:
        argv = ["check", str(write_scenario()), "--set", f"members.{code}.name=X"]
    status, _, err = invoke(capsys, argv)
    line = one_line(status, err, f"String should have at most {MAX_CODE} characters (got 'aaa", "100,000 characters")
    assert len(line) <= MAX_ERROR_LINE


def test_names_at_the_limit_are_run_drawn_and_named_in_results(tmp_path: Path, write_scenario: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # the longest names allowed, in letters of three bytes each: the figures draw them, the results folder is named
    long = "中" * MAX_NAME
    path = write_scenario(agenda=["sco_bank"], replicates=5,
                          set={"members.russia.name": long, "proposals.sco_bank.name": long})
    path.write_text(path.read_text(encoding="utf-8").replace("name: scenario", f"name: {long}"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(path), "--quiet"]) == 0
    (folder,) = (tmp_path / "results").iterdir()
    assert folder.name.startswith("中") and len(os.fsencode(folder.name)) < 255
    assert {p.name for p in (folder / "figures").iterdir()} >= {"adoption.png", "stances.png"}
    assert RunResults(folder).members["russia"] == long


EXAMPLES = itertools.count()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(st.characters(codec="utf-8"), min_size=1, max_size=3000).map(lambda t: t * (3000 // len(t) + 1)),
       where=st.sampled_from(["value", "key", "name", "base", "rule", "code"]))
def test_no_input_makes_an_error_line_long(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                                          where: str) -> None:
    path = tmp_path / f"long-{next(EXAMPLES)}.yaml"  # a name of its own: files are cached by name, size and time
    spec: dict[str, Any] = {"name": "long", "base": str(BASE), "start": 2015, "end": 2016}
    argv = ["check", str(path)]
    if where == "value":
        spec["set"] = {"rules.decision": text}
    elif where == "key":
        spec["set"] = {f"rules.{text}": 1}
    elif where == "name":
        spec["set"] = {"proposals.sco_bank.name": text}
    elif where == "base":
        spec["base"] = text
    elif where == "rule":
        argv += ["--rule", text]
    else:
        argv += ["--set", f"members.{text}.name=X"]
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, width=10**9), encoding="utf-8")
    status, _, err = invoke(capsys, argv)
    if status:
        assert len(one_line(status, err)) <= MAX_ERROR_LINE


# --- paths the file system accepts that are not text (point 9) -----------------------------------------------

#: A name with the byte 0xff, which no UTF-8 text holds: Python reads it as the surrogate escape U+DCFF.
ODD = os.fsdecode(b"x\xffy")
#: How every message prints it: the byte, escaped as the shell writes it ($'x\xffy').
SHOWN = "x\\xffy"


def sco_sim(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    """``python -m sim ARGV`` in a child process whose standard output takes UTF-8 text only (as on a desktop's
    UTF-8 locale; the C locale would let the surrogate escape through as a raw byte)."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "sim", *map(str, argv)], capture_output=True, text=True,
                          encoding="utf-8", errors="strict", env=env, timeout=300, cwd=ROOT, check=False)


def test_a_run_into_a_folder_whose_name_is_not_text_is_written_printed_plotted_and_reported(tmp_path: Path) -> None:
    # before: an internal error (UnicodeEncodeError: Arrow writes Parquet to UTF-8 paths only), nothing written
    out = tmp_path / ODD
    done = sco_sim("run", BASELINE, "--replicates", "5", "--out", out)
    assert done.returncode == 0, done.stderr
    assert f"Results written to {tmp_path}/{SHOWN}/" in done.stdout
    assert os.fsencode(out) in [os.fsencode(tmp_path / name) for name in os.listdir(tmp_path)]
    command = json.loads((out / METADATA).read_text(encoding="utf-8"))["command"]
    assert os.fsencode(command[command.index("--out") + 1]) == os.fsencode(out)  # recorded losslessly
    done = sco_sim("plot", out)
    assert done.returncode == 0 and f"{SHOWN}/figures/adoption.png" in done.stdout, done.stderr
    done = sco_sim("report", out)
    assert done.returncode == 0 and done.stdout.strip() == f"{tmp_path}/{SHOWN}/report.html", done.stderr
    assert SHOWN in (out / "report.html").read_text(encoding="utf-8")  # the command, escaped


def test_a_scenario_file_whose_name_is_not_text_is_checked_and_run(tmp_path: Path) -> None:
    path = tmp_path / f"{ODD}.yaml"
    path.write_text(BASELINE.read_text(encoding="utf-8").replace("../configs/", f"{ROOT}/configs/"), encoding="utf-8")
    done = sco_sim("check", path)
    assert done.returncode == 0 and done.stdout.startswith(f"ok: {tmp_path}/{SHOWN}.yaml ("), done.stderr
    out = tmp_path / "out"
    done = sco_sim("run", path, "--replicates", "5", "--no-figures", "--out", out)
    assert done.returncode == 0, done.stderr
    recorded = json.loads((out / METADATA).read_text(encoding="utf-8"))["scenario"]["file"]
    assert os.fsencode(recorded) == os.fsencode(path)
    done = sco_sim("check", tmp_path / f"{ODD}-missing.yaml")
    assert done.returncode == 2 and done.stderr == f"error: {tmp_path}/{SHOWN}-missing.yaml: file not found\n"


def test_a_sweep_into_a_folder_whose_name_is_not_text_is_written_and_plotted(tmp_path: Path) -> None:
    # before: an internal error (UnicodeEncodeError), as for a run
    out = tmp_path / ODD
    done = sco_sim("sweep", BASELINE, "--param", "rules.deference=0,1", "--replicates", "3", "--workers", "1",
                   "--out", out)
    assert done.returncode == 0, done.stderr
    assert (out / "summary.parquet").is_file()
    done = sco_sim("plot", out)
    assert done.returncode == 0 and SHOWN in done.stdout, done.stderr


@pytest.mark.parametrize("command", ["compare", "sensitivity", "backtest", "fit"])
def test_every_other_output_folder_may_have_a_name_that_is_not_text(tmp_path: Path, command: str) -> None:
    out = tmp_path / ODD
    if command == "compare":
        run = tmp_path / "run"
        assert main(["run", str(BASELINE), "--replicates", "5", "--no-figures", "--quiet", "--out", str(run)]) == 0
        argv: list[str | Path] = ["compare", run, run]
    elif command == "sensitivity":
        argv = ["sensitivity", BASELINE, "--replicates", "1000", "--top", "1"]
    elif command == "backtest":
        argv = ["backtest", "deu", deu_file(tmp_path / "deu.tsv", "p", 1)]
    else:
        argv = ["fit", "--worlds", "10", "--world-size", "2"]
    done = sco_sim(*argv, "--out", out)
    assert done.returncode == 0, done.stderr
    assert SHOWN in done.stdout and out.is_dir() and any(out.iterdir())
