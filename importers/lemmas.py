"""Survey words in any form: Russian by lemma, Kazakh by stem, abbreviations by unique prefix.

Surveyors write a condition, status or planting form in whatever case, number and gender the
sentence in their head had: усыхающее, усыхающие, усыхающий (category IV); сухостой, сухие;
қурағандар, қураған. A ``Vocabulary`` holds the words of one field (``importers.vocabulary``)
and finds a cell's value by, in order:

1. the folded word itself (case, ё/е, punctuation: ``registry.text.fold``);
2. its Russian lemmas (pymorphy3 with its Russian dictionary): every normal form of every
   token, so "усыхающее" meets "усыхающие" at "усыхать";
3. its Kazakh stems: plural, possessive and case endings taken off, letters ә ғ қ ң ө ұ ү һ і
   read as а г к н о у у х и, so "қурағандары" meets "қураған" and "кураган";
4. an abbreviation: each word a prefix (three letters or more, a full stop allowed) of the
   words of one vocabulary phrase, such as "неудовл." or "сильно осл.".

A step that finds several different values finds nothing: the word is then refused with the
accepted words listed, never resolved by a default.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Hashable, Iterable
from functools import cache, cached_property
from typing import Generic, TypeVar

from registry.text import fold

Value = TypeVar("Value", bound=Hashable)
_WORD = re.compile(r"[\w-]+")
KAZAKH_PLAIN = str.maketrans("әғқңөұүһі", "агкноуухи")
# Nominal endings, longest first: plural (+genitive/possessive), possessive, case.
KAZAKH_ENDINGS = sorted(
    {
        *("лар", "лер", "дар", "дер", "тар", "тер"),
        *("ның", "нің", "дың", "дің", "тың", "тің"),
        *("ға", "ге", "қа", "ке", "на", "не"),
        *("ны", "ні", "ды", "ді", "ты", "ті"),
        *("да", "де", "та", "те", "нда", "нде"),
        *("дан", "ден", "тан", "тен", "нан", "нен"),
        *("мен", "бен", "пен", "сы", "сі", "ы", "і"),
    },
    key=len,
    reverse=True,
)
MIN_STEM = 3
MAX_KEYS = 32  # lemma combinations of one phrase considered


@cache
def _analyser():  # noqa: ANN202 (pymorphy3 has no type hints)
    """The Russian morphological analyser: its dictionary loads once per process (~0.3 s)."""
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="ru")


@cache
def russian_lemmas(word: str) -> frozenset[str]:
    """Every normal form pymorphy3 sees in ``word`` (a folded single word)."""
    if not re.search("[а-я]", word):
        return frozenset({word})
    return frozenset(p.normal_form.replace("ё", "е") for p in _analyser().parse(word))


def kazakh_stem(word: str) -> str:
    """``word`` without its Kazakh nominal endings, in plain letters (қурағандары → кураган)."""
    stem = word
    changed = True
    while changed:
        changed = False
        for ending in KAZAKH_ENDINGS:
            if stem.endswith(ending) and len(stem) - len(ending) >= MIN_STEM:
                stem, changed = stem[: -len(ending)], True
                break
    return stem.translate(KAZAKH_PLAIN)


def words_of(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def lemma_keys(text: str) -> set[str]:
    """The phrase's lemma combinations ("сильно ослабленное" → "сильно ослабить", …)."""
    choices = [sorted(russian_lemmas(w)) for w in words_of(text)]
    return {" ".join(c) for c in itertools.islice(itertools.product(*choices), MAX_KEYS)}


def stem_key(text: str) -> str:
    return " ".join(kazakh_stem(w) for w in words_of(text))


class Vocabulary(Generic[Value]):
    """The words of one field (condition, status or planting form) and the values they mean."""

    def __init__(self, words: dict[str, Value]) -> None:
        self.words = {fold(w): v for w, v in words.items()}
        self.phrases = [(words_of(w), v) for w, v in self.words.items()]

    @cached_property
    def lemmas(self) -> dict[str, set[Value]]:
        """Lemma key → values; built on first use, so the analyser loads only for imports."""
        found: dict[str, set[Value]] = {}
        for word, value in self.words.items():
            for key in lemma_keys(word):
                found.setdefault(key, set()).add(value)
        return found

    @cached_property
    def stems(self) -> dict[str, set[Value]]:
        found: dict[str, set[Value]] = {}
        for word, value in self.words.items():
            found.setdefault(stem_key(word), set()).add(value)
        return found

    def find(self, text: str) -> Value | None:
        """The value ``text`` means in any of its forms, or ``None`` (unknown or ambiguous)."""
        key = fold(text)
        if key in self.words:
            return self.words[key]
        for found in (self._by_lemma(text), self._by_stem(text), self._by_prefix(text)):
            if len(found) == 1:
                return next(iter(found))
            if found:
                return None  # two meanings: a person must say which
        return None

    def _by_lemma(self, text: str) -> set[Value]:
        return _union(self.lemmas.get(k, set()) for k in lemma_keys(text))

    def _by_stem(self, text: str) -> set[Value]:
        return set(self.stems.get(stem_key(text), set()))

    def _by_prefix(self, text: str) -> set[Value]:
        cut = words_of(text)
        if not cut or any(len(w) < MIN_STEM for w in cut):
            return set()
        return {
            value
            for phrase, value in self.phrases
            if len(phrase) == len(cut)
            and all(p.startswith(c) for p, c in zip(phrase, cut, strict=True))
        }

    def accepted(self) -> str:
        """The accepted words, for an error message: each once, in the order given."""
        return ", ".join(self.words)


def _union(sets: Iterable[set[Value]]) -> set[Value]:
    out: set[Value] = set()
    for found in sets:
        out |= found
    return out
