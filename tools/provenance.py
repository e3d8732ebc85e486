"""Generate docs/provenance.md: every calibrated number of the base configuration with its source.

The table lets a reviewer audit the numbers of ``configs/base.yaml`` one by one: the interest
dimensions, each member's and proposal's values with the citation in its ``sources`` mapping (the most
specific one covering the value's path), the decision rules and noise, and the events scheduled by
the base file's own timeline (if it has one) and by the scenario files in ``scenarios/``. A value
without a citation is marked ``MISSING``.

It then lists the *chosen* numbers (those the brief does not give: the global constants, every proposal's
ambition, floor and side payment, and every number whose source is not a quote of the brief) with when and
why each was set and changed, read from ``configs/choices.yaml`` (written from the git history; this tool
does not call git). A chosen number without a record there is marked ``NO RECORD``. Run from the project root:

    python tools/provenance.py           # write docs/provenance.md
    python tools/provenance.py --check   # exit 1 if docs/provenance.md is not what would be written, or a
                                         # chosen number has no record in configs/choices.yaml
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.core.errors import ConfigError
from sim.inputs.configuration import Configuration, Member, Proposal, Tabled
from sim.inputs.plausible import (
    ALWAYS_CHOSEN,
    CHOICE,
    DATA_SOURCES,
    DISTRIBUTION,
    MISSING,
    READING,
    citation,
    constant_ranges,
    member_ranges,
    plausible_ranges,
    proposal_ranges,
    quotes_the_brief,
)
from sim.inputs.scenario import Event, ScenarioFile, load_scenario
from sim.inputs.yaml_files import read_yaml

ROOT = Path(__file__).resolve().parents[1]
BASE = Path("configs") / "base.yaml"
CHOICES = Path("configs") / "choices.yaml"
SCENARIOS = Path("scenarios")
OUTPUT = Path("docs") / "provenance.md"
NO_RECORD = "NO RECORD"

#: Citations for ``rules`` and ``noise``, which have no ``sources`` in the schema. A field not listed
#: here is reported as MISSING, so a new parameter cannot slip into the table uncited.
PARAMETER_SOURCES: dict[str, str] = {
    "rules.decision": "SCO Charter, Art. 16, as summarised in shared/design/MODEL-NOTES.md: decisions are "
    "'adopted if no member objects' (consensus); scenarios and --rule select counterfactual rules",
    "rules.threshold": "only for two_thirds, majority and capability_majority; chosen with the rule in a scenario",
    "rules.objection_cost": "model parameter, not read from the brief; the value in configs/base.yaml is not fitted "
    "by a documented procedure (docs/validation.md, 'Calibration procedure'; its history under 'Chosen numbers')",
    "rules.deference": "model parameter, not read from the brief; the value in configs/base.yaml is not fitted by a "
    "documented procedure (docs/validation.md, 'Calibration procedure'; its history under 'Chosen numbers')",
    "rules.ambition_steps": "numerical resolution, not a calibrated quantity: the number of offers the sponsor "
    "tries between the proposed ambition and the floor",
    "rules.min_participants": "an opt-in document needs at least two signatories",
    "rules.sponsor_learns": "model switch (issue 17): the sponsor learns from objections and may let a proposal rest; "
    "false: it tables every year in full, as before",
    "rules.forum_choice": "model switch (issue 19): a blocked sponsor may take a proposal to its route outside the "
    "SCO (a proposal's elsewhere); false: the world without outside options",
    "rules.sponsor_error": "model parameter, not read from the brief: how far off, in ambition, a sponsor reads a "
    "member's objection limit; chosen, not fitted",
    "rules.bargaining": "model choice (issue 18): how the ambition is settled; veto, the sponsor lowering its offer "
    "until the rule passes (the engine before issue 18), or the compromise, Nash or exchange models of "
    "sim/core/bargaining.py (shared/design/BARGAINING.md); veto stays the default until the DEU backtest and the SCO "
    "cases choose one",
    "noise.weights": "model parameter; sets how much replicates differ",
    "noise.judgement": "model parameter; sets how much replicates differ",
    "noise.persistence": "model parameter, not read from the brief: the yearly AR(1) coefficient of the two noises "
    "(issue 17: structural reasons persist across summits); chosen, not fitted",
    "noise.parameters": "drawn: each world reads every coded number in its plausible range (this table's ranges); "
    "fixed (--fixed-parameters): the numbers as written",
    "noise.world_size": "estimator setting, not a model quantity: the replicates that share one world's numbers",
    **{f"implementation.{form}": f"model parameter, not read from the brief (issue 19): the share of the gap between "
       f"what is carried out and what the implementers are willing to carry out that closes in a year, for a "
       f"{form}; a half-life of {life} (1 - 2**(-1/half-life)), chosen by the order the brief gives (a loan "
       "'implemented in the following two years'; framework agreements that 'lack firm plans for implementation'), "
       "not fitted" for form, life in (("statement", "8 years"), ("strategy", "4 years"), ("treaty", "2 years"),
                                        ("body", "1 year"))},
}
PARAMETER_SOURCES["implementation.follow"] = (
    "output switch, not a model quantity: true records every proposal decided at an earlier summit in every later "
    "year, so that what was adopted is followed to the run's end; false (the default): only in the years it is on "
    "the agenda")
PARAMETER_SOURCES |= {
    "feedback.integration": "model switch (issue 19): an adopted economic measure, as it is carried out, deepens its "
    "implementers' dependence on its sponsor; off by default (its rate is not fitted)",
    "feedback.elsewhere": "model switch (issue 19): a proposal pursued outside the SCO deepens every member's "
    "dependence on its sponsor; off by default (its rate is not fitted)",
    "feedback.integration_rate": "model parameter, not read from the brief (issue 19): dependence gained per unit of "
    "economic effect x adopted ambition x share carried out (the brief gives the direction: a bank or trade deals "
    "deepen dependence on China); chosen, not fitted",
    "feedback.elsewhere_rate": "model parameter, not read from the brief (issue 19): dependence gained per year a "
    "proposal is pursued outside the SCO, per unit of its route's share (the brief: China's 'own bilateral "
    "initiatives' put it 'at the center of much regional trade'); chosen, not fitted",
}
#: The blocks of the model's own constants, with no ``sources`` in the schema.
PARAMETER_BLOCKS = ("rules", "noise", "implementation", "feedback")

HEADER = f"""\
# Provenance of the calibrated numbers

Generated by `tools/provenance.py` from `configs/base.yaml` and `scenarios/*.yaml`; do not edit by hand.
Regenerate it from the project root with `python tools/provenance.py`;
`python tools/provenance.py --check` exits 1 when this file is out of date.

Each source is the most specific citation in the entry's `sources` mapping that covers the value's path
(`weights` covers `weights.economic`); a value that no citation covers is flagged in its source cell.

The *plausible range* of a coded number (a weight, outside option, relation, effect, gain, ambition, floor or
side payment) says how sure its reading is; `sim/inputs/plausible.py` gives them all by one rule, for now as a
{DISTRIBUTION} distribution from the low to the high end. A *reading* (its source quotes the brief) is good to half
a level of the scale 0.1/0.3/0.5/0.7/0.9: its value +-{READING:g} (0.7 -> [0.6, 0.8]). A *choice* (a chosen number,
listed under "Chosen numbers" below: the brief does not give it) is good to two levels: its value +-{CHOICE:g} (the
neutral 0.5 of an undescribed member -> [0.1, 0.9]). Negative numbers and numbers between levels get the same
widths; every range is clipped to its field's valid bounds. An ambition left at its default 1.0 is a *convention*
(the scale in which effects are stated), a point. Capabilities (a data set), years and references have no range,
nor have the rules and noise below (the model's own constants). Each *world* of replicates draws every number with a
range of non-zero width from it (`sim/model/worlds.py`; `--fixed-parameters` reads them as written instead).
"""


def cell(value: object) -> str:
    """Text for one Markdown table cell: one line, with '|' escaped."""
    return " ".join(str(value).split()).replace("|", "\\|")


def row(*values: object) -> str:
    """One Markdown table row."""
    return "| " + " | ".join(cell(value) for value in values) + " |"


def table(headings: Iterable[str], rows: Iterable[tuple[object, ...]]) -> list[str]:
    """A Markdown table: heading row, separator, then one line per row."""
    headings = list(headings)
    return [row(*headings), row(*["---"] * len(headings)), *(row(*values) for values in rows)]


def show(value: Any) -> str:
    """A value as it would be written in YAML flow style (``null``, ``true``, ``[a, b]``, ``{k: v}``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Tabled):
        return f"from {value.start} to {value.end}"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}: {show(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(item) for item in value) + "]"
    return str(value)


def code(text: str) -> str:
    """Inline code (paths and identifiers)."""
    return f"`{text}`"


def member_values(member: Member) -> list[tuple[str, Any]]:
    """(path, value) of every calibrated number of a member, in the order of the schema."""
    values: list[tuple[str, Any]] = []
    if member.status != "member":
        values.append(("status", member.status))
    if member.joined is not None:
        values.append(("joined", member.joined))
    values.append(("capability", member.capability))
    values += [(f"weights.{dim}", weight) for dim, weight in member.weights.items()]
    values += [(f"outside_options.{dim}", option) for dim, option in member.outside_options.items()]
    for other, relation in member.relations.items():
        values += [(f"relations.{other}.{kind}", value) for kind, value in relation.model_dump().items() if value]
    return values


def proposal_values(proposal: Proposal) -> list[tuple[str, Any]]:
    """(path, value) of every calibrated number or reference of a proposal, in the order of the schema."""
    values: list[tuple[str, Any]] = [("sponsor", proposal.sponsor)]
    values += [(f"effects.{dim}", effect) for dim, effect in proposal.effects.items()]
    values += [(f"gains.{actor}", gain) for actor, gain in proposal.gains.items()]
    if proposal.ambition != 1.0:
        values.append(("ambition", proposal.ambition))
    if proposal.min_ambition is not None:
        values.append(("min_ambition", proposal.min_ambition))
    if proposal.side_payment:
        values.append(("side_payment", proposal.side_payment))
    if proposal.participation == "opt_in":
        values.append(("participation", proposal.participation))
    values.append(("form", proposal.form))
    if proposal.links:
        values.append(("links", proposal.links))
    if proposal.admits:
        values.append(("admits", proposal.admits))
    if proposal.tabled is not None:
        values.append(("tabled", proposal.tabled))
    if proposal.elsewhere is not None:
        values += [("elsewhere.forum", proposal.elsewhere.forum), ("elsewhere.share", proposal.elsewhere.share)]
    return values


#: The source of an ambition the configuration leaves at its default (or writes as 1.0 without a citation).
AMBITION_DEFAULT = ("the schema's default, 1.0: the proposal as tabled, in full (its effects and gains are stated at "
                    "this ambition); a convention of the model, not a number the brief gives")


def is_number(value: object) -> bool:
    """An int or a float, not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def chosen_numbers(config: Configuration, events: Iterable[Event] = ()) -> list[tuple[str, Any, str, str]]:
    """(dotted path, value, kind, source) of every number of ``config`` that the brief does not give.

    Kinds: ``global constant`` (every number under ``rules``, ``noise`` and ``implementation``), ``ambition``,
    ``floor`` and ``side payment`` (of every proposal; a side payment when not zero), and ``not a brief quote`` (any
    other number whose source, by :func:`quotes_the_brief`, does not quote the brief; a capability from a cited data
    set and a year of accession are not chosen). An event's value counts when its note does not quote the brief.
    """
    found: list[tuple[str, Any, str, str]] = []
    for block in PARAMETER_BLOCKS:
        for key, value in getattr(config, block).model_dump().items():
            if is_number(value):
                path = f"{block}.{key}"
                found.append((path, value, "global constant", PARAMETER_SOURCES.get(path, "") or MISSING))
    for code, member in config.members.items():
        for path, value in member_values(member):
            source = citation(member.sources, path)
            if not is_number(value) or path == "joined" or source.startswith(DATA_SOURCES):
                continue
            if not quotes_the_brief(source):
                found.append((f"members.{code}.{path}", value, "not a brief quote", source))
    for code, proposal in config.proposals.items():
        prefix = f"proposals.{code}"
        ambition = citation(proposal.sources, "ambition")
        if ambition == MISSING and proposal.ambition == 1.0:
            ambition = AMBITION_DEFAULT
        found.append((f"{prefix}.ambition", proposal.ambition, "ambition", ambition))
        if proposal.min_ambition is not None:
            found.append((f"{prefix}.min_ambition", proposal.min_ambition, "floor",
                          citation(proposal.sources, "min_ambition")))
        if proposal.side_payment:
            found.append((f"{prefix}.side_payment", proposal.side_payment, "side payment",
                          citation(proposal.sources, "side_payment")))
        for path, value in proposal_values(proposal):
            source = citation(proposal.sources, path)
            if is_number(value) and path not in ALWAYS_CHOSEN \
                    and not quotes_the_brief(source):
                found.append((f"{prefix}.{path}", value, "not a brief quote", source))
    for event in events:
        if not quotes_the_brief(event.note):
            found += [(f"events.{event.year}.{key}", value, "not a brief quote", event.note.strip() or MISSING)
                      for key, value in event.set.items() if is_number(value)]
    return found


def read_choices(root: Path = ROOT) -> dict[str, Any]:
    """configs/choices.yaml: ``commits`` (short hash -> date, subject, cases_in_view, why) and ``chosen``
    (dotted path -> value, set, changes, ...); empty mappings if the file does not exist."""
    path = root / CHOICES
    raw = read_yaml(path) if path.is_file() else {}
    if not isinstance(raw, dict):
        raise ConfigError(path, "", "expected a mapping with the keys 'commits' and 'chosen'")
    return {"commits": raw.get("commits") or {}, "chosen": raw.get("chosen") or {}}


def record_for(records: Mapping[str, Any], path: str) -> tuple[str, Any] | None:
    """The record covering ``path`` (its own key, or the nearest enclosing one) and the recorded value at ``path``;
    None if no record covers it. A record of ``members.mongolia.weights`` holds a mapping of the weights."""
    parts = path.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in records:
            value = records[key].get("value") if isinstance(records[key], Mapping) else None
            for part in parts[n:]:
                value = value.get(part) if isinstance(value, Mapping) else None
            return key, value
    return None


def choice_problems(config: Configuration, events: Iterable[Event], choices: Mapping[str, Any]) -> list[str]:
    """What is wrong with the record of chosen numbers: a chosen number without a record, a record whose value is
    not the configuration's, a commit not listed under ``commits``, a history that does not end at the value."""
    records, commits = choices["chosen"], choices["commits"]
    problems: list[str] = []
    for path, value, _, _ in chosen_numbers(config, events):
        found = record_for(records, path)
        if found is None:
            problems.append(f"{path} ({show(value)}): chosen, but no record in {CHOICES.as_posix()}")
        elif found[1] != value:
            problems.append(f"{path}: the record ({found[0]}) says {show(found[1])}, the configuration {show(value)}")
    for key, record in records.items():
        if not isinstance(record, Mapping) or "value" not in record or "set" not in record:
            problems.append(f"{key}: a record needs 'value' and 'set'")
            continue
        changes = record.get("changes") or []
        named = [record["set"], *(change.get("commit") for change in changes)]
        problems += [f"{key}: commit {commit} is not under 'commits'" for commit in named if commit not in commits]
        if changes and changes[-1].get("to") != record["value"]:
            problems.append(f"{key}: the last change ends at {show(changes[-1].get('to'))}, "
                            f"not {show(record['value'])}")
        if changes and "first" in record and changes[0].get("from") != record["first"]:
            problems.append(f"{key}: the first change starts at {show(changes[0].get('from'))}, not "
                            f"{show(record['first'])}")
    return problems


def choices_section(config: Configuration, events: Iterable[Event], choices: Mapping[str, Any]) -> list[str]:
    """The section "Chosen numbers: when and why they were set", as Markdown lines."""
    events = list(events)
    records, commits = choices["chosen"], choices["commits"]
    chosen = chosen_numbers(config, events)
    lines = ["", "## Chosen numbers: when and why they were set", ""]
    lines += [
        "A *chosen* number is one the brief does not give: every number under `rules`, `noise` and `implementation`,",
        "every proposal's `ambition`, floor (`min_ambition`) and side payment, and every other number whose source",
        "does not quote the brief (it names no section and passage, paraphrases without a quote, or calls its number a",
        "choice, an assumption, inferred, neutral or not described). Capabilities (a cited data set) and years are not",
        "chosen.",
        f"The history is recorded in `{CHOICES.as_posix()}`, written from `git log -p configs/base.yaml`; a chosen",
        f"number without a record there is marked {NO_RECORD} (`tests/test_provenance.py` fails on it).",
        "A commit *had the cases in view* when it also changed `validation/` or its message mentions the cases.",
        "",
        "### The commits that set them",
        "",
    ]
    lines += table(
        ["commit", "date", "subject", "cases in view", "what the record shows"],
        ((code(short), data.get("date", ""), data.get("subject", ""), "yes" if data.get("cases_in_view") else "no",
          data.get("why", "")) for short, data in commits.items()),
    )
    lines += ["", f"### The {len(chosen)} chosen numbers", ""]
    lines += ["Sources are those of the tables above; *first set* is the commit that first gave the number a value.",
              ""]
    rows: list[tuple[object, ...]] = []
    shown: set[str] = set()
    for path, value, kind, source in chosen:
        found = record_for(records, path)
        if found is None:
            rows.append((code(path), show(value), kind, NO_RECORD, NO_RECORD, NO_RECORD, source))
            continue
        key = found[0]
        if key in shown:  # a record covering several numbers (a profile's weights) is one row
            continue
        shown.add(key)
        record = records[key]
        value = record.get("value", value)
        rows.append((code(key), show(value), kind, *history(record, commits), source if key == path else
                     citation_of_record(record, source)))
    lines += table(["number", "value", "kind", "first set", "changes", "cases in view", "source now"], rows)

    others = [(key, record) for key, record in records.items()
              if all(record_for({key: record}, path) is None for path, *_ in chosen)]
    if others:
        lines += ["", "### Other numbers set or changed with the cases in view", ""]
        lines += ["Not chosen by the rule above (their source now quotes the brief), but changed since first set or",
                  "first set in the commit that added the cases, so recorded too.", ""]
        lines += table(["number", "value", "first set", "changes", "cases in view"],
                       ((code(key), show(record.get("value")), *history(record, commits)) for key, record in others))
    return lines


def citation_of_record(record: Mapping[str, Any], source: str) -> str:
    """The source shown for a record that covers several numbers: its own ``source`` if it has one."""
    return str(record.get("source") or source)


def history(record: Mapping[str, Any], commits: Mapping[str, Any]) -> tuple[str, str, str]:
    """(first set, changes, cases in view) of one record, as table cells."""
    def when(short: str) -> str:
        return f"`{short}` {commits.get(short, {}).get('date', '?')}"

    first = when(record["set"])
    if "first" in record:
        first += f" at {show(record['first'])}"
    if record.get("first_source"):
        first += f" (source then: \"{record['first_source']}\")"
    changes = record.get("changes") or []
    text = "; ".join(f"{show(change.get('from'))} -> {show(change.get('to'))} in {when(change.get('commit', '?'))}: "
                     f"{change.get('reason', '')}" for change in changes) or "none"
    involved = [record["set"], *(change.get("commit") for change in changes)]
    in_view = [short for short in involved if commits.get(short, {}).get("cases_in_view")]
    seen = "yes (" + ", ".join(dict.fromkeys(in_view)) + ")" if in_view else "no"
    if record.get("note"):
        text += f". {record['note']}" if changes else f"; {record['note']}"
    return first, text, seen


def read_base(root: Path = ROOT) -> tuple[Configuration, list[Event]]:
    """The base configuration, validated by the project's own schema, and its timeline of events, if any.

    A base file may carry an ``events:`` timeline beside the configuration (the scenario loader applies
    it); it is not part of :class:`Configuration`, so it is taken out before validation.
    """
    raw = read_yaml(root / BASE)
    timeline = raw.pop("events", []) if isinstance(raw, dict) else []
    events = [Event.model_validate(event) for event in timeline] if isinstance(timeline, list) else []
    return Configuration.model_validate(raw), events


def render(root: Path = ROOT) -> str:
    """The full text of docs/provenance.md for the project at ``root``."""
    config, base_events = read_base(root)
    lines = [HEADER, *configuration_tables(config), "", "## Scenario events", ""]
    lines += ["Events change the configuration from their year on; the note is the event's source.", ""]
    rows = event_rows(BASE.as_posix(), base_events)
    for path in sorted((root / SCENARIOS).glob("*.yaml")):
        rows += event_rows(path.relative_to(root).as_posix(), scenario_events(path))
    lines += table(["scenario", "year", "sets", "value", "note"], rows)
    lines += choices_section(config, base_events, read_choices(root))
    return "\n".join(lines) + "\n"


def configuration_tables(config: Configuration) -> list[str]:
    """The dimensions, members, proposals, and rules, noise and implementation tables of ``config``, as Markdown
    lines."""
    lines = ["## Dimensions", ""]
    lines += table(
        ["code", "name", "source"],
        ((code(dim), dimension.name, dimension.source.strip() or MISSING)
         for dim, dimension in config.dimensions.items()),
    )

    for heading, column, blocks, values, ranges in (
            ("Members", "member", config.members, member_values, member_ranges),
            ("Proposals", "proposal", config.proposals, proposal_values, proposal_ranges)):
        lines += ["", f"## {heading}", ""]
        lines += table(
            [column, "path", "value", "plausible range", "source"],
            (
                (block.name, code(path), show(value), plausible.get(path, ""), citation(block.sources, path))
                for block in blocks.values()
                for plausible in [ranges(block)]
                for path, value in values(block)
            ),
        )

    lines += ["", "## Rules, noise and implementation", ""]
    parameters = [
        (f"{block}.{key}", value)
        for block in PARAMETER_BLOCKS
        for key, value in getattr(config, block).model_dump().items()
        if value is not None
    ]
    drawn = constant_ranges(config)
    lines += table(
        ["path", "value", "plausible range", "source"],
        ((code(path), show(value), drawn.get(path, ""), PARAMETER_SOURCES.get(path, "").strip() or MISSING)
         for path, value in parameters),
    )
    if config.fitted:
        prior, used = plausible_ranges(config, fitted=False), plausible_ranges(config)
        lines += ["", "## Fitted ranges", "",
                  "The configuration's `fitted` block (written by `sco-sim fit`; docs/validation.md, \"Fitting the "
                  "constants\"): each replaces its number's plausible range above, so every world draws from it.", ""]
        lines += table(["path", "value", "plausible range", "fitted range"],
                       ((code(path), show(prior[path].value), prior[path], used[path])
                        for path in config.fitted))
    return lines


def scenario_events(path: Path) -> list[Event]:
    """The events a scenario file schedules itself, by year, once the project's loader has accepted the file."""
    scenario = load_scenario(path)  # validates the scenario, its overrides and its events
    return sorted(ScenarioFile.model_validate(scenario.source).events, key=lambda event: event.year)


def event_rows(file: str, events: Iterable[Event]) -> list[tuple[object, ...]]:
    """One row per value an event sets, and one per accession, each with the event's note as its source."""
    rows: list[tuple[object, ...]] = []
    for event in events:
        note = event.note.strip() or MISSING
        changes = [(code(key), show(value)) for key, value in event.set.items()]
        changes += [(code("accede"), show(event.accede))] if event.accede else []
        rows += [(code(file), event.year, key, value, note) for key, value in changes]
    return rows


def check(root: Path = ROOT) -> str | None:
    """None if docs/provenance.md is exactly what :func:`render` produces, else a one-line problem."""
    output = root / OUTPUT
    if not output.is_file():
        return f"{OUTPUT.as_posix()} does not exist; run `python tools/provenance.py` to generate it"
    if output.read_bytes() != render(root).encode("utf-8"):
        return f"{OUTPUT.as_posix()} is out of date; run `python tools/provenance.py` to regenerate it"
    config, events = read_base(root)
    problems = choice_problems(config, events, read_choices(root))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return f"{CHOICES.as_posix()}: {problems[0]}{more}"
    return None


def write(root: Path = ROOT) -> Path:
    """Write docs/provenance.md (with '\\n' line ends on every platform) and return its path."""
    output = root / OUTPUT
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(render(root).encode("utf-8"))
    return output


def main(argv: list[str] | None = None) -> int:
    """Command line: write the table, or with --check report whether it is current (exit 1 if not)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if docs/provenance.md is out of date or a chosen number has no record")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problem = check()
            if problem:
                print(problem, file=sys.stderr)
                return 1
            return 0
        write()
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 1
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        print(f"{BASE.as_posix()}: {where + ': ' if where else ''}{first['msg']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
