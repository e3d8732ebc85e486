"""Numbers, ranges and names read the same everywhere (issue 29, points 5 and 6): wrong numbers that came out
without an error, each tried as the user met it and reproduced before it was fixed.

Each case runs the command line in-process (:func:`sim.cli.main`) and checks the one line on stderr and the exit
status; a case that could block (a FIFO) runs in a child process with a timeout.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.cli import main
from sim.core.vocabulary import MAX_DEU_BYTES
from sim.experiments.design import parse_parameter
from sim.inputs.plausible import CONSTANTS, FEEDBACK_RATES, PACES
from sim.inputs.scenario import load_scenario
from sim.inputs.yaml_files import parse_overrides, parse_value
from sim.studies.backtest import read_issues
from sim.studies.validation import collect_cases, load_cases, prepare

from ..conftest import BASE, ROOT, one_line
from ..test_limits import invoke
from ..test_limits import scenario as short_scenario


def scenario(folder: Path, extra: str = "", name: str = "numbers.yaml", end: int = 2016, **keys: Any) -> Path:
    """A short valid scenario (two years, one replicate, two proposals) with ``extra`` YAML appended."""
    return short_scenario(folder, f"agenda: [free_trade_zone, sco_bank]\n{extra}", name=name, end=end, **keys)


def run_or_check(command: str, path: Path, out: Path, *more: str) -> list[str]:
    """The arguments of ``check`` or of a quick ``run`` into ``out``."""
    argv = [command, str(path), *more]
    return argv + (["--out", str(out), "--no-figures", "--quiet"] if command == "run" else [])


# --- fitted ranges bounded as their numbers are (point 1) --------------------------------------------------------

FITTED_OUT_OF_BOUNDS = [
    ("fitted.noise.persistence=[0.5,3]", "less than or equal to 1"),  # run: a numpy warning, then exit 0
    ("fitted.rules.objection_cost=[-5,-1]", "greater than or equal to 0"),  # accepted, and silently not used
    ("fitted.proposals.free_trade_zone.ambition=[0,1]", "greater than 0"),  # an open bound stays open
    ("fitted.members.russia.weights.economic=[-2,0.5]", "greater than or equal to -1"),  # under a mapping
    ("fitted.proposals.sco_bank.elsewhere.share=[0.1,1.5]", "less than or equal to 1"),  # under an optional block
    ("fitted.rules.deference=[0.1,2000000]", "less than or equal to 1000000"),  # MAX_MAGNITUDE
]


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize(("setting", "bound"), FITTED_OUT_OF_BOUNDS)
def test_a_fitted_range_beyond_its_numbers_bounds_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             command: str, setting: str, bound: str) -> None:
    key, _, written = setting.partition("=")
    out = tmp_path / "out"
    status, _, err = invoke(capsys, run_or_check(command, scenario(tmp_path), out, "--set", setting))
    line = one_line(status, err, f"error: command line: --set {key}: expected [low, high] within the bounds of "
                                 f"its number: Input should be {bound}")
    assert line.endswith(f"(got {[float(end) for end in json.loads(written)]})")
    assert not out.exists()


def test_a_fitted_range_in_a_file_is_refused_at_its_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, "set:\n  fitted:\n    noise: {persistence: [0.5, 3]}\n")
    status, _, err = invoke(capsys, ["check", str(path)])
    one_line(status, err, f"error: {path}: set.fitted.noise.persistence: expected [low, high] within the bounds",
             "less than or equal to 1 (got [0.5, 3.0])")


def test_fitted_ranges_within_their_bounds_are_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = invoke(capsys, ["check", str(scenario(tmp_path)), "--set", "fitted.noise.persistence=[0,1]",
                                     "--set", "fitted.proposals.free_trade_zone.ambition=[0.001,1]"])
    assert status == 0, err  # the ends of a closed bound are valid; so is anything inside an open one


@pytest.mark.parametrize("setting", ["fitted.members.china.capability=[1,2]", "fitted.rules.min_participants=[2,3]",
                                     "fitted.members.china.joined=[2001,2002]", "fitted.noise.world_size=[5,10]"])
def test_a_fitted_range_for_a_number_no_world_draws_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                               setting: str) -> None:
    key = setting.partition("=")[0]  # accepted, and never used, before
    status, _, err = invoke(capsys, ["check", str(scenario(tmp_path)), "--set", setting])
    one_line(status, err, f"error: command line: --set {key}: expected the path of a number the worlds draw",
             "rules.objection_cost")


def test_every_fitted_range_a_fit_writes_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    numbers = [*CONSTANTS, *PACES, *FEEDBACK_RATES, "members.russia.weights.economic",
               "members.russia.outside_options.security", "members.russia.relations.china.dependence",
               *(f"proposals.sco_bank.{key}" for key in ("min_ambition", "ambition", "side_payment", "gains.china",
                                                         "effects.economic", "elsewhere.share"))]
    settings = [f"--set=fitted.{path}=[0.1,0.2]" for path in numbers]
    status, _, err = invoke(capsys, ["check", str(scenario(tmp_path)), *settings])
    assert status == 0, err


def test_tabled_years_from_after_to_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = invoke(capsys, ["check", str(scenario(tmp_path)), "--set",
                                     "proposals.sco_bank.tabled={from: 2016, to: 2015}"])
    one_line(status, err, "error: command line: --set proposals.sco_bank.tabled: ",
             "expected 'from' at or before 'to', got from 2016 to 2015")


@pytest.mark.parametrize("dry_run", [True, False])
@pytest.mark.parametrize(("param", "method", "message"), [
    ("rules.deference=U(-0.01,0.5)", "lhs", "--param rules.deference=-0.01: Input should be greater than or equal"),
    ("noise.persistence=U(0.5,1.01)", "lhs", "--param noise.persistence=1.01: Input should be less than or equal"),
])
def test_a_sweeps_distribution_is_bounded_as_its_number_is(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           dry_run: bool, param: str, method: str,
                                                           message: str) -> None:
    # two samples of U(-0.01, 0.5) fall inside [0, 1e6], and the sweep ran: the ends of the distribution are tried
    out = tmp_path / "out"
    status, _, err = invoke(capsys, ["sweep", str(scenario(tmp_path)), "--param", param, "--method", method,
                                     "--samples", "2", "--seed", "1", "--workers", "1", "--out", str(out),
                                     *(["--dry-run"] if dry_run else [])])
    one_line(status, err, f"error: command line: {message}")
    assert not out.exists()


@pytest.mark.parametrize("argv", [
    ["--param", "rules.deference=-1,0.5"],  # a listed value out of range
    ["--param", "rules.objection_cost=0:2000000:3"],  # a range's end over MAX_MAGNITUDE
    ["--param", "rules.nope=1,2"],  # an unknown path
    ["--param", "rule=consensus,unanimous"],  # a value outside the vocabulary
    ["--param", "rules.deference=0,1", "--chunk-size", "0"],
])
def test_a_dry_run_refuses_what_the_sweep_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  argv: list[str]) -> None:
    path, out = scenario(tmp_path), tmp_path / "out"
    dry = invoke(capsys, ["sweep", str(path), *argv, "--workers", "1", "--dry-run"])
    real = invoke(capsys, ["sweep", str(path), *argv, "--workers", "1", "--out", str(out)])
    line = one_line(real[0], real[2], "error: command line: ")
    assert dry[:2] == (2, "") and dry[2] == real[2], f"the dry run said {dry}, the sweep {line!r}"
    assert not out.exists()


# --- numbers read the same way wherever they are typed (point 2) --------------------------------------------------

#: YAML 1.2's core schema: an exponent needs neither a dot nor a sign (YAML 1.1 read 1e-3 and 1.0e3 as text).
NUMBERS = {"1e-3": 0.001, "1E3": 1000.0, "-2e+5": -200000.0, "1.0e3": 1000.0, "1.0e-3": 0.001, ".5": 0.5,
           "-.5": -0.5, "+.5": 0.5, "5.": 5.0, "+1.5": 1.5, "10": 10, "-7": -7, "+3": 3, "0": 0, "0o17": 15,
           "0x1F": 31, ".inf": math.inf, "-.Inf": -math.inf}
#: Not numbers in YAML 1.2 (1.1 read the first four as numbers); a leading zero (YAML 1.1: 010 is 8, 1.2: 10) is
#: read as neither, so that it is refused where a number is expected rather than read as one of the two.
TEXT = ["1_000", "1:30", "0b11", "-0x1F", "010", "-007", "1e", "e3", "1.2.3", "0x", "--1", "1e-3x", "nan", "inf"]


@pytest.mark.parametrize(("text", "value"), NUMBERS.items())
def test_a_number_is_read_as_yaml_1_2_reads_it(text: str, value: float) -> None:
    read = parse_value(text, "--set x")
    assert read == value and type(read) is type(value)


@pytest.mark.parametrize("text", TEXT)
def test_what_is_not_a_number_in_yaml_1_2_is_text(text: str) -> None:
    assert parse_value(text, "--set x") == text


@pytest.mark.parametrize("written", ["1e-3", "1E-3", "1.0e-3", ".001"])
def test_a_number_is_the_same_in_every_place_it_is_typed(tmp_path: Path, written: str) -> None:
    """--set, a scenario's set, an event, a base file, a case's set, --param values, ranges and distributions."""
    base = tmp_path / "base.yaml"
    base.write_text(BASE.read_text(encoding="utf-8").replace("deference: 0.5", f"deference: {written}", 1),
                    encoding="utf-8")
    found = [load_scenario(scenario(tmp_path), overrides=parse_overrides([f"rules.deference={written}"])),
             load_scenario(scenario(tmp_path, f"set: {{rules.deference: {written}}}\n")),
             load_scenario(scenario(tmp_path, f"events: [{{year: 2015, set: {{rules.deference: {written}}}}}]\n")),
             load_scenario(scenario(tmp_path, base=base))]
    assert [s.configuration(2016).rules.deference for s in found] == [0.001] * 4
    case = tmp_path / "cases.yaml"
    case.write_text(f"cases:\n- {{id: t, scenario: {scenario(tmp_path)}, year: 2016, proposal: sco_bank, "
                    f"outcome: adopted, what_happened: x, source: y, set: {{rules.deference: {written}}}}}\n")
    ((loaded, file),) = load_cases(case)
    assert prepare(loaded, file).configuration(2016).rules.deference == 0.001
    assert parse_parameter(f"rules.deference={written},0.5").values == (0.001, 0.5)
    assert parse_parameter(f"rules.deference={written}:0.5:2").values == (0.001, 0.5)
    assert parse_parameter(f"rules.deference=U({written},0.5)").bounds == (0.001, 0.5)


@pytest.mark.parametrize("command", [["check"], ["sweep", "--param", "rules.objection_cost=0.1,0.2", "--dry-run"]])
def test_an_exponent_without_a_dot_is_a_number_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                  command: list[str]) -> None:
    argv = [command[0], str(scenario(tmp_path)), *command[1:], "--set", "rules.deference=1e-3"]
    status, _, err = invoke(capsys, argv)
    assert status == 0, err  # refused as "not a valid number (got '1e-3')" while 1.0e-3 was accepted


def test_an_integer_too_long_to_read_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    digits = "1" * 5000  # int() refuses more than sys.get_int_max_str_digits() digits: an internal error before
    status, _, err = invoke(capsys, ["check", str(scenario(tmp_path)), "--set", f"rules.min_participants={digits}"])
    one_line(status, err, "error: command line: --set rules.min_participants: an integer of 5,000 digits; at most")
    path = scenario(tmp_path, f"seed: {digits}\n")
    status, _, err = invoke(capsys, ["check", str(path)])
    one_line(status, err, f"error: {path}: line 7, column 7: an integer of 5,000 digits; at most")


@pytest.mark.parametrize(("param", "message"), [
    ("rules.deference=e:1:3", "--param rules.deference: expected a finite number for start, got 'e'"),
    ("rules.deference=U(.,1)", "--param rules.deference: expected a finite number for low, got '.'"),
    ("rules.deference=1e400:1:3", "--param rules.deference: expected a finite number for start, got '1e400'"),
    ("rules.deference=0:1:1e3", "--param rules.deference: a range start:stop:count needs a count from 1 to"),
])
def test_a_range_or_a_distribution_reads_its_numbers_as_any_number(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str], param: str,
                                                                   message: str) -> None:
    method = ["--method", "random", "--samples", "2"] if "U(" in param else []
    status, _, err = invoke(capsys, ["sweep", str(scenario(tmp_path)), "--param", param, *method, "--workers", "1",
                                     "--dry-run"])
    one_line(status, err, f"error: command line: {message}")  # before: internal errors (float('e')), or nan points


# --- a DEU file's header (point 3) ----------------------------------------------------------------------------------

DEU_ACTORS = ("de", "fr", "it", "es", "pl", "nl")
DEU_HEADER = ["prnr", "isnr", "counvte", "rp", "out", *(f"{k}{a}" for a in DEU_ACTORS for k in "ps")]


def deu_file(path: Path, header: list[str] = DEU_HEADER, extra: int = 0) -> Path:
    """A DEU-format file of 12 issues, each its own proposal, under ``header``, each row with ``extra`` more fields."""
    rng = np.random.default_rng(5)
    rows = [header] + [[f"p{i}", f"i{i}", ("QMV", "Unan")[i % 2],
                        *rng.integers(0, 101, len(header) - 3 + extra).tolist()] for i in range(12)]
    path.write_text("\n".join("\t".join(map(str, row)) for row in rows) + "\n", encoding="utf-8")
    return path


def backtest(capsys: pytest.CaptureFixture[str], path: Path, *more: str) -> tuple[int, str, str]:
    return invoke(capsys, ["backtest", "deu", str(path), *more])


@pytest.mark.parametrize(("header", "message"), [
    # a second 'pde' replaced the first's positions: the MAE of the shipped file went from 24.757 to 26.454
    ([*DEU_HEADER, "pde"], "header: duplicate column 'pde' (columns 6 and 18); each column once"),
    ([*DEU_HEADER[:5], "pDE", *DEU_HEADER[6:]], "header: column 'pDE' is not read (did you mean 'pde'?)"),
    ([*DEU_HEADER, " out"], "header: column ' out' is not read (did you mean 'out'?)"),
    ([*DEU_HEADER[:-1], "pxx"], "header: column 'pnl' has no salience column 'snl'"),  # Dutch positions unread
    ([*DEU_HEADER[:5], "qde", *DEU_HEADER[6:]], "header: column 'sde' has no position column 'pde'"),
    ([*DEU_HEADER, "pcom"], "header: column 'pcom' has no salience column 'scom'"),  # the Commission left out
])
def test_a_deu_header_that_would_be_misread_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       header: list[str], message: str) -> None:
    path = deu_file(tmp_path / "deu.tsv", header)
    status, _, err = backtest(capsys, path, "--out", str(tmp_path / "out"))
    one_line(status, err, f"error: {path}: {message}")
    assert not (tmp_path / "out").exists()


def test_columns_the_backtest_does_not_read_are_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = deu_file(tmp_path / "deu.tsv", [*DEU_HEADER, "pcr", "scr", "council", "proccde"])  # as DEU III has
    status, _, err = backtest(capsys, path)
    assert status == 0, err


def test_a_row_with_more_or_fewer_fields_than_the_header_is_skipped_and_reported(tmp_path: Path) -> None:
    path = deu_file(tmp_path / "deu.tsv")
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] += "\t7"  # a field too many: a tab slipped in, and the values after it moved one column on
    lines[3] = lines[3].rsplit("\t", 1)[0]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    issues, skipped = read_issues(path)
    assert [issue.name for issue in issues] == [f"i{i}" for i in range(12) if i not in (1, 2)]
    assert skipped[:2] == ["deu.tsv:3 (i1): 18 fields, the header has 17; issue skipped",
                           "deu.tsv:4 (i2): 16 fields, the header has 17; issue skipped"]


# --- names in a case file (point 4) ---------------------------------------------------------------------------------

HISTORY = ROOT / "scenarios" / "history.yaml"
VOTING_2012 = "china, kazakhstan, kyrgyzstan, russia, tajikistan, uzbekistan"


def case_file(folder: Path, extra: str, proposal: str = "sco_bank", year: int = 2012) -> Path:
    path = folder / "cases.yaml"
    path.write_text(f"cases:\n  - id: named\n    scenario: {HISTORY}\n    year: {year}\n    proposal: {proposal}\n"
                    f"    outcome: not_adopted\n{extra}    what_happened: x\n    source: y\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("extra", "message"), [
    # scored as a model failure before ("blocker narnia: at most 0% of the decisions"), exit 3
    ("    blocked_by: [narnia]\n",
     f"blocked_by: unknown member 'narnia' (expected one of the members voting in 2012: {VOTING_2012})"),
    ("    stood_aside: [china, narnia]\n", "stood_aside: unknown member 'narnia' (expected one of"),
    ("    reservation: [narnia]\n", "reservation: unknown member 'narnia' (expected one of"),
    ("    reservation: [mongolia]\n", "reservation: 'mongolia' does not vote in 2012 (an observer; expected one of"),
    # a member of the scenario, but only from 2017 (an observer in 2012 in the record): it cannot block in 2012
    ("    blocked_by: [india]\n",
     f"blocked_by: 'india' does not vote in 2012 (it joins in 2017; expected one of the members voting then: "
     f"{VOTING_2012})"),
    ("    define: {sponsor: narnia}\n", "define.sponsor: unknown member 'narnia' (expected one of: afghanistan"),
    ("    set: {members.china.relations.narnia.dependence: 0.5}\n",
     "set.members.china.relations.narnia.dependence: unknown member 'narnia'"),
])
def test_an_unknown_name_in_a_case_is_refused_naming_the_case(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              extra: str, message: str) -> None:
    path = case_file(tmp_path, extra)
    status, _, err = invoke(capsys, ["validate", str(path), "--replicates", "10"])
    one_line(status, err, f"error: {path}: case named: {message}")


def test_an_unknown_proposal_in_a_case_is_refused_listing_the_proposals(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = case_file(tmp_path, "", proposal="narnia")  # before: "proposals.narnia.name: missing key 'name'"
    status, _, err = invoke(capsys, ["validate", str(path), "--replicates", "10"])
    one_line(status, err, f"error: {path}: case named: proposal: unknown proposal 'narnia' (expected one of: ",
             "sco_bank")


def test_a_member_voting_at_some_summit_of_a_trajectory_may_be_named(tmp_path: Path) -> None:
    path = case_file(tmp_path, "    until: 2018\n    blocked_by: [india]\n")  # India votes from 2017
    ((case, file),) = load_cases(path)
    prepare(case, file, 10)  # accepted


def test_every_shipped_case_names_only_members_that_vote_in_its_years() -> None:
    assert len(collect_cases([], 10)) > 20  # none refused


# --- agenda entries that cannot be decided (point 5) ----------------------------------------------------------------


@pytest.mark.parametrize(("extra", "message"), [
    # dropped from the output without notice before
    ("set: {proposals.sco_bank.tabled: [2010, 2011]}\n",
     "agenda.sco_bank: expected a proposal tabled in a year from 2015 to 2016 (the run's), got one tabled only in "
     "2010, 2011 (proposals.sco_bank.tabled)"),
    ("set: {proposals.sco_bank.tabled: {from: 2017, to: 2020}}\n",
     "agenda.sco_bank: expected a proposal tabled in a year from 2015 to 2016 (the run's), got one tabled only in "
     "2017 to 2020 (proposals.sco_bank.tabled)"),
    ("set: {proposals.sco_bank.tabled: []}\n",
     "agenda.sco_bank: expected a proposal tabled in a year from 2015 to 2016 (the run's), got one tabled in no "
     "year (proposals.sco_bank.tabled)"),
    ("agenda: {2015: [free_trade_zone], 2016: [sco_bank]}\nset: {proposals.sco_bank.tabled: [2015]}\n",
     "agenda.2016.sco_bank: expected a proposal tabled in 2016, got one tabled only in 2015 "
     "(proposals.sco_bank.tabled)"),
])
def test_an_agenda_entry_tabled_only_outside_its_years_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                  extra: str, message: str) -> None:
    path = scenario(tmp_path, extra)
    if "agenda:" in extra:
        path.write_text(path.read_text(encoding="utf-8").replace("agenda: [free_trade_zone, sco_bank]\n", ""))
    status, _, err = invoke(capsys, ["check", str(path)])
    one_line(status, err, f"error: {path}: {message}")


def test_an_agenda_entry_an_event_tables_in_the_runs_years_is_accepted(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, "set: {proposals.sco_bank.tabled: [2010]}\n"
                              "events: [{year: 2016, set: {proposals.sco_bank.tabled: [2016]}}]\n")
    status, _, err = invoke(capsys, ["check", str(path)])
    assert status == 0, err


def test_every_shipped_scenario_passes_check(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = invoke(capsys, ["check", *map(str, sorted((ROOT / "scenarios").glob("*.yaml")))])
    assert status == 0, err


# --- what a file is, and how large (point 6) ------------------------------------------------------------------------


def in_a_child(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """``python -m sim ARGV`` in a child process: a FIFO opened by mistake would block, and fails the test after
    20 s instead."""
    return subprocess.run([sys.executable, "-m", "sim", *argv], capture_output=True, text=True, timeout=20, cwd=ROOT,
                          check=False)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_base_that_is_a_character_device_is_said_to_be_one(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, base="/dev/zero")  # "not found" before
    status, _, err = invoke(capsys, ["check", str(path)])
    one_line(status, err, f"error: {path}: base: expected a configuration file (relative to the scenario); "
                          "/dev/zero: is a character device, not a regular file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_base_that_is_a_fifo_is_said_to_be_one(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "base.yaml")
    done = in_a_child(["check", str(scenario(tmp_path, base=tmp_path / "base.yaml"))])
    one_line(done.returncode, done.stderr, f"{tmp_path / 'base.yaml'}: is a FIFO (named pipe), not a regular file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("role", ["FILE", "--calibrate-on", "--fit"])
def test_a_fifo_given_to_backtest_is_said_to_be_one(tmp_path: Path, role: str) -> None:
    fifo, data = tmp_path / "pipe", deu_file(tmp_path / "deu.tsv")
    os.mkfifo(fifo)
    argv = ["backtest", "deu", str(fifo)] if role == "FILE" else ["backtest", "deu", str(data), role, str(fifo)]
    done = in_a_child(argv)  # "file not found" before
    expected = "a JSON fit written by --save-fit" if role == "--fit" else "a DEU file (tab-separated)"
    one_line(done.returncode, done.stderr, f"error: {fifo}: is a FIFO (named pipe), not a regular file; "
                                           f"expected {expected}")


def test_a_huge_backtest_file_is_refused_from_its_size_before_it_is_read(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.tsv"
    with big.open("wb") as file:
        file.truncate(1 << 30)  # sparse: 1 GiB of zeros that take no disk; read whole, 2.2 GB of memory before
    status, _, err = backtest(capsys, big)
    one_line(status, err, f"error: {big}: is 1,073,741,824 bytes; at most {MAX_DEU_BYTES:,} are read")


def test_the_largest_deu_file_shipped_is_well_within_the_limit() -> None:
    shipped = ROOT.parent / "shared" / "data" / "deu3"
    sizes = [path.stat().st_size for path in shipped.glob("*.tsv")] or [44_184]  # deu3_calibration.tsv
    assert 10 * max(sizes) < MAX_DEU_BYTES


def test_an_option_and_a_set_of_the_same_value_resolve_alike_in_run_and_sweep(tmp_path: Path) -> None:
    # --bargaining nash and --set rules.bargaining=compromise: in a run --set came last and won; a sweep let
    # --bargaining win. Both now apply --set last, as the README's layers say (the command line's --set is last).
    path = scenario(tmp_path)
    typed = ["--bargaining", "nash", "--set", "rules.bargaining=compromise"]
    assert main(["run", str(path), *typed, "--out", str(tmp_path / "run"), "--no-figures", "--quiet"]) == 0
    ran = json.loads((tmp_path / "run" / "metadata.json").read_text())["configuration"]["2015"]["rules"]
    assert main(["sweep", str(path), "--param", "rules.deference=0,1", *typed, "--workers", "1",
                 "--out", str(tmp_path / "sweep"), "--no-figures", "--quiet"]) == 0
    swept = json.loads((tmp_path / "sweep" / "sweep.json").read_text())["plan"]["overrides"]
    assert ran["bargaining"] == swept["rules.bargaining"] == "compromise"
