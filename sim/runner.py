"""Run a scenario: its replicates in batches, each batch one Mesa model advancing all of them at once."""

from __future__ import annotations

import platform
import sys
from datetime import UTC, datetime
from typing import Any

import mesa
import numpy as np

from . import __version__
from .model import SCOModel
from .results import Record
from .scenario import Scenario

#: Replicates one model advances at once; bounds memory (about 2 KB per replicate and proposal).
BATCH = 50_000


def simulate(scenario: Scenario, batch: int = BATCH) -> list[Record]:
    """Every decision of the scenario in every replicate. The numbers do not depend on ``batch``."""
    merged: list[Record] | None = None
    for start in range(0, scenario.replicates, batch):
        records = SCOModel(scenario, range(start, min(start + batch, scenario.replicates))).run()
        merged = records if merged is None else [_concat(a, b) for a, b in zip(merged, records, strict=True)]
    return merged or []


def _concat(a: Record, b: Record) -> Record:
    """Two batches' records of the same decision, as one."""
    assert (a.year, a.proposal, a.actors) == (b.year, b.proposal, b.actors)
    arrays = {name: np.concatenate([getattr(a, name), getattr(b, name)])
              for name in ("replicates", "status", "ambition", "route", "stance", "initial_stance", "side_payment")}
    return Record(year=a.year, proposal=a.proposal, actors=a.actors, **arrays)


def metadata(scenario: Scenario, argv: list[str]) -> dict[str, Any]:
    """Everything needed to reproduce a run: the scenario as written, the resolved configuration, seeds, versions."""
    return {
        "scenario": {"file": str(scenario.path), "sha256": scenario.digest, "name": scenario.name, "as_written": scenario.source},
        "seed": scenario.seed,
        "replicates": scenario.replicates,
        "years": [scenario.start, scenario.end],
        "agenda": list(scenario.agenda),
        "events": [event.model_dump(mode="json") for event in scenario.events],
        "configuration": {str(year): config.model_dump(mode="json", by_alias=True) for year, config in scenario.timeline.items()},
        "command": argv,
        "versions": {"sco-sim": __version__, "python": platform.python_version(), "numpy": np.__version__, "mesa": mesa.__version__},
        "platform": sys.platform,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
