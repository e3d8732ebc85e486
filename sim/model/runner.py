"""Run a scenario: its replicates in batches, each batch one Mesa model advancing all of them at once."""

from __future__ import annotations

import numpy as np

from ..core.records import Record
from ..core.vocabulary import BATCH, WORLD_BATCH
from ..inputs.scenario import Scenario
from .model import SCOModel


def simulate(scenario: Scenario, batch: int | None = None) -> list[Record]:
    """Every decision of the scenario in every replicate. The numbers do not depend on ``batch`` (default: the
    vocabulary's, smaller where each world draws its own numbers)."""
    batch = batch or (BATCH if scenario.world_size is None else WORLD_BATCH)
    merged: list[Record] | None = None
    for start in range(0, scenario.replicates, batch):
        records = SCOModel(scenario, range(start, min(start + batch, scenario.replicates))).run()
        merged = records if merged is None else [_concat(a, b) for a, b in zip(merged, records, strict=True)]
    return merged or []


def _concat(a: Record, b: Record) -> Record:
    """Two batches' records of the same decision, as one."""
    if (a.year, a.proposal, a.actors) != (b.year, b.proposal, b.actors):
        raise ValueError(
            f"cannot join two batches' records of different decisions: {a.proposal} in {a.year} "
            f"and {b.proposal} in {b.year} (or a different set of actors)"
        )
    arrays = {name: np.concatenate([getattr(a, name), getattr(b, name)]) for name in Record.per_replicate()}
    return Record(year=a.year, proposal=a.proposal, actors=a.actors, **arrays)
