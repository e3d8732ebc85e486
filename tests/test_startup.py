"""Loading the heavy modules with the garbage collector paused."""

from __future__ import annotations

import gc

import pytest

from sim.startup import collector_paused


@pytest.fixture(autouse=True)
def _restore_collector():
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


def test_the_collector_is_paused_inside_and_what_was_loaded_is_frozen_after():
    gc.enable()
    before = gc.get_freeze_count()
    with collector_paused():
        assert not gc.isenabled()
        loaded = [[index] for index in range(1000)]  # stands in for a module's objects
    assert gc.isenabled()
    assert gc.get_freeze_count() >= before + len(loaded)


def test_a_failed_import_restores_the_collector_and_a_paused_one_stays_paused():
    gc.enable()
    with pytest.raises(ImportError), collector_paused():
        import sim.no_such_module  # noqa: F401
    assert gc.isenabled()
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()
