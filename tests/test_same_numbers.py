"""The same scenario and seed give byte-identical tables from one version of the code to the next.

The digests below were taken from the code before the package was split into layers (a5569ee). A change
that is meant to leave the model's numbers alone (a refactoring, a speed-up) must leave them alone; a change
to the model that moves them must replace these digests in the same commit and say why.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main

from .conftest import ROOT

RUNS = {
    "baseline": (["scenarios/baseline.yaml", "--replicates", "300", "--seed", "11"], {
        "summary.csv": "0f943280425e25415d9a4aff634da860ac5508f7ef6633179f910d89518f2821",
        "stances.csv": "bb46522bdf41aec8ae4fdf9348537f10ef469062bda779c3d0a993180211eb5c",
        "by_year.csv": "4c831e9ab86e1601017f0bceab25360027a5d4a3ee1aba840f8ab24d9f6db06e",
        "outcomes.parquet": "479b0a953d1ab0e79406a30c4f4a7fff4a0a34e32d2b1e54280305b7641fef54",
    }),
    "history-two-thirds": (["scenarios/history.yaml", "--replicates", "200", "--seed", "5", "--rule", "two_thirds"], {
        "summary.csv": "6fd65bd679b139babc199e49fdf477100c4b71d00d104040435a3f97a0d0c272",
        "stances.csv": "8394dd262f2448be6ee3757ff03de5ef9d1859d9dae70b71e17f13de66e03fa8",
        "by_year.csv": "ea291ec59be60602784013c9fa807124f3f30036fb7c3df7ea1574db5bde0802",
        "outcomes.parquet": "09e4e5a89d4e46507114b998a9b15c2d4b2a7a4789669f63b989471d502dd8e3",
    }),
    "example-dependence": (["scenarios/example.yaml", "--replicates", "150",
                            "--set", "members.russia.relations.china.dependence=0.9"], {
        "summary.csv": "5346eb0f428114eba5e735ea0692279547ea2ea0263fb410beabbb2732c89c51",
        "stances.csv": "cd0b9131fc110b290e646136eb159543b49d7fc950dd8976f479d86f4c7358a8",
        "by_year.csv": "80074703cb12f34754882433e27e0105eda386d202b6ace298b96a3d2fabe74d",
        "outcomes.parquet": "b74eb1171afce7a1c08f68a54f8bc8d040d7d3af190b2b61245204793627ff50",
    }),
}
SWEEP = {
    "summary.parquet": "8a6f18fa1073f2ebf4110646590bc1f74a74dd0861c616a00925f120b9cc10b4",
    "by_year.parquet": "1afab2260662f60625fd42db6fb7f0f2e26ed1cac67a67703ccc75fd2873f98b",
    "stances.parquet": "98f557a87d392ad662f8e2b202f2d7758d5f147fb34bfd1d64b4083cb68cf163",
}

#: The digests are of the model as it was before issue 17 (the numbers as written, a fresh draw of the noise at each
#: summit, a sponsor that tables every year in full), which these settings restore exactly.
POINT_CALIBRATION = ["--fixed-parameters", "--set", "noise.persistence=0", "--set", "rules.sponsor_learns=false"]


def digest(path: Path) -> str:
    """SHA-256 of a table: of a CSV file's bytes; of a Parquet file's content written as CSV (the Parquet bytes
    also name the library versions that wrote them)."""
    data = pd.read_parquet(path).to_csv(index=False).encode() if path.suffix == ".parquet" else path.read_bytes()
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("name", RUNS)
def test_a_run_gives_the_tables_it_gave_before(name, tmp_path, monkeypatch):
    arguments, expected = RUNS[name]
    monkeypatch.chdir(ROOT)
    assert main(["run", *arguments, *POINT_CALIBRATION, "--out", str(tmp_path / name), "--no-figures", "--quiet"]) == 0
    assert {file: digest(tmp_path / name / file) for file in expected} == expected


def test_a_sweep_gives_the_tables_it_gave_before(tmp_path):
    out = tmp_path / "sweep"
    assert main(["sweep", str(ROOT / "scenarios" / "baseline.yaml"),
                 "--param", "members.russia.relations.china.dependence=0:1:3",
                 "--param", "rule=consensus,two_thirds", *POINT_CALIBRATION, "--replicates", "60", "--workers", "1",
                 "--out", str(out),
                 "--quiet", "--no-figures"]) == 0
    assert {file: digest(out / file) for file in SWEEP} == SWEEP
