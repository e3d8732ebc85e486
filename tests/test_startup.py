"""How commands and a sweep's workers start: heavy modules loaded only where they are needed, and once."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT


def loaded_after(program: str) -> list[str]:
    probe = f"import sys\n{program}\nprint(*[m in sys.modules for m in ('numpy', 'pandas', 'mesa', 'matplotlib')])"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    return done.stdout.split()[-4:]


def test_the_command_line_loads_nothing_heavy_until_a_command_needs_it():
    assert loaded_after("import sim.cli") == ["False", "False", "False", "False"]
    # checking a scenario needs numpy (through the engine's types), but not pandas, Mesa or matplotlib
    checked = loaded_after("from sim.cli import main\nassert main(['check', 'scenarios/baseline.yaml']) == 0")
    assert checked == ["True", "False", "False", "False"]
    # a sweep's parent hands chunks to its workers and draws figures from the files: it needs no Mesa
    parent = loaded_after("import sim.experiments.sweep, sim.experiments.executors, sim.outputs.figures")
    assert parent[2] == "False"


def test_the_worker_preload_loads_the_model_and_freezes_it_before_workers_fork():
    probe = ("import gc, sys, sim.experiments.preload; "
             "print(gc.isenabled(), 'mesa' in sys.modules, gc.get_freeze_count())")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    enabled, mesa_loaded, frozen = done.stdout.split()
    assert enabled == "True" and mesa_loaded == "True" and int(frozen) > 50_000
