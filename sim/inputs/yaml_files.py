"""YAML read strictly: files (with a safe loader that refuses duplicate keys), and single values typed on the
command line. Any problem becomes a one-line :class:`~sim.core.errors.ConfigError`."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

import yaml

from ..core.errors import ConfigError


class StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # libyaml's parser: 20x faster
    """A safe loader that refuses duplicate keys (PyYAML would keep the last one silently)."""


def _mapping(loader: StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            found = type(key).__name__
            raise yaml.constructor.ConstructorError(None, None, f"a key must be a plain value, found {found}",
                                                    key_node.start_mark)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", key_node.start_mark)
        seen[key] = loader.construct_object(value_node, deep=True)
    return seen


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read_yaml(path: Path) -> Any:
    """Read a YAML file with the strict safe loader.

    Parsed files are cached by path, size and modification time (a sweep reads the same files for
    every point); each call returns its own copy.
    """
    try:
        stat = path.stat()
    except OSError:
        stat = None
    key = (str(path), stat.st_size, stat.st_mtime_ns) if stat else None
    if key is not None and key in _PARSED:
        return copy.deepcopy(_PARSED[key])
    document = _parse_yaml(path)
    if key is not None:
        if len(_PARSED) > 64:
            _PARSED.clear()
        _PARSED[key] = copy.deepcopy(document)
    return document


_PARSED: dict[tuple[str, int, int], Any] = {}


def _parse_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except IsADirectoryError:
        raise ConfigError(path, "", "is a folder, expected a YAML file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(path, "", f"cannot be read ({error.__class__.__name__}: {error})") from None
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader is a SafeLoader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(path, where, f"not valid YAML: {problem}") from None
    except RecursionError:
        raise ConfigError(path, "", "not valid YAML: nested too deeply") from None


def parse_value(text: str, key: str) -> Any:
    """A value typed on the command line (``0.3``, ``two_thirds``, ``[2016, 2017]``), read as YAML.

    ``key`` names the option in the message if it is not valid YAML.
    """
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader is a SafeLoader
    except yaml.YAMLError:
        raise ConfigError("command line", key, f"value {text!r} is not a valid YAML value") from None


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, which a run's metadata and a sweep's manifest record of its scenario."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``--set PATH=VALUE`` options as {dotted path: value}."""
    overrides: dict[str, Any] = {}
    for pair in pairs:
        path, sep, text = pair.partition("=")
        if not sep or not path:
            raise ConfigError(
                "command line", f"--set {pair}", "expected PATH=VALUE, e.g. members.russia.weights.economic=0.3"
            )
        overrides[path.strip()] = parse_value(text, f"--set {path}")
    return overrides
