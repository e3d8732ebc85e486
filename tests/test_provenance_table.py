"""docs/provenance.md is current, cites every number, and flags a number without a source."""

from __future__ import annotations

import copy

from sim.inputs.configuration import Configuration
from sim.inputs.yaml_files import read_yaml

from .conftest import BASE, ROOT, provenance_tool


def test_committed_provenance_table_is_current():
    problem = provenance_tool().check(ROOT)
    assert problem is None, problem


def test_every_value_in_the_provenance_table_has_a_source():
    tool = provenance_tool()
    missing = [line for line in tool.render(ROOT).splitlines() if tool.MISSING in line]
    assert not missing, "values without a source:\n" + "\n".join(missing)


def test_a_value_without_a_source_is_reported_as_missing():
    tool = provenance_tool()
    raw = copy.deepcopy(read_yaml(BASE))
    raw.pop("events", None)  # the timeline is not part of the configuration schema
    russia = raw["members"]["russia"]
    russia["sources"] = {key: text for key, text in russia["sources"].items() if key != "weights.economic"}
    ftz = raw["proposals"]["free_trade_zone"]
    ftz["sources"] = {key: text for key, text in ftz["sources"].items() if key != "min_ambition"}
    lines = tool.configuration_tables(Configuration.model_validate(raw))

    # a number without a source is not a reading of the brief: it gets a choice's wide range
    assert "| Russia | `weights.economic` | 0.3 | [-0.1, 0.7], choice | MISSING |" in lines
    assert "| Free trade zone | `min_ambition` | 0.6 | [0.2, 1.0], choice | MISSING |" in lines
    assert sum(tool.MISSING in line for line in lines if line.startswith("| Russia |")) == 1
    # the most specific citation wins over an enclosing one
    assert tool.citation({"weights": "enclosing", "weights.economic": "own"}, "weights.economic") == "own"
    assert tool.citation({"weights": "enclosing", "weights.economic": " "}, "weights.economic") == "enclosing"


def test_a_chosen_number_without_a_record_is_marked_in_the_table():
    tool = provenance_tool()
    config, events = tool.read_base(ROOT)
    choices = tool.read_choices(ROOT)
    lines = tool.choices_section(config, events, choices)
    assert "## Chosen numbers: when and why they were set" in lines
    assert not any(tool.NO_RECORD in line for line in lines if line.startswith("| `"))
    bank = next(line for line in lines if line.startswith("| `proposals.sco_bank.min_ambition` |"))
    assert "0.5 -> 0.6 in `d1f2658`" in bank and "| yes (d1f2658) |" in bank

    records = {key: record for key, record in choices["chosen"].items() if key != "rules.deference"}
    lines = tool.choices_section(config, events, {**choices, "chosen": records})
    assert f"| `rules.deference` | 0.5 | global constant | {tool.NO_RECORD} |" in "\n".join(lines)
