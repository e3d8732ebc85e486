"""What a run produces: the tidy table of decisions, the aggregates, and the files on disk.

The tidy table has one row per replicate x year x tabled proposal. The aggregates give, per
proposal, the probability it is adopted by the end of the run (with a 95% Wilson interval), the
mean adopted ambition, how it was adopted, and how often each member objected, made a reservation
or stood aside.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .engine import Route, Stance
from .files import staged_folder

#: z for a two-sided 95% interval
Z95 = 1.959963984540054


class Status(IntEnum):
    """What became of a tabled proposal in one replicate and year."""

    ADOPTED = 0
    BLOCKED = 1
    WITHDRAWN = 2
    IN_FORCE = 3  # adopted in an earlier year: not decided again
    NOT_DECIDED = 4  # not put to a decision: a linked proposal whose package was not offered, or a moot accession


@dataclass(frozen=True)
class Record:
    """The decisions on one proposal in one year, in every replicate (arrays over replicates)."""

    year: int
    proposal: str
    actors: tuple[str, ...]
    replicates: NDArray[np.int64]
    status: NDArray[np.int8]
    ambition: NDArray[np.float64]
    route: NDArray[np.int8]  # -1 where not decided
    stance: NDArray[np.int8]  # (R, N) at the final offer
    initial_stance: NDArray[np.int8]  # (R, N) at the proposed ambition
    side_payment: NDArray[np.float64]


def _names(values: NDArray[np.integer], enum: type[IntEnum]) -> pd.Categorical:
    """Enum codes as a categorical of lower-case names ('' for codes outside the enum, e.g. -1)."""
    labels = ["", *(item.name.lower() for item in enum)]
    codes = {-1: 0} | {int(item): i + 1 for i, item in enumerate(enum)}
    lookup = np.zeros(max(codes) + 2, dtype=np.int8)
    for code, position in codes.items():
        lookup[code] = position
    return pd.Categorical.from_codes(lookup[values.astype(np.int64)], labels)


def _who(stance: NDArray[np.int8], actors: tuple[str, ...], wanted: tuple[Stance, ...]) -> pd.Categorical:
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
    return pd.Categorical.from_codes(position[inverse.reshape(-1)], unique_labels)


def outcome_table(records: list[Record]) -> pd.DataFrame:
    """The tidy table: one row per replicate x year x proposal put on the agenda (or offered in a package)."""
    frames = []
    for r in records:
        decided = r.status <= Status.WITHDRAWN
        adopted = r.status == Status.ADOPTED
        participants = _who(np.where(adopted[:, None], r.stance, Stance.ABSENT), r.actors, (Stance.SUPPORT, Stance.RESERVATION))
        frames.append(
            pd.DataFrame(
                {
                    "replicate": r.replicates,
                    "year": np.full(r.replicates.size, r.year, dtype=np.int16),
                    "proposal": pd.Categorical.from_codes(np.zeros(r.replicates.size, dtype=np.int8), [r.proposal]),
                    "status": _names(r.status, Status),
                    "ambition": r.ambition,
                    "route": _names(r.route, Route),
                    "objectors": _who(r.stance, r.actors, (Stance.OBJECTION,)),
                    "reservations": _who(r.stance, r.actors, (Stance.RESERVATION,)),
                    "stood_aside": _who(r.stance, r.actors, (Stance.STAND_ASIDE,)),
                    "participants": participants,
                    "initial_objectors": _who(np.where(decided[:, None], r.initial_stance, Stance.ABSENT), r.actors, (Stance.OBJECTION,)),
                    "side_payment": r.side_payment,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    table = pd.concat(frames, ignore_index=True)
    for column in ("proposal", "status", "route", "objectors", "reservations", "stood_aside", "participants", "initial_objectors"):
        table[column] = table[column].astype("category")  # concat of differing categories gives object
    return table


COLUMNS = ["replicate", "year", "proposal", "status", "ambition", "route", "objectors", "reservations",
           "stood_aside", "participants", "initial_objectors", "side_payment"]


def wilson(successes: NDArray | int, trials: NDArray | int, z: float = Z95) -> tuple[NDArray, NDArray]:
    """Wilson score interval for a binomial proportion (sound near 0 and 1, unlike p +/- z*se)."""
    k, n = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    # exact at the edges: rounding would otherwise put the bound just inside p = 0 or 1
    return np.where(k == 0, 0.0, centre - half), np.where(k == n, 1.0, centre + half)


@dataclass(frozen=True)
class Aggregates:
    """The run's aggregate tables."""

    summary: pd.DataFrame  # per proposal
    stances: pd.DataFrame  # per proposal x member
    by_year: pd.DataFrame  # per proposal x year


def aggregate(records: list[Record], names: dict[str, str]) -> Aggregates:
    """Aggregate the records over replicates."""
    summary, stances, by_year = [], [], []
    for code in dict.fromkeys(r.proposal for r in records):
        mine = [r for r in records if r.proposal == code]
        n = mine[0].replicates.size
        adopted = np.stack([r.status == Status.ADOPTED for r in mine])  # (years, R)
        ever = adopted.any(axis=0)
        first = adopted.argmax(axis=0)
        ambition = np.stack([r.ambition for r in mine])[first, np.arange(n)]
        route = np.stack([r.route for r in mine])[first, np.arange(n)]
        low, high = wilson(ever.sum(), n)
        row = {"proposal": code, "name": names.get(code, code), "replicates": n, "p_adopted": ever.mean(),
               "ci_low": float(low), "ci_high": float(high),
               "mean_ambition": float(ambition[ever].mean()) if ever.any() else float("nan")}
        for item in (Route.AS_PROPOSED, Route.LOWERED, Route.SIDE_PAYMENT, Route.PACKAGE):
            row[f"share_{item.name.lower()}"] = float((ever & (route == item)).sum() / n)
        summary.append(row)

        decided = np.concatenate([r.status <= Status.WITHDRAWN for r in mine])
        actors = mine[-1].actors
        for actor in actors:  # deciders only grow, so the last year names them all
            final = np.concatenate([_column(r, r.stance, actor) for r in mine])[decided]
            initial = np.concatenate([_column(r, r.initial_stance, actor) for r in mine])[decided]
            voted = final != Stance.ABSENT
            if not voted.any():
                continue
            # shares of the decisions the member took part in (not those before it joined)
            final, initial = final[voted], initial[voted]
            stances.append({"proposal": code, "member": actor, "decisions": int(decided.sum()), "voted": int(voted.sum()),
                            "objected": float((final == Stance.OBJECTION).mean()),
                            "reservation": float((final == Stance.RESERVATION).mean()),
                            "stood_aside": float((final == Stance.STAND_ASIDE).mean()),
                            "initially_objected": float((initial == Stance.OBJECTION).mean())})
        in_force = np.zeros(n, dtype=bool)
        for r, now in zip(mine, adopted, strict=True):
            decided_now = r.status <= Status.WITHDRAWN
            low, high = wilson(now.sum(), max(int(decided_now.sum()), 1))
            in_force |= now
            by_year.append({"proposal": code, "year": r.year, "decided": int(decided_now.sum()),
                            "p_adopted": float(now.sum() / max(int(decided_now.sum()), 1)),
                            "ci_low": float(low), "ci_high": float(high),
                            "mean_ambition": float(r.ambition[now].mean()) if now.any() else float("nan"),
                            "in_force": float(in_force.mean())})
    return Aggregates(pd.DataFrame(summary), pd.DataFrame(stances), pd.DataFrame(by_year))


def _column(record: Record, stance: NDArray[np.int8], actor: str) -> NDArray[np.int8]:
    """One actor's stances in a record, ABSENT if the actor was not in the model that year."""
    if actor not in record.actors:
        return np.full(record.replicates.size, Stance.ABSENT, dtype=np.int8)
    return stance[:, record.actors.index(actor)]


# --- printing -------------------------------------------------------------------------------------


def report(aggregates: Aggregates, member_names: dict[str, str], heading: str) -> str:
    """The summary a user reads after a run: one block per proposal."""
    lines = [heading, ""]
    header = f"{'proposal':<44} {'P(adopted)':>10} {'95% interval':>15} {'ambition':>9}"
    lines += [header, "-" * len(header)]
    for row in aggregates.summary.itertuples():
        ambition = "-" if np.isnan(row.mean_ambition) else f"{row.mean_ambition:.2f}"
        lines.append(f"{row.name[:44]:<44} {row.p_adopted:>10.3f} {f'[{row.ci_low:.3f}, {row.ci_high:.3f}]':>15} {ambition:>9}")
        mine = aggregates.stances[aggregates.stances.proposal == row.proposal] if len(aggregates.stances) else aggregates.stances
        for label, column in (("objected", "objected"), ("reservation", "reservation"), ("stood aside", "stood_aside")):
            who = mine[mine[column] >= 0.005].sort_values(column, ascending=False) if len(mine) else mine
            if len(who):
                listing = ", ".join(f"{member_names.get(m, m)} {share:.0%}" for m, share in zip(who.member, who[column], strict=True))
                lines.append(f"    {label + ':':<13} {listing}")
    lines.append("")
    lines.append("P(adopted): share of replicates in which the proposal was adopted in some year of the run.")
    lines.append("Member shares: share of the decisions (replicate x year) a member voted in where it held that stance at the final offer.")
    return "\n".join(lines)


# --- files ----------------------------------------------------------------------------------------


def new_run_folder(root: Path, name: str, stamp: str) -> Path:
    """A folder under ``root`` for a new run that does not exist yet (never an earlier run's)."""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name) or "run"
    candidate = root / f"{safe}-{stamp}"
    suffix = 1
    while candidate.exists():
        suffix += 1
        candidate = root / f"{safe}-{stamp}-{suffix}"
    return candidate


def write_run(out: Path, table: pd.DataFrame, aggregates: Aggregates, metadata: dict[str, Any], summary_text: str) -> None:
    """Write every file of a run into ``out`` at once (a crash part-way leaves no half-written ``out``)."""
    with staged_folder(out) as staging:
        table.to_parquet(staging / "outcomes.parquet", index=False)
        aggregates.summary.to_csv(staging / "summary.csv", index=False)
        aggregates.stances.to_csv(staging / "stances.csv", index=False)
        aggregates.by_year.to_csv(staging / "by_year.csv", index=False)
        (staging / "summary.txt").write_text(summary_text + "\n", encoding="utf-8")
        (staging / "metadata.json").write_text(json.dumps(metadata, indent=2, default=str) + "\n", encoding="utf-8")
