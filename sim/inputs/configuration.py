"""The configuration: interest dimensions, members, proposals, decision rules and noise.

A configuration is what a scenario resolves to (a base file in ``configs/`` plus the scenario's
overrides). It is validated strictly: unknown keys, wrong types, values out of range and references
to members, proposals or dimensions that do not exist are errors, because a typo that silently
changed a number would silently change a result.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from ..core.engine import Procedure, Terms
from ..core.errors import ConfigError, quoted
from ..core.vocabulary import (
    MAX_CODE,
    MAX_MAGNITUDE,
    MAX_MEMBERS,
    MAX_NAME,
    MAX_PROPOSALS,
    Bargaining,
    Form,
    Forum,
    Rule,
)

#: The key of a member, a proposal or a dimension; its name, drawn in figures. Their lengths are bounded so that a
#: long one is refused in one line, not met by matplotlib or the file system.
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=MAX_CODE)]
Name = Annotated[str, Field(max_length=MAX_NAME)]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Signed = Annotated[float, Field(ge=-1.0, le=1.0)]
Year = Annotated[int, Field(ge=1900, le=2200)]
#: A non-negative amount (a capability, a cost, a side payment), bounded where the engine's sums stay exact.
Amount = Annotated[float, Field(ge=0.0, le=MAX_MAGNITUDE)]


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("a file path cannot hold a NUL character")
    return text


#: A file's path as another file names it: relative to that file, or absolute.
FilePath = Annotated[str, Field(min_length=1), AfterValidator(_no_nul)]

#: The dimension whose effect is member-specific: a proposal's ``gains`` say who gains influence.
INFLUENCE = "influence"


class Strict(BaseModel):
    """Base of every configuration block: no unknown keys, no silent type coercion."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class Dimension(Strict):
    """An interest dimension members care about and proposals move."""

    name: Name
    description: str
    source: str = ""


class Relation(Strict):
    """How one member stands toward another (each in [0, 1]).

    dependence: cost of objecting to a proposal the other sponsors (one does not block one's patron).
    suspicion: the other's relative gains count as one's loss (wariness of its influence).
    rivalry: likewise, for an open strategic rivalry (border stand-offs, long-standing conflict).
    partnership: the other's relative gains count as one's own gain.
    """

    dependence: Unit = 0.0
    suspicion: Unit = 0.0
    rivalry: Unit = 0.0
    partnership: Unit = 0.0


class Member(Strict):
    """A state in the SCO's orbit: a member (votes from the year it joined), an observer or a partner."""

    name: Name
    status: Literal["member", "observer", "partner"]
    joined: Year | None = None
    capability: Amount
    weights: dict[Code, Signed]
    outside_options: dict[Code, Unit] = {}
    relations: dict[Code, Relation] = {}
    sources: dict[str, str] = {}

    @model_validator(mode="after")
    def _joined_iff_member(self) -> Member:
        if self.status == "member" and self.joined is None:
            raise ValueError("a member needs 'joined' (the year it joined)")
        if self.status != "member" and self.joined is not None:
            raise ValueError(f"'joined' is only for members; this one has status '{self.status}'")
        return self

    def votes_in(self, year: int) -> bool:
        """Whether it is a voting member in ``year`` by its status (an accession adopted in a run comes on top)."""
        return self.status == "member" and self.joined is not None and self.joined <= year


class Tabled(Strict):
    """A span of years in which a proposal is on the agenda."""

    start: Year = Field(alias="from")
    end: Year = Field(alias="to")


class Elsewhere(Strict):
    """A sponsor's route for a proposal outside the SCO (sim.model.sponsors): where, and what share of its own gain
    from the proposal in full the route yields (0: the route yields nothing)."""

    forum: Forum
    share: Unit


class Proposal(Strict):
    """A proposal on the agenda: who sponsors it, what it changes, how far it can be bargained down."""

    name: Name
    sponsor: Code
    effects: dict[Code, Signed] = {}
    gains: dict[Code, Signed] = {}
    participation: Literal["all", "opt_in"] = "all"
    form: Form = "statement"  # what it is once adopted: how binding, so how fast it is carried out (Implementation)
    ambition: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    min_ambition: Unit | None = None  # None: cannot be bargained down
    side_payment: Amount = 0.0
    links: list[Code] = []
    admits: list[Code] = []
    tabled: list[Year] | Tabled | None = None  # None: every year of the run
    elsewhere: Elsewhere | None = None  # None: the sponsor has no route outside the SCO for it
    sources: dict[str, str] = {}

    @model_validator(mode="after")
    def _floor_below_ambition(self) -> Proposal:
        if self.min_ambition is not None and self.min_ambition > self.ambition:
            raise ValueError(f"min_ambition {self.min_ambition} is above ambition {self.ambition}")
        return self

    @property
    def floor(self) -> float:
        """The least ambitious version the sponsor would still table."""
        return self.ambition if self.min_ambition is None else self.min_ambition

    def is_tabled(self, year: int) -> bool:
        """Whether the proposal is on the agenda in ``year``."""
        if self.tabled is None:
            return True
        if isinstance(self.tabled, Tabled):
            return self.tabled.start <= year <= self.tabled.end
        return year in self.tabled

    def terms(self, sponsor: int, min_participants: int) -> Terms:
        """What its sponsor (at index ``sponsor`` of the deciders) puts on the table, for the engine."""
        return Terms(sponsor=sponsor, ambition=self.ambition, min_ambition=self.floor,
                     opt_in=self.participation == "opt_in", side_payment=self.side_payment,
                     min_participants=min_participants)


class Rules(Strict):
    """The decision rule and the parameters of bargaining."""

    decision: Rule = "consensus"
    threshold: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    objection_cost: Amount = 0.1
    deference: Amount = 0.5
    ambition_steps: Annotated[int, Field(ge=2, le=1001)] = 21
    min_participants: Annotated[int, Field(ge=1, le=MAX_MEMBERS)] = 2
    sponsor_learns: bool = True  # sim.model.sponsors: a sponsor remembers objections and may let a proposal rest
    sponsor_error: Unit = 0.1  # how far off, in ambition, a sponsor reads a member's objection limit
    bargaining: Bargaining = "veto"  # how the ambition is settled (sim.core.bargaining; --bargaining)
    forum_choice: bool = True  # sim.model.sponsors: a learning sponsor may take a blocked proposal elsewhere

    @model_validator(mode="after")
    def _threshold_needs_a_voting_rule(self) -> Rules:
        if self.threshold is not None and self.decision in ("consensus", "consensus_minus_one"):
            raise ValueError(
                f"threshold applies to two_thirds, majority and capability_majority, not to {self.decision}"
            )
        return self

    @property
    def procedure(self) -> Procedure:
        """The decision rule and the bargaining's resolution, for the engine."""
        return Procedure(self.decision, self.threshold, self.ambition_steps, self.bargaining)


class Noise(Strict):
    """What the model does not know: the coded numbers' readings, members' priorities, their judgement.

    ``parameters``: ``drawn``, each world of ``world_size`` replicates reads every coded number at its own point of
    the number's plausible range (:mod:`sim.inputs.plausible`; its fitted range, where the configuration's
    ``fitted`` gives one); ``prior``, the same from the plausible ranges alone (what a fit starts from); ``fixed``,
    every replicate uses the numbers as written (the point calibration). ``weights`` and ``judgement`` scale the
    yearly wobble of members' priorities and their misjudgement of a proposal's benefit; ``persistence`` is the
    yearly AR(1) coefficient of both (0: a fresh draw each summit; 1: drawn once and kept).
    """

    weights: Annotated[float, Field(ge=0.0, le=1.0)] = 0.1
    judgement: Annotated[float, Field(ge=0.0, le=1.0)] = 0.05
    persistence: Unit = 0.9
    parameters: Literal["drawn", "prior", "fixed"] = "drawn"
    world_size: Annotated[int, Field(ge=1, le=10_000)] = 10


class Implementation(Strict):
    """How fast an adopted decision is carried out, by its form (:data:`sim.core.vocabulary.FORMS`): the share of the
    gap between what is carried out and what its implementing members are willing to carry out that closes in a year
    (:mod:`sim.model.implementation`). Chosen numbers (configs/choices.yaml): a half-life of 1 year for a body with
    money, 2 for a treaty, 4 for a strategy, 8 for a statement, as ``1 - 2**(-1/half_life)``."""

    statement: Unit = 0.08
    strategy: Unit = 0.16
    treaty: Unit = 0.29
    body: Unit = 0.5
    #: Record every proposal decided at an earlier summit of the run in every later year, on the agenda or not
    #: (status ``in_force`` where adopted, ``not_decided`` elsewhere), so that what was adopted is followed to the
    #: run's end; off (the default), a proposal is recorded only in the years it is on the agenda.
    follow: bool = False


class Feedback(Strict):
    """What the SCO's record does to relations (:mod:`sim.model.feedback`), each feedback with its switch: an
    adopted, carried-out economic measure deepens dependence on its sponsor (``integration``); a proposal pursued
    outside the SCO deepens every member's dependence on its sponsor (``elsewhere``). The rates are chosen numbers
    (configs/choices.yaml)."""

    #: Off by default: their rates are choices, not fitted, and at them the default scenario moves away from the
    #: record (docs/validation.md, "Feedback"); a scenario switches them on to compare the worlds.
    integration: bool = False
    elsewhere: bool = False
    integration_rate: Unit = 0.3  # dependence gained per unit of economic effect x ambition x share carried out
    elsewhere_rate: Unit = 0.05  # dependence gained per year pursued outside the SCO, per unit of the route's share


class Configuration(Strict):
    """A complete, validated configuration of the model."""

    dimensions: dict[Code, Dimension]
    members: dict[Code, Member]
    proposals: dict[Code, Proposal]
    rules: Rules = Rules()
    noise: Noise = Noise()
    implementation: Implementation = Implementation()
    feedback: Feedback = Feedback()
    #: Fitted plausible ranges, [low, high] by the number's path, written nested as the configuration is
    #: (``rules: {objection_cost: [0.06, 0.19]}``) or with dotted keys (``rules.objection_cost: [...]``); held by
    #: dotted path. They replace the rule of :mod:`sim.inputs.plausible` for those numbers.
    fitted: dict[str, Annotated[list[float], Field(min_length=2, max_length=2)]] = {}

    @field_validator("fitted", mode="before")
    @classmethod
    def _by_path(cls, value: Any) -> Any:
        """The fitted ranges by dotted path, however nested they were written (a scenario's ``set`` merges into the
        base's block key by key, which nests dotted keys)."""
        if not isinstance(value, dict):
            return value
        flat: dict[str, Any] = {}

        def walk(node: dict[str, Any], prefix: str) -> None:
            for key, item in node.items():
                path = f"{prefix}.{key}" if prefix else str(key)
                if isinstance(item, dict):
                    walk(item, path)
                elif path in flat:
                    raise ValueError(f"{path}: given twice")
                else:
                    flat[path] = item

        walk(value, "")
        return flat

    @model_validator(mode="after")
    def _references_exist(self) -> Configuration:
        for path, message in reference_errors(self):
            raise ValueError(f"{path}: {message}")
        return self


def reference_errors(config: Configuration) -> list[tuple[str, str]]:
    """Every reference to a member, proposal or dimension that does not exist, as (path, message)."""
    errors: list[tuple[str, str]] = []
    dims, members, proposals = set(config.dimensions), set(config.members), set(config.proposals)
    if INFLUENCE not in dims:
        errors.append(("dimensions", f"must include '{INFLUENCE}' (the dimension proposals' gains act on)"))
    if len(members) > MAX_MEMBERS or len(proposals) > MAX_PROPOSALS:
        errors.append(("members", f"at most {MAX_MEMBERS} members and {MAX_PROPOSALS} proposals are supported"))

    def check(path: str, names: Any, known: set[str], what: str) -> None:
        for name in names:
            if name not in known:
                errors.append((f"{path}.{name}", f"unknown {what} '{name}' (expected one of: {_listing(known)})"))

    for code, member in config.members.items():
        check(f"members.{code}.weights", member.weights, dims, "dimension")
        check(f"members.{code}.outside_options", member.outside_options, dims, "dimension")
        check(f"members.{code}.relations", member.relations, members - {code}, "member")
    for path, (low, high) in config.fitted.items():
        if not isinstance(_number_at(config, path), float):
            errors.append((f"fitted.{path}", "expected the dotted path of a number of the configuration"))
        elif not low <= high:
            errors.append((f"fitted.{path}", f"expected [low, high] with low <= high, got [{low}, {high}]"))
        elif bound := _beyond_bounds(path, (low, high)):
            errors.append((f"fitted.{path}", f"expected [low, high] within the bounds of its number: {bound} "
                                             f"(got [{low}, {high}])"))
    for code, proposal in config.proposals.items():
        base = f"proposals.{code}"
        if proposal.sponsor not in members:
            errors.append((f"{base}.sponsor",
                           f"unknown member '{proposal.sponsor}' (expected one of: {_listing(members)})"))
        check(f"{base}.effects", proposal.effects, dims - {INFLUENCE}, "dimension")
        check(f"{base}.gains", proposal.gains, members, "member")
        check(f"{base}.links", proposal.links, proposals - {code}, "proposal")
        check(f"{base}.admits", proposal.admits, members, "member")
        if isinstance(proposal.tabled, Tabled) and proposal.tabled.start > proposal.tabled.end:  # no year at all
            errors.append((f"{base}.tabled", f"expected 'from' at or before 'to', got from {proposal.tabled.start} "
                                             f"to {proposal.tabled.end}"))
    return errors


def _beyond_bounds(path: str, ends: tuple[float, float]) -> str | None:
    """What the schema says of an end of a fitted range that its number could not take (None if both could): a
    world draws the number anywhere in the range, so the range is bounded as the number is."""
    for end in ends:
        try:
            _number_type(path).validate_python(end)
        except ValidationError as error:
            return error.errors(include_url=False)[0]["msg"]
    return None


@lru_cache(maxsize=1024)
def _number_type(path: str) -> TypeAdapter[Any]:
    """The schema's type, bounds included, of the number at a dotted path that :func:`_number_at` found."""
    *parents, last = path.split(".")
    kind: Any = Configuration
    for part in parents:
        kind = _step(kind, part)
    if not _is_block(kind):
        return TypeAdapter(get_args(kind)[1])  # a mapping's value
    field = kind.model_fields[last]
    number: Any = Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
    return TypeAdapter(number)


def _number_at(config: Configuration, path: str) -> Any:
    """The value at a dotted path of the configuration (None where there is none); a number as a float."""
    node: Any = config
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
        if node is None:
            return None
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else node


# --- problems, reported at the key the user wrote ---------------------------------------------------

#: Where a key of the validated document was written: its file and its key there, from its path in the document.
Locate = Callable[[tuple[str, ...]], tuple[Path | str, str]]


def validated[Block: Strict](kind: type[Block], document: Any, file: Path | str) -> Block:
    """``document`` (a file's YAML) validated as the block ``kind``; a problem is a ConfigError naming ``file``."""
    try:
        return kind.model_validate(document)
    except ValidationError as error:
        raise config_error(error, kind, lambda path: (file, ".".join(path))) from None


def config_error(error: ValidationError, root: type[Strict], locate: Locate) -> ConfigError:
    """pydantic's report on a document of the block ``root``, as one line: the first problem, at the key written."""
    errors = error.errors(include_url=False)
    # where a field takes several forms, pydantic reports every form's complaint: the one that got
    # furthest into the value is about the form the user meant (and an unknown key explains a missing one)
    where = [_written_path(e["loc"], root) for e in errors]
    group = [i for i, w in enumerate(where) if w[: len(where[0])] == where[0] or where[0][: len(w)] == w]
    chosen = max(group, key=lambda i: (len(where[i]), errors[i]["type"] == "extra_forbidden"))
    loc, first = where[chosen], errors[chosen]
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "value_error" and ": " in message and not loc:
        path, message = message.split(": ", 1)  # a reference error names its own path
        loc = tuple(path.split("."))
    elif first["type"] == "extra_forbidden":
        message = _unknown_key(loc, root)
    elif first["type"] == "missing":
        message = f"missing key '{loc[-1]}'"
    elif isinstance(first.get("input"), str | int | float | bool) or first.get("input") is None:
        message += f" (got {quoted(first.get('input'))})"
    file, key = locate(loc)
    more = len(errors) - len(group)
    return ConfigError(file, key, message + (f" (and {more} more problem{'s' * (more > 1)})" if more else ""))


def _unknown_key(path: Sequence[str], root: type[Strict] = Configuration) -> str:
    """What to say of the unknown key at the end of ``path`` below ``root``: the keys its block allows, and where it
    belongs if it is a typo of one of them or a key of a block further down (``members.x.dependence`` for
    ``members.x.relations.<code>.dependence``)."""
    key, block = path[-1], _block_at(path[:-1], root)
    message = f"unknown key '{key}'"
    if block is None:
        return message
    allowed = list(_fields(block))
    close = difflib.get_close_matches(key, allowed, n=1)
    below = _below(block, key)
    hint = (f"did you mean '{close[0]}'? " if close else
            f"'{key}' belongs at {'.'.join([*path[:-1], below])}; " if below else "")
    return f"{message} ({hint}expected one of: {', '.join(allowed)})"


def _written_path(location: Sequence[str | int], root: type[Strict] = Configuration) -> tuple[str, ...]:
    """A pydantic error's location below ``root`` as the user wrote it: without the tags pydantic inserts after a
    field that can take several forms (``tabled.list[constrained-int].1`` is ``tabled.1``)."""
    kind: Any = root
    path: list[str] = []
    parts = list(location)
    while parts:
        part = parts.pop(0)
        path.append(str(part))
        forms = _forms(kind, part)
        if len(forms) > 1 and parts:  # pydantic names the form it tried next
            tag = str(parts.pop(0))
            kind = next((form for form in forms if _is_block(form) and form.__name__ == tag), None)
        else:
            kind = _step(kind, part)
    return tuple(path)


def _block_at(path: Sequence[str], root: type[Strict]) -> type[Strict] | None:
    """The block (a model class) at ``path`` below ``root``, where a mapping's keys can be anything."""
    kind: Any = root
    for part in path:
        kind = _step(kind, part)
    return kind if _is_block(kind) else None


def _step(kind: Any, key: str | int) -> Any:
    """The type one key below ``kind``: a block's field or a mapping's value (None where there is none)."""
    if _is_block(kind):
        field = _fields(kind).get(str(key))
        return None if field is None else _block_or_mapping(field.annotation)
    if get_origin(kind) is dict:
        return _block_or_mapping(get_args(kind)[1])
    return None


def _forms(kind: Any, key: str | int) -> list[Any]:
    """The forms a block's field of several forms can take (``list[Year] | Tabled``); [] for other keys."""
    field = _fields(kind).get(str(key)) if _is_block(kind) else None
    if field is None or get_origin(field.annotation) not in (Union, UnionType):
        return []
    return [option for option in get_args(field.annotation) if option is not type(None)]


def _below(block: type[Strict], key: str, depth: int = 3) -> str | None:
    """A path below ``block`` (depth first, at most ``depth`` blocks down) to a block with the field ``key``,
    a mapping's keys written <code>."""
    if depth == 0:
        return None
    for step, field in _fields(block).items():
        inner = _block_or_mapping(field.annotation)
        if get_origin(inner) is dict:
            inner, step = _block_or_mapping(get_args(inner)[1]), f"{step}.<code>"
        if _is_block(inner):
            if key in _fields(inner):
                return f"{step}.{key}"
            deeper = _below(inner, key, depth - 1)
            if deeper:
                return f"{step}.{deeper}"
    return None


def _block_or_mapping(annotation: Any) -> Any:
    """``annotation`` without ``| None`` and other alternatives: its block or mapping, if it has one."""
    if get_origin(annotation) in (Union, UnionType):
        for option in get_args(annotation):
            if _is_block(option) or get_origin(option) is dict:
                return option
    return annotation


def _is_block(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, Strict)


def _fields(block: type[Strict]) -> dict[str, Any]:
    """A block's fields by the key a file writes (the alias, where there is one: ``from``, ``to``)."""
    return {field.alias or name: field for name, field in block.model_fields.items()}


def _listing(names: set[str], most: int = 12) -> str:
    shown = sorted(names)
    return ", ".join(shown[:most]) + (f", ... ({len(shown)} in all)" if len(shown) > most else "")
