"""A run's folder, written and read here alone.

| file | what |
| --- | --- |
| ``outcomes.parquet`` | the tidy table: one row per replicate x year x proposal on the agenda |
| ``summary.csv`` | per proposal: probability adopted by the end of the run, with its interval; share carried out |
| ``stances.csv`` | per proposal and member: shares of the decisions it objected to, and so on |
| ``by_year.csv`` | per proposal and year: probability adopted that year, share in force, share of it carried out |
| ``cohesion.csv`` | per year: how far apart the voters are on what was decided, and how often they objected |
| ``summary.txt`` | what the run printed |
| ``metadata.json`` | the scenario as written, the configuration (the first year's, then its changes), seeds, versions |
| ``figures/`` | the figures (:mod:`sim.outputs.figures`) |
| ``report.html`` | the HTML report, once made (:mod:`sim.outputs.html`) |

A run is written into a hidden folder and put in place when complete, so an interrupted run leaves nothing
half-written; an earlier run replaced with ``--force`` stays under the name until then (:mod:`sim.core.files`).
The folder also holds sco-sim's marker (``.sco-sim.json``, kind ``run``).

``metadata.json``'s ``configuration`` holds, by year, the configuration in force from that year on: the first year's
in full, each later one as what changed in it (:func:`_changes`), so that a scenario that expands through its
aliases is copied once, not once a year. Folders written before issue 29 hold every year's in full; both are read
the same way (:func:`_resolved`), since a configuration in full is also what changed.
"""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..core import files
from ..core.errors import ConfigError
from ..core.files import default_folder, manifest_says_sco_sim, staged_folder
from ..core.records import Record
from ..core.vocabulary import MAX_METADATA_BYTES
from ..inputs.configuration import Configuration
from ..inputs.scenario import Scenario, in_force
from ..model.tables import Aggregates, cohesion, outcome_table

OUTCOMES = "outcomes.parquet"
SUMMARY = "summary.csv"
STANCES = "stances.csv"
BY_YEAR = "by_year.csv"
COHESION = "cohesion.csv"
PRINTED = "summary.txt"
METADATA = "metadata.json"
REPORT = "report.html"


@contextmanager
def claim(out: Path | None, scenario: Scenario, force: bool, argv: list[str]) -> Iterator[Path]:
    """The folder a run of ``scenario`` writes to, held (locked) while the block runs: ``out`` (refused if it holds
    results, unless ``force``, and then only if sco-sim wrote them), or a new one under results/."""
    folder = default_folder(scenario.name) if out is None else out
    with files.claim(folder, force, argv, legacy=written_by_sco_sim):
        yield folder


def written_by_sco_sim(folder: Path) -> bool:
    """Whether ``folder``, without a marker, holds a run or a sweep an earlier version wrote (its metadata or its
    manifest names sco-sim's version)."""
    from ..experiments import sweep_folder  # a run may replace an earlier sweep as well as an earlier run

    return manifest_says_sco_sim(folder / METADATA, ("versions", "sco-sim")) or sweep_folder.written_by_sco_sim(folder)


def metadata(scenario: Scenario, argv: list[str]) -> dict[str, Any]:
    """Everything needed to reproduce a run: the scenario as written, the configuration in force each year as it was
    resolved (:func:`_recorded`), seeds, versions."""
    import mesa  # here, not above: what reads a run's folder (figures; a sweep's parent draws them) needs no Mesa

    return {
        "scenario": {"file": str(scenario.path), "sha256": scenario.digest, "name": scenario.name,
                     "as_written": scenario.source},
        "seed": scenario.seed,
        "replicates": scenario.replicates,
        "years": [scenario.start, scenario.end],
        "agenda": list(scenario.agenda),
        "events": [event.model_dump(mode="json") for event in scenario.events],
        "configuration": _recorded(scenario.timeline),
        "command": argv,
        "versions": {"sco-sim": __version__, "python": platform.python_version(), "numpy": np.__version__,
                     "mesa": mesa.__version__},
        "platform": sys.platform,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _recorded(timeline: dict[int, Configuration]) -> dict[str, dict[str, Any]]:
    """The configuration by the year it took effect, as metadata.json holds it: the first in full, each later one as
    what changed since the year before."""
    written: dict[str, dict[str, Any]] = {}
    before: dict[str, Any] | None = None
    for year in sorted(timeline):
        config = timeline[year].model_dump(mode="json", by_alias=True)
        written[str(year)] = config if before is None else _changes(before, config)
        before = config
    return written


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What differs in ``after`` from ``before``, nested as they are: under a key whose value is a mapping in both,
    what changed in it; under any other key, the new value. Merged onto ``before`` (:func:`_merged`), it gives
    ``after``: the loader only sets and merges (as a scenario's ``set`` does), so no key is ever removed."""
    if before.keys() - after.keys():
        raise ValueError(f"keys removed from a later year's configuration: {sorted(before.keys() - after.keys())}")
    changed: dict[str, Any] = {}
    for key, value in after.items():
        old = before.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            if inner := _changes(old, value):
                changed[key] = inner
        elif key not in before or value != old:
            changed[key] = value
    return changed


def _merged(before: dict[str, Any], changed: dict[str, Any]) -> dict[str, Any]:
    """``before`` with ``changed`` merged in (a mapping onto a mapping key by key; anything else replaces), as a new
    mapping that shares what did not change."""
    result = dict(before)
    for key, value in changed.items():
        old = result.get(key)
        result[key] = _merged(old, value) if isinstance(value, dict) and isinstance(old, dict) else value
    return result


def _resolved(configurations: dict[str, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Each year's configuration in full, from metadata.json's (what changed each year, or, in a folder written
    before issue 29, every year's in full)."""
    full: dict[int, dict[str, Any]] = {}
    before: dict[str, Any] = {}
    for year in sorted(configurations, key=int):
        full[int(year)] = before = _merged(before, configurations[year])
    return full


def check_size(scenario: Scenario, argv: list[str]) -> None:
    """Refuse, before it runs, a run whose metadata.json would be larger than :data:`MAX_METADATA_BYTES` (a scenario
    whose aliases expand to megabytes of text), counted without holding the text."""
    size = 0
    for chunk in _encoder().iterencode(metadata(scenario, argv)):
        size += len(chunk)  # ASCII: every other character is escaped
        if size > MAX_METADATA_BYTES:
            raise ConfigError(scenario.path, "", f"its run's {METADATA} would be more than {MAX_METADATA_BYTES:,} "
                                                 "bytes (the scenario as written and its configuration, each alias "
                                                 f"written out in full); at most {MAX_METADATA_BYTES:,}")


def _encoder() -> json.JSONEncoder:
    """metadata.json's encoder: indented, in ASCII (a path that is not text keeps its escapes)."""
    return json.JSONEncoder(indent=2, default=str, ensure_ascii=True)


def write(out: Path, scenario: Scenario, records: list[Record], aggregates: Aggregates, printed: str, argv: list[str],
          replace: bool = False) -> None:
    """Write every file of a run into ``out`` at once; with ``replace``, an earlier run there stays under the name
    until the new one is complete, and is then swapped out in one step."""
    with staged_folder(out, replace=replace, kind="run") as staging:
        with (staging / OUTCOMES).open("wb") as file:  # opened here: Arrow opens only paths that are UTF-8 text
            outcome_table(records).to_parquet(file, index=False)
        aggregates.summary.to_csv(staging / SUMMARY, index=False)
        aggregates.stances.to_csv(staging / STANCES, index=False)
        aggregates.by_year.to_csv(staging / BY_YEAR, index=False)
        cohesion(aggregates.by_year).to_csv(staging / COHESION, index=False)
        (staging / PRINTED).write_text(printed + "\n", encoding="utf-8")
        with (staging / METADATA).open("w", encoding="utf-8") as file:  # streamed: never the whole text at once
            for chunk in _encoder().iterencode(metadata(scenario, argv)):
                file.write(chunk)
            file.write("\n")


def is_run(folder: Path) -> bool:
    """Whether ``folder`` holds a run (it has the run's metadata)."""
    return (folder / METADATA).is_file()


class RunResults:
    """The files of a run, read once."""

    def __init__(self, folder: Path) -> None:
        if not is_run(folder):
            raise ConfigError(folder, "", f"not a run folder (expected {METADATA})")
        self.folder = folder
        self.metadata = json.loads((folder / METADATA).read_text(encoding="utf-8"))
        self.summary = pd.read_csv(folder / SUMMARY)
        self.stances = pd.read_csv(folder / STANCES)
        self.by_year = pd.read_csv(folder / BY_YEAR)
        with (folder / OUTCOMES).open("rb") as file:  # as it was written: Arrow opens only paths that are UTF-8 text
            self.outcomes = pd.read_parquet(file, columns=["replicate", "year", "proposal", "status",
                                                           "initial_objectors"])
        #: the configuration in force from each year on, in full, as metadata.json's mappings
        self.configurations = configurations = _resolved(self.metadata["configuration"])
        self.members = {code: m["name"] for c in configurations.values() for code, m in c["members"].items()}
        self.proposals = {code: p["name"] for c in configurations.values() for code, p in c["proposals"].items()}
        first = configurations[min(configurations)]
        self.rule = first["rules"]["decision"].replace("_", " ")
        self.bargaining = first["rules"].get("bargaining", "veto")  # folders written before issue 18 have none
        self.name = self.metadata["scenario"]["name"]
        self.replicates = int(self.metadata["replicates"])

    @property
    def title(self) -> str:
        """What every figure's title names: the scenario, the rule and the bargaining mechanism."""
        return f"Scenario {self.name}, rule {self.rule}, bargaining {self.bargaining}, {self.replicates:,} replicates"

    @cached_property
    def timeline(self) -> dict[int, Configuration]:
        """The configuration in force from each year on, as the run resolved it."""
        return {year: Configuration.model_validate(config) for year, config in self.configurations.items()}

    def configuration(self, year: int) -> Configuration:
        """The configuration in force in ``year``."""
        return in_force(self.timeline, year)
