"""Historical validation: cases of what the SCO decided, run through the model and scored.

A case names a scenario, a year, a proposal (from the catalogue, or defined in the case file by its
effects on the documented dimensions) and what happened: the outcome, and the members who blocked,
stood aside or made a reservation. The model decides that proposal alone in that year, with the
members, interests and relations the scenario gives for that year, in many replicates.

A case passes when the historical outcome has a predicted probability of at least 0.5, and each
member named as blocking (standing aside, making a reservation) is among those predicted to do so
most often.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from ..core.errors import ConfigError, UsageError
from ..core.records import Status
from ..core.statistics import wilson
from ..core.vocabulary import MAX_CASE_REPLICATES, MIN_CASE_REPLICATES, SEED_LIMIT
from ..inputs.configuration import Code, FilePath, Strict, Year, validated
from ..inputs.scenario import load_scenario
from ..inputs.yaml_files import read_yaml
from ..model.runner import simulate
from ..model.tables import aggregate

#: The project's own case files.
CASES = Path(__file__).resolve().parents[2] / "validation"


class Case(Strict):
    """One historical decision, as a case file states it."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    scenario: FilePath  # relative to the case file
    year: Year
    proposal: Code
    define: dict[str, Any] | None = None  # the proposal's definition, if not (or not only) the catalogue's
    set: dict[str, Any] = {}  # the state just before the decision, by dotted path
    outcome: Literal["adopted", "not_adopted"]
    blocked_by: list[Code] = []
    stood_aside: list[Code] = []
    reservation: list[Code] = []
    what_happened: str
    source: str
    replicates: Annotated[int, Field(ge=MIN_CASE_REPLICATES, le=MAX_CASE_REPLICATES)] = 400
    seed: Annotated[int, Field(ge=0, lt=SEED_LIMIT)] = 2025


class CaseFile(Strict):
    """A file of cases."""

    cases: list[Case]


@dataclass(frozen=True)
class Verdict:
    """A case's prediction and whether it matches what happened."""

    case: Case
    p_adopted: float
    ci: tuple[float, float]
    objected: dict[str, float]  # member -> share of replicates in which it objected (at the final offer)
    stood_aside: dict[str, float]
    reservation: dict[str, float]
    mean_ambition: float
    passed: bool
    reasons: tuple[str, ...]  # why it failed; empty when it passed
    member_names: dict[str, str]  # by code, from the case's scenario


def load_cases(path: Path) -> list[tuple[Case, Path]]:
    """The cases of a file, each with the file it came from."""
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(path, "", "expected a mapping with the key 'cases'")
    cases = validated(CaseFile, raw, path).cases
    ids = [case.id for case in cases]
    for index, case in enumerate(cases):
        if ids.count(case.id) > 1:
            raise ConfigError(path, f"cases[{index}].id", f"duplicate case id '{case.id}'")
    return [(case, path) for case in cases]


def run_case(case: Case, file: Path, replicates: int | None = None) -> Verdict:
    """Decide the case's proposal in its year and score the prediction; ``replicates`` overrides the case's."""
    overrides = dict(case.set)
    if case.define is not None:
        overrides[f"proposals.{case.proposal}"] = case.define
    overrides[f"proposals.{case.proposal}.tabled"] = [case.year]
    try:
        scenario = load_scenario(
            (file.parent / case.scenario).resolve(),
            overrides=overrides,
            replicates=replicates or case.replicates,
            seed=case.seed,
            years=(case.year, case.year),
            agenda=[case.proposal],
        )
    except ConfigError as error:  # name the case, not only the scenario
        raise ConfigError(file, f"case {case.id}", f"{error.file}: {error.key}: {error.message}") from None
    records = [r for r in simulate(scenario) if r.proposal == case.proposal]
    summary = aggregate(records, {})
    decided = np.concatenate([Status.decided(r.status) for r in records])
    adopted = np.concatenate([r.status == Status.ADOPTED for r in records])
    n = max(int(decided.sum()), 1)
    p = float(adopted.sum() / n)
    low, high = wilson(int(adopted.sum()), n)
    stances = summary.stances
    shares = {column: dict(zip(stances.member, stances[column], strict=True)) if len(stances) else {}
              for column in ("objected", "stood_aside", "reservation")}
    mean_ambition = float(summary.summary.mean_ambition.iloc[0]) if len(summary.summary) else float("nan")
    reasons = _reasons(case, p, shares)
    return Verdict(case, p, (float(low), float(high)), shares["objected"], shares["stood_aside"], shares["reservation"],
                   mean_ambition, not reasons, tuple(reasons), scenario.member_names)


def _reasons(case: Case, p_adopted: float, shares: dict[str, dict[str, float]]) -> list[str]:
    reasons = []
    if case.outcome == "adopted" and p_adopted < 0.5:
        reasons.append(f"predicted adopted with p={p_adopted:.2f} < 0.5")
    if case.outcome == "not_adopted" and p_adopted > 0.5:
        reasons.append(f"predicted adopted with p={p_adopted:.2f} > 0.5")
    for label, column, named in (("blocker", "objected", case.blocked_by),
                                 ("standing aside", "stood_aside", case.stood_aside),
                                 ("reservation", "reservation", case.reservation)):
        if not named:
            continue
        share = shares[column]
        top = max(share.values(), default=0.0)
        leaders = {m for m, v in share.items() if v == top and v > 0}
        if not leaders & set(named):
            found = ", ".join(sorted(leaders)) or "nobody"
            reasons.append(f"most frequent {label} is {found}, not {' or '.join(named)}")
    return reasons


def run_cases(paths: list[Path], replicates: int | None = None) -> list[Verdict]:
    """Every case of the files named (the project's own, validation/*.yaml, if none), run and scored."""
    if replicates is not None and not MIN_CASE_REPLICATES <= replicates <= MAX_CASE_REPLICATES:
        raise ConfigError("command line", "--replicates",
                          f"expected {MIN_CASE_REPLICATES} to {MAX_CASE_REPLICATES:,}, got {replicates}")
    cases = [item for path in (paths or sorted(CASES.glob("*.yaml"))) for item in load_cases(path)]
    if not cases:
        raise UsageError("validate: no cases (none given and none in validation/)")
    return [run_case(case, path, replicates) for case, path in cases]
