"""The command line, ``sco-sim`` (also ``python -m sim``): a parser, and one short function per command that
hands the work to the layers below.

Exit status: 0 success; 2 bad input (one line on stderr naming the file, the key and what was
expected); 1 an unexpected internal error (reported in one line; ``--debug`` shows the traceback), or a sweep with
failed points; 3 a sweep that lost its workers (a Dask scheduler, a local worker process) and can be resumed, or a
validation in which some case does not pass; 130 interrupted.

Each command imports the layers it needs when it runs, and this module only light ones (the parser is built
from :mod:`sim.core.vocabulary`): numpy, pandas, pydantic and Mesa take about 2 s to load, so ``--help`` and
``check`` start fast, and ``sweep`` starts its workers before it loads anything heavy itself, so that they load
their modules while it prepares the sweep.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import io
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from . import __version__
from .core.budget import processors
from .core.errors import ESCAPE, ConfigError, UsageError, printable
from .core.files import FIGURES
from .core.vocabulary import BARGAINING, DASK_ANSWER_SECONDS, FIGURE_FORMATS, MAX_REPLICATES, METHODS, RULES

if TYPE_CHECKING:
    from .core.budget import Estimate
    from .experiments.sweep import Request as SweepRequest
    from .inputs.scenario import Scenario


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and leave the exit to :func:`main`."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"command line: {message} (see '{self.prog} --help')")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sco-sim", description="Simulate consensus decision-making in the SCO.")
    parser.add_argument("--version", action="version", version=f"sco-sim {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an internal error")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run a scenario and write its results")
    run.set_defaults(handler=_run)
    run.add_argument("scenario", type=Path, help="scenario file (YAML)")
    _add_settings(run)
    run.add_argument("--out", type=Path, help="output folder (default: a new folder under results/)")
    run.add_argument("--force", action="store_true", help="replace --out if it exists")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
    run.add_argument("--no-figures", action="store_true", help="do not draw figures (results/.../figures/)")
    run.add_argument("--format", choices=FIGURE_FORMATS, default="png", help="figure format (default png)")
    run.add_argument("--dry-run", action="store_true",
                     help="check the scenario and print the run's estimated memory and time; run and write nothing")

    plot = commands.add_parser("plot", help="redraw the figures of a saved run or sweep (no re-run)")
    plot.set_defaults(handler=_plot)
    plot.add_argument("folder", type=Path, help="the run's or sweep's folder")
    plot.add_argument("--format", choices=FIGURE_FORMATS, default="png", help="figure format (default png)")

    compare = commands.add_parser("compare", help="two runs side by side, and their differences")
    compare.set_defaults(handler=_compare)
    compare.add_argument("first", type=Path, help="a run's folder")
    compare.add_argument("second", type=Path, help="another run's folder")
    compare.add_argument("--out", type=Path, required=True, help="where to write the comparison")
    compare.add_argument("--format", choices=FIGURE_FORMATS, default="png", help="figure format (default png)")
    compare.add_argument("--force", action="store_true", help="replace --out if it exists")

    report = commands.add_parser("report", help="one self-contained HTML report of a run")
    report.set_defaults(handler=_report)
    report.add_argument("folder", type=Path, help="the run's folder")

    explain = commands.add_parser("explain", help="show why each member supports or objects to a proposal")
    explain.set_defaults(handler=_explain)
    explain.add_argument("scenario", type=Path, help="scenario file (YAML)")
    explain.add_argument("proposal", help="proposal code, e.g. free_trade_zone")
    explain.add_argument("--year", type=int, help="year (default: the scenario's first)")
    explain.add_argument("--replicates", type=int, default=400, help="replicates for the probabilities (default 400)")
    _add_bargaining(explain)

    validate = commands.add_parser("validate", help="run the historical cases and score the model against them",
                                   description="Exit status: 0 every case passes; 3 some case fails, cannot fail "
                                               "or has its outcome as an input; 2 bad input; 1 internal error.")
    validate.set_defaults(handler=_validate)
    validate.add_argument("cases", type=Path, nargs="*", help="case files (default: the project's validation/*.yaml)")
    validate.add_argument("--replicates", type=int, help="replicates per case (default: each case's)")
    validate.add_argument("--fixed-parameters", action="store_true",
                          help="read every coded number as written in every replicate (the point calibration)")
    _add_bargaining(validate)
    validate.add_argument("--leave-one-out", action="store_true",
                          help="also predict each case with the chosen constants fitted on the other cases "
                               "(minutes: a grid of values, every case at each)")

    sweep = commands.add_parser("sweep", help="run a scenario over a design of parameter values")
    sweep.set_defaults(handler=_sweep)
    sweep.add_argument("scenario", type=Path, nargs="?", help="scenario file (YAML); not needed with --resume")
    sweep.add_argument("--param", action="append", default=[], metavar="PATH=VALUES",
                       help="a parameter by dotted path (rule = rules.decision): "
                            "a,b,c or start:stop:count or U(low,high); repeatable")
    sweep.add_argument("--method", choices=METHODS, default="grid", help="design (default grid)")
    sweep.add_argument("--samples", type=int,
                       help="samples for random, lhs, sobol (a power of 2) and morris (trajectories)")
    _add_settings(sweep, rule=False)
    sweep.add_argument("--workers", type=int, default=processors(),
                       help="local worker processes (default and most: one per processor this process may use)")
    sweep.add_argument("--scheduler", help="a Dask scheduler's address (tcp://host:8786) to run on instead; it "
                                           f"must answer as a scheduler within {DASK_ANSWER_SECONDS} s")
    sweep.add_argument("--chunk-size", type=int,
                       help="points per task at most (default: about 20,000 runs or fewer, and 8 tasks or more "
                            "per worker; with several workers the last tasks are smaller, so that the workers "
                            "finish together)")
    sweep.add_argument("--common-noise", action="store_true",
                       help="give every point the same replicate noise "
                            "(common random numbers; best for sensitivity analysis)")
    sweep.add_argument("--out", type=Path, help="output folder (default: a new folder under results/)")
    sweep.add_argument("--resume", type=Path, metavar="DIR", help="finish the interrupted sweep in DIR")
    sweep.add_argument("--force", action="store_true", help="replace --out if it exists")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    sweep.add_argument("--no-figures", action="store_true", help="do not draw figures")
    sweep.add_argument("--dry-run", action="store_true",
                       help="check the sweep and print its points, chunks, estimated memory and time; run and "
                            "write nothing")

    sensitivity = commands.add_parser(
        "sensitivity", help="Sobol or Morris indices of a finished sweep, or of the coded numbers in a scenario's run",
        description="Given a sweep's folder: the Sobol or Morris indices of a finished sweep, written into it. Given a "
                    "scenario file (YAML): run it once, and attribute each proposal's outcome to the coded numbers its "
                    "worlds drew (first-order indices from the run itself, no sweep).")
    sensitivity.set_defaults(handler=_sensitivity)
    sensitivity.add_argument("folder", type=Path, metavar="FOLDER_OR_SCENARIO",
                             help="a finished Sobol or Morris sweep's folder, or a scenario file (.yaml)")
    sensitivity.add_argument("--replicates", type=int,
                             help="with a scenario: replicates (default 4,000: 400 worlds of 10, enough for an index "
                                  "of 0.1 to stand clear of the noise of ~200 numbers; at least 100 worlds)")
    sensitivity.add_argument("--seed", type=int, help="with a scenario: root seed; default: the scenario's")
    sensitivity.add_argument("--top", type=int, help="with a scenario: numbers shown per proposal (default 10)")
    sensitivity.add_argument("--delta", action="store_true",
                             help="with a scenario: also Borgonovo's delta of the numbers shown (slow: seconds each)")
    sensitivity.add_argument("--out", type=Path,
                             help="with a scenario: also write every number's indices (sensitivity_coded.csv) here")
    sensitivity.add_argument("--force", action="store_true", help="with a scenario: replace --out if sco-sim wrote it")

    fit = commands.add_parser(
        "fit", help="fit the chosen constants and floors on the historical cases (likelihood over worlds)",
        description="Weighs plausible worlds by the historical cases and writes the fitted ranges as a configuration's "
                    "'fitted' block; scores each case held out (docs/validation.md, 'Fitting the constants').")
    fit.set_defaults(handler=_fit)
    fit.add_argument("cases", type=Path, nargs="*", help="case files (default: the project's validation/*.yaml)")
    fit.add_argument("--worlds", type=int, default=1000, help="worlds (default 1000)")
    fit.add_argument("--world-size", type=int, default=5, help="replicates per world (default 5)")
    fit.add_argument("--seed", type=int, default=2025, help="the worlds' seed (default 2025)")
    fit.add_argument("--out", type=Path, help="also write fitted.yaml and cases.csv to this folder (new)")

    backtest = commands.add_parser("backtest", help="backtest the decision engine on real decisions (DEU III)")
    backtest.set_defaults(handler=_backtest)
    backtest.add_argument("dataset", choices=["deu"], help="the data set's format")
    backtest.add_argument("file", type=Path, help="the data file (DEU III format: docs/validation.md)")
    backtest.add_argument("--rule", choices=["all", "unanimity", "qmv"], default="all",
                          help="which issues (default all)")
    backtest.add_argument("--out", type=Path, help="output folder (default: a new folder under results/)")
    fitting = backtest.add_mutually_exclusive_group()
    fitting.add_argument("--calibrate-on", type=Path, metavar="CALIBRATION_FILE",
                         help="fit the engine's parameters on this file alone (5-fold cross-validation there), then "
                              "score FILE with them frozen (default: fit on FILE itself, an in-sample score)")
    fitting.add_argument("--fit", type=Path, metavar="PATH", help="score with a fit saved by --save-fit (no fitting)")
    backtest.add_argument("--save-fit", type=Path, metavar="PATH", help="write the fit used (JSON) to PATH")

    score = commands.add_parser(
        "score", help="forecast the SCO's decision record and score it, in-sample and by rolling origin",
        description="Forecasts every decision of the record (validation/record/*.csv, docs/codebook.md) from the "
                    "configuration in force in its year and scores the probabilities against history's benchmarks: "
                    "in-sample, and by rolling origin (the constants fitted on the decisions before each year, out "
                    "of sample). Writes score.json, forecasts.csv and the reliability diagram (docs/validation.md).")
    score.set_defaults(handler=_score)
    score.add_argument("record", type=Path, nargs="*", help="record files (default: validation/record/*.csv)")
    score.add_argument("--quick", action="store_true",
                       help="100 worlds and 100 replicates per decision, for CI and a first look (default: 2,000 "
                            "worlds of 5 and 1,000 replicates)")
    score.add_argument("--seed", type=int, default=2025, help="the seed of every forecast (default 2025)")
    score.add_argument("--out", type=Path, help="output folder (default: a new folder under results/)")
    score.add_argument("--format", choices=FIGURE_FORMATS, default="png", help="figure format (default png)")

    check = commands.add_parser("check", help="validate scenario files without running them")
    check.set_defaults(handler=_check)
    check.add_argument("scenarios", type=Path, nargs="+", help="scenario files (YAML)")
    _add_settings(check)
    return parser


def _add_settings(parser: argparse.ArgumentParser, rule: bool = True) -> None:
    parser.add_argument("--replicates", type=int, help=f"replicates (1 to {MAX_REPLICATES:,}); default: the scenario's")
    parser.add_argument("--seed", type=int, help="root seed; default: the scenario's")
    if rule:
        parser.add_argument("--rule", choices=RULES, help="decision rule; default: the scenario's")
    _add_bargaining(parser)
    parser.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                        help="override a value of the configuration by dotted path (repeatable)")
    parser.add_argument("--fixed-parameters", action="store_true",
                        help="read every coded number as written in every replicate (the point calibration), "
                             "instead of each world drawing its own from the numbers' plausible ranges")


def _add_bargaining(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bargaining", choices=BARGAINING,
                        help="bargaining mechanism (rules.bargaining); default: the configuration's (veto)")


def _scenario(path: Path, args: argparse.Namespace) -> Scenario:
    """The scenario at ``path`` with the command line's settings."""
    from .inputs.scenario import load_scenario
    from .inputs.yaml_files import parse_overrides

    return load_scenario(path, overrides=parse_overrides(args.set), replicates=args.replicates, seed=args.seed,
                         rule=getattr(args, "rule", None), bargaining=args.bargaining,
                         fixed_parameters=args.fixed_parameters)


def _settings(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """``--fixed-parameters`` and ``--bargaining``, those given, each with the overrides of the configuration it
    stands for (for a sweep, which applies overrides itself and names the option a resume differs in, and the
    validation cases)."""
    from .inputs.scenario import FIXED_PARAMETERS

    given = {"--fixed-parameters": FIXED_PARAMETERS if args.fixed_parameters else {},
             "--bargaining": {"rules.bargaining": args.bargaining} if args.bargaining else {}}
    return {option: pairs for option, pairs in given.items() if pairs}


# --- the commands, each given the parsed options; each returns the exit status ---------------------


def _check(args: argparse.Namespace) -> int:
    from .outputs import text
    from .outputs.metadata import check_size

    for path in args.scenarios:
        scenario = _scenario(path, args)
        check_size(scenario, args.argv)  # what run refuses, check refuses
        print(text.checked(path, scenario))
    return 0


def _run(args: argparse.Namespace) -> int:
    from .model.runner import simulate
    from .model.tables import aggregate
    from .outputs import run_folder, text
    from .outputs.metadata import check_size

    scenario = _scenario(args.scenario, args)  # refused here if it would need more memory or time than allowed
    check_size(scenario, args.argv)  # or if its metadata would be too large to write
    if args.dry_run:
        from .core.budget import run_estimate

        print(text.dry_run(scenario, run_estimate(scenario.size)))
        return 0
    with run_folder.claim(args.out, scenario, args.force, args.argv) as out:  # locked until the figures are drawn
        earlier = out.is_dir() and any(out.iterdir())
        records = simulate(scenario)
        aggregates = aggregate(records, scenario.proposal_names, scenario.world_size)
        summary = text.run_summary(scenario, aggregates)
        try:
            run_folder.write(out, scenario, records, aggregates, summary, args.argv, replace=args.force)
        except OSError as error:  # a full disk, say: the staged copy is gone, and an earlier run was never touched
            raise _refused(error, out, "nothing was written" + (
                f": the earlier results in {out} are unchanged" if earlier else "")) from None
        if not args.no_figures:
            from .outputs.figures import draw_run

            try:
                draw_run(out, args.format)
            except OSError as error:
                replaced = " (they replaced the earlier results)" if earlier else ""
                raise _refused(error, out / FIGURES, f"the run's tables are in {out}{replaced} but not its figures; "
                                                     f"redraw them with: sco-sim plot {out}") from None
    if not args.quiet:
        print(summary)
        print(f"\nResults written to {out}/" + ("" if args.no_figures else f" (figures in {out}/{FIGURES}/)"))
    return 0


def _refused(error: OSError, where: Path, left: str) -> UsageError:
    """The file system's refusal while writing ``where``, with what it left in place (``left``), as one line."""
    return UsageError(f"{where}: {error.strerror or error}; {left}")


def _explain(args: argparse.Namespace) -> int:
    from .outputs import text
    from .studies.explain import explain

    print(text.explanation(explain(args.scenario, args.proposal, args.year, args.replicates, args.bargaining)))
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .outputs import text
    from .studies.leave_one_out import leave_one_out
    from .studies.validation import run_cases

    settings = {key: value for pairs in _settings(args).values() for key, value in pairs.items()}
    if args.leave_one_out:
        result = leave_one_out(args.cases, args.replicates, settings=settings)
        print(text.validation_table(result.in_sample, result))
        passed = all(v.passed for v in result.in_sample) and all(h.verdict.passed for h in result.held_out)
    else:
        verdicts = run_cases(args.cases, args.replicates, settings)
        print(text.validation_table(verdicts))
        passed = all(v.passed for v in verdicts)
    # 3, not 1 (an internal error): a case that fails, cannot fail, or restates its outcome is not a pass
    return 0 if passed else 3


def _sweep(args: argparse.Namespace) -> int:
    # the folder is locked for the whole command, through the merge and the figures; a pending replacement
    # (.OUT.pending) is held through OUT; a new folder under results/ (no --out) as soon as it is made
    from .core.files import destination, guard, lock

    if args.dry_run:
        return _sweep_dry_run(args)
    if args.out is not None and args.resume is None:
        guard(args.out)
    target = destination(args.resume) if args.resume is not None else args.out
    with contextlib.ExitStack() as held:
        if target is not None:
            held.enter_context(lock(target, args.argv))
        return _sweep_into(args, held)


def _sweep_into(args: argparse.Namespace, held: contextlib.ExitStack) -> int:
    started = time.monotonic()  # the report's time is the whole command's: start-up and figures count
    from .experiments.executors import lost_errors, lost_message, start_workers

    # the workers start first, and load their modules while this process loads its own and prepares the sweep
    with start_workers(args.workers, args.scheduler) as workers:
        from .core.files import destination, lock
        from .experiments import sweep
        from .experiments.sweep_folder import install
        from .outputs import text

        request = _sweep_request(args)
        if args.resume is None:
            _sweep_estimate(args, workers.width)  # too large a sweep is refused before anything is written
        folder, ran = args.resume or args.out, None
        try:
            say = functools.partial(print, file=sys.stderr)  # a damaged chunk found on resuming, in one line
            job = sweep.resume(args.resume, request, say) if args.resume else sweep.start(request, workers.width)
            folder = destination(job.folder)  # a pending replacement is resumed through the folder it replaces
            if args.out is None and args.resume is None:  # a folder of its own under results/: locked at once
                held.enter_context(lock(folder, args.argv))
            preparing = _prepare_figures_in_background() if workers.width > 1 and not args.no_figures else None
            ran = job.points_left()
            with _progress(job.plan.points, job.plan.points - ran, args.quiet) as bar:
                sweep.execute(job, workers.executor, 2 * workers.width, bar.update, workers.alive)
        except KeyboardInterrupt:
            print(f"interrupted; the finished chunks are kept; finish with: sco-sim sweep --resume {folder or 'DIR'}",
                  file=sys.stderr)
            return 130
        except lost_errors(args.scheduler) as error:  # the scheduler, or a worker process, is gone: exit 3
            print(printable(f"error: {lost_message(args.scheduler, error)}; the finished chunks are kept; "
                            f"finish with: sco-sim sweep --resume {folder or 'DIR'}"), file=sys.stderr)
            return 3
        except OSError as error:  # the file system refused a chunk (a full disk): the chunks before it are kept
            if ran is None:  # before the sweep began: nothing of it to keep
                raise
            kept = f"the finished chunks are kept; finish with: sco-sim sweep --resume {folder}"
            raise _refused(error, folder, kept) from None
    try:
        job.merge()
        if not args.no_figures:
            if preparing is not None:
                preparing.join()  # matplotlib is not for two threads at once
            from .outputs.figures import draw_sweep

            draw_sweep(job.folder)
        job = install(job)  # a sweep that replaces an earlier one is swapped in now that it is complete
    except OSError as error:
        raise _refused(error, folder, "every chunk is done and kept; merge them with: sco-sim sweep --resume "
                                      f"{folder}") from None
    if not args.quiet:
        print(text.sweep_summary(job, ran, started))
    failures = job.table("failures")  # small: one row per failed point
    if len(failures):
        print(text.sweep_failures(job, failures), file=sys.stderr)
        return 1
    return 0


def _sweep_request(args: argparse.Namespace) -> SweepRequest:
    """The sweep the command line asks for."""
    from .experiments.sweep import Request
    from .inputs.yaml_files import parse_overrides

    return Request(args.scenario, tuple(args.param), args.method, args.samples, args.replicates, args.seed,
                   parse_overrides(args.set), args.common_noise, args.chunk_size, args.out, args.force, _settings(args))


def _sweep_estimate(args: argparse.Namespace, width: int) -> tuple[Scenario, int, Estimate]:
    """The sweep's scenario, its number of points and its estimate; a ConfigError if it asks too much."""
    from .core.budget import check_sweep
    from .experiments.design import design_size, parse_parameter

    if args.scenario is None:
        raise UsageError("command line: sweep needs a scenario file (or --resume DIR)")
    scenario = _scenario(args.scenario, args)
    points = design_size([parse_parameter(text) for text in args.param], args.method, args.samples)
    return scenario, points, check_sweep(scenario.size, points, width)


def _sweep_dry_run(args: argparse.Namespace) -> int:
    """``sweep --dry-run``: the sweep checked and its cost printed; no worker is started, nothing is written."""
    from .experiments.executors import check_workers
    from .experiments.sweep import chunk_size, prepare
    from .outputs import text

    if args.resume is not None:
        raise UsageError("command line: --dry-run is for a new sweep, not with --resume")
    check_workers(args.workers, args.scheduler)
    width = 1 if args.scheduler else args.workers  # a cluster's width is known once connected: per worker, then
    scenario, points, estimate = _sweep_estimate(args, width)
    request = _sweep_request(args)
    prepare(request)  # every value tried, as the sweep itself would before it writes anything
    print(text.dry_run_sweep(scenario, points, chunk_size(request, scenario.replicates, points, width), width,
                             estimate))
    return 0


def _prepare_figures_in_background() -> threading.Thread:
    """Load the plotting modules, the font and the PNG writer in a thread, while this process waits for its workers.

    An error is left for the drawing itself, which meets it again and reports it.
    """

    def load() -> None:
        try:
            from .outputs.figures import prepare

            prepare()
        except Exception:  # noqa: BLE001, S110 - met again, and reported, when the figures are drawn
            pass

    thread = threading.Thread(target=load, name="prepare figures", daemon=True)
    thread.start()
    return thread


def _progress(total: int, done: int, quiet: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, initial=done, unit="point", file=sys.stderr, disable=quiet or None, dynamic_ncols=True)


def _sensitivity(args: argparse.Namespace) -> int:
    if args.folder.suffix.lower() in (".yaml", ".yml") or args.folder.is_file():
        return _sensitivity_coded(args)
    given = [option for option, value in (("--replicates", args.replicates), ("--seed", args.seed),
                                          ("--out", args.out), ("--force", args.force or None),
                                          ("--top", args.top), ("--delta", args.delta or None)) if value is not None]
    if given:
        raise UsageError(f"command line: {', '.join(given)}: for a scenario file, not a sweep's folder")
    from .core.files import lock
    from .experiments.sensitivity import analyse
    from .experiments.sweep_folder import open_sweep
    from .outputs import text
    from .outputs.figures import draw_sweep

    sweep = open_sweep(args.folder)
    with lock(args.folder, args.argv):  # it writes into the sweep's folder: not while another command does
        indices = analyse(sweep)
        written = sweep.save_sensitivity(indices)
        figures = draw_sweep(args.folder)
    print(text.sensitivity_indices(indices))
    print(f"\nWritten to {written} (bars in {figures[-1]})")
    return 0


def _sensitivity_coded(args: argparse.Namespace) -> int:
    """``sensitivity SCENARIO``: one run, each proposal's outcome attributed to the coded numbers its worlds drew."""
    from .core.files import claim
    from .experiments.sensitivity import CODED_REPLICATES, attribute, write_coded
    from .inputs.scenario import load_scenario
    from .outputs import text

    top = 10 if args.top is None else args.top
    if top < 1:
        raise UsageError(f"command line: --top: expected a whole number from 1 on, got {top}")
    replicates = CODED_REPLICATES if args.replicates is None else args.replicates
    scenario = load_scenario(args.folder, replicates=replicates, seed=args.seed)
    with contextlib.ExitStack() as held:
        replacing = held.enter_context(claim(args.out, args.force, args.argv)) if args.out is not None else False
        result = attribute(scenario, top, args.delta)
        printed = text.coded_sensitivity(result, top)
        written = write_coded(args.out, result, printed, args.argv, replacing) if args.out is not None else None
    print(printed)
    if written is not None:
        print(f"\nEvery number's indices written to {written}")
    return 0


def _plot(args: argparse.Namespace) -> int:
    from .core.files import lock
    from .experiments.sweep_folder import MANIFEST, is_sweep, open_sweep
    from .outputs.figures import draw_run, draw_sweep
    from .outputs.metadata import METADATA
    from .outputs.run_folder import is_run

    folder: Path = args.folder
    if not is_sweep(folder) and not is_run(folder):
        raise ConfigError(folder, "", f"not a run or sweep folder (expected {METADATA} or {MANIFEST})")
    with lock(folder, args.argv):  # it redraws the figures in the folder: not while another command writes there
        if is_sweep(folder):
            open_sweep(folder).require_finished()
            drawn = draw_sweep(folder, args.format)
        else:
            drawn = draw_run(folder, args.format)
    print("\n".join(str(path) for path in drawn))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from .core.files import claim
    from .outputs.figures import draw_comparison
    from .outputs.run_folder import RunResults

    first, second = RunResults(args.first), RunResults(args.second)
    with claim(args.out, args.force, args.argv):
        drawn = draw_comparison(first, second, args.out, args.format)
    print("\n".join(str(path) for path in drawn))
    return 0


def _report(args: argparse.Namespace) -> int:
    from .outputs.html import build

    print(build(args.folder))
    return 0


def _fit(args: argparse.Namespace) -> int:
    from .outputs import text
    from .studies.fit import fit, write

    result = fit(args.cases, args.worlds, args.world_size, args.seed)
    if args.out is not None:
        write(result, args.out, args.argv)
    print(text.fit_report(result, args.out))
    return 0


def _backtest(args: argparse.Namespace) -> int:
    from .core.files import default_folder
    from .outputs import text
    from .studies import backtest

    fitted = None if args.fit is None else backtest.load_fit(args.fit)
    result = backtest.run_backtest(args.file, args.rule, args.calibrate_on, fitted)
    if args.save_fit is not None:
        backtest.save_fit(result.fit, args.save_fit)
    out = args.out or default_folder("backtest-deu")
    backtest.write(result, out, args.argv)
    print(text.backtest_report(result, out))
    return 0


def _score(args: argparse.Namespace) -> int:
    from .core.files import default_folder, occupied
    from .outputs import text
    from .outputs.figures import draw_score
    from .studies import score

    if args.out is not None:  # refused before minutes of forecasting, not after
        occupied(args.out, False, hint="choose another folder")
    result = score.score(args.record, score.QUICK if args.quick else score.FULL, args.seed)
    out = args.out or default_folder("score")
    score.write(result, out, args.argv)
    draw_score(out, args.format)
    print(text.score_report(result, out))
    return 0


# --- the entry point --------------------------------------------------------------------------------


def command_line() -> NoReturn:
    """``sco-sim`` and ``python -m sim``: run :func:`main`, then exit with its status.

    What is left is frozen out of the garbage collector first: the collection at exit would otherwise walk every
    object pandas, pydantic and matplotlib made to free memory the operating system takes back anyway (a run of
    the baseline took 8% less time with the freeze, median of 10 paired runs).
    """
    status = main()
    gc.freeze()
    raise SystemExit(status)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``sco-sim``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    for stream in (sys.stdout, sys.stderr):  # a path that is not text (the byte 0xff) is printed escaped, not a crash
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors=ESCAPE)
    try:
        args = _parser().parse_args(argv)
    except UsageError as error:
        print(printable(f"error: {error}"), file=sys.stderr)
        return 2
    except SystemExit as done:  # --help and --version
        return int(done.code or 0)
    args.argv = ["sco-sim", *argv]  # the command as typed, for a run's metadata
    try:
        status: int = args.handler(args)
        return status
    except (ConfigError, UsageError) as error:  # bad input: one line, status 2
        print(printable(f"error: {error}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (e.g. `| head`): nothing left to say
        return 0
    except OSError as error:  # the file system refused: name the file where the error does, never an empty name
        print(printable(f"error: {error.filename or 'file system'}: {error.strerror or error}"), file=sys.stderr)
        return 2
    except Exception as error:  # the user gets one line, not a traceback
        if args.debug:
            raise
        print(printable(f"internal error: {error.__class__.__name__}: {error} (rerun with --debug for details)"),
              file=sys.stderr)
        return 1
