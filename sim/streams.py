"""Counter-based random streams: replicate ``r``'s numbers depend only on (seed, r, purpose).

A sequential generator shared by all replicates would give replicate 7 different draws in a run of
10 replicates than in a run of 1,000, or when a sweep splits replicates over workers. Here every
draw is a hash of its coordinates (SplitMix64's finaliser, which passes BigCrush when used on a
counter), so any slice of replicates, in any order, on any worker, reproduces the same numbers.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64 finaliser: a bijection on 64-bit integers with full avalanche."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        return x ^ (x >> np.uint64(31))


def _key(seed: int, purpose: Sequence[int | str]) -> np.uint64:
    """Fold the seed and the purpose (e.g. ("weights", 2016)) into one 64-bit key."""
    key = _mix(np.asarray(seed % 2**64, dtype=np.uint64))
    for part in purpose:
        value = zlib.crc32(part.encode()) if isinstance(part, str) else part % 2**64
        with np.errstate(over="ignore"):
            key = _mix(key ^ (np.uint64(value) + _GOLDEN))
    return np.uint64(key)


def uniform(seed: int, purpose: Sequence[int | str], replicates: NDArray[np.integer], shape: tuple[int, ...]) -> NDArray[np.float64]:
    """Uniform draws in (0, 1) of shape ``(len(replicates), *shape)``."""
    key = _key(seed, purpose)
    size = int(np.prod(shape, dtype=np.int64))
    with np.errstate(over="ignore"):
        row = _mix(key ^ (replicates.astype(np.uint64)[:, None] * _GOLDEN + _GOLDEN))
        counter = (np.arange(1, size + 1, dtype=np.uint64) * _GOLDEN)[None, :]
        bits = _mix(row + counter)
    # top 53 bits, shifted half a step so neither 0 nor 1 is drawn
    values = ((bits >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53
    return values.reshape((len(replicates), *shape))


def normal(seed: int, purpose: Sequence[int | str], replicates: NDArray[np.integer], shape: tuple[int, ...]) -> NDArray[np.float64]:
    """Standard normal draws of shape ``(len(replicates), *shape)`` (Box-Muller)."""
    u = uniform(seed, purpose, replicates, (2, *shape))
    return np.sqrt(-2.0 * np.log(u[:, 0])) * np.cos(2.0 * np.pi * u[:, 1])
