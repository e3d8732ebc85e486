"""Plausible worlds: each replicate's own reading of the coded numbers, drawn from their plausible ranges.

A *world* is one reading of every coded number of a configuration (weights, outside options, relations, effects,
gains, ambitions, floors, side payments, the share a route outside the SCO yields) and of the model's own constants
(the cost of objecting, deference, the sponsor's error, the noise levels and their persistence), each drawn
uniformly from its plausible range (:func:`sim.inputs.plausible.plausible_ranges`). Replicate ``r`` lives in world
``r // world_size``: the replicates of one world share its numbers and differ only in the yearly noise, so a run can
tell the spread of a probability across worlds (what we do not know about the numbers) from its Monte Carlo error.

A world draws, for each number, one *quantile* ``u`` in (0, 1), and reads the number at ``low + u * (high - low)``
of its range. The quantile depends only on (seed, world, the number's path), so a world keeps its reading when an
event moves a number (the range moves with the value, the quantile stays), and a world's numbers do not depend on
which replicates, workers or other numbers are drawn beside it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from ..core import streams
from ..inputs.plausible import CONSTANT_BLOCKS, Range
from .interests import Arrays

#: The purpose under which worlds draw their quantiles (see :mod:`sim.core.streams`).
PURPOSE = ("world",)


def world_of(replicates: NDArray[np.integer], world_size: int) -> NDArray[np.int64]:
    """The world each replicate lives in."""
    return np.asarray(replicates, dtype=np.int64) // world_size


def quantiles(seed: int, paths: tuple[str, ...], worlds: NDArray[np.integer]) -> NDArray[np.float64]:
    """Each world's quantile of each number, shape (len(worlds), len(paths))."""
    return streams.uniform_named(seed, PURPOSE, paths, worlds)


def drawn(point: Arrays, ranges: dict[str, Range], seed: int, replicates: NDArray[np.integer],
          world_size: int) -> Arrays:
    """``point`` (the numbers as written, a world axis of 1) read in the worlds of ``replicates``: a world axis of
    one row per distinct world, and ``world``, each replicate's row (the replicates of a world share its numbers, so
    they are drawn and stored once per world, not once per replicate).

    Only numbers whose range has a width are drawn; the others keep their value in every world. A floor drawn
    above its proposal's drawn ambition is lowered to it (the sponsor never tables less than its floor).
    """
    paths = tuple(path for path, found in ranges.items() if found.width > 0)
    worlds, row = np.unique(world_of(replicates, world_size), return_inverse=True)
    n = len(worlds)
    low = np.array([ranges[path].low for path in paths])
    width = np.array([ranges[path].width for path in paths])
    values = low + quantiles(seed, paths, worlds) * width  # (worlds, paths)

    def spread(array: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.repeat(array, n, axis=0)

    fields = {name: spread(getattr(point, name))
              for name in ("weights", "outside_options", "effects", "gains", "ambition", "side_payment", "elsewhere")}
    relations = {kind: spread(matrix) for kind, matrix in point.relations.items()}
    floor = spread(point.floor)
    member = {code: i for i, code in enumerate(point.actors)}
    dimension = {code: i for i, code in enumerate(point.dimensions)}
    proposal = {code: i for i, code in enumerate(point.proposals)}
    has_floor = np.zeros(len(point.proposals), dtype=bool)
    constants: dict[str, NDArray[np.float64]] = {}
    for column, path in enumerate(paths):
        if path.startswith(tuple(f"{block}." for block in CONSTANT_BLOCKS)):  # one of the model's constants
            constants[path] = values[:, column, None]
            continue
        kind, code, field, *rest = path.split(".")
        value = values[:, column]
        if kind == "members" and field == "relations":
            relations[rest[1]][:, member[code], member[rest[0]]] = value
        elif kind == "members":
            fields[field][:, member[code], dimension[rest[0]]] = value
        elif field in ("effects", "gains"):
            fields[field][:, proposal[code], (dimension if field == "effects" else member)[rest[0]]] = value
        elif field == "min_ambition":
            floor[:, proposal[code]] = value
            has_floor[proposal[code]] = True
        else:  # ambition, side_payment, elsewhere (its share)
            fields[field][:, proposal[code]] = value
    # a proposal without a floor of its own is not bargained down: its floor is its (drawn) ambition
    no_floor = (point.floor[0] == point.ambition[0]) & ~has_floor
    floor = np.where(no_floor, fields["ambition"], np.minimum(floor, fields["ambition"]))
    return replace(point, weights=fields["weights"], outside_options=fields["outside_options"],
                   effects=fields["effects"], gains=fields["gains"], ambition=fields["ambition"],
                   side_payment=fields["side_payment"], elsewhere=fields["elsewhere"], relations=relations, floor=floor,
                   constants=constants, world=row.astype(np.intp))
