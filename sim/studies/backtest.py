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

Baselines computed on the same issues: the reference point, the salience-weighted mean of positions,
and the median position. Intervals are bootstrap intervals over issues.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.engine import Procedure, Terms, Valuation, decide
from ..core.errors import ConfigError
from ..core.files import claim, staged_folder

#: Nice-treaty Council votes (shared/data/SOURCES.md); the QMV threshold is about 74% of the 345 votes.
NICE_VOTES = {"de": 29, "fr": 29, "it": 29, "uk": 29, "es": 27, "pl": 27, "ro": 14, "nl": 13, "be": 12, "cz": 12,
              "el": 12, "hu": 12, "pt": 12, "at": 10, "bu": 10, "se": 10, "dk": 7, "ie": 7, "lt": 7, "sk": 7,
              "fi": 7, "cy": 4, "ee": 4, "lv": 4, "lu": 4, "si": 4, "mt": 3}
QMV_THRESHOLD = 255 / 345
#: The Council's rule as the file codes it (``counvte``).
COUNCIL_RULES = {"Unan": "unanimity", "QMV": "qmv"}
#: Issues the backtest needs at least.
MIN_ISSUES = 10
TOLERANCES = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, float("inf"))


@dataclass(frozen=True)
class Issue:
    """One controversial issue: member states' positions and saliences (0-1), reference point, rule, outcome."""

    row: int
    name: str
    rule: str  # "unanimity" or "qmv"
    positions: dict[str, float]
    saliences: dict[str, float]
    reference: float | None
    outcome: float


def read_issues(path: Path) -> tuple[list[Issue], list[str]]:
    """The usable issues of a DEU-format file, and one message per row or actor left out, naming the row."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ConfigError(path, "", f"cannot be read as a tab-separated file ({error})") from None
    needed = {"counvte", "out", "rp"}
    if not rows or not needed <= set(rows[0]):
        raise ConfigError(path, "header",
                          f"expected the columns {', '.join(sorted(needed))} and p<actor>/s<actor> pairs")
    issues, skipped = [], []
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        name = row.get("isnr") or row.get("prname") or f"line {number}"
        where = f"{path.name}:{number} ({name})"
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
                            None if reference is None else reference / 100, outcome / 100))
    return issues, skipped


def _number(text: str | None) -> float | None:
    try:
        value = float((text or "").strip())
    except ValueError:
        return None
    return value if np.isfinite(value) and 0 <= value <= 100 else None


def compromise(issue: Issue) -> float:
    """The capability x salience weighted mean of positions (capability 1 each under unanimity)."""
    weights = np.array([issue.saliences[a] * (NICE_VOTES[a] if issue.rule == "qmv" else 1.0) for a in issue.positions])
    return (float(np.average(list(issue.positions.values()), weights=weights)) if weights.sum() > 0
            else float(np.mean(list(issue.positions.values()))))


def engine_prediction(issue: Issue, tolerance: float, steps: int = 101) -> float:
    """The engine's outcome: the compromise, lowered toward the status quo until the rule lets it pass."""
    offer = compromise(issue)
    if issue.reference is None or abs(offer - issue.reference) < 1e-12:
        return offer if issue.reference is None else issue.reference
    d = offer - issue.reference
    actors = list(issue.positions)
    x = np.array([issue.positions[a] for a in actors])
    s = np.array([issue.saliences[a] for a in actors])
    # the presidency (a non-voting sponsor, last) wants its compromise adopted
    benefit = np.append(2 * s * d * (x - issue.reference), 1.0)[None, :]
    cost = np.append(s * d * d, 0.0)[None, :]
    value = Valuation(benefit, cost, np.zeros_like(benefit), np.zeros_like(cost))
    voters = np.append(np.ones(len(actors), dtype=bool), False)[None, :]
    capability = np.append([NICE_VOTES[a] for a in actors], 0.0)
    rule = (Procedure("consensus", None, steps) if issue.rule == "unanimity"
            else Procedure("capability_majority", QMV_THRESHOLD, steps))
    terms = Terms(sponsor=len(actors), ambition=1.0, min_ambition=0.0, min_participants=1)
    tol = np.full((1, len(actors) + 1), tolerance if np.isfinite(tolerance) else 1e9)
    decision = decide(value, tol, voters, capability, terms, rule)
    ambition = decision.ambition[0] if decision.adopted[0] else 0.0
    return float(issue.reference + ambition * d)


def baselines(issue: Issue) -> dict[str, float | None]:
    """The reference point, the salience-weighted mean and the median of positions."""
    x = np.array(list(issue.positions.values()))
    s = np.array([issue.saliences[a] for a in issue.positions])
    return {"reference point": issue.reference,
            "weighted mean": float(np.average(x, weights=s)) if s.sum() > 0 else float(x.mean()),
            "median": float(np.median(x))}


def choose_tolerance(issues: list[Issue], folds: int = 5, seed: int = 0) -> tuple[float, dict[float | str, float]]:
    """The tolerance with the least cross-validated mean absolute error, and the CV error of each candidate.

    With one free parameter and no per-issue fitting, 'training' picks the candidate with the least
    error on the other folds; its error on the held-out fold is what the table reports.
    """
    order = np.random.default_rng(seed).permutation(len(issues))
    groups = np.array_split(order, folds)
    errors = {t: np.array([abs(engine_prediction(i, t) - i.outcome) for i in issues]) for t in TOLERANCES}
    held_out = []
    for group in groups:
        train = np.setdiff1d(order, group)
        best = min(TOLERANCES, key=lambda t: errors[t][train].mean())
        held_out.append(errors[best][group])
    cv: dict[float | str, float] = {t: float(errors[t].mean()) for t in TOLERANCES}
    chosen = min(TOLERANCES, key=lambda t: errors[t].mean())
    cv["cross-validated"] = float(np.concatenate(held_out).mean())
    return chosen, cv


def calibrate(issues: list[Issue]) -> dict[str, tuple[float, dict[float | str, float]]]:
    """One tolerance per rule, each chosen by 5-fold cross-validation on that rule's issues alone."""
    return {rule: choose_tolerance([i for i in issues if i.rule == rule]) for rule in ("unanimity", "qmv")
            if any(i.rule == rule for i in issues)}


def backtest(issues: list[Issue], tolerance: dict[str, float], bootstrap: int = 2000,
             seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-issue predictions and the table of mean absolute errors (x100, the data's scale) with 95% intervals."""
    rows = []
    for issue in issues:
        predictions = {"engine": engine_prediction(issue, tolerance[issue.rule]), **baselines(issue)}
        rows.append({"row": issue.row, "issue": issue.name, "rule": issue.rule, "outcome": 100 * issue.outcome,
                     **{model: None if p is None else 100 * p for model, p in predictions.items()}})
    per_issue = pd.DataFrame(rows)
    rng = np.random.default_rng(seed)
    summary = []
    for model in ("engine", "reference point", "weighted mean", "median"):
        for subset, mask in (("all", np.ones(len(per_issue), bool)), ("unanimity", per_issue.rule == "unanimity"),
                             ("qmv", per_issue.rule == "qmv")):
            frame = per_issue[mask & per_issue[model].notna()]
            errors = (frame[model] - frame.outcome).abs().to_numpy()
            if not len(errors):
                continue
            draws = rng.choice(errors, size=(bootstrap, len(errors))).mean(axis=1)
            summary.append({"model": model, "issues": subset, "n": len(errors), "mae": errors.mean(),
                            "ci_low": np.percentile(draws, 2.5), "ci_high": np.percentile(draws, 97.5)})
    return per_issue, pd.DataFrame(summary)


@dataclass(frozen=True)
class Backtest:
    """The engine and the baselines on the issues of one file."""

    file: Path
    issues: list[Issue]
    skipped: list[str]  # one message per row or actor left out
    calibration: dict[str, tuple[float, dict[float | str, float]]]  # per rule: the tolerance, and the errors
    per_issue: pd.DataFrame
    summary: pd.DataFrame


def run_backtest(path: Path, rule: str = "all") -> Backtest:
    """Read the issues of ``path`` (those under ``rule``: all, unanimity or qmv), calibrate, and score."""
    if not path.is_file():
        raise ConfigError(path, "", "file not found")
    issues, skipped = read_issues(path)
    if rule != "all":
        issues = [i for i in issues if i.rule == rule]
    if len(issues) < MIN_ISSUES:
        raise ConfigError(path, "", f"only {len(issues)} usable issues; the backtest needs at least {MIN_ISSUES}")
    calibration = calibrate(issues)
    per_issue, summary = backtest(issues, {which: chosen for which, (chosen, _) in calibration.items()})
    return Backtest(path, issues, skipped, calibration, per_issue, summary)


def write(result: Backtest, out: Path, argv: list[str]) -> None:
    """The backtest's folder: the per-issue predictions, the summary, and what was left out of the file (locked
    while written; an existing folder with results is refused)."""
    with claim(out, False, argv, hint="choose another folder"), staged_folder(out, kind="backtest") as staging:
        result.per_issue.to_csv(staging / "issues.csv", index=False)
        result.summary.to_csv(staging / "summary.csv", index=False)
        (staging / "skipped.txt").write_text("".join(f"{line}\n" for line in result.skipped), encoding="utf-8")
