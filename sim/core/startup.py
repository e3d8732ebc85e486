"""Why the commands and a sweep's workers start the way they do, said once, here.

A command needs numpy, pandas, pydantic and Mesa, which take about 2 s to load (Mesa alone about 1 s). A
sweep with several workers cannot start a point before its workers have loaded them, and on two cores the
parent's own loading competes with theirs. So, measured in paired runs of whole commands:

- the command line (:mod:`sim.cli`) imports only this package's light modules (:mod:`sim.core.vocabulary`
  builds its parser); each command imports the layers it needs when it runs, so ``--help`` and ``check``
  start fast and ``sweep`` starts its workers before loading anything heavy itself;
- those imports run with the cyclic garbage collector paused (:func:`collector_paused`): loading the modules
  creates about 100,000 long-lived objects, and the collector walked them again and again as they arrived,
  about 0.2 s of CPU in a 2 s start (median of 15 paired runs);
- a sweep's local workers are forked from a fork server that loads the modules once
  (:mod:`sim.experiments.preload`) and freezes them out of the collector, so that the workers neither walk
  them nor, by touching them, copy the memory they share; a parent that only hands chunks to its workers
  never loads Mesa (:func:`sim.experiments.sweep.run_chunk` imports the model);
- while its workers run, a sweep's parent loads the plotting modules in a thread (0.7 s saved);
- before exit, a command freezes what is left out of the collector (:func:`sim.cli.command_line`): the
  collection at exit would otherwise walk every object pandas, pydantic and matplotlib made (about 0.4 s) to
  free memory the operating system takes back anyway.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block (imports of heavy modules) with the cyclic garbage collector paused.

    Imports leave next to no cyclic garbage, so pausing loses nothing. The collector is left as it was found.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
