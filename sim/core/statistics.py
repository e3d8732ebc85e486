"""Intervals for the probabilities a run reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: z for a two-sided 95% interval
Z95 = 1.959963984540054


def wilson(
    successes: NDArray[Any] | np.number[Any] | float, trials: NDArray[Any] | np.number[Any] | float, z: float = Z95
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score interval for a binomial proportion (sound near 0 and 1, unlike p +/- z*se)."""
    k, n = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    # exact at the edges: rounding would otherwise put the bound just inside p = 0 or 1
    return np.where(k == 0, 0.0, centre - half), np.where(k == n, 1.0, centre + half)


@dataclass(frozen=True)
class Worlds:
    """How an outcome's variance splits between worlds (the coded numbers' readings) and the noise within them."""

    sd_parameters: float  # the spread (SD) of the world's probability across worlds
    share_parameters: float  # the share of the outcome's variance due to the worlds (an intra-class correlation)
    effective_n: float  # replicates, discounted for the worlds they share (n / design effect)


def between_worlds(outcome: NDArray[np.bool_], world: NDArray[np.integer]) -> Worlds:
    """One-way analysis of variance of a yes/no ``outcome`` over replicates grouped in worlds.

    The variance of the world's probability across worlds is the variance of the worlds' means less the part
    their Monte Carlo error explains (the mean within-world variance over the world's size), floored at 0; with one
    replicate per world it cannot be told apart from the noise (NaN). The effective number of replicates is the
    Kish design effect ``1 + (m - 1) * share`` applied to ``n``, ``m`` the mean world size.
    """
    y = outcome.astype(float)
    _, group = np.unique(world, return_inverse=True)
    size = np.bincount(group).astype(float)
    n, worlds = y.size, size.size
    if n == 0 or worlds == n:
        return Worlds(float("nan"), float("nan"), float(n))
    means = np.bincount(group, weights=y) / size
    within = np.bincount(group, weights=(y - means[group]) ** 2)[size > 1] / (size[size > 1] - 1)
    m = n / worlds
    between = float(np.var(means, ddof=1)) - float(within.mean()) / m if worlds > 1 else 0.0
    between = max(between, 0.0)
    total = float(y.mean() * (1 - y.mean()))
    share = min(between / total, 1.0) if total > 0 else 0.0
    return Worlds(float(np.sqrt(between)), share, n / (1 + (m - 1) * share))
