"""Intervals for the probabilities a run reports."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

#: z for a two-sided 95% interval
Z95 = 1.959963984540054


def wilson(
    successes: NDArray[Any] | np.integer[Any] | int, trials: NDArray[Any] | np.integer[Any] | int, z: float = Z95
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score interval for a binomial proportion (sound near 0 and 1, unlike p +/- z*se)."""
    k, n = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    # exact at the edges: rounding would otherwise put the bound just inside p = 0 or 1
    return np.where(k == 0, 0.0, centre - half), np.where(k == n, 1.0, centre + half)
