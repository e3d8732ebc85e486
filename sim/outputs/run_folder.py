"""A run's folder, written and read here alone.

| file | what |
| --- | --- |
| ``outcomes.parquet`` | the tidy table: one row per replicate x year x proposal on the agenda |
| ``summary.csv`` | per proposal: probability adopted by the end of the run, with its interval; share carried out |
| ``stances.csv`` | per proposal and member: shares of the decisions it objected to, and so on |
| ``by_year.csv`` | per proposal and year: probability adopted that year, share in force, share of it carried out |
| ``cohesion.csv`` | per year: how far apart the voters are on what was decided, and how often they objected |
| ``summary.txt`` | what the run printed |
| ``metadata.json`` | what reproduces the run: the scenario, the configuration each year, seeds (:mod:`.metadata`) |
| ``figures/`` | the figures (:mod:`sim.outputs.figures`) |
| ``report.html`` | the HTML report, once made (:mod:`sim.outputs.html`) |

A run is written into a hidden folder and put in place when complete, so an interrupted run leaves nothing
half-written; an earlier run replaced with ``--force`` stays under the name until then (:mod:`sim.core.files`).
The folder also holds sco-sim's marker (``.sco-sim.json``, kind ``run``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import pandas as pd

from ..core import files
from ..core.errors import ConfigError
from ..core.files import default_folder, manifest_says_sco_sim, staged_folder
from ..core.records import Record
from ..inputs.configuration import Configuration
from ..inputs.scenario import Scenario, in_force
from ..model.tables import Aggregates, cohesion, outcome_table
from .metadata import METADATA, metadata, resolved, write_metadata

OUTCOMES = "outcomes.parquet"
SUMMARY = "summary.csv"
STANCES = "stances.csv"
BY_YEAR = "by_year.csv"
COHESION = "cohesion.csv"
PRINTED = "summary.txt"
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
        write_metadata(staging / METADATA, metadata(scenario, argv))


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
        self.configurations = configurations = resolved(self.metadata["configuration"])
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
