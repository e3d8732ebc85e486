"""Bad input is rejected by the command line: exit status 2, one line on stderr, no traceback.

Every case writes a scenario (or a copy of ``configs/base.yaml``) into pytest's ``tmp_path`` and
runs ``sco-sim check`` in-process through :func:`sim.cli.main`; a few go through
``python -m sim`` in a subprocess, and a few through ``sco-sim run`` to show nothing is written.
The one-line message must name the file, the key path and say what was expected.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "configs" / "base.yaml"

#: A valid scenario of six years and one replicate; ``@BASE@`` is replaced by the base config's path.
#: Keep it at five lines: the YAML cases below name line numbers counted from it.
HEADER = """\
name: bad-input-test
base: @BASE@
start: 2015
end: 2020
replicates: 1
"""


# --- helpers --------------------------------------------------------------------------------------


def write_scenario(folder: Path, file_name: str, text: str, base: Path | str = BASE) -> Path:
    """Write a scenario file; ``@BASE@`` becomes the quoted absolute path of ``base``."""
    path = folder / file_name
    path.write_text(text.replace("@BASE@", json.dumps(str(base))), encoding="utf-8")
    return path


def write_base(folder: Path, mutate: Callable[[dict[str, Any]], Any], file_name: str = "bad-base.yaml") -> Path:
    """Copy configs/base.yaml into ``folder`` after applying ``mutate`` to its contents."""
    tree = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    result = mutate(tree)
    path = folder / file_name
    path.write_text(yaml.safe_dump(tree if result is None else result, allow_unicode=True), encoding="utf-8")
    return path


def invoke(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[Any, str, str]:
    """Run the CLI in-process; return (exit status, stdout, stderr).

    ``main`` is documented to *return* the exit status; if it raises SystemExit instead, the
    status is reported as a tuple so that the ``== 2`` assertion fails with a clear message.
    """
    try:
        status: Any = main(argv)
    except SystemExit as exit_:  # pragma: no cover - only when the CLI misbehaves
        status = ("main raised SystemExit instead of returning", exit_.code)
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(status: Any, err: str, fragments: list[str]) -> str:
    """Exit status 2, exactly one line on stderr holding every fragment, no traceback."""
    assert "Traceback" not in err, err
    assert status == 2, f"exit status {status!r}, stderr: {err!r}"
    lines = err.splitlines()
    assert len(lines) == 1, f"expected exactly one line on stderr, got {len(lines)}: {err!r}"
    line = lines[0]
    assert "constrained-" not in line and "[constrained" not in line, f"pydantic's internal names leak into {line!r}"
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    return line


def snapshot(folder: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every entry under ``folder`` with its bytes (None for folders) and modification time."""
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


# --- sanity: the header itself is valid, so each case fails only for its own defect ----------------


def test_header_scenario_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_scenario(tmp_path, "good.yaml", HEADER)
    status, out, err = invoke(capsys, ["check", str(path)])
    assert status == 0, err
    assert err == ""
    assert out.startswith(f"ok: {path}")


def test_unmodified_base_copy_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = write_base(tmp_path, lambda tree: None, "copy-of-base.yaml")
    path = write_scenario(tmp_path, "good.yaml", HEADER, base=base)
    status, out, err = invoke(capsys, ["check", str(path)])
    assert status == 0, err
    assert out.startswith(f"ok: {path}")


# --- bad scenario files, checked in-process ---------------------------------------------------------

#: (file name, text after the header or a whole file, extra argv, fragments that must be in the message)
#: ``{file}`` in a fragment stands for the scenario's file name.
SCENARIO_CASES = [
    pytest.param(
        "unknown-top-key.yaml", HEADER + "replicate: 3\n", [],
        ["{file}", ": replicate:", "unknown key 'replicate'", "did you mean 'replicates'?", "base_events"],
        id="unknown-top-level-key-typo",
    ),
    pytest.param(
        "agenda-not-a-code.yaml", HEADER + "agenda: {2016: [1]}\n", [],
        ["{file}", ": agenda.2016.0:", "valid string", "got 1"],
        id="agenda-by-year-wrong-type",
    ),
    pytest.param(
        "replicates-type.yaml", HEADER.replace("replicates: 1", 'replicates: "many"'), [],
        ["{file}", ": replicates:", "valid integer", "'many'"],
        id="replicates-wrong-type",
    ),
    pytest.param(
        "replicates-zero.yaml", HEADER.replace("replicates: 1", "replicates: 0"), [],
        ["{file}", ": replicates:", "greater than or equal to 1", "got 0"],
        id="replicates-zero",
    ),
    pytest.param(
        "replicates-huge.yaml", HEADER.replace("replicates: 1", "replicates: 1000001"), [],
        ["{file}", ": replicates:", "less than or equal to 1000000"],
        id="replicates-above-maximum",
    ),
    pytest.param(
        "seed-negative.yaml", HEADER + "seed: -1\n", [],
        ["{file}", ": seed:", "greater than or equal to 0", "got -1"],
        id="seed-negative",
    ),
    pytest.param(
        "end-before-start.yaml", HEADER.replace("end: 2020", "end: 2010"), [],
        ["{file}", ": end:", "expected a year from start (2015)", "2010"],
        id="end-before-start",
    ),
    pytest.param(
        "too-many-years.yaml", HEADER.replace("start: 2015", "start: 1900").replace("end: 2020", "end: 2200"), [],
        ["{file}", ": end:", "at most 200 years"],
        id="more-than-max-years",
    ),
    pytest.param(
        "start-year-range.yaml", HEADER.replace("start: 2015", "start: 1800"), [],
        ["{file}", ": start:", "greater than or equal to 1900", "1800"],
        id="start-year-out-of-range",
    ),
    pytest.param(
        "unknown-rule.yaml", HEADER + "rule: majority_vote\n", [],
        ["{file}", ": rule:", "'consensus'", "'majority_vote'"],
        id="unknown-rule-name",
    ),
    pytest.param(
        "rule-boolean.yaml", HEADER + "rule: yes\n", [],
        ["{file}", ": rule:", "'consensus'", "True"],
        id="rule-yaml-boolean",
    ),
    pytest.param(
        "name-missing.yaml", HEADER.replace("name: bad-input-test\n", ""), [],
        ["{file}", ": name:", "missing key 'name'"],
        id="scenario-name-missing",
    ),
    pytest.param(
        "agenda-unknown.yaml", HEADER + "agenda: [free_trade_zone, narnia_pact]\n", [],
        ["{file}", ": agenda.narnia_pact:", "unknown proposal 'narnia_pact'", "expected one of", "free_trade_zone"],
        id="agenda-unknown-proposal",
    ),
    pytest.param(
        "set-field-typo.yaml", HEADER + "set:\n  members.russia.weigths.economic: 0.3\n", [],
        ["{file}", ": set.members.russia.weigths.economic:", "unknown key 'weigths'", "did you mean 'weights'?",
         "expected one of: name, status, joined, capability, weights"],
        id="set-typo-in-member-field",
    ),
    pytest.param(  # the path issue 4's example wrote: the key is one block further down
        "set-misplaced-key.yaml", HEADER + "set:\n  members.russia.dependence.china: 0.9\n", [],
        ["{file}", ": set.members.russia.dependence.china:", "unknown key 'dependence'",
         "'dependence' belongs at members.russia.relations.<code>.dependence", "expected one of"],
        id="set-key-of-a-block-further-down",
    ),
    pytest.param(
        "set-weight-range.yaml", HEADER + "set:\n  members.russia.weights.economic: 1.5\n", [],
        ["{file}", ": set.members.russia.weights.economic:", "less than or equal to 1", "1.5"],
        id="set-weight-out-of-range",
    ),
    pytest.param(
        "set-weight-nan.yaml", HEADER + "set:\n  members.russia.weights.economic: .nan\n", [],
        ["{file}", ": set.members.russia.weights.economic:", "nan"],
        id="set-weight-nan",
    ),
    pytest.param(
        "set-unknown-dimension.yaml", HEADER + "set:\n  members.russia.weights.economc: 0.3\n", [],
        ["{file}", ": set.members.russia.weights.economc:", "unknown dimension 'economc'", "expected one of",
         "economic"],
        id="set-unknown-dimension-in-weights",
    ),
    pytest.param(
        "set-through-scalar.yaml", HEADER + "set:\n  rules.decision.foo: 1\n", [],
        ["{file}", ": set.rules.decision.foo:", "'rules.decision' holds a value, not a mapping"],
        id="set-path-through-scalar",
    ),
    pytest.param(
        "set-empty-segment.yaml", HEADER + "set:\n  members..weights: 1\n", [],
        ["{file}", ": set.members..weights:", "not a dotted path", "expected names joined by '.'"],
        id="set-path-empty-segment",
    ),
    pytest.param(
        "set-member-null.yaml", HEADER + "set:\n  members.russia: null\n", [],
        ["{file}", ": set.members.russia:", "valid dictionary", "None"],
        id="set-member-to-null",
    ),
    pytest.param(
        "set-status-joined.yaml", HEADER + "set:\n  members.china.status: observer\n", [],
        ["{file}", ": set.members.china.status:", "'joined' is only for members"],
        id="set-status-inconsistent-with-joined",
    ),
    pytest.param(
        "new-proposal-sponsor.yaml", HEADER + "set:\n  proposals.new_pact: {name: New pact, sponsor: narnia}\n", [],
        ["{file}", ": set.proposals.new_pact.sponsor:", "unknown member 'narnia'", "expected one of"],
        id="new-proposal-unknown-sponsor",
    ),
    pytest.param(
        "new-proposal-name.yaml", HEADER + "set:\n  proposals.new_pact: {sponsor: china}\n", [],
        ["{file}", ": set.proposals.new_pact.name:", "missing key 'name'"],
        id="new-proposal-missing-name",
    ),
    pytest.param(
        "event-year.yaml",
        HEADER + "events:\n  - year: 2030\n    set: {members.china.weights.multipolarity: 0.6}\n", [],
        ["{file}", ": events[0].year:", "expected a year from 2015 to 2020", "2030"],
        id="event-year-outside-run",
    ),
    pytest.param(
        "event-accede-unknown.yaml", HEADER + "events:\n  - year: 2017\n    accede: [narnia]\n", [],
        ["{file}", ": events[0].accede.narnia:", "unknown member 'narnia'"],
        id="event-accedes-unknown-member",
    ),
    pytest.param(
        "event-accede-member.yaml", HEADER + "events:\n  - year: 2017\n    accede: [russia]\n", [],
        ["{file}", ": events[0].accede.russia:", "already a member", "expected an observer or partner"],
        id="event-accedes-existing-member",
    ),
    pytest.param(
        "event-set-typo.yaml",
        HEADER + "events:\n  - year: 2016\n  - year: 2018\n    set: {members.china.wieghts.multipolarity: 0.6}\n", [],
        ["{file}", ": events[1].set.members.china.wieghts.multipolarity:", "unknown key 'wieghts'"],
        id="event-set-typo-names-right-event",
    ),
    pytest.param(
        "event-unknown-key.yaml", HEADER + "events:\n  - year: 2017\n    acede: [india]\n", [],
        ["{file}", ": events.0.acede:", "unknown key 'acede'"],
        id="event-unknown-key",
    ),
    pytest.param(
        "duplicate-key.yaml", HEADER + "seed: 1\nseed: 2\n", [],
        ["{file}", ": line 7, column 1:", "not valid YAML", "duplicate key 'seed'"],
        id="yaml-duplicate-key",
    ),
    pytest.param(
        "duplicate-nested-key.yaml",
        HEADER + "set:\n  members.russia.weights.economic: 0.3\n  members.russia.weights.economic: 0.4\n", [],
        ["{file}", ": line 8, column 3:", "duplicate key 'members.russia.weights.economic'"],
        id="yaml-duplicate-nested-key",
    ),
    pytest.param(
        "bad-indentation.yaml", HEADER.replace("end: 2020", "  end: 2020"), [],
        ["{file}", ": line 4, column 6:", "not valid YAML"],
        id="yaml-bad-indentation",
    ),
    pytest.param(
        "unclosed-flow.yaml", HEADER + "agenda: [free_trade_zone, sco_bank\n", [],
        ["{file}", ": line ", "not valid YAML"],
        id="yaml-unclosed-flow-sequence",
    ),
    pytest.param(
        "python-tag.yaml", HEADER + 'seed: !!python/object/apply:os.system ["echo hi"]\n', [],
        ["{file}", ": line 6, column 7:", "not valid YAML", "python/object/apply:os.system"],
        id="yaml-python-tag",
    ),
    pytest.param(
        "top-level-list.yaml", "- name: t\n- start: 2015\n", [],
        ["{file}", "expected a mapping of scenario keys", "list"],
        id="top-level-list",
    ),
    pytest.param(
        "empty.yaml", "", [],
        ["{file}", "expected a mapping of scenario keys"],
        id="empty-file",
    ),
    pytest.param(
        "base-missing.yaml", HEADER.replace("base: @BASE@", "base: absent-config.yaml"), [],
        ["{file}", "base", "absent-config.yaml", "not found"],
        id="base-config-missing",
    ),
    pytest.param(
        "base-folder.yaml", HEADER.replace("base: @BASE@", "base: ."), [],
        ["{file}", "base", "folder"],
        id="base-config-is-a-folder",
    ),
    pytest.param(  # found by the property tests: a NUL character made path resolution raise ValueError
        "base-nul.yaml", HEADER.replace("base: @BASE@", 'base: "con\\0fig.yaml"'), [],
        ["{file}", ": base:", "a file path cannot hold a NUL character"],
        id="base-config-path-with-nul",
    ),
    pytest.param(
        "base-long.yaml", HEADER.replace("base: @BASE@", "base: " + "x" * 5000), [],
        ["{file}", ": base:", "expected the path of a configuration file", "too long"],
        id="base-config-path-too-long",
    ),
    pytest.param(
        "capability-inf.yaml", HEADER + "set:\n  members.russia.capability: .inf\n", [],
        ["{file}", ": set.members.russia.capability:"],
        id="set-capability-infinite",
    ),
    pytest.param(
        "objection-cost-inf.yaml", HEADER + "set:\n  rules.objection_cost: .inf\n", [],
        ["{file}", ": set.rules.objection_cost:"],
        id="set-objection-cost-infinite",
    ),
    pytest.param(
        "side-payment-inf.yaml", HEADER + "set:\n  proposals.sco_bank.side_payment: .inf\n", [],
        ["{file}", ": set.proposals.sco_bank.side_payment:"],
        id="set-side-payment-infinite",
    ),
    # Command-line settings, applied to a valid scenario; the "file" is the command line.
    pytest.param(
        "cli-set-no-equals.yaml", HEADER, ["--set", "members.russia.weights.economic"],
        ["command line", "--set members.russia.weights.economic", "expected PATH=VALUE"],
        id="cli-set-without-equals",
    ),
    pytest.param(
        "cli-set-no-path.yaml", HEADER, ["--set", "=0.3"],
        ["command line", "--set =0.3", "expected PATH=VALUE"],
        id="cli-set-without-path",
    ),
    pytest.param(
        "cli-set-range.yaml", HEADER, ["--set", "members.russia.weights.economic=1.5"],
        ["command line", ": --set members.russia.weights.economic:", "less than or equal to 1", "1.5"],
        id="cli-set-out-of-range",
    ),
    pytest.param(  # a field of two forms (a list of years, or from/to): the complaint is about the form meant
        "cli-set-tabled-key.yaml", HEADER, ["--set", "proposals.sco_bank.tabled.until=2020"],
        ["command line", ": --set proposals.sco_bank.tabled.until:", "unknown key 'until'",
         "expected one of: from, to"],
        id="cli-set-two-form-field-unknown-key",
    ),
    pytest.param(
        "cli-set-tabled-year.yaml", HEADER, ["--set", "proposals.sco_bank.tabled=[2015, 1800]"],
        ["command line", ": --set proposals.sco_bank.tabled.1:", "greater than or equal to 1900", "1800"],
        id="cli-set-two-form-field-bad-item",
    ),
    pytest.param(
        "cli-set-python-tag.yaml", HEADER,
        ["--set", 'members.russia.weights.economic=!!python/object/apply:os.system ["echo hi"]'],
        ["command line", ": --set members.russia.weights.economic:", "not a valid YAML value"],
        id="cli-set-python-tag",
    ),
    pytest.param(
        "cli-replicates-zero.yaml", HEADER, ["--replicates", "0"],
        ["command line", ": --replicates:", "expected 1 to 1,000,000", "got 0"],
        id="cli-replicates-zero",
    ),
    pytest.param(
        "cli-seed-negative.yaml", HEADER, ["--seed", "-1"],
        ["command line", ": --seed:", "expected a whole number from 0", "got -1"],
        id="cli-seed-negative",
    ),
    # argparse rejects these itself: exit status 2, but it prints its usage (several lines) and
    # raises SystemExit out of main() instead of returning.
    pytest.param(
        "cli-replicates-word.yaml", HEADER, ["--replicates", "many"],
        ["--replicates", "int", "'many'"],
        id="cli-replicates-not-a-number",
    ),
    pytest.param(
        "cli-rule-unknown.yaml", HEADER, ["--rule", "nope"],
        ["--rule", "'nope'", "consensus"],
        id="cli-rule-unknown",
    ),
]


@pytest.mark.parametrize(("file_name", "text", "extra", "fragments"), SCENARIO_CASES)
def test_check_rejects_bad_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
    file_name: str, text: str, extra: list[str], fragments: list[str],
) -> None:
    path = write_scenario(tmp_path, file_name, text)
    status, out, err = invoke(capsys, ["check", str(path), *extra])
    assert out == ""
    assert_one_line_error(status, err, [f.replace("{file}", file_name) for f in fragments])


def test_python_tag_is_not_executed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "executed"
    text = HEADER + f"seed: !!python/object/apply:os.mkdir [{json.dumps(str(marker))}]\n"
    path = write_scenario(tmp_path, "python-mkdir.yaml", text)
    status, _, err = invoke(capsys, ["check", str(path)])
    assert_one_line_error(status, err, ["python-mkdir.yaml", ": line 6, column 7:", "python/object/apply:os.mkdir"])
    assert not marker.exists(), "the python tag was executed"


def test_cli_set_python_tag_is_not_executed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "executed"
    path = write_scenario(tmp_path, "good.yaml", HEADER)
    argv = ["check", str(path), "--set", f"noise.weights=!!python/object/apply:os.mkdir [{json.dumps(str(marker))}]"]
    status, _, err = invoke(capsys, argv)
    assert_one_line_error(status, err, ["command line", "--set noise.weights", "not a valid YAML value"])
    assert not marker.exists(), "the python tag was executed"


def test_missing_scenario_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "does-not-exist.yaml"
    status, out, err = invoke(capsys, ["check", str(path)])
    assert out == ""
    assert_one_line_error(status, err, ["does-not-exist.yaml", "file not found"])


def test_scenario_path_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "a-folder.yaml"
    folder.mkdir()
    status, _, err = invoke(capsys, ["check", str(folder)])
    assert_one_line_error(status, err, ["a-folder.yaml", "is a folder", "expected a YAML file"])


def test_scenario_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    status, _, err = invoke(capsys, ["check", str(path)])
    assert_one_line_error(status, err, ["latin1.yaml", "cannot be read", "utf-8"])


def test_second_scenario_bad_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_scenario(tmp_path, "good.yaml", HEADER)
    bad = write_scenario(tmp_path, "second-bad.yaml", HEADER + "seed: -1\n")
    status, out, err = invoke(capsys, ["check", str(good), str(bad)])
    assert out.startswith(f"ok: {good}")
    assert_one_line_error(status, err, ["second-bad.yaml", ": seed:", "greater than or equal to 0"])


# --- bad base configs (a mutated copy of configs/base.yaml) -----------------------------------------


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(tree: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = tree
        for part in parents:
            node = node[part]
        node[last] = value

    return mutate


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(tree: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = tree
        for part in parents:
            node = node[part]
        del node[last]

    return mutate


BASE_CASES = [
    pytest.param(_set("members.russia.weights.economic", 1.5),
                 ["members.russia.weights.economic:", "less than or equal to 1", "1.5"], id="base-weight-out-of-range"),
    pytest.param(_set("rules.desicion", "majority"),
                 ["rules.desicion:", "unknown key 'desicion'", "did you mean 'decision'?"], id="base-unknown-key"),
    pytest.param(_set("proposals.sco_bank.tabled", {"from": 2015, "until": 2020}),
                 ["proposals.sco_bank.tabled.until:", "unknown key 'until'", "expected one of: from, to"],
                 id="base-unknown-key-aliased"),
    pytest.param(_set("rules.decision", "unanimity"), ["rules.decision:", "'consensus'", "'unanimity'"],
                 id="base-unknown-rule"),
    pytest.param(_set("members.russia.capability", "large"), ["members.russia.capability:", "valid number", "'large'"],
                 id="base-wrong-type"),
    pytest.param(_delete("proposals"), [": proposals:", "missing key 'proposals'"], id="base-missing-section"),
    pytest.param(_set("proposals.sco_bank.sponsor", "narnia"),
                 ["proposals.sco_bank.sponsor:", "unknown member 'narnia'"], id="base-unknown-sponsor"),
    pytest.param(_set("proposals.sco_bank.links", ["no_such_proposal"]),
                 ["proposals.sco_bank.links.no_such_proposal:", "unknown proposal"], id="base-unknown-link"),
    pytest.param(_set("members.russia.joined", None), ["members.russia:", "a member needs 'joined'"],
                 id="base-member-without-joined"),
    pytest.param(_set("proposals.sco_bank.elsewhere.forum", "wto"),
                 ["proposals.sco_bank.elsewhere.forum:", "'bilateral'", "'wto'"], id="base-unknown-forum"),
    pytest.param(_set("proposals.sco_bank.elsewhere.share", 1.5),
                 ["proposals.sco_bank.elsewhere.share:", "less than or equal to 1", "1.5"], id="base-share-above-one"),
    pytest.param(_set("proposals.sco_bank.form", "fund"),
                 ["proposals.sco_bank.form:", "'statement', 'strategy', 'treaty' or 'body'", "'fund'"],
                 id="base-unknown-form"),
    pytest.param(_set("implementation", {"body": 1.5}),
                 ["implementation.body:", "less than or equal to 1", "1.5"], id="base-pace-out-of-range"),
    pytest.param(_set("implementation", {"fund": 0.5}),
                 ["implementation.fund:", "unknown key 'fund'", "statement, strategy, treaty, body"],
                 id="base-unknown-form-pace"),
    pytest.param(lambda tree: list(tree), ["expected a mapping"], id="base-top-level-list"),
]


@pytest.mark.parametrize(("mutate", "fragments"), BASE_CASES)
def test_check_rejects_bad_base_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate: Callable[[dict[str, Any]], Any], fragments: list[str]
) -> None:
    base = write_base(tmp_path, mutate)
    path = write_scenario(tmp_path, "scenario.yaml", HEADER, base=base)
    status, out, err = invoke(capsys, ["check", str(path)])
    assert out == ""
    # The problem is in the base copy, so the message names that file (not the scenario).
    assert_one_line_error(status, err, ["bad-base.yaml", *fragments])


# --- through `python -m sim`: exit status 2 and no traceback from the real interpreter --------------

SUBPROCESS_CASES = [
    pytest.param("unknown-key.yaml", HEADER + "replicate: 3\n", [], ["unknown-key.yaml", ": replicate:", "unknown key"],
                 id="unknown-top-level-key"),
    pytest.param("python-tag.yaml", HEADER + 'seed: !!python/object/apply:os.system ["echo hi"]\n', [],
                 ["python-tag.yaml", "not valid YAML", "python/object/apply:os.system"], id="python-tag"),
    pytest.param("base-weight.yaml", HEADER + "set:\n  members.russia.weights.economc: 0.3\n", [],
                 ["base-weight.yaml", "set.members.russia.weights.economc", "unknown dimension"],
                 id="set-unknown-dimension"),
    pytest.param("cli-replicates.yaml", HEADER, ["--replicates", "0"],
                 ["command line", "--replicates", "expected 1 to"], id="cli-replicates-zero"),
]


@pytest.mark.parametrize(("file_name", "text", "extra", "fragments"), SUBPROCESS_CASES)
def test_python_m_sim_exits_2(
    tmp_path: Path, file_name: str, text: str, extra: list[str], fragments: list[str]
) -> None:
    path = write_scenario(tmp_path, file_name, text)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-m", "sim", "check", str(path), *extra],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120, check=False,
    )
    assert done.stdout == "", "nothing on stdout (in particular, no 'hi' from os.system)"
    assert_one_line_error(done.returncode, done.stderr, fragments)


def test_python_m_sim_missing_file(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-m", "sim", "check", str(tmp_path / "nowhere.yaml")],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120, check=False,
    )
    assert_one_line_error(done.returncode, done.stderr, ["nowhere.yaml", "file not found"])


# --- `sco-sim run`: bad input writes nothing ----------------------------------------------------------

RUN_CASES = [
    pytest.param(HEADER + "replicate: 3\n", [], ["bad.yaml", ": replicate:", "unknown key"], id="unknown-key"),
    pytest.param(HEADER + "set:\n  members.russia.weights.economic: 1.5\n", [],
                 ["bad.yaml", "set.members.russia.weights.economic", "less than or equal to 1"], id="set-out-of-range"),
    pytest.param(HEADER + "events:\n  - year: 2017\n    accede: [russia]\n", [],
                 ["bad.yaml", "events[0].accede.russia", "already a member"], id="event-accedes-member"),
    pytest.param(HEADER, ["--set", "rules.decision"], ["command line", "--set rules.decision", "PATH=VALUE"],
                 id="cli-set"),
    pytest.param(HEADER, ["--replicates", "0"], ["command line", "--replicates", "expected 1 to"],
                 id="cli-replicates-zero"),
]


@pytest.mark.parametrize(("text", "extra", "fragments"), RUN_CASES)
def test_run_with_bad_scenario_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    text: str, extra: list[str], fragments: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # so a default results/ folder would land here, and be seen
    path = write_scenario(tmp_path, "bad.yaml", text)
    before = snapshot(tmp_path)
    out_dir = tmp_path / "out"
    status, out, err = invoke(capsys, ["run", str(path), "--out", str(out_dir), *extra])
    assert_one_line_error(status, err, fragments)
    assert out == ""
    assert not out_dir.exists(), "--out folder was created for a bad scenario"
    assert snapshot(tmp_path) == before, "something was written"


def test_run_with_bad_scenario_and_default_out_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = write_scenario(tmp_path, "bad.yaml", HEADER + "seed: -1\n")
    status, _, err = invoke(capsys, ["run", str(path)])
    assert_one_line_error(status, err, ["bad.yaml", ": seed:", "greater than or equal to 0"])
    assert not (tmp_path / "results").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def _filled_folder(folder: Path) -> None:
    folder.mkdir()
    (folder / "summary.txt").write_text("earlier results, keep me\n", encoding="utf-8")
    (folder / "nested").mkdir()
    (folder / "nested" / "data.csv").write_bytes(b"a,b\n1,2\n")


def test_run_out_onto_non_empty_folder_leaves_it_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = write_scenario(tmp_path, "good.yaml", HEADER.replace("end: 2020", "end: 2015"))
    out_dir = tmp_path / "previous-run"
    _filled_folder(out_dir)
    before_folder = snapshot(out_dir)
    before_all = snapshot(tmp_path)
    status, out, err = invoke(capsys, ["run", str(path), "--out", str(out_dir)])
    assert_one_line_error(status, err, ["previous-run", "--out", "already holds results", "--force"])
    assert out == ""
    assert snapshot(out_dir) == before_folder, "the existing --out folder was modified"
    assert snapshot(tmp_path) == before_all, "something was written next to the --out folder"


def test_run_out_onto_a_file_leaves_it_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = write_scenario(tmp_path, "good.yaml", HEADER.replace("end: 2020", "end: 2015"))
    target = tmp_path / "a-file"
    target.write_text("not a folder\n", encoding="utf-8")
    before = snapshot(tmp_path)
    status, _, err = invoke(capsys, ["run", str(path), "--out", str(target)])
    assert_one_line_error(status, err, ["a-file", "--out", "not a folder"])
    assert snapshot(tmp_path) == before
