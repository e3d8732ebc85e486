"""A run's ``metadata.json``: everything needed to reproduce the run, written and read here alone.

It holds the scenario as written (and its SHA-256), the seed, the replicates, the years, the agenda, the events, the
command, the versions, and ``configuration``: by year, the configuration in force from that year on, the first
year's in full and each later one as what changed in it (:func:`changes`), so that a scenario that expands through
its aliases is copied once, not once a year. Folders written before issue 29 hold every year's in full; both are
read the same way (:func:`resolved`), since a configuration in full is also what changed. A run whose metadata
would pass :data:`~sim.core.vocabulary.MAX_METADATA_BYTES` is refused before it runs (:func:`check_size`).

This module needs neither pandas nor Mesa, so that ``check`` refuses what ``run`` would and still starts fast.
"""

from __future__ import annotations

import json
import platform
import sys
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..core.errors import ConfigError
from ..core.vocabulary import MAX_METADATA_BYTES
from ..inputs.configuration import Configuration
from ..inputs.scenario import Scenario

METADATA = "metadata.json"
#: metadata.json's encoder: indented, in ASCII (a path that is not text keeps its escapes).
_ENCODER = json.JSONEncoder(indent=2, default=str, ensure_ascii=True)


def metadata(scenario: Scenario, argv: list[str]) -> dict[str, Any]:
    """Everything needed to reproduce a run: the scenario as written, the configuration in force each year as it was
    resolved (:func:`recorded`), seeds, versions."""
    return {
        "scenario": {"file": str(scenario.path), "sha256": scenario.digest, "name": scenario.name,
                     "as_written": scenario.source},
        "seed": scenario.seed,
        "replicates": scenario.replicates,
        "years": [scenario.start, scenario.end],
        "agenda": list(scenario.agenda),
        "events": [event.model_dump(mode="json") for event in scenario.events],
        "configuration": recorded(scenario.timeline),
        "command": argv,
        "versions": {"sco-sim": __version__, "python": platform.python_version(), "numpy": np.__version__,
                     "mesa": version("mesa")},
        "platform": sys.platform,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def recorded(timeline: dict[int, Configuration]) -> dict[str, dict[str, Any]]:
    """The configuration by the year it took effect, as metadata.json holds it: the first in full, each later one as
    what changed since the year before."""
    written: dict[str, dict[str, Any]] = {}
    before: dict[str, Any] | None = None
    for year in sorted(timeline):
        config = timeline[year].model_dump(mode="json", by_alias=True)
        written[str(year)] = config if before is None else changes(before, config)
        before = config
    return written


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What differs in ``after`` from ``before``, nested as they are: under a key whose value is a mapping in both,
    what changed in it; under any other key, the new value. Merged onto ``before`` (:func:`merged`), it gives
    ``after``: the loader only sets and merges (as a scenario's ``set`` does), so no key is ever removed."""
    if before.keys() - after.keys():
        raise ValueError(f"keys removed from a later year's configuration: {sorted(before.keys() - after.keys())}")
    changed: dict[str, Any] = {}
    for key, value in after.items():
        old = before.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            if inner := changes(old, value):
                changed[key] = inner
        elif key not in before or value != old:
            changed[key] = value
    return changed


def merged(before: dict[str, Any], changed: dict[str, Any]) -> dict[str, Any]:
    """``before`` with ``changed`` merged in (a mapping onto a mapping key by key; anything else replaces), as a new
    mapping that shares what did not change."""
    result = dict(before)
    for key, value in changed.items():
        old = result.get(key)
        result[key] = merged(old, value) if isinstance(value, dict) and isinstance(old, dict) else value
    return result


def resolved(configurations: dict[str, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Each year's configuration in full, from metadata.json's (what changed each year, or, in a folder written
    before issue 29, every year's in full)."""
    full: dict[int, dict[str, Any]] = {}
    before: dict[str, Any] = {}
    for year in sorted(configurations, key=int):
        full[int(year)] = before = merged(before, configurations[year])
    return full


def check_size(scenario: Scenario, argv: list[str]) -> None:
    """Refuse, before it runs, a run whose metadata.json would be larger than :data:`MAX_METADATA_BYTES` (a scenario
    whose aliases expand to megabytes of text), counted without holding the text."""
    size = 0
    for chunk in _ENCODER.iterencode(metadata(scenario, argv)):
        size += len(chunk)  # ASCII: every other character is escaped
        if size > MAX_METADATA_BYTES:
            raise ConfigError(scenario.path, "", f"its run's {METADATA} would be more than {MAX_METADATA_BYTES:,} "
                                                 "bytes (the scenario as written and its configuration, each alias "
                                                 f"written out in full); at most {MAX_METADATA_BYTES:,}")


def write_metadata(path: Path, document: dict[str, Any]) -> None:
    """Write ``document`` (:func:`metadata`) to ``path``, streamed: never the whole text at once."""
    with path.open("w", encoding="utf-8") as file:
        for chunk in _ENCODER.iterencode(document):
            file.write(chunk)
        file.write("\n")
