"""The folding shared by story detection and watchlist matching."""

from __future__ import annotations

import pytest

from monitor.textfold import fold, fold_word, phonetic, tokens


@pytest.mark.parametrize(
    "spelling", ["Mehdiyev", "Mekhtiyev", "Mehtiyev", "Mekhtiev", "Мехтиев", "Mekhtiyev’in"]
)
def test_transliterations_of_one_name_meet(spelling: str) -> None:
    assert phonetic(fold_word(spelling)) == phonetic(fold_word("Mehdiyev"))


def test_turkish_dotted_capital_i_folds_without_a_combining_dot() -> None:
    assert fold("İlham") == "ilham" and fold("ILHAM") == "ilham"


def test_soft_sign_is_no_apostrophe() -> None:
    assert fold_word("Ильхам") == "ilkham"


def test_tokens_keep_spans_into_the_original_text() -> None:
    text = "Putin’in Мехтиеву"
    assert [(text[t.start : t.end], t.folded) for t in tokens(text)] == [
        ("Putin’in", "putin"),
        ("Мехтиеву", "mekhtievu"),
    ]


@pytest.mark.parametrize(
    ("one", "other"),
    [("Mekhtiyev’in", "Мехтиев"), ("Dushanbe", "Душанбе"), ("Aktau", "Актау")],
)
def test_story_anchor_keys_meet_across_scripts(one: str, other: str) -> None:
    from monitor.textfold import anchor_key

    assert anchor_key(one) == anchor_key(other)
