"""Every problem in every file, each as file:line:column, and none loaded if any."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.watchlist.loader import WatchlistError, load_watchlists

GOOD = """version: 1
actors:
  - name: Ramiz Mehdiyev
keywords:
  - name: coup
    terms: [coup, darbe]
rules:
  - name: mehdiyev
    any: [Ramiz Mehdiyev]
"""


def problems(folder: Path) -> list[str]:
    with pytest.raises(WatchlistError) as caught:
        load_watchlists(folder)
    return [str(p).removeprefix(f"{folder}/") for p in caught.value.problems]


def test_good_file_loads_with_its_stem_as_name(tmp_path: Path) -> None:
    (tmp_path / "baku.yaml").write_text(GOOD)
    [watchlist] = load_watchlists(tmp_path)
    assert watchlist.name == "baku"


def test_each_problem_is_located(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        GOOD.replace("any: [Ramiz Mehdiyev]", "any: [Ramiz Mehdiyev, Mekhtiyev]\n    within: 0")
        + "  - name: mehdiyev\n    all: [coup]\n    colour: red\n"
    )
    (tmp_path / "b.yaml").write_text(
        "version: 1\nkeywords:\n  - name: x\n    terms: ['(']\n    regex: true\n"
    )
    (tmp_path / "c.yaml").write_text("version: 1\nactors: [\n")
    assert problems(tmp_path) == [
        "a.yaml:9:27: rules.0.any.1: rule 'mehdiyev' names 'Mekhtiyev', "
        "no actor or keyword of that name",
        "a.yaml:10:13: rules.0.within: Input should be greater than or equal to 1",
        "a.yaml:11:11: rules.1.name: a second rule named 'mehdiyev'",
        "a.yaml:13:5: rules.1.colour: Extra inputs are not permitted",
        "b.yaml:3:5: keywords.0: Value error, term '(' is not a regular expression: "
        "missing ), unterminated subpattern at position 0",
        "c.yaml:3:1: YAML syntax: expected the node content, but found '<stream end>'",
    ]


def test_duplicates_and_version(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD + "  - name: mehdiyev\n    any: [coup]\n")
    (tmp_path / "b.yaml").write_text(GOOD.replace("version: 1", "version: 2"))
    found = problems(tmp_path)
    assert found[0] == "a.yaml:10:11: rules.1.name: a second rule named 'mehdiyev'"
    assert found[1].startswith("b.yaml:1:10: version: Input should be 1")


def test_the_documented_example_is_valid(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("\n## Watchlists\n", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "azerbaijan-russia.yaml").write_text(example, encoding="utf-8")
    [watchlist] = load_watchlists(tmp_path)
    assert len(watchlist.actors) == 5 and len(watchlist.rules) == 3
