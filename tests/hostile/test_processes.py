"""Processes that must not outlive or ignore their command (issue 29, points 2 to 4 of its list, and the option a
resume names).

Every command that starts worker processes (``validate``, ``validate --leave-one-out``, ``sweep`` on local workers;
``fit``, ``sensitivity`` and ``backtest`` run in their own process) is killed outright (a sweep: test_faults.py), or
interrupted with Ctrl-C (SIGINT to its whole process group, as a terminal sends it, and to the parent alone), while
its workers are busy: no process of it may be alive 2 s later, and Ctrl-C ends it within 2 s, exit 130, one line on
stderr. A Dask scheduler that freezes mid-sweep is reported within the stated timeout.

Each command runs in a session of its own, so that only the test's signals reach it, and its whole process group is
killed when the test ends, whatever happened.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import yaml

from sim.cli import main

from ..conftest import ROOT, one_line
from ..test_faults import assert_resumes, chunks, dask_cluster, sweep_argv, wait_for

LINUX = sys.platform.startswith("linux")
BASELINE = str(ROOT / "scenarios" / "baseline.yaml")
#: How long a command has to end, and its processes with it, after a kill or a Ctrl-C (the issue's limit).
LIMIT = 2.0
#: CPU seconds each worker must have used before the command is hit, to be into a task: a spawned worker first
#: imports numpy, pandas, pydantic and Mesa (2.6 s of CPU); a sweep's is forked from a fork server that did.
BUSY = {"validate": 3.0, "leave-one-out": 3.0, "sweep": 0.5}

needs_two = pytest.mark.skipif(not LINUX or psutil.cpu_count() < 2, reason="needs Linux and two processors")


@pytest.fixture
def cases(tmp_path) -> Path:
    """Four cases of 20,000 replicates, each about 10 s of a worker's time (with its falsifiability search): two
    workers have two more to take on after the first two."""
    case = {"scenario": str(ROOT / "scenarios" / "history.yaml"), "year": 2002, "proposal": "rats",
            "outcome": "adopted", "what_happened": "adopted", "source": "test", "replicates": 20_000}
    path = tmp_path / "cases.yaml"
    path.write_text(yaml.safe_dump({"cases": [{"id": f"rats-{n}", **case} for n in range(4)]}),
                    encoding="utf-8")
    return path


def commands(cases: Path, out: Path) -> dict[str, list[str]]:
    """Each command that starts worker processes, sized to keep two of them busy for 10 s or more."""
    return {
        "validate": ["validate", str(cases)],
        "leave-one-out": ["validate", str(cases), "--leave-one-out"],
        "sweep": ["sweep", BASELINE, "--param", "rules.deference=0:1:8", "--replicates", "15000", "--chunk-size", "1",
                  "--workers", "2", "--out", str(out), "--quiet", "--no-figures"],
    }


@contextlib.contextmanager
def command(argv: list[str], folder: Path, limits: str = "") -> Iterator[subprocess.Popen[bytes]]:
    """``python -m sim ARGV`` in a session of its own, stderr to a file (an orphan would hold a pipe open); its
    process group is killed when the block ends. ``limits``: Python run first that lowers some (``X = 1; ...``)."""
    program = ["-m", "sim"] if not limits else [
        "-c", f"import sys; from sim.experiments import executors, sweep; {limits}; from sim.cli import main; "
              "sys.exit(main(sys.argv[1:]))"]
    with (folder / "stderr").open("wb") as err:
        process = subprocess.Popen([sys.executable, *program, *argv], stdout=subprocess.DEVNULL, stderr=err,
                                   cwd=ROOT, start_new_session=True)
        try:
            yield process
        finally:
            with contextlib.suppress(ProcessLookupError):  # the group outlives its leader while any member lives
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def busy_workers(process: subprocess.Popen[bytes], busy: float, count: int = 2) -> list[psutil.Process]:
    """Every process below the command once ``count`` workers have each used ``busy`` s of CPU (all of them, the
    resource tracker and a fork server included, so that none escapes the check)."""
    def workers() -> list[psutil.Process]:  # neither the resource tracker nor the fork server (the sweep's)
        return [p for p in psutil.Process(process.pid).children(recursive=True)
                if "resource_tracker" not in (line := " ".join(p.cmdline()))
                and not ("forkserver" in line and p.ppid() == process.pid)]

    def ready() -> bool:
        with contextlib.suppress(psutil.Error):
            return len([p for p in workers() if sum(p.cpu_times()[:2]) >= busy]) >= count
        return process.poll() is not None

    wait_for(ready, f"{count} busy workers", seconds=60)
    assert process.poll() is None, "the command ended before its workers were busy"
    return psutil.Process(process.pid).children(recursive=True)


def alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Those still running (a zombie, dead and waiting to be reaped, is not)."""
    running = []
    for p in processes:
        with contextlib.suppress(psutil.Error):
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                running.append(p)
    return running


def gone_within(processes: list[psutil.Process], seconds: float) -> float:
    """How long it took every one of ``processes`` to end; fails if some are alive after ``seconds``."""
    began = time.monotonic()
    while alive(processes) and time.monotonic() - began < seconds:
        time.sleep(0.05)
    left = [f"{p.pid} {' '.join(p.cmdline())[:80]}" for p in alive(processes)]
    assert not left, f"alive {seconds} s after: {left}"
    return time.monotonic() - began


# -- 1. a command killed outright takes its workers with it --------------------------------------------------------


@needs_two
@pytest.mark.parametrize("name", ["validate", "leave-one-out"])  # a sweep: test_faults.py
def test_a_command_killed_outright_leaves_no_process_behind(cases, tmp_path, name):
    with command(commands(cases, tmp_path / "out")[name], tmp_path) as process:
        below = busy_workers(process, BUSY[name])
        process.kill()
        process.wait(timeout=30)
        gone_within(below, LIMIT)


# -- 2. Ctrl-C stops the command and its workers at once ---------------------------------------------------------------


@needs_two
@pytest.mark.parametrize("whom", ["group", "parent"])
@pytest.mark.parametrize("name", ["validate", "leave-one-out", "sweep"])
def test_ctrl_c_stops_a_command_and_its_workers_within_two_seconds(cases, tmp_path, name, whom):
    out = tmp_path / "out"
    with command(commands(cases, out)[name], tmp_path) as process:
        below = busy_workers(process, BUSY[name])
        began = time.monotonic()
        if whom == "group":  # a terminal's Ctrl-C
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
        took = time.monotonic() - began
        assert process.poll() is not None and took <= LIMIT, f"still running {took:.1f} s after Ctrl-C"
        gone_within(below, LIMIT - took)
    err = (tmp_path / "stderr").read_text()
    said = (f"interrupted; the finished chunks are kept; finish with: sco-sim sweep --resume {out}" if name == "sweep"
            else "interrupted; nothing was written")
    assert (process.returncode, err.splitlines()) == (130, [said]), err


#: The commands that run in their own process, each sized to compute for several seconds past its imports.
IN_PROCESS = {
    "run": ["run", BASELINE, "--replicates", "50000", "--no-figures", "--quiet"],
    "fit": ["fit", "--worlds", "2000"],
    "sensitivity": ["sensitivity", BASELINE, "--replicates", "8000"],
    "backtest": ["backtest", "deu", str(ROOT.parent / "shared" / "data" / "deu3" / "deu3_calibration.tsv")],
}


@pytest.mark.skipif(not LINUX, reason="needs Linux's signals")
@pytest.mark.parametrize("name", sorted(IN_PROCESS))
def test_a_command_without_workers_starts_none_and_stops_at_ctrl_c(tmp_path, name):
    # a pool added to one of these later without processes.Pool would show here: a child, or a late exit
    argv = [*IN_PROCESS[name], *([] if name == "fit" else ["--out", str(tmp_path / "out")])]
    with command(argv, tmp_path) as process:
        me = psutil.Process(process.pid)
        wait_for(lambda: process.poll() is not None or sum(me.cpu_times()[:2]) >= 3.0, "3 s of work", seconds=60)
        assert process.poll() is None, "the command ended before it was interrupted"
        assert me.children(recursive=True) == []
        began = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
        took = time.monotonic() - began
        assert process.poll() is not None and took <= LIMIT, f"still running {took:.1f} s after Ctrl-C"
    err = (tmp_path / "stderr").read_text()
    assert (process.returncode, err.splitlines()) == (130, ["interrupted; nothing was written"]), err
    assert not (tmp_path / "out").exists()


# -- 3. a Dask scheduler that stops answering mid-sweep -------------------------------------------------------------

#: The scheduler is asked who it is after this many seconds without a chunk, and has this many to answer (lowered
#: from DASK_PROBE_SECONDS and DASK_ANSWER_SECONDS, 5 and 10 s, to keep the test short).
PROBE, ANSWER = 0.5, 1
LOWERED = f"sweep.DASK_PROBE_SECONDS = {PROBE}; executors.DASK_ANSWER_SECONDS = {ANSWER}"


@pytest.mark.skipif(not LINUX, reason="needs Linux's signals")
def test_a_frozen_scheduler_is_reported_within_the_stated_timeout_and_a_long_chunk_is_waited_for(tmp_path):
    long, frozen, points = tmp_path / "long", tmp_path / "frozen", 20
    with dask_cluster(tmp_path) as (address, _, scheduler):
        # a chunk of 2 s and more (the Dask worker's imports first), longer than a probe and its answer: the
        # scheduler answers, and the sweep waits for the chunk
        argv = ["sweep", BASELINE, "--param", "rules.deference=0.5", "--replicates", "5000",
                "--out", str(long), "--quiet", "--no-figures", "--scheduler", address]
        with command(argv, tmp_path, LOWERED) as process:
            process.wait(timeout=60)
        assert process.returncode == 0, (tmp_path / "stderr").read_text()
        with command(sweep_argv(frozen, points, "--scheduler", address), tmp_path, LOWERED) as process:
            wait_for(lambda: chunks(frozen) >= 1 or process.poll() is not None, "the first chunk")
            scheduler.send_signal(signal.SIGSTOP)  # alive, connected, silent
            began = time.monotonic()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=PROBE + ANSWER + 30)
            took = time.monotonic() - began
        assert took <= PROBE + ANSWER + LIMIT, f"{took:.1f} s after the scheduler froze"
    one_line(process.returncode, (tmp_path / "stderr").read_text(),
             f"error: the Dask scheduler at {address} stopped answering mid-sweep (no answer within {ANSWER} s); "
             f"the finished chunks are kept; finish with: sco-sim sweep --resume {frozen}", expected=3)
    assert chunks(frozen) < points, "the sweep must have been interrupted part-way"
    assert_resumes(frozen, points)


# -- the option a resume names --------------------------------------------------------------------------------------

#: Two points of ten replicates, in this process.
SMALL = ["--param", "rules.deference=0:1:2", "--replicates", "10", "--seed", "1", "--workers", "1", "--quiet",
         "--no-figures"]


@pytest.mark.parametrize(("begun", "typed", "differs"), [
    ([], ["--bargaining", "nash"], "--bargaining"),
    ([], ["--fixed-parameters"], "--fixed-parameters"),
    (["--bargaining", "nash", "--set", "rules.objection_cost=0.1"], ["--bargaining", "veto"], "--bargaining"),
    (["--bargaining", "nash", "--set", "rules.objection_cost=0.1"], ["--set", "rules.objection_cost=0.2"], "--set"),
    # what the sweep began with, in part or whole, is accepted: --resume takes the sweep's own
    (["--bargaining", "nash", "--set", "rules.objection_cost=0.1"], ["--bargaining", "nash"], None),
    (["--bargaining", "nash", "--set", "rules.objection_cost=0.1"], ["--set", "rules.objection_cost=0.1"], None),
    (["--fixed-parameters", "--bargaining", "nash"], ["--bargaining", "nash", "--fixed-parameters"], None),
])
def test_resume_names_the_option_that_differs_as_it_was_typed(tmp_path, capsys, begun, typed, differs):
    out = tmp_path / "sweep"
    assert main(["sweep", BASELINE, *SMALL, *begun, "--out", str(out)]) == 0
    capsys.readouterr()
    status = main(["sweep", "--resume", str(out), *SMALL[-4:], *typed])
    if differs is None:
        assert status == 0, capsys.readouterr().err
    else:
        one_line(status, capsys.readouterr().err, f"error: command line: {differs} differs from the sweep in {out} "
                                                  "(drop it: --resume takes the sweep's own)")
