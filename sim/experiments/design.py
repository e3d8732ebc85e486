"""Experimental designs: which points of parameter space a sweep runs.

A parameter is a dotted path into the resolved configuration (``rule`` is short for
``rules.decision``) with its values given as a list (``a,b,c``), a range (``start:stop:count``), or a
distribution for sampling (``U(low,high)``). A design turns the parameters into points:

- ``grid``: every combination of the listed values (full factorial);
- ``random``: ``samples`` independent draws;
- ``lhs``: a Latin hypercube of ``samples`` points;
- ``sobol``: Saltelli's scheme for Sobol indices (``samples`` x (k + 2) points), via SALib;
- ``morris``: ``samples`` Morris trajectories (``samples`` x (k + 1) points), via SALib.

A design depends only on the parameters, the method, the number of samples and the seed.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import ConfigError
from ..core.vocabulary import MAX_POINTS, Method
from ..inputs.yaml_files import parse_value

#: Short names a parameter may be given by.
ALIASES = {"rule": "rules.decision"}

#: start:stop:count and U(low,high); their numbers are read as any number typed is (:func:`_number`).
_RANGE = re.compile(r"^\s*([^:,()]+?)\s*:\s*([^:,()]+?)\s*:\s*([^:,()]+?)\s*$")
_UNIFORM = re.compile(r"^\s*U\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\)\s*$")


@dataclass(frozen=True)
class Parameter:
    """One swept parameter: its path and either its values or the bounds of a uniform distribution."""

    path: str
    values: tuple[Any, ...] | None = None
    bounds: tuple[float, float] | None = None

    @property
    def label(self) -> str:
        """The name the user wrote (``rule`` stays ``rule``)."""
        return next((alias for alias, path in ALIASES.items() if path == self.path), self.path)

    def as_dict(self) -> dict[str, Any]:
        """Its fields, as a sweep's manifest stores them."""
        return asdict(self)

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> Parameter:
        """The parameter a manifest stored (JSON gives lists where the fields are tuples)."""
        values, bounds = stored["values"], stored["bounds"]
        return cls(stored["path"], None if values is None else tuple(values), None if bounds is None else tuple(bounds))


def parse_parameter(text: str) -> Parameter:
    """``path=a,b,c``, ``path=start:stop:count`` or ``path=U(low,high)``."""
    path, sep, given = text.partition("=")
    path = path.strip()
    if not sep or not path or not given.strip():
        raise ConfigError("command line", f"--param {text}",
                          "expected PATH=VALUES: a,b,c or start:stop:count or U(low,high)")
    path = ALIASES.get(path, path)
    where = f"--param {path}"
    if match := _UNIFORM.match(given):
        low, high = _number(match[1], where, "low"), _number(match[2], where, "high")
        if not low < high:
            raise ConfigError("command line", where, f"U(low,high) needs low < high, got U({low},{high})")
        return Parameter(path, bounds=(low, high))
    if match := _RANGE.match(given):
        start, stop, count = _number(match[1], where, "start"), _number(match[2], where, "stop"), \
            parse_value(match[3], where)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_POINTS:
            got = f"{count:,}" if isinstance(count, int) and not isinstance(count, bool) else repr(match[3])
            raise ConfigError("command line", where,
                              f"a range start:stop:count needs a count from 1 to {MAX_POINTS:,}, got {got}")
        return Parameter(path, values=tuple(float(v) for v in np.linspace(start, stop, count)))
    values = [parse_value(item.strip(), where) for item in given.split(",")]
    if any(v is None or isinstance(v, dict | list) for v in values):
        raise ConfigError("command line", where, "expected plain values separated by commas")
    return Parameter(path, values=tuple(values))


def _number(text: str, where: str, what: str) -> float:
    """An end of a range or a distribution, read as a number typed anywhere is (YAML 1.2's forms, ``1e-3``), and
    finite."""
    value = parse_value(text, where)
    try:
        number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
    except OverflowError:  # an integer beyond any float
        number = math.inf
    if not math.isfinite(number):
        raise ConfigError("command line", where, f"expected a finite number for {what}, got {text!r}")
    return number


def design(parameters: list[Parameter], method: Method, samples: int | None, seed: int) -> pd.DataFrame:
    """The points of the design, one row each in a fixed order, a column per parameter path.

    Made column by column (a grid by indexing each parameter's values), so that its memory is a few bytes per
    point and value, not a Python mapping per point.
    """
    size = design_size(parameters, method, samples)
    paths = [p.path for p in parameters]
    if method == "grid":
        # every combination, the last parameter varying fastest (itertools.product's order)
        index = np.indices([len(p.values or ()) for p in parameters]).reshape(len(parameters), -1)
        return pd.DataFrame({p.path: _values(p).take(i).reset_index(drop=True) for p, i in zip(parameters, index,
                                                                                               strict=True)})
    if method in ("sobol", "morris"):
        return _salib(parameters, method, size // (len(parameters) + (2 if method == "sobol" else 1)), seed)
    rng = np.random.default_rng(seed)
    if method == "random":
        unit = rng.random((size, len(parameters)))
    else:  # Latin hypercube: one point in each of `samples` strata per dimension, strata shuffled
        strata = np.stack([rng.permutation(size) for _ in parameters], axis=1)
        unit = (strata + rng.random((size, len(parameters)))) / size
    return pd.DataFrame({p.path: _from_unit(p, u) for p, u in zip(parameters, unit.T, strict=True)}, columns=paths)


def values_at(points: pd.DataFrame, index: int) -> dict[str, Any]:
    """The values of one point of a design, {parameter path: value}, as plain Python values (column by column: a
    row as one Series would share one type, an integer parameter's values made floats beside a float's)."""
    return {str(path): plain(points[path].iat[index]) for path in points.columns}


def plain(value: Any) -> Any:
    """A value of a design as Python's own type (numpy's scalars would print, and compare, as numpy's)."""
    return value.item() if isinstance(value, np.generic) else value


def _values(parameter: Parameter) -> pd.Series:
    """A parameter's listed values, typed as pandas types them (numbers as numbers, however they were written)."""
    return pd.Series(list(parameter.values or ()))


def design_size(parameters: list[Parameter], method: Method, samples: int | None) -> int:
    """How many points the design has, counted without making them; a ConfigError if it cannot be made or has more
    than :data:`MAX_POINTS` (so a sweep's size is known, and checked, before anything is allocated)."""
    if not parameters:
        raise ConfigError("command line", "--param", "a sweep needs at least one --param")
    paths = [p.path for p in parameters]
    if len(set(paths)) < len(paths):
        raise ConfigError("command line", "--param", "each parameter may be given once")
    if method == "grid":
        continuous = [p.label for p in parameters if p.values is None]
        if continuous:
            raise ConfigError("command line", f"--param {continuous[0]}",
                              "the grid method needs listed values or a range, not a distribution")
        if samples is not None:
            raise ConfigError("command line", "--samples",
                              "the grid method takes no --samples (its size is the product of the values)")
        return _checked(math.prod(len(p.values or ()) for p in parameters))  # exact, where a float would round
    if samples is None or samples < 1:
        raise ConfigError("command line", "--samples", f"the {method} method needs --samples N (N >= 1)")
    if method == "sobol":
        salib_problem(parameters)
        size = _checked(samples * (len(parameters) + 2))
        if samples & (samples - 1):
            raise ConfigError("command line", "--samples", f"Sobol sampling needs a power of 2, got {samples}")
        return size
    if method == "morris":
        salib_problem(parameters)
        return _checked(samples * (len(parameters) + 1))
    return _checked(samples)


def _from_unit(parameter: Parameter, u: np.ndarray) -> pd.Series:
    """Map each u in [0, 1) to the parameter: uniformly within its bounds, or to one of its listed values."""
    if parameter.bounds is not None:
        low, high = parameter.bounds
        return pd.Series(low + u * (high - low))
    values = _values(parameter)
    return values.take(np.minimum((u * len(values)).astype(np.int64), len(values) - 1)).reset_index(drop=True)


def salib_problem(parameters: list[Parameter]) -> dict[str, Any]:
    """The SALib problem definition of continuous parameters."""
    listed = [p.label for p in parameters if p.bounds is None]
    if listed:
        raise ConfigError("command line", f"--param {listed[0]}",
                          "Sobol and Morris need a distribution U(low,high) for every parameter")
    return {"num_vars": len(parameters), "names": [p.path for p in parameters],
            "bounds": [list(p.bounds or ()) for p in parameters]}


def _salib(parameters: list[Parameter], method: Method, samples: int, seed: int) -> pd.DataFrame:
    problem = salib_problem(parameters)
    if method == "sobol":
        from SALib.sample import sobol

        matrix = sobol.sample(problem, samples, calc_second_order=False, seed=seed)
    else:
        from SALib.sample import morris

        matrix = morris.sample(problem, samples, num_levels=4, seed=seed)
    return pd.DataFrame(np.asarray(matrix, dtype=float), columns=problem["names"])


def _checked(size: int) -> int:
    if size > MAX_POINTS:
        raise ConfigError("command line", "--param",
                          f"the design has {size:,} points; at most {MAX_POINTS:,} are allowed")
    return size
