"""Intervals, and the tidy table's lists of members."""

import numpy as np
import pytest

from sim.core.engine import Stance
from sim.core.records import Record, Status
from sim.core.statistics import wilson
from sim.model.tables import outcome_table


def test_wilson_interval_known_values():
    low, high = wilson(5, 10)
    assert (float(low), float(high)) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    low, high = wilson(0, 100)
    assert float(low) == 0.0 and float(high) == pytest.approx(0.0370, abs=1e-4)
    low, high = wilson(100, 100)
    assert float(high) == 1.0 and float(low) == pytest.approx(0.9630, abs=1e-4)


@pytest.mark.parametrize("n_actors", [3, 70])  # bit-packed and row-unique paths
def test_member_lists_follow_the_stances(n_actors):
    actors = tuple(f"m{i}" for i in range(n_actors))
    stance = np.full((4, n_actors), Stance.SUPPORT, dtype=np.int8)
    stance[1, 0] = stance[1, 2] = Stance.OBJECTION
    stance[3, n_actors - 1] = Stance.OBJECTION
    blocked = np.full(4, Status.BLOCKED, dtype=np.int8)
    record = Record(2020, "p", actors, np.arange(4), blocked, np.full(4, np.nan), np.zeros(4, dtype=np.int8), stance,
                    stance, np.zeros(4), np.full(4, np.nan), np.full(4, np.nan))
    table = outcome_table([record])
    assert list(table.objectors) == list(table.initial_objectors) == ["", "m0;m2", "", f"m{n_actors - 1}"]
