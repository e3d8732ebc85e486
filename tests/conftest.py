"""Shared fixtures: paths to the project's files and a writer of scenario files."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "configs" / "base.yaml"


def provenance_tool() -> ModuleType:
    """tools/provenance.py, imported in-process once (tools/ is not a package)."""
    name = "provenance_tool"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "provenance.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def one_line(status: int, err: str, *fragments: str, expected: int = 2) -> str:
    """The expected exit status (2, bad input, unless told) and one line on stderr, ``error: ...``, holding every
    fragment; no traceback."""
    assert status == expected, f"exit status {status}, stderr: {err!r}"
    assert "Traceback" not in err and "internal error" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


@pytest.fixture
def write_scenario(tmp_path):
    """Write a scenario (a dict) to a YAML file in tmp_path whose base is the project's base config."""

    def write(name: str = "scenario", **keys) -> Path:
        spec = {"name": name, "base": str(BASE), "start": 2015, "end": 2018, "replicates": 50, "seed": 3} | keys
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        return path

    return write


# In CI, property-based tests explore the same examples every run, so a failure there is reproducible.
if os.environ.get("CI"):
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, deadline=None)
    settings.load_profile("ci")
