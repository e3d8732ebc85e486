"""Every number of the base configuration carries its source, and derived numbers match their data."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from sim.inputs.configuration import Configuration
from sim.inputs.scenario import load_scenario
from sim.inputs.yaml_files import read_yaml

from .conftest import BASE, ROOT, provenance_tool

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


def test_every_chosen_number_has_a_record_of_when_and_why_it_was_set():
    """Issue 16: every number the brief does not give (global constants, ambitions, floors, side payments, and any
    number whose source does not quote the brief) has a record in configs/choices.yaml whose value is the
    configuration's, and whose commits are listed. Adding or changing a chosen number without a record fails here."""
    tool = provenance_tool()
    config, events = tool.read_base(ROOT)
    choices = tool.read_choices(ROOT)
    chosen = tool.chosen_numbers(config, events)
    paths = {path for path, *_ in chosen}
    # the numbers issue 16 names are among them
    assert {"rules.objection_cost", "rules.deference", "noise.weights", "noise.judgement"} <= paths
    floors = {f"proposals.{code}.min_ambition" for code, p in config.proposals.items() if p.min_ambition is not None}
    assert floors and floors <= paths
    assert {f"proposals.{code}.ambition" for code in config.proposals} <= paths
    problems = tool.choice_problems(config, events, choices)
    assert not problems, "\n".join(problems)


def test_a_chosen_number_added_or_changed_without_a_record_is_caught():
    tool = provenance_tool()
    _, events = tool.read_base(ROOT)
    choices = tool.read_choices(ROOT)
    raw = copy.deepcopy(read_yaml(BASE))
    raw.pop("events", None)  # the timeline is not part of the configuration schema
    raw["rules"]["objection_cost"] = 0.08  # changed, the record not updated
    ftz = raw["proposals"]["free_trade_zone"]
    ftz["side_payment"] = 0.2  # a new chosen number, no record
    ftz["sources"]["side_payment"] = "Economic Cooperation: 'China agreed to provide a US$900 million loan'"
    iran = raw["members"]["iran"]
    iran["weights"] = {**iran["weights"], "economic": 0.6}  # a new value whose source is an assumption
    iran["sources"] = {**iran["sources"], "weights.economic": "Not described for Iran in the brief; 0.6 (assumption)"}
    changed = Configuration.model_validate(raw)
    problems = tool.choice_problems(changed, events, choices)
    assert any(p.startswith("rules.objection_cost: the record") and "0.08" in p for p in problems), problems
    assert any(p.startswith("proposals.free_trade_zone.side_payment (0.2): chosen, but no record") for p in problems)
    assert any(p.startswith("members.iran.weights.economic (0.6): chosen, but no record") for p in problems)
    assert len(problems) == 3, problems


def test_which_sources_quote_the_brief():
    quotes = provenance_tool().quotes_the_brief
    assert quotes("Different aspirations: 'do not want to be tied exclusively to China or Russia' (0.5)")
    assert quotes("Introducing the SCO: 'neutrality stance' (0.9)")
    assert not quotes("A convention binds its parties (-0.2)")  # no section, no quote
    assert not quotes("Limited achievements: held on China's soil (0.2)")  # a paraphrase: an apostrophe is no quote
    assert not quotes("Different aspirations: Pakistan's entry balances India's (0.2, inferred)")
    assert not quotes("Not described for Iran in the brief; 0.8, as a state under 'unilateral sanctions'")
    assert not quotes("Different aspirations: China 'would not allow India to join' (0.6; inferred alignment)")
    assert not quotes("Historical cases (press, 2024): 'far less binding than a framework' (0.4)")  # not the brief


def test_the_bank_floor_record_says_it_was_raised_with_the_cases_in_view():
    """The fact issue 16 found, kept in the record: 0.5 -> 0.6 in the commit that added the cases."""
    choices = provenance_tool().read_choices(ROOT)
    record = choices["chosen"]["proposals.sco_bank.min_ambition"]
    assert (record["first"], record["value"], record["set"]) == (0.5, 0.6, "e1140ad")
    [change] = record["changes"]
    assert (change["from"], change["to"], change["commit"]) == (0.5, 0.6, "d1f2658")
    assert choices["commits"]["d1f2658"]["cases_in_view"] is True
    assert choices["commits"]["e1140ad"]["cases_in_view"] is False


def test_one_relation_for_one_argument():
    """Issue 19, point 5: suspicion and rivalry weigh another actor's gains alike (docs/ODD.md, 7.1), so no member
    holds both toward the same actor, in the base configuration or after any of its events."""
    scenario = load_scenario(ROOT / "scenarios" / "history.yaml")
    both = {(year, code, other) for year in scenario.years
            for code, member in scenario.configuration(year).members.items()
            for other, relation in member.relations.items() if relation.suspicion and relation.rivalry}
    assert not both, sorted(both)
