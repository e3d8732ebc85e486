"""Can a case fail? The smallest plausible change to a case's own inputs that flips its predicted outcome.

A case's own inputs are the numbers of the resolved configuration (base, its timeline, the scenario's and
the case's overrides) that bear on its decision:

- of every member that decides it (a voting member in a year of the case), and of the sponsor and the
  candidates of the proposal and of the proposals it is linked to: ``capability``, ``weights.*``,
  ``outside_options.*`` and ``relations.*.*``;
- of the proposal and the proposals it is linked to: ``effects.*``, ``gains.*``, ``ambition``,
  ``min_ambition`` and ``side_payment``;
- the model's constants that a world draws (:data:`sim.inputs.plausible.CONSTANTS`: the cost of objecting,
  deference, the sponsor's error, the noise levels and their persistence) and ``rules.threshold``.

Only numbers held as real values count (years, counts and the rule's name do not), and only those that can move:
a number with a plausible range of some width (:func:`sim.inputs.plausible.plausible_ranges`; zero included), or,
without a range, a number that is not zero.

**The range.** Each input moves within the range the model reads it from, in every year's configuration of the
case (:func:`ranges_read`):

- its plausible range, ``low`` to ``high`` around its value (issue 17's rule): under ``noise.parameters: fixed``
  the readings a careful coder could have written instead; under ``drawn`` and ``prior`` the worlds draw the
  number from that range, which moves with the value;
- its fitted range, under ``drawn`` where the configuration's ``fitted`` gives one: the worlds then ignore the
  value and read the fitted range, so the change moves the range itself, by as much as half its width either way
  (its midpoint stays inside the range as fitted), clipped to the field's bounds; the value moves with it, so
  that it stays inside the range and the range keeps applying;
- without a range (a capability, read from a data set; the threshold of a voting rule): +-:data:`FALLBACK` (50%)
  of its value, the placeholder used for every number before issue 17; zero does not move.

Every move also keeps the configuration valid: the value within its field's bounds (:func:`bounds`) and a
proposal's floor at or below its ambition (so a value near its bound limits how far its fitted range moves).

**The change** is one additive shift ``s`` of the number (and of its fitted range, where it has one) in every
year that sets it, ``s`` within the range in each of those years; the ranges are additive widths, so a shift
keeps a number's place relative to them. **Its size** is ``s`` as a share of the way from the value to the end of
its range in the direction of the move (in the first year that sets the number): 1 is a move to the range's end.
For a range centred on the value this is the share of its half-width, so a 0.05 move of a number whose range is
0.1 wide (0.05 either side: 1.0) counts as more than a 0.05 move of one whose range is 0.8 wide (0.125); measured
toward the end it moves to, it also reads a range clipped on one side (a weight of 1.0, [0.9, 1.0]: down by 0.1
is 1.0) and a constant's range from half to twice its value (0.1, [0.05, 0.2]: either end is 1.0) as the rule
states them.

**The search** is one input at a time: the shifts at the two ends of its range are tried and, where one flips
the outcome, the shift nearest 0 that still flips it is found by bisection. A flip larger than the best found so
far is not looked for. The search assumes an input moves the outcome one way over its range (a flip that happens
only inside the range and not at its end is missed), and it does not try several inputs at once: "cannot fail"
means no single input within its range flips the outcome.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from ..inputs.configuration import Configuration
from ..inputs.plausible import CONSTANTS, Range, plausible_ranges
from ..inputs.plausible import bounds as field_bounds
from ..inputs.scenario import Scenario

#: The range of a number without a plausible range: this share of its value either side.
FALLBACK = 0.5
#: Bisection steps toward the smallest flipping shift: to 1/2**6 of the end tried, about 0.016 of the way.
BISECTIONS = 6

#: Which keys of a member and of a proposal are the case's own inputs (real numbers, not years or counts).
MEMBER_KEYS = ("capability", "weights", "outside_options", "relations")
PROPOSAL_KEYS = ("effects", "gains", "ambition", "min_ambition", "side_payment")
GLOBAL_INPUTS = (*CONSTANTS, "rules.threshold")


@dataclass(frozen=True)
class Flip:
    """An input, the shift that flips the outcome, its size (the share of the way to its range's end), the value
    before and after (in the first year of the case that sets it); for an input read from its fitted range, that
    range before and after too."""

    path: str
    shift: float
    share: float
    before: float
    after: float
    fitted: tuple[tuple[float, float], tuple[float, float]] | None = None

    def __str__(self) -> str:
        share = f"{self.share:.2f} of the way to its range's end"
        if self.fitted is None:
            return f"{self.path} {self.before:.3g} -> {self.after:.3g} ({share})"
        (low, high), (new_low, new_high) = self.fitted
        return f"{self.path} fitted [{low:.3g}, {high:.3g}] -> [{new_low:.3g}, {new_high:.3g}] ({share})"


@dataclass(frozen=True)
class Search:
    """What the search tried and found: ``flip`` is None when no input within its range flips the outcome."""

    inputs: int
    runs: int
    flip: Flip | None


@dataclass(frozen=True)
class Reach:
    """How far an input may move: by a shift from ``down`` to ``up`` in every year of the case that sets it, each
    within the year's range (module docstring); and, in the first year that sets it, its ``value``, the distances
    from it to its range's ends (``below``, ``above``: the units of a move's size) and the fitted range the worlds
    read instead of the value, if any."""

    down: float
    up: float
    value: float
    below: float
    above: float
    fitted: tuple[float, float] | None

    def share(self, shift: float) -> float:
        """The size of a move: the share of the way from the value to its range's end in the move's direction."""
        unit = self.above if shift > 0 else self.below
        return abs(shift) / unit if unit > 0 else math.inf


def ranges_read(config: Configuration) -> dict[str, Range]:
    """The range each number of ``config`` is read from: as :class:`sim.model.model.SCOModel` draws it, its fitted
    range only under ``drawn`` parameters; under ``fixed``, the plausible ranges of the numbers as written."""
    return plausible_ranges(config, fitted=config.noise.parameters == "drawn")


def own_inputs(scenario: Scenario, proposal: str) -> list[str]:
    """The dotted paths of the case's own inputs (module docstring), in a fixed order."""
    paths: dict[str, None] = {}
    for config in scenario.timeline.values():
        package = _package(config, proposal)
        members = {code for code, member in config.members.items()
                   if any(member.votes_in(year) for year in scenario.years)}
        members |= {m for code in package for m in (config.proposals[code].sponsor, *config.proposals[code].admits)}
        tree = config.model_dump(by_alias=True)
        ranges = ranges_read(config)
        for code in sorted(members):
            for key in MEMBER_KEYS:
                paths.update(dict.fromkeys(_leaves(tree, f"members.{code}.{key}", ranges)))
        for code in package:
            for key in PROPOSAL_KEYS:
                paths.update(dict.fromkeys(_leaves(tree, f"proposals.{code}.{key}", ranges)))
        for path in GLOBAL_INPUTS:
            paths.update(dict.fromkeys(_leaves(tree, path, ranges)))
    return list(paths)


def reaches(scenario: Scenario, paths: list[str]) -> dict[str, Reach]:
    """How far each of ``paths`` may move (module docstring); a number no year sets cannot move."""
    years = [(config.model_dump(by_alias=True), ranges_read(config)) for config in scenario.timeline.values()]
    return {path: _reach(years, path) for path in paths}


def _reach(years: list[tuple[dict[str, Any], dict[str, Range]]], path: str) -> Reach:
    down, up = -math.inf, math.inf
    first: Reach | None = None
    for tree, ranges in years:
        value = _get(tree, path)
        if value is None:
            continue
        found = ranges.get(path)
        fitted = None
        if found is None:
            low, high = value - FALLBACK * abs(value), value + FALLBACK * abs(value)
        elif found.basis == "fitted":  # the range moves, by up to half its width: its midpoint stays inside it
            fitted = (found.low, found.high)
            middle = (found.low + found.high) / 2
            low, high = value + found.low - middle, value + found.high - middle
        else:
            low, high = found.low, found.high
        floor, ceiling = _valid(tree, path)
        down, up = max(down, max(low, floor) - value), min(up, min(high, ceiling) - value)
        if first is None:
            first = Reach(0.0, 0.0, value, value - low, high - value, fitted)
    if first is None:
        return Reach(0.0, 0.0, 0.0, 0.0, 0.0, None)
    return dataclasses.replace(first, down=min(down, 0.0), up=max(up, 0.0))


def shifted(scenario: Scenario, path: str, shift: float) -> Scenario:
    """The scenario with the number at ``path`` moved by ``shift`` in every year's configuration that sets it, and
    its fitted range with it where the configuration gives one (clipped to the field's bounds): under ``drawn``
    parameters the worlds read that range, not the value, and the value stays inside it so that it still applies."""

    def edit(tree: dict[str, Any]) -> None:
        value = _get(tree, path)
        if value is not None:
            _set(tree, path, value + shift)
        if path in tree["fitted"]:
            tree["fitted"][path] = list(_moved(path, tree["fitted"][path], shift))

    return _edited(scenario, edit)


def with_values(scenario: Scenario, path: str, change: Callable[[float], float]) -> Scenario:
    """The scenario with the number at ``path`` replaced by ``change(value)`` in every year's configuration where
    it is set (for a search or a fit: the configuration is validated again, the files are not read again)."""
    return with_changes(scenario, {path: change})


def with_numbers(scenario: Scenario, values: Mapping[str, float]) -> Scenario:
    """The scenario with the numbers at the paths of ``values`` set to them wherever they are set."""
    return with_changes(scenario, {path: _constant(value) for path, value in values.items()})


def with_changes(scenario: Scenario, changes: Mapping[str, Callable[[float], float]]) -> Scenario:
    """:func:`with_values` for several numbers at once (a fit's point): each year's configuration validated once."""

    def edit(tree: dict[str, Any]) -> None:
        for path, change in changes.items():
            value = _get(tree, path)
            if value is not None:
                _set(tree, path, change(value))

    return _edited(scenario, edit)


def search(scenario: Scenario, paths: list[str], holds: Callable[[Scenario], bool]) -> Search:
    """The smallest change to one of ``paths`` within its range that turns ``holds`` (the case's outcome test)."""
    runs = 0

    def flips(path: str, shift: float) -> bool:
        nonlocal runs
        runs += 1
        return holds(shifted(scenario, path, shift)) != base

    base = holds(scenario)
    best: Flip | None = None
    for path, reach in reaches(scenario, paths).items():
        for end in (reach.down, reach.up):
            if math.isclose(end, 0.0, abs_tol=1e-12) or math.isinf(reach.share(end)):
                continue
            if best is not None:  # no larger than the best flip so far
                end *= min(1.0, best.share / reach.share(end))
            if not flips(path, end):
                continue
            inside, outside = 0.0, end
            for _ in range(BISECTIONS):
                middle = (inside + outside) / 2
                inside, outside = (inside, middle) if flips(path, middle) else (middle, outside)
            share = reach.share(outside)
            if best is not None and share >= best.share:
                continue  # no smaller than the flip found first
            fitted = None if reach.fitted is None else (reach.fitted, _moved(path, reach.fitted, outside))
            best = Flip(path, outside, share, reach.value, reach.value + outside, fitted)
    return Search(len(paths), runs, best)


def _moved(path: str, fitted: Sequence[float], shift: float) -> tuple[float, float]:
    """The fitted range of the number at ``path`` moved by ``shift``, clipped to the field's bounds."""
    lower, upper = bounds(path)
    low, high = (min(max(end + shift, lower), upper) for end in fitted)
    return low, high


def bounds(path: str) -> tuple[float, float]:
    """The valid bounds of the number at ``path``: those of the model field that holds it (a key under a mapping
    field is bounded by the field), read from the schema by :func:`sim.inputs.plausible.bounds`."""
    annotation: Any = Configuration
    holder: tuple[type[BaseModel], str] | None = None
    for part in path.split("."):
        annotation = _unwrapped(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            holder = (annotation, _field_name(annotation, part))
            annotation = annotation.model_fields[holder[1]].annotation
        else:  # a mapping: the path names a key
            annotation = get_args(annotation)[1]
    if holder is None:
        raise ValueError(f"{path}: not a field of the configuration")
    return field_bounds(*holder)


def _valid(tree: dict[str, Any], path: str) -> tuple[float, float]:
    """The values the number at ``path`` may take in this configuration: its field's bounds, and a proposal's floor
    at or below its ambition."""
    floor, ceiling = bounds(path)
    proposal = path.rsplit(".", 1)[0]
    if path.endswith(".min_ambition"):
        ceiling = min(ceiling, _get(tree, f"{proposal}.ambition"))
    elif path.endswith(".ambition"):
        floor = max(floor, _get(tree, f"{proposal}.min_ambition") or 0.0)
    return floor, ceiling


def _edited(scenario: Scenario, edit: Callable[[dict[str, Any]], None]) -> Scenario:
    """The scenario with ``edit`` applied to every year's configuration (each validated again, the files not read)."""
    timeline = {}
    for year, config in scenario.timeline.items():
        tree = config.model_dump(by_alias=True)
        edit(tree)
        timeline[year] = Configuration.model_validate(tree)
    return dataclasses.replace(scenario, timeline=timeline)


def _constant(value: float) -> Callable[[float], float]:
    return lambda _: value


def _unwrapped(annotation: Any) -> Any:
    """The type under Optional and Annotated."""
    while True:
        if get_origin(annotation) in (Union, UnionType):
            annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
        elif get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        else:
            return annotation


def _field_name(model: type[BaseModel], key: str) -> str:
    return next((name for name, info in model.model_fields.items() if info.alias == key), key)


def _package(config: Configuration, proposal: str) -> list[str]:
    """The proposal and, transitively, those it is linked to."""
    seen: list[str] = []
    todo = [proposal]
    while todo:
        code = todo.pop()
        if code in config.proposals and code not in seen:
            seen.append(code)
            todo.extend(config.proposals[code].links)
    return seen


def _leaves(tree: dict[str, Any], path: str, ranges: dict[str, Range]) -> Iterator[str]:
    """The dotted paths of the real numbers at or under ``path`` that can move: with a range of some width, or
    without a range and not zero."""
    value = _get(tree, path)
    if isinstance(value, dict):
        for key in value:
            yield from _leaves(tree, f"{path}.{key}", ranges)
    elif isinstance(value, float) and (ranges[path].width > 0 if path in ranges else value != 0.0):
        yield path


def _get(tree: dict[str, Any], path: str) -> Any:
    node: Any = tree
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _set(tree: dict[str, Any], path: str, value: float) -> None:
    *parents, last = path.split(".")
    node = tree
    for part in parents:
        node = node[part]
    node[last] = value
