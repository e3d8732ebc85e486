"""Every number of the base configuration carries its source, and derived numbers match their data."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.inputs.scenario import load_scenario

from .conftest import BASE, ROOT

SHARED = ROOT.parent / "shared"


def _cited(sources: dict[str, str], path: str) -> bool:
    """A value is cited by its own path or by an enclosing one (``weights`` covers ``weights.economic``)."""
    parts = path.split(".")
    return any(".".join(parts[:n]) in sources and sources[".".join(parts[:n])].strip()
               for n in range(1, len(parts) + 1))


def test_every_calibrated_number_has_a_source():
    config = load_scenario(ROOT / "scenarios" / "baseline.yaml").configuration(2015)
    missing = []
    for code, member in config.members.items():
        paths = ["capability", *(f"weights.{d}" for d in member.weights),
                 *(f"outside_options.{d}" for d in member.outside_options)]
        paths += [f"relations.{other}.{kind}" for other, relation in member.relations.items()
                  for kind, value in relation.model_dump().items() if value]
        paths += ["joined"] if member.joined is not None else []
        missing += [f"members.{code}.{p}" for p in paths if not _cited(member.sources, p)]
    for code, proposal in config.proposals.items():
        paths = ["sponsor", *(f"effects.{d}" for d in proposal.effects), *(f"gains.{m}" for m in proposal.gains)]
        paths += ["min_ambition"] if proposal.min_ambition is not None else []
        paths += ["side_payment"] if proposal.side_payment else []
        paths += ["participation"] if proposal.participation != "all" else []
        paths += [name for name in ("links", "admits", "tabled") if getattr(proposal, name)]
        missing += [f"proposals.{code}.{p}" for p in paths if not _cited(proposal.sources, p)]
    missing += [f"dimensions.{d}" for d, dim in config.dimensions.items() if not dim.source]
    assert not missing, "uncited values: " + ", ".join(missing)


@pytest.mark.skipif(not (SHARED / "data" / "capability").is_dir(), reason="shared/ data not beside the project")
def test_capabilities_are_the_correlates_of_war_cinc_of_2016():
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    from derive_capability import capabilities

    derived = capabilities(SHARED / "data" / "capability" / "NMC-60-abridged.csv")
    config = load_scenario(ROOT / "scenarios" / "baseline.yaml").configuration(2015)
    for code, member in config.members.items():
        assert member.capability == pytest.approx(round(derived[code], 4), abs=1e-9), code
    assert Path(BASE).exists()
