"""The tables a run's records make: the tidy table of decisions, and the aggregates over replicates.

The tidy table has one row per replicate x year x tabled proposal. The aggregates give, per
proposal, the probability it is adopted by the end of the run (with a 95% Wilson interval), the
mean adopted ambition, how it was adopted, how far what was adopted is carried out (the mean
implementation of the replicates that adopted it, sim.model.implementation), how often its
sponsor took it outside the SCO, and how often each member objected, made a reservation or stood aside.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..core.engine import Route, Stance
from ..core.records import Record, Status
from ..core.statistics import Worlds, between_worlds, wilson

#: The tidy table's columns, in order.
COLUMNS = ["replicate", "year", "proposal", "status", "ambition", "route", "objectors", "reservations",
           "stood_aside", "participants", "initial_objectors", "side_payment", "implementation"]


def _names(values: NDArray[np.integer], enum: type[IntEnum]) -> pd.Categorical[str]:
    """Enum codes as a categorical of lower-case names ('' for codes outside the enum, e.g. -1)."""
    labels = ["", *(item.name.lower() for item in enum)]
    codes = {-1: 0} | {int(item): i + 1 for i, item in enumerate(enum)}
    lookup = np.zeros(max(codes) + 2, dtype=np.int8)
    for code, position in codes.items():
        lookup[code] = position
    return pd.Categorical.from_codes(lookup[values.astype(np.int64)], pd.Index(labels))


def _who(stance: NDArray[np.int8], actors: tuple[str, ...], wanted: tuple[Stance, ...]) -> pd.Categorical[str]:
    """For each row, the members holding one of the ``wanted`` stances, as 'a;b;c'.

    Rows are grouped by their pattern first, so each distinct list of members is joined once.
    """
    mask = np.isin(stance, wanted)
    if mask.shape[1] <= 63:
        keys = mask.astype(np.uint64) @ (np.uint64(1) << np.arange(mask.shape[1], dtype=np.uint64))
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        patterns = mask[first]
    else:
        patterns, inverse = np.unique(mask, axis=0, return_inverse=True)
    labels = [";".join(a for a, on in zip(actors, row, strict=True) if on) for row in patterns]
    unique_labels = list(dict.fromkeys(labels))
    position = np.array([unique_labels.index(label) for label in labels], dtype=np.int64)
    return pd.Categorical.from_codes(position[inverse.reshape(-1)], pd.Index(unique_labels))


def outcome_table(records: list[Record]) -> pd.DataFrame:
    """The tidy table: one row per replicate x year x proposal put on the agenda (or offered in a package)."""
    frames: list[pd.DataFrame] = []
    for r in records:
        decided = Status.decided(r.status)
        adopted = r.status == Status.ADOPTED
        participants = _who(
            np.where(adopted[:, None], r.stance, Stance.ABSENT), r.actors, (Stance.SUPPORT, Stance.RESERVATION)
        )
        initial = np.where(decided[:, None], r.initial_stance, Stance.ABSENT)
        proposal = pd.Categorical.from_codes(np.zeros(r.replicates.size, dtype=np.int8), pd.Index([r.proposal]))
        frames.append(
            pd.DataFrame(
                {
                    "replicate": r.replicates,
                    "year": np.full(r.replicates.size, r.year, dtype=np.int16),
                    "proposal": proposal,
                    "status": _names(r.status, Status),
                    "ambition": r.ambition,
                    "route": _names(r.route, Route),
                    "objectors": _who(r.stance, r.actors, (Stance.OBJECTION,)),
                    "reservations": _who(r.stance, r.actors, (Stance.RESERVATION,)),
                    "stood_aside": _who(r.stance, r.actors, (Stance.STAND_ASIDE,)),
                    "participants": participants,
                    "initial_objectors": _who(initial, r.actors, (Stance.OBJECTION,)),
                    "side_payment": r.side_payment,
                    "implementation": r.implementation,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    table = pd.concat(frames, ignore_index=True)
    for column, kind in frames[0].dtypes.items():
        if isinstance(kind, pd.CategoricalDtype):
            table[column] = table[column].astype("category")  # concat of differing categories gives object
    return table


@dataclass(frozen=True)
class Aggregates:
    """The run's aggregate tables."""

    summary: pd.DataFrame  # per proposal
    stances: pd.DataFrame  # per proposal x member
    by_year: pd.DataFrame  # per proposal x year


def aggregate(records: list[Record], names: dict[str, str], world_size: int | None = None) -> Aggregates:
    """Aggregate the records over replicates.

    ``world_size``: the replicates of each world, where each world draws its own reading of the coded numbers
    (:mod:`sim.model.worlds`); the summary then splits the probability's uncertainty into the spread across worlds
    (``sd_parameters``, ``share_parameters``) and the Monte Carlo error (the interval, widened by the design effect
    of replicates that share a world). None where every replicate reads the numbers as written: no spread, and
    the interval is Wilson's on independent replicates.
    """
    summary, stances, by_year = [], [], []
    for code in dict.fromkeys(r.proposal for r in records):
        mine = [r for r in records if r.proposal == code]
        n = mine[0].replicates.size
        adopted = np.stack([r.status == Status.ADOPTED for r in mine])  # (years, R)
        ever = adopted.any(axis=0)
        first = adopted.argmax(axis=0)
        ambition = np.stack([r.ambition for r in mine])[first, np.arange(n)]
        route = np.stack([r.route for r in mine])[first, np.arange(n)]
        if world_size is None:
            split, (low, high) = Worlds(0.0, 0.0, float(n)), wilson(ever.sum(), n)
        else:
            split = between_worlds(ever, mine[0].replicates // world_size)
            low, high = wilson(ever.mean() * split.effective_n, split.effective_n)
        row = {"proposal": code, "name": names.get(code, code), "replicates": n, "p_adopted": ever.mean(),
               "ci_low": float(low), "ci_high": float(high),
               "sd_parameters": split.sd_parameters, "share_parameters": split.share_parameters,
               "mean_ambition": float(ambition[ever].mean()) if ever.any() else float("nan")}
        for item in (Route.AS_PROPOSED, Route.LOWERED, Route.SIDE_PAYMENT, Route.PACKAGE):
            row[f"share_{item.name.lower()}"] = float((ever & (route == item)).sum() / n)
        elsewhere = np.stack([r.status == Status.ELSEWHERE for r in mine])  # (years, R)
        row["p_elsewhere"] = float(elsewhere.any(axis=0).mean())  # its sponsor took it outside the SCO in some year
        row["implemented"], row["implemented_year"] = _implemented(mine[-1]), mine[-1].year
        summary.append(row)

        decided = np.concatenate([Status.decided(r.status) for r in mine])
        actors = mine[-1].actors
        for actor in actors:  # deciders only grow, so the last year names them all
            final = np.concatenate([_column(r, r.stance, actor) for r in mine])[decided]
            initial = np.concatenate([_column(r, r.initial_stance, actor) for r in mine])[decided]
            voted = final != Stance.ABSENT
            if not voted.any():
                continue
            # shares of the decisions the member took part in (not those before it joined)
            final, initial = final[voted], initial[voted]
            stances.append({"proposal": code, "member": actor,
                            "decisions": int(decided.sum()), "voted": int(voted.sum()),
                            "objected": float((final == Stance.OBJECTION).mean()),
                            "reservation": float((final == Stance.RESERVATION).mean()),
                            "stood_aside": float((final == Stance.STAND_ASIDE).mean()),
                            "initially_objected": float((initial == Stance.OBJECTION).mean())})
        in_force = np.zeros(n, dtype=bool)
        for r, now, away in zip(mine, adopted, elsewhere, strict=True):
            decided_now = Status.decided(r.status)
            spread, objected = _cohesion(r, decided_now)
            low, high = wilson(now.sum(), max(int(decided_now.sum()), 1))
            in_force |= now
            by_year.append({"proposal": code, "year": r.year, "decided": int(decided_now.sum()),
                            "p_adopted": float(now.sum() / max(int(decided_now.sum()), 1)),
                            "ci_low": float(low), "ci_high": float(high),
                            "mean_ambition": float(r.ambition[now].mean()) if now.any() else float("nan"),
                            "in_force": float(in_force.mean()), "implemented": _implemented(r),
                            "elsewhere": float(away.mean()), "spread": spread, "objected": objected})
    return Aggregates(pd.DataFrame(summary), pd.DataFrame(stances), pd.DataFrame(by_year))


def _cohesion(record: Record, decided: NDArray[np.bool_]) -> tuple[float, float]:
    """A proposal's cohesion in one year, over the replicates that decided it: the mean spread of the voters'
    preferred ambitions (:func:`sim.model.model.spread`; NaN where decided only in a package), and the share of the
    voters' stances at the final offer that were objections."""
    spreads = record.spread[decided]
    spread = float(np.nanmean(spreads)) if np.isfinite(spreads).any() else float("nan")
    stance = record.stance[decided]
    voting = (stance != Stance.ABSENT).sum()
    return spread, float((stance == Stance.OBJECTION).sum() / voting) if voting else float("nan")


def cohesion(by_year: pd.DataFrame) -> pd.DataFrame:
    """The organisation's cohesion each year (issue 19), from the by-year table: over the proposals decided that year,
    weighted by how many replicates decided each, the mean spread of the voters' preferred ambitions (0: all want the
    same; higher: further apart) and the share of the voters' stances that were objections. A rise in spread when
    members join is expansion diluting cohesion; how often texts are emptied to pass is the share of adoptions
    lowered below what was tabled (``share_lowered`` in the summary)."""
    rows = []
    for year in sorted(set(by_year["year"])):
        group = by_year[by_year["year"] == year]
        weight = group["decided"].to_numpy(dtype=float)
        row: dict[str, float] = {"year": int(year), "proposals_decided": int((weight > 0).sum())}
        for column in ("spread", "objected"):
            values = group[column].to_numpy(dtype=float) if column in group else np.full(len(group), np.nan)
            ok = np.isfinite(values) & (weight > 0)
            row[column] = float(np.average(values[ok], weights=weight[ok])) if ok.any() else float("nan")
        rows.append(row)
    return pd.DataFrame(rows, columns=["year", "proposals_decided", "spread", "objected"])


def _implemented(record: Record) -> float:
    """How far what was adopted by the record's year is carried out then: the mean implementation of the replicates
    in which it was adopted (NaN where it was adopted in none)."""
    done = record.implementation[~np.isnan(record.implementation)]
    return float(done.mean()) if done.size else float("nan")


def _column(record: Record, stance: NDArray[np.int8], actor: str) -> NDArray[np.int8]:
    """One actor's stances in a record, ABSENT if the actor was not in the model that year."""
    if actor not in record.actors:
        return np.full(record.replicates.size, Stance.ABSENT, dtype=np.int8)
    return stance[:, record.actors.index(actor)]
