"""Plausible ranges (issue 17, point 1): every coded number has one, by one rule, and docs/provenance.md shows it."""

from __future__ import annotations

from typing import Any

import pytest

from sim.inputs.configuration import Configuration
from sim.inputs.plausible import CHOICE, READING, SCALE, plausible_range, plausible_ranges

from .conftest import ROOT, provenance_tool


@pytest.fixture(scope="module")
def config() -> Configuration:
    return provenance_tool().read_base(ROOT)[0]


@pytest.fixture(scope="module")
def ranges(config):
    """The rule's ranges (the prior); the base's fitted block replaces some of them (tests/test_fit.py)."""
    return plausible_ranges(config, fitted=False)


def coded_numbers(config: Configuration) -> dict[str, float]:
    """Every coded number of a configuration, enumerated from the schema independently of the module under test."""
    numbers: dict[str, float] = {}
    for code, member in config.members.items():
        numbers |= {f"members.{code}.weights.{dim}": value for dim, value in member.weights.items()}
        numbers |= {f"members.{code}.outside_options.{dim}": value for dim, value in member.outside_options.items()}
        numbers |= {f"members.{code}.relations.{other}.{kind}": value for other, relation in member.relations.items()
                    for kind, value in relation.model_dump().items() if value}
    for code, proposal in config.proposals.items():
        numbers |= {f"proposals.{code}.effects.{dim}": value for dim, value in proposal.effects.items()}
        numbers |= {f"proposals.{code}.gains.{actor}": value for actor, value in proposal.gains.items()}
        numbers[f"proposals.{code}.ambition"] = proposal.ambition
        if proposal.min_ambition is not None:
            numbers[f"proposals.{code}.min_ambition"] = proposal.min_ambition
        if proposal.side_payment:
            numbers[f"proposals.{code}.side_payment"] = proposal.side_payment
        if proposal.elsewhere is not None:
            numbers[f"proposals.{code}.elsewhere.share"] = proposal.elsewhere.share
    for path in ("rules.objection_cost", "rules.deference", "rules.sponsor_error", "noise.weights", "noise.judgement",
                 "noise.persistence", "implementation.statement", "implementation.strategy", "implementation.treaty",
                 "implementation.body", "feedback.integration_rate",
                 "feedback.elsewhere_rate"):  # the model's constants a world draws
        block, field = path.split(".")
        numbers[path] = float(getattr(getattr(config, block), field))
    return numbers


def with_number(config: Configuration, path: str, value: float) -> dict[str, Any]:
    """The configuration as a document, with the number at ``path`` set to ``value``."""
    document = config.model_dump(by_alias=True)
    *parents, key = path.split(".")
    block = document
    for part in parents:
        block = block[part]
    block[key] = value
    return document


def test_every_coded_number_has_a_range_that_holds_its_value(config, ranges):
    numbers = coded_numbers(config)
    assert set(ranges) == set(numbers)
    for path, value in numbers.items():
        assert ranges[path].value == value, path
        assert ranges[path].low <= value <= ranges[path].high, path
        assert value in ranges[path], path


def test_every_range_lies_within_the_fields_valid_bounds(config, ranges):
    """Both ends of every range pass the project's own strict schema: any draw from it is a valid configuration."""
    for path, found in ranges.items():
        for end in (found.low, found.high):
            Configuration.model_validate(with_number(config, path, end))  # raises if out of bounds


def test_a_brief_quoted_weight_of_0_7_gets_0_6_to_0_8(ranges):
    china = ranges["members.china.weights.sovereignty"]  # "share a concern about ... 'colour revolutions'" (0.7)
    assert (china.low, china.high, china.basis) == (0.6, 0.8, "reading")
    top = ranges["members.china.weights.economic"]  # a main focus (0.9)
    assert (top.low, top.high) == (0.8, 1.0)


def test_a_chosen_number_gets_a_wider_range_than_a_quoted_one(ranges):
    coded = {path: found for path, found in ranges.items() if path.startswith(("members.", "proposals."))}
    quoted = [found.width for found in coded.values() if found.basis == "reading"]
    chosen = [found.width for found in coded.values() if found.basis == "choice"]
    assert quoted and chosen
    assert min(chosen) > max(quoted)
    neutral = ranges["members.pakistan.weights.sovereignty"]  # "Not discussed for Pakistan in the brief; 0.5, neutral"
    assert (neutral.low, neutral.high, neutral.basis) == (0.1, 0.9, "choice")
    floor = ranges["proposals.free_trade_zone.min_ambition"]  # a floor is always a choice
    assert (floor.low, floor.high, floor.basis) == (0.2, 1.0, "choice")


def test_the_ranges_call_chosen_what_the_provenance_tool_calls_chosen(config, ranges):
    """One rule decides what is chosen: the ranges and the table of chosen numbers agree number by number."""
    chosen = {path for path, *_ in provenance_tool().chosen_numbers(config)
              if path.startswith(("members.", "proposals.")) and not path.endswith(".ambition")}
    assert chosen == {path for path, found in ranges.items()
                      if found.basis == "choice" and path.startswith(("members.", "proposals."))}


def test_the_rule_mirrors_negative_numbers_and_centres_numbers_between_levels():
    bounds = (-1.0, 1.0)
    assert (plausible_range(-0.3, False, bounds).low, plausible_range(-0.3, False, bounds).high) == (-0.4, -0.2)
    assert (plausible_range(0.25, False, bounds).low, plausible_range(0.25, False, bounds).high) == (0.15, 0.35)
    assert plausible_range(-0.9, False, bounds).low == -1.0
    assert plausible_range(0.1, False, (0.0, 1.0)).low == 0.0  # clipped at the field's bound
    for level in SCALE:  # a reading reaches halfway to the neighbouring levels
        found = plausible_range(level, False, bounds)
        assert found.width == pytest.approx(2 * READING)
    assert plausible_range(0.5, True, bounds).width == pytest.approx(2 * CHOICE)


def test_the_provenance_table_shows_the_ranges_and_is_current(config, ranges):
    tool = provenance_tool()
    assert tool.check(ROOT) is None
    text = (ROOT / "docs" / "provenance.md").read_text(encoding="utf-8")
    assert "| member | path | value | plausible range | source |" in text
    assert "| China | `weights.sovereignty` | 0.7 | [0.6, 0.8], reading |" in text
    assert "| Pakistan | `weights.sovereignty` | 0.5 | [0.1, 0.9], choice |" in text
    shown = [found for path, found in ranges.items() if not path.endswith(".ambition")]
    assert all(str(found) in text for found in shown)


def test_the_paces_of_implementation_run_from_half_to_twice_their_value(ranges):
    """Chosen numbers (issue 19): a pace from half to twice its value, clipped to [0, 1] (a body's 0.5 -> [0.25, 1])."""
    assert (ranges["implementation.statement"].low, ranges["implementation.statement"].high) == (0.04, 0.16)
    assert (ranges["implementation.body"].low, ranges["implementation.body"].high) == (0.25, 1.0)
    forms = ("statement", "strategy", "treaty", "body")
    assert {ranges[f"implementation.{form}"].basis for form in forms} == {"choice"}
