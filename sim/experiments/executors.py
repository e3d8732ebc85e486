"""Executors behind one concurrent.futures interface: serial, local processes, a Dask cluster.

This module imports nothing heavy, so that the command line can start its worker processes before it
loads numpy, pandas and Mesa itself.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from ..core.budget import processors
from ..core.errors import ConfigError
from ..core.processes import PARENT, die_with_parent, interrupts_held, stop
from ..core.vocabulary import DASK_ANSWER_SECONDS

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

#: A Dask peer greets with a frame length first, about 60 bytes for its handshake; a length far beyond this
#: is some other protocol's bytes (``HTTP/1.1`` read as a length is 3 EiB), and is not allocated.
_GREETING_BYTES = 1 << 16


class SerialExecutor(Executor):
    """Runs each task when it is submitted, in this process (for debugging and small sweeps)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(error)
        return future


def _never_asked() -> None:
    """Local workers and a serial executor need no asking: a lost worker process breaks the pool at once."""


@dataclass(frozen=True)
class Workers:
    """An executor and its width (how many tasks run at once); closed when the ``with`` block ends. ``alive`` raises
    one of :func:`lost_errors` if the workers can no longer be reached (a scheduler that stopped answering)."""

    executor: Executor
    width: int
    close: Callable[[], object]
    alive: Callable[[], object] = _never_asked

    def __enter__(self) -> Workers:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def check_workers(workers: int, scheduler: str | None) -> None:
    """Refuse fewer than one worker, or more local ones than processors: more processes than processors only slow
    each other down, and each holds a run in memory. A scheduler's address must be well formed (nothing connects)."""
    if workers < 1:
        raise ConfigError("command line", "--workers", f"expected at least 1, got {workers}")
    if scheduler is not None:
        scheduler_address(scheduler)
    elif workers > processors():
        raise ConfigError("command line", "--workers", f"at most {processors()} here (the processors this process "
                                                       f"may use), got {workers}; to use more, give --scheduler")


def scheduler_address(address: str) -> tuple[str, str, int]:
    """The scheme, host and port of a ``--scheduler`` address; a ConfigError if it is not one."""
    from distributed.comm.addressing import get_address_host_port, parse_address

    try:
        scheme, _ = parse_address(address)
        if scheme == "inproc":  # a cluster in this very process (LocalCluster(processes=False)): no host or port
            return scheme, "", 0
        host, port = get_address_host_port(address)
    except ValueError as error:
        raise _bad_scheduler(address, f"expected an address like tcp://HOST:8786 ({error})") from None
    if not host or not 0 < port < 1 << 16:
        raise _bad_scheduler(address, "expected an address like tcp://HOST:8786, with a host and a port "
                                      "from 1 to 65535")
    return scheme, host, port


def check_scheduler(address: str) -> None:
    """Refuse, in one line, a scheduler that cannot be reached, is silent, or is not a Dask scheduler.

    The Dask client would wait without end on a port that accepts and never answers, and would try to allocate
    whatever length a web server's first bytes spell; this probe asks the scheduler who it is, within
    DASK_ANSWER_SECONDS.
    """
    import asyncio

    scheme, host, port = scheduler_address(address)
    try:
        answer = asyncio.run(asyncio.wait_for(_identity(address, scheme, host, port), DASK_ANSWER_SECONDS))
    except TimeoutError:  # before OSError, of which it is a kind
        raise _bad_scheduler(address, f"no answer within {DASK_ANSWER_SECONDS} s") from None
    except _NotAScheduler as error:
        raise _bad_scheduler(address, f"answered, but is not a Dask scheduler ({error})") from None
    except OSError as error:
        raise _bad_scheduler(address, f"cannot connect ({_reason(error)})") from None
    if not isinstance(answer, dict) or answer.get("type") != "Scheduler":
        kind = answer.get("type") if isinstance(answer, dict) else type(answer).__name__
        raise _bad_scheduler(address, f"answered, but is not a Dask scheduler (it is a {kind})")


class Unanswered(Exception):
    """A scheduler that answered when the sweep began stopped answering mid-sweep (frozen, its machine cut off)."""


def answering(address: str) -> None:
    """Raise Unanswered unless the scheduler at ``address`` still says who it is within DASK_ANSWER_SECONDS: the
    Dask client would wait without end on a scheduler that holds its connection open and says nothing."""
    try:
        check_scheduler(address)
    except ConfigError as error:
        raise Unanswered(error.message) from None


class _NotAScheduler(Exception):
    """What answered at the address speaks another protocol (a web server, say)."""


def _bad_scheduler(address: str, message: str) -> ConfigError:
    return ConfigError("command line", f"--scheduler {address or repr(address)}", message)


def _reason(error: OSError) -> str:
    """An OSError's reason in a few words: asyncio's "Connect call failed (...)" says less than its errno."""
    import socket

    if not isinstance(error, socket.gaierror) and error.errno and error.errno > 0:
        return os.strerror(error.errno).lower()
    return str(error.strerror or error)


async def _identity(address: str, scheme: str, host: str, port: int) -> object:
    """The scheduler's answer to ``identity``, asked through Dask's own protocol once its greeting looks like one."""
    from distributed.comm.core import connect
    from distributed.security import Security

    # distributed leaves these unannotated, which strict mypy rejects calling
    settings = cast(Any, Security)().get_connection_args("client")
    if scheme in ("tls", "wss") and settings.get("ssl_context") is None:
        raise _bad_scheduler(address, "a TLS address needs Dask's TLS settings (distributed.comm.tls.client.cert "
                                      "and .key in the Dask configuration)")
    if scheme == "tcp":  # other schemes (tls, ws) wrap the greeting; Dask's reader is their only check
        await _check_greeting(host, port)
    try:
        comm = await cast(Any, connect)(address, timeout=DASK_ANSWER_SECONDS, **settings)
    except OSError:
        raise
    except Exception as error:  # noqa: BLE001 - its handshake was not Dask's (a MemoryError: a huge length)
        raise _NotAScheduler(_summary(error)) from None
    try:
        await comm.write({"op": "identity"})
        return await comm.read()
    except Exception as error:  # noqa: BLE001 - it spoke Dask's handshake, then garbled a scheduler's answer
        raise _NotAScheduler(_summary(error)) from None
    finally:
        comm.abort()


def _summary(error: BaseException, limit: int = 100) -> str:
    """An error's name and words on one line, cut short: they may quote a stranger's bytes, or run to paragraphs."""
    words = " ".join(str(error).split())
    text = f"{type(error).__name__}: {words}" if words else type(error).__name__
    return text if len(text) <= limit else text[:limit - 1] + "…"


async def _check_greeting(host: str, port: int) -> None:
    """Read the length that opens a Dask peer's greeting, and refuse a length no greeting has."""
    import asyncio

    reader, writer = await asyncio.open_connection(host, port)
    try:
        (length,) = struct.unpack("Q", await reader.readexactly(8))  # the byte order of Dask's own reader
    except asyncio.IncompleteReadError:
        raise _NotAScheduler("it closed the connection without a greeting") from None
    finally:
        writer.close()
    if not 0 < length <= _GREETING_BYTES:
        raise _NotAScheduler(f"its first bytes are not a Dask greeting: {_shown(struct.pack('Q', length))}")


def _shown(data: bytes) -> str:
    return repr(data.decode("ascii", errors="replace"))


def start_workers(workers: int, scheduler: str | None) -> Workers:
    """Serial for one worker, local processes for several, a Dask cluster when a scheduler is named.

    Local processes start at once, in the background, while the caller goes on.
    """
    check_workers(workers, scheduler)
    if scheduler is not None:
        return _cluster(scheduler)
    if workers == 1:
        return Workers(SerialExecutor(), 1, lambda: None)
    # the fork server, its workers and the thread that starts them hold Ctrl-C off: the sweep decides (stop)
    with interrupts_held():
        pool, starter = _local(workers)

    def close() -> None:
        starter.join()
        stop(pool)  # every chunk wanted has been collected by now; what still runs is not waited for

    return Workers(pool, workers, close)


def _local(workers: int) -> tuple[ProcessPoolExecutor, threading.Thread]:
    """A pool of ``workers`` local processes, and the thread that starts them in the background."""
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

        # from this, the main thread, which lives as long as the process: the fork server dies with it (preload)
        os.environ[PARENT] = str(os.getpid())
        try:
            multiprocessing.forkserver.ensure_running()
        finally:
            del os.environ[PARENT]
    else:
        context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_started)
    starter = threading.Thread(target=_warm, args=(pool, workers), daemon=True)
    starter.start()
    return pool, starter


def _cluster(scheduler: str) -> Workers:
    """A Dask cluster's executor, once its scheduler has said who it is; its log is kept quiet until it closes."""
    from distributed import Client

    # a lost scheduler is reported in one line (lost_message); Dask's own account is dozens of lines and tracebacks
    restore = _quiet_dask()
    try:
        check_scheduler(scheduler)
        # distributed leaves Client and its methods unannotated, which strict mypy rejects calling
        client = cast(Any, Client)(scheduler, timeout=DASK_ANSWER_SECONDS)
    except OSError as error:  # it answered the probe a moment ago, and is gone (TimeoutError is an OSError)
        restore()
        raise _bad_scheduler(scheduler, f"cannot connect ({_reason(error)})") from None
    except BaseException:
        restore()
        raise
    width = max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info().get("workers", {}).values()))

    def close() -> None:
        try:
            with contextlib.suppress(OSError):  # a lost scheduler is not waited for (TimeoutError is an OSError)
                client.close(timeout=DASK_ANSWER_SECONDS)
        finally:
            restore()

    return Workers(client.get_executor(), width, close, alive=lambda: answering(scheduler))


def _quiet_dask() -> Callable[[], None]:
    """Silence the handlers of Dask's loggers ("distributed" and its children, which propagate to it or have
    their own); returns what restores them."""
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
               if name == "distributed" or name.startswith("distributed.")]
    handlers = {handler for logger in loggers for handler in logger.handlers}

    def drop(record: logging.LogRecord) -> bool:
        return False

    def restore() -> None:
        for handler in handlers:
            handler.removeFilter(drop)

    for handler in handlers:
        handler.addFilter(drop)
    return restore


def lost_errors(scheduler: str | None) -> tuple[type[BaseException], ...]:
    """What a sweep's executor raises when its workers are lost mid-sweep: its scheduler or a worker process gone.

    Dask's names are imported only when a scheduler is used: the local path does not load distributed.
    """
    import asyncio
    from concurrent.futures import CancelledError
    from concurrent.futures.process import BrokenProcessPool

    if scheduler is None:
        return (BrokenProcessPool, CancelledError)
    from distributed.comm.core import CommClosedError
    from distributed.scheduler import KilledWorker

    return (CancelledError, asyncio.CancelledError, CommClosedError, KilledWorker, TimeoutError, Unanswered)


def lost_message(scheduler: str | None, error: BaseException) -> str:
    """One line on what was lost, in the words of the error that told (Dask's run to paragraphs: cut short)."""
    why = _summary(error, 200)
    if scheduler is None:
        return f"a worker process died mid-sweep ({why})"
    if isinstance(error, Unanswered):  # the scheduler is there, connected and silent
        return f"the Dask scheduler at {scheduler} stopped answering mid-sweep ({error})"
    if type(error).__name__ == "KilledWorker":  # the scheduler is there; a chunk took its workers down, again
        return f"the Dask workers of the scheduler at {scheduler} died mid-sweep ({why})"
    return f"the Dask scheduler at {scheduler} was lost mid-sweep ({why})"


def _worker_started() -> None:
    """A local worker's first act: die with the fork server that forked it (which named itself in PARENT).

    Without a fork server (spawn, off Linux) PARENT is unset, and a spawned worker's parent thread would be
    the short-lived one that submitted its first task, so it is left alone.
    """
    parent = os.environ.get(PARENT)
    if parent is not None:
        die_with_parent(int(parent))


def _warm(pool: Executor, workers: int) -> None:
    """Start the workers by giving each a first task; a pool that has already broken is reported by the sweep."""
    with contextlib.suppress(RuntimeError):  # a BrokenProcessPool, or a pool shut down meanwhile
        for _ in range(workers):
            pool.submit(_warm_up)


def _warm_up() -> int:
    """Import what a chunk needs (numpy, pandas, Mesa), so the first chunk does not wait for it."""
    from . import preload  # noqa: F401

    return os.getpid()
