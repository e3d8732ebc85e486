"""What a sweep's worker processes need, loaded once by the fork server before it forks them
(see :mod:`sim.core.startup`)."""

import gc

from ..core.startup import collector_paused

with collector_paused():
    from ..model import runner  # noqa: F401
    from . import sweep  # noqa: F401

# the recipe in gc.freeze's documentation: the workers forked from here neither walk these objects in
# their collections nor, by touching them, copy the memory they share with this process
gc.freeze()
