"""The decision record: what the model records of one proposal decided in one year, in every replicate."""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray


class Status(IntEnum):
    """What became of a tabled proposal in one replicate and year."""

    ADOPTED = 0
    BLOCKED = 1
    WITHDRAWN = 2
    IN_FORCE = 3  # adopted in an earlier year: not decided again
    NOT_DECIDED = 4  # not put to a decision: a linked proposal whose package was not offered, or a moot accession
    NOT_TABLED = 5  # its sponsor let it rest this year (sim.model.sponsors)
    ELSEWHERE = 6  # its sponsor pursued it outside the SCO this year (sim.model.sponsors, forum choice)

    @classmethod
    def decided(cls, status: NDArray[np.int8]) -> NDArray[np.bool_]:
        """Where the proposal was put to a decision (adopted, blocked or withdrawn)."""
        return status <= cls.WITHDRAWN


@dataclass(frozen=True)
class Record:
    """The decisions on one proposal in one year: arrays over the replicates (R) and the deciders (N).

    The fields after ``replicates`` are what the model reports of each decision; its reporters
    (:data:`sim.model.model.REPORTERS`) compute them, one reporter a field.
    """

    year: int
    proposal: str
    actors: tuple[str, ...]  # the deciders, in the order of the N axis
    replicates: NDArray[np.int64]
    status: NDArray[np.int8]  # a Status
    ambition: NDArray[np.float64]  # the adopted ambition; NaN where not adopted
    route: NDArray[np.int8]  # an engine.Route; -1 where not decided
    stance: NDArray[np.int8]  # (R, N) engine.Stance at the final offer
    initial_stance: NDArray[np.int8]  # (R, N) engine.Stance at the proposed ambition
    side_payment: NDArray[np.float64]  # paid by the sponsor where adopted; 0 elsewhere
    implementation: NDArray[np.float64]  # how far it is carried out, in [0, 1], where adopted (0 in the year of its
    # adoption) or in force; NaN elsewhere (sim.model.implementation)
    spread: NDArray[np.float64]  # how far apart the voters' preferred ambitions are (their standard deviation, as a
    # share of the tabled ambition) where put to a decision alone; NaN elsewhere (cohesion, sim.model.tables)

    @classmethod
    def reported(cls) -> tuple[str, ...]:
        """The names of the reported fields, in order."""
        names = [field.name for field in fields(cls)]
        return tuple(names[names.index("replicates") + 1:])

    @classmethod
    def per_replicate(cls) -> tuple[str, ...]:
        """The names of the fields with a replicate axis: ``replicates`` and the reported ones."""
        return ("replicates", *cls.reported())
