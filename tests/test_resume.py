"""Resuming a sweep: finished chunks are verified against their ledger records, damaged ones recomputed, a damaged
chunk never merged, and a resume that would change the results (an option, an edited input file) refused."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.core.errors import ConfigError
from sim.experiments.sweep_folder import CHUNKS, LEDGER, MANIFEST, TABLES, Sweep, open_sweep

from .conftest import ROOT

BASELINE = str(ROOT / "scenarios" / "baseline.yaml")
#: Four points of 20 replicates, one point per chunk: four chunks, 000000 to 000003.
SWEEP = ["--param", "members.russia.relations.china.dependence=0:1:4", "--replicates", "20", "--seed", "3",
         "--chunk-size", "1", "--workers", "1", "--quiet", "--no-figures"]


def merged(folder: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES}


def assert_same_tables(a: Path, b: Path) -> None:
    for name, table in merged(a).items():
        pd.testing.assert_frame_equal(table, pd.read_parquet(b / f"{name}.parquet"))


def chunk(folder: Path, number: int, name: str) -> Path:
    return folder / CHUNKS / f"{number:06d}.{name}.parquet"


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """A sweep run from start to end without interruption."""
    out = tmp_path_factory.mktemp("resume") / "reference"
    assert main(["sweep", BASELINE, *SWEEP, "--out", str(out)]) == 0
    return out


@pytest.fixture
def interrupted(reference, tmp_path) -> Path:
    """A copy of the reference sweep as an interruption after its last chunk leaves it: every chunk done, nothing
    merged."""
    out = tmp_path / "interrupted"
    shutil.copytree(reference, out)
    for name in TABLES:
        (out / f"{name}.parquet").unlink()
    return out


def resume(folder: Path, *extra: str) -> int:
    return main(["sweep", "--resume", str(folder), "--workers", "1", "--quiet", "--no-figures", *extra])


def test_the_ledger_records_each_chunk_with_its_rows_and_digests(reference):
    lines = (reference / LEDGER).read_text().splitlines()
    records = {json.loads(line)["chunk"]: json.loads(line) for line in lines}  # in the order the chunks finished
    assert len(lines) == 4 and sorted(records) == [0, 1, 2, 3]
    record = records[2]
    assert record["points"] == [2, 3]
    for name in TABLES:
        assert record["files"][name]["rows"] == len(pd.read_parquet(chunk(reference, 2, name)))
        assert len(record["files"][name]["sha256"]) == 64


def delete(folder: Path) -> None:
    chunk(folder, 2, "by_year").unlink()


def swap(folder: Path) -> None:  # another chunk's summary: its points would be merged twice, chunk 2's never
    shutil.copyfile(chunk(folder, 1, "summary"), chunk(folder, 2, "summary"))


def truncate(folder: Path) -> None:
    path = chunk(folder, 2, "stances")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize(("damage", "problem"), [
    (delete, "by_year missing"), (swap, "summary SHA-256 differs"), (truncate, "stances SHA-256 differs"),
])
def test_a_damaged_chunk_is_recomputed_on_resume(reference, interrupted, capsys, damage, problem):
    untouched = {p.name: p.stat().st_mtime_ns for p in (interrupted / CHUNKS).glob("00000[013].*")}
    damage(interrupted)
    assert resume(interrupted) == 0
    assert capsys.readouterr().err == f"1 chunk damaged or missing (000002: {problem}); recomputing it\n"
    assert_same_tables(reference, interrupted)
    assert {p.name: p.stat().st_mtime_ns for p in (interrupted / CHUNKS).glob("00000[013].*")} == untouched
    assert open_sweep(interrupted).damaged() == {}


def test_many_damaged_chunks_are_named_in_one_line(reference, interrupted, capsys):
    for number in range(4):
        chunk(interrupted, number, "failures").unlink()
    assert resume(interrupted) == 0
    assert capsys.readouterr().err == ("4 chunks damaged or missing (000000: failures missing; 000001: failures "
                                       "missing; 000002: failures missing; and 1 more); recomputing them\n")
    assert_same_tables(reference, interrupted)


def test_a_finished_sweep_damaged_afterwards_is_repaired_by_resume(reference, tmp_path, capsys):
    out = tmp_path / "finished"
    shutil.copytree(reference, out)
    swap(out)
    assert resume(out) == 0
    assert "000002: summary SHA-256 differs" in capsys.readouterr().err
    assert_same_tables(reference, out)


def test_a_chunk_whose_record_was_torn_is_recomputed_silently(reference, interrupted, capsys):
    ledger = interrupted / LEDGER
    lines = ledger.read_bytes().splitlines(keepends=True)
    ledger.write_bytes(b"".join(lines[:3]) + lines[3][:40])  # killed while appending the last chunk's record
    assert set(open_sweep(interrupted).records()) == {0, 1, 2, 3} - {json.loads(lines[3])["chunk"]}
    assert resume(interrupted) == 0
    assert capsys.readouterr().err == ""  # not damaged: never done
    assert_same_tables(reference, interrupted)
    assert set(open_sweep(interrupted).records()) == {0, 1, 2, 3}  # the torn line was closed before the new one


def test_the_merge_refuses_a_chunk_damaged_after_its_record(reference, tmp_path, capsys, monkeypatch):
    real = Sweep.write_chunk

    def write_then_damage(self, number, tables):  # the file changes after the chunk was recorded
        real(self, number, tables)
        if number == 3:
            shutil.copyfile(chunk(self.folder, 0, "summary"), chunk(self.folder, 1, "summary"))

    monkeypatch.setattr(Sweep, "write_chunk", write_then_damage)
    out = tmp_path / "damaged"
    assert main(["sweep", BASELINE, *SWEEP, "--out", str(out)]) == 2
    assert capsys.readouterr().err == (f"error: {out / CHUNKS}: 000001: summary SHA-256 differs since the chunk was "
                                       f"recorded; nothing was merged; recompute with: sco-sim sweep --resume {out}\n")
    assert not any((out / f"{name}.parquet").exists() for name in TABLES)
    monkeypatch.undo()
    assert resume(out) == 0
    assert capsys.readouterr().err == "1 chunk damaged or missing (000001: summary SHA-256 differs); recomputing it\n"
    assert_same_tables(reference, out)


def test_the_merge_refuses_a_record_that_vouches_for_another_chunks_points(interrupted):
    swap(interrupted)  # and the ledger rewritten to match: only the points in the file can tell
    ledger = interrupted / LEDGER
    records = {record["chunk"]: record for record in map(json.loads, ledger.read_text().splitlines())}
    records[2]["files"]["summary"] = records[1]["files"]["summary"]
    ledger.write_text("".join(json.dumps(record) + "\n" for record in records.values()))
    with pytest.raises(ConfigError) as refused:
        open_sweep(interrupted).merge()
    assert str(refused.value) == f"{chunk(interrupted, 2, 'summary')}: point: holds points outside its chunk's 2 to 2"
    assert not (interrupted / "summary.parquet").exists()


def test_the_merge_refuses_a_sweep_with_chunks_not_done(interrupted):
    ledger = interrupted / LEDGER
    ledger.write_text("".join(line for line in ledger.read_text().splitlines(keepends=True)
                              if json.loads(line)["chunk"] < 2))
    with pytest.raises(ConfigError) as refused:
        open_sweep(interrupted).merge()
    assert str(refused.value) == (f"{ledger}: 000002: chunk not done (and 1 more); nothing was merged; "
                                  f"finish with: sco-sim sweep --resume {interrupted}")


@pytest.mark.parametrize(("option", "name"), [
    (["--set", "rules.deference=0.9"], "--set"), (["--common-noise"], "--common-noise"),
])
def test_resume_refuses_an_option_that_would_change_the_results(interrupted, capsys, option, name):
    assert resume(interrupted, *option) == 2
    assert capsys.readouterr().err == (f"error: command line: {name} differs from the sweep in {interrupted} "
                                       "(drop it: --resume takes the sweep's own)\n")
    assert not (interrupted / "summary.parquet").exists()


def test_resume_accepts_the_options_the_sweep_began_with(tmp_path):
    out = tmp_path / "set"
    begun = ["sweep", BASELINE, *SWEEP, "--set", "rules.deference=0.9", "--common-noise", "--out", str(out)]
    assert main(begun) == 0
    assert main([*begun[:-2], "--resume", str(out)]) == 0  # the command as begun, with --resume


@pytest.fixture
def own_base(tmp_path) -> Path:
    """A scenario whose base configuration is a copy in tmp_path, so that the test can edit it."""
    shutil.copyfile(ROOT / "configs" / "base.yaml", tmp_path / "base.yaml")
    spec = {"name": "own", "base": "base.yaml", "start": 2015, "end": 2017, "replicates": 20, "seed": 3}
    (tmp_path / "own.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    out = tmp_path / "own"
    assert main(["sweep", str(tmp_path / "own.yaml"), *SWEEP, "--out", str(out)]) == 0
    return out


def test_resume_refuses_a_base_configuration_edited_since_the_sweep_began(own_base, capsys):
    base = own_base.parent / "base.yaml"
    sources = json.loads((own_base / MANIFEST).read_text())["plan"]["sources"]
    assert sources[str(base)] == hashlib.sha256(base.read_bytes()).hexdigest()
    base.write_text(base.read_text().replace("deference: 0.5", "deference: 0.6", 1))
    assert resume(own_base) == 2
    assert capsys.readouterr().err == (f"error: {base}: changed since the sweep began (SHA-256 differs); "
                                       "start a new sweep\n")
    base.unlink()
    assert resume(own_base) == 2
    assert capsys.readouterr().err == f"error: {base}: gone since the sweep began; start a new sweep\n"


def test_an_earlier_versions_sweep_is_still_resumed(reference, interrupted, capsys):
    """A manifest without sources (only the scenario is checked) and a folder without a ledger: its complete chunks
    are adopted, not rerun, and a chunk holding another chunk's points is not."""
    manifest = json.loads((interrupted / MANIFEST).read_text())
    del manifest["plan"]["sources"]
    (interrupted / MANIFEST).write_text(json.dumps(manifest))
    (interrupted / LEDGER).unlink()
    swap(interrupted)
    kept = {p.name: p.stat().st_mtime_ns for p in (interrupted / CHUNKS).glob("00000[013].*")}
    assert resume(interrupted) == 0
    assert capsys.readouterr().err == ""
    assert_same_tables(reference, interrupted)
    assert {p.name: p.stat().st_mtime_ns for p in (interrupted / CHUNKS).glob("00000[013].*")} == kept
    assert set(open_sweep(interrupted).records()) == {0, 1, 2, 3}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_ledger_cut_anywhere_keeps_exactly_its_complete_records(reference, data):
    """A crash can cut the ledger at any byte: the records whose lines are whole are kept, the rest ignored, and the
    next chunk recorded after the cut reads back whole."""
    text = (reference / LEDGER).read_bytes()
    cut = data.draw(st.integers(0, len(text)))
    whole = {}
    end = 0
    for line in text.splitlines(keepends=True):
        end += len(line)
        if cut >= end - 1:  # the JSON is all there, with or without its line break
            whole[json.loads(line)["chunk"]] = json.loads(line)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / CHUNKS).mkdir()
        (folder / LEDGER).write_bytes(text[:cut])
        sweep = Sweep(folder, open_sweep(reference).plan, pd.DataFrame())
        assert sweep.records() == whole
        number = data.draw(st.integers(0, 3))
        sweep.write_chunk(number, {name: pd.read_parquet(chunk(reference, number, name)) for name in TABLES})
        after = sweep.records()
        assert set(after) == set(whole) | {number} and after[number]["points"] == [number, number + 1]
        assert all(after[other] == record for other, record in whole.items() if other != number)
