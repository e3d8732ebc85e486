"""Benchmarks of sco-sim, measured side by side in one run on this machine.

    python bench/run.py            # everything (20 minutes to an hour on 2 cores)
    python bench/run.py --quick    # smaller sizes, for a smoke test

Each figure is printed on its own line as `name: value`. Speed ratios compare implementations doing
the same work in the same run, so the machine's load affects both sides alike.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import mesa  # noqa: E402
import numpy_kernel  # noqa: E402
from mesa.batchrunner import batch_run  # noqa: E402

from sim.core.records import Status  # noqa: E402
from sim.inputs.plausible import plausible_ranges  # noqa: E402
from sim.inputs.scenario import load_scenario  # noqa: E402
from sim.model.interests import to_arrays  # noqa: E402
from sim.model.model import SCOModel  # noqa: E402
from sim.model.runner import simulate  # noqa: E402
from sim.model.worlds import drawn  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.yaml"
#: The model before issue 17 (numbers as written, fresh noise each summit, a sponsor that always tables), which
#: ``numpy_kernel.run_point`` implements; the default model (drawn worlds, persistence, learning sponsors) is the
#: headline one, against ``numpy_kernel.run``.
POINT_MODEL = {"fixed_parameters": True,
               "overrides": {"noise.persistence": 0.0, "rules.sponsor_learns": False}}
MODELS = {"default": ({}, numpy_kernel.run), "point": (POINT_MODEL, numpy_kernel.run_point)}


def say(name: str, value: object) -> None:
    print(f"{name}: {value}", flush=True)


def adopted_by_end(records, proposals) -> dict[str, np.ndarray]:
    return {code: np.any([r.status == Status.ADOPTED for r in records if r.proposal == code], axis=0)
            for code in proposals}


class OneReplicate(SCOModel):
    """The same model, one replicate per instance, as `mesa.batch_run` expects (a DataCollector at
    the end)."""

    def __init__(self, replicate: int = 0, rng: object = None) -> None:  # the default model
        super().__init__(_SCENARIO, replicates=[replicate])
        reporters = {code: (lambda m, c=code: bool(m.in_force[c][0])) for code in _SCENARIO.agenda}
        self.datacollector = mesa.DataCollector(model_reporters=reporters)

    def step(self) -> None:
        super().step()
        if not self.running:
            self.datacollector.collect(self)


_SCENARIO = load_scenario(BASELINE)


def against_batch_run(runs: int) -> None:
    """Throughput against mesa.batch_run running one replicate per model instance (each drawing its own world), and
    the same outcomes, on the default model."""
    scenario = load_scenario(BASELINE, replicates=runs)
    start = time.perf_counter()
    ours = adopted_by_end(simulate(scenario), scenario.agenda)
    ours_seconds = time.perf_counter() - start
    start = time.perf_counter()
    rows = batch_run(OneReplicate, {"replicate": range(runs)}, number_processes=1, max_steps=100,
                     display_progress=False)
    mesa_seconds = time.perf_counter() - start
    in_order = sorted(rows, key=lambda r: r["replicate"])
    theirs = {code: np.array([row[code] for row in in_order]) for code in scenario.agenda}
    say("batch_run_runs_per_second", f"{runs / mesa_seconds:.1f}")
    say("vectorised_runs_per_second", f"{runs / ours_seconds:.1f}")
    say("speedup_over_batch_run", f"{mesa_seconds / ours_seconds:.1f}")
    # replicate r draws the same numbers in both, so the outcomes agree run for run, not only in distribution
    say("batch_run_outcomes_identical", all(np.array_equal(ours[c], theirs[c]) for c in scenario.agenda))
    for code in scenario.agenda:
        say(f"p_adopted[{code}] (vectorised / batch_run)", f"{ours[code].mean():.3f} / {theirs[code].mean():.3f}")


def against_numpy(replicates: int) -> float:
    """Time per run against a plain-numpy kernel of the same model, on the same work, and the same outcome statistics:
    the default model (headline figures) and the model before issue 17 (suffix ``[model=point]``). Both sides see the
    same worlds (the scenario's seed) and draw their yearly noise apart, so the probabilities agree in distribution:
    the difference is given in standard errors of two independent samples of ``replicates``. Returns sim's runs per
    second on the default model."""
    rates = {}
    for model, (options, kernel) in MODELS.items():
        suffix = "" if model == "default" else f"[model={model}]"
        scenario = load_scenario(BASELINE, replicates=replicates, **options)
        kernel(load_scenario(BASELINE, replicates=100, **options), 100)  # warm up both
        simulate(load_scenario(BASELINE, replicates=100, **options))
        timings: dict[str, list[float]] = {"numpy": [], "sim": []}
        for _ in range(3):
            start = time.perf_counter()
            plain = kernel(scenario, replicates, seed=1)
            timings["numpy"].append(time.perf_counter() - start)
            start = time.perf_counter()
            ours = adopted_by_end(simulate(scenario), scenario.agenda)
            timings["sim"].append(time.perf_counter() - start)
        best = {k: min(v) for k, v in timings.items()}
        say(f"numpy_kernel_runs_per_second{suffix}", f"{replicates / best['numpy']:.0f}")
        rates[model] = replicates / best["sim"]
        say(f"sim_runs_per_second{suffix}", f"{rates[model]:.0f}")
        say(f"slowdown_vs_numpy_kernel{suffix}", f"{best['sim'] / best['numpy']:.2f}")
        for code in scenario.agenda:
            p, q = ours[code].mean(), plain[code].mean()
            se = np.sqrt(p * (1 - p) / replicates + q * (1 - q) / replicates)
            say(f"p_adopted[{code}]{suffix} (sim / numpy kernel)",
                f"{p:.3f} / {q:.3f} (difference {abs(p - q) / max(se, 1e-12):.1f} standard errors)")
    return rates["default"]


def parameter_draws(replicates: int) -> None:
    """What drawing each world's parameters costs: the draws of every configuration of the default scenario alone
    (:func:`sim.model.worlds.drawn`), as a share of a whole run, and a whole run of drawn worlds against the same run
    with the numbers as written (``--fixed-parameters``), best of three each."""
    scenario = load_scenario(BASELINE, replicates=replicates)
    fixed = load_scenario(BASELINE, replicates=replicates, fixed_parameters=True)
    configurations = list({id(config): config for config in scenario.timeline.values()}.values())
    simulate(load_scenario(BASELINE, replicates=100))  # warm up
    seconds: dict[str, list[float]] = {"draws": [], "drawn": [], "fixed": []}
    for _ in range(3):
        start = time.perf_counter()
        for config in configurations:
            drawn(to_arrays(config), plausible_ranges(config), scenario.seed, np.arange(replicates), 10)
        seconds["draws"].append(time.perf_counter() - start)
        for name, run in (("drawn", scenario), ("fixed", fixed)):
            start = time.perf_counter()
            simulate(run)
            seconds[name].append(time.perf_counter() - start)
    best = {k: min(v) for k, v in seconds.items()}
    say("parameter_draws_seconds_per_million_replicates", f"{best['draws'] * 1e6 / replicates:.2f}")
    say("parameter_draws_share_of_run", f"{best['draws'] / best['drawn']:.3f}")
    say("drawn_over_fixed_parameters_run_time", f"{best['drawn'] / best['fixed']:.2f}")


def _sweep_argv(folder: str, points: int, replicates: int, workers: int) -> list[str]:
    return ["sweep", str(BASELINE), "--param", f"members.russia.relations.china.dependence=0:1:{points}",
            "--replicates", str(replicates), "--workers", str(workers), "--out", str(Path(folder) / "s"), "--quiet"]


# VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child would report its parent's peak
_MEASURED = """
import sys, time
start = time.perf_counter()
from sim.cli import main
status = main(sys.argv[1:])
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(time.perf_counter() - start, peak / 1024, status)
"""


def _descendants(pid: int) -> list[int]:
    """A process and all its descendants, from the kernel's lists of each thread's children."""
    found, waiting = [], [pid]
    while waiting:
        current = waiting.pop()
        found.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                waiting += [int(child) for child in children.read_text().split()]
            except OSError:  # the thread or process ended meanwhile
                pass
    return found


def _resident_mb(pids: list[int]) -> float:
    """The resident memory of processes, summed (pages shared between them count once per process)."""
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):  # ended meanwhile
            pass
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20


def _measured_sweep(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, the parent's peak memory (MB, the kernel's high-water mark) and the whole process tree's (MB,
    parent and workers summed, polled every 50 ms) of one sweep in a fresh process."""
    process = subprocess.Popen([sys.executable, "-c", _MEASURED, *argv], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    tree = 0.0
    while process.poll() is None:
        tree = max(tree, _resident_mb(_descendants(process.pid)))
        time.sleep(0.05)
    out, err = process.communicate()
    assert process.returncode == 0, err
    seconds, megabytes, status = out.split()
    assert status == "0", err
    return float(seconds), float(megabytes), max(tree, float(megabytes))


def sweep_memory(shapes: list[tuple[int, int]], workers: int) -> float:
    """Peak memory of sweeps of the same number of runs cut into few or many points, with ``workers`` workers: of
    the parent, and of the whole process tree. The first shape's figures are also the headline ones; returns the
    first shape's runs per second, end to end (start-up, runs, tables written)."""
    rates = []
    for index, (points, replicates) in enumerate(shapes):
        with tempfile.TemporaryDirectory() as folder:
            seconds, parent, tree = _measured_sweep(_sweep_argv(folder, points, replicates, workers=workers))
        rates.append(points * replicates / seconds)
        for suffix in ("", f"[points={points},replicates={replicates},workers={workers}]")[0 if index == 0 else 1:]:
            say(f"sweep_runs{suffix}", f"{points * replicates}")
            say(f"sweep_seconds{suffix}", f"{seconds:.1f}")
            say(f"sweep_runs_per_second{suffix}", f"{points * replicates / seconds:.0f}")
            say(f"sweep_peak_memory_mb{suffix}", f"{parent:.0f}")
            say(f"sweep_tree_peak_memory_mb{suffix}", f"{tree:.0f}")
    return rates[0]


def worker_scaling(points: int, replicates: int, repeats: int, headline: bool = True) -> None:
    """Wall time of one sweep (a whole `sco-sim sweep` command) with one worker and with two: best and
    median of `repeats`.

    The headline figures are plain names; a further sweep size gets its number of runs as a suffix.
    """
    seconds: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(repeats):
        for workers in (1, 2):  # alternating, so that a change in the machine's load hits both
            with tempfile.TemporaryDirectory() as folder:
                start = time.perf_counter()
                argv = _sweep_argv(folder, points, replicates, workers)
                subprocess.run([sys.executable, "-m", "sim", *argv], check=True)
                seconds[workers].append(time.perf_counter() - start)
    one, two = min(seconds[1]), min(seconds[2])
    suffix = "" if headline else f"[runs={points * replicates}]"
    if headline:
        say("scaling_runs", f"{points * replicates}")
    say(f"one_worker_seconds{suffix}", f"{one:.1f}")
    say(f"two_workers_seconds{suffix}", f"{two:.1f}")
    say(f"two_worker_speedup{suffix}", f"{one / two:.2f}")
    say(f"two_worker_speedup_median{suffix}", f"{np.median(seconds[1]) / np.median(seconds[2]):.2f}")


# Points of the benchmark's sweep, one after another for `duration` seconds from an agreed moment (after
# the imports); prints the points finished per second
_THROUGHPUT = """
import sys, time
import numpy as np
from sim.experiments import sweep, sweep_folder
scenario, replicates, begin, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
plan = sweep_folder.Plan(scenario=scenario, scenario_sha256="", parameters=[], method="grid", samples=None, seed=1,
                  replicates=replicates, points=100, chunk_size=1, overrides={})
values = [(i, {"members.russia.relations.china.dependence": float(v)}) for i, v in enumerate(np.linspace(0, 1, 100))]
sweep.run_chunk(plan, values[:1])  # load what a point needs (Mesa is imported on first use)
if time.time() > begin:  # loaded too late to start with the others: no figure (the caller tries again)
    print("nan")
    sys.exit(0)
time.sleep(begin - time.time())
done, now = 0, time.time()
while now < begin + duration:
    sweep.run_chunk(plan, [values[done % len(values)]])
    done, now = done + 1, time.time()
print(done / (now - begin))
"""


# A plain Python loop, the same way: no numpy, no memory traffic, nothing of sco-sim's
_PLAIN_LOOP = """
import sys, time
begin, duration = float(sys.argv[1]), float(sys.argv[2])
if time.time() > begin:  # started too late to start with the others: no figure (the caller tries again)
    print("nan")
    sys.exit(0)
time.sleep(begin - time.time())
done, now = 0, time.time()
while now < begin + duration:
    total = 0
    for i in range(100_000):
        total += i
    done, now = done + 1, time.time()
print(done / (now - begin))
"""


def _side_by_side(program: str, arguments: list[str], copies: int, duration: float) -> float:
    """The summed rate of ``copies`` processes running ``program`` from an agreed moment; on a machine so loaded that
    one of them is not ready by then, again with twice the lead time (at most four times)."""
    for lead in (5.0, 10.0, 20.0, 40.0):  # seconds for the processes to load what they need
        begin = time.time() + lead
        argv = [sys.executable, "-c", program, *arguments, str(begin), str(duration)]
        processes = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for _ in range(copies)]
        rates = [float(p.communicate()[0]) for p in processes]
        assert all(p.returncode == 0 for p in processes)
        if not any(np.isnan(rates)):
            return sum(rates)
    raise RuntimeError(f"the processes were not ready within {lead:.0f} s: the machine is too loaded to measure")


def machine_ceiling(replicates: int, duration: float, repeats: int) -> None:
    """This machine's own ceiling for two workers: the points per second of two processes running the
    sweep's points side by side, against one process alone (after their imports; best and median of `repeats`).

    A sweep's two workers can do no better than this, before any start-up that does not parallelise. The
    same ratio for a plain Python loop tells whether a low ceiling is the machine's or the model's.
    """
    for name, program, arguments in (("two_process_speedup_ceiling", _THROUGHPUT, [str(BASELINE), str(replicates)]),
                                     ("two_process_speedup_plain_python", _PLAIN_LOOP, [])):
        rates: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(repeats):
            for copies in (1, 2):
                rates[copies].append(_side_by_side(program, arguments, copies, duration))
        say(name, f"{max(rates[2]) / max(rates[1]):.2f}")
        say(f"{name}_median", f"{np.median(rates[2]) / np.median(rates[1]):.2f}")


DEU = ROOT.parent / "shared" / "data" / "deu3" / "deu3_calibration.tsv"


def deu_backtest(repeats: int) -> None:
    """The DEU III file backtested under every mechanism, fits and the cross-validated rows included (a whole
    `run_backtest`), and each mechanism alone on the file (every candidate cost of objecting): best of ``repeats``,
    side by side in this run."""
    from sim.core.vocabulary import BARGAINING
    from sim.studies.backtest import candidates, read_issues, run_backtest

    if not DEU.is_file():
        say("deu_backtest_seconds", "nan (no ../shared/data/deu3)")
        return
    issues = read_issues(DEU)[0]
    seconds: dict[str, list[float]] = {"whole": [], **{m: [] for m in BARGAINING}}
    for _ in range(repeats):
        start = time.perf_counter()
        run_backtest(DEU)
        seconds["whole"].append(time.perf_counter() - start)
        for mechanism in BARGAINING:
            start = time.perf_counter()
            candidates(issues, mechanism)
            seconds[mechanism].append(time.perf_counter() - start)
    say("deu_issues", len(issues))
    say("deu_backtest_seconds", f"{min(seconds['whole']):.2f}")
    for mechanism in BARGAINING:
        say(f"deu_mechanism_seconds[{mechanism}]", f"{min(seconds[mechanism]):.2f}")


def step_scaling(replicates: int) -> None:
    """Cost of one model step for synthetic configurations of growing size."""
    import yaml

    rng = np.random.default_rng(0)
    dims = ["security", "economic", "sovereignty", "multipolarity", "autonomy", "influence"]
    for n_members in (10, 100, 1000):
        for n_proposals in (10, 100):
            codes = [f"m{i}" for i in range(n_members)]
            members = {c: {"name": c, "status": "member", "joined": 2000, "capability": float(rng.random()),
                           "weights": {d: round(float(rng.random()), 2) for d in dims},
                           "relations": {codes[(i + 1) % n_members]: {"suspicion": 0.3}}} for i, c in enumerate(codes)}
            proposals = {f"p{j}": {"name": f"p{j}", "sponsor": codes[j % n_members], "min_ambition": 0.5,
                                   "effects": {d: round(float(rng.uniform(-1, 1)), 2)
                                               for d in dims if d != "influence"},
                                   "gains": {codes[j % n_members]: 0.5}} for j in range(n_proposals)}
            with tempfile.TemporaryDirectory() as folder:
                base = Path(folder) / "base.yaml"
                base.write_text(yaml.safe_dump({"dimensions": {d: {"name": d, "description": d} for d in dims},
                                                "members": members, "proposals": proposals}))
                spec = Path(folder) / "s.yaml"
                spec.write_text(yaml.safe_dump({"name": "scale", "base": str(base), "start": 2000, "end": 2003,
                                                "replicates": replicates, "base_events": False}))
                model = SCOModel(load_scenario(spec))
                model.step()  # warm up
                start = time.perf_counter()
                for _ in range(3):
                    model.step()
                per_step = (time.perf_counter() - start) / 3
            say(f"step_seconds[members={n_members},proposals={n_proposals},replicates={replicates}]",
                f"{per_step:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description="sco-sim benchmarks")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--only", choices=["sweep-memory", "deu"], help="run only this benchmark")
    args = parser.parse_args()
    quick = args.quick
    say("machine", f"{os.cpu_count()} cores, numpy {np.__version__}, mesa {mesa.__version__}")
    # 1,000,000 runs in full, as few points of many replicates and as many points of few: memory should not grow
    shapes = [(20, 500), (200, 50)] if quick else [(20, 50_000), (20_000, 50)]
    if args.only == "sweep-memory":
        sweep_memory(shapes, workers=2)
        return
    if args.only == "deu":
        deu_backtest(3)
        return
    against_batch_run(100 if quick else 1000)
    in_process = against_numpy(2000 if quick else 50_000)
    parameter_draws(2000 if quick else 50_000)
    deu_backtest(1 if quick else 3)
    machine_ceiling(*((200, 1.0, 1) if quick else (1000, 4.0, 5)))
    worker_scaling(*((10, 1000, 2) if quick else (100, 1000, 7)))
    worker_scaling(*((20, 1000, 1) if quick else (300, 1000, 3)), headline=False)  # how start-up weighs as sweeps grow
    step_scaling(100 if quick else 1000)
    sweep = sweep_memory(shapes, workers=2)
    # the sweep end to end (two workers, start-up and tables included) against the model run in this process
    say("sweep_over_in_process_rate", f"{sweep / in_process:.2f}")


if __name__ == "__main__":
    main()
