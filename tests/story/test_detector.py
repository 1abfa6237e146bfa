"""Story decisions on short synthetic reports, through the real pipeline and model."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from monitor.config import StorySettings
from monitor.normalize.article import normalize
from monitor.parse.entry import Entry
from monitor.pipeline import Incoming, Pipeline
from monitor.store.models import AnchorStat, Item, Source
from monitor.story.embedding import Embedder, load_embedder

DAY = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)

QUAKE_EN = (
    "Magnitude 6.2 earthquake strikes Sumatra near Padang",
    "A magnitude 6.2 earthquake struck off the west coast of Sumatra on Friday, Indonesia's "
    "geophysics agency BMKG said. The quake hit 40 kilometres south-west of Padang at a depth "
    "of 10 kilometres. Residents of Padang fled their homes; no tsunami warning was issued.",
)
QUAKE_DE = (
    "Erdbeben der Stärke 6,2 erschüttert Sumatra bei Padang",
    "Ein Erdbeben der Stärke 6,2 hat am Freitag die Westküste Sumatras erschüttert, teilte die "
    "indonesische Behörde BMKG mit. Das Beben ereignete sich 40 Kilometer südwestlich von "
    "Padang in 10 Kilometern Tiefe. Bewohner von Padang flohen aus ihren Häusern; eine "
    "Tsunami-Warnung gab es nicht.",
)
QUAKE_CHILE = (
    "Magnitude 5.8 earthquake shakes central Chile near Talca",
    "A magnitude 5.8 earthquake shook central Chile on Friday, the national seismological "
    "centre CSN said. The quake was centred 25 kilometres east of Talca in the Maule region at "
    "a depth of 90 kilometres. Buildings swayed in Santiago; no damage was reported.",
)
MINISTER_TALKS = (
    "Bayramov and Mirzoyan meet in Geneva on peace treaty",
    "Azerbaijan's foreign minister Jeyhun Bayramov met his Armenian counterpart Ararat Mirzoyan "
    "in Geneva on Friday to discuss the text of the peace treaty and the opening of border "
    "crossings, the Azerbaijani foreign ministry said.",
)
MINISTER_MEDIA = (
    "Bayramov rejects European Parliament resolution on press freedom",
    "Azerbaijan's foreign minister Jeyhun Bayramov on Friday rejected a European Parliament "
    "resolution on the arrests of journalists of Abzas Media, calling it interference in the "
    "country's courts, in a statement to lawmakers in Baku.",
)
WIRE = (
    "BAKU, March 14 (Wire) - Azerbaijan's central bank kept its refinancing rate at 7.25 percent "
    "on Friday, citing slowing inflation and a stable manat, and said it expected annual "
    "inflation to stay within its target band of 4 percent plus or minus 2 points this year. "
    "Governor Taleh Kazimov told reporters the bank would review the rate again in April, "
    "adding that oil prices and the budget posed the main risks to the outlook."
)


def incoming(engine: Engine, key: str, title: str, text: str, day: datetime = DAY) -> Incoming:
    entry = Entry(key, f"https://{key}.example/news", title, text, "text", day)
    with Session(engine) as session:
        source = Source(key=key, kind="feed", name=key)
        session.add(source)
        session.commit()
        assert source.id is not None
        return Incoming(source.id, normalize(entry, now=DAY.replace(year=2026)))


def stories(pipeline: Pipeline, *reports: tuple[str, str]) -> list[int | None]:
    """Ingest the reports; the story of each, in order."""
    engine = pipeline.engine
    batch = [incoming(engine, f"s{n}", title, text) for n, (title, text) in enumerate(reports)]
    pipeline.ingest(batch)
    with Session(engine) as session:
        story_of = {i.external_id: i.story_id for i in session.exec(select(Item)).all()}
    return [story_of[f"s{n}"] for n in range(len(reports))]


def test_a_cross_lingual_pair_is_one_story(pipeline: Pipeline) -> None:
    english, german = stories(pipeline, QUAKE_EN, QUAKE_DE)
    assert english == german


def test_two_earthquakes_on_the_same_day_are_two_stories(pipeline: Pipeline) -> None:
    sumatra, chile = stories(pipeline, QUAKE_EN, QUAKE_CHILE)
    assert sumatra != chile


def test_two_statements_by_the_same_minister_are_two_stories(pipeline: Pipeline) -> None:
    # A monitor of Azerbaijan has seen the minister before: his name is common, not telling.
    background = [
        incoming(
            pipeline.engine,
            f"b{n}",
            f"Bayramov visits {place}",
            f"Azerbaijan's foreign minister Jeyhun Bayramov held talks in {place} on {topic}.",
            datetime(2024, 1 + n, 10, tzinfo=UTC),
        )
        for n, (place, topic) in enumerate(
            [
                ("Ankara", "energy transit"),
                ("Tashkent", "a railway corridor"),
                ("Brussels", "gas supplies to Europe"),
                ("Astana", "Caspian shipping"),
                ("Tbilisi", "border demarcation"),
                ("Rome", "oil exports"),
            ]
        )
    ]
    pipeline.ingest(background)
    talks, media = stories(pipeline, MINISTER_TALKS, MINISTER_MEDIA)
    assert talks != media


@pytest.mark.parametrize("with_model", [True, False])
def test_wire_copies_are_one_story(
    engine: Engine, embedder: Embedder | None, watchlists_dir: Path, with_model: bool
) -> None:
    pipeline = Pipeline(
        engine, StorySettings(), [], embedder if with_model else None, deliver=False
    )
    copy = WIRE.replace("(Wire)", "(Reuters)").replace(" this year.", " in 2025.")
    copy += "\n\nReporting by Nailia Bagirova; editing by Mark Potter."
    first, second = stories(
        pipeline,
        ("Azerbaijan central bank holds rate at 7.25%", WIRE),
        ("Central bank keeps key rate unchanged, sees inflation in band", copy),
    )
    assert first == second


def test_without_a_model_detection_degrades_to_anchors_and_says_so(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        embedder = load_embedder("no-such-model")
    assert embedder is None
    assert "using anchors only" in caplog.text
    pipeline = Pipeline(engine, StorySettings(), [], embedder, deliver=False)
    sumatra, chile, german = stories(pipeline, QUAKE_EN, QUAKE_CHILE, QUAKE_DE)
    assert sumatra == german != chile
    with Session(engine) as session:
        documents = session.get(AnchorStat, "")
        assert documents is not None and documents.docs == 3
