"""Sensitivity analysis of a Sobol or Morris sweep, with SALib.

For each proposal the outcome is its probability of adoption by the end of the run at each point;
Sobol gives first-order and total indices with 95% bootstrap intervals, Morris the mean absolute
elementary effect (mu*) with its interval and the spread (sigma).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import ConfigError
from .design import salib_problem
from .sweep_folder import Sweep


def analyse(sweep: Sweep) -> pd.DataFrame:
    """One row per outcome x parameter with the indices of the sweep's method."""
    plan, folder = sweep.plan, sweep.folder
    if plan.method not in ("sobol", "morris"):
        raise ConfigError(folder, "method", f"sensitivity needs a sobol or morris sweep; this one is '{plan.method}'")
    sweep.require_finished()
    summary = sweep.table("summary")
    failures = sweep.table("failures")
    if len(failures):
        raise ConfigError(folder, "failures", f"{len(failures)} points failed; sensitivity needs every point")
    problem = salib_problem(plan.swept())
    names = problem["names"]
    design = sweep.design[names].to_numpy(dtype=float)
    rows = []
    for proposal, frame in summary.groupby("proposal", sort=False):
        y = frame.sort_values("point").p_adopted.to_numpy(dtype=float)
        if len(y) != plan.points:
            raise ConfigError(folder, "summary", f"{proposal}: {len(y)} points of {plan.points} have an outcome")
        rows += _indices(plan.method, problem, design, y, plan.seed, f"P(adopted) {proposal}")
    return pd.DataFrame(rows)


def _indices(
    method: str, problem: dict[str, Any], design: np.ndarray, y: np.ndarray, seed: int, outcome: str
) -> list[dict[str, Any]]:
    constant = bool(np.ptp(y) == 0)
    if method == "sobol":
        from SALib.analyze import sobol

        if constant:
            return [{"outcome": outcome, "parameter": n, "S1": 0.0, "S1_conf": 0.0, "ST": 0.0, "ST_conf": 0.0}
                    for n in problem["names"]]
        result = sobol.analyze(problem, y, calc_second_order=False, conf_level=0.95, seed=seed)
        return [{"outcome": outcome, "parameter": n, "S1": s1, "S1_conf": c1, "ST": st, "ST_conf": ct}
                for n, s1, c1, st, ct in zip(problem["names"], result["S1"], result["S1_conf"], result["ST"],
                                             result["ST_conf"], strict=True)]
    from SALib.analyze import morris

    result = morris.analyze(problem, design, y, conf_level=0.95, num_levels=4, seed=seed)
    return [{"outcome": outcome, "parameter": n, "mu_star": m, "mu_star_conf": c, "sigma": s}
            for n, m, c, s in zip(problem["names"], result["mu_star"], result["mu_star_conf"], result["sigma"],
                                  strict=True)]
