"""What the commands print: tables and summaries as plain text, one function per kind of result.

The results' types are imported for their annotations only: ``sco-sim check`` prints from here too, and
should not load the model, pandas or Mesa to do it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..core.budget import Estimate, duration, gib
from ..core.vocabulary import MAX_RUN_BYTES, MAX_RUN_SECONDS, MAX_SWEEP_RUNS

if TYPE_CHECKING:
    import pandas as pd

    from ..experiments.sweep_folder import Sweep
    from ..inputs.scenario import Scenario
    from ..model.tables import Aggregates
    from ..studies.backtest import Backtest
    from ..studies.explain import Explanation
    from ..studies.validation import Verdict


def checked(path: Path, scenario: Scenario) -> str:
    """The line ``sco-sim check`` prints for a valid scenario."""
    config = scenario.configuration(scenario.start)
    voting = sum(member.votes_in(scenario.start) for member in config.members.values())
    return (f"ok: {path} ({scenario.name}: {scenario.start}-{scenario.end}, "
            f"{len(scenario.agenda)} proposals on the agenda, {voting} members in {scenario.start}, "
            f"rule {config.rules.decision})")


def dry_run(scenario: Scenario, estimate: Estimate) -> str:
    """What ``sco-sim run --dry-run`` prints: the run's sizes and what it would cost; nothing is written."""
    size = scenario.size
    return (f"dry run: {scenario.path} ({scenario.name}: {size.replicates:,} replicates x {size.years} years x "
            f"{size.members} members x {size.proposals} proposals)\n"
            f"estimated: about {gib(estimate.memory)} of memory (at most {gib(MAX_RUN_BYTES)}), "
            f"about {duration(estimate.seconds)} (at most {duration(MAX_RUN_SECONDS)}); nothing was run or written")


def dry_run_sweep(scenario: Scenario, points: int, chunk: int, workers: int, estimate: Estimate) -> str:
    """What ``sco-sim sweep --dry-run`` prints: the sweep's points, its chunks' size and what it would cost."""
    runs = points * scenario.replicates
    return (f"dry run: {scenario.path} ({scenario.name}): {points:,} points x {scenario.replicates:,} replicates = "
            f"{runs:,} runs (at most {MAX_SWEEP_RUNS:,}), in chunks of at most {chunk:,} points on {workers} "
            f"worker{'s' * (workers > 1)}\n"
            f"estimated: about {gib(estimate.memory)} of memory (at most {gib(MAX_RUN_BYTES)}), "
            f"about {duration(estimate.seconds)}; nothing was run or written")


def run_summary(scenario: Scenario, aggregates: Aggregates) -> str:
    """The summary a user reads after a run: one block per proposal."""
    rule = scenario.configuration(scenario.start).rules.decision
    heading = (f"Scenario {scenario.name}: {scenario.start}-{scenario.end}, rule {rule}, "
               f"{scenario.replicates:,} replicates, seed {scenario.seed}")
    member_names = scenario.member_names
    lines = [heading, ""]
    header = f"{'proposal':<44} {'P(adopted)':>10} {'95% interval':>15} {'ambition':>9}"
    lines += [header, "-" * len(header)]
    for row in aggregates.summary.to_dict("records"):
        ambition = "-" if np.isnan(row["mean_ambition"]) else f"{row['mean_ambition']:.2f}"
        interval = f"[{row['ci_low']:.3f}, {row['ci_high']:.3f}]"
        lines.append(f"{row['name'][:44]:<44} {row['p_adopted']:>10.3f} {interval:>15} {ambition:>9}")
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
    lines.append("Member shares: share of the decisions (replicate x year) a member voted in where it held that stance "
                 "at the final offer.")
    return "\n".join(lines)



def explanation(e: Explanation) -> str:
    """The table ``sco-sim explain`` prints."""
    sources = list(e.members[0].parts) if e.members else []
    shown = [s for s in sources if any(abs(m.parts[s]) >= 0.005 for m in e.members)]
    lines = [
        f"{e.name} ({e.proposal}), sponsor {e.sponsor}, {e.year}, rule {e.rule}, proposed ambition {e.ambition:.2f}",
        "",
        "Each member's utility at the proposed ambition, by source (benefits x a, costs x a^2; they add up to U).",
        ("It objects when U falls below minus its tolerance "
         "(the cost of objecting, raised by dependence on the sponsor)."),
        "",
    ]
    header = (f"{'member':<12} {'stance':<12} {'U':>6} {'tolerance':>9} {'objects >':>9}  "
              + " ".join(f"{s[:11]:>11}" for s in shown))
    lines += [header, "-" * len(header)]
    for m in e.members:
        above = "never" if np.isinf(m.objects_above) else f"{m.objects_above:.2f}"
        row = (f"{m.name[:12]:<12} {m.stance.name.lower().replace('_', ' '):<12} {m.utility:>+6.2f} "
               f"{m.tolerance:>9.2f} {above:>9}  ")
        lines.append(row + " ".join(f"{m.parts[s]:>+11.2f}" if abs(m.parts[s]) >= 0.005 else f"{'.':>11}"
                                    for s in shown))
    objected = ", ".join(f"{m} {v:.0%}" for m, v in sorted(e.objected.items(), key=lambda kv: -kv[1]) if v >= 0.01)
    lines += ["", f"Without noise: {e.outcome}.",
              f"With noise ({e.replicates} replicates): adopted with probability {e.p_adopted:.2f}"
              + (("; objected: " + objected) if any(v >= 0.01 for v in e.objected.values()) else "") + "."]
    return "\n".join(lines)


def validation_table(verdicts: list[Verdict]) -> str:
    """The validation table printed by ``sco-sim validate``."""
    header = (f"{'case':<30} {'year':>4}  {'what happened':<13} {'P(adopted)':>10} {'95% interval':>15}  "
              f"{'predicted to object / stand aside / reserve':<48} result")
    lines = [header, "-" * len(header)]
    for v in verdicts:
        names = v.member_names
        who = "; ".join(part for part in (_top(v.objected, names, "obj"), _top(v.stood_aside, names, "aside"),
                                          _top(v.reservation, names, "res")) if part) or "-"
        lines.append(f"{v.case.id:<30} {v.case.year:>4}  {v.case.outcome.replace('_', ' '):<13} {v.p_adopted:>10.2f} "
                     f"{f'[{v.ci[0]:.2f}, {v.ci[1]:.2f}]':>15}  {who[:48]:<48} {'pass' if v.passed else 'FAIL'}")
        lines += [f"{'':<32}{reason}" for reason in v.reasons]
    passed = sum(v.passed for v in verdicts)
    lines += ["", f"{passed} of {len(verdicts)} cases pass."]
    return "\n".join(lines)


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
    """What ``sco-sim backtest`` prints: the calibration, then the errors of the engine and the baselines."""
    lines = [f"{len(result.issues)} issues from {result.file} "
             f"({len(result.skipped)} rows or actors left out: {out}/skipped.txt)"]
    for rule, (chosen, errors) in result.calibration.items():
        lines.append(f"tolerance under {rule}: {chosen} (chosen by 5-fold cross-validation; "
                     f"held-out MAE {100 * errors['cross-validated']:.1f})")
    lines += ["", result.summary.to_string(index=False, float_format=lambda v: f"{v:.1f}"),
              ("\nMean absolute error on the 0-100 scale, 95% bootstrap intervals over issues. "
               f"Per issue: {out}/issues.csv")]
    return "\n".join(lines)
