"""What the commands print: tables and summaries as plain text, one function per kind of result.

The results' types are imported for their annotations only: ``sco-sim check`` prints from here too, and
should not load the model, pandas or Mesa to do it.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.budget import Estimate, duration, gib
from ..core.vocabulary import MAX_RUN_BYTES, MAX_RUN_SECONDS, MAX_SWEEP_RUNS

if TYPE_CHECKING:
    import pandas as pd

    from ..experiments.sensitivity import Attribution, CodedSensitivity
    from ..experiments.sweep_folder import Sweep
    from ..inputs.scenario import Scenario
    from ..model.tables import Aggregates
    from ..studies.backtest import Backtest
    from ..studies.explain import Explanation
    from ..studies.fit import Fit
    from ..studies.leave_one_out import LeaveOneOut
    from ..studies.score import Score
    from ..studies.validation import Verdict


def checked(path: Path, scenario: Scenario) -> str:
    """The line ``sco-sim check`` prints for a valid scenario."""
    config = scenario.configuration(scenario.start)
    voting = sum(member.votes_in(scenario.start) for member in config.members.values())
    return (f"ok: {path} ({scenario.name}: {scenario.start}-{scenario.end}, "
            f"{len(scenario.agenda)} proposals on the agenda, {voting} members in {scenario.start}, "
            f"rule {config.rules.decision}, bargaining {config.rules.bargaining})")


def counted(number: int, noun: str) -> str:
    """``1 replicate``, ``1,000 replicates``: a number and its noun, singular for one."""
    return f"{number:,} {noun}{'s' * (number != 1)}"


def dry_run(scenario: Scenario, estimate: Estimate) -> str:
    """What ``sco-sim run --dry-run`` prints: the run's sizes and what it would cost; nothing is written."""
    size = scenario.size
    sizes = " x ".join(counted(number, noun) for number, noun in ((size.replicates, "replicate"), (size.years, "year"),
                                                                   (size.members, "member"),
                                                                   (size.proposals, "proposal")))
    return (f"dry run: {scenario.path} ({scenario.name}: {sizes})\n"
            f"estimated: about {gib(estimate.memory)} of memory (at most {gib(MAX_RUN_BYTES)}), "
            f"about {duration(estimate.seconds)} (at most {duration(MAX_RUN_SECONDS)}); nothing was run or written")


def dry_run_sweep(scenario: Scenario, points: int, chunk: int, workers: int, estimate: Estimate) -> str:
    """What ``sco-sim sweep --dry-run`` prints: the sweep's points, its chunks' size and what it would cost."""
    runs = points * scenario.replicates
    return (f"dry run: {scenario.path} ({scenario.name}): {counted(points, 'point')} x "
            f"{counted(scenario.replicates, 'replicate')} = {counted(runs, 'run')} (at most {MAX_SWEEP_RUNS:,}), in "
            f"chunks of at most {counted(chunk, 'point')} on {counted(workers, 'worker')}\n"
            f"estimated: about {gib(estimate.memory)} of memory (at most {gib(MAX_RUN_BYTES)}), "
            f"about {duration(estimate.seconds)}; nothing was run or written")


def run_summary(scenario: Scenario, aggregates: Aggregates) -> str:
    """The summary a user reads after a run: one block per proposal."""
    rules = scenario.configuration(scenario.start).rules
    heading = (f"Scenario {scenario.name}: {scenario.start}-{scenario.end}, rule {rules.decision}, "
               f"bargaining {rules.bargaining}, "
               f"{scenario.replicates:,} replicates, seed {scenario.seed}")
    member_names = scenario.member_names
    lines = [heading, ""]
    worlds = scenario.world_size is not None
    header = (f"{'proposal':<44} {'P(adopted)':>10} {'95% interval':>15}"
              + (f" {'SD across worlds':>16} {'share':>6}" if worlds else "") + f" {'ambition':>9}"
              + f" {'implemented':>13}")
    lines += [header, "-" * len(header)]
    for row in aggregates.summary.to_dict("records"):
        ambition = "-" if np.isnan(row["mean_ambition"]) else f"{row['mean_ambition']:.2f}"
        interval = f"[{row['ci_low']:.3f}, {row['ci_high']:.3f}]"
        spread = f" {row['sd_parameters']:>16.3f} {row['share_parameters']:>6.0%}" if worlds else ""
        lines.append(f"{row['name'][:44]:<44} {row['p_adopted']:>10.3f} {interval:>15}{spread} {ambition:>9} "
                     f"{_implemented(row, scenario.end):>13}")
        if row.get("p_elsewhere", 0.0) >= 0.005:
            lines.append(f"    {'elsewhere:':<13} its sponsor took it outside the SCO in {row['p_elsewhere']:.0%} "
                         "of replicates")
        mine = (aggregates.stances[aggregates.stances.proposal == row["proposal"]] if len(aggregates.stances)
                else aggregates.stances)
        for label, column in (("objected", "objected"), ("reservation", "reservation"), ("stood aside", "stood_aside")):
            who = mine[mine[column] >= 0.005].sort_values(column, ascending=False) if len(mine) else mine
            if len(who):
                listing = ", ".join(f"{member_names.get(m, m)} {share:.0%}"
                                    for m, share in zip(who.member, who[column], strict=True))
                lines.append(f"    {label + ':':<13} {listing}")
    lines.append("")
    lines.append("P(adopted): share of replicates in which the proposal was adopted in some year of the run.")
    lines.append(f"implemented: of what was adopted by {scenario.end}, the share carried out by then (the mean over "
                 "the replicates that adopted it; 1 is carried out in full), or by the year in brackets, the "
                 "proposal's last on the agenda, where that is earlier (--set implementation.follow=true follows every "
                 "proposal to the end).")
    if worlds:
        lines.append(f"Each world of {scenario.world_size} replicates reads the coded numbers at its own point of "
                     "their plausible ranges (--fixed-parameters: as written). 95% interval: Monte Carlo error, for "
                     "replicates that share a world. SD across worlds: the spread of the world's P(adopted) (what we "
                     "do not know about the numbers); share: the part of the outcome's variance that lies between "
                     "worlds.")
    lines.append("Member shares: share of the decisions (replicate x year) a member voted in where it held that stance "
                 "at the final offer.")
    return "\n".join(lines)



def _implemented(row: Mapping[Hashable, Any], end: int) -> str:
    """A summary row's share of the adopted carried out, with its year where that is not the run's last."""
    if np.isnan(row["implemented"]):
        return "-"
    return f"{row['implemented']:.2f}" + ("" if row["implemented_year"] == end else f" ({row['implemented_year']})")


def explanation(e: Explanation) -> str:
    """The table ``sco-sim explain`` prints."""
    sources = list(e.members[0].parts) if e.members else []
    shown = [s for s in sources if any(abs(m.parts[s]) >= 0.005 for m in e.members)]
    lines = [
        f"{e.name} ({e.proposal}), sponsor {e.sponsor}, {e.year}, rule {e.rule}, bargaining {e.bargaining}, "
        f"proposed ambition {e.ambition:.2f}",
        "",
        "Each member's utility at the proposed ambition, by source (benefits x a, costs x a^2; they add up to U).",
        ("It objects when U falls below minus its tolerance "
         "(the cost of objecting, raised by dependence on the sponsor)."),
        ("prefers: the ambition it likes best on the table; weight: its share of the bargain (capability x "
         "salience), which the compromise and Nash mechanisms weigh positions and gains by."),
        "",
    ]
    header = (f"{'member':<12} {'stance':<12} {'U':>6} {'tolerance':>9} {'objects >':>9} {'prefers':>7} "
              f"{'weight':>6}  " + " ".join(f"{s[:11]:>11}" for s in shown))
    lines += [header, "-" * len(header)]
    for m in e.members:
        above = "never" if np.isinf(m.objects_above) else f"{m.objects_above:.2f}"
        row = (f"{m.name[:12]:<12} {m.stance.name.lower().replace('_', ' '):<12} {m.utility:>+6.2f} "
               f"{m.tolerance:>9.2f} {above:>9} {m.prefers:>7.2f} {m.weight:>6.0%}  ")
        lines.append(row + " ".join(f"{m.parts[s]:>+11.2f}" if abs(m.parts[s]) >= 0.005 else f"{'.':>11}"
                                    for s in shown))
    objected = ", ".join(f"{m} {v:.0%}" for m, v in sorted(e.objected.items(), key=lambda kv: -kv[1]) if v >= 0.01)
    lines += ["", f"Without noise: {e.outcome}.",
              f"With noise{' and each world reading the coded numbers in their plausible ranges' * e.worlds} "
              f"({e.replicates} replicates): adopted with probability {e.p_adopted:.2f}"
              + (("; objected: " + objected) if any(v >= 0.01 for v in e.objected.values()) else "") + "."]
    return "\n".join(lines)


def validation_table(verdicts: list[Verdict], loo: LeaveOneOut | None = None) -> str:
    """The validation table printed by ``sco-sim validate``: a row per case, then why it failed and what flips it,
    then the counts; with ``loo``, each case held out (its fit, its prediction, its status), the counts beside the
    in-sample ones, and last the lines ``in_sample_passes: X/N`` and ``leave_one_out_passes: Y/N``."""
    header = (f"{'case':<30} {'years':<9} {'what happened':<13} {'P':>4}  {'named (share)':<24} "
              f"{'predicted to object / stand aside / reserve':<44} status")
    lines = [header, "-" * len(header)]
    for v in verdicts:
        case, names, p = v.case, v.member_names, v.prediction
        first, last = case.years
        years = f"{first}" if first == last else f"{first}-{last}"
        happened = ("adopted" if case.outcome == "adopted" else "not adopted") if not case.trajectory else (
            f"first {case.first}+-{case.within}" if case.first is not None else "never")
        if case.implemented is not None:
            happened = f"{'carried out' if case.implemented == 'carried_out' else 'lagging'} {case.by}"
        named = ", ".join(f"{names.get(n.member, n.member)} {n.share:.0%}" for n in v.named) or "-"
        who = "; ".join(part for part in (_top(p.objected, names, "obj"), _top(p.stood_aside, names, "aside"),
                                          _top(p.reservation, names, "res")) if part) or "-"
        lines.append(f"{case.id[:30]:<30} {years:<9} {happened:<13} {p.p:>4.2f}  {named[:24]:<24} {who[:44]:<44} "
                     f"{v.status}")
        if case.implemented is not None:
            lines.append(f"{'':<4}carried out by {case.by}: {p.implemented:.2f} of what was adopted (mean over the "
                         "replicates that adopted it; carried out: at least 0.5, lagging: below)")
        lines += [f"{'':<4}{reason}" for reason in v.reasons]
        if case.outcome_as_input:
            lines.append(f"{'':<4}outcome as input: {case.outcome_as_input}")
        lines.append(f"{'':<4}{_falsifiability(v)}")
    lines += ["", *_validation_counts(verdicts)]
    if loo is not None:
        lines += ["", *_leave_one_out(loo)]
    return "\n".join(lines)


def _leave_one_out(loo: LeaveOneOut) -> list[str]:
    """Each case predicted with the constants fitted on the others, beside its in-sample status; then the counts,
    with those of the fit that leaves only the case itself out."""
    grid, n = loo.grid, len(loo.held_out)
    short = {"rules.objection_cost": "cost", "rules.deference": "defer", "noise.weights": "noise.w",
             "noise.judgement": "noise.j"}
    lines = [f"Leave-one-case-out: each case predicted with the chosen constants fitted on the other cases, less "
             f"those that record the same decision ({len(grid.points())} points x {len(grid.floors)} floors, "
             f"{loo.fit_replicates} replicates each; docs/validation.md)",
             f"{'case':<30} {'in-sample':<16} " + " ".join(f"{short.get(p, p):>7}" for p in grid.constants)
             + f" {'floor':>9} {'fit':>6} {'P':>5}  {'leave-one-out':<16} alone left out"]
    lines.append("-" * len(lines[-1]))
    for v, held, plain in zip(loo.in_sample, loo.held_out, loo.plain, strict=True):
        values, out = held.fit.values, held.verdict
        floors = [f"{value:g}" for path, value in values.items() if path.endswith(".min_ambition")]
        floors += [f"{value:g} kept" for value in held.fit.kept.values()]
        lines.append(f"{v.case.id[:30]:<30} {v.status:<16} " + " ".join(f"{values[p]:>7g}" for p in grid.constants)
                     + f" {', '.join(floors) or '-':>9} {held.fit.matched:>2}/{held.fit.training:<3} "
                     f"{out.prediction.p:>5.2f}  {out.status:<16} {plain.verdict.status}")
        if held.excluded:
            lines.append(f"{'':<4}also left out of its fit (the same decision): {', '.join(held.excluded)}")
        lines += [f"{'':<4}{reason}" for reason in out.reasons]
        lines.append(f"{'':<4}{_falsifiability(out)}")
    kept = [f"{h.verdict.case.id} ({', '.join(f'{p} {value:g}' for p, value in h.fit.kept.items())})"
            for h in loo.held_out if h.fit.kept]
    lines += ["", "Floors kept at their configured value (no other case is about the proposal, or every other "
              "records the same decision): " + (", ".join(kept) or "none") + "."]
    for label, trajectory in (("Single-summit cases", False), ("Trajectory cases", True)):
        rows = [(v, h.verdict, p.verdict) for v, h, p in zip(loo.in_sample, loo.held_out, loo.plain, strict=True)
                if v.case.trajectory == trajectory]
        if rows:
            counts = ", ".join(f"{sum(out.status == status for _, out, _ in rows)} {status}"
                               for status in ("FAIL", "cannot fail", "outcome as input"))
            lines.append(f"{label}: in-sample {sum(v.passed for v, _, _ in rows)} of {len(rows)} pass; "
                         f"leave-one-case-out {sum(out.passed for _, out, _ in rows)} of {len(rows)} pass ({counts}); "
                         f"with only the case itself left out {sum(p.passed for _, _, p in rows)} of {len(rows)}.")
    lines += [f"Leave-one-case-out took {loo.seconds:.0f} s.", "",
              f"in_sample_passes: {sum(v.passed for v in loo.in_sample)}/{n}",
              f"leave_one_out_passes: {sum(h.verdict.passed for h in loo.held_out)}/{n}"]
    return lines


def _falsifiability(v: Verdict) -> str:
    """The smallest plausible change that flips the case's outcome, or that none does."""
    found = v.search
    if found is None:
        return "falsifiability not searched"
    if found.flip is None:
        what = "cannot fail" if v.outcome_held else "cannot pass"
        return f"{what}: no single one of its {found.inputs} inputs within its plausible range flips the outcome"
    return f"flips when {found.flip}; {found.inputs} inputs searched"


def _validation_counts(verdicts: list[Verdict]) -> list[str]:
    """The summary: passes of the single-summit and the trajectory cases, and how many could fail."""
    lines = []
    adoption = [v for v in verdicts if v.case.implemented is None]
    for label, group in (("Single-summit cases (in-sample)", [v for v in adoption if not v.case.trajectory]),
                         ("Trajectory cases", [v for v in adoption if v.case.trajectory]),
                         ("Implementation cases", [v for v in verdicts if v.case.implemented is not None])):
        if group:
            counts = {status: sum(v.status == status for v in group)
                      for status in ("FAIL", "cannot fail", "outcome as input")}
            others = ", ".join(f"{n} {status}" for status, n in counts.items())
            lines.append(f"{label}: {sum(v.passed for v in group)} of {len(group)} pass ({others}).")
    searched = [v for v in verdicts if v.search is not None]
    falsifiable = sum(v.search is not None and v.search.flip is not None for v in searched)
    lines.append(f"Falsifiable: {falsifiable} of {len(searched)} cases "
                 "(a single input within its plausible range flips the outcome).")
    lines.append(f"{sum(v.passed for v in verdicts)} of {len(verdicts)} cases pass.")
    return lines


def _top(shares: dict[str, float], names: dict[str, str], label: str, most: int = 2) -> str:
    ranked = sorted(((v, m) for m, v in shares.items() if v >= 0.05), reverse=True)[:most]
    return f"{label} " + ", ".join(f"{names.get(m, m)} {v:.0%}" for v, m in ranked) if ranked else ""


def sensitivity_indices(table: pd.DataFrame) -> str:
    """The table ``sco-sim sensitivity`` prints."""
    lines = []
    sobol = "S1" in table.columns
    header = (f"{'outcome':<40} {'parameter':<44} {'S1 [95% interval]':>22} {'ST [95% interval]':>22}" if sobol
              else f"{'outcome':<40} {'parameter':<44} {'mu* [95% interval]':>22} {'sigma':>8}")
    lines += [header, "-" * len(header)]
    for row in table.to_dict("records"):
        if sobol:
            cells = f"{_ci(row['S1'], row['S1_conf']):>22} {_ci(row['ST'], row['ST_conf']):>22}"
        else:
            cells = f"{_ci(row['mu_star'], row['mu_star_conf']):>22} {row['sigma']:>8.3f}"
        lines.append(f"{row['outcome'][:40]:<40} {row['parameter'][:44]:<44} {cells}")
    return "\n".join(lines)


def _ci(value: float, half: float) -> str:
    return f"{value:.3f} [{value - half:.3f}, {value + half:.3f}]"


def coded_sensitivity(result: CodedSensitivity, top: int) -> str:
    """The tables ``sco-sim sensitivity SCENARIO`` prints: per proposal, the ``top`` coded numbers by first-order
    index, beside the noise floor."""
    scenario = result.scenario
    lines = [f"Scenario {scenario.name}: {scenario.start}-{scenario.end}, {scenario.replicates:,} replicates in "
             f"{counted(result.worlds, 'world')} of {result.world_size}, seed {scenario.seed}; "
             f"{counted(len(result.ranges), 'coded number')} drawn ({result.seconds:.0f} s)"]
    for attribution in result.proposals:
        lines += ["", *_coded_block(attribution, top)]
    constants = any(path.startswith(("rules.", "noise.")) for path in result.ranges)
    lines += ["", *_CODED_NOTES, _CODED_CONSTANTS[constants]]
    return "\n".join(lines)


def _coded_block(a: Attribution, top: int) -> list[str]:
    heading = f"{a.name} ({a.proposal}): P(adopted) {a.p_adopted:.3f}"
    if not a.varies:
        return [heading, "    nothing to attribute: its share adopting varies across worlds no more than their",
                f"    replicates' noise explains (between worlds: {a.worlds.share_parameters:.0%})"]
    lines = [heading,
             f"    between worlds: {a.worlds.share_parameters:.0%} of the outcome's variance (SD of a world's "
             f"probability {a.worlds.sd_parameters:.3f});",
             f"    of the variance of a world's share adopting, {a.explainable:.0%} is its numbers' (the most the S1 "
             "can sum to)"]
    with_delta = not np.isnan(a.delta_noise)
    header = (f"    {'rank':>4}  {'number':<50} {'basis':<8} {'range':<14} {'S1 [95% interval]':>22}"
              + (f" {'delta':>13}" if with_delta else ""))
    lines += [header, "    " + "-" * (len(header) - 4)]
    for row in a.numbers.head(top).to_dict("records"):
        span = f"[{row['low']:.2f}, {row['high']:.2f}]"
        delta = f" {row['delta']:>6.3f} ±{row['delta_conf']:.3f}" if with_delta else ""
        mark = "" if row["above_floor"] else " ."
        lines.append(f"    {row['rank']:>4.0f}  {row['number'][:50]:<50} {row['basis']:<8} {span:<14} "
                     f"{_interval(row['S1'], row['S1_conf']):>22}{delta}{mark}")
    above = a.numbers[a.numbers.above_floor]
    lines.append(f"    {'':>4}  {f'noise floor ({len(a.dummies)} dummy numbers)':<50} {'':<8} {'':<14} "
                 f"{a.floor:>22.3f}" + (f" {a.delta_noise:>13.3f}" if with_delta else ""))
    lines.append(f"    above the floor: {counted(len(above), 'number')}, S1 summing to {above.S1.sum():.3f}")
    return lines


def _interval(value: float, half: float) -> str:
    """:func:`_ci`, or the value alone where the bootstrap had nothing to vary (every resample alike)."""
    return _ci(value, half) if np.isfinite(half) else f"{value:.3f} [no interval]"


_CODED_NOTES = [
    "S1: the share of the variance of a world's share adopting that a number explains alone (RBD-FAST, first order:",
    "its interactions with other numbers are not counted). Noise floor: the largest S1 of as many dummy numbers",
    "(pure noise, read by nothing) as there are numbers; a number below it (marked .) cannot be told from noise.",
    "delta (with --delta): Borgonovo's moment-independent index (0 no effect on the distribution, 1 decisive),",
    "biased upward at a few hundred worlds (the floor's row: the mean delta of dummy numbers), and understated for",
    "a number that decides the outcome outright (SALib skips the bins in which every world has the same share).",
]
#: Which numbers never appear, as the worlds draw the model's own constants (rules, noise) or not.
_CODED_CONSTANTS = {
    False: "Not drawn, so never listed: the rules (cost of objecting, deference), noise levels, capabilities, "
           "accessions.",
    True: "The model's constants (rules., noise.) are drawn and listed like the rest; never listed: capabilities, "
          "accessions.",
}


def sweep_summary(sweep: Sweep, ran: int, started: float) -> str:
    """What the sweep found; ``ran`` is how many of its points this command ran (fewer when resumed), ``started`` the
    command's start (``time.monotonic()``): the time reported is the whole command's, start-up and figures included.

    Only the columns of the merged summary it prints are read, so the memory it takes stays small for many points.
    """
    plan, names = sweep.plan, [p.path for p in sweep.plan.swept()]
    summary = sweep.table("summary", ["point", *names, "proposal", "p_adopted"] if plan.points <= 30
                          else ["proposal", "p_adopted"])
    seconds = time.monotonic() - started
    runs, ran_runs = plan.points * plan.replicates, ran * plan.replicates
    resumed = f", {ran_runs:,} of them now" if ran < plan.points else ""
    lines = [f"Sweep of {plan.points:,} points x {plan.replicates:,} replicates ({runs:,} runs{resumed}) "
             f"in {seconds:.1f} s ({ran_runs / max(seconds, 1e-9):,.0f} runs/s, start-up and figures included); "
             f"method {plan.method}", ""]
    if len(summary):
        if plan.points <= 30:
            wide = summary.pivot_table(index=["point", *names], columns="proposal", values="p_adopted", sort=False)
            lines.append("P(adopted) by point:")
            lines.append(wide.reset_index().drop(columns="point")
                         .to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        else:
            spread = summary.groupby("proposal", sort=False).p_adopted.describe()[["min", "50%", "max"]]
            lines.append("P(adopted) across points (min, median, max):")
            lines.append(spread.to_string(float_format=lambda v: f"{v:.3f}"))
    summary_file, by_year, stances = (sweep.table_path(name).name for name in ("summary", "by_year", "stances"))
    lines += ["", f"Results in {sweep.folder}/ ({summary_file}: per point and proposal; {by_year}; {stances})"]
    return "\n".join(lines)


def sweep_failures(sweep: Sweep, failures: pd.DataFrame) -> str:
    """The one line an error of a sweep's points gets: how many, the first, and where they all are."""
    return (f"error: {len(failures)} of {sweep.plan.points} points failed; first: point {failures.point.iloc[0]}: "
            f"{failures.error.iloc[0]} (all in {sweep.table_path('failures')})")


def backtest_report(result: Backtest, out: Path) -> str:
    """What ``sco-sim backtest`` prints: whether the score is in-sample (first line), the fit and how it was
    made, the errors of the engine and the baselines, and last the engine's errors as ``mae_<issues>: X`` lines
    (``nan`` where the file has no issue under a rule)."""
    import textwrap  # here, not at the top: the rest of the module does without it

    fit, name = result.fit, result.file.name
    if result.in_sample:
        head = (f"in-sample: {result.in_sample}, so the engine's rows score it on the issues they were fitted on "
                "(the rows '..., cross-validated' do not: chosen on four folds, scored on the fifth)")
    elif result.shared:
        head = (f"partly in-sample: {result.shared} of the {len(result.issues)} issues of {name} are also in the "
                f"calibration file {fit.calibration_file} (same issue number); the rest are out-of-sample")
    else:
        head = (f"out-of-sample: the parameters were fitted on {fit.calibration_file} alone and frozen; "
                f"no issue of {name} is in it (by issue number, where both files give one)")
    lines = [head, f"{len(result.issues)} issues from {result.file} "
                   f"({len(result.skipped)} rows or actors left out: {out}/skipped.txt)", "",
             *textwrap.wrap(f"fit (sco-sim {fit.version}; {out}/fit.json): free parameters "
                            f"{', '.join(f'tolerance.{rule}' for rule in fit.rules)} (the cost of objecting) "
                            f"per mechanism ({', '.join(fit.mechanisms)}), "
                            f"fitted on {fit.calibration_file} (SHA-256 {fit.calibration_sha256[:16]}...)", 118,
                            subsequent_indent="    "),
             *textwrap.wrap(f"procedure: {fit.procedure}.", 116, initial_indent="  ", subsequent_indent="    ")]
    for (mechanism, rule), fitted in ((key, r) for m, rules in fit.mechanisms.items()
                                      for key, r in (((m, rule), r) for rule, r in rules.items())):
        candidates = ", ".join(f"{c}={mae:.1f}" for c, mae in fitted.mae_per_candidate.items())
        groups = f" in {fitted.groups} proposals" if fit.grouping == "proposal" else ""
        lines += textwrap.wrap(f"{mechanism}, {rule}: tolerance {fitted.tolerance:g} on {fitted.issues} issues"
                               f"{groups}; "
                               f"cross-validated MAE per candidate: {candidates}; error of the procedure, "
                               f"{fit.folds}-fold: {fitted.mae_of_procedure:.1f}",
                               116, initial_indent="  ", subsequent_indent="    ")
    lines += ["", _backtest_table(result.summary),
              "", *textwrap.wrap(
                  "Mean absolute error on the 0-100 scale, 95% bootstrap interval over issues, issues scored. "
                  "engine: the veto mechanism (the presidency's compromise, lowered until the rule passes it); "
                  "engine (compromise | nash | exchange): sim.core.bargaining's models, the Commission and, under "
                  "co-decision, the Parliament bargaining with 29 votes but never objecting; exchange trades across "
                  "the issues of one proposal (prnr). Issues without a reference point: the compromise model "
                  "under every bargaining mechanism. The last lines are the veto engine's. "
                  "Compromise model: Nice votes x salience, with the Commission (pcom, scom) and, under co-decision "
                  "(proc COD), the Parliament (pep, sep) weighing 29 votes each. Per issue: "
                  f"{out}/issues.csv", 118), ""]
    lines += [f"mae_{'overall' if issues == 'all' else issues}: {result.mae(issues):.3f}"
              for issues in ("all", "unanimity", "qmv")]
    return "\n".join(lines)


def _backtest_table(summary: pd.DataFrame) -> str:
    """One row per model, one column per set of issues: MAE [interval] (issues)."""
    subsets = ("all", "unanimity", "qmv")
    cells: dict[str, dict[str, str]] = {}
    for row in summary.itertuples():
        cells.setdefault(str(row.model), {})[str(row.issues)] = (
            f"{row.mae:.1f} [{row.ci_low:.1f}, {row.ci_high:.1f}] ({row.n})")
    width = max(len(model) for model in cells)
    lines = [f"{'model':<{width}}  " + "  ".join(f"{subset:<24}" for subset in subsets).rstrip()]
    lines += [f"{model:<{width}}  " + "  ".join(f"{row.get(subset, '-'):<24}" for subset in subsets).rstrip()
              for model, row in cells.items()]
    return "\n".join(lines)


def fit_report(result: Fit, out: Path | None) -> str:
    """What ``sco-sim fit`` prints: the fitted ranges beside the plausible ones; each case in-sample and held out."""
    from ..studies.fit import passes, with_fitted

    single, singles, paths, trajectories = passes(result)
    lines = [f"Fit on {len(result.held_out)} cases: {result.worlds:,} worlds of {result.world_size} replicates "
             f"({result.seconds:.0f} s); the fit on every case rests on {result.effective_worlds:.1f} effective worlds",
             "", f"{'number':<44} {'plausible range':>18} {'fitted (5-95%)':>18}"]
    for path, (low, high) in result.ranges.items():
        prior = result.prior[path]
        lines.append(f"{path:<44} {f'[{prior.low:g}, {prior.high:g}]':>18} {f'[{low:g}, {high:g}]':>18}")
    lines += ["", f"{'case':<32} {'what happened':<13} {'P in-sample':>11} {'':<5} {'P held out':>10} {'':<5} "
                  f"{'worlds':>6}"]
    for held, inside in zip(result.held_out, result.in_sample, strict=True):
        what = "adopted" if held.case.outcome == "adopted" else "not adopted"
        lines.append(f"{held.case.id[:32]:<32} {what:<13} {inside.prediction.p:>11.2f} "
                     f"{'pass' if inside.matched else 'FAIL':<5} {held.prediction.p:>10.2f} "
                     f"{'pass' if held.matched else 'FAIL':<5} {held.effective_worlds:>6.1f}")
    lines += ["", f"Held out: {single} of {singles} single-summit cases and {paths} of {trajectories} trajectories "
                  "match the record (outcome and named stances; each predicted with the weights of the other cases, "
                  "less those recording the same decision). In-sample: weighted on every case, the case included.",
              "Not checked here: whether a case could have failed (sco-sim validate searches for that).",
              "worlds: the effective number of worlds the held-out prediction rests on."]
    block = {"fitted": with_fitted(result)}
    lines += ["", "As a configuration's block (configs/base.yaml or a scenario's set:):", "",
              *("    " + line for line in _yaml(block).splitlines())]
    if out is not None:
        lines += ["", f"Written to {out}/ (fitted.yaml, cases.csv)."]
    return "\n".join(lines)


def _yaml(document: Mapping[str, object]) -> str:
    import yaml

    return str(yaml.safe_dump(document, sort_keys=False, default_flow_style=None))


def score_report(result: Score, out: Path) -> str:
    """What ``sco-sim score`` prints: the table of the model and history's benchmarks in each regime, the model's
    skill over the best benchmark, the stances, the calibration (rolling), what each regime is."""
    from ..studies.score import BENCHMARKS, FORECASTERS, LABELS, REGIMES

    adopted = sum(d.adopted for d in result.decisions)
    government = len({(d.year, d.place) for d in result.decisions if d.meeting == "heads_of_government"})
    names = {"model": "model (drawn parameters)", "base_rate": "base rate by kind", "persistence": "persistence",
             "logistic": "logistic regression", "point_calibration": "model, point calibration"}
    lines = [f"The SCO's decision record: {len(result.decisions)} decisions ({adopted} adopted) at {result.summits} "
             f"summits and {government} meetings of heads of government; {result.budget.worlds:,} worlds of "
             f"{result.budget.world_size} and {result.budget.replicates:,} replicates per decision "
             f"({result.seconds:.0f} s)", "",
             f"{'':<27}" + "".join(f"{title:<30}" for title in ("in-sample", "rolling origin, out of sample",
                                                                 "rolling, horizon 2")),
             f"{'forecaster':<27}" + "".join(f"{'Brier':>6} {'log':>6} {'AUROC':>6} {'AUPR':>6}   "
                                             for _ in REGIMES)]
    for name in FORECASTERS:
        row = f"{names[name]:<27}"
        for regime in REGIMES:
            s = result.scores[regime][name]
            row += f"{s.brier:>6.3f} {s.log_score:>6.3f} {_or_dash(s.auroc):>6} {_or_dash(s.aupr):>6}   "
        lines.append(row)
    lines.append(f"{'forecasts':<27}" + "".join(f"{result.scores[r]['model'].n:>6}{'':24}" for r in REGIMES))
    lines.append("")
    titles = {"in_sample": "in-sample", "rolling": "rolling origin", "rolling_horizon_2": "rolling, horizon 2"}
    for skills, which in ((result.skill, "best benchmark"), (result.skill_history, "best of history's benchmarks")):
        for regime in REGIMES:
            best, found = skills[regime]
            if np.isnan(found.value):
                lines.append(f"Brier skill over the {which}, {titles[regime]}: not scored (no forecasts, or a "
                             "benchmark without error)")
                continue
            verdict = ("better than" if found.low > 0 else "worse than" if found.high < 0 else
                       "not distinguishable from")
            lines.append(f"Brier skill over the {which} ({names[best]}), {titles[regime]}: {found.value:+.3f} "
                         f"[95% bootstrap {found.low:+.3f}, {found.high:+.3f}]: {verdict} it")
    stances = result.stances
    lines += ["", f"Stances ({stances.decisions} decisions whose stances the record documents; {stances.forecasts} "
                  f"forecasts of member x stance, {stances.named} named): Brier in-sample "
                  f"{stances.brier['in_sample']:.4f}, point calibration {stances.brier['point_calibration']:.4f}, "
                  f"rolling {stances.brier['rolling']:.4f}; forecasting that no member ever objects, reserves or "
                  f"stands aside: {stances.brier['nobody']:.4f}", "",
              "Calibration of the model, rolling origin (forecasts binned by probability):",
              f"{'bin':<12} {'forecasts':>9} {'mean forecast':>13} {'observed':>9}"]
    for b in result.calibration["rolling"]:
        if b.n:
            lines.append(f"{f'{b.low:.1f}-{b.high:.1f}':<12} {b.n:>9} {b.mean_forecast:>13.2f} {b.observed:>9.2f}")
    low = min(result.origins.values()) if result.origins else float("nan")
    lines += ["", *(f"{regime}: {LABELS[regime]}" for regime in REGIMES),
              f"The rolling fits rest on {low:.1f} to {max(result.origins.values(), default=float('nan')):.1f} "
              f"effective worlds of {result.budget.worlds:,}. Benchmarks: {', '.join(BENCHMARKS)}; AUPR is for the "
              "decisions not adopted.", "", f"Written to {out}/ (score.json, forecasts.csv, figures/reliability)."]
    return "\n".join(lines)


def _or_dash(value: float) -> str:
    return "-" if np.isnan(value) else f"{value:.3f}"
