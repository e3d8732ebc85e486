"""Loading the heavy modules with the garbage collector paused."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from sim.core.startup import collector_paused


@pytest.fixture(autouse=True)
def _restore_collector():
    enabled = gc.isenabled()
    yield
    (gc.enable if enabled else gc.disable)()


def test_the_collector_is_paused_inside_and_running_again_after():
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_failed_import_restores_the_collector_and_a_paused_one_stays_paused():
    gc.enable()
    with pytest.raises(ImportError), collector_paused():
        import sim.no_such_module  # noqa: F401
    assert gc.isenabled()
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_the_worker_preload_loads_the_model_and_freezes_it_before_workers_fork():
    probe = ("import gc, sys, sim.experiments.preload; "
             "print(gc.isenabled(), 'mesa' in sys.modules, gc.get_freeze_count())")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    enabled, mesa_loaded, frozen = done.stdout.split()
    assert enabled == "True" and mesa_loaded == "True" and int(frozen) > 50_000
