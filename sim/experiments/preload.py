"""What a sweep's worker processes need, loaded once by the fork server before it forks them.

The workers cannot start a point before they have loaded numpy, pandas, pydantic and Mesa (about 2 s), so the
fork server loads them once, with the cyclic garbage collector paused (imports leave next to no garbage, and the
collector would walk their 100,000 long-lived objects again and again as they arrive), and then freezes them, the
recipe in ``gc.freeze``'s documentation: the workers forked from here neither walk these objects in their
collections nor, by touching them, copy the memory they share with the fork server.
"""

import gc

gc.disable()
try:
    from ..model import runner  # noqa: F401
    from . import sweep  # noqa: F401
finally:
    gc.enable()
gc.freeze()
