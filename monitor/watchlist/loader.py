"""Load watchlist files; every problem is reported as ``file:line:column: what is wrong``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from monitor.watchlist.schema import Watchlist, reference_problems


@dataclass(slots=True)
class Problem:
    path: Path
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class WatchlistError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def watchlist_files(location: Path) -> list[Path]:
    if location.is_file():
        return [location]
    return sorted(p for p in location.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _node_at(node: yaml.Node, loc: tuple[Any, ...]) -> yaml.Node:
    """The YAML node a pydantic error location points at, as deep as it exists.

    The last step into a mapping gives the key, so "unknown field" points at the field name.
    """
    for depth, key in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if k.value == key]
            if not match:
                return node
            node = match[0][0] if depth == len(loc) - 1 else match[0][1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            return node
    return node


def load_file(path: Path) -> Watchlist:
    """Parse and validate one file, or raise WatchlistError naming where it is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise WatchlistError([Problem(path, line, column, f"YAML syntax: {exc.problem}")]) from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise WatchlistError([Problem(path, 1, 1, f"cannot read: {exc}")]) from exc
    if not isinstance(data, dict) or root is None:
        raise WatchlistError([Problem(path, 1, 1, "a watchlist is a mapping with `version: 1`")])
    data.setdefault("name", path.stem)
    try:
        return Watchlist.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        if not any(e["type"] == "watchlist" for e in errors):  # the model check did not run
            errors += ValidationError.from_exception_data(
                "Watchlist", reference_problems(data)
            ).errors()
        problems = [_located(path, root, e["loc"], e["msg"]) for e in errors]
        problems.sort(key=lambda p: (p.line, p.column))
        raise WatchlistError(problems) from exc


def _located(path: Path, root: yaml.Node, loc: tuple[Any, ...], message: str) -> Problem:
    loc = tuple(p for p in loc if not (isinstance(p, str) and "[" in p))
    mark = _node_at(root, loc).start_mark
    where = ".".join(str(p) for p in loc) or "file"
    return Problem(path, mark.line + 1, mark.column + 1, f"{where}: {message}")


def load_watchlists(location: Path) -> list[Watchlist]:
    """All watchlists under a folder (or one file); all problems together, or none loaded."""
    if not location.exists():
        raise WatchlistError([Problem(location, 1, 1, "no such watchlist file or folder")])
    watchlists, problems = [], []
    for path in watchlist_files(location):
        try:
            watchlists.append(load_file(path))
        except WatchlistError as exc:
            problems.extend(exc.problems)
    names = [w.name for w in watchlists]
    for name in {n for n in names if names.count(n) > 1}:
        problems.append(Problem(location, 1, 1, f"two watchlists are named {name!r}"))
    if problems:
        raise WatchlistError(problems)
    return watchlists
