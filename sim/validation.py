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
from pydantic import Field, ValidationError

from .config import Code, FilePath, Strict, Year
from .results import Status, aggregate, wilson
from .runner import simulate
from .scenario import ConfigError, _config_error, _Origins, load_scenario, read_yaml

CASES = Path(__file__).resolve().parents[1] / "validation"


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
    replicates: Annotated[int, Field(ge=10, le=100_000)] = 400
    seed: Annotated[int, Field(ge=0)] = 2025


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


def load_cases(path: Path) -> list[tuple[Case, Path]]:
    """The cases of a file, each with the file it came from."""
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(path, "", "expected a mapping with the key 'cases'")
    try:
        spec = CaseFile.model_validate(raw)
    except ValidationError as error:
        raise _config_error(error, _Origins(path)) from None
    ids = [case.id for case in spec.cases]
    for index, case in enumerate(spec.cases):
        if ids.count(case.id) > 1:
            raise ConfigError(path, f"cases[{index}].id", f"duplicate case id '{case.id}'")
    return [(case, path) for case in spec.cases]


def run_case(case: Case, file: Path, replicates: int | None = None) -> Verdict:
    """Decide the case's proposal in its year and score the prediction."""
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
    decided = np.concatenate([r.status <= Status.WITHDRAWN for r in records])
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
                   mean_ambition, not reasons, tuple(reasons))


def _reasons(case: Case, p_adopted: float, shares: dict[str, dict[str, float]]) -> list[str]:
    reasons = []
    if case.outcome == "adopted" and p_adopted < 0.5:
        reasons.append(f"predicted adopted with p={p_adopted:.2f} < 0.5")
    if case.outcome == "not_adopted" and p_adopted > 0.5:
        reasons.append(f"predicted adopted with p={p_adopted:.2f} > 0.5")
    for label, column, named in (("blocker", "objected", case.blocked_by), ("standing aside", "stood_aside", case.stood_aside),
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


def case_files(paths: list[Path]) -> list[Path]:
    """The case files named, or the project's own (validation/*.yaml)."""
    return paths or sorted(CASES.glob("*.yaml"))


def table(verdicts: list[Verdict], names: dict[str, str]) -> str:
    """The validation table printed by ``sco-sim validate``."""
    header = f"{'case':<30} {'year':>4}  {'what happened':<13} {'P(adopted)':>10} {'95% interval':>15}  {'predicted to object / stand aside / reserve':<48} result"
    lines = [header, "-" * len(header)]
    for v in verdicts:
        who = "; ".join(part for part in (_top(v.objected, names, "obj"), _top(v.stood_aside, names, "aside"),
                                          _top(v.reservation, names, "res")) if part) or "-"
        lines.append(f"{v.case.id:<30} {v.case.year:>4}  {v.case.outcome.replace('_', ' '):<13} {v.p_adopted:>10.2f} "
                     f"{f'[{v.ci[0]:.2f}, {v.ci[1]:.2f}]':>15}  {who[:48]:<48} {'pass' if v.passed else 'FAIL'}")
        lines += [f"{'':<32}{reason}" for reason in v.reasons]
    passed = sum(v.passed for v in verdicts)
    lines += ["", f"{passed} of {len(verdicts)} cases pass."]
    return "\n".join(lines)


def _top(shares: dict[str, float], names: dict[str, str], label: str, most: int = 2) -> str:
    ranked = sorted(((v, m) for m, v in shares.items() if v >= 0.05), reverse=True)[:most]
    return f"{label} " + ", ".join(f"{names.get(m, m)} {v:.0%}" for v, m in ranked) if ranked else ""
