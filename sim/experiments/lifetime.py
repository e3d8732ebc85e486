"""Worker processes that do not outlive their sweep: Linux's parent-death signal, asked for in each process.

A sweep killed outright (SIGKILL, the OOM killer) would otherwise leave its fork server and workers running, each
keeping the other alive. The sweep names itself in :data:`PARENT` while it starts its fork server; the fork server
(``preload``) asks to die with it and names itself there for the workers it forks, which ask the same of it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

#: The environment variable naming the process a fork server (and, once it has read it, its workers) must not
#: outlive: set by the sweep around starting its fork server, replaced by the fork server with its own pid.
PARENT = "SCO_SIM_PARENT"
#: prctl's option for the signal a process gets when its parent ends (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Have Linux kill this process when its parent ends: a sweep killed outright (SIGKILL, the OOM killer) would
    otherwise leave its fork server and workers running, each waiting on the other. Elsewhere, nothing.

    The signal is sent when the parent's *thread* that started this process ends: the sweep's main thread for
    the fork server, the fork server's only thread for the workers.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        return  # refused (a sandbox): the process lives on as before
    if os.getppid() != parent:  # the parent ended before the signal was asked for
        os._exit(1)
