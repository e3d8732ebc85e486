"""What a run or a sweep will cost, estimated from its sizes before anything runs: the bound the commands refuse
beyond, and what ``--dry-run`` prints.

The constants were measured on the project's machine (2 cores, Python 3.12, numpy 2) with
``tools``-free code: a configuration of N members and P proposals (random weights, ``min_ambition`` 0.3) run by
``load_scenario``, ``simulate`` and ``aggregate`` in a fresh process, its peak RSS (``resource.getrusage``) less the
RSS before the run, and its wall time. Sizes measured (members x proposals x replicates x years):
6x10x1,000x10 (0.11 s, 11 MB), 6x10x10,000x10 (1.1 s, 43 MB), 6x10x50,000x10 (4.4 s, 205 MB),
50x10x10,000x10 (5.0 s, 186 MB), 200x10x2,000x10 (3.5 s, 138 MB), 6x100x1,000x10 (0.9 s, 40 MB),
300x100x1x2 (1.4 s), 1,000x50x1x2 (3.8 s), 100x1,000x1x2 (3.9 s); with 1,001 ambition steps, 50x2x10,000x1
took 0.3 s and 223 MB, and 2.2 s and 671 MB with side payments. The formulas below lie at or above every one of
these (the side payments' term assumes a quarter of the replicates unsettled, well above the 4% measured); the
issue's 1,000 members x 1,000 proposals over two years, one replicate, took 93 s, and the formula gives 92 s.

Pure Python, so that ``sco-sim check`` can use it without loading numpy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError
from .vocabulary import BATCH, MAX_RUN_BYTES, MAX_RUN_SECONDS, MAX_SWEEP_RUNS

# bytes: a decision's record holds, per replicate, 26 bytes and 2 per decider (two stances); the tables made from
# the records and the batches joined add half again
_RECORD_BYTES, _PER_DECIDER_BYTES, _TABLES = 26, 2, 1.5
# bytes per replicate of a batch: the engine's (replicates x offers) and (replicates x deciders) float arrays
_OFFER_BYTES, _DECIDER_BYTES = 32, 160
# bytes per replicate x decider x offer where side payments are possible (a quarter of the replicates unsettled)
_SIDE_PAYMENT_BYTES = 8
# seconds per decision: a fixed part, a part per decider (tallies and tables), and parts per replicate
_DECISION_S, _DECIDER_S, _REPLICATE_DECIDER_S, _REPLICATE_OFFER_S, _SIDE_PAYMENT_S = (
    9e-4, 4.5e-5, 1.4e-7, 7e-9, 2.2e-9)


@dataclass(frozen=True)
class Size:
    """The sizes of one run: the largest the scenario reaches in any year."""

    replicates: int
    years: int
    members: int  # members of any status: an upper bound on the deciders
    proposals: int  # proposals that can come up each year: the agenda and what it links to
    steps: int  # offers tried per decision (``rules.ambition_steps``)
    side_payments: bool  # whether any proposal on the agenda carries a side-payment budget

    @property
    def decisions(self) -> int:
        """Decisions of the run at most, per replicate."""
        return self.years * self.proposals


@dataclass(frozen=True)
class Estimate:
    """Peak memory in bytes and time in seconds (on one core), of a run or of a sweep on its workers."""

    memory: float
    seconds: float


def run_estimate(size: Size) -> Estimate:
    """The memory and time one run of ``size`` needs."""
    batch = min(size.replicates, BATCH)
    records = _TABLES * size.decisions * size.replicates * (_RECORD_BYTES + _PER_DECIDER_BYTES * size.members)
    work = batch * (_OFFER_BYTES * size.steps + _DECIDER_BYTES * size.members)
    if size.side_payments:
        work += _SIDE_PAYMENT_BYTES * batch * size.members * size.steps
    per_decision = (_DECISION_S + _DECIDER_S * size.members + _REPLICATE_DECIDER_S * size.replicates * size.members
                    + _REPLICATE_OFFER_S * size.replicates * size.steps
                    + (_SIDE_PAYMENT_S * size.replicates * size.members * size.steps if size.side_payments else 0.0))
    return Estimate(records + work, size.decisions * per_decision)


def sweep_estimate(size: Size, points: int, width: int) -> Estimate:
    """A sweep of ``points`` runs of ``size``, ``width`` at a time: each worker holds one run at a time."""
    run = run_estimate(size)
    return Estimate(width * run.memory, points * run.seconds / max(1, width))


def check_run(size: Size, file: Path | str) -> Estimate:
    """The run's estimate, or a ConfigError naming ``file`` if it needs more memory or time than one run may."""
    estimate = run_estimate(size)
    what = (f"{size.replicates:,} replicates x {size.years} years x {size.members} members x "
            f"{size.proposals} proposals")
    lower = "lower the replicates (--replicates), the years (start, end), the agenda or the members"
    if estimate.memory > MAX_RUN_BYTES:
        raise ConfigError(file, "", f"the run would need about {gib(estimate.memory)} of memory ({what}); "
                                    f"at most {gib(MAX_RUN_BYTES)}: {lower}")
    if estimate.seconds > MAX_RUN_SECONDS:
        raise ConfigError(file, "", f"the run would take about {duration(estimate.seconds)} ({what}); "
                                    f"at most {duration(MAX_RUN_SECONDS)}: {lower}")
    return estimate


def check_sweep(size: Size, points: int, width: int) -> Estimate:
    """The sweep's estimate, or a ConfigError on the command line if it asks for more runs, or its workers for
    more memory together, than one sweep may."""
    runs = points * size.replicates
    if runs > MAX_SWEEP_RUNS:
        raise ConfigError("command line", "--param",
                          f"the sweep has {points:,} points x {size.replicates:,} replicates = {runs:,} runs; "
                          f"at most {MAX_SWEEP_RUNS:,}: lower --replicates, --samples or the values of --param")
    estimate = sweep_estimate(size, points, width)
    if estimate.memory > MAX_RUN_BYTES:
        raise ConfigError("command line", "--workers",
                          f"{width} workers, each running a point of {size.replicates:,} replicates, would need about "
                          f"{gib(estimate.memory)} of memory; at most {gib(MAX_RUN_BYTES)}: lower --workers or "
                          f"--replicates")
    return estimate


def processors() -> int:
    """The processors this process may run on: its CPU affinity where the system has one, else every core."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def gib(size: float) -> str:
    """A number of bytes as the user reads it (``1.2 GiB``, ``340 MiB``)."""
    return f"{size / 2**30:,.1f} GiB" if size >= 2**30 else f"{max(size, 2**20) / 2**20:,.0f} MiB"


def duration(seconds: float) -> str:
    """A duration as the user reads it (``4 s``, ``12 min``, ``3.5 h``, ``12 days``)."""
    if seconds < 60:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:,.0f} days"
