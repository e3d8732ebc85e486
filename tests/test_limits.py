"""Input limits (issue 15): what cannot be read, expanded, held in memory or run in time is refused at once.

Each case runs the command line as the user would (in-process through :func:`sim.cli.main`, or in a subprocess
with a timeout where a hang must fail rather than block) and checks the one line on stderr and the exit status.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.core import budget
from sim.core.budget import Size, check_run, run_estimate
from sim.core.errors import ConfigError
from sim.core.vocabulary import MAX_POINTS, MAX_RUN_BYTES, MAX_SWEEP_RUNS, MAX_YAML_BYTES, MAX_YAML_EXPANDED

from .conftest import ROOT, one_line

BASE = ROOT / "configs" / "base.yaml"


def scenario(folder: Path, extra: str = "", name: str = "limits.yaml", start: int = 2015, end: int = 2017,
             replicates: int = 1, base: Path | str = BASE) -> Path:
    """A short valid scenario (absolute base path) with ``extra`` YAML appended."""
    path = folder / name
    path.write_text(f"name: limits-test\nbase: {json.dumps(str(base))}\nstart: {start}\nend: {end}\n"
                    f"replicates: {replicates}\n{extra}", encoding="utf-8")
    return path


def invoke(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    """The CLI in-process: (exit status, stdout, stderr)."""
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def subprocess_check(path: Path | str) -> subprocess.CompletedProcess[str]:
    """``python -m sim check PATH`` in a child process; a hang fails the test after 20 s instead of blocking."""
    return subprocess.run([sys.executable, "-m", "sim", "check", str(path)], capture_output=True, text=True,
                          timeout=20, cwd=ROOT, check=False)


# --- files that are not regular, or too large ---------------------------------------------------------


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_character_device_is_refused_without_reading_it() -> None:
    done = subprocess_check("/dev/zero")
    one_line(done.returncode, done.stderr, "error: /dev/zero: ", "is a character device, not a regular file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    done = subprocess_check(fifo)
    one_line(done.returncode, done.stderr, f"error: {fifo}: ",
             "is a FIFO (named pipe), not a regular file; expected a YAML file")


def test_a_yaml_file_over_the_size_limit_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, "# " + "x" * MAX_YAML_BYTES + "\n")
    size = path.stat().st_size
    status, _, err = invoke(capsys, ["check", str(path)])
    one_line(status, err, str(path), f"is {size:,} bytes; at most {MAX_YAML_BYTES:,} are read")


def test_a_symlink_loop_as_the_scenario_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.symlink_to(second)
    second.symlink_to(first)
    status, _, err = invoke(capsys, ["check", str(first)])
    one_line(status, err, f"error: {first}: cannot be read (a loop of symbolic links)")


def test_a_symlink_loop_as_the_base_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.symlink_to(second)
    second.symlink_to(first)
    path = scenario(tmp_path, base=first)
    status, _, err = invoke(capsys, ["check", str(path)])
    one_line(status, err, f"error: {path}: base: expected the path of a configuration file", "loop")


# --- alias bombs ------------------------------------------------------------------------------------------

def bomb() -> str:
    """Billion laughs: nine levels of anchors, each aliasing the one below nine times; about 500 bytes that
    expand to 9**9 strings."""
    text = "&l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"
    for level in range(1, 9):
        text = f"[{text}, " + ", ".join([f"*l{level - 1}"] * 8) + "]"
        text = f"&l{level} {text}"
    return text


def test_the_bomb_is_small_and_expands_beyond_the_limit() -> None:
    assert len(bomb()) < 1000
    assert 9**9 > MAX_YAML_EXPANDED


def test_an_alias_bomb_in_an_event_later_overwritten_is_refused(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    events = (f"events:\n  - year: 2016\n    set:\n      rules.deference: {bomb()}\n"
              "  - year: 2017\n    set:\n      rules.deference: 0.5\n")
    path = scenario(tmp_path, events)
    assert path.stat().st_size < 1000
    status, _, err = invoke(capsys, ["check", str(path)])
    one_line(status, err, f"error: {path}: expands to more than {MAX_YAML_EXPANDED:,} nodes", "an alias bomb")


def test_an_alias_bomb_in_set_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = invoke(capsys, ["check", str(scenario(tmp_path)), "--set", f"rules.deference={bomb()}"])
    one_line(status, err, f"error: command line: --set rules.deference: expands to more than {MAX_YAML_EXPANDED:,}")


# --- numbers too large --------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["check"], ["run", "--no-figures", "--quiet"]])
def test_a_huge_integer_is_refused_not_an_internal_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         command: list[str]) -> None:
    out = tmp_path / "out"
    argv = [*command, str(scenario(tmp_path)), "--set", "rules.min_participants=100000000000000000000000"]
    if command[0] == "run":
        argv += ["--out", str(out)]
    status, _, err = invoke(capsys, argv)
    one_line(status, err, "error: command line: --set rules.min_participants: "
                          "Input should be less than or equal to 1000 (got 100000000000000000000000)")
    assert not out.exists()


@pytest.mark.parametrize("path", ["rules.objection_cost", "rules.deference", "members.china.capability",
                                  "proposals.free_trade_zone.side_payment"])
@pytest.mark.parametrize("command", ["check", "run"])
def test_an_amount_over_the_largest_magnitude_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         path: str, command: str) -> None:
    out = tmp_path / "out"
    argv = [command, str(scenario(tmp_path)), "--set", f"{path}=1000001.0"]
    argv += ["--out", str(out)] if command == "run" else []
    status, _, err = invoke(capsys, argv)
    one_line(status, err, f"error: command line: --set {path}: Input should be less than or equal to 1000000")
    assert not out.exists()


def test_an_agenda_year_outside_the_scenario_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, "agenda: {2016: [free_trade_zone], 2030: [sco_bank]}\n", start=2015, end=2024)
    status, _, err = invoke(capsys, ["check", str(path)])
    one_line(status, err, f"error: {path}: agenda.2030: expected a year from 2015 to 2024 (the scenario's), got 2030")


# --- what a run or a sweep costs -------------------------------------------------------------------------------


def test_a_run_too_large_for_memory_is_refused_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, start=1901, end=2100, replicates=1_000_000)
    monkeypatch.chdir(tmp_path)
    before = set(tmp_path.iterdir())
    status, _, err = invoke(capsys, ["run", str(path), "--no-figures"])
    line = one_line(status, err, f"error: {path}: the run would need about", "GiB of memory",
                    "(1,000,000 replicates x 200 years x")
    assert f"at most {budget.gib(MAX_RUN_BYTES)}" in line
    assert set(tmp_path.iterdir()) == before  # no results/ folder, nothing else


def test_a_range_with_too_many_values_is_refused_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = invoke(capsys, ["sweep", str(scenario(tmp_path)), "--param", "rules.deference=0:1:1000000000000",
                                     "--workers", "1", "--out", str(tmp_path / "out")])
    one_line(status, err, "error: command line: --param rules.deference: ",
             f"needs a count from 1 to {MAX_POINTS:,}, got 1,000,000,000,000")
    assert not (tmp_path / "out").exists()


def test_a_sweep_over_the_most_runs_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = invoke(capsys, ["sweep", str(scenario(tmp_path)), "--param", f"rules.deference=0:1:{MAX_POINTS}",
                                     "--replicates", "1000", "--workers", "1", "--out", str(tmp_path / "out")])
    one_line(status, err, f"error: command line: --param: the sweep has {MAX_POINTS:,} points x 1,000 replicates",
             f"runs; at most {MAX_SWEEP_RUNS:,}")
    assert not (tmp_path / "out").exists()


def test_more_workers_than_processors_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = invoke(capsys, ["sweep", str(scenario(tmp_path)), "--param", "rules.deference=0,1",
                                     "--workers", "100000", "--out", str(tmp_path / "out")])
    one_line(status, err, "error: command line: --workers: at most", "got 100000; to use more, give --scheduler")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [["run"], ["sweep", "--param", "rules.deference=0,0.5,1", "--workers", "1"]])
def test_dry_run_prints_the_estimate_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    path = scenario(tmp_path, replicates=10)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    out = tmp_path / "out"
    status, stdout, err = invoke(capsys, [command[0], str(path), *command[1:], "--dry-run", "--out", str(out)])
    assert status == 0, err
    assert "estimated:" in stdout
    assert not out.exists()
    assert list(work.iterdir()) == []  # no results/ either


# --- budget ---------------------------------------------------------------------------------------------------------


def test_the_estimate_grows_with_replicates_and_years() -> None:
    small = Size(replicates=100, years=10, members=10, proposals=3, steps=21, side_payments=False)
    more_replicates = Size(1000, 10, 10, 3, 21, False)
    more_years = Size(100, 20, 10, 3, 21, False)
    for larger in (more_replicates, more_years):
        assert run_estimate(larger).memory > run_estimate(small).memory
        assert run_estimate(larger).seconds > run_estimate(small).seconds


def test_check_run_refuses_above_the_memory_limit() -> None:
    fits = Size(1000, 10, 10, 3, 21, False)
    assert check_run(fits, "x.yaml") == run_estimate(fits)
    huge = Size(1_000_000, 200, 10, 3, 21, False)
    assert run_estimate(huge).memory > MAX_RUN_BYTES
    with pytest.raises(ConfigError, match="of memory"):
        check_run(huge, "x.yaml")


# --- any value check accepts, run accepts or refuses, never fails ----------------------------------------------------

NUMERIC_PATHS = ["rules.min_participants", "rules.objection_cost", "rules.deference", "rules.ambition_steps",
                 "members.china.capability", "proposals.free_trade_zone.ambition",
                 "proposals.free_trade_zone.min_ambition", "proposals.free_trade_zone.side_payment"]
NUMBERS = st.one_of(st.integers(min_value=-10**30, max_value=10**30), st.integers(min_value=-2, max_value=1100),
                    st.floats(min_value=-0.1, max_value=1.1), st.floats(min_value=0.0, max_value=2e6),
                    st.floats(allow_nan=False, allow_infinity=False, width=64),
                    st.sampled_from([0, 1, -1, 0.5, 1e6, 1e6 + 1, 1001, 1000, 2, 1e-300]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(NUMERIC_PATHS), value=NUMBERS)
@example(path="rules.min_participants", value=1000)  # accepted: the run must not fail on it
@example(path="members.china.capability", value=1e6)
@example(path="proposals.free_trade_zone.side_payment", value=1e6)
@example(path="rules.objection_cost", value=1e-300)
@example(path="rules.ambition_steps", value=1001)
def test_a_value_check_accepts_runs_or_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str,
                                                  value: Any) -> None:
    short = scenario(tmp_path, "agenda: [free_trade_zone, sco_bank]\n", name="short.yaml", end=2016)
    setting = f"{path}={value!r}"  # as Python writes it: 1e-300 is a number as YAML 1.2 reads it (issue 29)
    status, _, err = invoke(capsys, ["check", str(short), "--set", setting])
    assert status in (0, 2), err
    assert "Traceback" not in err
    event(f"check exit {status}")  # --hypothesis-show-statistics: how many reach the run
    if status != 0:
        return
    status, _, err = invoke(capsys, ["run", str(short), "--set", setting, "--replicates", "2", "--no-figures",
                                     "--quiet", "--force", "--out", str(tmp_path / "out")])
    assert status in (0, 2), f"{setting}: {err}"
    event(f"run exit {status}")


def test_dry_run_counts_one_as_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, stdout, err = invoke(capsys, ["sweep", str(scenario(tmp_path, replicates=1)), "--param",
                                          "rules.deference=0", "--workers", "1", "--dry-run"])
    assert status == 0, err
    assert "1 point x 1 replicate = 1 run" in stdout and "on 1 worker\n" in stdout
