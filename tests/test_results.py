"""Aggregation helpers: intervals and member lists."""

import numpy as np
import pytest

from sim.engine import Stance
from sim.results import _who, wilson


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
    who = _who(stance, actors, (Stance.OBJECTION,))
    assert list(who) == ["", "m0;m2", "", f"m{n_actors - 1}"]
