"""Faults (docs/reliability.md): a --scheduler that is not one, a cluster or worker lost mid-sweep, a sweep killed
outright. Each ends in one line on stderr and an exit status, never a traceback, a hang or stray processes.

What could hang runs in a subprocess with a timeout, so that a hang fails the test instead of blocking it.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.core.budget import processors
from sim.experiments import executors

from .conftest import ROOT, one_line

BASELINE = str(ROOT / "scenarios" / "baseline.yaml")
LINUX = sys.platform.startswith("linux")


def sweep_argv(out: Path, points: int, *extra: str) -> list[str]:
    """A sweep of ``points`` one-point chunks of two replicates: about 0.1 s a chunk, long enough to interrupt."""
    return ["sweep", BASELINE, "--param", f"rules.deference=0:1:{points}", "--replicates", "2", "--seed", "1",
            "--chunk-size", "1", "--out", str(out), "--quiet", "--no-figures", *extra]


def python_sim(argv: list[str], limit: float | None = None, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """``python -m sim ARGV`` (with the scheduler's answer limit lowered to ``limit`` s if given) in a child."""
    patch = f"executors.DASK_ANSWER_SECONDS = {limit}; " if limit is not None else ""
    program = (f"import sys; from sim.experiments import executors; {patch}from sim.cli import main; "
               f"sys.exit(main(sys.argv[1:]))")
    return subprocess.run([sys.executable, "-c", program, *argv], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, check=False)


@contextlib.contextmanager
def server(kind: str) -> Iterator[str]:
    """A local TCP server that is not a Dask scheduler; yields its address.

    ``silent`` accepts and never writes; ``http`` writes an HTTP error at once; ``web`` waits for a request first,
    as a web server (Dask's dashboard) does; ``close`` hangs up at once.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def serve() -> None:
        with contextlib.suppress(OSError):  # the listener is closed when the test ends
            while True:
                connection, _ = listener.accept()
                accepted.append(connection)
                if kind == "close":
                    connection.close()
                if kind == "web":
                    connection.recv(1024)
                if kind in ("http", "web"):
                    connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
        for connection in accepted:
            connection.close()


def free_port() -> int:
    """A port nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- 1. a --scheduler that does not behave -------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "fragment"), [
    ("not a url", "missing port number"),
    ("foo://x:1", "unknown address scheme 'foo'"),
    ("", "--scheduler '': expected an address like tcp://HOST:8786"),
    ("tcp://localhost:0", "a port from 1 to 65535"),
])
def test_a_malformed_scheduler_address_is_refused_in_one_line(capsys, tmp_path, address, fragment):
    status = main(sweep_argv(tmp_path / "out", 3, "--scheduler", address))
    one_line(status, capsys.readouterr().err, f"error: command line: --scheduler {address}", fragment)
    assert not (tmp_path / "out").exists()


def test_a_refused_port_is_refused_at_once(tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"
    done = python_sim(sweep_argv(tmp_path / "out", 3, "--scheduler", address))
    one_line(done.returncode, done.stderr, f"--scheduler {address}: cannot connect (connection refused)")


@pytest.mark.parametrize("kind", ["silent", "web"])
def test_a_server_that_does_not_greet_is_refused_within_the_answer_limit(tmp_path, kind):
    with server(kind) as address:
        done = python_sim(sweep_argv(tmp_path / "out", 3, "--scheduler", address), limit=1)
    one_line(done.returncode, done.stderr, f"--scheduler {address}: no answer within 1 s")


@pytest.mark.parametrize(("kind", "why"), [
    # Dask's own reader takes "HTTP/1.1" for a frame length of 3 EiB and tries to allocate it; the probe does not
    ("http", "its first bytes are not a Dask greeting: 'HTTP/1.1'"),
    ("close", "it closed the connection without a greeting"),
])
def test_a_server_that_speaks_another_protocol_is_not_taken_for_a_scheduler(tmp_path, kind, why):
    with server(kind) as address:
        done = python_sim(sweep_argv(tmp_path / "out", 3, "--scheduler", address))
    one_line(done.returncode, done.stderr, f"--scheduler {address}: answered, but is not a Dask scheduler ({why})")


def test_a_tls_address_without_dasks_tls_settings_is_refused_before_connecting(capsys, tmp_path):
    status = main(sweep_argv(tmp_path / "out", 3, "--scheduler", f"tls://127.0.0.1:{free_port()}"))
    one_line(status, capsys.readouterr().err, "a TLS address needs Dask's TLS settings")


def test_a_dry_run_checks_the_scheduler_address_without_connecting(capsys, tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
        assert main(sweep_argv(tmp_path / "out", 3, "--scheduler", address, "--dry-run")) == 0
        with pytest.raises(BlockingIOError):  # nobody knocked
            listener.accept()
    assert "points" in capsys.readouterr().out
    status = main(sweep_argv(tmp_path / "out", 3, "--scheduler", "not a url", "--dry-run"))
    one_line(status, capsys.readouterr().err, "--scheduler not a url: expected an address like")


# -- 2. a cluster, or a worker process, lost mid-sweep ---------------------------------------------------------------


@contextlib.contextmanager
def dask_cluster(folder: Path) -> Iterator[tuple[str, str, subprocess.Popen[bytes]]]:
    """A Dask scheduler and one worker (one thread), each in its own process; yields their addresses and the
    scheduler's process. Their logs go to a file.

    Each binds a port of the system's choosing (port 0) and its address is read from its log: a port picked free
    beforehand could be taken in between (it was, once in CI: the scheduler failed with "Address already in use").
    """
    log = (folder / "cluster.log").open("wb")
    common = ["--dashboard-address", ":0"]
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", "0", "--no-show", *common], stdout=log, stderr=log)
    started: list[subprocess.Popen[bytes]] = [scheduler]
    try:
        address = logged_address(folder / "cluster.log", "Scheduler at:", scheduler)
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                   "--no-nanny", "--host", "127.0.0.1", "--worker-port", "0", *common],
                                  stdout=log, stderr=log)
        started.append(worker)
        worker_address = logged_address(folder / "cluster.log", "Start worker at:", worker)
        wait_for(lambda: "Starting established connection" in (folder / "cluster.log").read_text(errors="replace"),
                 "the Dask worker to join its scheduler")
        yield address, worker_address, scheduler
    finally:
        for process in reversed(started):
            process.kill()
            process.wait(timeout=30)
        log.close()


def logged_address(log: Path, label: str, process: subprocess.Popen[bytes]) -> str:
    """The address a Dask process logged after ``label`` once it listens; fails if it ends first."""
    pattern = re.compile(rf"{re.escape(label)}\s+(tcp://\S+)")
    found: list[str] = []

    def listening() -> bool:
        assert process.poll() is None, f"the Dask process ended (exit {process.returncode}): {log.read_text()[-500:]}"
        found[:] = pattern.findall(log.read_text(errors="replace"))
        return bool(found)

    wait_for(listening, f"'{label}' in the Dask log")
    return found[0]


def wait_for(condition, what: str, seconds: float = 30) -> None:
    """Poll ``condition`` until it holds; fail, naming ``what``, if it does not within ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.05)


def chunks(out: Path) -> int:
    return len(list((out / "chunks").glob("*.summary.parquet")))


def start_sweep(argv: list[str], **options) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "sim", *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, **options)


def assert_resumes(out: Path, points: int) -> None:
    """``sco-sim sweep --resume OUT`` on one local worker, without the scheduler, finishes the sweep."""
    assert main(["sweep", "--resume", str(out), "--workers", "1", "--quiet", "--no-figures"]) == 0
    assert len(pd.read_parquet(out / "summary.parquet").point.unique()) == points


def test_a_scheduler_lost_mid_sweep_is_one_line_and_the_sweep_resumes(tmp_path):
    out, points = tmp_path / "lost", 20
    with dask_cluster(tmp_path) as (address, _, scheduler):
        process = start_sweep(sweep_argv(out, points, "--scheduler", address))
        wait_for(lambda: chunks(out) >= 1 or process.poll() is not None, "the first chunk")
        scheduler.kill()
        _, err = process.communicate(timeout=60)
    assert chunks(out) < points, "the sweep must have been interrupted part-way"
    one_line(process.returncode, err, f"error: the Dask scheduler at {address} was lost mid-sweep (",
             f"); the finished chunks are kept; finish with: sco-sim sweep --resume {out}", expected=3)
    assert_resumes(out, points)


def test_a_dask_worker_is_not_taken_for_a_scheduler_and_ctrl_c_still_exits_130(tmp_path):
    out = tmp_path / "interrupted"
    with dask_cluster(tmp_path) as (address, worker, _):
        # a Dask worker's address answers Dask's protocol, but is no scheduler
        done = python_sim(sweep_argv(tmp_path / "worker", 3, "--scheduler", worker))
        one_line(done.returncode, done.stderr, f"--scheduler {worker}: answered, but is not a Dask scheduler "
                                               "(it is a Worker)")
        # a user's Ctrl-C is an interruption, not a lost cluster
        process = start_sweep(sweep_argv(out, 20, "--scheduler", address))
        wait_for(lambda: chunks(out) >= 1 or process.poll() is not None, "the first chunk")
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.splitlines() == [f"interrupted; the finished chunks are kept; finish with: sco-sim sweep --resume {out}"]


def descendants(pid: int) -> set[int]:
    """The processes below ``pid``, by their parents in /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (name)": state, ppid, ...
            parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead and waiting for its parent to reap it, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


needs_two = pytest.mark.skipif(not LINUX or processors() < 2, reason="needs Linux's /proc and two processors")


@needs_two
def test_a_worker_process_killed_mid_sweep_is_one_line_and_the_sweep_resumes(tmp_path):
    out, points = tmp_path / "broken", 30
    process = start_sweep(sweep_argv(out, points, "--workers", "2"))
    wait_for(lambda: chunks(out) >= 1 or process.poll() is not None, "the first chunk")
    workers = pool_workers(process.pid)
    assert workers, "the sweep's workers must be running"
    os.kill(workers[0], signal.SIGKILL)
    _, err = process.communicate(timeout=60)
    assert chunks(out) < points, "the sweep must have been interrupted part-way"
    one_line(process.returncode, err, "error: a worker process died mid-sweep (BrokenProcessPool",
             f"); the finished chunks are kept; finish with: sco-sim sweep --resume {out}", expected=3)
    assert_resumes(out, points)


@needs_two
def test_ctrl_c_in_a_sweep_on_local_workers_is_an_interruption_not_a_lost_worker(tmp_path):
    # Ctrl-C signals the terminal's whole process group: the workers die of it too, and the sweep must still
    # report the user's interruption (exit 130), not a worker lost (exit 3)
    out = tmp_path / "interrupted"
    process = start_sweep(sweep_argv(out, 30, "--workers", "2"), start_new_session=True)
    wait_for(lambda: chunks(out) >= 1 or process.poll() is not None, "the first chunk")
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.splitlines() == [f"interrupted; the finished chunks are kept; finish with: sco-sim sweep --resume {out}"]


def pool_workers(pid: int) -> list[int]:
    """A sweep's worker processes: the children of its fork server (its child that runs forkserver.main)."""
    servers = {child for child in descendants(pid)
               if parent_of(child) == pid and b"forkserver" in Path(f"/proc/{child}/cmdline").read_bytes()}
    return sorted(child for child in descendants(pid) if parent_of(child) in servers)


def parent_of(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


def test_the_warm_up_thread_does_not_raise_on_a_pool_that_is_gone():
    pool = ProcessPoolExecutor(max_workers=1)
    pool.shutdown()
    executors._warm(pool, 2)  # no RuntimeError: the sweep, not this thread, reports a lost pool


# -- 3. a sweep killed outright leaves no process behind -------------------------------------------------------------


@needs_two
def test_a_sweep_killed_outright_takes_its_fork_server_workers_and_resource_tracker_with_it(tmp_path):
    out = tmp_path / "killed"
    # its own session, so that nothing but this test's signal reaches it; stderr to a file: orphans would hold a pipe
    with (tmp_path / "stderr").open("w") as err:
        process = subprocess.Popen([sys.executable, "-m", "sim", *sweep_argv(out, 60, "--workers", "2")],
                                   stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT, start_new_session=True)
        below: set[int] = set()
        try:
            wait_for(lambda: chunks(out) >= 1 or process.poll() is not None, "the first chunk")
            below = descendants(process.pid)
            assert len(below) >= 4, "a resource tracker, a fork server and two workers"
            process.kill()
            process.wait(timeout=30)
            wait_for(lambda: not any(alive(pid) for pid in below), "the sweep's processes to end", seconds=10)
        finally:  # what outlived the sweep is ended here, not left running after the test
            process.kill()
            for pid in below:
                with contextlib.suppress(OSError):  # only the sweep's own, should a pid have been reused
                    if alive(pid) and b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes():
                        os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not LINUX, reason="the parent-death signal is Linux's")
def test_a_process_whose_parent_is_already_gone_ends_at_once():
    # die_with_parent's race check: a parent other than the expected one means the expected one has ended
    program = ("from sim.core.processes import die_with_parent; print('armed', flush=True); "
               "die_with_parent(1); print('still here')")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=30, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (1, "armed\n", "")
