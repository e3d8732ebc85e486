"""Backtest the decision engine on real collective decisions: the DEU III data set of EU legislation.

Each issue gives actors' positions and saliences on a 0-100 scale, the reference point (the status
quo), the Council's rule (unanimity or qualified majority) and the observed outcome. The issue is fed
to :func:`sim.engine.decide`, the engine the SCO model uses:

- positions and saliences are rescaled to [0, 1]; the proposal on the table is the compromise the
  presidency brokers, the capability x salience weighted mean of the member states' positions;
- ambition ``a`` runs from the status quo (0) to that compromise (1), so a member's quadratic loss
  -s (o - x)^2, measured from the status quo, is exactly the engine's U(a) = b a - c a^2 with
  b = 2 s d (x - rp) and c = s d^2, where d = compromise - rp;
- unanimity is the consensus rule; qualified majority is the capability-weighted rule with the Nice
  votes and a threshold of 74%; every member's cost of objecting is the same ``tolerance``;
- the predicted outcome is rp + a* d, a* the ambition the engine adopts (rp if nothing passes).
  Without a reference point there is no status quo to fall back to, so the compromise is the prediction.

**Every mechanism** (:data:`MECHANISMS`: veto, then sim.core.bargaining's compromise, nash, exchange) is scored on
the same issues (:func:`table`, :func:`engine_predictions`). For the bargaining mechanisms ambition 1 is the position
farthest from the status quo on the side of the compromise model's outcome, so a position x sits at
(x - rp) / d in [.., 1]; the engine's outcome space is one-sided, so a position behind the status quo counts as the
status quo. Every member's capability is its Nice votes, under both rules. The Commission and, under co-decision,
the Parliament bargain with 29 votes and their saliences; sim.core lets only voters and the sponsor bargain, so they
are passed as voters whose cost of objecting is 1e9 (they never object), and under QMV the threshold is rescaled so
that the blocking minority stays 26% of the member states' votes. Under Nash their fallback is leaving the bargain
at the member states' cost (``walk_away``), so they pull as a member of their votes does and, where the outcome
leaves them below it, walk away without blocking. Exchange trades across the issues of one proposal (``prnr``) in
the file scored (:func:`traded_positions`), then each issue is its compromise at the traded positions. Without a
status quo there is no axis: the bargaining mechanisms predict the compromise model's outcome there.

**Fit here, score there.** The engine's free parameters are the cost of objecting under each rule, per mechanism
(``tolerance.<mechanism>.unanimity``, ``tolerance.<mechanism>.qmv``; a fit file from before the mechanisms is
refused); everything else (the Nice votes, the QMV threshold, the 101 offers, the candidate grid) is fixed.
They are fitted on a calibration file only (:func:`fit`) and frozen
when another file is scored (:func:`run_backtest`); a score on the calibration file's own issues is labelled
in-sample, and beside it the 5-fold cross-validated error of the whole procedure is the honest figure.

Baselines computed on the same issues, none with a free parameter: the reference point, the salience-weighted
mean of positions, the median position, and Stokman's compromise model. Intervals are bootstrap intervals
over issues.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .. import __version__
from ..core import bargaining as bargaining_models
from ..core.bargaining import decide
from ..core.engine import Procedure, Terms, Valuation
from ..core.errors import ConfigError
from ..core.files import atomic_text, claim, staged_folder
from ..core.vocabulary import BARGAINING, MAX_DEU_BYTES, MAX_FIT_BYTES, Bargaining
from ..inputs.yaml_files import read_bounded

#: Nice-treaty Council votes (shared/data/SOURCES.md); the QMV threshold is about 74% of the 345 votes.
NICE_VOTES = {"de": 29, "fr": 29, "it": 29, "uk": 29, "es": 27, "pl": 27, "ro": 14, "nl": 13, "be": 12, "cz": 12,
              "el": 12, "hu": 12, "pt": 12, "at": 10, "bu": 10, "se": 10, "dk": 7, "ie": 7, "lt": 7, "sk": 7,
              "fi": 7, "cy": 4, "ee": 4, "lv": 4, "lu": 4, "si": 4, "mt": 3}
QMV_THRESHOLD = 255 / 345
#: The Council's rule as the file codes it (``counvte``).
COUNCIL_RULES = {"Unan": "unanimity", "QMV": "qmv"}
RULES = ("unanimity", "qmv")
#: Issues the backtest needs at least.
MIN_ISSUES = 10
#: The candidate costs of objecting; ties go to the earlier (smaller) one.
TOLERANCES = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, float("inf"))
#: Cross-validation of the fit: folds, and the seed of the permutation that assigns them.
FOLDS, FOLD_SEED = 5, 0
BOOTSTRAP, BOOTSTRAP_SEED = 2000, 0
#: The column naming an issue's legislative proposal (its issues share a fold) and its procedure.
PROPOSAL_COLUMN, ISSUE_COLUMN, PROCEDURE_COLUMN = "prnr", "isnr", "proc"
#: The compromise model's institutions: the Commission always, the Parliament under co-decision only (``proc``
#: COD; under consultation, CNS, it gives an opinion the Council may ignore). Each gets the largest member
#: states' capability (29 Nice votes), as in Thomson et al. (2006) and shared/design/BARGAINING.md.
COMMISSION, PARLIAMENT, CO_DECISION = "com", "ep", "COD"
INSTITUTION_VOTES = max(NICE_VOTES.values())
#: The columns the backtest reads (docs/validation.md, "File format"); any other is the data set's own, not read.
COLUMNS = frozenset({"counvte", "rp", "out", "prname", PROPOSAL_COLUMN, ISSUE_COLUMN, PROCEDURE_COLUMN,
                     *(f"{kind}{actor}" for actor in (*NICE_VOTES, COMMISSION, PARLIAMENT) for kind in "ps")})
#: The engine's mechanisms, scored each (sim.core.vocabulary.BARGAINING: veto first).
MECHANISMS: tuple[Bargaining, ...] = BARGAINING
#: The models of the report, the engine first: the veto mechanism is "engine", the others "engine (<mechanism>)".
ENGINE, ENGINE_CV = "engine", "engine, cross-validated"


def model_name(mechanism: str) -> str:
    """The report's name for the engine under ``mechanism``."""
    return ENGINE if mechanism == "veto" else f"engine ({mechanism})"


def cv_name(mechanism: str) -> str:
    """The report's name for the engine under ``mechanism``, cross-validated."""
    return f"{model_name(mechanism)}, cross-validated"


BASELINES = ("compromise model", "weighted mean", "median", "reference point")
#: What marks a fit file.
FIT_FORMAT = "sco-sim backtest fit"
#: What a file given to the backtest was expected to be, for the message when it is not (a FIFO, a folder).
DEU_FILE, FIT_FILE = "a DEU file (tab-separated)", "a JSON fit written by --save-fit"
GROUPINGS = {"proposal": f"whole legislative proposals (column {PROPOSAL_COLUMN})", "issue": "single issues"}


@dataclass(frozen=True)
class Issue:
    """One controversial issue: member states' positions and saliences (0-1), reference point, rule, outcome;
    its proposal and identifier when the file gives them, and the institutions' (position, salience)."""

    row: int
    name: str
    rule: str  # "unanimity" or "qmv"
    positions: dict[str, float]
    saliences: dict[str, float]
    reference: float | None
    outcome: float
    proposal: str | None = None
    ident: str | None = None  # the file's issue number, to recognise an issue in another file
    institutions: dict[str, tuple[float, float]] = field(default_factory=dict)


def read_issues(path: Path) -> tuple[list[Issue], list[str]]:
    """The usable issues of a DEU-format file, and one message per row or actor left out, naming the row."""
    try:
        reader = csv.reader(io.StringIO(read_bounded(path, MAX_DEU_BYTES, DEU_FILE).decode("utf-8"), newline=""),
                            delimiter="\t")
        header = next(reader, [])
        lines = [fields for fields in reader if fields]  # a blank line holds no issue
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ConfigError(path, "", f"cannot be read as a tab-separated file ({error})") from None
    needed = {"counvte", "out", "rp"}
    if not lines or not needed <= set(header):
        raise ConfigError(path, "header",
                          f"expected the columns {', '.join(sorted(needed))} and p<actor>/s<actor> pairs")
    _check_header(path, header)
    issues, skipped = [], []
    for number, fields in enumerate(lines, start=2):  # line 1 is the header
        row = dict(zip(header, fields, strict=False))
        name = row.get(ISSUE_COLUMN) or row.get("prname") or f"line {number}"
        where = f"{path.name}:{number} ({name})"
        if len(fields) != len(header):  # a tab too many or too few: every value after it is in another's column
            skipped.append(f"{where}: {len(fields)} fields, the header has {len(header)}; issue skipped")
            continue
        rule = COUNCIL_RULES.get((row.get("counvte") or "").strip())
        if rule is None:
            skipped.append(f"{where}: unknown rule {row.get('counvte')!r} (expected Unan or QMV); issue skipped")
            continue
        outcome = _number(row.get("out"))
        if outcome is None:
            skipped.append(f"{where}: no outcome; issue skipped")
            continue
        positions, saliences = {}, {}
        for actor in NICE_VOTES:
            x, s = _number(row.get(f"p{actor}")), _number(row.get(f"s{actor}"))
            if x is None:
                if (row.get(f"p{actor}") or "").strip():
                    skipped.append(f"{where}: {actor}'s position {row.get(f'p{actor}')!r} "
                                   f"is not a number from 0 to 100; {actor} left out")
                continue  # no position taken: the actor is not part of this issue
            if s is None:
                skipped.append(f"{where}: {actor} has a position but no salience; {actor} left out of this issue")
                continue
            positions[actor], saliences[actor] = x / 100, s / 100
        if len(positions) < 2:
            skipped.append(f"{where}: fewer than two member states took a position; issue skipped")
            continue
        reference = _number(row.get("rp"))
        if reference is None and (row.get("rp") or "").strip():
            skipped.append(f"{where}: reference point {row.get('rp')!r} "
                           "is not a number from 0 to 100; treated as absent")
        issues.append(Issue(number, name, rule, positions, saliences,
                            None if reference is None else reference / 100, outcome / 100,
                            (row.get(PROPOSAL_COLUMN) or "").strip() or None,
                            (row.get(ISSUE_COLUMN) or "").strip() or None, _institutions(row)))
    return issues, skipped


def _check_header(path: Path, header: list[str]) -> None:
    """Refuse a header under which the rows would be misread without a word: a column twice (the second's values
    replace the first's), a column the backtest reads written otherwise (``pDE``, `` out``: not read), a position
    without its salience or a salience without its position (the actor left out of every issue). Columns the
    backtest does not read (DEU III has dozens: ``council``, ``pcr``, ...) are the data set's own and ignored."""
    seen: dict[str, int] = {}
    for column, name in enumerate(header, start=1):
        if name in seen:
            raise ConfigError(path, "header", f"duplicate column {name!r} (columns {seen[name]} and {column}); "
                                              "each column once")
        seen[name] = column
    for name in header:
        near = name.strip().lower()
        if name not in COLUMNS and near in COLUMNS:
            raise ConfigError(path, "header", f"column {name!r} is not read (did you mean {near!r}?)")
    for actor in (*NICE_VOTES, COMMISSION, PARLIAMENT):
        position, salience = f"p{actor}", f"s{actor}"
        if (position in seen) != (salience in seen):
            has, lacks = (position, salience) if position in seen else (salience, position)
            what = "salience" if position in seen else "position"
            raise ConfigError(path, "header", f"column {has!r} has no {what} column {lacks!r}")


def _institutions(row: dict[str, str]) -> dict[str, tuple[float, float]]:
    """The Commission's and, under co-decision, the Parliament's (position, salience), where both are given."""
    actors = [COMMISSION] + ([PARLIAMENT] if (row.get(PROCEDURE_COLUMN) or "").strip() == CO_DECISION else [])
    found = {}
    for actor in actors:
        x, s = _number(row.get(f"p{actor}")), _number(row.get(f"s{actor}"))
        if x is not None and s is not None:
            found[actor] = (x / 100, s / 100)
    return found


def _number(text: str | None) -> float | None:
    try:
        value = float((text or "").strip())
    except ValueError:
        return None
    return value if np.isfinite(value) and 0 <= value <= 100 else None


def sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes: what identifies a data file across copies and names."""
    return hashlib.sha256(read_bounded(path, MAX_DEU_BYTES, DEU_FILE)).hexdigest()


# --- the engine and the baselines on one issue ----------------------------------------------------------


def compromise(issue: Issue) -> float:
    """The capability x salience weighted mean of positions (capability 1 each under unanimity)."""
    weights = np.array([issue.saliences[a] * (NICE_VOTES[a] if issue.rule == "qmv" else 1.0) for a in issue.positions])
    return (float(np.average(list(issue.positions.values()), weights=weights)) if weights.sum() > 0
            else float(np.mean(list(issue.positions.values()))))


#: The cost of objecting that stands for "no objection binds" ("inf"): the engine needs a finite number.
NO_OBJECTION = 1e9


@dataclass(frozen=True)
class Table:
    """One issue on the engine's one-sided axis: the status quo ``reference`` at ambition 0, ``reference + d`` at
    ambition 1; the bargainers (member states, then institutions) and the presidency, a non-voting sponsor, last."""

    reference: float
    d: float
    actors: tuple[str, ...]  # the bargainers, without the sponsor
    valuation: Valuation  # (1, N + 1)
    capability: NDArray[np.float64]  # (N + 1,)
    members: int  # the first ``members`` actors are member states; the rest are institutions, which never object
    procedure: Procedure


def table(issue: Issue, bargaining: Bargaining = "veto", steps: int = 101) -> Table | None:
    """The issue on the engine's axis; None where it has no status quo or nothing to move toward.

    Under the veto mechanism ambition 1 is the member states' compromise (:func:`compromise`), and the bargainers
    are the member states. Under the bargaining mechanisms ambition 1 is the position farthest from the status
    quo, among the member states' and the institutions', on the side of the compromise model's outcome
    (:func:`compromise_model`), so that no position on that side is clipped; the engine's outcome space is
    one-sided (ambition 0 to 1), so a position on the other side of the status quo counts as the status quo
    itself (position 0; its salience, by :func:`sim.core.bargaining.salience`, then also counts the slope it has
    there). The Commission and, under co-decision, the Parliament bargain with 29 votes each.
    """
    if issue.reference is None:
        return None
    rp = issue.reference
    members = list(issue.positions)
    institutions = [] if bargaining == "veto" else list(issue.institutions)
    if bargaining == "veto":
        d = compromise(issue) - rp
    else:
        side = np.sign(compromise_model(issue) - rp)
        everyone = [*issue.positions.values(), *(x for x, _ in issue.institutions.values())]
        d = float(side * max(side * (x - rp) for x in everyone)) if side else 0.0
    if abs(d) < 1e-12:
        return None
    x = np.array([*(issue.positions[a] for a in members), *(issue.institutions[a][0] for a in institutions)])
    s = np.array([*(issue.saliences[a] for a in members), *(issue.institutions[a][1] for a in institutions)])
    # the presidency (a non-voting sponsor, last) wants the proposal adopted: its utility rises with the ambition
    benefit = np.append(2 * s * d * (x - rp), 1.0)[None, :]
    cost = np.append(s * d * d, 0.0)[None, :]
    member_votes = float(sum(NICE_VOTES[a] for a in members))
    capability = np.array([*(NICE_VOTES[a] for a in members), *(INSTITUTION_VOTES for _ in institutions), 0.0],
                          dtype=float)
    if issue.rule == "unanimity":
        procedure = Procedure("consensus", None, steps, bargaining)
    else:
        # the institutions vote (so that they bargain) but never object; the blocking minority stays the member
        # states' (1 - 255/345 of their votes) however many votes the institutions add
        share = 1 - (1 - QMV_THRESHOLD) * member_votes / (capability.sum())
        procedure = Procedure("capability_majority", share, steps, bargaining)
    valuation = Valuation(benefit, cost, np.zeros_like(benefit), np.zeros_like(cost))
    return Table(rp, d, (*members, *institutions), valuation, capability, len(members), procedure)


def engine_predictions(issue: Issue, tolerances: tuple[float, ...] | list[float], bargaining: Bargaining = "veto",
                       steps: int = 101, held: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    """The engine's outcome under ``bargaining`` for each cost of objecting (one replicate each); ``held`` are
    the bargainers' traded positions (N + 1,), from :func:`traded_positions`, for exchange.

    Without a status quo the engine has no axis: the prediction is the member states' compromise under the
    veto mechanism, the compromise model's outcome under the others."""
    found = table(issue, bargaining, steps)
    if found is None:
        fallback = (compromise(issue) if bargaining == "veto" else compromise_model(issue)
                    if issue.reference is None else issue.reference)
        return np.full(len(tolerances), fallback)
    n, k = found.capability.size, len(tolerances)
    t = np.array([tol if np.isfinite(tol) else NO_OBJECTION for tol in tolerances])
    walk_away = np.repeat(t[:, None], n, axis=1)  # leaving the bargain costs every bargainer alike
    tolerance = walk_away.copy()
    tolerance[:, found.members:n - 1] = NO_OBJECTION  # the institutions cannot object under the Council's rule
    voters = np.ones((k, n), dtype=bool)
    voters[:, -1] = False
    v = found.valuation
    valuation = Valuation(*(np.repeat(a, k, axis=0) for a in (v.benefit, v.cost, v.outside_benefit, v.outside_cost)))
    terms = Terms(sponsor=n - 1, ambition=1.0, min_ambition=0.0, min_participants=1)
    if bargaining == "exchange" and held is not None:
        decision = bargaining_models.compromise(valuation, tolerance, voters, found.capability, terms,
                                                found.procedure, held=np.repeat(held[None, :], k, axis=0))
    else:
        decision = decide(valuation, tolerance, voters, found.capability, terms, found.procedure, walk_away)
    ambition = np.where(decision.adopted, decision.ambition, 0.0)
    return np.asarray(found.reference + ambition * found.d, dtype=float)


def engine_prediction(issue: Issue, tolerance: float, steps: int = 101, bargaining: Bargaining = "veto",
                      held: NDArray[np.float64] | None = None) -> float:
    """The engine's outcome under ``bargaining`` (veto: the compromise, lowered toward the status quo until the
    rule lets it pass; compromise, nash, exchange: sim.core.bargaining's), with one cost of objecting."""
    return float(engine_predictions(issue, [tolerance], bargaining, steps, held)[0])


def traded_positions(issues: list[Issue]) -> dict[int, NDArray[np.float64]]:
    """Per issue (by row) of a legislative proposal with other issues in ``issues`` (same ``prnr``, each with a
    status quo), the positions its bargainers hold after trading across the proposal's issues
    (:func:`sim.core.bargaining.exchange`), in the order of :func:`table`'s actors, the sponsor last.

    The actors are aligned across the proposal's issues; an actor absent from an issue has no salience there
    (benefit and cost 0), so it neither trades on it nor weighs in its compromise. Issues without a sibling are
    not traded: exchange decides them as their compromise."""
    groups: dict[str, list[tuple[Issue, Table]]] = {}
    for issue in issues:
        found = table(issue, "exchange")
        if issue.proposal is not None and found is not None:
            groups.setdefault(issue.proposal, []).append((issue, found))
    held: dict[int, NDArray[np.float64]] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        actors = [a for a in (*NICE_VOTES, COMMISSION, PARLIAMENT) if any(a in t.actors for _, t in members)]
        where = {a: n for n, a in enumerate(actors)}
        n = len(actors) + 1  # the sponsor last
        capability = np.array([*(NICE_VOTES.get(a, INSTITUTION_VOTES) for a in actors), 0.0])
        valuations = []
        for _, t in members:
            benefit, cost = np.zeros((1, n)), np.zeros((1, n))
            cells = [where[a] for a in t.actors] + [n - 1]
            benefit[0, cells], cost[0, cells] = t.valuation.benefit[0], t.valuation.cost[0]
            valuations.append(Valuation(benefit, cost, np.zeros((1, n)), np.zeros((1, n))))
        voters = np.ones((1, n), dtype=bool)
        voters[0, -1] = False
        traded = bargaining_models.exchange(valuations, voters, capability, [1.0] * len(members))
        for (issue, t), positions in zip(members, traded, strict=True):
            held[issue.row] = positions[0, [where[a] for a in t.actors] + [n - 1]]
    return held


def candidates(issues: list[Issue], bargaining: Bargaining) -> NDArray[np.float64]:
    """The engine's predictions (T, n) under ``bargaining``, one row per candidate cost of objecting
    (:data:`TOLERANCES`), one column per issue."""
    held = traded_positions(issues) if bargaining == "exchange" else {}
    if not issues:
        return np.empty((len(TOLERANCES), 0))
    return np.stack([engine_predictions(i, TOLERANCES, bargaining, held=held.get(i.row)) for i in issues], axis=1)


def compromise_model(issue: Issue) -> float:
    """Stokman's compromise model: the mean of positions weighted by Nice votes x salience (under both rules, as
    the literature measures it), the Commission and, under co-decision, the Parliament weighing as a largest
    member state."""
    x = [*issue.positions.values(), *(p for p, _ in issue.institutions.values())]
    w = ([issue.saliences[a] * NICE_VOTES[a] for a in issue.positions]
         + [INSTITUTION_VOTES * s for _, s in issue.institutions.values()])
    return float(np.average(x, weights=w)) if sum(w) > 0 else float(np.mean(x))


def baselines(issue: Issue) -> dict[str, float | None]:
    """The compromise model, the salience-weighted mean and the median of positions, and the reference point."""
    x = np.array(list(issue.positions.values()))
    s = np.array([issue.saliences[a] for a in issue.positions])
    return {"compromise model": compromise_model(issue),
            "weighted mean": float(np.average(x, weights=s)) if s.sum() > 0 else float(x.mean()),
            "median": float(np.median(x)), "reference point": issue.reference}


# --- the fit: cross-validated on the calibration file only -----------------------------------------------


PROCEDURE = ("per mechanism and rule, each candidate cost of objecting in "
             f"{{{', '.join(map(str, TOLERANCES))}}} is scored by {FOLDS}-fold cross-validation on the "
             "calibration file's issues under that rule; the folds are "
             f"{{grouping}} in an order drawn by a permutation with seed {FOLD_SEED}, cut into {FOLDS} near-equal "
             "parts; the candidate with the lowest cross-validated MAE is chosen (ties: the smaller). A candidate "
             "has nothing fitted inside the folds, so its cross-validated MAE equals its MAE over the calibration "
             "issues; the folds give the error of the whole procedure (chosen on four folds, scored on the fifth)")


@dataclass(frozen=True)
class RuleFit:
    """The fitted cost of objecting under one rule, and the cross-validated errors (x100, the data's scale)."""

    tolerance: float
    issues: int
    groups: int
    mae_per_candidate: dict[str, float]  # candidate (as written by :func:`label`) -> cross-validated MAE
    mae_of_procedure: float  # the candidate chosen on the other folds, scored on the held-out fold


@dataclass(frozen=True)
class Fit:
    """The engine's fitted parameters per mechanism and rule, where they come from, and how they were chosen."""

    mechanisms: dict[Bargaining, dict[str, RuleFit]]  # mechanism -> rule -> fit
    calibration_file: str
    calibration_sha256: str
    calibration_issues: tuple[str, ...]  # the calibration issues' identifiers (``isnr``), where the file gives them
    grouping: str  # a key of GROUPINGS
    folds: int = FOLDS
    seed: int = FOLD_SEED
    version: str = __version__

    @property
    def rules(self) -> tuple[str, ...]:
        """The rules fitted (the same under every mechanism)."""
        return tuple(next(iter(self.mechanisms.values()), {}))

    @property
    def tolerance(self) -> dict[str, dict[str, float]]:
        """The cost of objecting per mechanism and rule."""
        return {mechanism: {rule: fitted.tolerance for rule, fitted in rules.items()}
                for mechanism, rules in self.mechanisms.items()}

    @property
    def procedure(self) -> str:
        return PROCEDURE.replace("{grouping}", GROUPINGS[self.grouping])


def label(tolerance: float) -> str:
    """A candidate as the fit file writes it ("inf" for no cost an actor would pay)."""
    return "inf" if math.isinf(tolerance) else repr(tolerance)


def grouping_of(issues: list[Issue]) -> str:
    """How folds are drawn: whole proposals when every issue names one (issues of one proposal are decided
    together and must not sit on both sides of a split), else single issues."""
    return "proposal" if issues and all(i.proposal for i in issues) else "issue"


def fold_groups(issues: list[Issue], grouping: str) -> list[str]:
    """Each issue's group: its proposal, or itself."""
    return [str(i.proposal) if grouping == "proposal" else f"{n:09d}" for n, i in enumerate(issues)]


def fold_of(issues: list[Issue], grouping: str, folds: int = FOLDS, seed: int = FOLD_SEED) -> NDArray[np.intp]:
    """Each issue's fold: the groups, sorted, in the order of a permutation seeded with ``seed``, cut into
    ``folds`` near-equal runs. Assumes at least ``folds`` groups."""
    keys = fold_groups(issues, grouping)
    groups = sorted(set(keys))
    order = np.random.default_rng(seed).permutation(len(groups))
    part = {groups[g]: k for k, chunk in enumerate(np.array_split(order, folds)) for g in chunk}
    return np.array([part[key] for key in keys], dtype=np.intp)


def cross_validate(issues: list[Issue], grouping: str, folds: int = FOLDS, seed: int = FOLD_SEED,
                   bargaining: Bargaining = "veto", predictions: NDArray[np.float64] | None = None,
                   ) -> tuple[RuleFit, NDArray[np.float64]]:
    """The fit on issues of one rule under ``bargaining``, and each issue's held-out prediction (the candidate
    chosen without its fold). ``predictions`` (T, n) are :func:`candidates` of the issues, if already computed
    (exchange's positions are traded across a proposal's issues, which a caller may hold beyond ``issues``).
    Assumes the issues share a rule and form at least ``folds`` groups."""
    if predictions is None:
        predictions = candidates(issues, bargaining)
    outcomes = np.array([i.outcome for i in issues])
    errors = np.abs(predictions - outcomes)
    fold = fold_of(issues, grouping, folds, seed)
    held = np.empty(len(issues))
    for k in range(folds):
        best = int(np.argmin(errors[:, fold != k].mean(axis=1)))  # argmin: the first, smaller, on ties
        held[fold == k] = predictions[best, fold == k]
    # each issue is held out once and a candidate has nothing fitted, so its pooled held-out error is its mean error
    pooled = errors.mean(axis=1)
    fitted = RuleFit(TOLERANCES[int(np.argmin(pooled))], len(issues), len(set(fold_groups(issues, grouping))),
                     {label(t): 100 * float(pooled[c]) for c, t in enumerate(TOLERANCES)},
                     100 * float(np.abs(held - outcomes).mean()))
    return fitted, held


def _cross_validated(issues: list[Issue], mechanism: Bargaining, grouping: str,
                     ) -> dict[str, tuple[list[Issue], tuple[RuleFit, NDArray[np.float64]]]]:
    """Per rule with enough groups: its issues, and :func:`cross_validate`'s fit and held-out predictions under
    ``mechanism`` (the candidates computed once over all ``issues``, so exchange trades across every issue of a
    proposal, whatever its rule)."""
    predictions = candidates(issues, mechanism)
    column = {i.row: n for n, i in enumerate(issues)}
    return {rule: (mine, cross_validate(mine, grouping, bargaining=mechanism,
                                        predictions=predictions[:, [column[i.row] for i in mine]]))
            for rule, mine in _by_rule(issues, grouping).items()}


def fit(issues: list[Issue], path: Path) -> Fit:
    """Each mechanism's cost of objecting per rule, fitted on the issues of the calibration file ``path`` alone.
    A rule with fewer than FOLDS groups is not fitted; with none fitted, the file is refused."""
    grouping = grouping_of(issues)
    if not _by_rule(issues, grouping):
        raise ConfigError(path, "counvte", f"expected at least {FOLDS} proposals (or issues) under one rule "
                                           "to cross-validate its cost of objecting")
    mechanisms = {m: {rule: found[0] for rule, (_, found) in _cross_validated(issues, m, grouping).items()}
                  for m in MECHANISMS}
    return Fit(mechanisms, str(path.resolve()), sha256(path), tuple(i.ident for i in issues if i.ident), grouping)


def held_out(issues: list[Issue]) -> dict[str, dict[int, float]]:
    """Per mechanism, each issue's prediction (by row) by the engine fitted without the issue's fold, for the
    rules that have enough groups to cross-validate."""
    grouping = grouping_of(issues)
    predictions: dict[str, dict[int, float]] = {}
    for m in MECHANISMS:
        mine = predictions.setdefault(m, {})
        for chosen, (_, held) in _cross_validated(issues, m, grouping).values():
            mine.update(zip((i.row for i in chosen), held.tolist(), strict=True))
    return predictions


def _by_rule(issues: list[Issue], grouping: str) -> dict[str, list[Issue]]:
    """The issues under each rule that has at least FOLDS groups to cross-validate on."""
    split = {rule: [i for i in issues if i.rule == rule] for rule in RULES}
    return {rule: mine for rule, mine in split.items() if len(set(fold_groups(mine, grouping))) >= FOLDS}


# --- the fit as a file ------------------------------------------------------------------------------


def fit_document(fitted: Fit) -> dict[str, Any]:
    """The fit as ``--save-fit`` writes it and a backtest's folder records it (JSON; "inf" for infinity)."""
    return {
        "format": FIT_FORMAT,
        "sco_sim_version": fitted.version,
        "parameters": {"tolerance": {m: {rule: label(t) if math.isinf(t) else t for rule, t in rules.items()}
                                     for m, rules in fitted.tolerance.items()}},
        "calibration_file": {"path": fitted.calibration_file, "sha256": fitted.calibration_sha256,
                             "issue_ids": list(fitted.calibration_issues)},
        "procedure": {"description": fitted.procedure, "folds": fitted.folds, "seed": fitted.seed,
                      "grouping": fitted.grouping, "candidates": [label(t) for t in TOLERANCES],
                      "mechanisms": list(fitted.mechanisms)},
        "cross_validation": {m: {rule: {"issues": r.issues, "groups": r.groups,
                                        "mae_per_candidate": r.mae_per_candidate,
                                        "mae_of_procedure": r.mae_of_procedure} for rule, r in rules.items()}
                             for m, rules in fitted.mechanisms.items()},
    }


def save_fit(fitted: Fit, path: Path) -> None:
    """Write the fit to ``path``; an existing file is replaced only if it is a fit itself."""
    if path.exists() or path.is_symlink():
        try:
            ours = path.is_file() and json.loads(path.read_text(encoding="utf-8")).get("format") == FIT_FORMAT
        except (OSError, UnicodeDecodeError, ValueError, AttributeError):
            ours = False
        if not ours:
            raise ConfigError(path, "--save-fit", "expected a new file or an earlier fit to replace, "
                                                  "not another file")
    atomic_text(json.dumps(fit_document(fitted), indent=2) + "\n", path)


def load_fit(path: Path) -> Fit:
    """A fit written by ``--save-fit``; anything else is refused naming the first key that is wrong."""
    try:
        document = json.loads(read_bounded(path, MAX_FIT_BYTES, FIT_FILE).decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(path, "format", "expected a JSON fit written by --save-fit (not UTF-8 text)") from None
    except ValueError as error:
        raise ConfigError(path, "format", f"expected a JSON fit written by --save-fit ({error})") from None
    except OSError as error:
        raise ConfigError(path, "", f"cannot be read ({error})") from None
    if not isinstance(document, dict) or document.get("format") != FIT_FORMAT:
        raise ConfigError(path, "format", f"expected {FIT_FORMAT!r} (a file written by --save-fit)")
    tolerances = _mapping(path, document, "parameters.tolerance")
    per_mechanism = f"a tolerance per mechanism ({', '.join(MECHANISMS)}), each a mapping of rule to tolerance"
    for key in tolerances:
        if key not in MECHANISMS:  # a fit written before the mechanisms maps rules to tolerances: refused
            raise ConfigError(path, f"parameters.tolerance.{key}",
                              f"expected {per_mechanism} (a fit from before the mechanisms? refit it with --save-fit)")
    missing = [m for m in MECHANISMS if m not in tolerances]
    if missing:
        raise ConfigError(path, f"parameters.tolerance.{missing[0]}" if tolerances else "parameters.tolerance",
                          f"expected {per_mechanism}")
    mechanisms: dict[Bargaining, dict[str, RuleFit]] = {}
    for m in MECHANISMS:
        given = _mapping(path, document, f"parameters.tolerance.{m}")
        if not given or not set(given) <= set(RULES) or (mechanisms and set(given) != set(mechanisms["veto"])):
            raise ConfigError(path, f"parameters.tolerance.{m}",
                              f"expected a tolerance for {' and/or '.join(RULES)}, the same rules for every mechanism")
        rules = mechanisms.setdefault(m, {})
        for rule in given:
            tolerance = _tolerance(path, given[rule], f"parameters.tolerance.{m}.{rule}")
            where = f"cross_validation.{m}.{rule}"
            per_candidate = _mapping(path, document, f"{where}.mae_per_candidate")
            rules[rule] = RuleFit(tolerance, _count(path, document, f"{where}.issues"),
                                  _count(path, document, f"{where}.groups"),
                                  {str(k): _real(path, v, f"{where}.mae_per_candidate.{k}")
                                   for k, v in per_candidate.items()},
                                  _real(path, _value(path, document, f"{where}.mae_of_procedure"),
                                        f"{where}.mae_of_procedure"))
    digest = _value(path, document, "calibration_file.sha256")
    if not (isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
        raise ConfigError(path, "calibration_file.sha256", "expected 64 lower-case hexadecimal digits")
    ids = _value(path, document, "calibration_file.issue_ids")
    if not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
        raise ConfigError(path, "calibration_file.issue_ids", "expected a list of issue numbers (strings)")
    grouping = _value(path, document, "procedure.grouping")
    if grouping not in GROUPINGS:
        raise ConfigError(path, "procedure.grouping", f"expected one of {', '.join(GROUPINGS)}")
    return Fit(mechanisms, _text(path, document, "calibration_file.path"), digest, tuple(ids), grouping,
               _count(path, document, "procedure.folds"), _count(path, document, "procedure.seed"),
               _text(path, document, "sco_sim_version"))


def _value(path: Path, document: dict[str, Any], key: str) -> Any:
    node: Any = document
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(path, key, "expected this key, as --save-fit writes it")
        node = node[part]
    return node


def _mapping(path: Path, document: dict[str, Any], key: str) -> dict[str, Any]:
    node = _value(path, document, key)
    if not isinstance(node, dict):
        raise ConfigError(path, key, "expected a mapping")
    return node


def _text(path: Path, document: dict[str, Any], key: str) -> str:
    node = _value(path, document, key)
    if not isinstance(node, str):
        raise ConfigError(path, key, "expected a string")
    return node


def _count(path: Path, document: dict[str, Any], key: str) -> int:
    node = _value(path, document, key)
    if isinstance(node, bool) or not isinstance(node, int) or node < 0:
        raise ConfigError(path, key, "expected a whole number, 0 or more")
    return node


def _real(path: Path, node: Any, key: str) -> float:
    if isinstance(node, bool) or not isinstance(node, int | float) or not math.isfinite(node):
        raise ConfigError(path, key, "expected a finite number")
    return float(node)


def _tolerance(path: Path, node: Any, key: str) -> float:
    if node == "inf":
        return float("inf")
    if isinstance(node, bool) or not isinstance(node, int | float) or not math.isfinite(node) or node < 0:
        raise ConfigError(path, key, 'expected a number, 0 or more, or "inf"')
    return float(node)


# --- scoring ----------------------------------------------------------------------------------------


def predict(issues: list[Issue], tolerance: dict[str, dict[str, float]],
            held_out: dict[str, dict[int, float]] | None) -> pd.DataFrame:
    """Per issue (x100): the outcome, the engine under each mechanism with the given tolerances (mechanism ->
    rule -> tolerance), its held-out prediction if given, and the baselines."""
    traded = traded_positions(issues)
    rows = []
    for issue in issues:
        predictions: dict[str, float | None] = {}
        for m in MECHANISMS:
            predictions[model_name(m)] = engine_prediction(issue, tolerance[m][issue.rule], bargaining=m,
                                                           held=traded.get(issue.row) if m == "exchange" else None)
            if held_out is not None:
                predictions[cv_name(m)] = held_out[m].get(issue.row)
        predictions.update(baselines(issue))
        rows.append({"row": issue.row, "issue": issue.name, "rule": issue.rule, "outcome": 100 * issue.outcome,
                     **{model: None if p is None else 100 * p for model, p in predictions.items()}})
    return pd.DataFrame(rows)


def summarise(per_issue: pd.DataFrame, bootstrap: int = BOOTSTRAP, seed: int = BOOTSTRAP_SEED) -> pd.DataFrame:
    """Mean absolute error per model and subset with a 95% bootstrap interval over issues (each subset's draws
    from the same seed, so models scored on the same issues are resampled alike)."""
    summary = []
    models = [c for c in per_issue.columns if c not in ("row", "issue", "rule", "outcome")]
    for model in models:
        for subset, mask in (("all", np.ones(len(per_issue), bool)), ("unanimity", per_issue.rule == "unanimity"),
                             ("qmv", per_issue.rule == "qmv")):
            frame = per_issue[mask & per_issue[model].notna()]
            errors = (frame[model] - frame.outcome).abs().to_numpy(dtype=float)
            if not len(errors):
                continue
            draws = np.random.default_rng(seed).choice(errors, size=(bootstrap, len(errors))).mean(axis=1)
            summary.append({"model": model, "issues": subset, "n": len(errors), "mae": errors.mean(),
                            "ci_low": np.percentile(draws, 2.5), "ci_high": np.percentile(draws, 97.5)})
    return pd.DataFrame(summary)


@dataclass(frozen=True)
class Backtest:
    """The engine, with its fit, and the baselines on the issues of one file."""

    file: Path
    sha256: str
    issues: list[Issue]
    skipped: list[str]  # one message per row or actor left out
    fit: Fit
    in_sample: str | None  # why the score is in-sample; None when it is out-of-sample
    shared: int  # the file's issues also in the calibration file (same issue number)
    per_issue: pd.DataFrame
    summary: pd.DataFrame

    def mae(self, issues: str, model: str = ENGINE) -> float:
        """A model's MAE (x100; the veto engine's unless told) over ``issues`` (all, unanimity, qmv); nan where
        the file has none."""
        row = self.summary[(self.summary.model == model) & (self.summary.issues == issues)]
        return float(row.mae.iloc[0]) if len(row) else float("nan")


def run_backtest(path: Path, rule: str = "all", calibrate_on: Path | None = None,
                 fitted: Fit | None = None) -> Backtest:
    """Score the issues of ``path`` (those under ``rule``: all, unanimity or qmv) with the engine fitted on
    ``calibrate_on`` (default: ``path`` itself, in-sample) or with a saved fit, frozen; and the baselines."""
    issues, skipped = read_issues(path)
    if rule != "all":
        issues = [i for i in issues if i.rule == rule]
    if len(issues) < MIN_ISSUES:
        raise ConfigError(path, "", f"only {len(issues)} usable issues; the backtest needs at least {MIN_ISSUES}")
    digest = sha256(path)
    if fitted is None:
        source = calibrate_on or path
        fitted = fit(read_issues(source)[0], source)
    unfitted = sorted({i.rule for i in issues} - set(fitted.rules))
    if unfitted:
        raise ConfigError(path, "counvte", f"expected no issues under {unfitted[0]}: the fit has no cost of "
                                           f"objecting for it (its calibration file has fewer than {FOLDS} "
                                           "proposals under it); choose the other rule with --rule")
    why = in_sample(path, digest, calibrate_on, fitted)
    ids = set(fitted.calibration_issues)
    shared = sum(1 for i in issues if i.ident in ids)
    if why is None and issues and shared == len(issues):
        why = f"every issue of {path.name} is in the calibration file (same {ISSUE_COLUMN})"
    honest = held_out(issues) if why is not None else None  # the honest row beside an in-sample score
    per_issue = predict(issues, fitted.tolerance, honest)
    return Backtest(path, digest, issues, skipped, fitted, why, shared, per_issue, summarise(per_issue))


def in_sample(path: Path, digest: str, calibrate_on: Path | None, fitted: Fit) -> str | None:
    """Why scoring ``path`` with ``fitted`` is in-sample, or None: the fit was made on this file (no
    --calibrate-on, the same resolved path, or the same bytes)."""
    if calibrate_on is None and fitted.calibration_sha256 == digest and Path(fitted.calibration_file) == path.resolve():
        return "the parameters were fitted on the scored file itself"
    if calibrate_on is not None and calibrate_on.resolve() == path.resolve():
        return "--calibrate-on names the scored file"
    if fitted.calibration_sha256 == digest:
        return f"the calibration file {fitted.calibration_file} has the same content (SHA-256) as the scored file"
    return None


def scoring_document(result: Backtest) -> dict[str, Any]:
    """Whether the score is in-sample, of which file, and the engine's errors, as the folder records it."""
    return {"file": str(result.file.resolve()), "sha256": result.sha256,
            "score": score_kind(result), "why": result.in_sample,
            "issues_also_in_calibration": result.shared,
            **_maes(result, ENGINE),
            "mechanisms": {m: _maes(result, model_name(m)) for m in MECHANISMS}}


def _maes(result: Backtest, model: str) -> dict[str, float | None]:
    return {f"mae_{'overall' if s == 'all' else s}": None if math.isnan(result.mae(s, model)) else result.mae(s, model)
            for s in ("all", *RULES)}


def score_kind(result: Backtest) -> str:
    """in-sample, partly in-sample (some issues of the file were in the calibration file) or out-of-sample."""
    return "in-sample" if result.in_sample else "partly in-sample" if result.shared else "out-of-sample"


def write(result: Backtest, out: Path, argv: list[str]) -> None:
    """The backtest's folder: the per-issue predictions, the summary, the fit used, whether the score is
    in-sample, and what was left out of the file (locked while written; an existing folder with results is
    refused)."""
    with claim(out, False, argv, hint="choose another folder"), staged_folder(out, kind="backtest") as staging:
        result.per_issue.to_csv(staging / "issues.csv", index=False)
        result.summary.to_csv(staging / "summary.csv", index=False)
        (staging / "fit.json").write_text(json.dumps(fit_document(result.fit), indent=2) + "\n", encoding="utf-8")
        (staging / "scoring.json").write_text(json.dumps(scoring_document(result), indent=2) + "\n",
                                              encoding="utf-8")
        (staging / "skipped.txt").write_text("".join(f"{line}\n" for line in result.skipped), encoding="utf-8")
