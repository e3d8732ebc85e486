"""The brief's forward-looking claim, measured: China's economic proposals in the 2016 and 2024 eras.

Runs scenarios/era-2016.yaml and scenarios/era-2024.yaml, then 2024 with one of the changes since
2016 undone at a time, to show which assumption drives each difference. Prints a Markdown table of
adoption probabilities (with 95% intervals) and who objects most; docs/eras.md quotes its output.

    python tools/compare_eras.py [--replicates N]
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

#: 2024 with one change since 2016 undone: (label, overrides)
UNDONE = [
    ("2024, Russia's dependence on China as in 2016 (0.2)", {"members.russia.relations.china.dependence": 0.2}),
    ("2024, Russia's economic interest as in 2016 (0.4)", {"members.russia.weights.economic": 0.4}),
    ("2024, China's multipolarity as in 2016 (0.3)", {"members.china.weights.multipolarity": 0.3}),
    ("2024 without India and Pakistan as members", {"members.india": {"status": "observer", "joined": None},
                                                   "members.pakistan": {"status": "observer", "joined": None}}),
    ("2024 without Iran and Belarus as members", {"members.iran": {"status": "observer", "joined": None},
                                                 "members.belarus": {"status": "observer", "joined": None}}),
]


def measure(path: Path, overrides: dict, replicates: int) -> dict[str, tuple[float, float, float, str]]:
    """Per proposal: P(adopted), its interval, and the most frequent objector with its share."""
    scenario = load_scenario(path, overrides=overrides, replicates=replicates)
    config = scenario.configuration(scenario.start)
    result = aggregate(simulate(scenario), {}, scenario.world_size)
    out = {}
    for row in result.summary.itertuples():
        mine = result.stances[result.stances.proposal == row.proposal].sort_values("objected", ascending=False)
        top = mine.iloc[0] if len(mine) and mine.iloc[0].objected >= 0.01 else None
        blocker = f"{config.members[top.member].name} {top.objected:.0%}" if top is not None else "-"
        out[config.proposals[row.proposal].name] = (row.p_adopted, row.ci_low, row.ci_high, blocker)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=4000)
    args = parser.parse_args()
    runs = [("2016 era", ROOT / "scenarios" / "era-2016.yaml", {}),
            ("2024 era", ROOT / "scenarios" / "era-2024.yaml", {})]
    runs += [(label, ROOT / "scenarios" / "era-2024.yaml", overrides) for label, overrides in UNDONE]
    results = [(label, measure(path, overrides, args.replicates)) for label, path, overrides in runs]
    proposals = list(results[0][1])
    print("| run | " + " | ".join(proposals) + " |")
    print("|---|" + "---|" * len(proposals))
    for label, result in results:
        cells = [f"{p:.2f} [{lo:.2f}, {hi:.2f}]; {who}" for p, lo, hi, who in (result[name] for name in proposals)]
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
