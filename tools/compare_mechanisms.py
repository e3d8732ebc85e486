"""Does the brief's claim hold, and which of issue 19's mechanisms drives it? China's economic proposals before and
after 2022, in the default scenario, with each mechanism switched off (or, for the feedbacks, which are off by
default, on).

Runs scenarios/baseline.yaml (2015-2024: the FTZ, the bank and the energy framework every year) under each setting
and prints a Markdown table: per proposal, the yearly adoption rate among the replicates that decided it in
2015-2021 and in 2022-2024 (adoptions / decisions over the years of the period, from by_year), the probability it
was adopted by 2024, and the share of replicates whose sponsor took it outside the SCO. docs/validation.md quotes
its output.

    python tools/compare_mechanisms.py [--replicates N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.inputs.scenario import load_scenario  # noqa: E402
from sim.model.runner import simulate  # noqa: E402
from sim.model.tables import aggregate  # noqa: E402

#: (label, overrides): the default model, then each mechanism of issue 19 switched (the learning sponsor of issue
#: 17 last, as the mechanism forum choice builds on)
SETTINGS = [
    ("default (forum choice on, feedback off)", {}),
    ("forum choice off", {"rules.forum_choice": False}),
    ("integration feedback on", {"feedback.integration": True}),
    ("elsewhere feedback on", {"feedback.elsewhere": True}),
    ("both feedbacks on", {"feedback.integration": True, "feedback.elsewhere": True}),
    ("learning sponsor off (and so forum choice)", {"rules.sponsor_learns": False}),
]
#: The years after Russia's turn to dependence on China (the base timeline's event of 2022).
AFTER = 2022


def measure(overrides: dict, replicates: int) -> dict[str, str]:
    """Per proposal: 'rate before / rate after; P by 2024; P elsewhere'."""
    scenario = load_scenario(ROOT / "scenarios" / "baseline.yaml", overrides=overrides, replicates=replicates)
    config = scenario.configuration(scenario.end)
    result = aggregate(simulate(scenario), {}, scenario.world_size)
    by_year = result.by_year.assign(adopted=lambda t: t.p_adopted * t.decided)
    out = {}
    for row in result.summary.itertuples():
        mine = by_year[by_year.proposal == row.proposal]
        rates = []
        for period in (mine.year < AFTER, mine.year >= AFTER):
            decided = mine[period].decided.sum()
            rates.append(mine[period].adopted.sum() / decided if decided else float("nan"))
        out[config.proposals[row.proposal].name] = (f"{rates[0]:.3f} / {rates[1]:.3f}; {row.p_adopted:.2f}; "
                                                    f"{row.p_elsewhere:.2f}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=2000)
    args = parser.parse_args()
    results = [(label, measure(overrides, args.replicates)) for label, overrides in SETTINGS]
    proposals = list(results[0][1])
    print("| setting | " + " | ".join(proposals) + " |")
    print("|---|" + "---|" * len(proposals))
    for label, result in results:
        print(f"| {label} | " + " | ".join(result[name] for name in proposals) + " |")


if __name__ == "__main__":
    main()
