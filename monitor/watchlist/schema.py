"""The watchlist file format (``version: 1``); README documents it with a full example."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Severity = Literal["info", "warning", "critical"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Actor(_Strict):
    """A person, organisation or place, under every spelling."""

    name: str = Field(min_length=1)
    aliases: list[str] = []
    type: Literal["person", "organisation", "place"] = "person"
    # "Aliyev" alone may be several people: then only "Ilham Aliyev" or "I. Aliyev" match.
    require_first_name: bool = False
    fuzzy: bool = True


class Keyword(_Strict):
    """A term in several languages; inflected forms and phrases match too."""

    name: str = Field(min_length=1)
    terms: list[str] = Field(min_length=1)
    case_sensitive: bool = False
    regex: bool = False


class Rule(_Strict):
    """When a story alerts: references to actor and keyword names."""

    name: str = Field(min_length=1)
    all: list[str] = []
    any: list[str] = []
    none: list[str] = []
    severity: Severity = "info"
    channels: list[str] = ["console"]
    # One grouped message per window listing the rule's stories, instead of one per story.
    digest: Literal["hourly", "daily"] | None = None

    @model_validator(mode="after")
    def _something_to_match(self) -> Rule:
        if not (self.all or self.any):
            raise ValueError("a rule needs `all` or `any`")
        return self


class Watchlist(_Strict):
    version: Literal[1]
    name: str | None = None
    description: str = ""
    actors: list[Actor] = []
    keywords: list[Keyword] = []
    rules: list[Rule] = []

    @model_validator(mode="after")
    def _references_exist(self) -> Watchlist:
        known = {a.name for a in self.actors} | {k.name for k in self.keywords}
        for rule in self.rules:
            for ref in (*rule.all, *rule.any, *rule.none):
                if ref not in known:
                    raise ValueError(
                        f"rule {rule.name!r} names {ref!r}, no actor or keyword of that name"
                    )
        return self

    def effective_rules(self) -> list[Rule]:
        """The rules; a watchlist without rules alerts on any of its actors or keywords."""
        if self.rules:
            return self.rules
        names = [a.name for a in self.actors] + [k.name for k in self.keywords]
        return [Rule(name="any", any=names)] if names else []
