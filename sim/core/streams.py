"""Counter-based random streams: replicate ``r``'s numbers depend only on (seed, r, purpose).

A sequential generator shared by all replicates would give replicate 7 different draws in a run of
10 replicates than in a run of 1,000, or when a sweep splits replicates over workers. Here every
draw is a hash of its coordinates (SplitMix64's finaliser, which passes BigCrush when used on a
counter), so any slice of replicates, in any order, on any worker, reproduces the same numbers.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_MASK = 2**64 - 1


def _mix(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64 finaliser: a bijection on 64-bit integers with full avalanche."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        return x ^ (x >> np.uint64(31))


def _mix_int(x: int) -> int:
    """:func:`_mix` on one Python integer: a key is folded from a handful of numbers, where numpy's
    per-call cost would outweigh the arithmetic (a model draws about 130 keys per run)."""
    x = ((x ^ (x >> 30)) * int(_M1)) & _MASK
    x = ((x ^ (x >> 27)) * int(_M2)) & _MASK
    return x ^ (x >> 31)


def _key(seed: int, purpose: Sequence[int | str]) -> np.uint64:
    """Fold the seed and the purpose (e.g. ("weights", 2016)) into one 64-bit key."""
    key = _mix_int(int(seed) & _MASK)  # int(): a numpy integer would overflow on the mask
    for part in purpose:
        value = zlib.crc32(part.encode()) if isinstance(part, str) else int(part) & _MASK
        key = _mix_int(key ^ ((value + int(_GOLDEN)) & _MASK))
    return np.uint64(key)


def derived_seed(seed: int, purpose: Sequence[int | str]) -> int:
    """A new root seed drawn from ``seed`` for a purpose (``("point", 7)``): 63 bits, so any seed field takes it."""
    return int(_key(seed, purpose) >> np.uint64(1))


def _bits(seed: int, purpose: Sequence[int | str], replicates: NDArray[np.integer], size: int) -> NDArray[np.uint64]:
    """64 random bits per element, shape ``(len(replicates), size)``."""
    key = _key(seed, purpose)
    with np.errstate(over="ignore"):
        row = _mix(key ^ (replicates.astype(np.uint64)[:, None] * _GOLDEN + _GOLDEN))
        counter = (np.arange(1, size + 1, dtype=np.uint64) * _GOLDEN)[None, :]
        return _mix(row + counter)


def uniform(
    seed: int, purpose: Sequence[int | str], replicates: NDArray[np.integer], shape: tuple[int, ...]
) -> NDArray[np.float64]:
    """Uniform draws in (0, 1) of shape ``(len(replicates), *shape)``, with 53 random bits each."""
    bits = _bits(seed, purpose, replicates, int(np.prod(shape, dtype=np.int64)))
    # top 53 bits, shifted half a step so neither 0 nor 1 is drawn
    values = ((bits >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53
    return values.reshape((len(replicates), *shape))


@lru_cache(maxsize=256)
def _keys(seed: int, purpose: tuple[int | str, ...], names: tuple[str, ...]) -> NDArray[np.uint64]:
    """The key of each ``(*purpose, name)``: a run folds the same few hundred names once per batch, not per call."""
    return np.array([_key(seed, (*purpose, name)) for name in names], dtype=np.uint64)


def uniform_named(
    seed: int, purpose: tuple[int | str, ...], names: tuple[str, ...], replicates: NDArray[np.integer]
) -> NDArray[np.float64]:
    """One uniform draw in (0, 1) per replicate and name, shape ``(len(replicates), len(names))``.

    Column ``k`` equals ``uniform(seed, (*purpose, names[k]), replicates, ())``: each name has its own stream,
    so a name's draws do not depend on which other names are drawn beside it.
    """
    keys = _keys(int(seed), tuple(purpose), tuple(names))
    with np.errstate(over="ignore"):
        row = replicates.astype(np.uint64)[:, None] * _GOLDEN + _GOLDEN
        bits = _mix(_mix(keys[None, :] ^ row) + _GOLDEN)
    return ((bits >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def normal(
    seed: int, purpose: Sequence[int | str], replicates: NDArray[np.integer], shape: tuple[int, ...]
) -> NDArray[np.float64]:
    """Standard normal draws of shape ``(len(replicates), *shape)``.

    Box-Muller on two 24-bit uniforms (one 64-bit hash gives both), in single precision: ample for
    the model's noise, three times faster than double; |z| never exceeds 5.9 (a 1-in-300-million tail).
    """
    size = int(np.prod(shape, dtype=np.int64))
    pairs = (size + 1) // 2
    bits = _bits(seed, purpose, replicates, pairs)
    scale = np.float32(2.0**-24)
    u1 = ((bits >> np.uint64(40)).astype(np.float32) + np.float32(0.5)) * scale
    u2 = (((bits >> np.uint64(8)) & np.uint64(0xFFFFFF)).astype(np.float32) + np.float32(0.5)) * scale
    radius = np.sqrt(np.float32(-2.0) * np.log(u1))
    angle = np.float32(2.0 * np.pi) * u2
    z = np.concatenate([radius * np.cos(angle), radius * np.sin(angle)], axis=1)[:, :size]
    return z.astype(np.float64).reshape((len(replicates), *shape))
