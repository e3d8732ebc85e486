"""Worker processes that neither outlive their command nor run on after its Ctrl-C.

Killed outright (SIGKILL, the OOM killer), a command cannot stop its workers, which would run on and keep each
other alive: each worker asks Linux to kill it when its parent ends (:func:`die_with_parent`).

A terminal's Ctrl-C sends SIGINT to the whole process group. A worker that gets KeyboardInterrupt inside a task
hands it back as the task's error and takes the next task, and one that gets it between tasks dies with a
traceback; so the parent decides: its workers are started with SIGINT blocked (:func:`interrupts_held`), and it ends
them at once when it closes them (:func:`stop`), rather than waiting for the tasks they run.

:class:`Pool` puts the three together for independent tasks (the studies' cases); a sweep's executors
(:mod:`sim.experiments.executors`) use the parts.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

#: The environment variable naming the process a fork server (and, once it has read it, its workers) must not
#: outlive: set by the sweep around starting its fork server, replaced by the fork server with its own pid.
PARENT = "SCO_SIM_PARENT"
#: prctl's option for the signal a process gets when its parent ends (linux/prctl.h).
_PR_SET_PDEATHSIG = 1

T = TypeVar("T")


def die_with_parent(parent: int) -> None:
    """Have Linux kill this process when its parent ends: a command killed outright (SIGKILL, the OOM killer) would
    otherwise leave its workers running, each waiting on the other. Elsewhere, nothing.

    The signal is sent when the parent's *thread* that started this process ends: the sweep's main thread for
    its fork server, the fork server's only thread for the sweep's workers, the thread that submitted the task that
    started it for a :class:`Pool`'s worker.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        return  # refused (a sandbox): the process lives on as before
    if os.getppid() != parent:  # the parent ended before the signal was asked for
        os._exit(1)


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) off in this thread while the block runs, and for good in the processes and threads it
    starts meanwhile: a blocked signal stays blocked across fork and exec, and Python leaves it so. A Ctrl-C that
    comes meanwhile is not lost: it is raised as the block ends. (Python's own resource tracker is started so.)"""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no such signals to hold
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def stop(pool: ProcessPoolExecutor) -> None:
    """Cancel the tasks not yet started and kill the workers at once. A pool is closed once its caller has every
    result it wants, so what still runs is unwanted (the caller met an error, or Ctrl-C); ``shutdown`` alone would
    wait for it, minutes perhaps. The pool's own thread reaps the workers."""
    with interrupts_held():  # a second Ctrl-C does not cut the clean-up short
        workers = list((pool._processes or {}).values())  # what Python 3.14's kill_workers() reads
        pool.shutdown(wait=False, cancel_futures=True)
        for worker in workers:
            worker.kill()


class Pool:
    """Independent tasks in fresh (spawned) worker processes, or in this process with one worker; a ``with`` block.

    The workers die with this process (:func:`die_with_parent`) and hold Ctrl-C off (:func:`interrupts_held`); the
    block's end kills them (:func:`stop`). Submit from the thread that runs the block: a worker's death signal is
    tied to the thread that started it, and a worker starts with a task submitted while none is idle.
    Fresh processes, not the sweeps' fork server: safe whatever threads this process runs.
    """

    def __init__(self, workers: int) -> None:
        self.pool: ProcessPoolExecutor | None = None
        if workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=die_with_parent, initargs=(os.getpid(),))

    def __enter__(self) -> Pool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.pool is not None:
            stop(self.pool)

    def submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``function(*args)`` in a worker (or here, at once, with one worker)."""
        if self.pool is None:
            done: Future[T] = Future()
            done.set_result(function(*args))
            return done
        with interrupts_held():  # a worker started here holds Ctrl-C off for good
            return self.pool.submit(function, *args)
