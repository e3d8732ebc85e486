"""Scenario files: a base configuration, overrides by dotted path, scheduled events, and run settings.

A scenario names a base configuration (a YAML file in ``configs/``), overrides any value of it by a
dotted path (``members.russia.relations.china.dependence: 0.7``), schedules events by year (more
overrides, or accessions), and sets the rule, the years, the replicates and the seed. Everything is
validated before anything runs; a problem is reported as one line naming the file, the key and what
was expected (:class:`ConfigError`).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError

from ..core.budget import Size, check_run
from ..core.errors import ConfigError
from ..core.vocabulary import MAX_REPLICATES, MAX_YEARS, SEED_LIMIT, Bargaining, Rule
from .configuration import Code, Configuration, FilePath, Name, Strict, Tabled, Year, config_error, validated
from .plausible import CONSTANTS, FEEDBACK_RATES, MEMBER_NUMBERS, PACES, PROPOSAL_NUMBERS, drawn
from .yaml_files import file_sha256, read_yaml, regular_file


class Event(Strict):
    """Something that happens in a given year: overrides take effect, or observers accede."""

    year: Year
    set: dict[str, Any] = {}
    accede: list[Code] = []
    note: str = ""


class ScenarioFile(Strict):
    """The keys a scenario file may hold."""

    name: Annotated[Name, Field(min_length=1)]  # drawn in figures, and names the results folder
    description: str = ""
    base: FilePath
    start: Year
    end: Year
    rule: Rule | None = None
    replicates: Annotated[int, Field(ge=1, le=MAX_REPLICATES)] = 100
    seed: Annotated[int, Field(ge=0, lt=SEED_LIMIT)] = 0
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
    # the configuration from each year on (start and event years)
    timeline: dict[int, Configuration] = field(repr=False)
    events: tuple[Event, ...] = field(repr=False)  # the events applied, the base configuration's and the scenario's
    source: dict[str, Any] = field(repr=False)  # the scenario as written, for the metadata
    digest: str = ""
    schedule: dict[int, tuple[str, ...]] | None = None  # the agenda year by year, where the scenario gives one
    # every input file read to build it, the scenario's and its base configuration's: absolute path -> SHA-256
    sources: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        check_run(self.size, self.path)  # refused before anything runs if it would exhaust the machine or the day

    @property
    def size(self) -> Size:
        """Its sizes, for the estimate of what a run costs: the largest any year's configuration reaches."""
        configs = list(self.timeline.values())
        in_play = {code for config in configs for code in _linked(self.agenda, config)}
        deciders = {code for config in configs for code, member in config.members.items() if member.status == "member"}
        deciders |= {m for config in configs for code in in_play if code in config.proposals
                     for m in (config.proposals[code].sponsor, *config.proposals[code].admits)}
        proposals = [config.proposals[code] for config in configs for code in in_play if code in config.proposals]
        return Size(self.replicates, len(self.years), len(deciders), len(in_play),
                    max(config.rules.ambition_steps for config in configs),
                    any(proposal.side_payment > 0 for proposal in proposals))

    @property
    def years(self) -> range:
        """The years the run steps through (one summit a year)."""
        return range(self.start, self.end + 1)

    def on_agenda(self, year: int) -> tuple[str, ...]:
        """The proposals on the agenda in ``year`` (each also subject to its own ``tabled`` years)."""
        return self.agenda if self.schedule is None else self.schedule.get(year, ())

    def configuration(self, year: int) -> Configuration:
        """The configuration in force in ``year``."""
        return in_force(self.timeline, year)

    @property
    def world_size(self) -> int | None:
        """Replicates per world where each world draws its own coded numbers (``noise.parameters: drawn``, as in
        force in the first year); None where every replicate reads them as written."""
        noise = self.configuration(self.start).noise
        return None if noise.parameters == "fixed" else noise.world_size

    @property
    def member_names(self) -> dict[str, str]:
        """Every member's name by its code, over all the years of the run."""
        return {code: member.name for config in self.timeline.values() for code, member in config.members.items()}

    @property
    def proposal_names(self) -> dict[str, str]:
        """Every proposal's name by its code, as of the first year."""
        return {code: proposal.name for code, proposal in self.configuration(self.start).proposals.items()}


def _linked(agenda: Sequence[str], config: Configuration) -> set[str]:
    """The proposals that can come up under ``config``: the agenda and, transitively, what they link to."""
    seen: set[str] = set()
    todo = [code for code in agenda if code in config.proposals]
    while todo:
        code = todo.pop()
        if code not in seen:
            seen.add(code)
            todo.extend(link for link in config.proposals[code].links if link in config.proposals)
    return seen


def in_force(timeline: dict[int, Configuration], year: int) -> Configuration:
    """The configuration in force in ``year``, of a timeline of configurations by the year each took effect."""
    return timeline[max(y for y in timeline if y <= year)]


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
        config = Configuration.model_validate(tree)
    except ValidationError as error:
        raise config_error(error, Configuration, origins.locate) from None
    for path in config.fitted:
        if not drawn(path):  # its range would never be used
            members, proposals = ", ".join(MEMBER_NUMBERS), ", ".join(PROPOSAL_NUMBERS)
            raise ConfigError(*origins.locate(("fitted", *path.split("."))),
                              f"expected the path of a number the worlds draw: a member's {members}, a proposal's "
                              f"{proposals}, or {', '.join(CONSTANTS | PACES | FEEDBACK_RATES)}")
    return config


# --- loading --------------------------------------------------------------------------------------


#: The override with which every replicate reads the coded numbers as written (``--fixed-parameters``).
FIXED_PARAMETERS: dict[str, Any] = {"noise.parameters": "fixed"}
#: The override with which the worlds draw from the rule's plausible ranges, not from a fit's (``fitted:`` is
#: ignored): what a fit or a leave-one-out runs, so that no case is scored by ranges fitted on it.
PRIOR_PARAMETERS: dict[str, Any] = {"noise.parameters": "prior"}


def load_scenario(
    path: str | Path,
    *,
    overrides: dict[str, Any] | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    rule: Rule | None = None,
    bargaining: Bargaining | None = None,
    years: tuple[int, int] | None = None,
    agenda: list[str] | None = None,
    fixed_parameters: bool = False,
) -> Scenario:
    """Read, resolve and validate a scenario file; the keyword settings take precedence over it.

    The configuration in force in a year is built in layers, each overriding those before it: the
    base configuration, the base's events up to that year, the scenario's ``set``, the scenario's
    events up to that year, and the command line (``rule``, ``bargaining``, ``overrides``, ``fixed_parameters``: every
    replicate reads the coded numbers as written, ``noise.parameters: fixed``). ``years`` narrows the run
    to part of the scenario's span; ``agenda`` replaces the scenario's agenda.
    """
    if replicates is not None and not 1 <= replicates <= MAX_REPLICATES:
        raise ConfigError("command line", "--replicates", f"expected 1 to {MAX_REPLICATES:,}, got {replicates}")
    if seed is not None and not 0 <= seed < SEED_LIMIT:
        raise ConfigError("command line", "--seed", f"expected a whole number from 0 to 2**63-1, got {seed}")
    path = Path(path)
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(path, "", f"expected a mapping of scenario keys, found {type(raw).__name__}")
    try:
        written = ScenarioFile.model_validate(raw)
    except ValidationError as error:
        raise config_error(error, ScenarioFile, _Origins(path).locate) from None
    if written.end < written.start:
        raise ConfigError(path, "end", f"expected a year from start ({written.start}) on, got {written.end}")
    if written.end - written.start + 1 > MAX_YEARS:
        raise ConfigError(path, "end", f"at most {MAX_YEARS} years in one run")
    start, end = years or (written.start, written.end)
    if not written.start <= start <= end <= written.end:
        raise ConfigError(
            path, "start", f"the years {start}-{end} asked for lie outside the scenario's {written.start}-{written.end}"
        )

    try:
        base_path = (path.parent / written.base).resolve()
        found = base_path.is_file()
    except (OSError, ValueError, RuntimeError) as error:  # a NUL character, a name too long, a symlink loop
        raise ConfigError(
            path, "base", f"expected the path of a configuration file, got {written.base!r} ({error})"
        ) from None
    if not found:
        try:
            regular_file(base_path)  # says what it is instead: not found, a folder, a device (/dev/zero), a FIFO
        except ConfigError as problem:
            raise ConfigError(path, "base", f"expected a configuration file (relative to the scenario); "
                                            f"{base_path}: {problem.message}") from None
    base = read_yaml(base_path)
    if not isinstance(base, dict):
        raise ConfigError(base_path, "", "expected a mapping with dimensions, members and proposals")
    base_events = _events(base.pop("events", []), base_path) if written.base_events else []
    base.pop("events", None)
    _validate(copy.deepcopy(base), _Origins(base_path))  # the base as written, before anything overrides it
    own = [(event, path, f"events[{index}]") for index, event in enumerate(written.events)]
    for event, _, where in own:
        if not written.start <= event.year <= written.end:
            raise ConfigError(
                path, f"{where}.year", f"expected a year from {written.start} to {written.end}, got {event.year}"
            )
    command_line: list[Layer] = [
                    ("command line", "--rule", {"rules.decision": rule} if rule else {}),
                    ("command line", "--bargaining", {"rules.bargaining": bargaining} if bargaining else {}),
                    ("command line", "--fixed-parameters", FIXED_PARAMETERS if fixed_parameters else {}),
                    ("command line", "--set", overrides or {})]
    scenario_set = [(path, "set", written.set),
                    (path, "rule:", {"rules.decision": written.rule} if written.rule else {})]

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

    chosen = agenda if agenda is not None else written.agenda
    _check_agenda(chosen, first, path, range(written.start, written.end + 1))
    _check_tabled(chosen, timeline, path, range(start, end + 1))
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
        name=written.name,
        description=written.description,
        path=path,
        start=start,
        end=end,
        replicates=replicates if replicates is not None else written.replicates,
        seed=seed if seed is not None else written.seed,
        agenda=in_play,
        timeline=timeline,
        events=tuple(applied),
        source=raw,
        digest=(digest := file_sha256(path)),
        schedule=schedule,
        sources={str(path.resolve()): digest, str(base_path): file_sha256(base_path)},
    )


Layer = tuple[Path | str, str, dict[str, Any]]  # (file, key label, {dotted path: value})


def _apply(tree: dict[str, Any], origins: _Origins, layers: Sequence[Layer]) -> None:
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
            events.append((validated(Event, item, file), file, f"events[{index}]"))
        except ConfigError as problem:
            raise ConfigError(file, f"events[{index}].{problem.key}".rstrip("."), problem.message) from None
    return events


def _check_agenda(
    agenda: list[str] | dict[int, list[str]] | None, config: Configuration, path: Path, years: range
) -> None:
    """Every proposal on the agenda (a list, or lists by year) must be in the configuration, and every year of an
    agenda by year within the scenario's (a proposal scheduled for a year the run never reaches would vanish)."""
    by_year = {} if agenda is None else {0: agenda} if isinstance(agenda, list) else agenda
    for year, codes in by_year.items():
        if year and year not in years:
            raise ConfigError(path, f"agenda.{year}",
                              f"expected a year from {years.start} to {years.stop - 1} (the scenario's), got {year}")
        for code in codes:
            if code not in config.proposals:
                key = f"agenda.{year}.{code}" if year else f"agenda.{code}"
                known = ", ".join(sorted(config.proposals))
                raise ConfigError(path, key, f"unknown proposal '{code}' (expected one of: {known})")


def _check_tabled(agenda: list[str] | dict[int, list[str]] | None, timeline: dict[int, Configuration], path: Path,
                  years: range) -> None:
    """Every proposal on a written agenda must be tabled (its ``tabled`` years, in the configuration in force) in a
    year the run decides it: one of the run's years (an agenda list), or its own (an agenda by year, within the
    run). Otherwise it would never come up, and vanish from the output without a word. Without an agenda every
    proposal of the configuration is in play, and one never tabled in the run's years is simply not decided."""
    by_year = {} if agenda is None else {0: agenda} if isinstance(agenda, list) else agenda
    for year, codes in by_year.items():
        if year and year not in years:
            continue  # a year of the scenario the run does not reach (a case's or an explanation's narrower years)
        when = [year] if year else years
        for code in codes:
            if not any(in_force(timeline, y).proposals[code].is_tabled(y) for y in when):
                tabled = in_force(timeline, when[0]).proposals[code].tabled
                said = f"{tabled.start} to {tabled.end}" if isinstance(tabled, Tabled) else \
                    ", ".join(map(str, tabled or []))
                expected = (f"in {year}" if year else f"in {years.start}" if len(years) == 1 else
                            f"in a year from {years.start} to {years.stop - 1} (the run's)")
                raise ConfigError(path, f"agenda.{year}.{code}" if year else f"agenda.{code}",
                                  f"expected a proposal tabled {expected}, got one tabled "
                                  f"{f'only in {said}' if said else 'in no year'} (proposals.{code}.tabled)")


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
