"""Fold text from any script to one comparable Latin spelling.

Story detection and watchlist matching both need "Mekhtiyev", "Mehdiyev" and "Мехтиев"
to meet, so both call this module and nothing else for it. Three layers, each coarser:

- ``fold``: script to Latin (anyascii), diacritics dropped, case folded. Span-preserving
  when applied token by token.
- ``phonetic``: transliteration conventions merged (kh/h/x, d/t, dj/c/j, sh/s, iy/i,
  doubled letters), so spellings nobody listed still meet.
- ``strip_suffix``: Turkish/Azerbaijani apostrophe and case suffixes and common Russian
  endings, so "Mekhtiyev'in" and "Мехтиева" find "Mekhtiyev".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from anyascii import anyascii

# Letters anyascii romanises differently from how Azerbaijani and Turkish names are usually
# written in English: Əliyev is "Aliyev", not "Eliyev".
# Soft and hard signs carry no letter of their own; anyascii would make them apostrophes,
# which read as a suffix cut (Ильхам → "Il'kham").
_PRE_MAP = str.maketrans(
    {"ə": "a", "Ə": "A", "ı": "i", "İ": "I", "ь": "", "Ь": "", "ъ": "", "Ъ": ""}
)
_APOSTROPHES = "'’‘`´ʼ′"
_TOKEN_RE = re.compile(r"\w+(?:[" + _APOSTROPHES + r"]\w+)*", re.UNICODE)

# Applied in order to a folded token. Each rule merges spellings that different
# transliteration conventions (Russian→English, Azerbaijani, Turkish, German) give one name.
_PHONETIC_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"kh|ch(?=[^aeiou]|$)|x|q", "h"),  # Мехтиев → Mekhtiev; Xəzər/Khazar; Qasimov/Gasimov
        # Джамал / Djamal / Camal / Jamal; Azerbaycan / Azerbaijan. An English c before a
        # consonant or after s (Moscow) stays a k sound.
        (r"dzh|dj|zh|(?<!s)c(?=[aeiouy])|^c(?!h)|j", "j"),
        (r"tch|tsch|ch|ç|c", "c"),  # Chelyabinsk / Tschetschenien; other c as one letter
        (r"sch|sh|ş", "s"),
        (r"ph", "f"),
        (r"w", "v"),
        (r"[dt]", "t"),  # Mehdiyev / Mehtiyev; Mohammed / Mohammet
        (r"g", "k"),  # Gasimov / Kasimov, Rogozin; keeps g/k spellings together
        (r"(?<=[aeiou])y(?=[aeiou])", ""),  # Aliyev / Aliev, Mehdiyev / Mekhtiev
        (r"(?<=[aeiou])y", "i"),  # Azerbaycan / Azerbaijan, Nikolay / Nikolai
        (r"iy", "i"),
        (r"yu|iu", "u"),
        (r"ya|ia", "a"),
        (r"ye", "e"),
        (r"ou", "u"),
        (r"(.)\1+", r"\1"),  # Mammadov / Mamadov
        (r"h(?=[^aeiou]|$)", ""),  # Mehdiyev / Medtiyev: a silent h before a consonant
    )
)

# Endings that inflection or possession add to a name or term: Turkish/Azerbaijani case and
# possessive suffixes (after an apostrophe, or glued on), Russian noun and adjective endings
# as anyascii spells them (-ом, -ой, -ым, -ах → om, oy, ym, akh).
_SUFFIXES = frozenset(
    """
    nin nun in un yi yu ye ya i u e a y de da te ta den dan ten tan le la yle yla
    ler lar leri lari lerin larin nda nde ndan nden na ne si sini sinin sine sinde
    s es ym om im oy oj ogo omu ykh ih ov ami am ah akh iy yy
    """.split()
)
_SUFFIX_LENGTHS = sorted({len(s) for s in _SUFFIXES}, reverse=True)


class Token(NamedTuple):
    """A word of the original text with its span and its folded form.

    A named tuple: a report has thousands of words, and tuples are several times cheaper to
    make than frozen dataclasses."""

    start: int
    end: int
    surface: str
    folded: str


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Latin, lower case, no diacritics, apostrophes as ASCII.

    Turkish dotted İ needs its own care: ``"İlham".lower()`` leaves a combining dot.
    """
    text = unicodedata.normalize("NFC", text).translate(_PRE_MAP)
    return anyascii(text).lower()


@lru_cache(maxsize=65536)
def fold_word(token: str) -> str:
    """``fold`` plus the apostrophe suffix cut: "Mekhtiyev’in" → "mekhtiyev"."""
    folded = fold(token)
    for apostrophe in "'`":
        folded = folded.split(apostrophe, 1)[0]
    return folded


@lru_cache(maxsize=65536)
def phonetic(folded: str) -> str:
    """Merge transliteration conventions of an already folded word."""
    key = folded
    for pattern, replacement in _PHONETIC_RULES:
        key = pattern.sub(replacement, key)
    return key


def suffix_stems(folded: str, min_stem: int = 4) -> list[str]:
    """The word and the stems left after cutting one known inflection suffix."""
    return list(_suffix_stems(folded, min_stem))


@lru_cache(maxsize=65536)
def _suffix_stems(folded: str, min_stem: int) -> tuple[str, ...]:
    stems = [folded]
    for n in _SUFFIX_LENGTHS:
        if len(folded) - n >= min_stem and folded[-n:] in _SUFFIXES:
            stems.append(folded[:-n])
    return tuple(stems)


def tokens(text: str) -> list[Token]:
    """Words with spans into ``text``; apostrophe suffixes stay on the surface, not the fold."""
    return [
        Token(m.start(), m.end(), word, fold_word(word))
        for m in _TOKEN_RE.finditer(text)
        for word in (m.group(),)
    ]


def words(text: str) -> list[str]:
    """The words of ``tokens`` as written, without spans or folding: for a first look that
    is cheap (a third of ``tokens``'s cost)."""
    return _TOKEN_RE.findall(text)


def is_capitalized(word: str) -> bool:
    """True for a word that starts with an upper-case letter in any cased script."""
    return bool(word) and word[0].isupper()


# Coarser than ``phonetic`` and tuned on news pairs (docs/story.md): the anchors of story
# detection must meet across transliterations of any language, while a watchlist match must
# stay precise, so the two keys differ but are built from the same ``fold_word``.
_ANCHOR_RULES = (
    ("tsch", "ch"),
    ("sch", "sh"),
    ("sh", "s"),
    ("kh", "h"),
    ("dh", "d"),
    ("th", "t"),
    ("ph", "f"),
    ("gh", "g"),
    ("j", "y"),
    ("w", "v"),
    ("ck", "k"),
    ("c", "k"),
    ("q", "k"),
    ("z", "s"),
    ("x", "ks"),
    ("ou", "u"),
    ("iy", "i"),  # before "ie": Mekhtiyev → Mekhtiev → one key with Мехтиев
    ("ie", "i"),
    ("ey", "i"),
    ("y", "i"),
)
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_DOUBLED = re.compile(r"(.)\1+")


@lru_cache(maxsize=65536)
def anchor_key(word: str) -> str:
    """The story-detection key of a name or number: "Mekhtiyev’in" and "Мехтиев" → "mehtiv"."""
    key = _NOT_ALNUM.sub("", fold_word(word))
    if key.isdigit():
        return key
    for spelling, merged in _ANCHOR_RULES:
        key = key.replace(spelling, merged)
    return _DOUBLED.sub(r"\1", key)
