"""Feedback (issue 19, point 4): what the SCO does moves relations; each feedback has a switch."""

from __future__ import annotations

import numpy as np
import pytest

from sim.core.records import Status
from sim.inputs.scenario import load_scenario
from sim.model import feedback
from sim.model.model import SCOModel


def test_integration_deepens_the_implementers_dependence_by_effect_ambition_and_what_is_carried_out():
    who = np.array([[True, False, True], [True, True, True]])
    step = feedback.integration(0.3, 0.8, np.array([0.5, np.nan]), np.array([0.4, 0.2]), who)
    assert step[0].tolist() == pytest.approx([0.3 * 0.8 * 0.5 * 0.4, 0.0, 0.3 * 0.8 * 0.5 * 0.4])
    assert not step[1].any()  # not adopted there (NaN ambition): nothing
    assert not feedback.integration(0.3, -0.5, np.array([0.5, 0.5]), np.array([0.4, 0.2]), who).any()


def test_a_route_outside_the_sco_deepens_every_members_dependence_where_pursued():
    members = np.array([[True, True, False], [True, True, False]])
    step = feedback.elsewhere(0.05, np.array([0.5, 0.9]), np.array([True, False]), members)
    assert np.allclose(step, [[0.025, 0.025, 0.0], [0.0, 0.0, 0.0]])


def test_dependence_never_passes_one():
    written = np.array([[0.2, 0.9]])
    assert np.allclose(feedback.deepened(np.array([[0.7, 0.05]]), np.array([[0.3, 0.3]]), written), [[0.8, 0.1]])


def _gained(write_scenario, switch: bool):
    path = write_scenario(agenda=["free_trade_zone"], base_events=False, start=2018, end=2021, replicates=200,
                          set={"feedback.elsewhere": switch})
    model = SCOModel(load_scenario(path))
    model.run()
    pursued = np.any([r.status == Status.ELSEWHERE for r in model.records if r.proposal == "free_trade_zone"], axis=0)
    return model, pursued


def test_the_elsewhere_feedback_raises_the_cost_of_objecting_to_the_sponsor_and_its_switch_removes_it(write_scenario):
    on, pursued = _gained(write_scenario, True)
    assert pursued.any() and "china" in on.gained
    gained = on.gained["china"]
    assert (gained[pursued].sum(axis=1) > 0).all() and not gained[~pursued].any()  # only where pursued
    assert not gained[:, on.decider_codes.index("china")].any()  # not on itself
    off, _ = _gained(write_scenario, False)
    assert not off.gained
