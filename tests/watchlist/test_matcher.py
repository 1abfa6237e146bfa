"""Spelling families match their actor, with the reason recorded; look-alikes do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.textfold import fold
from monitor.watchlist.loader import load_watchlists
from monitor.watchlist.matcher import FUZZY_MIN_SCORE, Hit, Matcher
from monitor.watchlist.schema import Watchlist


def watchlist(**body: object) -> Watchlist:
    return Watchlist.model_validate({"version": 1, "name": "t", **body})


@pytest.fixture(scope="module")
def people() -> Matcher:
    """One Latin and one Cyrillic spelling each, as the example watchlist has them."""
    return Matcher(
        [
            watchlist(
                actors=[
                    {"name": "Ramiz Mehdiyev", "aliases": ["Рамиз Мехтиев"]},
                    {
                        "name": "Ilham Aliyev",
                        "aliases": ["Ильхам Алиев"],
                        "require_first_name": True,
                    },
                    {"name": "Dushanbe", "type": "place"},
                    {"name": "Mahmudov"},
                    {"name": "Rossotrudnichestvo", "type": "organisation"},
                ]
            )
        ]
    )


def actors(matcher: Matcher, text: str) -> list[tuple[str, str, str]]:
    return [(h.name, h.term, h.method) for h in matcher.find(text) if h.kind == "actor"]


def only(matcher: Matcher, text: str) -> Hit:
    hits = matcher.find(text)
    assert len(hits) == 1, hits
    return hits[0]


@pytest.mark.parametrize(
    ("text", "term", "method"),
    [
        ("Prosecutors charged Mehdiyev with treason.", "Mehdiyev", "alias"),
        ("Moscow passed details of a plot by Mekhtiyev.", "Mekhtiyev", "folded"),
        ("Azərbaycan mətbuatı Mehtiyev barədə yazır.", "Mehtiyev", "folded"),
        ("Former chief of staff Mekhtiev was detained.", "Mekhtiev", "folded"),
        ("В Баку задержан Мехтиев.", "Мехтиев", "alias"),
        ("Суд арестовал Мехтиева на четыре месяца.", "Мехтиева", "folded"),
        ("Mehdiyevin evində axtarış aparılıb.", "Mehdiyevin", "folded"),
        ("Mehdiyev'in avukatı açıklama yaptı.", "Mehdiyev'in", "alias"),
        ("Kremlin'in uyarısı sonrası Mekhtiyev’in rolü soruldu.", "Mekhtiyev’in", "folded"),
        ("Ramiz Mekhtiyev planned to seize power.", "Ramiz Mekhtiyev", "folded"),
        ("After R. Mehdiyev's dismissal, his supporters left.", "R. Mehdiyev's", "alias"),
        ("Бывший глава администрации Рамиз Мехтиев задержан.", "Рамиз Мехтиев", "alias"),
    ],
)
def test_mehdiyev_family(people: Matcher, text: str, term: str, method: str) -> None:
    hit = only(people, text)
    assert (hit.name, hit.term, hit.method, hit.score) == ("Ramiz Mehdiyev", term, method, 1.0)
    assert text[hit.start : hit.end] == term
    assert term in hit.snippet
    assert hit.listed in ("Ramiz Mehdiyev", "Рамиз Мехтиев")


@pytest.mark.parametrize(
    ("text", "term", "method"),
    [
        ("Azerbaijani President Ilham Aliyev met Putin.", "Ilham Aliyev", "alias"),
        ("Prezident İlham Əliyev bildirib.", "İlham Əliyev", "folded"),
        ("İLHAM ƏLİYEV", "İLHAM ƏLİYEV", "folded"),
        ("Putin, Azerbaycan Cumhurbaşkanı İlham Aliyev’i uyardı.", "İlham Aliyev’i", "folded"),
        ("Putin called I. Aliyev twice.", "I. Aliyev", "alias"),
        ("Путин встретился с Ильхамом Алиевым.", "Ильхамом Алиевым", "folded"),
        ("Президент Ильхам Алиев заявил", "Ильхам Алиев", "alias"),
    ],
)
def test_aliyev_with_first_name_or_initial(
    people: Matcher, text: str, term: str, method: str
) -> None:
    hit = only(people, text)
    assert (hit.name, hit.term, hit.method) == ("Ilham Aliyev", term, method)


def test_turkish_dotted_capital_i_folds_without_a_combining_dot() -> None:
    assert "İlham".lower() != "ilham"  # the pitfall: a combining dot stays
    assert fold("İlham") == "ilham"


@pytest.mark.parametrize(
    "text",
    [
        "President Aliyev said the talks went well.",  # which Aliyev?
        "Heydar Aliyev ruled until 2003.",
        "Mehriban Aliyeva is the first vice-president.",
        "Aliyev'in açıklaması",
        "E. Aliyev was appointed.",  # another initial
    ],
)
def test_aliyev_alone_is_not_ilham_aliyev_when_a_first_name_is_required(
    people: Matcher, text: str
) -> None:
    assert actors(people, text) == []


def test_initials_can_be_refused() -> None:
    matcher = Matcher(
        [
            watchlist(
                actors=[{"name": "Ilham Aliyev", "require_first_name": True, "initials": False}]
            )
        ]
    )
    assert actors(matcher, "Putin called I. Aliyev twice.") == []
    assert actors(matcher, "Putin called Ilham Aliyev twice.") != []


def test_another_watched_first_name_takes_the_surname() -> None:
    matcher = Matcher([watchlist(actors=[{"name": "Ilham Aliyev"}, {"name": "Heydar Aliyev"}])])
    assert actors(matcher, "Heydar Aliyev ruled until 2003.") == [
        ("Heydar Aliyev", "Heydar Aliyev", "alias")
    ]
    # No first name written: either may be meant, both are reported.
    assert {a for a, _, _ in actors(matcher, "Aliyev spoke.")} == {"Ilham Aliyev", "Heydar Aliyev"}


@pytest.mark.parametrize(
    ("text", "term", "method"),
    [
        ("Zirve Tacikistan'ın başkenti Duşanbe’de yapıldı.", "Duşanbe’de", "folded"),
        ("The summit in Dushanbe, Tajikistan.", "Dushanbe", "alias"),
        ("Саммит прошёл в Душанбе.", "Душанбе", "folded"),
    ],
)
def test_place_with_and_without_diacritics(
    people: Matcher, text: str, term: str, method: str
) -> None:
    assert actors(people, text) == [("Dushanbe", term, method)]


@pytest.mark.parametrize("text", ["Mammadov said", "Elmar Mammadyarov", "Mahmoud Abbas"])
def test_mammadov_is_not_mahmudov(people: Matcher, text: str) -> None:
    assert actors(people, text) == []


def test_fuzzy_spelling_says_its_score(people: Matcher) -> None:
    hit = only(people, "Rossotrudnicestvo closed its office.")
    assert (hit.name, hit.method) == ("Rossotrudnichestvo", "fuzzy")
    assert FUZZY_MIN_SCORE <= hit.score < 1.0
    assert "fuzzy" in hit.explain()


def test_fuzzy_can_be_switched_off() -> None:
    matcher = Matcher(
        [watchlist(actors=[{"name": "Rossotrudnichestvo", "type": "organisation", "fuzzy": False}])]
    )
    assert actors(matcher, "Rossotrudnicestvo closed its office.") == []
    assert actors(matcher, "Rossotrudnichestvo closed its office.") != []


def test_lower_case_words_are_not_names(people: Matcher) -> None:
    assert actors(people, "the dushanbe road") == []


def test_seed_reports_find_every_spelling(seeds_dir: Path, watchlists_dir: Path) -> None:
    """The example watchlist lists Mehdiyev and Мехтиев; the seeds write Mekhtiyev."""
    matcher = Matcher(load_watchlists(watchlists_dir))
    found: dict[str, set[tuple[str, str, str]]] = {}
    for path in sorted(seeds_dir.iterdir()):
        text = path.read_text(encoding="utf-8")
        found[path.name[:3]] = {(h.name, h.term, h.method) for h in matcher.find(text)}
    assert {
        ("Ramiz Mehdiyev", "Mekhtiyev", "folded"),
        ("Ramiz Mehdiyev", "Ramiz Mekhtiyev", "folded"),
        ("Ilham Aliyev", "Ilham Aliyev", "alias"),
        ("coup", "coup d'état", "keyword"),
    } <= found["000"]
    assert {
        ("Ramiz Mehdiyev", "Mekhtiyev’in", "folded"),
        ("Ramiz Mehdiyev", "Ramiz Mekhtiyev’in", "folded"),
        ("Ilham Aliyev", "İlham Aliyev’i", "folded"),
        ("coup", "darbe", "keyword"),
    } <= found["001"]
    assert {
        ("Ramiz Mehdiyev", "R. Mehdiyev", "alias"),
        ("Ramiz Mehdiyev", "Ramiz Mehdiyev", "alias"),
        ("Ilham Aliyev", "I. Aliyev", "alias"),
        ("Rossotrudnichestvo", "Rossotrudnichestvo", "alias"),
        ("Russian House", "Russian House", "keyword"),
    } <= found["002"]
    # "Mehriban Aliyeva" and "H. Aliyev" are in the analysis; neither is Ilham Aliyev.
    assert not any(t.startswith(("Mehriban", "H.")) for _, t, _ in found["002"])


# -- keywords ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def terms() -> Matcher:
    return Matcher(
        [
            watchlist(
                keywords=[
                    {"name": "coup", "terms": ["coup", "coup d'état", "darbe", "переворот"]},
                    {"name": "Russian House", "terms": ["Russian House", "Русский дом"]},
                    {"name": "AZAL", "terms": ["AZAL"], "case_sensitive": True},
                    {"name": "S-300", "terms": [r"\bS-?[34]00\b"], "regex": True},
                    {"name": "exact", "terms": ["Putsch"], "inflect": False},
                ]
            )
        ]
    )


def keywords(matcher: Matcher, text: str) -> list[tuple[str, str]]:
    return [(h.name, h.term) for h in matcher.find(text)]


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Darbe girişimi", "Darbe"),
        ("darbeyi planladı", "darbeyi"),
        ("darbenin detayları", "darbenin"),
        ("darbesinin ardından", "darbesinin"),
        ("попытка переворота", "переворота"),
        ("переворотом", "переворотом"),
        ("a planned coup", "coup"),
        ("to stage a coup d’État and seek support", "coup d’État"),
    ],
)
def test_inflected_keywords(terms: Matcher, text: str, term: str) -> None:
    assert keywords(terms, text) == [("coup", term)]


def test_phrase_needs_its_words_together(terms: Matcher) -> None:
    assert keywords(terms, "the “Russian House” in Baku") == [("Russian House", "Russian House")]
    assert keywords(terms, "сотрудники Русского дома") == [("Russian House", "Русского дома")]
    assert keywords(terms, "Russian. House prices rose.") == []
    assert keywords(terms, "Russian houses") == [("Russian House", "Russian houses")]


def test_word_boundaries(terms: Matcher) -> None:
    assert keywords(terms, "a coupon and a recoup") == []


def test_case_sensitive_keyword(terms: Matcher) -> None:
    assert keywords(terms, "an AZAL plane; AZAL’ın uçağı") == [
        ("AZAL", "AZAL"),
        ("AZAL", "AZAL’ın"),
    ]
    assert keywords(terms, "Azal is a name") == []


def test_regex_keyword(terms: Matcher) -> None:
    assert keywords(terms, "S-400 and S300 systems, not S-3000") == [
        ("S-300", "S-400"),
        ("S-300", "S300"),
    ]


def test_keyword_without_inflection(terms: Matcher) -> None:
    assert keywords(terms, "Putsch") == [("exact", "Putsch")]
    assert keywords(terms, "Putsches") == []
