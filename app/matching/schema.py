"""The indicator library's file format: pydantic models, one per rule kind (a union on `kind`)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

SEVERITIES = ("info", "low", "medium", "high", "critical")
Severity = Literal["info", "low", "medium", "high", "critical"]
FieldName = Literal["title", "summary", "content"]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=100)]

_DURATION = re.compile(r"^(\d+)\s*([dhm])$")


def _duration(v: object) -> timedelta:
    if isinstance(v, timedelta):
        return v
    m = _DURATION.match(str(v).strip())
    if not m:
        raise ValueError("a duration like '14d', '12h' or '30m'")
    n, unit = int(m.group(1)), m.group(2)
    return {"d": timedelta(days=n), "h": timedelta(hours=n), "m": timedelta(minutes=n)}[unit]


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a library file must not silently disable a rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Entity(Strict):
    id: Slug
    name: str
    type: Literal["group", "person", "place"]
    roles: list[str] = Field(min_length=1)
    affiliation: Slug | None = None
    source: str = ""
    aliases: list[str] = Field(min_length=1)


class Gazetteer(Strict):
    entities: list[Entity]


class Vocabulary(Strict):
    """Named term lists shared by indicators (`@terms:name`), so common vocabulary is written once."""

    terms: dict[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")], list[str]]


class Scenario(Strict):
    id: Slug
    name: str
    description: str = ""
    source: str = ""
    lookback: Duration = timedelta(days=30)
    levels: dict[Literal["guarded", "elevated", "high", "severe"], float]

    @field_validator("levels")
    @classmethod
    def _ascending(cls, v: dict[str, float]) -> dict[str, float]:
        order = [v[k] for k in ("guarded", "elevated", "high", "severe") if k in v]
        if order != sorted(order):
            raise ValueError("thresholds must rise from guarded to severe")
        return v


class ScenarioFile(Strict):
    scenarios: list[Scenario]


class Near(Strict):
    groups: tuple[str, str]
    within: int = Field(ge=1, le=200, description="words between the two groups, at most")


class Clause(Strict):
    """Groups that must all occur, of which one must occur, that must not occur, and proximity."""

    all: list[str] = []
    any: list[str] = []
    none: list[str] = []
    near: list[Near] = []

    @model_validator(mode="after")
    def _positive(self) -> Clause:
        if not (self.all or self.any):
            raise ValueError("a clause needs `all` or `any` groups")
        return self

    def groups(self) -> set[str]:
        names = {*self.all, *self.any, *self.none}
        for n in self.near:
            names.update(n.groups)
        return names


class Example(Strict):
    title: str = ""
    summary: str = ""
    content: str = ""


ExampleText = Annotated[Example, BeforeValidator(lambda v: {"title": v} if isinstance(v, str) else v)]


class Examples(Strict):
    match: list[ExampleText] = []
    no_match: list[ExampleText] = []


class IndicatorBase(Strict):
    id: Slug
    name: str
    description: str = ""
    source: str = Field(description="the seed and passage this indicator comes from")
    scenarios: list[str] = Field(min_length=1)
    severity: Severity = "medium"
    weight: float | None = Field(None, ge=0, description="contribution to scenario level; default by severity")
    enabled: bool = True
    examples: Examples = Examples()


class TermsMixin(Strict):
    """Named term groups and the boolean clauses over them."""

    fields: list[FieldName] = ["title", "summary", "content"]
    terms: dict[str, list[str]] = {}
    when: list[Clause] = []
    unless: list[str] = []

    @model_validator(mode="after")
    def _groups_defined(self):
        named = set(self.terms)
        used = set(self.unless)
        for clause in self.when:
            used |= clause.groups()
        missing = sorted(used - named)
        if missing:
            raise ValueError(f"clauses use undefined term groups: {', '.join(missing)}")
        for name, terms in self.terms.items():
            if not terms:
                raise ValueError(f"term group `{name}` is empty")
        return self


class MatchIndicator(IndicatorBase, TermsMixin):
    kind: Literal["match"]

    @model_validator(mode="after")
    def _has_clause(self):
        if not self.when:
            raise ValueError("a match indicator needs at least one `when` clause")
        return self


class QuantityIndicator(IndicatorBase, TermsMixin):
    kind: Literal["quantity"]
    units: list[str] = Field(min_length=1, description="terms counted: rocket*, missile*, drone*")
    threshold: int = Field(ge=1)
    max_gap: int = Field(2, ge=0, le=5, description="words allowed between the number and the unit")


class NewEntityIndicator(IndicatorBase, TermsMixin):
    kind: Literal["new_entity"]
    head_nouns: list[str] = Field(min_length=1, description="militia name heads: Saraya, Kata'ib, Liwa…")
    cues: list[str] = Field(min_length=1, description="phrases introducing a name: 'calling itself'")
    not_after: list[str] = Field([], description="words that, before a head noun, mean it is not a name")
    fuzzy_threshold: float = Field(88, ge=50, le=100)


class CoordinationIndicator(IndicatorBase, TermsMixin):
    kind: Literal["coordination"]
    roles: list[str] = Field(min_length=1)
    topics: dict[str, list[str]] = Field(min_length=1)
    min_actors: int = Field(3, ge=2)
    window: Duration


class RateIndicator(IndicatorBase):
    kind: Literal["rate"]
    of: list[Slug] = Field(min_length=1)
    recent: Duration
    baseline: Duration
    factor: float = Field(gt=0)
    min_count: int = Field(1, ge=1)


class AbsenceIndicator(IndicatorBase):
    kind: Literal["absence"]
    of: list[Slug] = Field(min_length=1)
    quiet: Duration
    lookback: Duration
    min_prior: int = Field(ge=1)
    min_items: int = Field(1, ge=0, description="items that must still arrive while quiet (else it is an outage)")


class SymbolicDate(Strict):
    date: str = Field(pattern=r"^\d\d-\d\d$", description="MM-DD, every year")
    name: str
    days: int = Field(2, ge=0, le=30)


class CalendarIndicator(IndicatorBase):
    kind: Literal["calendar"]
    dates: list[SymbolicDate] = Field(min_length=1)
    applies_to: list[str] = ["*"]
    raise_by: int = Field(1, ge=1, le=4)


class CompositeIndicator(IndicatorBase):
    kind: Literal["composite"]
    of: list[Slug] = []
    of_scenario: Slug | None = None
    min_distinct: int = Field(ge=2)
    window: Duration

    @model_validator(mode="after")
    def _source(self):
        if not self.of and not self.of_scenario:
            raise ValueError("give `of` (indicator ids) or `of_scenario`")
        return self


Indicator = Annotated[
    MatchIndicator
    | QuantityIndicator
    | NewEntityIndicator
    | CoordinationIndicator
    | RateIndicator
    | AbsenceIndicator
    | CalendarIndicator
    | CompositeIndicator,
    Field(discriminator="kind"),
]

ITEM_KINDS = ("match", "quantity", "new_entity")  # kinds that decide from one item alone
