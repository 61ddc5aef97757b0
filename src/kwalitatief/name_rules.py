"""Our own rules for personal data that deduce does not find, and deduce's word lists they rely on.

- social media handles (``@ayse_yilmaz_cultuur``) and profile addresses (``linkedin.com/in/jan-de-vries``);
- a surname after an honorific and/or initials (``dhr. J.P. van der Sluis``, ``mw. A. de Vries-Bakker``);
- the Dutch and Frisian possessive ``-s`` of a first name (``Sjoerds idee``, ``Jans mening``);
- where a name that deduce joined to what follows must be cut (``Hiemstra van het Friese Museum``);
- speaker labels that are roles (``Moeder:``) rather than names.

All functions return character offsets; :mod:`kwalitatief.pseudonymise` turns them into spans.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

HANDLE = re.compile(r"(?<![\w.@/])@(?=[\w.]*[A-Za-z])[A-Za-z0-9_](?:[\w.]{0,48}\w)?(?![\w@])")
PROFILE_URL = re.compile(
    r"(?<![\w./])(?:https?://)?(?:www\.)?"
    r"(?:instagram\.com|facebook\.com|fb\.com|linkedin\.com/in|twitter\.com|x\.com|tiktok\.com|youtube\.com|"
    r"threads\.net|bsky\.app/profile|mastodon\.social)/@?[\w.\-]*\w/?(?![\w/])"
)
HONORIFICS = ("dhr", "hr", "mw", "mevr", "mevrouw", "meneer", "mijnheer", "de heer", "mej", "mejuffrouw", "dr",
              "drs", "mr", "ir", "ing", "prof", "ds")
_HONORIFIC = "|".join(f"[{h[0]}{h[0].upper()}]{h[1:]}".replace(" ", r"\s+")
                      for h in sorted(HONORIFICS, key=len, reverse=True))
_PARTICLES_LOWER = {"van", "de", "der", "den", "het", "'t", "ter", "ten", "te", "in", "op", "la", "le", "du", "da",
                    "von", "v.d.", "vd"}
_PARTICLE = "(?:" + "|".join(f"[{w[0]}{w[0].upper()}]{re.escape(w[1:])}"
                             for w in sorted(_PARTICLES_LOWER, key=lambda w: (-len(w), w))) + ")"
_CAPITALISED = r"(?:IJ|[A-ZÀ-ÖØ-Þ])[a-zß-öø-ÿ'’]+"
# a surname of three letters or more ('dr Vi', 'A. van der Li' are no names to deduce's authors either)
_SURNAME = rf"(?=\S{{3}}){_CAPITALISED}(?:-{_CAPITALISED})*"
_INITIALS = r"(?:(?:[A-Z]|Th|Chr|Joh|Ph|Wm)\.\s?){1,8}"
# honorific(s), then initials and/or particles, then the surname: the span starts after the honorifics
TITLED_SURNAME = re.compile(
    rf"(?<![\w\-])(?:(?:{_HONORIFIC})\.?\s+)+((?:{_INITIALS})?(?:{_PARTICLE}\s+){{0,3}}{_SURNAME})(?![\w\-])"
)
INITIALS_SURNAME = re.compile(rf"(?<![\w\-.])({_INITIALS}(?:{_PARTICLE}\s+){{0,3}}{_SURNAME})(?![\w\-])")
_POSSESSIVE = re.compile(r"(?<![\w\-'’])((?:IJ|[A-Z])[a-zà-ÿ]{2,})s(?=\s+[a-zà-ÿ])")
_INITIAL_WORD = re.compile(r"(?:[A-Z](?:\.[A-Z]){0,7}|Th|Chr|Joh|Ph|Wm)")
# particle runs after which a surname follows (deduce's list of interfixes is wider: 'aan de', 'bij de')
RARE_PARTICLE_RUNS = {"van het", "van 't", "in het", "op het", "in 't", "op 't"}


@lru_cache(maxsize=1)
def _deduce_lists_folder() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("deduce")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "data" / "lookup" / "src"


def _read_list(*parts: str) -> set[str]:
    folder = _deduce_lists_folder()
    if folder is None:
        return set()
    path = folder.joinpath(*parts)
    if not path.exists():
        return set()
    return {w.strip() for w in path.read_text(encoding="utf-8").splitlines() if w.strip()}


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Deduce's lists of common Dutch words (read from its data files: no need to load deduce)."""
    words: set[str] = set()
    for name in ("lst_common_word", "lst_stop_word", "lst_medical_term"):
        words |= {w.casefold() for w in _read_list("whitelist", name, "items.txt")}
    words -= {w.casefold() for w in _read_list("whitelist", "lst_common_word", "exceptions.txt")}
    return frozenset(words)


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """Deduce's list of first names (as written: ``Sjoerd``)."""
    return frozenset(_read_list("names", "lst_first_name", "items.txt"))


@lru_cache(maxsize=1)
def surnames() -> frozenset[str]:
    """Deduce's lists of surnames, with and without particles (``Hiemstra``, ``Sluis`` of ``van der Sluis``)."""
    return frozenset(_read_list("names", "lst_surname", "items.txt")) | interfix_surnames()


@lru_cache(maxsize=1)
def interfix_surnames() -> frozenset[str]:
    """Deduce's list of surnames that follow a particle (``Sluis`` of ``van der Sluis``)."""
    return frozenset(_read_list("names", "lst_interfix_surname", "items.txt"))


def handle_spans(text: str) -> list[tuple[int, int]]:
    """Social media handles and profile addresses (they name a person as well as a name does)."""
    spans = [m.span() for m in PROFILE_URL.finditer(text)]
    return spans + [m.span() for m in HANDLE.finditer(text)]


def titled_surname_spans(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, titled) of a surname with initials and/or an honorific before it; the honorific
    stays outside the span (``dhr. [J.P. van der Sluis]``), initials and particles are inside. Without
    an honorific, one initial before a word that is no known surname is taken for the end of a
    sentence (``plan B. Daarna``)."""
    found = [(m.start(1), m.end(1), True) for m in TITLED_SURNAME.finditer(text)]
    lasts = surnames()
    for m in INITIALS_SURNAME.finditer(text):
        words = m.group(1).split()
        if len(words) > 2 or words[0].count(".") > 1 or words[-1].split("-")[0] in lasts:
            found.append((m.start(1), m.end(1), False))
    return found


def possessive_spans(text: str) -> list[tuple[int, int]]:
    """The first name of a possessive ``-s`` before a noun (``Sjoerds idee``, ``Tsjallings plan``): only the
    name, the ``s`` stays. Words that are names themselves (``Frans``, ``Peters``) or common words are left
    to the name lists."""
    firsts, lasts, common = first_names(), surnames(), common_words()
    out = []
    for m in _POSSESSIVE.finditer(text):
        stem, word = m.group(1), m.group(0)
        if stem in firsts and word not in firsts and word not in lasts and word.casefold() not in common:
            out.append(m.span(1))
    return out


@lru_cache(maxsize=65536)
def possessive_pattern(name: str) -> re.Pattern[str]:
    """``name`` (a known name) with a possessive ``s`` glued to it (``Sjoerds``), matching the name without
    the ``s``; a name ending in s, x or z takes an apostrophe instead and never matches."""
    if not name or name[-1:] in "sxzSXZ":
        return re.compile(r"(?!)")
    return re.compile(rf"(?<![\w\-@.]){re.escape(name)}(?=s(?![\w\-@]))")


def is_initials(word: str) -> bool:
    """``J``, ``J.P``, ``Th``: initials (a dot after them does not end a clause)."""
    return bool(_INITIAL_WORD.fullmatch(word.rstrip(".")))


def organisation_cut(words: list[str], protected: frozenset[str] | set[str]) -> int | None:
    """Where a person name that deduce joined to what follows ends (the index of the first word to drop),
    or None. ``Hiemstra van het Friese Museum``: a particle run before a word that is no known surname,
    when two capitalised words follow, or the run is rare (``van het``), or a surname (that is no first
    name: ``Hiemstra van de Waag``, not ``Kees van Oosterwijk``) precedes it; or a particle before a
    protected term. Such a person is 'of' an organisation or place; the rest is no surname."""
    lasts, firsts, after_particle = surnames(), first_names(), interfix_surnames()
    i = 1
    while i < len(words):
        if words[i].casefold() not in _PARTICLES_LOWER or not words[i - 1][:1].isupper():
            i += 1
            continue
        j = i
        while j < len(words) and words[j].casefold() in _PARTICLES_LOWER:
            j += 1
        run = " ".join(w.casefold() for w in words[i:j])
        bare: list[str] = []
        for word in words[j:]:
            if not word[:1].isupper():
                break
            bare.append(word.strip(".,;:!?\"”’)"))
        if not bare:
            return None
        before = words[i - 1].strip(".,;:!?\"”’)")
        no_surname = bare[0] not in after_particle
        if (no_surname and (len(bare) >= 2 or run in RARE_PARTICLE_RUNS
                            or (before in lasts and before not in firsts))) \
                or bare[0].casefold() in protected or " ".join(bare).casefold() in protected:
            return i
        i = j
    return None



def is_role_word(label: str) -> bool:
    """A one-word speaker label that is a common Dutch word and no first name (``Moeder``, ``Vader``,
    ``Oma``; surnames that are words, such as Vader, do not make a label a name): a role."""
    words = label.split()
    if len(words) != 1:
        return False
    word = words[0].strip(".:")
    return word.casefold() in _role_words() and word not in first_names()


@lru_cache(maxsize=1)
def _role_words() -> frozenset[str]:
    """Deduce's common and stop words, including those it keeps out because they are surnames too (Vader)."""
    return frozenset(w.casefold() for name in ("lst_common_word", "lst_stop_word")
                     for w in _read_list("whitelist", name, "items.txt"))
