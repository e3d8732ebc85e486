"""Folders that --force cannot destroy: the marker, the places never written, replacement by swap, locks, recovery.

Issue 15's reproductions, each on today's code: ``sweep --out . --force`` wiped the current folder; ``run --out R
--force`` killed while writing lost R; two sweeps into one --out mixed their results; ``run --out / --force`` was
an internal error.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.cli import main
from sim.core import files
from sim.core.errors import UsageError
from sim.outputs.run_folder import RunResults

from .conftest import ROOT

BASELINE = str(ROOT / "scenarios" / "baseline.yaml")
RUN = ["run", BASELINE, "--seed", "1", "--quiet", "--no-figures"]
SWEEP = ["sweep", BASELINE, "--param", "rules.deference=0,1", "--replicates", "20", "--seed", "1", "--workers", "1",
         "--quiet", "--no-figures"]
NEW_SWEEP = ["sweep", BASELINE, "--param", "rules.deference=0:1:4", "--replicates", "20", "--seed", "1",
             "--workers", "1", "--chunk-size", "1", "--quiet", "--no-figures"]
UNMARKED = "holds files sco-sim did not write; refusing to replace it"
LOCKED = re.compile(r"^error: (?P<out>.+): locked by sco-sim \(pid (?P<pid>\d+), '(?P<command>.+)', since "
                    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\); wait for it to finish or stop it$")


def err_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The one line the user sees on stderr (fails if there is not exactly one)."""
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too), by relative path, with its content."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def replicates_of_run(folder: Path) -> int:
    """The replicates of the complete run in ``folder``; fails if it is not a complete run."""
    results = RunResults(folder)  # reads every table
    assert (folder / "outcomes.parquet").stat().st_size > 0 and (folder / "summary.txt").read_text()
    return results.replicates


def siblings(folder: Path) -> list[str]:
    """What lies beside ``folder`` in its parent, hidden entries included, besides ``folder`` itself."""
    return sorted(p.name for p in folder.parent.iterdir() if p != folder)


@pytest.fixture(scope="module")
def earlier_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("earlier") / "r"
    assert main([*RUN, "--replicates", "20", "--out", str(out)]) == 0
    return out


@pytest.fixture
def run_folder(earlier_run: Path, tmp_path: Path) -> Path:
    """A copy of a complete run of 20 replicates, at ``tmp_path/r``."""
    out = tmp_path / "r"
    shutil.copytree(earlier_run, out)
    return out


@pytest.fixture(scope="module")
def earlier_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("earlier") / "s"
    assert main([*SWEEP, "--out", str(out)]) == 0
    return out


@pytest.fixture
def sweep_folder(earlier_sweep: Path, tmp_path: Path) -> Path:
    """A copy of a finished sweep of 2 points, at ``tmp_path/s``."""
    out = tmp_path / "s"
    shutil.copytree(earlier_sweep, out)
    return out


# --- places never written, folders never replaced ---------------------------------------------------


@pytest.mark.parametrize("command", ["run", "sweep"])
@pytest.mark.parametrize(("out", "what"), [(".", "the current folder"), ("..", "a parent of the current folder"),
                                           ("/", "the root folder"), ("~", "the home folder")])
def test_the_current_folder_its_parents_home_and_root_are_refused_even_with_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str, out: str,
    what: str,
) -> None:
    home = tmp_path / "home"
    here = tmp_path / "work" / "X"
    here.mkdir(parents=True)
    home.mkdir()
    (here / "notes.txt").write_text("the user's own work\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(here)
    before = snapshot(tmp_path)
    argv = [*(RUN if command == "run" else SWEEP), "--replicates", "20", "--out", str(home) if out == "~" else out,
            "--force"]
    assert main(argv) == 2
    shown = str(home) if out == "~" else out
    assert err_line(capsys) == (f"error: {shown}: --out: is {what}; sco-sim writes only into a folder of its own, "
                                "choose a new folder")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", ["run", "sweep", "compare"])
def test_force_refuses_a_folder_sco_sim_did_not_write(
    run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    theirs = tmp_path / "theirs"
    (theirs / "nested").mkdir(parents=True)
    (theirs / "thesis.tex").write_text("\\chapter{One}\n")
    (theirs / "metadata.json").write_text('{"author": "not sco-sim"}\n')  # a manifest's name is not enough
    (theirs / "sweep.json").write_text('{"plan": {"version": 3}}\n')  # nor a version that is not sco-sim's string
    before = snapshot(tmp_path)
    argv = {"run": [*RUN, "--replicates", "20"], "sweep": SWEEP,
            "compare": ["compare", str(run_folder), str(run_folder)]}[command]
    assert main([*argv, "--out", str(theirs), "--force"]) == 2
    assert err_line(capsys) == f"error: {theirs}: --out: {UNMARKED}"
    assert snapshot(tmp_path) == before


def test_force_replaces_an_earlier_versions_run_and_sweep_by_their_manifests(
    run_folder: Path, sweep_folder: Path
) -> None:
    for folder in (run_folder, sweep_folder):  # as an earlier version left them: no marker
        (folder / files.MARKER).unlink()
    assert main([*RUN, "--replicates", "30", "--out", str(run_folder), "--force"]) == 0
    assert replicates_of_run(run_folder) == 30
    assert main([*RUN, "--replicates", "30", "--out", str(sweep_folder), "--force"]) == 0
    assert replicates_of_run(sweep_folder) == 30
    assert json.loads((run_folder / files.MARKER).read_text())["kind"] == "run"


def test_every_folder_written_carries_the_marker_of_its_kind(earlier_run: Path, earlier_sweep: Path,
                                                            tmp_path: Path) -> None:
    assert main(["compare", str(earlier_run), str(earlier_run), "--out", str(tmp_path / "c")]) == 0
    deu = ROOT.parent / "shared" / "data" / "deu3" / "deu3_calibration.tsv"  # as tests/test_backtest.py reads it
    assert main(["backtest", "deu", str(deu), "--out", str(tmp_path / "b")]) == 0
    kinds = {"run": earlier_run, "sweep": earlier_sweep, "comparison": tmp_path / "c", "backtest": tmp_path / "b"}
    for kind, folder in kinds.items():
        stamp = json.loads((folder / files.MARKER).read_text())
        assert stamp["kind"] == kind and stamp["version"] and stamp["created"]


# --- replacing a run: never a moment without results ------------------------------------------------


@pytest.mark.parametrize("fault", ["writing", "exchanging", "removing the old"])
def test_a_run_failing_at_any_step_of_force_leaves_old_or_new_and_the_next_force_works(
    run_folder: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    from sim.outputs import run_folder as module

    def broken(*args: object, **kwargs: object) -> object:
        raise OSError(errno.EIO, "injected fault")

    real_exchange = files.exchange
    if fault == "writing":
        monkeypatch.setattr(module, "metadata", broken)
    elif fault == "exchanging":
        monkeypatch.setattr(files, "exchange", broken)
    else:
        monkeypatch.setattr(files, "remove", broken)
    assert main([*RUN, "--replicates", "30", "--out", str(run_folder), "--force"]) == 2
    assert replicates_of_run(run_folder) == (30 if fault == "removing the old" else 20)
    monkeypatch.undo()
    assert files.exchange is real_exchange
    assert main([*RUN, "--replicates", "40", "--out", str(run_folder), "--force"]) == 0
    assert replicates_of_run(run_folder) == 40
    assert siblings(run_folder) == []  # the leftover was cleared, the lock file removed


#: A driver for ``run``: it kills itself with SIGKILL at the point named in SCO_SIM_KILL_AT.
KILLER = """
import os, signal, sys
from pathlib import Path
from sim.core import files
from sim.outputs import run_folder

point = os.environ["SCO_SIM_KILL_AT"]
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

if point == "writing":
    run_folder.metadata = die
elif point == "exchanged":
    exchange = files.exchange
    files.exchange = lambda new, out: (exchange(new, out), die())
elif point == "removing":
    def remove(folder):
        for entry in sorted(folder.iterdir())[:3]:
            if entry.name != files.MARKER:
                entry.unlink()
        die()
    files.remove = remove
elif point == "set aside":
    files._renameat2 = None
    rename = os.rename
    def aside_then_die(source, target):
        rename(source, target)
        if ".old-" in str(target):
            die()
    os.rename = aside_then_die
from sim.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("point", ["writing", "exchanged", "removing", "set aside"])
def test_sigkill_at_each_step_of_run_force_leaves_old_or_new_and_the_next_command_recovers(
    run_folder: Path, capsys: pytest.CaptureFixture[str], point: str
) -> None:
    argv = [sys.executable, "-c", KILLER, *RUN, "--replicates", "30", "--out", str(run_folder), "--force"]
    killed = subprocess.run(argv, env={**os.environ, "SCO_SIM_KILL_AT": point}, capture_output=True, check=False)
    assert killed.returncode == -signal.SIGKILL
    if point == "set aside":  # without renameat2, the old run waits aside for the next command
        assert not run_folder.exists() and any(".r.old-" in name for name in siblings(run_folder))
    else:
        assert replicates_of_run(run_folder) == (20 if point == "writing" else 30)
    # the next command to write there puts the old run back (or keeps the new one), clears the rest, and refuses
    assert main([*RUN, "--replicates", "40", "--out", str(run_folder)]) == 2
    assert err_line(capsys).endswith("--out: already holds results; choose another folder or pass --force to "
                                     "replace it")
    assert replicates_of_run(run_folder) == (20 if point in ("writing", "set aside") else 30)
    assert siblings(run_folder) == []
    assert main([*RUN, "--replicates", "40", "--out", str(run_folder), "--force"]) == 0
    assert replicates_of_run(run_folder) == 40


@pytest.mark.parametrize("delay", [0.5, 1.5, 2.5])
def test_sigkill_at_any_moment_of_run_force_leaves_a_complete_run(run_folder: Path, delay: float) -> None:
    argv = [sys.executable, "-m", "sim", *RUN, "--replicates", "400", "--out", str(run_folder), "--force"]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    process.kill()
    process.wait(timeout=60)
    assert replicates_of_run(run_folder) in (20, 400)
    assert main([*RUN, "--replicates", "30", "--out", str(run_folder), "--force"]) == 0
    assert replicates_of_run(run_folder) == 30 and siblings(run_folder) == []


def test_the_exchange_falls_back_to_two_renames_where_renameat2_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = tmp_path / "out", tmp_path / "new"
    for folder, text in ((old, "old"), (new, "new")):
        folder.mkdir()
        (folder / "x").write_text(text)
    assert files.exchange(new, old) == new and (old / "x").read_text() == "new" and (new / "x").read_text() == "old"

    def refused(*args: object) -> int:
        import ctypes

        ctypes.set_errno(errno.EINVAL)  # as a file system without RENAME_EXCHANGE answers
        return -1

    monkeypatch.setattr(files, "_renameat2", refused)
    aside = files.exchange(new, old)
    assert (old / "x").read_text() == "old" and (aside / "x").read_text() == "new" and not new.exists()
    assert aside.name.startswith(".out.old-")


# --- replacing a sweep: the old one stays until the new one is complete -----------------------------


def test_an_interrupted_forced_sweep_keeps_the_old_one_and_resume_finishes_the_new(
    sweep_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sim.experiments import sweep

    real, calls = sweep.run_chunk, []

    def interrupted(*args: object) -> object:  # Ctrl-C while the third chunk runs
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args)  # type: ignore[arg-type]

    before = snapshot(sweep_folder)
    monkeypatch.setattr(sweep, "run_chunk", interrupted)
    assert main([*NEW_SWEEP, "--out", str(sweep_folder), "--force"]) == 130
    assert err_line(capsys) == ("interrupted; the finished chunks are kept; finish with: sco-sim sweep --resume "
                                f"{sweep_folder}")
    assert snapshot(sweep_folder) == before  # the old sweep, untouched
    pending = files.sibling(sweep_folder, files.PENDING)
    assert json.loads((pending / "sweep.json").read_text())["replaces"] == str(sweep_folder.resolve())
    monkeypatch.undo()
    assert main(["sweep", "--resume", str(sweep_folder), "--workers", "1", "--quiet", "--no-figures"]) == 0
    assert json.loads((sweep_folder / "sweep.json").read_text())["plan"]["points"] == 4
    assert snapshot(sweep_folder) != before and (sweep_folder / "summary.parquet").is_file()
    assert siblings(sweep_folder) == []


def test_an_unfinished_replacement_is_discarded_only_with_force(
    sweep_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pending = files.sibling(sweep_folder, files.PENDING)
    shutil.copytree(sweep_folder, pending)
    empty = sweep_folder.with_name("empty")
    empty.mkdir()
    shutil.move(pending, files.sibling(empty, files.PENDING))
    pending = files.sibling(empty, files.PENDING)
    assert main([*SWEEP, "--out", str(empty)]) == 2
    assert err_line(capsys) == (f"error: {empty}: --out: a sweep begun to replace it is unfinished ({pending}); "
                                f"finish it with 'sco-sim sweep --resume {empty}', or pass --force to start over")
    assert pending.is_dir()
    assert main([*SWEEP, "--out", str(empty), "--force"]) == 0
    assert not pending.exists() and (empty / "summary.parquet").is_file()


def test_sigkill_during_a_forced_sweep_keeps_the_old_one(sweep_folder: Path) -> None:
    before = snapshot(sweep_folder)
    argv = [sys.executable, "-m", "sim", *NEW_SWEEP, "--replicates", "300", "--out", str(sweep_folder), "--force"]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    chunks = files.sibling(sweep_folder, files.PENDING) / "chunks"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(chunks.glob("*.summary.parquet")):
        time.sleep(0.02)
    process.kill()
    process.wait(timeout=60)
    assert snapshot(sweep_folder) == before
    assert main([*SWEEP, "--replicates", "30", "--out", str(sweep_folder), "--force"]) == 0
    assert json.loads((sweep_folder / "sweep.json").read_text())["plan"]["replicates"] == 30
    assert siblings(sweep_folder) == []


# --- the lock ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "sweep", "resume", "compare", "plot", "sensitivity"])
def test_a_second_writer_is_refused_in_one_line_naming_the_holder(
    run_folder: Path, sweep_folder: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    out = {"run": run_folder, "sweep": sweep_folder, "resume": sweep_folder, "compare": run_folder.with_name("c"),
           "plot": run_folder, "sensitivity": sweep_folder}[command]
    argv = {"run": [*RUN, "--out", str(out), "--force"], "sweep": [*SWEEP, "--out", str(out), "--force"],
            "resume": ["sweep", "--resume", str(out), "--workers", "1"],
            "compare": ["compare", str(run_folder), str(run_folder), "--out", str(out)],
            "plot": ["plot", str(out)], "sensitivity": ["sensitivity", str(out)]}[command]
    before = snapshot(out.parent)
    with files.lock(out, ["sco-sim", "sweep", "holder.yaml"]):
        assert main(argv) == 2
        shown = LOCKED.match(err_line(capsys))
        assert shown is not None
        assert shown["out"] == str(out) and int(shown["pid"]) == os.getpid()
        assert shown["command"] == "sco-sim sweep holder.yaml"
    assert snapshot(out.parent) == before  # nothing written, and the lock file gone with its holder


def test_two_concurrent_sweeps_into_one_folder_the_second_is_refused(
    sweep_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [sys.executable, "-m", "sim", *NEW_SWEEP, "--replicates", "2000", "--out", str(sweep_folder), "--force"]
    first = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lock_file = sweep_folder.with_name(f".{sweep_folder.name}.lock")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (lock_file.is_file() and lock_file.read_text().endswith("\n")):
            time.sleep(0.02)
        assert main([*SWEEP, "--out", str(sweep_folder), "--force"]) == 2
        shown = LOCKED.match(err_line(capsys))
        assert shown is not None and int(shown["pid"]) == first.pid
        assert shown["command"].startswith(f"sco-sim sweep {BASELINE} --param rules.deference=0:1:4")
    finally:
        first.kill()
        first.wait(timeout=60)
    assert lock_file.is_file()  # left by the killed holder, and no longer held: reused
    assert main([*SWEEP, "--replicates", "30", "--out", str(sweep_folder), "--force"]) == 0
    assert json.loads((sweep_folder / "sweep.json").read_text())["plan"]["replicates"] == 30
    assert siblings(sweep_folder) == []


def test_a_lock_taken_twice_in_one_process_is_refused_and_released_on_error(tmp_path: Path) -> None:
    out = tmp_path / "r"
    with pytest.raises(RuntimeError), files.lock(out, ["first"]):
        with pytest.raises(UsageError, match=r"locked by sco-sim \(pid \d+, 'first', since"), \
                files.lock(out, ["second"]):
            pass
        raise RuntimeError
    with files.lock(out, ["third"]):
        assert json.loads(out.with_name(".r.lock").read_text())["command"] == "third"
    assert list(tmp_path.iterdir()) == []


# --- recovery -------------------------------------------------------------------------------------


def test_recovery_puts_back_a_set_aside_run_and_clears_only_our_leftovers(
    run_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parent = run_folder.parent
    # what an earlier version left after SIGKILL: the run only in .r.replaced, r gone (issue 15, case 2)
    run_folder.rename(parent / ".r.replaced")
    (parent / ".r.replaced" / files.MARKER).unlink()
    shutil.copytree(parent / ".r.replaced", parent / ".r.new-stale")  # a staging folder of ours, cut short
    (parent / ".r.new-stale" / files.MARKER).write_text('{"kind": "run"}')
    (parent / ".r.new-theirs").mkdir()  # not ours: left alone
    (parent / ".r.new-theirs" / "keep.txt").write_text("keep")
    assert main([*RUN, "--replicates", "30", "--out", str(run_folder)]) == 2  # recovered, then refused
    assert "already holds results" in err_line(capsys)
    assert replicates_of_run(run_folder) == 20
    assert siblings(run_folder) == [".r.new-theirs"]
    assert main([*RUN, "--replicates", "30", "--out", str(run_folder), "--force"]) == 0
    assert replicates_of_run(run_folder) == 30


def test_recovery_puts_back_the_newest_aside_copy(tmp_path: Path) -> None:
    out = tmp_path / "c"
    for age, name in enumerate([".c.old-1", ".c.old-2"]):
        (tmp_path / name).mkdir()
        files.mark(tmp_path / name, "comparison")
        os.utime(tmp_path / name, (1_000_000 + age, 1_000_000 + age))
    files.recover(out)
    assert out.is_dir() and sorted(p.name for p in tmp_path.iterdir()) == ["c"]
    assert out.stat().st_mtime == 1_000_001


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
               min_size=1, max_size=40).filter(lambda name: name not in (".", "..")))
def test_a_pending_sibling_names_the_folder_it_replaces(name: str) -> None:
    folder = Path("/data/results") / name
    pending = files.sibling(folder, files.PENDING)
    assert pending.parent == folder.parent and pending.name.startswith(".")
    assert files.destination(pending) == folder
    assert files.destination(folder) == folder or folder.name.endswith(".pending")


def test_commands_without_out_started_in_the_same_second_get_folders_of_their_own(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(files.time, "strftime", lambda _: "20261202-120000")  # the same second for all
    folders = [files.default_folder("sweep-baseline") for _ in range(3)]
    assert [f.name for f in folders] == ["sweep-baseline-20261202-120000", "sweep-baseline-20261202-120000-2",
                                         "sweep-baseline-20261202-120000-3"]
    assert all(f.is_dir() and not any(f.iterdir()) for f in folders)  # claimed at once, empty


def test_a_run_without_out_is_written_into_the_folder_it_claimed(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(ROOT / "scenarios" / "baseline.yaml"), "--replicates", "5", "--quiet",
                 "--no-figures"]) == 0
    (folder,) = (tmp_path / "results").iterdir()
    assert (folder / "summary.csv").is_file() and files.ours(folder)


def test_a_sweep_without_out_locks_the_folder_it_made(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    seen = []
    real = files.lock

    def spy(folder, command):
        seen.append(Path(folder))
        return real(folder, command)

    monkeypatch.setattr(files, "lock", spy)
    assert main(["sweep", str(ROOT / "scenarios" / "baseline.yaml"), "--param", "rules.deference=0,1",
                 "--replicates", "5", "--workers", "1", "--quiet", "--no-figures"]) == 0
    (folder,) = (tmp_path / "results").iterdir()
    assert [f.resolve() for f in seen] == [folder]  # held from the moment it exists, through the merge
