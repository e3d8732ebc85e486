"""Files that must not be lost (issue 29, case 1): ``--force`` replaces only what sco-sim wrote.

Reproduced first on the code before the fix: ``run --force --out R`` and ``sweep --force --out S`` on a folder
sco-sim had written, with the user's ``notes.txt`` and ``mine/x`` added, deleted both, exit 0, no word. And a
full disk under ``run --force`` said only ``error: file system: No space left on device``, although the new
tables had replaced the earlier run.
"""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import pytest

from sim.cli import main
from sim.core import files

from ..conftest import ROOT, one_line

BASELINE = str(ROOT / "scenarios" / "baseline.yaml")
RUN = ["run", BASELINE, "--seed", "1", "--replicates", "20", "--quiet"]
SWEEP = ["sweep", BASELINE, "--param", "rules.deference=0,1", "--replicates", "10", "--seed", "1", "--workers", "1",
         "--quiet", "--no-figures"]
#: What a user adds inside a folder sco-sim wrote: a note, and a folder of their own.
THEIRS = {"notes.txt": "what I saw in this run\n", "mine/x": "my own analysis\n"}


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too), by relative path, with its content."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def add_theirs(folder: Path, where: str = "") -> None:
    for name, text in THEIRS.items():
        path = folder / where / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def theirs_kept(folder: Path, where: str = "") -> bool:
    return all((folder / where / name).read_text() == text for name, text in THEIRS.items())


@pytest.fixture(scope="module")
def earlier(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A run (figures and report), a sweep, a comparison and a sensitivity folder, each as sco-sim wrote it."""
    root = tmp_path_factory.mktemp("earlier")
    assert main([*RUN, "--out", str(root / "run")]) == 0
    assert main(["report", str(root / "run")]) == 0
    assert main([*SWEEP, "--out", str(root / "sweep")]) == 0
    assert main(["compare", str(root / "run"), str(root / "run"), "--out", str(root / "comparison")]) == 0
    assert main(["sensitivity", BASELINE, "--replicates", "1000", "--out", str(root / "sensitivity")]) == 0
    return {kind: root / kind for kind in ("run", "sweep", "comparison", "sensitivity")}


@pytest.fixture
def copy_of(earlier: dict[str, Path], tmp_path: Path):
    def copy(kind: str) -> Path:
        folder = tmp_path / kind
        shutil.copytree(earlier[kind], folder)
        return folder

    return copy


@pytest.mark.parametrize("command", ["run", "sweep"])
@pytest.mark.parametrize("kind", ["run", "sweep"])
def test_force_refuses_a_folder_of_ours_holding_the_users_files_and_touches_nothing(
    copy_of, capsys: pytest.CaptureFixture[str], command: str, kind: str
) -> None:
    folder = copy_of(kind)
    add_theirs(folder)
    before = snapshot(folder.parent)
    argv = RUN if command == "run" else SWEEP
    assert main([*argv, "--out", str(folder), "--force"]) == 2
    one_line(2, capsys.readouterr().err,
             f"error: {folder}: --out: holds files sco-sim did not write (mine/, notes.txt)", "nothing was replaced")
    assert snapshot(folder.parent) == before


@pytest.mark.parametrize("kind", ["run", "sweep", "comparison", "sensitivity"])
def test_force_replaces_every_kind_of_folder_sco_sim_wrote_when_it_holds_nothing_else(copy_of, kind: str) -> None:
    folder = copy_of(kind)  # everything in it, figures and report included, is recorded as sco-sim's
    assert main([*RUN, "--out", str(folder), "--force", "--no-figures"]) == 0
    assert (folder / "summary.csv").is_file() and not (folder / "figures").exists()


def test_a_file_of_the_users_inside_figures_is_refused_too(copy_of, capsys: pytest.CaptureFixture[str]) -> None:
    folder = copy_of("run")
    add_theirs(folder, "figures")
    assert main([*RUN, "--out", str(folder), "--force"]) == 2
    one_line(2, capsys.readouterr().err, "holds files sco-sim did not write (figures/mine/, figures/notes.txt)")


def test_plot_redraws_the_figures_and_keeps_the_users_files_among_them(copy_of) -> None:
    folder = copy_of("run")
    add_theirs(folder, "figures")
    assert main(["plot", str(folder), "--format", "svg"]) == 0
    assert theirs_kept(folder, "figures") and (folder / "figures" / "adoption.svg").is_file()
    assert not (folder / "figures" / "adoption.png").exists()  # sco-sim's own figures are replaced


def test_files_added_while_a_forced_run_writes_are_kept_in_the_new_folder(
    copy_of, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.outputs import run_folder

    folder = copy_of("run")
    real = run_folder.outcome_table

    def user_adds_while_running(*args: object):  # after the folder was claimed and checked, before the swap
        add_theirs(folder)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(run_folder, "outcome_table", user_adds_while_running)
    assert main([*RUN, "--replicates", "30", "--out", str(folder), "--force", "--no-figures"]) == 0
    assert theirs_kept(folder) and json.loads((folder / "metadata.json").read_text())["replicates"] == 30


def test_recovery_keeps_the_users_files_in_a_copy_set_aside(copy_of) -> None:
    folder = copy_of("run")  # as a crash between the two renames of a swap leaves it: the old run set aside
    aside = folder.parent / f".{folder.name}.{files.OLD}-1234"
    folder.rename(aside)
    add_theirs(aside)
    staged = folder.parent / f".{folder.name}.{files.NEW}-5678"
    shutil.copytree(aside, staged)  # and a newer copy that was being staged, with them too
    folder.mkdir()
    (folder / "summary.csv").write_text("a run that replaced it\n")
    files.mark(folder, "run")
    files.recover(folder)
    assert theirs_kept(folder) and not aside.exists() and not staged.exists()


def test_an_earlier_versions_folder_holding_the_users_files_is_refused(
    copy_of, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = copy_of("run")
    (folder / files.MARKER).write_text(json.dumps({"kind": "run", "version": "0.9", "created": "2026-11-01"}))
    add_theirs(folder)
    assert main([*RUN, "--out", str(folder), "--force"]) == 2
    one_line(2, capsys.readouterr().err, "holds files sco-sim did not write (mine/, notes.txt)")
    shutil.rmtree(folder / "mine")
    (folder / "notes.txt").unlink()
    assert main([*RUN, "--out", str(folder), "--force"]) == 0  # what earlier versions wrote is known by name


def test_a_full_disk_while_drawing_says_the_new_tables_are_in_place(
    copy_of, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from matplotlib.figure import Figure

    folder = copy_of("run")

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full)
    assert main([*RUN, "--replicates", "30", "--out", str(folder), "--force"]) == 2
    one_line(2, capsys.readouterr().err,
             f"error: {folder}/figures: No space left on device; the run's tables are in {folder} "
             f"(they replaced the earlier results) but not its figures; redraw them with: sco-sim plot {folder}")
    assert json.loads((folder / "metadata.json").read_text())["replicates"] == 30


def test_a_full_disk_while_writing_the_tables_says_the_earlier_run_is_unchanged(
    copy_of, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sim.outputs import run_folder

    folder = copy_of("run")
    before = snapshot(folder)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(run_folder, "cohesion", full)
    assert main([*RUN, "--replicates", "30", "--out", str(folder), "--force"]) == 2
    one_line(2, capsys.readouterr().err, f"error: {folder}: No space left on device; nothing was written: the "
                                         f"earlier results in {folder} are unchanged")
    assert snapshot(folder) == before


@pytest.mark.parametrize("when", ["a chunk", "the merge"])
def test_a_full_disk_mid_sweep_keeps_the_finished_chunks_and_says_how_to_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], when: str
) -> None:
    from sim.experiments.sweep_folder import Sweep

    out = tmp_path / "s"
    real = Sweep.write_chunk if when == "a chunk" else Sweep.merge
    calls: list[int] = []

    def full(self: Sweep, *args: object) -> None:  # the disk fills as the third chunk is written, or at the merge
        calls.append(1)
        if when == "the merge" or len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Sweep, "write_chunk" if when == "a chunk" else "merge", full)
    argv = [*SWEEP[:3], "rules.deference=0:1:4", *SWEEP[4:], "--chunk-size", "1", "--out", str(out)]
    assert main(argv) == 2
    left = "the finished chunks are kept" if when == "a chunk" else "every chunk is done and kept; merge them with"
    one_line(2, capsys.readouterr().err, f"error: {out}: No space left on device; {left}",
             f"sco-sim sweep --resume {out}")
    monkeypatch.undo()
    assert main(["sweep", "--resume", str(out), "--quiet", "--no-figures", "--workers", "1"]) == 0
    assert (out / "summary.parquet").is_file()
