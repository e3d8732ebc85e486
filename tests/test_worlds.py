"""Plausible worlds and persistent noise (issue 17, points 2 and 3).

Each world of replicates reads every coded number at its own point of the number's plausible range; members'
priorities and judgement drift as AR(1) processes. What must hold: a world's numbers depend only on the seed, the
world and the number; collapsing every range to its point gives the point calibration (``--fixed-parameters``); with
persistence 1 and no events a proposal blocked in a replicate's first year stays blocked; and the numbers do not
depend on how replicates are batched or spread over workers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.core import streams
from sim.core.engine import Procedure, Terms, Valuation, decide
from sim.core.records import Status
from sim.core.statistics import between_worlds
from sim.inputs import plausible
from sim.inputs.plausible import plausible_ranges
from sim.inputs.scenario import load_scenario
from sim.model.agents import persist
from sim.model.interests import to_arrays
from sim.model.runner import simulate
from sim.model.worlds import drawn, quantiles, world_of

from .conftest import BASE, ROOT, one_line

#: Persistence 1 in every world: the written value, and a fitted range that is that point.
PERSISTENT = {"noise.persistence": 1.0, "fitted": {"noise.persistence": [1.0, 1.0]}}


def _records_frame(records) -> pd.DataFrame:
    rows = []
    for r in records:
        rows.append(pd.DataFrame({"year": r.year, "proposal": r.proposal, "replicate": r.replicates,
                                  "status": r.status, "route": r.route, "ambition": r.ambition,
                                  "stance": [tuple(s) for s in r.stance]}))
    return pd.concat(rows, ignore_index=True).sort_values(["year", "proposal", "replicate"], ignore_index=True)


def test_named_uniforms_are_each_names_own_stream():
    replicates = np.arange(40, 60)
    both = streams.uniform_named(5, ("world",), ("a.b", "c.d"), replicates)
    alone = streams.uniform_named(5, ("world",), ("c.d",), replicates)
    assert np.array_equal(both[:, 1], alone[:, 0])
    assert np.array_equal(both[:, 0], streams.uniform(5, ("world", "a.b"), replicates, ()))
    assert not np.array_equal(both[:, 0], both[:, 1])


def test_a_world_reads_every_number_inside_its_range_and_its_replicates_share_it():
    config = load_scenario(ROOT / "scenarios" / "baseline.yaml").configuration(2015)
    point, ranges = to_arrays(config), plausible_ranges(config)
    replicates = np.arange(30)
    arrays = drawn(point, ranges, 9, replicates, world_size=10)
    i, d = point.actors.index("russia"), point.dimensions.index("economic")
    found = ranges["members.russia.weights.economic"]
    assert arrays.weights.shape[0] == 3 and arrays.world.tolist() == [0] * 10 + [1] * 10 + [2] * 10  # stored per world
    values = arrays.per_replicate(arrays.weights)[:, i, d]
    assert ((values >= found.low) & (values <= found.high)).all()
    assert len(set(values[:10])) == 1 and len(set(values)) == 3  # three worlds of ten replicates
    assert (arrays.floor <= arrays.ambition + 1e-12).all()
    assert arrays.capability is point.capability


def test_a_world_keeps_its_quantile_when_a_number_moves():
    paths = ("members.russia.relations.china.dependence",)
    worlds = world_of(np.arange(100), 10)
    assert np.array_equal(quantiles(3, paths, worlds), quantiles(3, paths, worlds[::-1])[::-1])
    early = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    for year in (2015, 2023):  # an event in 2022 raises Russia's dependence on China
        config = early.configuration(year)
        found = plausible_ranges(config)[paths[0]]
        arrays = drawn(to_arrays(config), plausible_ranges(config), 3, np.arange(100), 10)
        dependence = arrays.per_replicate(arrays.relations["dependence"])
        value = dependence[:, arrays.actors.index("russia"), arrays.actors.index("china")]
        assert np.allclose((value - found.low) / found.width, quantiles(3, paths, worlds)[:, 0])


def test_collapsed_ranges_give_the_point_calibration(write_scenario, monkeypatch):
    path = write_scenario(agenda=["free_trade_zone", "sco_bank", "energy_framework"], replicates=60,
                          set={"noise.parameters": "prior"})  # the rule's ranges only, which the patches collapse
    fixed = _records_frame(simulate(load_scenario(path, fixed_parameters=True)))
    monkeypatch.setattr(plausible, "READING", 0.0)
    monkeypatch.setattr(plausible, "CHOICE", 0.0)
    monkeypatch.setattr(plausible, "CONSTANTS", {path: ("plus", 0.0) for path in plausible.CONSTANTS})
    scenario = load_scenario(path)
    assert scenario.world_size == 10
    collapsed = _records_frame(simulate(scenario))
    pd.testing.assert_frame_equal(collapsed, fixed)


def test_per_replicate_terms_decide_as_the_same_terms_written_once():
    rng = np.random.default_rng(4)
    r, n = 200, 6
    value = Valuation(rng.uniform(0, 1, (r, n)), rng.uniform(0, 2, (r, n)), np.zeros((r, n)), np.zeros((r, n)))
    voters = np.ones((r, n), dtype=bool)
    scalar = Terms(sponsor=0, ambition=0.9, min_ambition=0.3, side_payment=0.2)
    arrays = Terms(sponsor=0, ambition=np.full(r, 0.9), min_ambition=np.full(r, 0.3), side_payment=np.full(r, 0.2))
    one, many = (decide(value, np.full((1, n), 0.1), voters, np.ones(n), t, Procedure()) for t in (scalar, arrays))
    for field in ("adopted", "route", "stance", "initial_stance"):
        assert np.array_equal(getattr(one, field), getattr(many, field)), field
    assert np.allclose(one.ambition, many.ambition, equal_nan=True)
    assert np.allclose(one.side_payment, many.side_payment)


def test_ar1_keeps_its_margins_and_its_memory():
    rng = np.random.default_rng(0)
    e = rng.standard_normal((3, 20_000, 1))
    z0 = persist(None, e[0], 0.9)
    z1 = persist(z0, e[1], 0.9)
    assert abs(np.std(z1) - 1) < 0.02
    assert abs(np.corrcoef(z0[:, 0], z1[:, 0])[0, 1] - 0.9) < 0.01
    assert np.array_equal(persist(z0, e[1], 1.0), z0)
    assert np.array_equal(persist(z0, e[1], 0.0), e[1])
    widened = persist(z0, rng.standard_normal((20_000, 3)), 0.5)  # two members joined this year
    assert widened.shape == (20_000, 3)


def test_with_persistence_one_and_no_events_a_blocked_proposal_stays_blocked(write_scenario):
    path = write_scenario(agenda=["free_trade_zone", "sco_bank", "energy_framework"], base_events=False,
                          start=2015, end=2024, replicates=200, set=PERSISTENT)
    records = simulate(load_scenario(path))
    seen = 0
    for code in ("free_trade_zone", "sco_bank", "energy_framework"):
        mine = sorted((r for r in records if r.proposal == code), key=lambda r: r.year)
        blocked_first = mine[0].status == Status.BLOCKED
        seen += int(blocked_first.sum())
        for later in mine[1:]:  # blocked again, let rest by a sponsor that has learnt it would be, or taken elsewhere
            kept_out = [Status.BLOCKED, Status.NOT_TABLED, Status.ELSEWHERE]
            assert np.isin(later.status[blocked_first], kept_out).all(), (code, later.year)
    assert seen > 0  # the property was put to the test


def test_without_learning_a_blocked_proposal_is_blocked_again_every_year(write_scenario):
    path = write_scenario(agenda=["free_trade_zone"], base_events=False, start=2015, end=2024, replicates=200,
                          set={**PERSISTENT, "rules.sponsor_learns": False})
    mine = sorted((r for r in simulate(load_scenario(path)) if r.proposal == "free_trade_zone"), key=lambda r: r.year)
    blocked_first = mine[0].status == Status.BLOCKED
    assert blocked_first.any()
    for later in mine[1:]:
        assert (later.status[blocked_first] == Status.BLOCKED).all(), later.year


def test_with_fresh_noise_a_blocked_proposal_can_pass_later(write_scenario):
    """The test above could not fail if nothing ever passed after a block: with persistence 0 some do."""
    path = write_scenario(agenda=["free_trade_zone"], base_events=False, start=2015, end=2024, replicates=200,
                          set={"noise.persistence": 0.0})
    mine = sorted((r for r in simulate(load_scenario(path)) if r.proposal == "free_trade_zone"), key=lambda r: r.year)
    blocked_first = mine[0].status == Status.BLOCKED
    later = np.any([r.status[blocked_first] == Status.ADOPTED for r in mine[1:]], axis=0)
    assert later.any()


@pytest.mark.parametrize("batch", [7, 64])
def test_worlds_do_not_depend_on_the_batch(write_scenario, batch):
    path = write_scenario(agenda=["free_trade_zone", "sco_bank"], replicates=90)
    scenario = load_scenario(path)
    pd.testing.assert_frame_equal(_records_frame(simulate(scenario, batch=batch)),
                                  _records_frame(simulate(scenario)))


def test_a_sweep_gives_the_same_numbers_on_one_worker_and_on_two(tmp_path):
    tables = []
    for workers in ("1", "2"):
        out = tmp_path / f"sweep{workers}"
        assert main(["sweep", str(ROOT / "scenarios" / "baseline.yaml"), "--param", "rules.deference=0.2,0.8",
                     "--replicates", "40", "--workers", workers, "--chunk-size", "1", "--out", str(out),
                     "--quiet", "--no-figures"]) == 0
        tables.append(pd.read_parquet(out / "summary.parquet").sort_values(["point", "proposal"], ignore_index=True))
    pd.testing.assert_frame_equal(*tables)


def test_between_worlds_tells_parameters_from_noise():
    worlds = np.repeat(np.arange(400), 10)
    decided_by_world = np.repeat(np.arange(400) % 2 == 0, 10)  # each world's outcome fixed by its numbers
    split = between_worlds(decided_by_world, worlds)
    assert split.share_parameters == pytest.approx(1.0, abs=0.01) and split.sd_parameters == pytest.approx(0.5, 0.02)
    assert split.effective_n == pytest.approx(400, rel=0.05)
    coin = np.random.default_rng(1).random(4000) < 0.5  # no world matters
    noise = between_worlds(coin, worlds)
    assert noise.share_parameters < 0.05 and noise.effective_n > 3000
    assert np.isnan(between_worlds(coin, np.arange(4000)).sd_parameters)  # one replicate a world: not separable


def test_the_summary_reports_both_sources_and_fixed_parameters_have_no_spread(tmp_path):
    for flags, name in (([], "drawn"), (["--fixed-parameters"], "fixed")):
        assert main(["run", str(ROOT / "scenarios" / "baseline.yaml"), "--replicates", "200", *flags,
                     "--out", str(tmp_path / name), "--no-figures", "--quiet"]) == 0
    drawn_summary = pd.read_csv(tmp_path / "drawn" / "summary.csv")
    fixed_summary = pd.read_csv(tmp_path / "fixed" / "summary.csv")
    assert (fixed_summary.sd_parameters == 0).all() and (fixed_summary.share_parameters == 0).all()
    assert (drawn_summary.sd_parameters > 0).any()
    # the interval of a probability shared within worlds is wider than one on independent replicates
    width = lambda s: (s.ci_high - s.ci_low).to_numpy()  # noqa: E731
    assert (width(drawn_summary) > width(fixed_summary) - 0.02).all()


def test_base_configuration_draws_worlds_and_persists():
    config = load_scenario(ROOT / "scenarios" / "baseline.yaml").configuration(2015)
    assert config.noise.parameters == "drawn" and config.noise.persistence == 0.9
    assert BASE.exists()


def test_worlds_draw_the_models_constants_and_a_fitted_range_replaces_the_rule(write_scenario):
    config = load_scenario(write_scenario()).configuration(2015)
    ranges = plausible_ranges(config, fitted=False)
    assert ranges["rules.objection_cost"].low == pytest.approx(0.05)  # half to twice 0.1
    assert ranges["noise.persistence"].high == 1.0  # 0.9 + 0.2, clipped
    arrays = drawn(to_arrays(config), ranges, 1, np.arange(200), 10)
    cost = arrays.constant("rules.objection_cost", 0.1)
    assert cost.shape == (200, 1) and 0.05 <= cost.min() < cost.max() <= 0.2
    fitted = load_scenario(write_scenario(name="fitted", set={"fitted": {"rules.objection_cost": [0.08, 0.12]}}))
    narrow = plausible_ranges(fitted.configuration(2015))["rules.objection_cost"]
    assert (narrow.low, narrow.high, narrow.basis) == (0.08, 0.12, "fitted")


@pytest.mark.parametrize(("fitted", "fragment"), [
    ({"rules.no_such_constant": [0.1, 0.2]}, "fitted.rules.no_such_constant: expected the dotted path of a number"),
    ({"rules.objection_cost": [0.2, 0.1]}, "expected [low, high] with low <= high"),
])
def test_a_bad_fitted_range_is_one_line(write_scenario, capsys, fitted, fragment):
    path = write_scenario(set={"fitted": fitted})
    status = main(["run", str(path), "--dry-run"])
    one_line(status, capsys.readouterr().err, fragment)
