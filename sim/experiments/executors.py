"""Executors behind one concurrent.futures interface: serial, local processes, a Dask cluster.

This module imports nothing heavy, so that the command line can start its worker processes before it
loads numpy, pandas and Mesa itself.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from types import TracebackType
from typing import Any, cast

from ..core.budget import processors
from ..core.errors import ConfigError


class SerialExecutor(Executor):
    """Runs each task when it is submitted, in this process (for debugging and small sweeps)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(error)
        return future


@dataclass(frozen=True)
class Workers:
    """An executor and its width (how many tasks run at once); closed when the ``with`` block ends."""

    executor: Executor
    width: int
    close: Callable[[], object]

    def __enter__(self) -> Workers:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def check_workers(workers: int, scheduler: str | None) -> None:
    """Refuse fewer than one worker, or more local ones than processors: more processes than processors only slow
    each other down, and each holds a run in memory."""
    if workers < 1:
        raise ConfigError("command line", "--workers", f"expected at least 1, got {workers}")
    if not scheduler and workers > processors():
        raise ConfigError("command line", "--workers", f"at most {processors()} here (the processors this process "
                                                       f"may use), got {workers}; to use more, give --scheduler")


def start_workers(workers: int, scheduler: str | None) -> Workers:
    """Serial for one worker, local processes for several, a Dask cluster when a scheduler is named.

    Local processes start at once, in the background, while the caller goes on.
    """
    check_workers(workers, scheduler)
    if scheduler:
        from distributed import Client

        # distributed leaves Client and its methods unannotated, which strict mypy rejects calling
        client = cast(Any, Client)(scheduler, timeout=30)
        width = max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info().get("workers", {}).values()))
        return Workers(client.get_executor(), width, client.close)
    if workers == 1:
        return Workers(SerialExecutor(), 1, lambda: None)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        # A fork server (a fresh process, safe whatever threads this one runs) loads the modules once and
        # forks ready workers from itself; it starts in the background while the caller prepares.
        context: multiprocessing.context.BaseContext = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([f"{__package__}.preload"])
        # start it now (a fork and an exec), not when the thread below gets its turn between this
        # process's own imports: every moment it starts later, the workers start later
        import multiprocessing.forkserver

        multiprocessing.forkserver.ensure_running()
    else:
        context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    starter = threading.Thread(target=lambda: [pool.submit(_warm_up) for _ in range(workers)], daemon=True)
    starter.start()

    def close() -> None:
        starter.join()
        pool.shutdown(cancel_futures=True)

    return Workers(pool, workers, close)


def _warm_up() -> int:
    """Import what a chunk needs (numpy, pandas, Mesa), so the first chunk does not wait for it."""
    from . import preload  # noqa: F401

    return os.getpid()
