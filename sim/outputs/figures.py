"""Figures of runs, sweeps and comparisons, drawn from the files a run or sweep wrote (never from memory).

Every figure is drawn from saved results, so ``sco-sim plot`` redraws exactly what the run drew. The
palette is colour-blind safe and fixed: a member keeps its colour in every figure (Paul Tol's "muted"
scheme), proposals use the Okabe-Ito colours. Figures are written without timestamps, so the same
results give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import cast

import matplotlib

matplotlib.use("Agg")  # headless: no display needed
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..core.files import FIGURES, staged_folder
from ..core.statistics import wilson
from ..core.vocabulary import FigureFormat
from ..experiments.sweep_folder import open_sweep
from .run_folder import RunResults

#: Paul Tol's colour-blind-safe "muted" scheme, then black, for the SCO's ten members in a fixed order.
MEMBER_COLOURS = dict(zip(
    ["china", "russia", "india", "pakistan", "iran", "belarus", "kazakhstan", "kyrgyzstan", "tajikistan", "uzbekistan"],
    ["#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99", "#999933", "#AA4499", "#000000"],
    strict=True,
))
OTHER_COLOURS = ["#777777", "#AAAAAA", "#444444", "#BBBBBB"]
#: Okabe and Ito's colour-blind-safe palette, for proposals and the values of a swept parameter.
SERIES_COLOURS = ["#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442", "#000000"]

plt.rcParams.update({
    "figure.dpi": 150, "savefig.dpi": 150, "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9,
    "legend.fontsize": 8, "axes.spines.top": False, "axes.spines.right": False, "svg.hashsalt": "sco-sim",
})


def member_colour(code: str) -> str:
    """The member's colour, the same in every figure."""
    if code in MEMBER_COLOURS:
        return MEMBER_COLOURS[code]
    return OTHER_COLOURS[sum(map(ord, code)) % len(OTHER_COLOURS)]


def prepare() -> None:
    """Load what drawing the first figure would otherwise load: the font and the PNG writer.

    Without pyplot, so that it can run in a thread while the caller waits for something else.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(1, 1))
    figure.text(0.5, 0.5, "SCO")
    # matplotlib's backend_agg is unannotated: mypy sees print_png as an untyped call
    print_png = cast(Callable[[io.BytesIO], None], FigureCanvasAgg(figure).print_png)
    print_png(io.BytesIO())


def _save(figure: Figure, folder: Path, name: str, fmt: FigureFormat) -> Path:
    path = folder / f"{name}.{fmt}"
    metadata = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None, "ModDate": None}}[fmt]
    figure.savefig(path, format=fmt, bbox_inches="tight", metadata=metadata)
    plt.close(figure)
    return path


def _into(folder: Path, draw: Callable[[Path], list[Path]], kind: str | None = None) -> list[Path]:
    """Draw into a hidden sibling folder, then swap it in: a half-drawn set of figures never shows. ``kind`` marks
    a folder of its own (a comparison's) as sco-sim's."""
    with staged_folder(folder, replace=True, kind=kind) as staging:
        names = [path.name for path in draw(staging)]
    return [folder / name for name in names]


# --- runs -----------------------------------------------------------------------------------------


def draw_run(folder: Path, fmt: FigureFormat = "png") -> list[Path]:
    """Every figure of the run in ``folder``, into its figures folder."""
    return draw_run_into(RunResults(folder), folder / FIGURES, fmt)


def draw_run_into(results: RunResults, folder: Path, fmt: FigureFormat = "png") -> list[Path]:
    """Every figure of a run, into ``folder``."""
    def draw(target: Path) -> list[Path]:
        paths = [_save(adoption_figure(results), target, "adoption", fmt)]
        if "implemented" in results.by_year.columns:  # a run written before issue 19 has no implementation
            paths.append(_save(implementation_figure(results), target, "implementation", fmt))
        return paths + [_save(objections_figure(results), target, "objections", fmt),
                        _save(stance_map_figure(results), target, "stances", fmt),
                        _save(alignment_figure(results), target, "alignment", fmt)]

    return _into(folder, draw)


def _in_force_band(by_year: pd.DataFrame, replicates: int) -> tuple[np.ndarray, np.ndarray]:
    low, high = wilson(np.round(by_year.in_force.to_numpy() * replicates), replicates)
    return np.asarray(low), np.asarray(high)


def adoption_figure(results: RunResults, other: RunResults | None = None) -> Figure:
    """Share of replicates in which each proposal is in force, by year, with 95% bands; and the adopted ambition."""
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(7.5, 6), sharex=True, height_ratios=[2, 1])
    for n, (code, rows) in enumerate(results.by_year.groupby("proposal", sort=False)):
        colour = SERIES_COLOURS[n % len(SERIES_COLOURS)]
        _adoption_lines(top, bottom, rows, results.replicates, colour, results.proposals.get(code, code), "-")
        if other is not None and code in set(other.by_year.proposal):
            _adoption_lines(top, bottom, other.by_year[other.by_year.proposal == code], other.replicates,
                            colour, None, "--")
    top.set_ylabel("Share of replicates in force (95% band)")
    top.set_ylim(-0.02, 1.02)
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    bottom.set_ylabel("Mean adopted ambition\n(0 = status quo, 1 = in full)")
    bottom.set_ylim(0, 1.05)
    bottom.set_xlabel("Year (one summit a year)")
    top.set_title(_title("Adoption of proposals over the years", results, other))
    return figure


def _adoption_lines(top: Axes, bottom: Axes, rows: pd.DataFrame, replicates: int, colour: str, label: str | None,
                    style: str) -> None:
    low, high = _in_force_band(rows, replicates)
    top.plot(rows.year, rows.in_force, style, color=colour, label=label, marker="o", markersize=3)
    top.fill_between(rows.year, low, high, color=colour, alpha=0.2, linewidth=0)
    bottom.plot(rows.year, rows.mean_ambition, style, color=colour, marker="o", markersize=3)


def implementation_figure(results: RunResults) -> Figure:
    """The gap between adoption and implementation, by year: the share of replicates in which each proposal is adopted
    (in force) and the share carried out (in force x the share of it carried out), the gap between them shaded; below,
    the share of what was adopted that is carried out."""
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(7.5, 6), sharex=True, height_ratios=[2, 1])
    for n, (code, rows) in enumerate(results.by_year.groupby("proposal", sort=False)):
        colour = SERIES_COLOURS[n % len(SERIES_COLOURS)]
        carried = rows.in_force * rows.implemented.fillna(0.0)
        top.plot(rows.year, rows.in_force, "-", color=colour, marker="o", markersize=3,
                 label=results.proposals.get(code, code))
        top.plot(rows.year, carried, "--", color=colour, marker="o", markersize=2)
        top.fill_between(rows.year, carried, rows.in_force, color=colour, alpha=0.15, linewidth=0)
        bottom.plot(rows.year, rows.implemented, "-", color=colour, marker="o", markersize=3)
    top.set_ylabel("Adopted by the year (solid)\nand carried out (dashed)")
    top.set_ylim(-0.02, 1.02)
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    bottom.set_ylabel("Share of the adopted\ncarried out")
    bottom.set_ylim(-0.02, 1.05)
    bottom.set_xlabel("Year (one summit a year)")
    top.set_title(_title("Adoption and implementation: the gap (shaded)", results, None))
    return figure


def _title(what: str, results: RunResults, other: RunResults | None) -> str:
    if other is None:
        return f"{what}\n{results.title}"
    return f"{what}\n{results.title} (solid) against {other.title} (dashed)"


def objections_figure(results: RunResults, other: RunResults | None = None) -> Figure:
    """How often each member objected or stood aside, per proposal (share of the decisions it voted in)."""
    stances = results.stances
    proposals = list(dict.fromkeys(stances.proposal))
    figure, axes = plt.subplots(len(proposals), 1, figsize=(7.5, 1.2 + 1.6 * len(proposals)), squeeze=False)
    for axis, code in zip(axes[:, 0], proposals, strict=True):
        rows = stances[stances.proposal == code].set_index("member")
        compare = other.stances[other.stances.proposal == code].set_index("member") if other is not None else None
        # both runs' voters
        members = list(dict.fromkeys([*rows.index, *(compare.index if compare is not None else [])]))
        rows = rows[["objected", "stood_aside"]].reindex(members).fillna(0.0)
        y = np.arange(len(members))
        colours = [member_colour(m) for m in members]
        height = 0.4 if compare is not None else 0.8
        axis.barh(y, rows.objected, height=height, color=colours, label="objected")
        axis.barh(y, rows.stood_aside, height=height, left=rows.objected, color=colours, alpha=0.35, hatch="//",
                  label="stood aside")
        if compare is not None:
            shares = compare[["objected"]].reindex(members).fillna(0.0)
            axis.barh(y + height, shares.objected, height=height, color=colours, alpha=0.6, edgecolor="black",
                      linewidth=0.5)
        axis.set_yticks(y + (height / 2 if compare is not None else 0), [results.members.get(m, m) for m in members])
        axis.set_xlim(0, 1)
        axis.set_title(results.proposals.get(code, code), loc="left")
        axis.invert_yaxis()
    axes[-1, 0].set_xlabel("Share of decisions the member voted in (objected: solid; stood aside: hatched)")
    if other is None:
        figure.suptitle(_title("Who objected or stood aside", results, None))
    else:
        figure.suptitle(f"Who objected: {results.title} (upper bar)\nagainst {other.title} (lower bar, outlined)")
    figure.tight_layout()
    return figure


def stance_map_figure(results: RunResults, other: RunResults | None = None) -> Figure:
    """Member x proposal: the shares of support, reservation (or standing aside) and objection.

    With ``other``, a second row for the second run, on the same members, proposals and colour scale.
    """
    runs = [results] if other is None else [results, other]
    tables = [_stance_shares(run) for run in runs]
    members = list(dict.fromkeys(m for table in tables for m in table.member))
    proposals = list(dict.fromkeys(p for table in tables for p in table.proposal))
    columns = ["support", "reservation or stood aside", "objected"]
    names = {**results.members, **(other.members if other else {})}
    titles = {**results.proposals, **(other.proposals if other else {})}
    width = 3 * (1.6 + 0.62 * len(proposals))  # each cell wide enough for its percentage
    figure, axes = plt.subplots(len(runs), 3, figsize=(width, (0.5 + 0.35 * len(members) + 1.8) * len(runs)),
                                squeeze=False, sharey=True)
    for row, (run, table) in enumerate(zip(runs, tables, strict=True)):
        for axis, column in zip(axes[row], columns, strict=True):
            grid = (table.pivot(index="member", columns="proposal", values=column)
                    .reindex(index=members, columns=proposals))
            values = grid.to_numpy(dtype=float)
            image = axis.imshow(values, vmin=0, vmax=1, cmap="cividis", aspect="auto")  # colour-blind safe
            for (i, j), value in np.ndenumerate(values):
                if not np.isnan(value):
                    axis.text(j, i, f"{value:.0%}", ha="center", va="center", fontsize=7,
                              color="black" if value > 0.5 else "white")
            axis.set_xticks(range(len(proposals)), [_shorten(titles.get(p, p)) for p in proposals],
                            rotation=40, ha="right")
            axis.set_title(f"{run.name}: {column}" if other is not None else f"Share: {column}")
            figure.colorbar(image, ax=axis, fraction=0.046, pad=0.04)
        axes[row, 0].set_yticks(range(len(members)), [names.get(m, m) for m in members])
    heading = "Stances of members on proposals (final offers; blank: not a member)"
    figure.suptitle(f"{heading}\n{results.title}" + (f"\nagainst {other.title}" if other is not None else ""))
    figure.tight_layout()
    return figure


def _shorten(text: str, most: int = 30) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def _stance_shares(results: RunResults) -> pd.DataFrame:
    stances = results.stances.copy()
    stances["support"] = (1 - stances.objected - stances.reservation - stances.stood_aside).clip(lower=0)  # rounding
    stances["reservation or stood aside"] = stances.reservation + stances.stood_aside
    return stances


def alignment(results: RunResults) -> pd.DataFrame:
    """Alignment by year: the mean share of voting members who do not object to a proposal as first tabled.

    Averaged over the decisions taken that year (replicates x proposals), with a 95% interval (normal,
    over decisions). 1 means no member objects to anything on the agenda as proposed; lower values mean
    more members find the agenda's proposals beyond what they can accept. Voters are the members whose
    accession year (in the configuration in force that year) has come.
    """
    decided = results.outcomes[results.outcomes.status.isin(["adopted", "blocked", "withdrawn"])]
    rows = []
    for key, group in decided.groupby("year"):
        year = cast(int, key)  # the year column holds integers; pandas-stubs types a group's key as any scalar
        voters = sum(member.votes_in(int(year)) for member in results.configuration(int(year)).members.values())
        objecting = group.initial_objectors.astype(str).map(lambda names: len(names.split(";")) if names else 0)
        share = 1 - objecting.to_numpy(dtype=float) / max(voters, 1)
        half = 1.96 * share.std(ddof=1) / np.sqrt(len(share)) if len(share) > 1 else 0.0
        rows.append({"year": year, "alignment": share.mean(), "ci_low": share.mean() - half,
                     "ci_high": share.mean() + half, "decisions": len(share), "voters": voters})
    return pd.DataFrame(rows)


def alignment_figure(results: RunResults, other: RunResults | None = None) -> Figure:
    """The alignment measure over time, with its 95% band."""
    figure, axis = plt.subplots(figsize=(7.5, 3.2))
    for run, style, colour in ((results, "-", "#0072B2"), (other, "--", "#D55E00")):
        if run is None:
            continue
        table = alignment(run)
        axis.plot(table.year, table.alignment, style, color=colour, marker="o", markersize=3, label=run.name)
        axis.fill_between(table.year, table.ci_low, table.ci_high, color=colour, alpha=0.2, linewidth=0)
    axis.set_ylim(-0.02, 1.02)
    axis.set_xlabel("Year (one summit a year)")
    axis.set_ylabel("Mean share of members not\nobjecting to the first offer")
    if other is not None:
        axis.legend(frameon=False)
    axis.set_title(_title("Alignment: members who accept the agenda's proposals as first tabled", results, other))
    return figure


# --- sweeps ---------------------------------------------------------------------------------------


def draw_sweep(folder: Path, fmt: FigureFormat = "png") -> list[Path]:
    """The figures of the sweep in ``folder``, into its figures folder."""
    sweep = open_sweep(folder)
    plan = sweep.plan
    names = [p.path for p in plan.swept()]
    # only the columns drawn: the summary has a row per point and proposal, and many more columns
    summary = sweep.table("summary", [*names, "proposal", "p_adopted", "ci_low", "ci_high"])
    title = f"Sweep of {Path(plan.scenario).stem}: {plan.points:,} points x {plan.replicates:,} replicates"
    indices = sweep.sensitivity()

    def draw(target: Path) -> list[Path]:
        drawn = []
        numeric = [n for n in names if n in summary and pd.api.types.is_numeric_dtype(summary[n])]
        if numeric and len(summary):
            drawn.append(_save(sweep_line_figure(summary, numeric[0], [n for n in names if n != numeric[0]], title),
                               target, "adoption_by_parameter", fmt))
        if len(numeric) >= 2 and plan.method == "grid":
            drawn.append(_save(sweep_heatmap_figure(summary, numeric[0], numeric[1], title),
                               target, "adoption_heatmap", fmt))
        if indices is not None:
            drawn.append(_save(sensitivity_figure(indices, title), target, "sensitivity", fmt))
        return drawn

    return _into(folder / FIGURES, draw)


def short(path: str) -> str:
    """A parameter's path as an axis label: without the leading ``members.`` or ``proposals.``."""
    return path.split(".", 1)[1] if path.startswith(("members.", "proposals.")) else path


def _value(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def sweep_line_figure(summary: pd.DataFrame, x: str, others: list[str], title: str) -> Figure:
    """P(adopted) against one parameter, with 95% bands; one line per value of the other parameters."""
    proposals = list(dict.fromkeys(summary.proposal))
    figure, axes = plt.subplots(1, len(proposals), figsize=(3.3 * len(proposals), 3.4), sharey=True, squeeze=False)
    groups: list[tuple[tuple[Hashable, ...], pd.DataFrame]]
    groups = list(summary.groupby(others, sort=False)) if others else [((), summary)]
    if len(groups) > len(SERIES_COLOURS):  # too many lines to tell apart: average over the others
        means = summary.groupby(["proposal", x], as_index=False)[["p_adopted", "ci_low", "ci_high"]].mean()
        groups = [(("all",), means)]
    for axis, code in zip(axes[0], proposals, strict=True):
        for n, (key, group) in enumerate(groups):
            rows = group[group.proposal == code].sort_values(x)
            values = key if isinstance(key, tuple) else (key,)
            label = ", ".join(f"{short(o)} = {_value(v)}" for o, v in zip(others, values, strict=False)) or None
            colour = SERIES_COLOURS[n % len(SERIES_COLOURS)]
            axis.plot(rows[x], rows.p_adopted, linestyle="-" if len(rows) > 1 else "none", color=colour, marker="o",
                      markersize=3, label=label)
            axis.fill_between(rows[x], rows.ci_low, rows.ci_high, color=colour, alpha=0.2, linewidth=0)
        axis.set_title(code.replace("_", " "))
        axis.set_ylim(-0.02, 1.02)
    figure.supxlabel(short(x))
    axes[0, 0].set_ylabel("P(adopted by the end) (95% band)")
    if others:
        axes[0, -1].legend(frameon=False, loc="upper left", bbox_to_anchor=(1.02, 1))
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def sweep_heatmap_figure(summary: pd.DataFrame, x: str, y: str, title: str) -> Figure:
    """P(adopted) over two parameters, one panel per proposal (averaged over any other parameters)."""
    proposals = list(dict.fromkeys(summary.proposal))
    figure, axes = plt.subplots(1, len(proposals), figsize=(3.4 * len(proposals), 3.4), squeeze=False, sharey=True,
                                layout="constrained")
    for axis, code in zip(axes[0], proposals, strict=True):
        grid = summary[summary.proposal == code].pivot_table(index=y, columns=x, values="p_adopted", aggfunc="mean")
        image = axis.imshow(grid.to_numpy(), origin="lower", aspect="auto", vmin=0, vmax=1,
                            cmap="viridis")  # colour-blind safe
        axis.set_xticks(range(len(grid.columns)), [_value(v) for v in grid.columns])
        axis.set_yticks(range(len(grid.index)), [_value(v) for v in grid.index])
        axis.set_title(code.replace("_", " "))
    axes[0, 0].set_ylabel(short(y))
    figure.supxlabel(short(x))
    figure.colorbar(image, ax=axes[0].tolist(), label="P(adopted by the end)")
    figure.suptitle(title)
    return figure


def sensitivity_figure(table: pd.DataFrame, title: str) -> Figure:
    """Sensitivity indices as bars with their 95% intervals, one panel per outcome."""
    outcomes = list(dict.fromkeys(table.outcome))
    sobol = "S1" in table.columns
    height = 1.0 + 1.3 * len(outcomes) * max(1, table.parameter.nunique() / 3)
    figure, axes = plt.subplots(len(outcomes), 1, figsize=(7.5, height), squeeze=False)
    for axis, outcome in zip(axes[:, 0], outcomes, strict=True):
        rows = table[table.outcome == outcome]
        y = np.arange(len(rows))
        if sobol:
            axis.barh(y - 0.2, rows.S1, 0.4, xerr=rows.S1_conf, color="#0072B2", label="first order (S1)")
            axis.barh(y + 0.2, rows.ST, 0.4, xerr=rows.ST_conf, color="#E69F00", label="total (ST)")
        else:
            axis.barh(y, rows.mu_star, 0.6, xerr=rows.mu_star_conf, color="#0072B2",
                      label="mu* (mean |elementary effect|)")
        axis.set_yticks(y, rows.parameter)
        axis.set_title(outcome, loc="left")
        axis.invert_yaxis()
    axes[0, 0].legend(frameon=False, loc="lower right")
    axes[-1, 0].set_xlabel("Sobol index (share of the outcome's variance)" if sobol
                           else "mu* (change in P(adopted) per unit range)")
    figure.suptitle(f"Sensitivity of adoption to the parameters (95% intervals)\n{title}")
    figure.tight_layout()
    return figure


# --- comparisons ----------------------------------------------------------------------------------


def draw_comparison(a: RunResults, b: RunResults, out: Path, fmt: FigureFormat = "png") -> list[Path]:
    """Two runs side by side on shared axes, and their differences, into ``out``."""

    def draw(target: Path) -> list[Path]:
        difference(a, b).to_csv(target / "differences.csv", index=False)
        return [
            _save(adoption_figure(a, b), target, "adoption", fmt),
            _save(objections_figure(a, b), target, "objections", fmt),
            _save(stance_map_figure(a, b), target, "stances", fmt),
            _save(alignment_figure(a, b), target, "alignment", fmt),
            _save(difference_figure(a, b), target, "differences", fmt),
            target / "differences.csv",
        ]

    return _into(out, draw, kind="comparison")


def difference(a: RunResults, b: RunResults) -> pd.DataFrame:
    """Per proposal in both runs: P(adopted) in each, the difference (second minus first) and its 95% interval."""
    merged = a.summary.merge(b.summary, on="proposal", suffixes=("_a", "_b"))
    se = np.sqrt(merged.p_adopted_a * (1 - merged.p_adopted_a) / merged.replicates_a
                 + merged.p_adopted_b * (1 - merged.p_adopted_b) / merged.replicates_b)
    return pd.DataFrame({
        "proposal": merged.proposal, "name": merged.name_a, f"p_adopted {a.name}": merged.p_adopted_a,
        f"p_adopted {b.name}": merged.p_adopted_b, "difference": merged.p_adopted_b - merged.p_adopted_a,
        "ci_low": merged.p_adopted_b - merged.p_adopted_a - 1.96 * se,
        "ci_high": merged.p_adopted_b - merged.p_adopted_a + 1.96 * se,
    })


def difference_figure(a: RunResults, b: RunResults) -> Figure:
    """P(adopted) in both runs, and the difference with its 95% interval."""
    table = difference(a, b)
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 0.8 + 0.5 * len(table)), sharey=True)
    y = np.arange(len(table))
    left.barh(y - 0.2, table[f"p_adopted {a.name}"], 0.4, color="#0072B2", label=a.name)
    left.barh(y + 0.2, table[f"p_adopted {b.name}"], 0.4, color="#E69F00", label=b.name)
    left.set_yticks(y, table.name)
    left.set_xlim(0, 1)
    left.set_xlabel("P(adopted by the end)")
    left.legend(frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2)
    left.invert_yaxis()
    right.errorbar(table.difference, y, xerr=[table.difference - table.ci_low, table.ci_high - table.difference],
                   fmt="o", color="black")
    right.axvline(0, color="#777777", linewidth=0.8)
    right.set_xlim(-1, 1)
    right.set_xlabel(f"Difference, {b.name} minus {a.name} (95% interval)")
    figure.suptitle(f"{a.title}\nagainst {b.title}")
    figure.tight_layout()
    return figure


# --- scores of forecasts ------------------------------------------------------------------------------

#: The regimes the reliability diagram shows, as forecasts.csv names them, with their labels.
SCORE_PANELS = {"in_sample": "In-sample (fitted ranges)", "rolling": "Rolling origin, out of sample (horizon 1)"}
#: The forecasters drawn beside the model in the reliability diagram.
SCORE_SERIES = {"p_model": ("model", "#000000"), "p_logistic": ("logistic", SERIES_COLOURS[3]),
                "p_base_rate": ("base rate", SERIES_COLOURS[0])}


def draw_score(folder: Path, fmt: FigureFormat = "png") -> list[Path]:
    """The reliability diagram of a score's forecasts (``forecasts.csv`` in ``folder``), into its figures folder."""
    forecasts = pd.read_csv(folder / "forecasts.csv")
    return _into(folder / FIGURES, lambda target: [_save(reliability_figure(forecasts), target, "reliability", fmt)])


def reliability_figure(forecasts: pd.DataFrame) -> Figure:
    """Observed frequency of adoption against the forecast probability, binned (the calibration table), for the
    model and two benchmarks, one panel per regime; each point's size is its bin's count, and the bars below are
    how many of the model's forecasts fall in each bin."""
    from ..core.scoring import calibration

    figure, axes = plt.subplots(2, len(SCORE_PANELS), figsize=(3.4 * len(SCORE_PANELS), 4.6), sharex=True,
                                gridspec_kw={"height_ratios": [3, 1]}, squeeze=False)
    for column, (regime, title) in enumerate(SCORE_PANELS.items()):
        chosen = forecasts[forecasts.regime == regime]
        top, bottom = axes[0, column], axes[1, column]
        top.plot([0, 1], [0, 1], color="#BBBBBB", linewidth=0.8, linestyle="--", label="perfectly calibrated")
        y = chosen.adopted.to_numpy(dtype=bool)
        for series, (label, colour) in SCORE_SERIES.items():
            bins = [b for b in calibration(chosen[series].to_numpy(dtype=float), y) if b.n]
            top.plot([b.mean_forecast for b in bins], [b.observed for b in bins], marker="o", color=colour,
                     linewidth=1.2 if series == "p_model" else 0.8, markersize=3, label=label)
            if series == "p_model":
                top.scatter([b.mean_forecast for b in bins], [b.observed for b in bins],
                            s=[8 + 2 * b.n for b in bins], color=colour, alpha=0.25)
                bottom.bar([(b.low + b.high) / 2 for b in bins], [b.n for b in bins], width=0.09, color=colour)
        top.set(xlim=(0, 1), ylim=(-0.02, 1.02), title=f"{title}, {len(chosen)} forecasts",
                ylabel="observed share adopted" if column == 0 else None)
        bottom.set(xlabel="forecast probability of adoption", ylabel="model's forecasts" if column == 0 else None)
        if column == 0:
            top.legend(loc="upper left", frameon=False)
    figure.tight_layout()
    return figure
