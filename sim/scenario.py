"""Scenario files: a base configuration, overrides by dotted path, scheduled events, and run settings.

A scenario names a base configuration (a YAML file in ``configs/``), overrides any value of it by a
dotted path (``members.russia.relations.china.dependence: 0.7``), schedules events by year (more
overrides, or accessions), and sets the rule, the years, the replicates and the seed. Everything is
validated before anything runs; a problem is reported as one line naming the file, the key and what
was expected (:class:`ConfigError`).
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, ValidationError

from .config import Code, Configuration, FilePath, Strict, Year, unknown_key, written_path
from .engine import Rule
from .vocabulary import MAX_REPLICATES, ConfigError  # noqa: F401 - ConfigError is part of this module's interface

MAX_YEARS = 200


class Event(Strict):
    """Something that happens in a given year: overrides take effect, or observers accede."""

    year: Year
    set: dict[str, Any] = {}
    accede: list[Code] = []
    note: str = ""


class ScenarioFile(Strict):
    """The keys a scenario file may hold."""

    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    base: FilePath
    start: Year
    end: Year
    rule: Rule | None = None
    replicates: Annotated[int, Field(ge=1, le=MAX_REPLICATES)] = 100
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    agenda: list[Code] | dict[Year, list[Code]] | None = None
    set: dict[str, Any] = {}
    events: list[Event] = []
    base_events: bool = True  # apply the base configuration's timeline of events


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: the configuration in force in every year, and the run settings."""

    name: str
    description: str
    path: Path
    start: int
    end: int
    replicates: int
    seed: int
    agenda: tuple[str, ...]  # every proposal that can come up
    timeline: dict[int, Configuration] = field(repr=False)  # the configuration from each year on (start and event years)
    events: tuple[Event, ...] = field(repr=False)  # the events applied, the base configuration's and the scenario's
    source: dict[str, Any] = field(repr=False)  # the scenario as written, for the metadata
    digest: str = ""
    schedule: dict[int, tuple[str, ...]] | None = None  # the agenda year by year, where the scenario gives one

    @property
    def years(self) -> range:
        """The years the run steps through (one summit a year)."""
        return range(self.start, self.end + 1)

    def on_agenda(self, year: int) -> tuple[str, ...]:
        """The proposals on the agenda in ``year`` (each also subject to its own ``tabled`` years)."""
        return self.agenda if self.schedule is None else self.schedule.get(year, ())

    def configuration(self, year: int) -> Configuration:
        """The configuration in force in ``year``."""
        return self.timeline[max(y for y in self.timeline if y <= year)]


# --- YAML -----------------------------------------------------------------------------------------


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser where installed: 20x faster
    """A safe loader that refuses duplicate keys (PyYAML would keep the last one silently)."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise yaml.constructor.ConstructorError(None, None, f"a key must be a plain value, found {type(key).__name__}", key_node.start_mark)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", key_node.start_mark)
        seen[key] = loader.construct_object(value_node, deep=True)
    return seen


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read_yaml(path: Path) -> Any:
    """Read a YAML file with a safe loader; any problem becomes a one-line :class:`ConfigError`.

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
        _PARSED.clear() if len(_PARSED) > 64 else None
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
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader is a SafeLoader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(path, where, f"not valid YAML: {problem}") from None
    except RecursionError:
        raise ConfigError(path, "", "not valid YAML: nested too deeply") from None


# --- overrides by dotted path ---------------------------------------------------------------------


def apply_override(tree: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at the dotted ``path`` of ``tree``, creating mappings on the way.

    A mapping set onto a mapping is merged into it, key by key; anything else replaces.
    Raises ``KeyError`` with a message when the path runs through a value that is not a mapping.
    """
    parts = path.split(".")
    if not path or any(not part for part in parts):
        raise KeyError(f"'{path}' is not a dotted path (expected names joined by '.')")
    node = tree
    for depth, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise KeyError(f"'{'.'.join(parts[: depth + 1])}' holds a value, not a mapping, so '{path}' cannot be set")
        node = child
    last = parts[-1]
    if isinstance(value, dict) and isinstance(node.get(last), dict):
        for key, item in value.items():
            apply_override(node, f"{last}.{key}", item)
    else:
        node[last] = copy.deepcopy(value)


@dataclass
class _Origins:
    """Which file and key set each resolved path, so errors name the key the user wrote."""

    base: Path
    overrides: list[tuple[tuple[str, ...], Path | str, str]] = field(default_factory=list)

    def add(self, path: str, file: Path | str, key: str) -> None:
        self.overrides.append((tuple(path.split(".")), file, key))

    def locate(self, resolved: tuple[str, ...]) -> tuple[Path | str, str]:
        """The file and key behind a resolved path: the latest override covering it, else the base."""
        for parts, file, key in reversed(self.overrides):
            n = min(len(parts), len(resolved))
            if parts[:n] == resolved[:n]:
                return file, key + "".join(f".{p}" for p in resolved[len(parts):])
        return self.base, ".".join(resolved)


def _validate(tree: dict[str, Any], origins: _Origins) -> Configuration:
    try:
        return Configuration.model_validate(tree)
    except ValidationError as error:
        raise _config_error(error, origins) from None


def _config_error(error: ValidationError, origins: _Origins) -> ConfigError:
    errors = error.errors(include_url=False)
    # where a field takes several forms, pydantic reports every form's complaint: the one that got
    # furthest into the value is about the form the user meant (and an unknown key explains a missing one)
    where = [written_path(e["loc"]) for e in errors]
    group = [i for i, w in enumerate(where) if w[: len(where[0])] == where[0] or where[0][: len(w)] == w]
    chosen = max(group, key=lambda i: (len(where[i]), errors[i]["type"] == "extra_forbidden"))
    loc, first = where[chosen], errors[chosen]
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "value_error" and ": " in message and not loc:
        path, message = message.split(": ", 1)  # a reference error names its own path
        loc = tuple(path.split("."))
    elif first["type"] == "extra_forbidden":
        message = unknown_key(loc)
    elif first["type"] == "missing":
        message = f"missing key '{loc[-1]}'"
    elif isinstance(first.get("input"), str | int | float | bool) or first.get("input") is None:
        message += f" (got {first.get('input')!r})"
    file, key = origins.locate(loc)
    more = len(errors) - len(group)
    return ConfigError(file, key, message + (f" (and {more} more problem{'s' * (more > 1)})" if more else ""))


# --- loading --------------------------------------------------------------------------------------


def load_scenario(
    path: str | Path,
    *,
    overrides: dict[str, Any] | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    rule: Rule | None = None,
    years: tuple[int, int] | None = None,
    agenda: list[str] | None = None,
) -> Scenario:
    """Read, resolve and validate a scenario file; the keyword settings take precedence over it.

    The configuration in force in a year is built in layers, each overriding those before it: the
    base configuration, the base's events up to that year, the scenario's ``set``, the scenario's
    events up to that year, and the command line (``rule``, ``overrides``). ``years`` narrows the run
    to part of the scenario's span; ``agenda`` replaces the scenario's agenda.
    """
    path = Path(path)
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(path, "", f"expected a mapping of scenario keys, found {type(raw).__name__}")
    try:
        spec = ScenarioFile.model_validate(raw)
    except ValidationError as error:
        raise _config_error(error, _Origins(path)) from None
    if spec.end < spec.start:
        raise ConfigError(path, "end", f"expected a year from start ({spec.start}) on, got {spec.end}")
    if spec.end - spec.start + 1 > MAX_YEARS:
        raise ConfigError(path, "end", f"at most {MAX_YEARS} years in one run")
    start, end = years or (spec.start, spec.end)
    if not spec.start <= start <= end <= spec.end:
        raise ConfigError(path, "start", f"the years {start}-{end} asked for lie outside the scenario's {spec.start}-{spec.end}")

    try:
        base_path = (path.parent / spec.base).resolve()
        found = "" if base_path.is_file() else "is a folder" if base_path.is_dir() else "not found"
    except (OSError, ValueError) as error:  # a NUL character, a name too long for the file system
        raise ConfigError(path, "base", f"expected the path of a configuration file, got {spec.base!r} ({error})") from None
    if found:
        raise ConfigError(path, "base", f"expected a configuration file (relative to the scenario); {base_path} {found}")
    base = read_yaml(base_path)
    if not isinstance(base, dict):
        raise ConfigError(base_path, "", "expected a mapping with dimensions, members and proposals")
    base_events = _events(base.pop("events", []), base_path) if spec.base_events else []
    base.pop("events", None)
    _validate(copy.deepcopy(base), _Origins(base_path))  # the base as written, before anything overrides it
    own = [(event, path, f"events[{index}]") for index, event in enumerate(spec.events)]
    for event, _, where in own:
        if not spec.start <= event.year <= spec.end:
            raise ConfigError(path, f"{where}.year", f"expected a year from {spec.start} to {spec.end}, got {event.year}")
    command_line = [("command line", "--rule", {"rules.decision": rule} if rule else {}),
                    ("command line", "--set", overrides or {})]
    scenario_set = [(path, "set", spec.set), (path, "rule:", {"rules.decision": spec.rule} if spec.rule else {})]

    def configuration(year: int) -> Configuration:
        tree, origins = copy.deepcopy(base), _Origins(base_path)
        _apply_events(tree, origins, base_events, year)
        _apply(tree, origins, scenario_set)
        _apply_events(tree, origins, own, year)
        _apply(tree, origins, command_line)
        return _validate(tree, origins)

    changes = sorted({event.year for event, _, _ in base_events + own if start < event.year <= end})
    timeline = {year: configuration(year) for year in (start, *changes)}
    first = timeline[start]

    chosen = agenda if agenda is not None else spec.agenda
    _check_agenda(chosen, first, path)
    schedule = None
    if chosen is None:
        in_play = tuple(first.proposals)
    elif isinstance(chosen, list):
        in_play = tuple(chosen)
    else:
        schedule = {year: tuple(codes) for year, codes in chosen.items()}
        in_play = tuple(dict.fromkeys(code for codes in schedule.values() for code in codes))
    applied = [event for event, _, _ in sorted(base_events + own, key=lambda item: item[0].year) if event.year <= end]
    return Scenario(
        name=spec.name,
        description=spec.description,
        path=path,
        start=start,
        end=end,
        replicates=replicates if replicates is not None else spec.replicates,
        seed=seed if seed is not None else spec.seed,
        agenda=in_play,
        timeline=timeline,
        events=tuple(applied),
        source=raw,
        digest=hashlib.sha256(path.read_bytes()).hexdigest(),
        schedule=schedule,
    )


Layer = tuple[Path | str, str, dict[str, Any]]  # (file, key label, {dotted path: value})


def _apply(tree: dict[str, Any], origins: _Origins, layers: list[Layer]) -> None:
    for file, label, values in layers:
        for key, value in values.items():
            _override(tree, key, value, origins, file, f"{label} {key}" if label.startswith("--") else f"{label}.{key}")


def _apply_events(tree: dict[str, Any], origins: _Origins, events: list[tuple[Event, Path, str]], year: int) -> None:
    """Apply the events of ``year`` and before, in order of year (then as listed)."""
    for event, file, where in sorted(events, key=lambda item: item[0].year):
        if event.year > year:
            continue
        _apply(tree, origins, [(file, f"{where}.set", event.set)])
        for code in event.accede:
            _accede(tree, code, event.year, origins, file, f"{where}.accede")


def _events(raw: Any, file: Path) -> list[tuple[Event, Path, str]]:
    """A list of events, validated, each with its file and key."""
    if not isinstance(raw, list):
        raise ConfigError(file, "events", f"expected a list of events, found {type(raw).__name__}")
    events = []
    for index, item in enumerate(raw):
        try:
            events.append((Event.model_validate(item), file, f"events[{index}]"))
        except ValidationError as error:
            problem = _config_error(error, _Origins(file))
            raise ConfigError(file, f"events[{index}].{problem.key}".rstrip("."), problem.message) from None
    return events


def _check_agenda(agenda: list[str] | dict[int, list[str]] | None, config: Configuration, path: Path) -> None:
    """Every proposal on the agenda (a list, or lists by year) must be in the configuration."""
    by_year = {} if agenda is None else {0: agenda} if isinstance(agenda, list) else agenda
    for year, codes in by_year.items():
        for code in codes:
            if code not in config.proposals:
                key = f"agenda.{year}.{code}" if year else f"agenda.{code}"
                raise ConfigError(path, key, f"unknown proposal '{code}' (expected one of: {', '.join(sorted(config.proposals))})")


def _override(tree: dict[str, Any], key: str, value: Any, origins: _Origins, file: Path | str, label: str) -> None:
    try:
        apply_override(tree, key, value)
    except KeyError as error:
        raise ConfigError(file, label, error.args[0]) from None
    origins.add(key, file, label)


def _accede(tree: dict[str, Any], code: str, year: int, origins: _Origins, file: Path, label: str) -> None:
    member = tree.get("members", {}).get(code)
    if not isinstance(member, dict):
        raise ConfigError(file, f"{label}.{code}", f"unknown member '{code}'")
    if member.get("status") == "member":
        raise ConfigError(file, f"{label}.{code}", f"'{code}' is already a member (expected an observer or partner)")
    _override(tree, f"members.{code}", {"status": "member", "joined": year}, origins, file, f"{label}.{code}")
