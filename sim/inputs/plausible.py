"""Plausible ranges for the coded numbers of a configuration: how sure each reading of the brief is.

Every weight, outside option, relation, effect and gain of ``configs/base.yaml`` is a reading of the brief's words
("a main aim", "hesitant", "ambiguous") placed on the project's fixed scale (docs/validation.md, "Calibration
procedure"): 0.9 a main aim, 0.7 a lasting concern, 0.5 mixed or not described, 0.3 hesitant or secondary,
0.1 barely mentioned. A number's *plausible range* says how far another careful reading of the same source could
put it. One rule, written once in :func:`plausible_range`, gives every range:

* **A reading** (its source quotes the brief, by :func:`quotes_the_brief`): the value plus or minus half a level of
  the scale, ``READING`` = 0.1, i.e. halfway to the neighbouring levels: 0.7 -> [0.6, 0.8], 0.9 -> [0.8, 1.0],
  0.1 -> [0.0, 0.2]. A number between levels (0.2, 0.25) or a negative one (-0.3, an effect or gain against a
  dimension or member; the scale mirrors) gets the same width centred on it: -0.3 -> [-0.4, -0.2].
* **A choice** (a *chosen* number: its source does not quote the brief, or calls its number a choice, an
  assumption, inferred, neutral or not described; and every proposal's ambition, floor ``min_ambition`` and side
  payment, which the brief never gives): the value plus or minus two levels, ``CHOICE`` = 0.4. The brief does not
  place the number, so a reading one level up or down is as defensible as the one written, and two levels is
  where it stops being the same stance: for the neutral 0.5 of a member the brief does not describe, the range is
  [0.1, 0.9], the whole scale, which is what "not described" means. Four times a reading's width, so the
  sampled worlds carry most of their spread where the brief is silent.
* Every range is clipped to the valid bounds of its field in :mod:`sim.inputs.configuration` (a weight in
  [-1, 1], a relation, outside option and floor in [0, 1], an ambition in (0, 1]), so any value drawn from it is
  a valid configuration. A range clipped on one side is not centred on its value.
* The one exception: an ambition left at the schema's default 1.0 is the convention in which effects and gains are
  stated (the proposal as tabled, in full), not a calibrated quantity, so its range is the point [1.0, 1.0].

The model's own constants under ``rules`` and ``noise`` that a world draws (:data:`CONSTANTS`), and the paces of
implementation under ``implementation`` (:data:`PACES`), get ranges by a rule of their own (:func:`constant_ranges`).
The configuration's ``fitted`` block replaces any number's range. Numbers not covered: a capability (read from a cited
data set, NMC v6.0, not from the brief's words) and a year of accession.
The distribution on a range is uniform from ``low`` to ``high`` for now; each world of replicates draws its numbers
from it (:mod:`sim.model.worlds`).

Per-number ranges are given in the configuration's ``fitted`` block (a fit's result), not beside ``sources:``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from types import UnionType
from typing import Annotated, Any, Literal, Union, cast, get_args, get_origin

import annotated_types

from ..core.vocabulary import FORMS
from .configuration import (
    Configuration,
    Elsewhere,
    Feedback,
    Implementation,
    Member,
    Noise,
    Proposal,
    Relation,
    Rules,
)

#: The project's fixed scale of readings (docs/validation.md, "Calibration procedure").
SCALE = (0.1, 0.3, 0.5, 0.7, 0.9)
#: Half the distance between two levels of the scale: how far a reading of a quoted passage may be off.
READING = 0.1
#: Two levels of the scale: how far a number the brief does not give may be off.
CHOICE = 0.4
#: The distribution on a range, for now.
DISTRIBUTION = "uniform"

#: The brief's sections, as the sources name them ("Different aspirations: China '...'").
BRIEF_SECTIONS = ("Summary", "Introduction", "Introducing the SCO", "Limited achievements", "Economic Cooperation",
                  "Different aspirations", "New developments", "Conclusion")
#: A quoted passage: opens with ' after a space, '(' or the start, closes with ' before a space, punctuation or
#: the end (so the apostrophes of "China's" and "India's" are not quotes).
QUOTE = re.compile(r"(?:^|[\s(])'.+?'(?=[\s),.;:]|$)")
#: Words with which a source says its number is the project's own placement, not the brief's.
NOT_FROM_THE_BRIEF = re.compile(
    r"\b(choice|chosen|assumption|inferred|neutral|not described|not discussed|not in the brief|says only)\b",
    re.IGNORECASE,
)
#: The model's own constants a world draws, and how far each may plausibly be off before it is fitted (choices, issue
#: 17): a scale-free amount (the cost of objecting, a noise level, the sponsor's error) from half to twice its value
#: ("factor", 2), as the leave-one-out grid spans them; deference, a share of dependence, plus or minus 0.5; the
#: yearly persistence plus or minus 0.2 (0.9 -> [0.7, 1.0]: a half-life from 2 years to for ever). Each is clipped
#: to its field's bounds. Fitted ranges (the configuration's ``fitted``) replace them.
CONSTANTS: dict[str, tuple[Literal["factor", "plus"], float]] = {
    "rules.objection_cost": ("factor", 2.0),
    "rules.deference": ("plus", 0.5),
    "rules.sponsor_error": ("factor", 2.0),
    "noise.weights": ("factor", 2.0),
    "noise.judgement": ("factor", 2.0),
    "noise.persistence": ("plus", 0.2),
}
#: The paces of implementation by form (``implementation.body``; :class:`~sim.inputs.configuration.Implementation`),
#: choices the brief does not give (it gives their order: a loan 'implemented in the following two years', framework
#: agreements that 'lack firm plans for implementation'): from half to twice their value, as the scale-free constants
#: above (a half-life from about half to twice its own), clipped to [0, 1]. Drawn by the worlds like
#: :data:`CONSTANTS`, but kept apart from them: they do not bear on adoption, so the fit and the falsifiability
#: search of the adoption cases leave them alone (the implementation cases search them, sim.studies.validation).
PACES: dict[str, tuple[Literal["factor", "plus"], float]] = {
    f"implementation.{form}": ("factor", 2.0) for form in FORMS}
#: The rates of feedback (:class:`~sim.inputs.configuration.Feedback`), choices the brief does not give (it gives the
#: direction: a bank or trade deals deepen dependence on China; China's "own bilateral initiatives" make it "at the
#: center of much regional trade"): from half to twice their value. Drawn by the worlds; not fitted (issue 19 set them
#: after the fit of issue 17, which they would change).
FEEDBACK_RATES: dict[str, tuple[Literal["factor", "plus"], float]] = {
    "feedback.integration_rate": ("factor", 2.0), "feedback.elsewhere_rate": ("factor", 2.0)}
#: The blocks of the configuration that hold the model's own constants.
CONSTANT_BLOCKS = {"rules": Rules, "noise": Noise, "implementation": Implementation, "feedback": Feedback}
#: A proposal's numbers the brief never gives, whatever their source says: chosen by definition.
ALWAYS_CHOSEN = ("ambition", "min_ambition", "side_payment")
#: Sources that cite a data set rather than the brief (derived by a script and tested against the data).
DATA_SOURCES = ("NMC v6.0",)
#: What a citation is when no entry of ``sources`` covers a path.
MISSING = "MISSING"


@lru_cache(maxsize=4096)
def quotes_the_brief(source: str) -> bool:
    """True if ``source`` cites the brief by section and quotes a passage, and does not call its number a choice.

    "Different aspirations: 'do not want to be tied exclusively to China or Russia' (0.5)" does; "A convention binds
    its parties (-0.2)", "Limited achievements: held on China's soil (0.2)" (a paraphrase, no quote) and "Not
    described for Iran in the brief; 0.8, as a state under 'unilateral sanctions'" do not.
    """
    text = source.strip()
    return (text.startswith(tuple(f"{section}:" for section in BRIEF_SECTIONS))
            and QUOTE.search(text) is not None and NOT_FROM_THE_BRIEF.search(text) is None)


def citation(sources: Mapping[str, str], path: str) -> str:
    """The most specific non-empty citation covering ``path`` (its own or an enclosing path's), else MISSING."""
    parts = path.split(".")
    for n in range(len(parts), 0, -1):
        text = sources.get(".".join(parts[:n]), "").strip()
        if text:
            return text
    return MISSING


@dataclass(frozen=True)
class Range:
    """A number's plausible range: a uniform distribution from ``low`` to ``high``, and what it rests on."""

    value: float
    low: float
    high: float
    basis: Literal["reading", "choice", "convention", "fitted"]

    def __contains__(self, number: object) -> bool:
        return isinstance(number, int | float) and self.low <= number <= self.high

    @property
    def width(self) -> float:
        return self.high - self.low

    def __str__(self) -> str:
        return f"[{self.low!r}, {self.high!r}], {self.basis}"


def plausible_range(value: float, chosen: bool, bounds: tuple[float, float]) -> Range:
    """The rule: ``value`` plus or minus :data:`READING` (a reading of a quoted passage) or :data:`CHOICE` (a number
    the brief does not give), clipped to the field's valid ``bounds``. The same for every kind of number, for a
    number between the scale's levels and for a negative one."""
    half = CHOICE if chosen else READING
    low, high = max(bounds[0], value - half), min(bounds[1], value + half)
    return Range(value, round(low, 6), round(high, 6), "choice" if chosen else "reading")


def bounds(model: type[Any], field: str) -> tuple[float, float]:
    """The valid bounds of a number in ``model.field`` (or of the values of a mapping field, or of an optional
    field's number), from the schema's own constraints (``ge``/``gt``, ``le``/``lt``); an open bound counts as its
    limit."""
    info = model.model_fields[field]
    metadata = list(info.metadata) + _constraints(info.annotation)
    low, high = float("-inf"), float("inf")
    for item in metadata:  # the schema's bounds are floats; annotated_types types them as comparable only
        if isinstance(item, annotated_types.Ge | annotated_types.Gt):
            low = float(cast(float, item.ge if isinstance(item, annotated_types.Ge) else item.gt))
        elif isinstance(item, annotated_types.Le | annotated_types.Lt):
            high = float(cast(float, item.le if isinstance(item, annotated_types.Le) else item.lt))
    return low, high


def _constraints(annotation: Any) -> list[Any]:
    """The constraints of the number an annotation holds: ``Signed``, ``dict[Code, Signed]``, ``Unit | None``."""
    if get_origin(annotation) is Annotated:
        kind, *extra = get_args(annotation)
        return [item for meta in extra for item in getattr(meta, "metadata", [meta])] + _constraints(kind)
    if get_origin(annotation) is dict:
        return _constraints(get_args(annotation)[1])
    if get_origin(annotation) in (Union, UnionType):
        return [item for option in get_args(annotation) for item in _constraints(option)]
    return []


def member_ranges(member: Member) -> dict[str, Range]:
    """The plausible range of each coded number of a member, by its path inside the member (``weights.economic``)."""
    found: dict[str, Range] = {}
    for field, model, numbers in (("weights", Member, member.weights.items()),
                                  ("outside_options", Member, member.outside_options.items())):
        for key, value in numbers:
            path = f"{field}.{key}"
            found[path] = plausible_range(value, not quotes_the_brief(citation(member.sources, path)),
                                          bounds(model, field))
    for other, relation in member.relations.items():
        for kind, value in relation.model_dump().items():
            if value:  # a relation not written is 0, not a reading
                path = f"relations.{other}.{kind}"
                found[path] = plausible_range(value, not quotes_the_brief(citation(member.sources, path)),
                                              bounds(Relation, kind))
    return found


def proposal_ranges(proposal: Proposal) -> dict[str, Range]:
    """The plausible range of each coded number of a proposal, by its path inside the proposal (``gains.china``)."""
    found: dict[str, Range] = {}
    for field, numbers in (("effects", proposal.effects.items()), ("gains", proposal.gains.items())):
        for key, value in numbers:
            path = f"{field}.{key}"
            found[path] = plausible_range(value, not quotes_the_brief(citation(proposal.sources, path)),
                                          bounds(Proposal, field))
    if proposal.ambition == 1.0 and citation(proposal.sources, "ambition") == MISSING:
        found["ambition"] = Range(1.0, 1.0, 1.0, "convention")
    else:
        found["ambition"] = plausible_range(proposal.ambition, True, bounds(Proposal, "ambition"))
    if proposal.min_ambition is not None:
        low, high = bounds(Proposal, "min_ambition")
        found["min_ambition"] = plausible_range(proposal.min_ambition, True, (low, min(high, proposal.ambition)))
    if proposal.side_payment:
        found["side_payment"] = plausible_range(proposal.side_payment, True, bounds(Proposal, "side_payment"))
    if proposal.elsewhere is not None:
        found["elsewhere.share"] = plausible_range(
            proposal.elsewhere.share, not quotes_the_brief(citation(proposal.sources, "elsewhere.share")),
            bounds(Elsewhere, "share"))
    return found


def constant_ranges(config: Configuration) -> dict[str, Range]:
    """The plausible range of each of the model's own constants that a world draws (:data:`CONSTANTS`,
    :data:`PACES`, :data:`FEEDBACK_RATES`)."""
    found: dict[str, Range] = {}
    for path, (kind, half) in (CONSTANTS | PACES | FEEDBACK_RATES).items():
        block, field = path.split(".")
        value = float(getattr(getattr(config, block), field))
        low, high = (value / half, value * half) if kind == "factor" else (value - half, value + half)
        valid = bounds(CONSTANT_BLOCKS[block], field)
        found[path] = Range(value, round(max(valid[0], low), 6), round(min(valid[1], high), 6), "choice")
    return found


#: The numbers of a member and of a proposal a world draws (:func:`member_ranges`, :func:`proposal_ranges`), by their
#: path inside it with ``*`` for a code: what a fitted range may be given for, beside the constants.
MEMBER_NUMBERS = ("weights.*", "outside_options.*", "relations.*.*")
PROPOSAL_NUMBERS = ("effects.*", "gains.*", "ambition", "min_ambition", "side_payment", "elsewhere.share")


def drawn(path: str) -> bool:
    """Whether a world can draw the number at the dotted ``path`` (a number of the configuration) from its range: a
    fitted range for any other (a capability, a year, a count) would never be used."""
    return path in (CONSTANTS | PACES | FEEDBACK_RATES) or any(
        fnmatchcase(path, f"{block}.*.{shape}")
        for block, shapes in (("members", MEMBER_NUMBERS), ("proposals", PROPOSAL_NUMBERS)) for shape in shapes)


def plausible_ranges(config: Configuration, fitted: bool = True) -> dict[str, Range]:
    """Every coded number of ``config`` with its plausible range, by dotted path (``members.russia.weights.economic``,
    ``proposals.free_trade_zone.min_ambition``), members first, in the order of the configuration, then the model's
    constants (``rules.objection_cost``). With ``fitted``, a range the configuration's ``fitted`` block gives replaces
    the rule's, while the number's value lies inside it (an event that moves the number out of it brings the rule
    back); without, the rule's ranges alone (the prior a fit starts from)."""
    found = {f"members.{code}.{path}": found for code, member in config.members.items()
             for path, found in member_ranges(member).items()}
    found |= {f"proposals.{code}.{path}": found for code, proposal in config.proposals.items()
              for path, found in proposal_ranges(proposal).items()}
    found |= constant_ranges(config)
    for path, (low, high) in (config.fitted if fitted else {}).items():
        if path in found and low <= found[path].value <= high:
            found[path] = Range(found[path].value, low, high, "fitted")
    return found
