"""The synthetic news world of bench/scale.py: the stored past and the feed polls to come.

Realistic where the pipeline's cost depends on it, cheap where it does not:

- names follow a Zipf law (a few actors in many reports, most in few), with a Cyrillic
  spelling each; every report names three to six of its event's actors;
- texts are sentences drawn from a pre-generated pool (word salad over a news vocabulary,
  each sentence naming one actor), so no two reports share more than a sentence or two and
  MinHash finds only the copies that are meant to be copies;
- an event is told by one to six outlets: the original, wire copies lightly edited,
  independent rewrites, Russian copies in Cyrillic; one event in six follows up a story
  stored in the last two days;
- the stream arrives as RSS 2.0 polls of 1–30 items from many sources, each item with a
  title, link, guid, pubDate, a description and an HTML ``content:encoded`` body
  (paragraphs, links, emphasis, a figure now and then) of 1,500–4,000 characters of text;
- vectors: each event has a centroid and each report a vector near it, about 0.87 cosine
  from the centroid and 0.75 from a sister report (a same-event pair as the model scores
  one). Centroids share a common direction and one of 30 topic directions, so reports of
  different events score what use-m3 gives unrelated news: about 0.14 on average, 0.35 to
  0.45 within a topic (measured on the SemEval dev articles: mean 0.144, p99 0.39). HNSW
  search costs more on structureless random vectors than on these.
"""

from __future__ import annotations

import html
import pickle
import random
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from itertools import cycle, islice
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from monitor.config import StorySettings
from monitor.story.anchors import anchors
from monitor.story.embedding import DIMENSIONS, ModelProcess
from monitor.story.window import minhash, signature_to_bytes

T = TypeVar("T")

Vector = npt.NDArray[np.float32]
Rows = dict[str, list[dict[str, Any]]]  # table name → rows to insert

SOURCES = 2000  # source ids 1..SOURCES; every sixth one is Russian-language
NAMES = 5000
ITEMS_PER_STORY = 3
NOISE = 0.025  # per dimension: report–centroid cosine ≈ 0.87, report–report ≈ 0.75
# The pipeline stores each item's MinHash; older items than this the story window never loads.
SIGNED = timedelta(days=2 * StorySettings().window_days + 2)
SHARED, TOPICAL, TOPICS_COUNT = 0.59, 0.69, 30  # unrelated reports ≈ 0.14 cosine on average
WATCHED_RANKS = (2, 5, 9, 17, 30, 55, 100, 180, 320, 600, 1100, 2000)  # Zipf ranks watched
# How many reports tell one event, and how the copies after the first are made.
TELLINGS = (1, 1, 1, 2, 2, 3, 4, 6)
COPIES = ("wire", "rewrite", "rewrite", "cyrillic")
# Watched topics, in a share of events and in no other text: keyword → (English, Russian).
TOPICS = {"sanctions": ("sanctions", "санкции"), "ceasefire": ("ceasefire", "перемирие")}
TOPIC_WEIGHTS = {None: 88, "sanctions": 8, "ceasefire": 4}  # percent of events
LATIN = "abdefgiklmnoprstuvz"
CYRILLIC = dict(zip(LATIN, "абдефгиклмнопрстувз", strict=True))
EN_WORDS = """
the said on in of to and a for with by at from that was were has have had will would
government minister officials reported talks border security agreement economy prices energy
gas oil parliament vote election court ruling protest police army
negotiations summit delegation statement spokesman according sources familiar matter week
year month region capital city province president prime foreign ministry defence interior
committee opposition party leader leaders coalition budget tax inflation bank central rates
investors markets shares company companies exports imports trade tariffs deal deals pipeline
grid power plant strike workers union wages hospital health vaccine outbreak school students
teachers flood storm drought wildfire earthquake rescue emergency crews residents villages
refugees aid convoy humanitarian agency united nations envoy mission troops drone attack
missile strikes shelling frontline offensive withdrawal prisoners exchange hostages release
arrest detained charged trial verdict sentence appeal prosecutor judge lawyers investigation
corruption scandal resignation reshuffle cabinet decree law bill amendment reform referendum
campaign poll polls turnout results count fraud observers monitors mayor governor council
district authorities local national international regional western eastern northern southern
cross talks resumed stalled collapsed signed rejected approved announced warned denied
confirmed accused blamed urged called demanded promised pledged vowed agreed expected
planned delayed postponed cancelled suspended resumed raised cut increased fell rose
percent million billion dollars euros roubles barrels tonnes late early overnight tuesday
monday wednesday thursday friday weekend morning evening days hours officials diplomats
analysts experts observers critics supporters residents witnesses media reporters
""".split()
RU_WORDS = """
и в на с по из за для что как это был была были будет заявил заявила сообщил сообщили
правительство министр министерство переговоры граница безопасность соглашение экономика
цены энергия газ нефть парламент голосование выборы суд решение протест полиция
армия саммит делегация заявление представитель источники неделя год месяц
регион столица область президент премьер глава комитет оппозиция партия лидер бюджет
налог инфляция банк ставка рынок компания экспорт импорт торговля пошлины сделка
трубопровод электростанция забастовка рабочие больница школа наводнение пожар
землетрясение спасатели жители беженцы помощь войска удар атака ракета обстрел пленные
обмен арест задержан обвинение приговор прокурор расследование коррупция отставка закон
реформа референдум кампания итоги наблюдатели губернатор власти вчера сегодня утром
вечером процентов миллионов миллиардов долларов рублей
""".split()
PARAGRAPH = (2, 4)  # sentences per paragraph


def unit(v: Vector) -> Vector:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def centroid(world: World) -> Vector:
    """An event's centroid: the news direction, its topic's, and its own (see the docstring)."""
    topic = world.topics[world.random.randrange(len(world.topics))]
    own = unit(world.rng.normal(0, 1, DIMENSIONS).astype(np.float32))
    return unit(SHARED * world.news + TOPICAL * topic + own)


def near(centroid: Vector, rng: np.random.Generator) -> Vector:
    """A report's vector: its event's centroid plus noise."""
    return unit(centroid + rng.normal(0, NOISE, DIMENSIONS).astype(np.float32))


def is_russian(source_id: int) -> bool:
    return source_id % 6 == 0


@dataclass(slots=True)
class Event:
    names: list[str]
    centroid: Vector


class World:
    """Names, their anchors and spellings, and the sentence pools, made once per seed."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.rng = np.random.default_rng(seed)
        syllables = [a + b for a in "bdgklmnprstvz" for b in "aeiou"]
        names = {
            "".join(self.random.choice(syllables) for _ in range(3)).capitalize()
            + self.random.choice(["ov", "ev", "in", "an", "ski", "ur"])
            for _ in range(NAMES * 2)
        }
        self.names = self.random.sample(sorted(names), NAMES)  # index = popularity rank
        self.popularity = np.cumsum(1 / np.arange(1, NAMES + 1) ** 0.8).tolist()
        self.cyrillic = {
            n: "".join(CYRILLIC.get(c, c) for c in n.lower()).capitalize() for n in self.names
        }
        self.pools = {"en": self._pool(EN_WORDS, 20_000), "ru": self._pool(RU_WORDS, 5_000)}
        self.sentence_chars = {k: np.mean([len(s) for s in p]) + 6 for k, p in self.pools.items()}
        self.watched = frozenset(self.names[rank] for rank in WATCHED_RANKS)
        self._anchors: dict[str, set[str]] = {}
        directions = unit(self.rng.normal(0, 1, (TOPICS_COUNT + 1, DIMENSIONS)).astype(np.float32))
        self.news, self.topics = directions[0], list(directions[1:])

    def reseed(self, seed: int) -> None:
        """Start the random draws over, keeping the names and the pools."""
        self.random = random.Random(seed)
        self.rng = np.random.default_rng(seed)

    def _pool(self, words: list[str], size: int) -> list[str]:
        """Sentence templates, words drawn from a Zipf law, one ``%s`` slot for a name."""
        weights = np.cumsum(1 / np.arange(1, len(words) + 1)).tolist()
        pool = []
        for _ in range(size):
            sentence = self.random.choices(words, cum_weights=weights, k=self.random.randint(8, 20))
            sentence[0] = sentence[0].capitalize()
            sentence.insert(self.random.randint(1, len(sentence)), "%s")
            pool.append(" ".join(sentence) + ".")
        return pool

    def pick(self, k: int) -> list[str]:
        """``k`` different names, the popular ones more often."""
        found: dict[str, None] = {}
        while len(found) < k:
            found.update(
                dict.fromkeys(self.random.choices(self.names, cum_weights=self.popularity, k=k))
            )
        return list(found)[:k]

    def anchors_of(self, names: list[str]) -> set[str]:
        """The name anchors the pipeline finds for these names, in either script."""
        found: set[str] = set()
        for name in names:
            if name not in self._anchors:
                self._anchors[name] = anchors("", f"x {name}")
            found |= self._anchors[name]
        return found

    def _templates(self, chars: int, language: str) -> tuple[str, ...]:
        k = max(2, round(chars / self.sentence_chars[language]))  # itemgetter of 2+: a tuple
        pool = self.pools[language]
        return itemgetter(*self.rng.integers(len(pool), size=k).tolist())(pool)

    def _spelled(self, names: list[str], language: str) -> list[str]:
        return names if language == "en" else [self.cyrillic[n] for n in names]

    def sentences(self, names: list[str], chars: int, language: str) -> list[str]:
        """About ``chars`` characters of text naming each of ``names`` in turn."""
        spelled = self._spelled(names, language)
        templates = self._templates(chars, language)
        return [t % spelled[i % len(spelled)] for i, t in enumerate(templates)]

    def text(self, names: list[str], chars: int, language: str) -> str:
        """``sentences`` joined, made in one formatting call: the bulk load makes millions."""
        templates = self._templates(chars, language)
        spelled = self._spelled(names, language)
        return " ".join(templates) % tuple(islice(cycle(spelled), len(templates)))

    def title(self, names: list[str], language: str) -> str:
        words = self.random.choices(EN_WORDS if language == "en" else RU_WORDS, k=6)
        first, second = (n if language == "en" else self.cyrillic[n] for n in names[:2])
        return " ".join([first, *words[:3], second, *words[3:]])


def sources(created: datetime) -> list[dict[str, Any]]:
    return [
        {"id": s, "key": feed_url(s), "kind": "feed", "name": f"Outlet {s}"}
        | {"url": f"https://src{s}.test/", "language_hint": "ru" if is_russian(s) else "en"}
        | {"consecutive_failures": 0, "items_seen": 0, "created_at": created}
        for s in range(1, SOURCES + 1)
    ]


def feed_url(source_id: int) -> str:
    return f"https://src{source_id}.test/feed.xml"


class StoredPast:
    """The store before the stream: ``size`` items at ``rate`` a day up to ``start``, in
    stories of three, with anchors, anchor counts, vectors, and a sent alert on every story
    that names a watched actor (so follow-ups queue alert updates, as they do live)."""

    def __init__(self, world: World, size: int, start: datetime, rate: float) -> None:
        self.world, self.size, self.start = world, size, start
        self.span = timedelta(days=size / rate)
        self.recent: list[Event] = []  # stories of the last two days, for follow-ups
        self.anchor_docs: Counter[str] = Counter({"": size})  # "": the document count
        self.items = 0

    def chunks(self, stories: int = 2000) -> Iterator[Rows]:
        total = -(-self.size // ITEMS_PER_STORY)
        for first in range(1, total + 1, stories):
            rows: Rows = {"story": [], "item": [], "storyanchor": [], "alert": []}
            for story_id in range(first, min(total, first + stories - 1) + 1):
                self._story(rows, story_id, self.start - self.span * (1 - story_id / total))
            yield rows
        yield {"anchorstat": [{"anchor": a, "docs": n} for a, n in self.anchor_docs.items()]}

    def _story(self, rows: Rows, story_id: int, at: datetime) -> None:
        world = self.world
        names = world.pick(4)
        count = min(ITEMS_PER_STORY, self.size - self.items)
        story_anchors = sorted(world.anchors_of(names))
        event_centroid = centroid(world)
        if self.start - at < timedelta(days=2):
            self.recent.append(Event(names, event_centroid))
        rows["story"].append(
            {"id": story_id, "title": world.title(names, "en"), "first_published": at}
            | {"last_published": at, "first_seen": at, "updated_at": at}
            | {"item_count": count}
        )
        for a in story_anchors:
            rows["storyanchor"].append({"story_id": story_id, "anchor": a, "at": at})
            self.anchor_docs[a] += count
        if world.watched.intersection(names):
            rows["alert"].append(
                {"story_id": story_id, "watchlist": "bench", "rule": "people"}
                | {"channel": "console", "state": "sent", "created": at, "delivered": at}
            )
        noise = world.rng.normal(0, NOISE, (count, DIMENSIONS)).astype(np.float32)
        vectors = unit(event_centroid + noise)
        for vector in vectors:
            self.items += 1
            item = self._item(self.items, story_id, names, at)
            item["embedding"] = vector.tobytes()
            if self.start - at < SIGNED:  # the story window loads these: sign them as stored
                signature = minhash(item["title"], item["text"])
                item["signature"] = signature_to_bytes(signature) if signature else None
            item["anchors"] = " ".join(story_anchors)
            rows["item"].append(item)

    def _item(self, item_id: int, story_id: int, names: list[str], at: datetime) -> dict[str, Any]:
        world = self.world
        source_id = world.random.randint(1, SOURCES)
        language = "ru" if is_russian(source_id) else "en"
        url = f"https://src{source_id}.test/archive/{item_id}"
        return {
            "id": item_id,
            "source_id": source_id,
            "external_id": url,
            "canonical_url": url,
            "content_hash": f"{world.random.getrandbits(128):032x}",
            "url": url,
            "title": world.title(names, language),
            "text": world.text(names, world.random.randint(1500, 4000), language),
            "language": language,
            "outlet": f"Outlet {source_id}",
            "published": at,
            "published_kind": "source",
            "first_seen": at + timedelta(minutes=10),
            "story_id": story_id,
            "signature": None,
        }


@dataclass(slots=True)
class Report:
    at: datetime
    language: str
    title: str
    sentences: list[str]


@dataclass(slots=True)
class Poll:
    """One feed document as fetched: the bytes the worker has in hand."""

    source_id: int
    url: str
    body: bytes
    items: int


@dataclass(slots=True)
class Stream:
    polls: list[Poll]
    titles: dict[str, int]  # report title → its event's row in centroids
    centroids: Vector

    @property
    def items(self) -> int:
        return sum(p.items for p in self.polls)

    def save(self, path: Path) -> None:
        """One pickle per poll, so that a worker holds only its share in memory."""
        with path.open("wb") as file:
            pickle.dump((self.titles, self.centroids, len(self.polls)), file)
            for poll in self.polls:
                pickle.dump(poll, file)

    @classmethod
    def share(cls, path: Path, index: int, workers: int) -> Stream:
        """Worker ``index``'s polls of a saved stream: poll i goes to worker i mod workers."""
        polls = []
        with path.open("rb") as file:
            titles, centroids, count = pickle.load(file)
            for i in range(count):
                poll = pickle.load(file)
                if i % workers == index:
                    polls.append(poll)
        return cls(polls, titles, centroids)


def make_stream(
    world: World, count: int, start: datetime, rate: float, recent: list[Event]
) -> Stream:
    """``count`` reports published after ``start`` at ``rate`` a day, as feed polls."""
    reports: list[Report] = []
    titles: dict[str, int] = {}
    centroids: list[Vector] = []
    r, step = world.random, timedelta(days=1) / rate
    while len(reports) < count:
        if recent and r.random() < 1 / 6:
            event = r.choice(recent)
        else:
            event = Event(world.pick(r.randint(3, 6)), centroid(world))
        centroids.append(event.centroid)
        topic = r.choices(list(TOPIC_WEIGHTS), list(TOPIC_WEIGHTS.values()))[0]
        for report in tellings(world, event.names, topic):
            report.at = start + step * len(reports) + timedelta(minutes=r.randint(0, 90))
            titles.setdefault(report.title, len(centroids) - 1)
            reports.append(report)
    return Stream(polls(world, reports[:count]), titles, np.stack(centroids))


def tellings(world: World, names: list[str], topic: str | None) -> list[Report]:
    """An event as one to six outlets tell it, naming its topic if it has one in its lead;
    ``at`` is set by the caller."""
    r = world.random
    title = world.title(names, "en")
    original = story_text(world, names, topic, "en")
    told = [Report(datetime.min, "en", title, original)]
    for _ in range(r.choice(TELLINGS) - 1):
        kind = r.choice(COPIES)
        if kind == "wire":  # another outlet's edit: a sentence changed, a closing line added
            edited = original + world.sentences(names, 150, "en")
            edited[r.randrange(3, len(original))] = world.sentences(names, 100, "en")[0]
            told.append(Report(datetime.min, "en", title, edited))
        else:
            language = "ru" if kind == "cyrillic" else "en"
            text = story_text(world, names, topic, language)
            told.append(Report(datetime.min, language, world.title(names, language), text))
    return told


def story_text(world: World, names: list[str], topic: str | None, language: str) -> list[str]:
    """1,500–4,000 characters of sentences; the topic, if any, in one of the first three."""
    sentences = world.sentences(names, world.random.randint(1500, 4000), language)
    if topic is not None:
        i = world.random.randrange(3)
        sentences[i] = sentences[i].replace(" ", f" {TOPICS[topic][language == 'ru']} ", 1)
    return sentences


def polls(world: World, reports: list[Report]) -> list[Poll]:
    """Reports in publication order, served by feeds of their language, 1–30 a poll."""
    r = world.random
    queues = {
        language: deque(sorted((p for p in reports if p.language == language), key=lambda p: p.at))
        for language in ("en", "ru")
    }
    outlets = {
        language: [s for s in range(1, SOURCES + 1) if is_russian(s) == (language == "ru")]
        for language in ("en", "ru")
    }
    found, served = [], 0
    while queues["en"] or queues["ru"]:
        language = r.choices(["en", "ru"], weights=[len(queues["en"]), len(queues["ru"])])[0]
        size = min(30, max(1, round(r.lognormvariate(1.2, 0.9))), len(queues[language]))
        items = [queues[language].popleft() for _ in range(size)]
        source = r.choice(outlets[language])
        body = rss(world, source, language, items, first=served)
        found.append(Poll(source, feed_url(source), body, size))
        served += size
    return found


def rss(world: World, source: int, language: str, items: list[Report], first: int) -> bytes:
    site = f"https://src{source}.test"
    entries = []
    for n, item in enumerate(items, first):
        link = f"{site}/news/{item.at:%Y/%m/%d}/{n}.html"
        entries.append(
            f"<item><title>{html.escape(item.title)}</title><link>{link}</link>"
            f'<guid isPermaLink="true">{link}</guid>'
            f"<pubDate>{format_datetime(item.at, usegmt=True)}</pubDate>"
            f"<category>World</category><description>{html.escape(item.sentences[0])}</description>"
            f"<content:encoded><![CDATA[{body_html(world, site, item.sentences)}]]>"
            "</content:encoded></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Outlet {source}</title><link>{site}/</link><description>News</description>"
        f"<language>{language}</language>"
        f"<lastBuildDate>{format_datetime(items[-1].at, usegmt=True)}</lastBuildDate>"
        f"{''.join(entries)}</channel></rss>"
    ).encode()


def body_html(world: World, site: str, sentences: list[str]) -> str:
    """Paragraphs of a few sentences; a word linked or emphasized here and there; a figure
    above one article in four."""
    r = world.random
    out = []
    if r.random() < 0.25:
        out.append(
            f'<figure><img src="{site}/img/{r.getrandbits(32):x}.jpg" alt="">'
            f"<figcaption>{sentences[-1]}</figcaption></figure>"
        )
    i = 0
    while i < len(sentences):
        k = r.randint(*PARAGRAPH)
        words = " ".join(sentences[i : i + k]).split(" ")
        w = r.randrange(len(words))
        if r.random() < 0.4:
            words[w] = f'<a href="{site}/topic/{w}">{words[w]}</a>'
        elif r.random() < 0.3:
            words[w] = f"<em>{words[w]}</em>"
        out.append(f"<p>{' '.join(words)}</p>")
        i += k
    return "\n".join(out)


def watchlist(world: World) -> str:
    """A team's watchlist over this world: a dozen actors across the popularity ranks (with
    their Cyrillic spellings) and two keywords, in three rules that alert on the console."""
    actors = "\n".join(
        f"  - name: {name}\n    aliases: [{world.cyrillic[name]}]" for name in sorted(world.watched)
    )
    people = ", ".join(sorted(world.watched))
    return f"""version: 1
description: bench/scale.py's watchlist over its synthetic world
actors:
{actors}
keywords:
  - name: sanctions
    terms: [sanctions, санкции]
  - name: ceasefire
    terms: [ceasefire, перемирие]
rules:
  - name: people
    any: [{people}]
    channels: [console]
  - name: people-sanctions
    all: [sanctions]
    any: [{people}]
    severity: warning
    channels: [console]
  - name: ceasefire
    all: [ceasefire]
    severity: critical
    channels: [console]
"""


class EventVectors:
    """The embedder the pipeline is given: it runs the real model, when there is one, on the
    real texts and pays its full cost, but returns each report's synthetic vector (found by
    the report's title), so that story detection sees realistic geometry. The model's own
    vectors of word-salad texts would be close to one another and merge every story."""

    def __init__(self, stream: Stream, model: Any, seed: int) -> None:
        self.name = "use-m3 (cost only)" if model is not None else "precomputed"
        self.model = model
        self.titles, self.centroids = stream.titles, stream.centroids
        self.rng = np.random.default_rng(seed)
        self.misses = 0  # texts whose title the stream does not know: unrelated vectors

    def run(self, function: Callable[..., T], *args: Any) -> T:
        """The model's process runs the pipeline's other CPU-bound stages (``OwnProcess``)."""
        if isinstance(self.model, ModelProcess):
            return self.model.run(function, *args)
        return function(*args)

    def encode(self, texts: list[str]) -> Vector:
        if self.model is not None:
            self.model.encode(texts)  # the true cost; the vectors are not used
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for i, text in enumerate(texts):
            event = self.titles.get(text.split("\n", 1)[0])
            if event is None:
                self.misses += 1
                out[i] = unit(self.rng.normal(0, 1, DIMENSIONS).astype(np.float32))
            else:
                out[i] = near(self.centroids[event], self.rng)
        return out
