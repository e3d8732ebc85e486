"""The benchmark script runs and reports every figure (a smoke test: no timing is asserted here)."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT

NAMES = ("batch_run_runs_per_second", "speedup_over_batch_run", "batch_run_outcomes_identical",
         "slowdown_vs_numpy_kernel", "slowdown_vs_numpy_kernel[model=point]",
         "parameter_draws_seconds_per_million_replicates", "drawn_over_fixed_parameters_run_time",
         "sweep_over_in_process_rate", "deu_backtest_seconds",
         "deu_mechanism_seconds[exchange]", "two_worker_speedup", "sweep_peak_memory_mb",
         "step_seconds[members=1000,proposals=100,replicates=100]")


def test_quick_benchmark_reports_every_figure_and_identical_outcomes():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick"],
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr
    figures = dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)
    assert all(name in figures for name in NAMES), done.stdout
    assert figures["batch_run_outcomes_identical"] == "True"  # replicate r is the same run in both
    for name in NAMES:
        if name != "batch_run_outcomes_identical":
            assert float(figures[name]) > 0
