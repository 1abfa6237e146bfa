"""Operator-edited YAML files (watchlists, sources): every problem as file:line:column.

An operator fixing a file by hand needs the place, not a traceback; this module turns YAML
syntax errors and pydantic validation errors alike into located ``Problem`` lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(slots=True)
class Problem:
    path: Path
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class YamlFileError(Exception):
    """One or more located problems; subclasses say which kind of file."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def yaml_files(location: Path) -> list[Path]:
    """The file itself, or every .yaml/.yml file under a folder, in a stable order."""
    if location.is_file():
        return [location]
    return sorted(p for p in location.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def read_yaml(path: Path, error: type[YamlFileError]) -> tuple[Any, yaml.Node | None]:
    """The parsed data and its node tree (for locating later errors), or ``error``."""
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise error([Problem(path, line, column, f"YAML syntax: {exc.problem}")]) from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise error([Problem(path, 1, 1, f"cannot read: {exc}")]) from exc
    return data, root


def node_at(node: yaml.Node, loc: tuple[Any, ...], at_key: bool = False) -> yaml.Node:
    """The YAML node a pydantic error location points at, as deep as it exists.

    ``at_key``: the last step into a mapping gives the key, so "unknown field" points at the
    field's name rather than its value.
    """
    for depth, key in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if k.value == key]
            if not match:
                return node
            node = match[0][0] if at_key and depth == len(loc) - 1 else match[0][1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            return node
    return node


def located(path: Path, root: yaml.Node, error: Mapping[str, Any]) -> Problem:
    """A pydantic validation error as a Problem at its line and column: the value that is
    wrong, or the name of a field that should not be there."""
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and "[" in p))  # tags
    message = error["msg"]
    mark = node_at(root, loc, at_key=error.get("type") == "extra_forbidden").start_mark
    where = ".".join(str(p) for p in loc) or "file"
    return Problem(path, mark.line + 1, mark.column + 1, f"{where}: {message}")
