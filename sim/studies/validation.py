"""Historical validation: cases of what the SCO decided, run through the model and scored.

A case names a scenario, a year (or a span of years), a proposal (from the catalogue, or defined in the case
file by its effects on the documented dimensions) and what happened: the outcome, and the members who
blocked, stood aside or made a reservation. The model decides that proposal alone, with the members,
interests and relations the scenario gives for each year, in many replicates.

A single-summit case is decided in its ``year``. A trajectory case (``until``) has the proposal tabled at every
summit from ``year`` to ``until``: "not adopted" means not adopted at any of them, "adopted" means adopted
first in ``first`` (+- ``within`` years). An implementation case (``implemented``, ``by``) is also about what became
of the decision after its adoption (:mod:`sim.model.implementation`): the run goes on to ``by``, following the
proposal off the agenda (``implementation.follow``), and "carried_out" means that of what was adopted, at least half
(:data:`CARRIED_OUT`) is carried out by ``by`` (the mean implementation of the replicates that adopted it), "lagging"
that less than half is.

A case passes when the historical outcome has a predicted probability of at least 0.5, and, for each of
blocking, standing aside and making a reservation that the case names, one of the members named does so in
at least half of the decisions and at least as often as any other member. A passing case counts only if it
could have failed (:mod:`sim.studies.falsify` looks for the smallest plausible change to its own inputs that
flips its outcome) and if none of its inputs restates its outcome (``outcome_as_input``).

The work is split so that a fit can reuse it (:mod:`sim.studies.leave_one_out`): :func:`prepare` loads a
case's scenario once, :func:`predict` runs any variant of it (:func:`sim.studies.falsify.with_numbers`), and
:func:`matched` (:func:`holds`, :func:`stance_reasons`) scores a prediction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import Field, model_validator

from ..core.budget import processors
from ..core.errors import ConfigError, UsageError
from ..core.processes import Pool
from ..core.records import Record, Status
from ..core.statistics import wilson
from ..core.vocabulary import MAX_CASE_REPLICATES, MIN_CASE_REPLICATES, SEED_LIMIT
from ..inputs.configuration import Code, FilePath, Strict, Year, validated
from ..inputs.scenario import Scenario, load_scenario
from ..inputs.yaml_files import read_yaml
from ..model.runner import simulate
from ..model.tables import aggregate
from .falsify import Search, own_inputs, search, with_numbers

#: The project's own case files.
CASES = Path(__file__).resolve().parents[2] / "validation"
#: A member named as blocking (standing aside, making a reservation) must do so in at least this share of the
#: decisions: leading the objectors in 1 replicate of 400 is noise, not a block.
MIN_NAMED_SHARE = 0.5
#: Replicates of each run of the falsifiability search (with the case's seed, so that every run of the search
#: draws the same noise and a flip is the input's doing).
SEARCH_REPLICATES = 100

#: The share of an adopted decision that must be carried out by an implementation case's year for it to count as
#: carried out (and below which it lags): more than half, the rule of the adoption cases (P >= 0.5) applied to the
#: share carried out. The brief gives no degree ('implemented', 'lags behind').
CARRIED_OUT = 0.5

#: What a case counts as: only "pass" is evidence for the model.
Standing = Literal["pass", "FAIL", "cannot fail", "outcome as input"]


class Case(Strict):
    """One historical decision, or a span of summits, as a case file states it."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    scenario: FilePath  # relative to the case file
    year: Year
    until: Year | None = None  # a trajectory: every summit from `year` to `until`
    first: Year | None = None  # an adopted trajectory: the year of first adoption
    within: Annotated[int, Field(ge=0, le=10)] = 1  # ... give or take this many years
    proposal: Code
    define: dict[str, Any] | None = None  # the proposal's definition, if not (or not only) the catalogue's
    set: dict[str, Any] = {}  # the situation in the case's years, by dotted path
    outcome: Literal["adopted", "not_adopted"]
    blocked_by: list[Code] = []
    stood_aside: list[Code] = []
    reservation: list[Code] = []
    implemented: Literal["carried_out", "lagging"] | None = None  # what became of it after adoption, by `by`
    by: Year | None = None  # the year by which it was carried out, or still lagged
    outcome_as_input: str = ""  # why an input restates the outcome (the case then does not count as a pass)
    what_happened: str
    source: str
    replicates: Annotated[int, Field(ge=MIN_CASE_REPLICATES, le=MAX_CASE_REPLICATES)] = 400
    seed: Annotated[int, Field(ge=0, lt=SEED_LIMIT)] = 2025

    @model_validator(mode="after")
    def _span(self) -> Case:
        if (self.implemented is None) != (self.by is None):
            raise ValueError("expected 'implemented' and 'by' together (what became of the decision, and by when)")
        if self.implemented is not None and self.outcome != "adopted":
            raise ValueError("expected outcome 'adopted' in an implementation case (only what was adopted is carried "
                             "out)")
        if self.by is not None and self.by <= (self.until or self.year):
            raise ValueError(f"expected 'by' after the case's last summit ({self.until or self.year}), got {self.by}")
        if self.until is None:
            if self.first is not None:
                raise ValueError("expected 'first' only in a trajectory case (one with 'until')")
            return self
        if self.until <= self.year:
            raise ValueError(f"expected 'until' after 'year' ({self.year}), got {self.until}")
        if self.outcome == "adopted" and self.first is None:
            raise ValueError("expected 'first' (the year of first adoption) in an adopted trajectory case")
        if self.outcome == "not_adopted" and self.first is not None:
            raise ValueError("expected no 'first' in a trajectory case not adopted")
        if self.first is not None and not self.year <= self.first <= self.until:
            raise ValueError(f"expected 'first' from {self.year} to {self.until}, got {self.first}")
        return self

    @property
    def years(self) -> tuple[int, int]:
        """The first and last summit of the case."""
        return self.year, self.until or self.year

    @property
    def span(self) -> tuple[int, int]:
        """The years the case's run covers: its summits, and on to ``by`` for an implementation case."""
        return self.year, self.by or self.until or self.year

    @property
    def trajectory(self) -> bool:
        """Whether the case spans several summits."""
        return self.until is not None


class CaseFile(Strict):
    """A file of cases."""

    cases: list[Case]


@dataclass(frozen=True)
class Prediction:
    """What the model predicts for a case: the probability of the event its outcome is about, and the stances."""

    p: float  # adopted (one summit); adopted at some summit of the span; adopted first within first +- within
    ci: tuple[float, float]
    earlier: float  # an adopted trajectory: adopted first before the window (0 otherwise)
    objected: dict[str, float]  # member -> share of the decisions in which it objected (at the final offer)
    stood_aside: dict[str, float]
    reservation: dict[str, float]
    mean_ambition: float
    implemented: float = float("nan")  # an implementation case: the share of the adopted carried out by `by`


@dataclass(frozen=True)
class Named:
    """A stance the case names, the member named that took it most often, and its share of the decisions."""

    label: str
    member: str
    share: float


@dataclass(frozen=True)
class Verdict:
    """A case's prediction, whether it matches what happened, and whether it could have failed."""

    case: Case
    prediction: Prediction
    named: tuple[Named, ...]
    reasons: tuple[str, ...]  # why it failed; empty when it matched
    search: Search | None  # None: not searched
    member_names: dict[str, str]  # by code, from the case's scenario

    @property
    def p_adopted(self) -> float:
        """The predicted probability of the case's event (see :class:`Prediction`)."""
        return self.prediction.p

    @property
    def outcome_held(self) -> bool:
        """Whether the predicted outcome agrees with the record (the named stances aside)."""
        return holds(self.case, self.prediction.p)

    @property
    def matched(self) -> bool:
        """Whether the prediction matches the record (outcome and named stances)."""
        return not self.reasons

    @property
    def status(self) -> Standing:
        """pass, FAIL, or why a match does not count: its outcome is an input, or no plausible change flips it."""
        if self.reasons:
            return "FAIL"
        if self.case.outcome_as_input:
            return "outcome as input"
        if self.search is not None and self.search.flip is None:
            return "cannot fail"
        return "pass"

    @property
    def passed(self) -> bool:
        """Whether the case counts as a pass."""
        return self.status == "pass"


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


def prepare(case: Case, file: Path, replicates: int | None = None) -> Scenario:
    """The case's scenario: its years, its proposal alone on the agenda (tabled at each of its summits), its
    overrides; ``replicates`` overrides the case's."""
    overrides = dict(case.set)
    if case.define is not None:
        overrides[f"proposals.{case.proposal}"] = case.define
    first, last = case.years
    overrides[f"proposals.{case.proposal}.tabled"] = list(range(first, last + 1))
    if case.implemented is not None:
        overrides["implementation.follow"] = True
    path = (file.parent / case.scenario).resolve()
    try:
        scenario = load_scenario(path, overrides=overrides, replicates=replicates or case.replicates, seed=case.seed,
                                 years=case.span, agenda=[case.proposal])
    except ConfigError as error:  # name the case, not only the scenario
        if case.define is None:
            _known_proposal(case, file, path)
        raise ConfigError(file, f"case {case.id}", _in_the_case(case, error)) from None
    _named_members_vote(case, file, scenario)
    return scenario


def _in_the_case(case: Case, error: ConfigError) -> str:
    """A problem of the case's scenario as the case's own key where it comes from the case's ``set`` or ``define``
    (:func:`prepare` hands them to the scenario as the command line's ``--set``), else as the scenario's file and
    key."""
    path = error.key.removeprefix("--set ") if error.file == "command line" else None
    defined = f"proposals.{case.proposal}"
    if path is not None and case.define is not None and (path == defined or path.startswith(f"{defined}.")):
        return f"define{path.removeprefix(defined)}: {error.message}"
    if path is not None and any(path == key or path.startswith(f"{key}.") for key in case.set):
        return f"set.{path}: {error.message}"
    return f"{error.file}: {error.key}: {error.message}"


def _known_proposal(case: Case, file: Path, path: Path) -> None:
    """Refuse a case whose proposal its scenario does not have and the case does not define (the tabled years
    :func:`prepare` sets would otherwise stand for an incomplete proposal)."""
    try:
        proposals = load_scenario(path, overrides=case.set, replicates=MIN_CASE_REPLICATES,
                                  years=case.span).configuration(case.year).proposals
    except ConfigError:
        return  # another problem, which prepare reports as it found it
    if case.proposal not in proposals:
        raise ConfigError(file, f"case {case.id}", f"proposal: unknown proposal '{case.proposal}' "
                                                   f"(expected one of: {', '.join(sorted(proposals))})")


def _named_members_vote(case: Case, file: Path, scenario: Scenario) -> None:
    """Refuse a case naming as blocking, standing aside or making a reservation a member that does not vote at any
    of its summits (unknown, or not yet joined): it could take no stance, and the case would fail for its name."""
    first, last = case.years
    years = range(first, last + 1)
    voting = sorted({code for year in years for code, member in scenario.configuration(year).members.items()
                     if member.votes_in(year)})
    when = str(first) if first == last else f"any year from {first} to {last}"
    for field in ("blocked_by", "stood_aside", "reservation"):
        for code in getattr(case, field):
            if code in voting:
                continue
            member = scenario.configuration(last).members.get(code)
            if member is None:
                said = f"unknown member '{code}' (expected one of the members voting in {when}: "
            else:
                article = "an" if member.status == "observer" else "a"
                why = f"it joins in {member.joined}" if member.joined else f"{article} {member.status}"
                said = f"'{code}' does not vote in {when} ({why}; expected one of the members voting then: "
            raise ConfigError(file, f"case {case.id}", f"{field}: {said}{', '.join(voting)})")


def predict(case: Case, scenario: Scenario) -> Prediction:
    """Run the case's scenario (or a variant of it) and summarise what it predicts."""
    records = _records(case, scenario)
    p, n, earlier = _probability(case, records)
    low, high = wilson(round(p * n), n)
    summary = aggregate(records, {}, scenario.world_size)
    stances = summary.stances
    shares = {column: dict(zip(stances.member, stances[column], strict=True)) if len(stances) else {}
              for column in ("objected", "stood_aside", "reservation")}
    mean_ambition = float(summary.summary.mean_ambition.iloc[0]) if len(summary.summary) else float("nan")
    return Prediction(p, (float(low), float(high)), earlier, shares["objected"], shares["stood_aside"],
                      shares["reservation"], mean_ambition, implemented(case, records))


def implemented(case: Case, records: list[Record]) -> float:
    """An implementation case's share of the adopted carried out by its year ``by``: the mean implementation of the
    replicates that adopted it by then (NaN where none did, and for other cases)."""
    done = [r.implementation for r in records if r.year == case.by]
    if not done:
        return float("nan")
    share = done[0][~np.isnan(done[0])]
    return float(share.mean()) if share.size else float("nan")


def carried(case: Case, share: float) -> bool:
    """Whether an implementation case's share carried out agrees with the record (True for other cases)."""
    if case.implemented is None:
        return True
    if np.isnan(share):
        return False
    return share >= CARRIED_OUT if case.implemented == "carried_out" else share < CARRIED_OUT


def holds(case: Case, p: float) -> bool:
    """Whether a predicted probability ``p`` of the case's event agrees with the record."""
    return p >= 0.5 if case.outcome == "adopted" else p <= 0.5


def matched(case: Case, prediction: Prediction) -> bool:
    """Whether a prediction matches the record, outcome and named stances (the pass rule without the case's
    standing: whether it could fail and whether an input restates its outcome are properties of the case)."""
    return not _reasons(case, prediction)[0]


def stance_reasons(label: str, named: list[str], shares: dict[str, float]) -> tuple[str | None, Named]:
    """Why the members ``named`` as taking a stance (``label``) do not match the predicted ``shares`` (None if they
    do: one of them takes it in at least MIN_NAMED_SHARE of the decisions and as often as any other member), and
    the named member that takes it most often."""
    share, member = max((shares.get(m, 0.0), m) for m in named)
    found, top, who = Named(label, member, share), max(shares.values(), default=0.0), " or ".join(named)
    if share < MIN_NAMED_SHARE:
        return f"{label} {who}: at most {share:.0%} of the decisions, below {MIN_NAMED_SHARE:.0%}", found
    if share < top:
        leaders = ", ".join(sorted(m for m, v in shares.items() if v == top))
        return f"most frequent {label} is {leaders} ({top:.0%}), not {who} ({share:.0%})", found
    return None, found


def run_case(case: Case, file: Path, replicates: int | None = None, falsify: bool = True,
             values: Mapping[str, float] | None = None) -> Verdict:
    """Decide the case and score the prediction; with ``falsify``, also search for the change that flips it.
    ``values`` (dotted path -> number) replace the configured ones wherever they are set (a fit's values)."""
    scenario = prepare(case, file, replicates)
    if values:
        scenario = with_numbers(scenario, values)
    prediction = predict(case, scenario)
    reasons, named = _reasons(case, prediction)
    found = None
    if falsify:
        quick = dataclasses.replace(scenario, replicates=SEARCH_REPLICATES)
        base = carried(case, implemented(case, _records(case, quick)))
        found = search(quick, own_inputs(quick, case.proposal) + _paces(case, quick),
                       lambda variant: _agrees(case, _records(case, variant), base))
    return Verdict(case, prediction, tuple(named), tuple(reasons), found, scenario.member_names)


def collect_cases(paths: list[Path], replicates: int | None = None,
                  settings: Mapping[str, Any] | None = None) -> list[tuple[Case, Path]]:
    """Every case of the files named (the project's own, validation/*.yaml, if none), each with its file; every
    case's inputs are checked here, before any is run, so that bad input is one line (exit 2). ``settings`` (the
    command line's ``--fixed-parameters``, ``--bargaining``, as dotted overrides) apply to every case (its ``set``
    says so)."""
    if replicates is not None and not MIN_CASE_REPLICATES <= replicates <= MAX_CASE_REPLICATES:
        raise ConfigError("command line", "--replicates",
                          f"expected {MIN_CASE_REPLICATES} to {MAX_CASE_REPLICATES:,}, got {replicates}")
    cases = [item for path in (paths or sorted(CASES.glob("*.yaml"))) for item in load_cases(path)]
    if not cases:
        raise UsageError("validate: no cases (none given and none in validation/)")
    if settings:
        cases = [(case.model_copy(update={"set": case.set | dict(settings)}), path) for case, path in cases]
    for case, path in cases:
        prepare(case, path, replicates)
    return cases


def run_cases(paths: list[Path], replicates: int | None = None,
              settings: Mapping[str, Any] | None = None) -> list[Verdict]:
    """Every case of the files named (the project's own, validation/*.yaml, if none), run and scored; ``settings``
    as :func:`collect_cases`."""
    cases = collect_cases(paths, replicates, settings)
    # the cases are independent: one worker process each at a time, the longest spans first, in the file's order after
    order = sorted(range(len(cases)), key=lambda i: cases[i][0].years[0] - cases[i][0].years[1])
    with Pool(min(processors(), len(cases))) as pool:
        futures = {i: pool.submit(run_case, cases[i][0], cases[i][1], replicates) for i in order}
        return [futures[i].result() for i in range(len(cases))]


def _agrees(case: Case, records: list[Record], base: bool) -> bool:
    """The test the falsifiability search flips: whether a run's records agree with the case's outcome; in an
    implementation case, whether what was adopted is carried out as the record says. A change that leaves nothing
    adopted tells nothing of implementation (the case's adoption is its adoption case's to test), so it counts as
    no change (``base``, the unchanged run's answer): an implementation case can fail only by what it adds."""
    if case.implemented is None:
        return holds(case, _probability(case, records)[0])
    share = implemented(case, records)
    return base if np.isnan(share) else carried(case, share)


def _paces(case: Case, scenario: Scenario) -> list[str]:
    """An implementation case's further inputs: the pace of its proposal's form, in every year of the case."""
    if case.implemented is None:
        return []
    forms = {config.proposals[case.proposal].form for config in scenario.timeline.values()}
    return [f"implementation.{form}" for form in sorted(forms)]


def _records(case: Case, scenario: Scenario) -> list[Record]:
    return [r for r in simulate(scenario) if r.proposal == case.proposal]


def _probability(case: Case, records: list[Record]) -> tuple[float, int, float]:
    """The probability of the case's event, the count it is a share of, and (an adopted trajectory) the
    probability of a first adoption before the window."""
    if not case.trajectory:
        decided = np.concatenate([Status.decided(r.status) for r in records])
        adopted = np.concatenate([r.status == Status.ADOPTED for r in records])
        n = max(int(decided.sum()), 1)
        return float(adopted.sum() / n), n, 0.0
    happens, before = event(case, records)
    return float(np.mean(happens)), happens.size, float(np.mean(before))


def event(case: Case, records: list[Record]) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Per replicate, the event whose share is the case's probability (:func:`_probability`: adopted; adopted at some
    summit of the span; adopted first within the window), and (an adopted trajectory) adopted first before it."""
    if not case.trajectory:
        adopted = np.any([r.status == Status.ADOPTED for r in records], axis=0)
        return adopted, np.zeros(adopted.shape, dtype=bool)
    first = _first_years(records)
    if case.first is None:
        return ~np.isnan(first), np.zeros(first.shape, dtype=bool)
    return np.abs(first - case.first) <= case.within, first < case.first - case.within  # NaN compares False


def _first_years(records: list[Record]) -> NDArray[np.float64]:
    """Each replicate's year of first adoption; NaN where it was never adopted."""
    years = np.array([r.year for r in records], dtype=float)
    adopted = np.stack([r.status == Status.ADOPTED for r in records])  # (years, R)
    return np.where(adopted.any(axis=0), years[adopted.argmax(axis=0)], np.nan)


def _reasons(case: Case, prediction: Prediction) -> tuple[list[str], list[Named]]:
    reasons: list[str] = []
    p = prediction.p
    first, last = case.years
    if not holds(case, p):
        if not case.trajectory:
            reasons.append(f"predicted adopted with p={p:.2f} {'<' if case.outcome == 'adopted' else '>'} 0.5")
        elif case.first is None:
            reasons.append(f"predicted adopted at some summit {first}-{last} with p={p:.2f} > 0.5")
        else:
            reasons.append(f"predicted adopted first in {case.first - case.within}-{case.first + case.within} with "
                           f"p={p:.2f} < 0.5 (earlier with p={prediction.earlier:.2f})")
    if case.implemented is not None and not carried(case, prediction.implemented):
        share = prediction.implemented
        reasons.append(f"never adopted, so nothing carried out by {case.by}" if np.isnan(share) else
                       f"carried out by {case.by}: {share:.2f} of what was adopted, "
                       f"{'below' if case.implemented == 'carried_out' else 'not below'} {CARRIED_OUT}")
    named: list[Named] = []
    for label, shares, members in (("blocker", prediction.objected, case.blocked_by),
                                   ("standing aside", prediction.stood_aside, case.stood_aside),
                                   ("reservation", prediction.reservation, case.reservation)):
        if members:
            reason, found = stance_reasons(label, members, shares)
            named.append(found)
            if reason:
                reasons.append(reason)
    return reasons, named
