"""Rules: all / any / none, proximity, filters on language, source and time, minimum score."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.watchlist.matcher import Matcher, ReportFacts, evaluate
from monitor.watchlist.schema import Watchlist

OCT_18 = datetime(2025, 10, 18, 21, 23, tzinfo=UTC)


def rules(*rules: dict[str, object]) -> Watchlist:
    return Watchlist.model_validate(
        {
            "version": 1,
            "name": "t",
            "actors": [
                {"name": "Ramiz Mehdiyev"},
                {"name": "Rossotrudnichestvo", "type": "organisation"},
            ],
            "keywords": [
                {"name": "coup", "terms": ["coup", "darbe"]},
                {"name": "football", "terms": ["football"]},
            ],
            "rules": list(rules),
        }
    )


def fired(
    watchlist: Watchlist, text: str, facts: ReportFacts | None = None
) -> dict[str, list[str]]:
    """Rule name → the terms of the hits that satisfy it."""
    hits = Matcher([watchlist]).find(text)
    return {m.rule.name: [h.term for h in m.hits] for m in evaluate([watchlist], hits, facts)}


def test_all_any_none() -> None:
    w = rules(
        {"name": "both", "all": ["Ramiz Mehdiyev", "coup"]},
        {"name": "either", "any": ["Ramiz Mehdiyev", "Rossotrudnichestvo"]},
        {"name": "not-sport", "any": ["coup"], "none": ["football"]},
    )
    assert fired(w, "Mekhtiyev planned a coup.") == {
        "both": ["Mekhtiyev", "coup"],
        "either": ["Mekhtiyev"],
        "not-sport": ["coup"],
    }
    assert "not-sport" not in fired(w, "A football coup.")
    assert fired(w, "Rossotrudnichestvo closed.") == {"either": ["Rossotrudnichestvo"]}


def test_within_n_words() -> None:
    w = rules({"name": "near", "all": ["Ramiz Mehdiyev", "coup"], "within": 5})
    assert fired(w, "Mekhtiyev was planning a coup.") == {"near": ["Mekhtiyev", "coup"]}
    far = "Mekhtiyev " + "and many other words here " * 3 + "a coup."
    assert fired(w, far) == {}


def test_same_sentence_ignores_initials_and_titles() -> None:
    w = rules({"name": "sentence", "all": ["Ramiz Mehdiyev", "coup"], "same_sentence": True})
    assert fired(w, "Dr. R. Mehdiyev denied any coup.") == {"sentence": ["R. Mehdiyev", "coup"]}
    assert fired(w, "Mehdiyev was dismissed. A coup followed years later.") == {}
    assert fired(w, "Mehdiyev was dismissed\n\na coup followed") == {}


def test_proximity_keeps_only_the_hits_that_are_close() -> None:
    w = rules({"name": "near", "all": ["Ramiz Mehdiyev", "coup"], "within": 3})
    text = "Mehdiyev spoke. " + "Filler words go on and on. " * 3 + "Mekhtiyev's coup."
    assert fired(w, text) == {"near": ["Mekhtiyev's", "coup"]}


def test_language_filter() -> None:
    w = rules({"name": "tr", "any": ["coup"], "languages": ["tr"]})
    assert fired(w, "darbe", ReportFacts(language="tr")) == {"tr": ["darbe"]}
    assert fired(w, "darbe", ReportFacts(language="en")) == {}
    assert fired(w, "darbe", ReportFacts()) == {}  # a language filter needs a language


def test_source_filter_globs_name_key_and_host() -> None:
    w = rules({"name": "apa", "any": ["coup"], "sources": ["apa.az", "*novaya*"]})
    by_host = ReportFacts.of(None, None, None, "https://apa.az/politics/1")
    assert fired(w, "coup", by_host) == {"apa": ["coup"]}
    assert fired(w, "coup", ReportFacts.of(None, None, None, "Novaya Gazeta Europe")) != {}
    assert fired(w, "coup", ReportFacts.of(None, None, None, "https://example.org/")) == {}


def test_time_filters() -> None:
    w = rules(
        {"name": "autumn", "any": ["coup"], "after": "2025-09-01", "before": "2025-11-01"},
        {"name": "fresh", "any": ["coup"], "max_age": "2d"},
    )
    seen_soon = ReportFacts(published=OCT_18, seen=OCT_18 + timedelta(hours=3))
    seen_late = ReportFacts(published=OCT_18, seen=OCT_18 + timedelta(days=30))
    assert set(fired(w, "coup", seen_soon)) == {"autumn", "fresh"}
    assert set(fired(w, "coup", seen_late)) == {"autumn"}
    spring = ReportFacts(published=datetime(2025, 2, 21, tzinfo=UTC))
    assert set(fired(w, "coup", spring)) == {"fresh"}
    assert set(fired(w, "coup", ReportFacts())) == {"autumn", "fresh"}  # undated: kept


def test_min_score_drops_fuzzy_hits() -> None:
    w = rules(
        {"name": "strict", "any": ["Rossotrudnichestvo"], "min_score": 1.0},
        {"name": "loose", "any": ["Rossotrudnichestvo"]},
    )
    assert set(fired(w, "Rossotrudnicestvo closed.")) == {"loose"}
    assert set(fired(w, "Rossotrudnichestvo closed.")) == {"strict", "loose"}


def test_watchlist_without_rules_alerts_on_anything() -> None:
    w = rules()
    assert [r.name for r in w.effective_rules()] == ["any"]
    assert fired(w, "football") == {"any": ["football"]}


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"name": "r"}, "a rule needs `all` or `any`"),
        ({"name": "r", "any": ["coup"], "max_age": "soon"}, "a duration is"),
        ({"name": "r", "any": ["coup"], "languages": ["English"]}, "should match pattern"),
        ({"name": "r", "any": ["coup"], "within": 0}, "greater than or equal to 1"),
        (
            {"name": "r", "any": ["coup"], "after": "2025-02-01", "before": "2025-01-01"},
            "earlier than",
        ),
    ],
)
def test_rule_validation(rule: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rules(rule)
