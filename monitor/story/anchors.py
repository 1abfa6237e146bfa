"""Language-independent anchors of a report: names folded to one Latin spelling, numbers.

"Mekhtiyev" (English), "Mekhtiyev’in" (Turkish) and "Мехтиева" (Russian) all give the anchor
``n:metiev``; anchors are what lets two reports in different languages find each other
without comparing every stored item.
"""

from __future__ import annotations

import re

from monitor.textfold import fold, is_capitalized, phonetic, suffix_stems, tokens

_SENTENCE_END = re.compile(r"[.!?…:\n]\s*$")
_NUMBER = re.compile(r"^\d{2,}$")
# Capitalized words that are not names in the languages we see most.
_STOPWORDS = frozenset(
    fold(w)
    for w in """
    the a an in on at of for and but or to by with from as it its this that these those he she
    they we his her their our there here what when where which who why how after before during
    while if according also however meanwhile mr mrs ms dr
    bu ve ile da de ama için gibi olarak ancak bir şu o
    der die das ein eine und im am zum zur den dem des sie er es wir
    el la los las un una y en del al se le les des et du au
    и в на с по о от для это
    """.split()
)
MIN_NAME_CHARS = 3


def name_key(word: str) -> str:
    """One spelling for a name-like word: folded, transliteration conventions merged."""
    return phonetic(fold(word))


def anchors(title: str, text: str) -> set[str]:
    """Names (``n:``) and numbers (``d:``) in a report.

    A name is a capitalized word that is not a sentence's first word; headlines are skipped
    (title case capitalizes every word) unless there is no body. Each name also yields its
    stems, so inflected forms meet.
    """
    body = text if text.strip() else title
    found: set[str] = set()
    for token in tokens(body):
        if _NUMBER.match(token.surface):
            found.add(f"d:{token.surface.lstrip('0')}")
            continue
        if (
            not is_capitalized(token.surface)
            or len(token.folded) < MIN_NAME_CHARS
            or token.folded in _STOPWORDS
            or token.start == 0
            or _SENTENCE_END.search(body[max(0, token.start - 3) : token.start])
        ):
            continue
        for stem in suffix_stems(token.folded):
            found.add(f"n:{phonetic(stem)}")
    return found
