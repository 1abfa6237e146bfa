"""The watchlist file format (`version: 1`); the README has a full example."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

Severity = Literal["info", "warning", "critical"]

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$")
_DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _duration(value: object) -> object:
    """``90m``, ``36h``, ``2d``, ``1w``: how operators write an age, not ISO 8601."""
    if isinstance(value, str):
        found = _DURATION_RE.match(value)
        if not found:
            raise ValueError("a duration is a number and a unit: 90m, 36h, 2d, 1w")
        return timedelta(**{_DURATION_UNITS[found[2]]: float(found[1])})
    return value


def _utc(value: datetime) -> datetime:
    """A date means its midnight UTC; a time without zone is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _problem(
    loc: tuple[str | int, ...], name: str, message: str, rule: object = None
) -> InitErrorDetails:
    error = PydanticCustomError("watchlist", message, {"name": name, "rule": rule})
    return InitErrorDetails(type=error, loc=loc, input=name)


Duration = Annotated[timedelta, BeforeValidator(_duration)]
Moment = Annotated[datetime, AfterValidator(_utc)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Actor(_Strict):
    """A person, organisation or place, under every spelling."""

    name: str = Field(min_length=1)
    aliases: list[str] = []
    type: Literal["person", "organisation", "place"] = "person"
    # "Aliyev" alone may be several people: then only "Ilham Aliyev" or "I. Aliyev" match.
    require_first_name: bool = False
    # Whether an initial ("I. Aliyev") counts as the first name.
    initials: bool = True
    # Whether close spellings nobody listed (one letter off) match, with their score.
    fuzzy: bool = True


class Keyword(_Strict):
    """A term in several languages; inflected forms and phrases match too."""

    name: str = Field(min_length=1)
    terms: list[str] = Field(min_length=1)
    case_sensitive: bool = False
    # Turkish and Russian endings on the last word: darbe → darbeyi, переворот → переворота.
    inflect: bool = True
    regex: bool = False

    @model_validator(mode="after")
    def _terms_compile(self) -> Keyword:
        for term in self.terms:
            if not term.strip():
                raise ValueError("an empty term would match everything")
            if self.regex:
                try:
                    re.compile(term)
                except re.error as exc:
                    raise ValueError(f"term {term!r} is not a regular expression: {exc}") from exc
        return self


class Rule(_Strict):
    """When a report alerts: references to actor and keyword names, and filters."""

    name: str = Field(min_length=1)
    all: list[str] = []
    any: list[str] = []
    none: list[str] = []
    # Proximity: the matches that satisfy `all` and `any` are this close (in words), or in
    # one sentence. `none` applies to the whole report.
    within: int | None = Field(None, ge=1)
    same_sentence: bool = False
    # Filters on the report: languages (ISO 639-1), sources (glob patterns on the source's
    # name, key, outlet or URL host), publication time, and age when first seen.
    languages: list[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]] = []
    sources: list[str] = []
    after: Moment | None = None
    before: Moment | None = None
    max_age: Duration | None = None
    # Matches scoring below this (fuzzy spellings) do not count.
    min_score: float = Field(0.0, ge=0.0, le=1.0)
    severity: Severity = "info"
    channels: list[str] = ["console"]
    # One grouped message per window listing the rule's stories, instead of one per story.
    digest: Literal["hourly", "daily"] | None = None

    @model_validator(mode="after")
    def _something_to_match(self) -> Rule:
        if not (self.all or self.any):
            raise ValueError("a rule needs `all` or `any`")
        if self.after and self.before and self.after >= self.before:
            raise ValueError("`after` must be earlier than `before`")
        return self

    def references(self) -> list[str]:
        return [*self.all, *self.any, *self.none]


class Watchlist(_Strict):
    version: Literal[1]
    name: str | None = None
    description: str = ""
    actors: list[Actor] = []
    keywords: list[Keyword] = []
    rules: list[Rule] = []

    @model_validator(mode="after")
    def _names_unique_and_references_exist(self) -> Watchlist:
        problems = reference_problems(self.model_dump(include={"actors", "keywords", "rules"}))
        if problems:
            raise ValidationError.from_exception_data("Watchlist", problems)
        return self

    def effective_rules(self) -> list[Rule]:
        """The rules; a watchlist without rules alerts on any of its actors or keywords."""
        if self.rules:
            return self.rules
        names = [a.name for a in self.actors] + [k.name for k in self.keywords]
        return [Rule(name="any", any=names)] if names else []


def reference_problems(data: object) -> list[InitErrorDetails]:
    """Duplicate names and rules naming what does not exist, each located at the name.

    Works on raw YAML data too, so that a file with other errors reports these as well."""
    body = data if isinstance(data, dict) else {}

    def entries(section: str) -> list[tuple[int, dict[str, Any]]]:
        items = body.get(section)
        return [(i, e) for i, e in enumerate(items or []) if isinstance(e, dict)]

    problems: list[InitErrorDetails] = []
    seen: set[str] = set()
    for section in ("actors", "keywords"):
        for i, entry in entries(section):
            name = entry.get("name")
            if isinstance(name, str) and name in seen:
                problems.append(_problem((section, i, "name"), name, "'{name}' is named twice"))
            seen.add(str(name))
    rule_names: set[str] = set()
    for i, rule in entries("rules"):
        name = rule.get("name")
        if isinstance(name, str) and name in rule_names:
            problems.append(_problem(("rules", i, "name"), name, "a second rule named '{name}'"))
        rule_names.add(str(name))
        for field in ("all", "any", "none"):
            refs = rule.get(field)
            for j, ref in enumerate(refs if isinstance(refs, list) else []):
                if isinstance(ref, str) and ref not in seen:
                    message = "rule '{rule}' names '{name}', no actor or keyword of that name"
                    problems.append(_problem(("rules", i, field, j), ref, message, name))
    return problems
