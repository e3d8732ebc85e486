"""The SCO's decision record: every decision of record at its summits from 2001 to 2024, as data.

``validation/record/*.csv`` holds one row per decision (docs/codebook.md says how each column is coded); a row
names a proposal of the catalogue, or a class of decisions that ``validation/record/proposals.yaml`` defines as a
proposal, so that no row needs a code change. :func:`load_record` reads and checks the rows (a bad one is refused
in one line naming its file, line and column); :func:`as_case` turns a row into a single-summit
:class:`~sim.studies.validation.Case` of the scenario, so that everything a case can be asked (run, run in worlds,
scored) a row can be too.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from ..core.errors import ConfigError, quoted
from ..inputs.configuration import Configuration
from ..inputs.yaml_files import read_yaml
from .validation import CASES, Case

#: The project's record: its rows (one CSV file per era) and the classes of decisions they name.
RECORD = CASES / "record"
CLASSES = RECORD / "proposals.yaml"
#: The scenario whose configuration in force each year decides the record's rows.
SCENARIO = CASES.parent / "scenarios" / "history.yaml"
#: The years of the record; decisions after it are kept for forecasting.
FIRST_YEAR, LAST_YEAR = 2001, 2024

Meeting = Literal["heads_of_state", "heads_of_government"]
Kind = Literal["institution", "agreement", "strategy", "statement", "admission", "security_action"]
Domain = Literal["security", "economic", "humanitarian", "organisation", "international"]
Outcome = Literal["adopted", "adopted_interested", "not_adopted"]
Confidence = Literal["high", "medium", "low"]
KINDS: tuple[Kind, ...] = get_args(Kind)

#: The columns of a record file, in order.
COLUMNS = ("id", "date", "meeting", "place", "decision", "proposal", "kind", "domain", "subject", "sponsor",
           "delegates", "outcome", "objected", "reservation", "stood_aside", "source", "quote", "confidence",
           "inferred", "note")
#: The columns that must not be empty.
REQUIRED = ("id", "date", "meeting", "place", "decision", "proposal", "kind", "domain", "delegates", "outcome",
            "source", "quote", "confidence")
#: The columns that hold member codes separated by ``;``.
STANCES = ("objected", "reservation", "stood_aside")

_ID = re.compile(r"^(\d{4})-[a-z0-9][a-z0-9-]*$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Decision:
    """One decision of record (a row), its values read and checked."""

    id: str
    year: int
    date: str
    meeting: Meeting
    place: str
    decision: str
    proposal: str
    kind: Kind
    domain: Domain
    subject: str
    sponsor: str
    delegates: bool
    outcome: Outcome
    objected: tuple[str, ...]
    reservation: tuple[str, ...]
    stood_aside: tuple[str, ...]
    source: str
    quote: str
    confidence: Confidence
    inferred: tuple[str, ...]
    file: Path
    line: int

    @property
    def adopted(self) -> bool:
        """Whether it was adopted, by every member or by the interested ones (the event that is forecast)."""
        return self.outcome != "not_adopted"

    @property
    def stances_documented(self) -> bool:
        """Whether the record says who did not go along: a stance named, or an outcome that implies one."""
        return self.outcome != "adopted" or any(getattr(self, column) for column in STANCES)

    def identity(self, classes: set[str]) -> str:
        """What "the same proposal" means for persistence: a catalogue proposal's code (a class's, with the state
        it admits), else, for a row of a class, the decision's own words (lower case, punctuation dropped)."""
        if self.subject:
            return f"{self.proposal}:{self.subject}"
        if self.proposal not in classes:
            return self.proposal
        return " ".join(re.sub(r"[^a-z0-9 ]", " ", self.decision.lower()).split())


def load_classes(path: Path = CLASSES) -> dict[str, dict[str, Any]]:
    """The classes of decisions: code -> the proposal's definition, as a case's ``define`` gives one."""
    raw = read_yaml(path)
    if not isinstance(raw, dict) or set(raw) != {"classes"} or not isinstance(raw["classes"], dict):
        raise ConfigError(path, "", "expected a mapping with the one key 'classes' (code -> proposal)")
    for code, definition in raw["classes"].items():
        if not isinstance(code, str) or not _CODE.match(code) or not isinstance(definition, dict):
            raise ConfigError(path, f"classes.{code}", "expected a code (lower case, digits, _) with a proposal's "
                                                       "definition (name, sponsor, form, effects, ...)")
    return dict(raw["classes"])


def record_files(paths: list[Path] | None = None) -> list[Path]:
    """The record files: those given, or the project's (``validation/record/*.csv``, in name order)."""
    if paths:
        return paths
    found = sorted(RECORD.glob("*.csv"))
    if not found:
        raise ConfigError(RECORD, "", "no record files (*.csv) found")
    return found


def load_record(paths: list[Path], proposals: set[str], members: set[str]) -> list[Decision]:
    """Every row of the files, checked: its columns, its codes (``proposals``: the catalogue's and the classes';
    ``members``: the catalogue's), ids unique across the files, years within the record, in date order."""
    decisions: list[Decision] = []
    seen: dict[str, str] = {}
    for path in paths:
        for decision in _read(path, proposals, members):
            where = f"{path.name}:{decision.line}"
            if decision.id in seen:
                raise ConfigError(path, f"line {decision.line}: id", f"duplicate id {quoted(decision.id)} "
                                                                      f"(also at {seen[decision.id]})")
            seen[decision.id] = where
            decisions.append(decision)
    if not decisions:
        raise ConfigError(paths[0], "", "expected at least one decision, got none")
    return sorted(decisions, key=lambda d: (d.date, d.id))


def _read(path: Path, proposals: set[str], members: set[str]) -> list[Decision]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            header = tuple(reader.fieldnames or ())
            if header != COLUMNS:
                missing = [c for c in COLUMNS if c not in header]
                extra = [c for c in header if c not in COLUMNS]
                said = (f"missing column {quoted(missing[0])}" if missing else f"unknown column {quoted(extra[0])}"
                        if extra else "columns out of order")
                raise ConfigError(path, "header", f"{said} (expected: {','.join(COLUMNS)})")
            return [_decision(path, reader.line_num, row, proposals, members) for row in reader]
    except UnicodeDecodeError as error:
        raise ConfigError(path, "", f"expected UTF-8 text ({error.reason} at byte {error.start})") from None
    except csv.Error as error:
        raise ConfigError(path, "", f"not a CSV file ({error})") from None


def _decision(path: Path, line: int, row: dict[str, str | None], proposals: set[str],
              members: set[str]) -> Decision:
    def fail(column: str, message: str) -> ConfigError:
        return ConfigError(path, f"line {line}: {column}", message)

    if None in row or any(value is None for value in row.values()):
        raise fail("row", f"expected {len(COLUMNS)} columns")
    values = {key: (value or "").strip() for key, value in row.items() if key is not None}
    for column in REQUIRED:
        if not values[column]:
            raise fail(column, "expected a value, got none")
    match, date = _ID.match(values["id"]), _DATE.match(values["date"])
    if match is None:
        raise fail("id", f"expected YYYY-name (lower case, digits, -), got {quoted(values['id'])}")
    if date is None:
        raise fail("date", f"expected YYYY-MM-DD, got {quoted(values['date'])}")
    year = int(date.group(1))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise fail("date", f"expected a year from {FIRST_YEAR} to {LAST_YEAR} (later decisions are kept for "
                           f"forecasting), got {year}")
    if int(match.group(1)) != year:
        raise fail("id", f"expected the id to begin with the year of its date ({year}), got {quoted(values['id'])}")
    closed = {"meeting": Meeting, "kind": Kind, "domain": Domain, "outcome": Outcome, "confidence": Confidence}
    for column, allowed in closed.items():
        if values[column] not in get_args(allowed):
            raise fail(column, f"expected one of {', '.join(get_args(allowed))}, got {quoted(values[column])}")
    if values["delegates"] not in ("yes", "no"):
        raise fail("delegates", f"expected yes or no, got {quoted(values['delegates'])}")
    if values["proposal"] not in proposals:
        raise fail("proposal", f"unknown proposal {quoted(values['proposal'])} (expected a code of the catalogue "
                               f"or of {CLASSES.name}: {', '.join(sorted(proposals))})")
    named: dict[str, tuple[str, ...]] = {}
    for column in (*STANCES, "sponsor"):
        codes = tuple(code for code in values[column].split(";") if code)
        for code in codes:
            if code not in members:
                raise fail(column, f"unknown member {quoted(code)} (expected codes of configs/base.yaml separated "
                                   f"by ';': {', '.join(sorted(members))})")
        named[column] = codes
    if len(named["sponsor"]) > 1:
        raise fail("sponsor", f"expected one member, got {quoted(values['sponsor'])}")
    if values["subject"] and not _CODE.match(values["subject"]):
        raise fail("subject", f"expected a state's code (lower case, digits, _), got {quoted(values['subject'])}")
    if values["outcome"] == "adopted_interested" and not named["stood_aside"]:
        raise fail("stood_aside", "expected the members that did not join (outcome adopted_interested)")
    inferred = tuple(c for c in values["inferred"].split(";") if c)
    for column in inferred:
        if column not in COLUMNS:
            raise fail("inferred", f"unknown column {quoted(column)} (expected columns separated by ';')")
    return Decision(values["id"], year, values["date"], values["meeting"], values["place"],  # type: ignore[arg-type]
                    values["decision"], values["proposal"], values["kind"], values["domain"],  # type: ignore[arg-type]
                    values["subject"], values["sponsor"], values["delegates"] == "yes",
                    values["outcome"], named["objected"], named["reservation"],  # type: ignore[arg-type]
                    named["stood_aside"], values["source"], values["quote"], values["confidence"],  # type: ignore[arg-type]
                    inferred, path, line)


def as_case(decision: Decision, classes: dict[str, dict[str, Any]], config: Configuration) -> Case:
    """The row as a single-summit case of :data:`SCENARIO` in its year (``config``: the configuration in force
    then): its class's definition where it names a class, with its documented sponsor where that member votes then;
    the candidates of an accession (of the proposal and the proposals linked to it) kept observers, as the
    accession cases of ``validation/history.yaml`` keep them; its documented stances as the case's named ones."""
    define: dict[str, Any] | None = None
    if decision.proposal in classes:
        define = dict(classes[decision.proposal])
        sponsor = config.members.get(decision.sponsor)
        if sponsor is not None and sponsor.votes_in(decision.year):
            define["sponsor"] = decision.sponsor
    setting: dict[str, Any] = {}
    proposal = config.proposals.get(decision.proposal)
    if proposal is not None:
        package = [proposal, *(config.proposals[link] for link in proposal.links if link in config.proposals)]
        for candidate in {code for p in package for code in p.admits}:
            setting[f"members.{candidate}"] = {"status": "observer", "joined": None}
    return Case(id=decision.id, scenario=str(SCENARIO), year=decision.year, proposal=decision.proposal,
                define=define, set=setting, outcome="adopted" if decision.adopted else "not_adopted",
                blocked_by=list(decision.objected), stood_aside=list(decision.stood_aside),
                reservation=list(decision.reservation), what_happened=decision.decision, source=decision.source)
