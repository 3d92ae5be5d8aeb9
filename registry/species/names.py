"""How a written species name is reduced to the key the catalogue is searched by.

Only spellings that cannot name another taxon are reduced: case and ё/е (``registry.text.fold``),
the botanist's name after a binomial ("Ulmus pumila L.", "Tilia cordata Mill.", "(L.) Mill."),
a cultivar in quotes or after "cv." ("Acer platanoides 'Globosum'"), the hybrid sign written
×, x or a Cyrillic х, and "spp." for "sp.". Anything else (a near spelling, another species of
the genus, a code) is not a reduction but a guess, and guesses are proposed, never applied
(``registry.species.services.SpeciesIndex.propose``).
"""

from __future__ import annotations

import re
import unicodedata

from registry.text import fold

RANKS = {"var", "subsp", "ssp", "f", "forma"}
HYBRID_SIGNS = {"x", "×", "х"}
# 'Globosum', "Globosum", ‘Globosum’, «Globosum», cv. Globosum: the cultivar, to the end.
CULTIVAR = re.compile(r"\s*(?:['‘’\"«“][^'‘’\"»”]+['‘’\"»”]|\bcv\.?\s+\S.*)\s*$")
HYBRID = re.compile(r"(?<!\w)[xхX](?=\s|$)")
SPELLINGS = {"spp": "sp", "ssp": "subsp", "х": "x", "×": "x"}


def strip_authority(name: str) -> str:
    """The Latin name without the botanist's name that surveys often append.

    "Ulmus pumila L.", "Tilia x americana (L.) Karst.", "PICEA PUNGENS ENGELM." keep their
    first words (genus, hybrid sign, epithet, a rank and its name); what follows is an author
    when it opens with a capital or a bracket or holds a full stop. Cyrillic names are as written.
    """
    words = name.split()
    if len(words) < 3 or not words[0].isascii() or not words[0].isalpha():
        return name
    i = 2 if words[1].lower() in HYBRID_SIGNS else 1
    epithet = words[i] if i < len(words) else ""
    plain = epithet.replace("-", "")  # pinnato-ramosa
    if not plain.isalpha() or not (plain.islower() or name.isupper()):
        return name
    i += 1
    if i + 1 < len(words) and words[i].lower().rstrip(".") in RANKS:
        i += 2
    rest = " ".join(words[i:])
    if rest and (rest[0] in "(&" or rest[0].isupper() or "." in rest):
        return " ".join(words[:i])
    return name


def species_key(name: str) -> str:
    """The key of a written name: folded, without author or cultivar, one hybrid sign.

    >>> species_key("Platanus ×acerifolia (Aiton) Willd.")
    'platanus x acerifolia'
    >>> species_key("Acer platanoides 'Globosum'")
    'acer platanoides'
    >>> species_key("ACER SPP.")
    'acer sp'
    """
    text = unicodedata.normalize("NFC", name).strip()
    text = CULTIVAR.sub("", text)
    text = HYBRID.sub(" x ", text.replace("×", " × ")).replace("×", "x")
    text = " ".join(text.split())
    text = strip_authority(text)
    words = [SPELLINGS.get(word, word) for word in fold(text).split()]
    return " ".join(words)


def looks_like_code(name: str) -> bool:
    """A survey's species code ("PINI", "ACPL", "ACEPLA"): one short word of capitals."""
    word = name.strip()
    return 2 <= len(word) <= 8 and word.isalpha() and word.isupper() and " " not in word


def code_of(latin: str) -> tuple[str, str]:
    """The 2+2 and 3+3 letter codes a survey might give a Latin binomial (PINI, PINNIG)."""
    words = species_key(latin).split()
    if len(words) < 2 or words[1] in ("sp", "x"):
        return ("", "")
    genus, epithet = words[0], words[1]
    return (genus[:2] + epithet[:2]).upper(), (genus[:3] + epithet[:3]).upper()
