"""Regenerate the README's gallery (docs/gallery/) from the shipped scenarios.

    python tools/gallery.py        # from the project root, after `make install`; about a minute

Runs the baseline, the 2016 and 2024 eras and their comparison, and a two-parameter sweep, and copies
the figures into docs/gallery/.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.cli import main  # noqa: E402

GALLERY = ROOT / "docs" / "gallery"


def run(*argv: str) -> None:
    if main(list(argv)) != 0:
        raise SystemExit(f"failed: sco-sim {' '.join(argv)}")


if __name__ == "__main__":
    GALLERY.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        scenarios = ROOT / "scenarios"
        run("run", str(scenarios / "baseline.yaml"), "--out", str(work / "baseline"), "--quiet")
        for era in ("era-2016", "era-2024"):
            run("run", str(scenarios / f"{era}.yaml"), "--replicates", "2000", "--out", str(work / era), "--quiet")
        run("compare", str(work / "era-2016"), str(work / "era-2024"), "--out", str(work / "eras"))
        run("sweep", str(scenarios / "baseline.yaml"), "--param", "members.russia.relations.china.dependence=0:1:11",
            "--param", "members.india.relations.china.rivalry=0:1:5", "--replicates", "300", "--seed", "1",
            "--out", str(work / "sweep"), "--quiet", "--workers", "2")
        copies = {
            "baseline-adoption.png": work / "baseline" / "figures" / "adoption.png",
            "baseline-stances.png": work / "baseline" / "figures" / "stances.png",
            "baseline-alignment.png": work / "baseline" / "figures" / "alignment.png",
            "eras-differences.png": work / "eras" / "differences.png",
            "eras-objections.png": work / "eras" / "objections.png",
            "sweep-adoption.png": work / "sweep" / "figures" / "adoption_by_parameter.png",
            "sweep-heatmap.png": work / "sweep" / "figures" / "adoption_heatmap.png",
        }
        for name, source in copies.items():
            shutil.copyfile(source, GALLERY / name)
            print(GALLERY / name)
