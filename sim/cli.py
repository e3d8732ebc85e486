"""The command line: ``sco-sim run`` and ``sco-sim check`` (also ``python -m sim``).

Exit status: 0 success; 2 bad input (one line on stderr naming the file, the key and what was
expected); 1 an unexpected internal error (reported in one line; ``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from . import __version__
from .startup import collector_paused
from .vocabulary import FIGURE_FORMATS as FORMATS
from .vocabulary import MAX_REPLICATES, METHODS, RULES, ConfigError, printable

if TYPE_CHECKING:
    from .scenario import Scenario

# numpy, pandas, pydantic and Mesa are imported inside the commands, not here: `sco-sim sweep` starts its
# workers' fork server first, and a command that needs none of them (--help, check) starts fast.

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
    run.add_argument("--no-figures", action="store_true", help="do not draw figures (results/.../figures/)")
    run.add_argument("--format", choices=FORMATS, default="png", help="figure format (default png)")

    plot = commands.add_parser("plot", help="redraw the figures of a saved run or sweep (no re-run)")
    plot.add_argument("folder", type=Path, help="the run's or sweep's folder")
    plot.add_argument("--format", choices=FORMATS, default="png", help="figure format (default png)")

    compare = commands.add_parser("compare", help="two runs side by side, and their differences")
    compare.add_argument("first", type=Path, help="a run's folder")
    compare.add_argument("second", type=Path, help="another run's folder")
    compare.add_argument("--out", type=Path, required=True, help="where to write the comparison")
    compare.add_argument("--format", choices=FORMATS, default="png", help="figure format (default png)")
    compare.add_argument("--force", action="store_true", help="replace --out if it exists")

    report = commands.add_parser("report", help="one self-contained HTML report of a run")
    report.add_argument("folder", type=Path, help="the run's folder")

    explain = commands.add_parser("explain", help="show why each member supports or objects to a proposal")
    explain.add_argument("scenario", type=Path, help="scenario file (YAML)")
    explain.add_argument("proposal", help="proposal code, e.g. free_trade_zone")
    explain.add_argument("--year", type=int, help="year (default: the scenario's first)")
    explain.add_argument("--replicates", type=int, default=400, help="replicates for the probabilities (default 400)")

    validate = commands.add_parser("validate", help="run the historical cases and score the model against them")
    validate.add_argument("cases", type=Path, nargs="*", help="case files (default: the project's validation/*.yaml)")
    validate.add_argument("--replicates", type=int, help="replicates per case (default: each case's)")

    sweep = commands.add_parser("sweep", help="run a scenario over a design of parameter values")
    sweep.add_argument("scenario", type=Path, nargs="?", help="scenario file (YAML); not needed with --resume")
    sweep.add_argument("--param", action="append", default=[], metavar="PATH=VALUES",
                       help="a parameter by dotted path (rule = rules.decision): a,b,c or start:stop:count or U(low,high); repeatable")
    sweep.add_argument("--method", choices=METHODS, default="grid", help="design (default grid)")
    sweep.add_argument("--samples", type=int, help="samples for random, lhs, sobol (a power of 2) and morris (trajectories)")
    _add_settings(sweep, rule=False)
    sweep.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="local worker processes (default: one per core)")
    sweep.add_argument("--scheduler", help="a Dask scheduler's address (tcp://host:8786) to run on instead")
    sweep.add_argument("--chunk-size", type=int, help="points per task at most (default: about 20,000 runs or fewer, and 8 tasks or more per worker; "
                       "with several workers the last tasks are smaller, so that the workers finish together)")
    sweep.add_argument("--common-noise", action="store_true",
                       help="give every point the same replicate noise (common random numbers; best for sensitivity analysis)")
    sweep.add_argument("--out", type=Path, help="output folder (default: a new folder under results/)")
    sweep.add_argument("--resume", type=Path, metavar="DIR", help="finish the interrupted sweep in DIR")
    sweep.add_argument("--force", action="store_true", help="replace --out if it exists")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    sweep.add_argument("--no-figures", action="store_true", help="do not draw figures")

    sensitivity = commands.add_parser("sensitivity", help="Sobol or Morris indices of a finished sweep")
    sensitivity.add_argument("folder", type=Path, help="the sweep's folder")

    backtest = commands.add_parser("backtest", help="backtest the decision engine on real decisions (DEU III)")
    backtest.add_argument("dataset", choices=["deu"], help="the data set's format")
    backtest.add_argument("file", type=Path, help="the data file (DEU III format: docs/validation.md)")
    backtest.add_argument("--rule", choices=["all", "unanimity", "qmv"], default="all", help="which issues (default all)")
    backtest.add_argument("--out", type=Path, help="output folder (default: a new folder under results/)")

    check = commands.add_parser("check", help="validate scenario files without running them")
    check.add_argument("scenarios", type=Path, nargs="+", help="scenario files (YAML)")
    _add_settings(check)
    return parser


def _add_settings(parser: argparse.ArgumentParser, rule: bool = True) -> None:
    parser.add_argument("--replicates", type=int, help=f"replicates (1 to {MAX_REPLICATES:,}); default: the scenario's")
    parser.add_argument("--seed", type=int, help="root seed; default: the scenario's")
    if rule:
        parser.add_argument("--rule", choices=RULES, help="decision rule; default: the scenario's")
    parser.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                        help="override a value of the configuration by dotted path (repeatable)")


def _overrides(pairs: list[str]) -> dict[str, Any]:
    import yaml

    from .scenario import _StrictLoader

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
    from .scenario import load_scenario

    return load_scenario(path, overrides=_overrides(args.set), replicates=args.replicates, seed=args.seed, rule=getattr(args, "rule", None))


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
    with collector_paused():
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
    if not args.no_figures:
        from .plots import draw_run

        draw_run(out, args.format)
    if not args.quiet:
        print(text)
        print(f"\nResults written to {out}/" + ("" if args.no_figures else f" (figures in {out}/figures/)"))
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
    from .scenario import load_scenario

    scenario = load_scenario((first_file.parent / first.scenario).resolve())
    names = {code: m.name for code, m in scenario.configuration(scenario.start).members.items()}
    print(table(verdicts, names))
    return 0 if all(v.passed for v in verdicts) else 1


def _sweep(args: argparse.Namespace) -> int:
    from .executors import make_executor

    started = time.monotonic()  # the report's time is the whole command's: start-up and figures count
    if args.workers < 1:
        raise ConfigError("command line", "--workers", f"expected at least 1, got {args.workers}")
    # start the workers first, before this process loads numpy and pandas (and their threads): they
    # load their modules while this process prepares the sweep
    executor, close, width = make_executor(args.workers, args.scheduler)
    with collector_paused():
        from . import sweep

        if args.scheduler is None and width == 1:
            from . import runner  # noqa: F401 - the chunks run in this process

    preparing: threading.Thread | None = None
    try:
        folder, plan, points = _prepare_sweep(args, sweep, width)
        if width > 1 and not args.no_figures:
            preparing = _prepare_figures_in_background()  # this process only waits for the workers meanwhile
        to_run = sum(map(len, sweep.remaining_chunks(folder, plan).values()))
        with _progress(plan.points, len(points) - to_run, args.quiet) as bar:
            sweep.execute(folder, plan, points, executor, in_flight=2 * width, progress=bar.update)
    except KeyboardInterrupt:
        print(f"interrupted; the finished chunks are kept; finish with: sco-sim sweep --resume {_folder_of(args)}", file=sys.stderr)
        return 130
    finally:
        close()
    merged = sweep.merge(folder)
    if not args.no_figures:
        if preparing is not None:
            preparing.join()  # matplotlib is not for two threads at once
        from .plots import draw_sweep

        draw_sweep(folder)
    if not args.quiet:
        print(_sweep_report(plan, merged, to_run, time.monotonic() - started, folder))
    failures = merged["failures"]
    if len(failures):
        print(f"error: {len(failures)} of {plan.points} points failed; first: point {failures.point.iloc[0]}: {failures.error.iloc[0]} "
              f"(all in {folder}/failures.parquet)", file=sys.stderr)
        return 1
    return 0


def _same_as_resumed(args: argparse.Namespace, plan: Any) -> None:
    """With --resume the manifest decides; anything else given must agree with it, or it would be ignored."""
    from .design import parse_parameter

    given = {
        "scenario": (str(args.scenario.resolve()) if args.scenario else None, plan.scenario),
        "--param": ([vars(parse_parameter(text)) for text in args.param] or None,
                    [{**p, "values": tuple(p["values"]) if p["values"] is not None else None,
                      "bounds": tuple(p["bounds"]) if p["bounds"] is not None else None} for p in plan.parameters]),
        "--method": (args.method if args.method != "grid" else None, plan.method if plan.method != "grid" else None),
        "--samples": (args.samples, plan.samples if args.samples is not None else None),
        "--replicates": (args.replicates, plan.replicates if args.replicates is not None else None),
        "--seed": (args.seed, plan.seed if args.seed is not None else None),
        "--out": (str(args.out.resolve()) if args.out else None, str(args.resume.resolve())),
    }
    for option, (value, resumed) in given.items():
        if value is not None and value != resumed:
            raise UsageError(f"command line: {option} differs from the sweep in {args.resume} (drop it: --resume takes the sweep's own)")


def _folder_of(args: argparse.Namespace) -> Path | str:
    return args.resume or args.out or "DIR"


def _prepare_sweep(args: argparse.Namespace, sweep: Any, width: int) -> tuple[Path, Any, list[dict[str, Any]]]:
    """A new sweep's folder, plan and points (laid out on disk), or those of the sweep to resume.

    ``width`` is how many chunks the executor runs at once: it sizes the chunks and tapers the last ones.
    """
    from .design import design, parse_parameter

    if args.resume is not None:
        plan, points = sweep.open_sweep(args.resume)
        _same_as_resumed(args, plan)
        if not Path(plan.scenario).is_file() or _sha256(Path(plan.scenario)) != plan.scenario_sha256:
            raise ConfigError(plan.scenario, "", "the scenario file changed (or is gone) since the sweep began; start a new sweep")
        return args.resume, plan, points
    if args.scenario is None:
        raise UsageError("command line: sweep needs a scenario file (or --resume DIR)")
    scenario = _load(args.scenario, args)
    parameters = [parse_parameter(text) for text in args.param]
    points = design(parameters, args.method, args.samples, scenario.seed)
    overrides = _overrides(args.set)
    _check_parameter_values(args.scenario, overrides, parameters, points)
    # small enough that every worker gets several tasks; with several workers the last chunks are smaller
    # still, so that all finish at about the same time
    chunk = args.chunk_size or max(1, min(-(-20_000 // scenario.replicates), -(-len(points) // (8 * width))))
    if chunk < 1:
        raise ConfigError("command line", "--chunk-size", f"expected at least 1, got {chunk}")
    plan = sweep.Plan(str(args.scenario.resolve()), scenario.digest, [vars(p) for p in parameters], args.method,
                      args.samples, scenario.seed, scenario.replicates, len(points), chunk, overrides, args.common_noise,
                      taper=width if width > 1 else 0)
    folder = args.out or _new_folder(f"sweep-{scenario.name}")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder}: --out: exists and is not a folder")
    sweep.create(folder, plan, points, force=args.force)
    args.out = folder
    return folder, plan, points


def _check_parameter_values(path: Path, overrides: dict[str, Any], parameters: list[Any], points: list[dict[str, Any]]) -> None:
    """Try each parameter's values before the sweep starts, each in the first point of the design that has it.

    Numbers are tried at their smallest and largest (the configuration's bounds are intervals), other
    values each once. A typo or an out-of-range value stops the sweep here; a point that fails only
    for its particular combination of values is recorded as failed when it runs, and the others go on.
    """
    from .scenario import load_scenario

    wanted: set[tuple[str, str]] = set()
    for p in parameters:
        values = [point[p.path] for point in points]
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        wanted |= {(p.path, repr(v)) for v in ((min(values), max(values)) if numeric else values)}
    for point in points:
        fresh = [(p, point[p.path]) for p in parameters if (p.path, repr(point[p.path])) in wanted]
        if not fresh:
            continue
        wanted -= {(p.path, repr(value)) for p, value in fresh}
        try:
            load_scenario(path, overrides={**overrides, **point}, replicates=1)
        except ConfigError as error:
            culprit = next(((p, value) for p, value in fresh if error.key.endswith(p.path) or p.path in error.key), None)
            if culprit is None:
                raise ConfigError("command line", "--param", f"{error.key}: {error.message}") from None
            parameter, value = culprit
            said = error.message if error.key == f"--set {parameter.path}" else f"{error.key}: {error.message}"
            raise ConfigError("command line", f"--param {parameter.label}={value}", said) from None
        if not wanted:
            return


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _new_folder(name: str) -> Path:
    from .results import new_run_folder

    return new_run_folder(RESULTS, name, time.strftime("%Y%m%d-%H%M%S"))


def _prepare_figures_in_background() -> threading.Thread:
    """Load the plotting modules, the font and the PNG writer in a thread, while this process waits for its workers.

    An error is left for the drawing itself, which meets it again and reports it.
    """

    def load() -> None:
        try:
            from .plots import prepare

            prepare()
        except Exception:  # noqa: BLE001, S110 - met again, and reported, when the figures are drawn
            pass

    thread = threading.Thread(target=load, name="prepare figures", daemon=True)
    thread.start()
    return thread


def _progress(total: int, done: int, quiet: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, initial=done, unit="point", file=sys.stderr, disable=quiet or None, dynamic_ncols=True)


def _sweep_report(plan: Any, merged: dict[str, Any], ran: int, seconds: float, folder: Path) -> str:
    """What the sweep found; ``ran`` is how many of its points this command ran (fewer when resumed)."""
    summary = merged["summary"]
    runs, ran_runs = plan.points * plan.replicates, ran * plan.replicates
    resumed = f", {ran_runs:,} of them now" if ran < plan.points else ""
    lines = [f"Sweep of {plan.points:,} points x {plan.replicates:,} replicates ({runs:,} runs{resumed}) in {seconds:.1f} s "
             f"({ran_runs / max(seconds, 1e-9):,.0f} runs/s, start-up and figures included); method {plan.method}", ""]
    if len(summary):
        names = [p["path"] for p in plan.parameters]
        if plan.points <= 30:
            wide = summary.pivot_table(index=["point", *names], columns="proposal", values="p_adopted", sort=False)
            lines.append("P(adopted) by point:")
            lines.append(wide.reset_index().drop(columns="point").to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        else:
            spread = summary.groupby("proposal", sort=False).p_adopted.describe()[["min", "50%", "max"]]
            lines.append("P(adopted) across points (min, median, max):")
            lines.append(spread.to_string(float_format=lambda v: f"{v:.3f}"))
    lines += ["", f"Results in {folder}/ (summary.parquet: per point and proposal; by_year.parquet; stances.parquet)"]
    return "\n".join(lines)


def _sensitivity(args: argparse.Namespace) -> int:
    from .sensitivity import analyse, format_indices
    from .files import atomic_parquet, atomic_text

    table = analyse(args.folder)
    atomic_parquet(table, args.folder / "sensitivity.parquet")
    atomic_text(table.to_csv(index=False), args.folder / "sensitivity.csv")
    from .plots import draw_sweep

    draw_sweep(args.folder)
    print(format_indices(table))
    print(f"\nWritten to {args.folder}/sensitivity.csv (bars in {args.folder}/figures/sensitivity.png)")
    return 0


def _plot(args: argparse.Namespace) -> int:
    from .plots import draw_run, draw_sweep

    folder: Path = args.folder
    if (folder / "sweep.json").is_file():
        if not (folder / "summary.parquet").is_file():
            raise ConfigError(folder, "summary.parquet", "the sweep is not finished; complete it with 'sco-sim sweep --resume' first")
        drawn = draw_sweep(folder, args.format)
    elif (folder / "metadata.json").is_file():
        drawn = draw_run(folder, args.format)
    else:
        raise ConfigError(folder, "", "not a run or sweep folder (expected metadata.json or sweep.json)")
    print("\n".join(str(path) for path in drawn))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from .plots import draw_comparison

    for folder in (args.first, args.second):
        if not (folder / "metadata.json").is_file():
            raise ConfigError(folder, "", "not a run folder (expected metadata.json)")
    if args.out.exists() and any(args.out.iterdir()) and not args.force:
        raise UsageError(f"{args.out}: --out: already holds results; choose another folder or pass --force to replace it")
    print("\n".join(str(path) for path in draw_comparison(args.first, args.second, args.out, args.format)))
    return 0


def _backtest(args: argparse.Namespace) -> int:
    from .backtest import backtest, calibrate, read_issues

    if not args.file.is_file():
        raise ConfigError(args.file, "", "file not found")
    issues, skipped = read_issues(args.file)
    if args.rule != "all":
        issues = [i for i in issues if i.rule == args.rule]
    if len(issues) < 10:
        raise ConfigError(args.file, "", f"only {len(issues)} usable issues; the backtest needs at least 10")
    calibration = calibrate(issues)
    tolerance = {rule: chosen for rule, (chosen, _) in calibration.items()}
    per_issue, summary = backtest(issues, tolerance)
    out = args.out or _new_folder("backtest-deu")
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"{out}: --out: already holds results; choose another folder")
    from .files import staged_folder

    with staged_folder(out) as staging:
        per_issue.to_csv(staging / "issues.csv", index=False)
        summary.to_csv(staging / "summary.csv", index=False)
        (staging / "skipped.txt").write_text("".join(f"{line}\n" for line in skipped), encoding="utf-8")
    print(f"{len(issues)} issues from {args.file} ({len(skipped)} rows or actors left out: {out}/skipped.txt)")
    for rule, (chosen, errors) in calibration.items():
        print(f"tolerance under {rule}: {chosen} (chosen by 5-fold cross-validation; held-out MAE {100 * errors['cross-validated']:.1f})")
    print()
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    print(f"\nMean absolute error on the 0-100 scale, 95% bootstrap intervals over issues. Per issue: {out}/issues.csv")
    return 0


def _report(args: argparse.Namespace) -> int:
    from .report import build

    if not (args.folder / "metadata.json").is_file():
        raise ConfigError(args.folder, "", "not a run folder (expected metadata.json)")
    print(build(args.folder))
    return 0


def command_line() -> NoReturn:
    """``sco-sim`` and ``python -m sim``: run :func:`main`, then exit with its status.

    What is left is frozen out of the garbage collector first: the collection at exit would otherwise
    walk every object pandas, pydantic and matplotlib made (about half a second) to free memory the
    operating system takes back anyway.
    """
    status = main()
    gc.freeze()
    raise SystemExit(status)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``sco-sim``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = _parser().parse_args(argv)
    except UsageError as error:
        print(f"error: {printable(str(error))}", file=sys.stderr)
        return 2
    except SystemExit as done:  # --help and --version
        return int(done.code or 0)
    try:
        if args.command == "run":
            return _run(args, ["sco-sim", *argv])
        return {"check": _check, "explain": _explain, "validate": _validate, "sweep": _sweep,
                "sensitivity": _sensitivity, "plot": _plot, "compare": _compare, "report": _report,
                "backtest": _backtest}[args.command](args)
    except (ConfigError, UsageError, FileExistsError) as error:  # bad input: one line, status 2
        print(f"error: {printable(str(error))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (e.g. `| head`): nothing left to say
        return 0
    except OSError as error:
        print(printable(f"error: {error.filename or ''}: {error.strerror or error}"), file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - the user gets one line, not a traceback
        if args.debug:
            raise
        print(printable(f"internal error: {error.__class__.__name__}: {error} (rerun with --debug for details)"), file=sys.stderr)
        return 1
