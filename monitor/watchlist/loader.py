"""Load watchlist files; every problem is reported as ``file:line:column: what is wrong``."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from monitor.watchlist.schema import Watchlist, reference_problems
from monitor.yamlfile import Problem, YamlFileError, located, read_yaml, yaml_files


class WatchlistError(YamlFileError):
    """Problems in watchlist files."""


watchlist_files = yaml_files


def load_file(path: Path) -> Watchlist:
    """Parse and validate one file, or raise WatchlistError naming where it is wrong."""
    data, root = read_yaml(path, WatchlistError)
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
        problems = [located(path, root, e) for e in errors]
        problems.sort(key=lambda p: (p.line, p.column))
        raise WatchlistError(problems) from exc


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
