"""Load source files; every problem is reported as ``file:line:column: what is wrong``.

The files say what to poll; the database keeps only per-source state (ETag, health,
schedule), keyed by URL, so editing a file never loses a source's history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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


@dataclass(slots=True)
class Problem:
    path: Path
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class SourcesError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def source_files(location: Path) -> list[Path]:
    if location.is_file():
        return [location]
    return sorted(p for p in location.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _node_at(node: yaml.Node, loc: tuple[Any, ...]) -> yaml.Node:
    """The YAML node a pydantic error location points at, as deep as it exists."""
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            found = [v for k, v in node.value if k.value == key]
            if not found:
                return node
            node = found[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            return node
    return node


def load_file(path: Path) -> list[SourceConfig]:
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise SourcesError([Problem(path, line, column, f"YAML syntax: {exc.problem}")]) from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SourcesError([Problem(path, 1, 1, f"cannot read: {exc}")]) from exc
    if data is None:
        return []
    if not isinstance(data, dict) or root is None:
        raise SourcesError([Problem(path, 1, 1, "a sources file is a mapping with `sources:`")])
    try:
        return SourcesFile.model_validate(data).sources
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            mark = _node_at(root, loc).start_mark
            where = ".".join(str(p) for p in loc)
            problems.append(
                Problem(path, mark.line + 1, mark.column + 1, f"{where}: {error['msg']}")
            )
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
