"""The command line: ``sco-sim run`` and ``sco-sim check`` (also ``python -m sim``).

Exit status: 0 success; 2 bad input (one line on stderr naming the file, the key and what was
expected); 1 an unexpected internal error (reported in one line; ``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from . import __version__
from .engine import RULES
from .scenario import MAX_REPLICATES, ConfigError, Scenario, _StrictLoader, load_scenario

RESULTS = Path("results")


class UsageError(Exception):
    """A problem with the command line or the file system, reported in one line (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and leave the exit to :func:`main`."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"command line: {message} (see '{self.prog} --help')")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sco-sim", description="Simulate consensus decision-making in the SCO.")
    parser.add_argument("--version", action="version", version=f"sco-sim {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an internal error")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run a scenario and write its results")
    run.add_argument("scenario", type=Path, help="scenario file (YAML)")
    _add_settings(run)
    run.add_argument("--out", type=Path, help="output folder (default: a new folder under results/)")
    run.add_argument("--force", action="store_true", help="replace --out if it exists")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")

    explain = commands.add_parser("explain", help="show why each member supports or objects to a proposal")
    explain.add_argument("scenario", type=Path, help="scenario file (YAML)")
    explain.add_argument("proposal", help="proposal code, e.g. free_trade_zone")
    explain.add_argument("--year", type=int, help="year (default: the scenario's first)")
    explain.add_argument("--replicates", type=int, default=400, help="replicates for the probabilities (default 400)")

    validate = commands.add_parser("validate", help="run the historical cases and score the model against them")
    validate.add_argument("cases", type=Path, nargs="*", help="case files (default: the project's validation/*.yaml)")
    validate.add_argument("--replicates", type=int, help="replicates per case (default: each case's)")

    check = commands.add_parser("check", help="validate scenario files without running them")
    check.add_argument("scenarios", type=Path, nargs="+", help="scenario files (YAML)")
    _add_settings(check)
    return parser


def _add_settings(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--replicates", type=int, help=f"replicates (1 to {MAX_REPLICATES:,}); default: the scenario's")
    parser.add_argument("--seed", type=int, help="root seed; default: the scenario's")
    parser.add_argument("--rule", choices=RULES, help="decision rule; default: the scenario's")
    parser.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                        help="override a value of the configuration by dotted path (repeatable)")


def _overrides(pairs: list[str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for pair in pairs:
        path, sep, text = pair.partition("=")
        if not sep or not path:
            raise ConfigError("command line", f"--set {pair}", "expected PATH=VALUE, e.g. members.russia.weights.economic=0.3")
        try:
            overrides[path.strip()] = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader
        except yaml.YAMLError:
            raise ConfigError("command line", f"--set {path}", f"value {text!r} is not a valid YAML value") from None
    return overrides


def _load(path: Path, args: argparse.Namespace) -> Scenario:
    if args.replicates is not None and not 1 <= args.replicates <= MAX_REPLICATES:
        raise ConfigError("command line", "--replicates", f"expected 1 to {MAX_REPLICATES:,}, got {args.replicates}")
    if args.seed is not None and not 0 <= args.seed < 2**63:
        raise ConfigError("command line", "--seed", f"expected a whole number from 0 to 2**63-1, got {args.seed}")
    return load_scenario(path, overrides=_overrides(args.set), replicates=args.replicates, seed=args.seed, rule=args.rule)


def _check(args: argparse.Namespace) -> int:
    for path in args.scenarios:
        scenario = _load(path, args)
        config = scenario.configuration(scenario.start)
        voting = sum(m.status == "member" and m.joined is not None and m.joined <= scenario.start for m in config.members.values())
        print(f"ok: {path} ({scenario.name}: {scenario.start}-{scenario.end}, {len(scenario.agenda)} proposals on the agenda, "
              f"{voting} members in {scenario.start}, rule {config.rules.decision})")
    return 0


def _output_folder(args: argparse.Namespace, scenario: Scenario) -> Path:
    if args.out is None:
        from .results import new_run_folder

        return new_run_folder(RESULTS, scenario.name, time.strftime("%Y%m%d-%H%M%S"))
    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: --out: exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not args.force:
        raise UsageError(f"{out}: --out: already holds results; choose another folder or pass --force to replace it")
    return out


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    from .results import aggregate, outcome_table, report, write_run
    from .runner import metadata, simulate

    scenario = _load(args.scenario, args)
    out = _output_folder(args, scenario)
    records = simulate(scenario)
    config = scenario.configuration(scenario.start)
    names = {code: p.name for code, p in config.proposals.items()}
    member_names = {code: m.name for cfg in scenario.timeline.values() for code, m in cfg.members.items()}
    aggregates = aggregate(records, names)
    heading = (f"Scenario {scenario.name}: {scenario.start}-{scenario.end}, rule {config.rules.decision}, "
               f"{scenario.replicates:,} replicates, seed {scenario.seed}")
    text = report(aggregates, member_names, heading)
    replaced = out.exists() and args.force
    target = out.with_name(f".{out.name}.replaced") if replaced else out
    if replaced:
        out.rename(target)  # kept until the new results are in place
    try:
        write_run(out, outcome_table(records), aggregates, metadata(scenario, argv), text)
    except BaseException:
        if replaced:
            target.rename(out)
        raise
    if replaced:
        shutil.rmtree(target, ignore_errors=True)
    if not args.quiet:
        print(text)
        print(f"\nResults written to {out}/")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from .explain import explain, format_explanation

    if not 1 <= args.replicates <= MAX_REPLICATES:
        raise ConfigError("command line", "--replicates", f"expected 1 to {MAX_REPLICATES:,}, got {args.replicates}")
    print(format_explanation(explain(args.scenario, args.proposal, args.year, args.replicates)))
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .validation import case_files, load_cases, run_case, table

    if args.replicates is not None and not 10 <= args.replicates <= 100_000:
        raise ConfigError("command line", "--replicates", f"expected 10 to 100,000, got {args.replicates}")
    files = case_files(args.cases)
    cases = [item for path in files for item in load_cases(path)]
    if not cases:
        raise UsageError("validate: no cases (none given and none in validation/)")
    verdicts = [run_case(case, path, args.replicates) for case, path in cases]
    first, first_file = cases[0]
    scenario = load_scenario((first_file.parent / first.scenario).resolve())
    names = {code: m.name for code, m in scenario.configuration(scenario.start).members.items()}
    print(table(verdicts, names))
    return 0 if all(v.passed for v in verdicts) else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``sco-sim``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = _parser().parse_args(argv)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except SystemExit as done:  # --help and --version
        return int(done.code or 0)
    try:
        if args.command == "run":
            return _run(args, ["sco-sim", *argv])
        return {"check": _check, "explain": _explain, "validate": _validate}[args.command](args)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130
    except OSError as error:
        print(f"error: {error.filename or ''}: {error.strerror or error}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - the user gets one line, not a traceback
        if args.debug:
            raise
        print(f"internal error: {error.__class__.__name__}: {error} (rerun with --debug for details)", file=sys.stderr)
        return 1
