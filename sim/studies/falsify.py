"""Can a case fail? The smallest plausible change to a case's own inputs that flips its predicted outcome.

A case's own inputs are the numbers of the resolved configuration (base, its timeline, the scenario's and
the case's overrides) that bear on its decision:

- of every member that decides it (a voting member in a year of the case), and of the sponsor and the
  candidates of the proposal and of the proposals it is linked to: ``capability``, ``weights.*``,
  ``outside_options.*`` and ``relations.*.*``;
- of the proposal and the proposals it is linked to: ``effects.*``, ``gains.*``, ``ambition``,
  ``min_ambition`` and ``side_payment``;
- the global rules and noise: ``rules.objection_cost``, ``rules.deference``, ``rules.threshold``,
  ``noise.weights`` and ``noise.judgement``.

Only numbers held as real values count (years, counts and the rule's name do not), and only those that are
not zero: each is moved within its plausible range, which until the ranges are stated number by number
(issue 17) is +-50% of its value, clipped to the configuration's valid bounds; +-50% of zero is zero.

The search is one input at a time: the input is multiplied by a factor in every year's configuration of
the case; the factors at the two ends of the range are tried and, where one flips the outcome, the factor
nearest 1 that still flips it is found by bisection. A flip farther from 1 than the best found so far is not
looked for. The search assumes an input moves the outcome one way over its range (a flip that happens only
inside the range and not at its end is missed), and it does not try several inputs at once: "cannot fail"
means no single input within its range flips the outcome.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from ..inputs.configuration import Configuration
from ..inputs.plausible import bounds as field_bounds
from ..inputs.scenario import Scenario

#: The plausible range of a number until issue 17 states each one: this share of its value either side.
PLAUSIBLE = 0.5
#: Bisection steps toward the smallest flipping factor: the range's half-width / 2**6, about 0.008.
BISECTIONS = 6

#: Which keys of a member and of a proposal are the case's own inputs (real numbers, not years or counts).
MEMBER_KEYS = ("capability", "weights", "outside_options", "relations")
PROPOSAL_KEYS = ("effects", "gains", "ambition", "min_ambition", "side_payment")
GLOBAL_INPUTS = ("rules.objection_cost", "rules.deference", "rules.threshold", "noise.weights", "noise.judgement")


@dataclass(frozen=True)
class Flip:
    """An input, the factor it was multiplied by, and its value before and after (in the case's first year)."""

    path: str
    factor: float
    before: float
    after: float


@dataclass(frozen=True)
class Search:
    """What the search tried and found: ``flip`` is None when no input within its range flips the outcome."""

    inputs: int
    runs: int
    flip: Flip | None


def own_inputs(scenario: Scenario, proposal: str) -> list[str]:
    """The dotted paths of the case's own inputs (module docstring), in a fixed order."""
    paths: dict[str, None] = {}
    for config in scenario.timeline.values():
        package = _package(config, proposal)
        members = {code for code, member in config.members.items()
                   if any(member.votes_in(year) for year in scenario.years)}
        members |= {m for code in package for m in (config.proposals[code].sponsor, *config.proposals[code].admits)}
        tree = config.model_dump(by_alias=True)
        for code in sorted(members):
            for key in MEMBER_KEYS:
                paths.update(dict.fromkeys(_leaves(tree, f"members.{code}.{key}")))
        for code in package:
            for key in PROPOSAL_KEYS:
                paths.update(dict.fromkeys(_leaves(tree, f"proposals.{code}.{key}")))
        for path in GLOBAL_INPUTS:
            paths.update(dict.fromkeys(_leaves(tree, path)))
    return list(paths)


def factor_range(scenario: Scenario, path: str) -> tuple[float, float]:
    """The factors within the plausible range and the valid bounds of ``path`` in every year's configuration."""
    low, high = 1 - PLAUSIBLE, 1 + PLAUSIBLE
    lower, upper = bounds(path)
    for config in scenario.timeline.values():
        tree = config.model_dump(by_alias=True)
        value = _get(tree, path)
        if not value:
            continue
        floor, ceiling = lower, upper
        proposal = path.rsplit(".", 1)[0]
        if path.endswith(".min_ambition"):  # a proposal's floor stays at or below its ambition
            ceiling = min(ceiling, _get(tree, f"{proposal}.ambition"))
        elif path.endswith(".ambition"):
            floor = max(floor, _get(tree, f"{proposal}.min_ambition") or 0.0)
        ends = sorted((floor / value, ceiling / value))
        low, high = max(low, ends[0]), min(high, ends[1])
    return low, high


def rescaled(scenario: Scenario, path: str, factor: float) -> Scenario:
    """The scenario with the number at ``path`` multiplied by ``factor`` in every year's configuration."""
    return with_values(scenario, path, lambda value: value * factor)


def with_values(scenario: Scenario, path: str, change: Callable[[float], float]) -> Scenario:
    """The scenario with the number at ``path`` replaced by ``change(value)`` in every year's configuration where
    it is set (for a search or a fit: the configuration is validated again, the files are not read again)."""
    return with_changes(scenario, {path: change})


def with_numbers(scenario: Scenario, values: Mapping[str, float]) -> Scenario:
    """The scenario with the numbers at the paths of ``values`` set to them wherever they are set."""
    return with_changes(scenario, {path: _constant(value) for path, value in values.items()})


def with_changes(scenario: Scenario, changes: Mapping[str, Callable[[float], float]]) -> Scenario:
    """:func:`with_values` for several numbers at once (a fit's point): each year's configuration validated once."""
    timeline = {}
    for year, config in scenario.timeline.items():
        tree = config.model_dump(by_alias=True)
        for path, change in changes.items():
            value = _get(tree, path)
            if value is not None:
                _set(tree, path, change(value))
        timeline[year] = Configuration.model_validate(tree)
    return dataclasses.replace(scenario, timeline=timeline)


def search(scenario: Scenario, paths: list[str], holds: Callable[[Scenario], bool]) -> Search:
    """The smallest change to one of ``paths`` within its range that turns ``holds`` (the case's outcome test)."""
    runs = 0

    def flips(path: str, factor: float) -> bool:
        nonlocal runs
        runs += 1
        return holds(rescaled(scenario, path, factor)) != base

    base = holds(scenario)
    best: Flip | None = None
    for path in paths:
        for end in factor_range(scenario, path):
            if math.isclose(end, 1.0):
                continue
            reach = abs(end - 1) if best is None else min(abs(end - 1), abs(best.factor - 1))
            outside = 1 + math.copysign(reach, end - 1)
            if not flips(path, outside):
                continue
            inside = 1.0
            for _ in range(BISECTIONS):
                middle = (inside + outside) / 2
                inside, outside = (inside, middle) if flips(path, middle) else (middle, outside)
            if best is not None and abs(outside - 1) >= abs(best.factor - 1):
                continue  # no nearer than the flip found first
            value = _get(scenario.configuration(scenario.start).model_dump(by_alias=True), path) or 0.0
            best = Flip(path, outside, value, value * outside)
    return Search(len(paths), runs, best)


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


def _leaves(tree: dict[str, Any], path: str) -> Iterator[str]:
    """The dotted paths of the non-zero real numbers at or under ``path``."""
    value = _get(tree, path)
    if isinstance(value, dict):
        for key in value:
            yield from _leaves(tree, f"{path}.{key}")
    elif isinstance(value, float) and value != 0.0:
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
