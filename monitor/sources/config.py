"""Load source files; every problem is reported as ``file:line:column: what is wrong``.

The files say what to poll; the database keeps only per-source state (ETag, health,
schedule), keyed by URL, so editing a file never loses a source's history.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from monitor.yamlfile import Problem, YamlFileError, located, read_yaml, yaml_files

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> float:
    """Seconds from ``90``, ``"90s"``, ``"15m"``, ``"2h"`` or ``"1d"``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration (like 90, 90s, 15m, 2h, 1d)")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://\S+$", description="feed or page URL")
    kind: Literal["feed", "page"] = "feed"
    name: str | None = None
    language: str | None = Field(None, description="default language hint for its items")
    interval: float | None = Field(None, description="poll interval, seconds or 15m / 2h")
    headers: dict[str, str] = {}
    enabled: bool = True

    _duration = field_validator("interval", mode="before")(
        lambda v: None if v is None else parse_duration(v)
    )

    @property
    def display_name(self) -> str:
        return self.name or self.url


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[SourceConfig] = []


class SourcesError(YamlFileError):
    """Problems in sources files."""


source_files = yaml_files


def load_file(path: Path) -> list[SourceConfig]:
    data, root = read_yaml(path, SourcesError)
    if data is None:
        return []
    if not isinstance(data, dict) or root is None:
        raise SourcesError([Problem(path, 1, 1, "a sources file is a mapping with `sources:`")])
    try:
        return SourcesFile.model_validate(data).sources
    except ValidationError as exc:
        problems = [located(path, root, e) for e in exc.errors()]
        raise SourcesError(problems) from exc


def load_sources(location: Path) -> list[SourceConfig]:
    """Every source under a file or folder; all problems together, or none loaded."""
    if not location.exists():
        raise SourcesError([Problem(location, 1, 1, "no such sources file or folder")])
    sources: list[SourceConfig] = []
    problems: list[Problem] = []
    seen: dict[str, Path] = {}
    for path in source_files(location):
        try:
            loaded = load_file(path)
        except SourcesError as exc:
            problems.extend(exc.problems)
            continue
        for source in loaded:
            if source.url in seen:
                problems.append(
                    Problem(path, 1, 1, f"{source.url} is also listed in {seen[source.url]}")
                )
            seen[source.url] = path
            sources.append(source)
    if problems:
        raise SourcesError(problems)
    return sources
