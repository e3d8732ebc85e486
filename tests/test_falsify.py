"""The falsifiability search: each input moves within the range the model reads it from (its plausible range, or
its fitted range under drawn parameters, whose move must reach the worlds), a move's size is comparable across
inputs, and a range that cannot flip the outcome reports no flip."""

from __future__ import annotations

import numpy as np
import pytest

from sim.inputs.plausible import plausible_ranges
from sim.inputs.scenario import Scenario
from sim.model.interests import to_arrays
from sim.model.worlds import drawn
from sim.studies.falsify import (
    BISECTIONS,
    FALLBACK,
    Flip,
    own_inputs,
    ranges_read,
    reaches,
    search,
    shifted,
    with_numbers,
)
from sim.studies.validation import Case, holds, predict, prepare

from .conftest import ROOT

HISTORY = ROOT / "scenarios" / "history.yaml"
FLOOR = "proposals.free_trade_zone.min_ambition"  # 0.6, fitted [0.5898, 0.9745] in configs/base.yaml
GAIN = "proposals.free_trade_zone.gains.china"  # 0.6, a reading: [0.5, 0.7]


def ftz(parameters: str, replicates: int = 100) -> tuple[Case, Scenario]:
    """FTZ 2016 (not adopted, Russia objects), with its numbers read as ``parameters`` says."""
    case = Case.model_validate({"id": "ftz", "scenario": str(HISTORY), "year": 2016, "proposal": "free_trade_zone",
                                "outcome": "not_adopted", "what_happened": "-", "source": "test",
                                "set": {"noise.parameters": parameters}})
    return case, prepare(case, HISTORY, replicates)


def number(scenario: Scenario, path: str) -> float:
    """The number at ``path`` in the scenario's first year."""
    node = scenario.configuration(scenario.start).model_dump(by_alias=True)
    for part in path.split("."):
        node = node[part]
    return float(node)


def outcome(case: Case):
    """The case's outcome test, as validate's search runs it."""
    return lambda variant: holds(case, predict(case, variant).p)


def test_each_input_moves_within_the_range_the_model_reads_it_from():
    _, fixed = ftz("fixed")
    _, prior = ftz("prior")
    _, fitted = ftz("drawn")
    rule = plausible_ranges(fixed.configuration(2016), fitted=False)
    for scenario in (fixed, prior):  # the rule's range around the value
        reach = reaches(scenario, [FLOOR, GAIN])
        for path in (FLOOR, GAIN):
            found, value = rule[path], number(scenario, path)
            assert (reach[path].down, reach[path].up) == pytest.approx((found.low - value, found.high - value))
            assert reach[path].share(reach[path].up) == pytest.approx(1.0)
            assert reach[path].fitted is None
    # a move's size is measured toward the end it moves to: a range clipped on one side, a constant's from half to
    # twice its value
    clipped, constant = "proposals.free_trade_zone.effects.economic", "rules.objection_cost"  # 1.0, 0.1
    assert (rule[clipped].low, rule[clipped].high, rule[constant].low, rule[constant].high) == (0.9, 1.0, 0.05, 0.2)
    reach = reaches(fixed, [clipped, constant])
    assert reach[clipped].up == 0 and reach[clipped].share(reach[clipped].down) == pytest.approx(1.0)
    assert reach[constant].share(-0.05) == pytest.approx(1.0) == reach[constant].share(0.1)
    low, high = fitted.configuration(2016).fitted[FLOOR]
    half = (high - low) / 2
    reach = reaches(fitted, [FLOOR])[FLOOR]  # the fitted range, by half its width either way
    assert (reach.down, reach.up, reach.fitted) == (pytest.approx(-half), pytest.approx(half), (low, high))
    assert reach.share(-half / 2) == pytest.approx(0.5)


def test_a_number_without_a_range_moves_by_the_fallback_and_a_convention_does_not_move():
    _, scenario = ftz("fixed")
    config = scenario.configuration(2016)
    capability = "members.russia.capability"
    assert capability not in plausible_ranges(config)
    value = config.members["russia"].capability
    reach = reaches(scenario, [capability])[capability]
    assert (reach.down, reach.up) == pytest.approx((-FALLBACK * value, FALLBACK * value))
    inputs = own_inputs(scenario, "free_trade_zone")
    assert capability in inputs and FLOOR in inputs and "noise.persistence" in inputs
    # the FTZ's ambition is the convention 1.0, whose range is a point: not an input
    assert plausible_ranges(config)["proposals.free_trade_zone.ambition"].width == 0
    assert "proposals.free_trade_zone.ambition" not in inputs


def test_a_flipping_input_is_found_at_its_bisected_value_and_sizes_compare_across_ranges():
    _, scenario = ftz("fixed")
    reach = reaches(scenario, [FLOOR, GAIN])
    # the outcome turns when the floor goes below 0.47 (0.13 of 0.4, the way to its range's end: 0.325) or the
    # gain below 0.53 (only 0.07 of 0.1: 0.7): the floor moves farther in value, but less of its range
    floor_turns, gain_turns = 0.47, 0.53

    def stands(variant: Scenario) -> bool:
        return number(variant, FLOOR) >= floor_turns and number(variant, GAIN) >= gain_turns

    found = search(scenario, [GAIN, FLOOR], stands)
    flip = found.flip
    assert flip is not None and flip.path == FLOOR and flip.fitted is None
    step = abs(reach[FLOOR].down) / 2**BISECTIONS  # the bisection's resolution
    assert floor_turns - step < flip.after < floor_turns
    assert flip.before == 0.6 and flip.after == pytest.approx(flip.before + flip.shift)
    assert flip.share == pytest.approx(reach[FLOOR].share(flip.shift))
    assert flip.share == pytest.approx(0.13 / 0.4, abs=1 / 2**BISECTIONS)
    assert str(flip).startswith(f"{FLOOR} 0.6 -> {flip.after:.3g} (0.3")
    alone = search(scenario, [GAIN], stands).flip
    assert alone is not None and gain_turns - 0.1 / 2**BISECTIONS < alone.after < gain_turns


def test_a_number_whose_range_cannot_flip_the_case_reports_no_flip():
    _, scenario = ftz("fixed")
    # the outcome turns only below 0.45, beyond the gain's plausible range [0.5, 0.7]
    found = search(scenario, [GAIN], lambda variant: number(variant, GAIN) >= 0.45)
    assert found.flip is None and found.inputs == 1 and found.runs == 2  # the two ends, no bisection


def test_a_fitted_range_is_what_the_change_moves_under_drawn_parameters():
    case, scenario = ftz("drawn")
    low, high = scenario.configuration(2016).fitted[FLOOR]
    moved = shifted(scenario, FLOOR, -0.15)
    config = moved.configuration(2016)
    assert config.fitted[FLOOR] == pytest.approx([low - 0.15, high - 0.15])
    assert config.proposals["free_trade_zone"].min_ambition == pytest.approx(0.45)  # inside, so the range applies
    assert ranges_read(config)[FLOOR].basis == "fitted"

    def floors(variant: Scenario) -> np.ndarray:
        config = variant.configuration(2016)
        arrays = drawn(to_arrays(config), ranges_read(config), variant.seed, np.arange(100), 10)
        return arrays.floor[:, arrays.proposals.index("free_trade_zone")]

    before = floors(scenario)
    # moving the value alone changes nothing the worlds read (the search used to find no flip there, or a spurious
    # one where the value left the fitted range and brought the rule's wide range back)
    assert np.array_equal(floors(with_numbers(scenario, {FLOOR: 0.65})), before)
    assert floors(moved) == pytest.approx(before - 0.15)  # each world keeps its quantile of the moved range
    assert predict(case, moved).mean_ambition < predict(case, scenario).mean_ambition


def test_a_fitted_range_is_clipped_to_its_fields_bounds():
    _, scenario = ftz("drawn")
    low, high = scenario.configuration(2016).fitted[FLOOR]
    up = reaches(scenario, [FLOOR])[FLOOR].up
    config = shifted(scenario, FLOOR, up).configuration(2016)
    assert config.fitted[FLOOR] == pytest.approx([low + up, 1.0])  # min_ambition is at most 1
    assert ranges_read(config)[FLOOR].basis == "fitted"


def test_under_drawn_parameters_the_search_finds_a_flip_by_moving_the_fitted_range():
    case, scenario = ftz("drawn")
    test = outcome(case)
    flip = search(scenario, [FLOOR], test).flip
    assert flip is not None and flip.fitted is not None and 0 < flip.share <= 1
    (low, high), (new_low, new_high) = flip.fitted
    assert (new_low, new_high) == pytest.approx((low + flip.shift, high + flip.shift))
    assert test(shifted(scenario, FLOOR, flip.shift)) != test(scenario)
    assert " fitted [0.59, 0.975] -> [" in str(flip)


def test_a_flip_prints_its_values_and_its_size():
    assert str(Flip("p.min_ambition", -0.07, 0.25, 0.62, 0.55)) == (
        "p.min_ambition 0.62 -> 0.55 (0.25 of the way to its range's end)")
    assert str(Flip("p.min_ambition", -0.1, 0.5, 0.6, 0.5, ((0.5, 0.9), (0.4, 0.8)))) == (
        "p.min_ambition fitted [0.5, 0.9] -> [0.4, 0.8] (0.50 of the way to its range's end)")
