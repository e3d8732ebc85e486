"""Sensitivity analysis of a Sobol or Morris sweep, with SALib.

For each proposal the outcome is its probability of adoption by the end of the run at each point;
Sobol gives first-order and total indices with 95% bootstrap intervals, Morris the mean absolute
elementary effect (mu*) with its interval and the spread (sigma).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .design import salib_problem
from .scenario import ConfigError
from .sweep import open_sweep, parameters_of, remaining_chunks


def analyse(folder: Path) -> pd.DataFrame:
    """One row per outcome x parameter with the indices of the sweep's method."""
    plan, points = open_sweep(folder)
    if plan.method not in ("sobol", "morris"):
        raise ConfigError(folder, "method", f"sensitivity needs a sobol or morris sweep; this one is '{plan.method}'")
    if remaining_chunks(folder, plan) or not (folder / "summary.parquet").is_file():
        raise ConfigError(folder, "chunks", "the sweep is not finished; complete it with 'sco-sim sweep --resume' first")
    summary = pd.read_parquet(folder / "summary.parquet")
    failures = pd.read_parquet(folder / "failures.parquet") if (folder / "failures.parquet").is_file() else pd.DataFrame()
    if len(failures):
        raise ConfigError(folder, "failures", f"{len(failures)} points failed; sensitivity needs every point")
    problem = salib_problem(parameters_of(plan))
    names = problem["names"]
    design = np.array([[point[name] for name in names] for point in points], dtype=float)
    rows = []
    for proposal, frame in summary.groupby("proposal", sort=False):
        y = frame.sort_values("point").p_adopted.to_numpy(dtype=float)
        if len(y) != plan.points:
            raise ConfigError(folder, "summary", f"{proposal}: {len(y)} points of {plan.points} have an outcome")
        rows += _indices(plan.method, problem, design, y, plan.seed, f"P(adopted) {proposal}")
    return pd.DataFrame(rows)


def _indices(method: str, problem: dict, design: np.ndarray, y: np.ndarray, seed: int, outcome: str) -> list[dict]:
    constant = bool(np.ptp(y) == 0)
    if method == "sobol":
        from SALib.analyze import sobol

        if constant:
            return [{"outcome": outcome, "parameter": n, "S1": 0.0, "S1_conf": 0.0, "ST": 0.0, "ST_conf": 0.0} for n in problem["names"]]
        result = sobol.analyze(problem, y, calc_second_order=False, conf_level=0.95, seed=seed)
        return [{"outcome": outcome, "parameter": n, "S1": s1, "S1_conf": c1, "ST": st, "ST_conf": ct}
                for n, s1, c1, st, ct in zip(problem["names"], result["S1"], result["S1_conf"], result["ST"], result["ST_conf"], strict=True)]
    from SALib.analyze import morris

    result = morris.analyze(problem, design, y, conf_level=0.95, num_levels=4, seed=seed)
    return [{"outcome": outcome, "parameter": n, "mu_star": m, "mu_star_conf": c, "sigma": s}
            for n, m, c, s in zip(problem["names"], result["mu_star"], result["mu_star_conf"], result["sigma"], strict=True)]


def format_indices(table: pd.DataFrame) -> str:
    """The table ``sco-sim sensitivity`` prints."""
    lines = []
    sobol = "S1" in table.columns
    header = (f"{'outcome':<40} {'parameter':<44} {'S1 [95% interval]':>22} {'ST [95% interval]':>22}" if sobol
              else f"{'outcome':<40} {'parameter':<44} {'mu* [95% interval]':>22} {'sigma':>8}")
    lines += [header, "-" * len(header)]
    for row in table.itertuples():
        if sobol:
            cells = f"{_ci(row.S1, row.S1_conf):>22} {_ci(row.ST, row.ST_conf):>22}"
        else:
            cells = f"{_ci(row.mu_star, row.mu_star_conf):>22} {row.sigma:>8.3f}"
        lines.append(f"{row.outcome[:40]:<40} {row.parameter[:44]:<44} {cells}")
    return "\n".join(lines)


def _ci(value: float, half: float) -> str:
    return f"{value:.3f} [{value - half:.3f}, {value + half:.3f}]"
