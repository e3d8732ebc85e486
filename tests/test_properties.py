"""Property-based tests: no input crashes the loader, and the engine keeps its rules' invariants."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.core.engine import RULES, Procedure, Route, Stance, Terms, Valuation, decide
from sim.core.errors import ConfigError
from sim.inputs.scenario import load_scenario

from .conftest import BASE

SCALARS = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=12)
DOCUMENTS = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
PATHS = ["members.russia.weights.economic", "members.russia.relations.china.dependence", "members.india.status",
         "members.india.joined", "proposals.free_trade_zone.min_ambition", "proposals.free_trade_zone.sponsor",
         "proposals.free_trade_zone.effects", "rules.decision", "rules.threshold", "noise.weights",
         "dimensions.security", "proposals.new_one", "members.new_member", "members.russia", "rules",
         "members.russia.weights.nonsense"]
VALID = {"name": "p", "base": str(BASE), "start": 2015, "end": 2017, "replicates": 5, "seed": 1}


def check(document_text: str) -> tuple[int, str]:
    """`sco-sim check` on a scenario file holding the text; its status and what it wrote to stderr."""
    import contextlib
    import io

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.yaml"
        path.write_text(document_text, encoding="utf-8")
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            status = main(["check", str(path)])
        try:
            load_scenario(path)
        except ConfigError:
            pass  # the project's own error is the only one allowed
        return status, err.getvalue()


def assert_clean(status: int, err: str) -> None:
    assert status in (0, 2), err
    assert "Traceback" not in err and "internal error" not in err
    if status == 2:
        assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_any_yaml_document_is_accepted_or_refused_in_one_line(document):
    assert_clean(*check(yaml.safe_dump(document)))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_accepted_or_refused_in_one_line(text):
    assert_clean(*check(text))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(PATHS), DOCUMENTS, max_size=3),
       st.dictionaries(st.sampled_from(list(VALID)), SCALARS, max_size=2))
def test_any_overrides_of_a_valid_scenario_are_accepted_or_refused_in_one_line(overrides, keys):
    document = {**VALID, **keys, "set": overrides}
    assert_clean(*check(yaml.safe_dump(document)))


def test_control_characters_in_the_input_stay_escaped_in_the_one_line_message():
    status, err = check(yaml.safe_dump({**VALID, "set": {"dimensions.security": {"\x1e\n": None}}}))
    assert status == 2 and len(err.strip().splitlines()) == 1 and "\\x1e" in err


def test_tags_that_would_build_python_objects_are_refused():
    for tag in ("!!python/object/apply:os.system ['echo hi']", "!!python/name:os.system", "!!binary aGk="):
        status, err = check(f"name: !!str x\nbase: {BASE}\nstart: 2015\nend: 2016\nseed: {tag}\n")
        assert status == 2 and "Traceback" not in err


@st.composite
def decisions(draw):
    r, n = draw(st.integers(1, 12)), draw(st.integers(1, 6))

    def array(low, high):
        values = draw(st.lists(st.floats(low, high, allow_nan=False), min_size=r * n, max_size=r * n))
        return np.array(values).reshape(r, n)

    cost = array(0, 2)
    value = Valuation(array(-1, 2), cost, array(-0.5, 0.5), np.minimum(array(0, 2), cost))
    voters = np.array(draw(st.lists(st.booleans(), min_size=r * n, max_size=r * n))).reshape(r, n)
    ambition = draw(st.floats(0.1, 1.0))
    terms = Terms(sponsor=draw(st.integers(0, n - 1)), ambition=ambition, min_ambition=draw(st.floats(0, 1)) * ambition,
                  opt_in=draw(st.booleans()), side_payment=draw(st.sampled_from([0.0, 0.3, 2.0])),
                  min_participants=draw(st.integers(1, 3)))
    procedure = Procedure(draw(st.sampled_from(RULES)), None, draw(st.integers(2, 12)))
    tolerance = array(0, 0.5)
    capability = np.array(draw(st.lists(st.floats(0.01, 1), min_size=n, max_size=n)))
    return value, tolerance, voters, capability, terms, procedure


@settings(max_examples=400, deadline=None)
@given(decisions())
def test_the_engine_keeps_its_invariants(case):
    value, tolerance, voters, capability, terms, procedure = case
    d = decide(value, tolerance, voters, capability, terms, procedure)
    # a member that does not vote has no stance
    assert (d.stance[~voters] == Stance.ABSENT).all() and (d.initial_stance[~voters] == Stance.ABSENT).all()
    # the adopted ambition lies between the floor and the proposal's; nothing adopted, no ambition
    adopted = d.adopted
    assert ((d.ambition[adopted] >= terms.min_ambition - 1e-12) & (d.ambition[adopted] <= terms.ambition + 1e-12)).all()
    assert np.isnan(d.ambition[~adopted]).all()
    # under consensus nothing is adopted over an objection
    if procedure.rule == "consensus":
        assert not (adopted[:, None] & (d.stance == Stance.OBJECTION)).any()
    # opt-in: only voting members take part; reservations belong to all-participation proposals
    if terms.opt_in:
        assert not (d.stance == Stance.RESERVATION).any()
    else:
        assert not (d.stance == Stance.STAND_ASIDE).any()
    # side payments only on that route, within the budget
    paid = d.route == Route.SIDE_PAYMENT
    assert (d.side_payment[~paid] == 0).all() and (d.side_payment <= terms.side_payment + 1e-9).all()
    assert (adopted == np.isin(d.route, [Route.AS_PROPOSED, Route.LOWERED, Route.SIDE_PAYMENT])).all()


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 2**32), st.integers(2015, 2019),
       st.sampled_from(["consensus", "majority", "consensus_minus_one"]))
def test_packages_are_adopted_whole_and_members_vote_only_once_joined(seed, year, rule):
    from sim.core.records import Status
    from sim.model.runner import simulate

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.yaml"
        path.write_text(yaml.safe_dump({
            "name": "p", "base": str(BASE), "start": 2015, "end": 2019, "replicates": 40, "seed": seed, "rule": rule,
            "agenda": ["admit_india", "free_trade_zone"],
            "set": {"members.india": {"status": "observer", "joined": None},
                    "members.pakistan": {"status": "observer", "joined": None},
                    "members.iran": {"status": "observer", "joined": None}},
            "events": [{"year": year, "accede": ["iran"]}],
        }))
        records = simulate(load_scenario(path))
    by_key = {(r.year, r.proposal): r for r in records}
    for (when, proposal), r in by_key.items():
        if proposal == "admit_india" and (when, "admit_pakistan") in by_key:
            partner = by_key[(when, "admit_pakistan")]
            packaged = r.route == Route.PACKAGE
            assert ((partner.status[packaged] == Status.ADOPTED).all()
                    and (partner.route[packaged] == Route.PACKAGE).all())
        if "iran" in r.actors:
            votes = r.stance[:, r.actors.index("iran")] != Stance.ABSENT
            assert not votes.any() or when >= year


def test_sizes_that_would_exhaust_the_machine_are_refused_in_one_line(tmp_path, capsys):
    base = yaml.safe_load(BASE.read_text())
    base.pop("events")
    base["members"].update({f"m{i}": {"name": f"m{i}", "status": "partner", "capability": 0.0, "weights": {}}
                            for i in range(1001)})
    (tmp_path / "big.yaml").write_text(yaml.safe_dump(base))
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({**VALID, "base": str(tmp_path / "big.yaml")}))
    assert main(["check", str(tmp_path / "s.yaml")]) == 2
    assert "at most 1000 members" in capsys.readouterr().err
    scenario = str(BASE.parent.parent / "scenarios" / "baseline.yaml")
    assert main(["sweep", scenario, "--param", "noise.weights=0:1:4000", "--param", "noise.judgement=0:1:3000",
                 "--out", str(tmp_path / "w"), "--quiet"]) == 2
    assert "at most 10,000,000 are allowed" in capsys.readouterr().err and not (tmp_path / "w").exists()
    assert main(["run", scenario, "--replicates", "1000001", "--out", str(tmp_path / "r")]) == 2
    assert "--replicates" in capsys.readouterr().err
