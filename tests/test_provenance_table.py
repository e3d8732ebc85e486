"""docs/provenance.md is current, cites every number, and flags a number without a source."""

from __future__ import annotations

import copy
import importlib.util
import sys
from types import ModuleType

from sim.inputs.configuration import Configuration
from sim.inputs.yaml_files import read_yaml

from .conftest import BASE, ROOT


def _tool() -> ModuleType:
    """tools/provenance.py, imported in-process (tools/ is not a package)."""
    name = "provenance_tool"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "provenance.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_committed_provenance_table_is_current():
    problem = _tool().check(ROOT)
    assert problem is None, problem


def test_every_value_in_the_provenance_table_has_a_source():
    tool = _tool()
    missing = [line for line in tool.render(ROOT).splitlines() if tool.MISSING in line]
    assert not missing, "values without a source:\n" + "\n".join(missing)


def test_a_value_without_a_source_is_reported_as_missing():
    tool = _tool()
    raw = copy.deepcopy(read_yaml(BASE))
    raw.pop("events", None)  # the timeline is not part of the configuration schema
    russia = raw["members"]["russia"]
    russia["sources"] = {key: text for key, text in russia["sources"].items() if key != "weights.economic"}
    ftz = raw["proposals"]["free_trade_zone"]
    ftz["sources"] = {key: text for key, text in ftz["sources"].items() if key != "min_ambition"}
    lines = tool.configuration_tables(Configuration.model_validate(raw))

    assert "| Russia | `weights.economic` | 0.3 | MISSING |" in lines
    assert "| Free trade zone | `min_ambition` | 0.6 | MISSING |" in lines
    assert sum(tool.MISSING in line for line in lines if line.startswith("| Russia |")) == 1
    # the most specific citation wins over an enclosing one
    assert tool.citation({"weights": "enclosing", "weights.economic": "own"}, "weights.economic") == "own"
    assert tool.citation({"weights": "enclosing", "weights.economic": " "}, "weights.economic") == "enclosing"
