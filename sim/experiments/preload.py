"""What a sweep's worker processes need, loaded once by the fork server before it forks them.

The fork server first asks to die with the sweep that started it (named in the environment, see
:func:`sim.core.processes.die_with_parent`), and names itself there for the workers it forks, which ask
the same of it: a sweep killed outright takes its fork server and workers with it.

The workers cannot start a point before they have loaded numpy, pandas, pydantic and Mesa (about 2 s), so the
fork server loads them once, with the cyclic garbage collector paused (imports leave next to no garbage, and the
collector would walk their 100,000 long-lived objects again and again as they arrive), and then freezes them, the
recipe in ``gc.freeze``'s documentation: the workers forked from here neither walk these objects in their
collections nor, by touching them, copy the memory they share with the fork server.
"""

import gc
import os

from ..core.processes import PARENT, die_with_parent

if PARENT in os.environ:  # in the fork server (a worker that imports this module has PARENT already replaced)
    die_with_parent(int(os.environ[PARENT]))
    os.environ[PARENT] = str(os.getpid())

gc.disable()
try:
    from ..model import runner  # noqa: F401
    from . import sweep  # noqa: F401
finally:
    gc.enable()
gc.freeze()
