"""Processes that must not outlive or ignore their command (issue 29, points 2 to 4 of its list, and the option a
resume names).

Every command that starts worker processes (``validate``, ``validate --leave-one-out``, ``sweep`` on local workers)
is killed outright, or interrupted with Ctrl-C (SIGINT to its whole process group, as a terminal sends it, and to
the parent alone), while its workers are busy: no process of it may be alive 2 s later, and Ctrl-C ends it within
2 s, exit 130, one line on stderr. A Dask scheduler that freezes mid-sweep is reported within the stated timeout.

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

from ..conftest import ROOT
from ..test_faults import wait_for

LINUX = sys.platform.startswith("linux")
BASELINE = str(ROOT / "scenarios" / "baseline.yaml")
#: How long a command has to end, and its processes with it, after a kill or a Ctrl-C (the issue's limit).
LIMIT = 2.0
#: CPU seconds each worker must have used before the command is hit: past its imports (about 2 s), into a task.
BUSY = 3.0

pytestmark = pytest.mark.skipif(not LINUX or psutil.cpu_count() < 2, reason="needs Linux and two processors")


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
def command(argv: list[str], folder: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m sim ARGV`` in a session of its own, stderr to a file (an orphan would hold a pipe open); its
    process group is killed when the block ends."""
    with (folder / "stderr").open("wb") as err:
        process = subprocess.Popen([sys.executable, "-m", "sim", *argv], stdout=subprocess.DEVNULL, stderr=err,
                                   cwd=ROOT, start_new_session=True)
        try:
            yield process
        finally:
            with contextlib.suppress(ProcessLookupError):  # the group outlives its leader while any member lives
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def busy_workers(process: subprocess.Popen[bytes], count: int = 2, seconds: float = 60) -> list[psutil.Process]:
    """Every process below the command once ``count`` workers have each used BUSY s of CPU (all of them, the
    resource tracker and a fork server included, so that none escapes the check)."""
    def workers() -> list[psutil.Process]:  # neither the resource tracker nor the fork server (the sweep's)
        return [p for p in psutil.Process(process.pid).children(recursive=True)
                if "resource_tracker" not in (line := " ".join(p.cmdline()))
                and not ("forkserver" in line and p.ppid() == process.pid)]

    def ready() -> bool:
        with contextlib.suppress(psutil.Error):
            busy = [p for p in workers() if sum(p.cpu_times()[:2]) >= BUSY]
            return len(busy) >= count
        return process.poll() is not None

    wait_for(ready, f"{count} busy workers", seconds)
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


@pytest.mark.parametrize("name", ["validate", "leave-one-out"])  # a sweep: test_faults.py
def test_a_command_killed_outright_leaves_no_process_behind(cases, tmp_path, name):
    with command(commands(cases, tmp_path / "out")[name], tmp_path) as process:
        below = busy_workers(process)
        process.kill()
        process.wait(timeout=30)
        gone_within(below, LIMIT)


# -- 2. Ctrl-C stops the command and its workers at once ---------------------------------------------------------------


@pytest.mark.parametrize("whom", ["group", "parent"])
@pytest.mark.parametrize("name", ["validate", "leave-one-out", "sweep"])
def test_ctrl_c_stops_a_command_and_its_workers_within_two_seconds(cases, tmp_path, name, whom):
    out = tmp_path / "out"
    with command(commands(cases, out)[name], tmp_path) as process:
        below = busy_workers(process)
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
