"""Pseudonymisation of transcripts: find personal data, give it consistent tags, remap offsets.

Detection (:func:`detect`) combines
- person names found by the ``deduce`` package (Dutch name lists and rules), trimmed of titles
  (``wethouder``, ``mevrouw``), protected terms (regions, provinces, municipalities, the study's own
  ``protected_terms`` of study.yaml) and
  stray lower-case words;
- speaker labels of transcripts that are names (``Marieke Dijkstra:``);
- names from the researcher's list (``corpus/pseudonyms.csv``, action ``replace``) and from the
  respondent register (an optional ``name`` column), and organisation names of the register;
- our own rules (:mod:`kwalitatief.name_rules`): surnames after honorifics or initials, the possessive
  ``-s`` of a first name, names cut before ``van het <organisation>``, role words as speaker labels;
- e-mail addresses, phone numbers, postcodes, street addresses (``Stationsweg 14``, ``Postbus 12``) and
  social media accounts (``@handle``, profile addresses).
Terms on the researcher's ``keep`` list and protected terms are never replaced.

:func:`pseudonymise_corpus` then spreads names found in one place to every other place they occur
(a full name corpus-wide, also in lower case unless its words are common words; its parts and their
possessive ``-s`` within the same document), numbers the tags by first occurrence
in manifest order (the same normalised string gets the same tag everywhere; a lone surname or first
name is linked to the one full name in the same document that carries it) and rewrites every
document with all offsets remapped. The key (tag, original, doc_id) is returned separately and must
only be written to ``outputs/private/``.

Everything here is pure: no file is written.
"""

from __future__ import annotations

import bisect
import csv
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import name_rules
from .name_rules import common_words as _common_words

TAG_NAMES = {
    "persoon": "PERSOON",
    "organisatie": "ORGANISATIE",
    "email": "EMAIL",
    "telefoon": "TELEFOON",
    "adres": "ADRES",
    "postcode": "POSTCODE",
    "gemeente": "GEMEENTE",
    "account": "ACCOUNT",
}
LIST_ACTIONS = ("replace", "keep")
LIST_COLUMNS = ("term", "action")

PROVINCES = (
    "Groningen", "Friesland", "Fryslân", "Drenthe", "Overijssel", "Flevoland", "Gelderland", "Utrecht",
    "Noord-Holland", "Zuid-Holland", "Zeeland", "Noord-Brabant", "Brabant", "Limburg",
)
# Dutch words of state and geography that are never persons (a study adds its own: study.yaml protected_terms).
FIXED_PROTECTED = (
    "ministerie", "minister", "Rijk", "het Rijk", "Nederland", "Randstad", "Tweede Kamer", "Kamer",
    # parts of the country are analysis variables too
    "Noorden", "Zuiden", "Oosten", "Westen", "Noord-Nederland", "Oost-Nederland", "Zuid-Nederland",
    "West-Nederland", "Groene Hart", "Achterhoek", "Veluwe", "Landsdeel Oost", "Landsdeel Noord",
    "Landsdeel Zuid", "Landsdeel West",
)
# Titles and functions that stay in the text before a replaced name.
TITLES = {
    "mevrouw", "mevr", "mw", "mej", "meneer", "mijnheer", "heer", "dhr", "hr", "mr", "dr", "drs", "ir",
    "ing", "prof", "ds", "wethouder", "gedeputeerde", "burgemeester", "directeur", "directrice",
    "minister", "staatssecretaris", "voorzitter", "collega", "commissaris", "secretaris", "wethouders",
    "gedeputeerden", "collega's", "beleidsmedewerker", "beleidsadviseur", "adviseur", "programmamanager",
    "projectleider", "coördinator", "coordinator", "kwartiermaker", "zakelijk", "artistiek", "leider",
    "oud-wethouder", "oud-gedeputeerde", "loco-burgemeester", "senator", "kamerlid", "raadslid",
    # titles of address before a surname ('Dokter Bakker:' as a speaker label: the title stays)
    "dokter", "huisarts", "zuster", "juf", "meester", "pastoor", "dominee", "notaris", "inspecteur", "professor",
}
INTERFIXES = {
    "van", "de", "der", "den", "het", "'t", "ter", "ten", "te", "in", "op", "aan", "bij", "uit", "la",
    "le", "du", "da", "di", "del", "dos", "von", "zu", "zur", "vd", "v.d.",
}
LEADING_PARTICLES = {"van", "de", "der", "den", "ter", "ten", "te", "'t", "vd", "v.d.", "la", "le", "du", "da",
                     "di", "von"}
GREETINGS = {"goedemorgen", "goedemiddag", "goedenavond", "hallo", "hoi", "dag", "beste", "welkom", "dank",
             "bedankt", "ha", "hé", "hee", "nou", "ja", "nee", "oké", "ok", "zeker", "prima", "tja", "oei",
             "goh", "ach", "jee", "hè", "eh", "ehm", "uh", "hm", "kijk", "tsja", "jawel", "precies", "klopt"}
ROLE_LABELS = {
    "i", "int", "interviewer", "interviewster", "onderzoeker", "vraag", "v", "r", "resp", "respondent",
    "geïnterviewde", "antwoord", "a", "moderator", "gespreksleider", "spreker", "deelnemer", "notulist",
    "onbekend", "iedereen", "allen",
}

_WORD = r"[\w'’\-]"
_EMAIL = re.compile(r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[a-zA-Z]{2,}(?![\w\-])")
_PHONE = re.compile(
    # 9 digits after the 0 (or +31); 10 is a mistyped number, which identifies a person just as well
    # (a hyphen or dash may have spaces around it: '088 - 7555555')
    r"(?<![\w+])(?:(?:\+31|0031)\s?(?:\(0\)\s?)?|\(?0)(?:(?:\s?[-–]\s?|\s)?\)?(?:\s?[-–]\s?|\s)?\d){9,10}(?![\d])"
)
_POSTCODE = re.compile(r"(?<![\w])([1-9]\d{3})\s?([A-Z]{2})(?![\w])")
_POSTCODE_STOP = {"SA", "SD", "SS", "EU", "NL", "VS", "UK", "OK", "BV", "NV", "CO", "TV", "PR", "ICT", "HR"}
_STREET_SUFFIX = (
    "straat|straatweg|weg|laan|plein|gracht|kade|singel|dijk|steeg|pad|dreef|hof|park|markt|plantsoen|"
    "boulevard|allee|baan|ring|wal|haven|veld|poort|erf|oever|akker|kanaal|dam|weide|zoom|horst|"
    "burgwal|straatje|promenade|passage|lei|kamp|gaarde|hoek|berg|donk|molen|brink|es|boord|pier|bolwerk|"
    # Frisian street words, and the abbreviations of an address line ('Heidelbergln 1', 'Kerkstr 12')
    "strjitte|wei|leane|loane|paad|dyk|buorren|str|ln|wg|pln|plnts|gr|hf|mrkt|pd|prk|sngl|stg|drf"
)
# "Lange Gracht 9", "Oude Haven 3": the street word stands on its own after a capitalised word
_STREET_SUFFIX_CAPITALISED = "|".join(part.capitalize() for part in _STREET_SUFFIX.split("|"))
_STREET = re.compile(
    rf"(?<![\w\-])((?:(?:[Vv]an|[Dd]e|[Dd]en|[Dd]er|'t|[A-Z][\w'’\-]*)\s){{0,3}}"
    rf"(?:[A-Z][\w'’\-]*(?:{_STREET_SUFFIX})|(?<=[a-z] )(?:{_STREET_SUFFIX_CAPITALISED}))"
    rf"\s+\d{{1,4}}(?:\s?[a-zA-Z](?![\w]))?(?:[\-/]\d{{1,4}})?)(?![\w])"
)
_POSTBUS = re.compile(r"(?<![\w])[Pp]ostbus\s+\d{1,6}(?![\w])")
_TOKEN = re.compile(r"\S+")


class PseudonymListError(Exception):
    """The researcher's pseudonym list has problems; the message names file, line and field."""


@dataclass(frozen=True)
class Span:
    """A piece of personal data in a text: ``text[start:end]`` of ``kind``; ``source`` says who found it."""

    start: int
    end: int
    kind: str
    text: str
    source: str
    titled: bool = False  # a title (mevrouw, wethouder) stood before a person name

    def as_dict(self) -> dict[str, Any]:
        """``dataclasses.asdict(self)``, without its deep copy (which took seconds over a corpus' spans)."""
        return {"start": self.start, "end": self.end, "kind": self.kind, "text": self.text, "source": self.source,
                "titled": self.titled}


@dataclass(frozen=True)
class Settings:
    """The ``pseudonymise`` section of params.yaml."""

    doc_types: tuple[str, ...] = ("transcript",)   # the pipeline's default: study.yaml's types with transcript: true
    replace_municipalities: bool = False
    replace_organisations: bool = True
    organisation_types: tuple[str, ...] = ()   # respondent types whose organisation names are replaced
    use_deduce: bool = True
    list_path: str = "corpus/pseudonyms.csv"

    @classmethod
    def from_params(cls, section: dict[str, Any] | None) -> "Settings":
        """Settings from params.yaml's ``pseudonymise`` mapping; unknown keys are an error."""
        section = dict(section or {})
        known = {"doc_types", "replace_municipalities", "replace_organisations", "organisation_types",
                 "use_deduce", "list"}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ValueError(f"params.yaml pseudonymise: unknown setting(s) {', '.join(unknown)}; "
                             f"use {', '.join(sorted(known))}.")
        for key in ("doc_types", "organisation_types"):
            if key in section and not isinstance(section[key], list):
                raise ValueError(f"params.yaml pseudonymise.{key}: expected a list, e.g. [transcript].")
        defaults = cls()
        return cls(
            doc_types=tuple(section.get("doc_types", defaults.doc_types)),
            replace_municipalities=bool(section.get("replace_municipalities", defaults.replace_municipalities)),
            replace_organisations=bool(section.get("replace_organisations", defaults.replace_organisations)),
            organisation_types=tuple(section.get("organisation_types", defaults.organisation_types)),
            use_deduce=bool(section.get("use_deduce", defaults.use_deduce)),
            list_path=str(section.get("list", defaults.list_path)),
        )


@dataclass(frozen=True)
class Vocabulary:
    """What to look for (``always``: term, kind) and what never to replace (casefolded terms)."""

    always: tuple[tuple[str, str], ...] = ()
    keep: frozenset[str] = frozenset()
    protected: frozenset[str] = frozenset()


@dataclass
class PseudonymList:
    """The researcher's list: names to always replace (term, kind) and terms never to replace."""

    replace: list[tuple[str, str]] = field(default_factory=list)
    keep: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Inputs: the researcher's list and the register
# --------------------------------------------------------------------------------------------

def load_pseudonym_list(path: str | Path) -> PseudonymList:
    """Read ``pseudonyms.csv`` (columns term, action [replace|keep], kind, note); a missing file is empty."""
    path = Path(path)
    result = PseudonymList()
    if not path.exists():
        return result
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in LIST_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise PseudonymListError(f"{path} line 1: missing column(s) {', '.join(missing)}; the header "
                                         "must be term,action,kind,note.")
            for row in reader:
                term = " ".join((row.get("term") or "").split())
                action = (row.get("action") or "").strip().lower()
                kind = (row.get("kind") or "").strip().lower() or "persoon"
                where = f"{path} line {reader.line_num}"
                if not term and not action:
                    continue
                if not term:
                    raise PseudonymListError(f"{where}, field term: empty; write the name or term, or delete the row.")
                if action not in LIST_ACTIONS:
                    raise PseudonymListError(f"{where}, field action: '{action}' is not one of replace, keep.")
                if action == "replace":
                    if kind not in TAG_NAMES:
                        raise PseudonymListError(f"{where}, field kind: '{kind}' is not one of "
                                                 f"{', '.join(TAG_NAMES)}.")
                    result.replace.append((term, kind))
                else:
                    result.keep.append(term)
    except UnicodeDecodeError as exc:
        raise PseudonymListError(f"{path}: not UTF-8 ({exc}); save the file as UTF-8.") from exc
    return result


def read_table(path: str | Path) -> list[dict[str, str]]:
    """Rows of a register CSV (regions.csv, respondents.csv) without validating the whole register
    (for checking one document); a missing file gives no rows."""
    from .csvfiles import read_rows

    path = Path(path)
    if not path.exists():
        return []
    return [row for _, row in read_rows(path, (), [])]   # read like the register (`;` too); bad rows left out


def _split_list(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;|]", value or "") if part.strip()]


def _strip_parenthetical(name: str) -> str:
    return " ".join(re.sub(r"\([^)]*\)", " ", name).split())


def build_vocabulary(regions: Iterable[dict[str, str]], respondents: Iterable[dict[str, str]],
                     plist: PseudonymList, settings: Settings, study_terms: Iterable[str] = ()) -> Vocabulary:
    """Protected terms (regions, provinces, municipalities unless replaced, fixed terms, the study's
    ``study_terms``) and the terms always to replace (the list, register names, register organisations,
    municipalities if set)."""
    protected: set[str] = {t.casefold() for t in (*PROVINCES, *FIXED_PROTECTED, *study_terms)}
    municipalities: set[str] = set()
    always: list[tuple[str, str]] = [(term, kind) for term, kind in plist.replace]
    for row in regions:
        region = row.get("region", "")
        if region:
            protected.add(region.casefold())
            protected.update(p.casefold() for p in re.split(r"[\s\-]+", region) if len(p) > 3 and p[0].isupper())
        protected.update(p.casefold() for p in _split_list(row.get("provinces", "")))
        municipalities.update(_split_list(row.get("municipalities", "")))
    for row in respondents:
        org = _strip_parenthetical(row.get("organisation", ""))
        rtype = row.get("respondent_type", "")
        head, _, rest = org.partition(" ")
        if head.lower() == "gemeente" and rest:      # "gemeente Almere": a municipality's name
            municipalities.add(rest)
        elif head.lower() == "provincie" and rest:
            protected.add(rest.casefold())
        elif org and settings.replace_organisations and rtype in settings.organisation_types:
            always.append((org, "organisatie"))
        for key in ("name", "naam", "names", "namen"):
            always.extend((name, "persoon") for name in _split_list(row.get(key, "")))
    region_terms = set(protected)
    if settings.replace_municipalities:
        always.extend((m, "gemeente") for m in sorted(municipalities) if m.casefold() not in region_terms)
    else:
        protected.update(m.casefold() for m in municipalities)
    keep = frozenset(t.casefold() for t in plist.keep)
    always_terms = {t.casefold() for t, _ in always}
    # A name the researcher listed for replacement is never protected.
    protected -= always_terms
    unique: dict[str, tuple[str, str]] = {}
    for term, kind in always:
        unique.setdefault(term.casefold(), (term, kind))
    ordered = tuple(sorted(unique.values(), key=lambda tk: (-len(tk[0]), tk[0])))
    return Vocabulary(always=ordered, keep=keep, protected=frozenset(protected))


# --------------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------------

# deduce finds person names for us; what it finds besides is discarded. Its lookup lists of street names and
# healthcare institutions are 94 % of the 77 MB it unpickles on every start (2.6 s of a one-document rerun),
# so they are left out: the annotators that need them are not configured (dates, ages, identifiers, urls and
# institutions were switched off anyway; street names only decided overlaps with person names, and our own
# address patterns win those). On 140 transcripts (1,279 person names) the person spans were identical.
# Its phone and e-mail annotators are off too (our patterns find those; the person spans of the demo corpus, the
# detector's cases and deduce's own name examples were identical without them, and detection 30 % faster).
_DEDUCE_GROUPS_OFF = frozenset({"dates", "ages", "identifiers", "urls", "institutions", "phone_numbers",
                                "email_addresses"})
_DEDUCE_ANNOTATORS_OFF = frozenset({"street_lookup"})
_DEDUCE_LOOKUPS_OFF = frozenset({"street", "hospital", "healthcare_institution"})


@lru_cache(maxsize=1)
def load_deduce() -> Any:
    """The deduce de-identifier with the annotators we use, built once per process (0.2 s from the
    trimmed lookup cache; the first build after installing deduce takes minutes)."""
    import json
    import logging

    import deduce
    from deduce import Deduce

    logging.getLogger("deduce").setLevel(logging.WARNING)
    base = json.loads((Path(deduce.__file__).parent / "base_config.json").read_text(encoding="utf-8"))
    config = {**base, "annotators": {name: spec for name, spec in base["annotators"].items()
                                     if spec.get("group") not in _DEDUCE_GROUPS_OFF
                                     and name not in _DEDUCE_ANNOTATORS_OFF}}
    trimmed = trimmed_deduce_cache()
    if trimmed is not None:
        return Deduce(load_base_config=False, config=config, cache_path=trimmed)
    return Deduce(load_base_config=False, config=config)


def trimmed_deduce_cache() -> Path | None:
    """A copy of deduce's lookup cache without the lists we do not use, in the user's cache folder
    (``$XDG_CACHE_HOME`` or ``~/.cache``, ``kwalitatief/``); None when deduce has no cache yet or the
    folder is not writable (deduce then loads its full lists)."""
    import logging
    import os
    import pickle
    import tempfile

    import deduce

    source = Path(deduce.__file__).parent / "data" / "lookup" / "cache" / "lookup_structs.pickle"
    if not source.exists():
        return None
    stat = source.stat()
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kwalitatief"
    folder = root / f"deduce-{deduce.__version__}-{stat.st_size}-{stat.st_mtime_ns}"
    target = folder / "cache" / "lookup_structs.pickle"   # where deduce looks under cache_path
    if target.exists():
        return folder
    try:
        with open(source, "rb") as handle:
            cached = pickle.load(handle)
        structs = cached["lookup_structs"]
        kept = type(structs)()
        for name in structs.keys():
            if name not in _DEDUCE_LOOKUPS_OFF:
                kept[name] = structs[name]
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump({**cached, "lookup_structs": kept}, handle)
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)
    except (OSError, KeyError, pickle.PickleError) as exc:
        logging.getLogger(__name__).info("deduce: no trimmed lookup cache (%s); loading its full lists", exc)
        return None
    return folder


@lru_cache(maxsize=65536)
def term_pattern(term: str, ignore_case: bool = True) -> re.Pattern[str]:
    """A regex for ``term`` as whole words (never inside a longer word), any whitespace between words."""
    words = [re.escape(w) for w in term.split()]
    body = r"\s+".join(words)
    return re.compile(rf"(?<![\w\-@.])(?:{body})(?![\w\-@])", re.IGNORECASE if ignore_case else 0)


def _find_term(text: str, term: str, ignore_case: bool = True) -> list[tuple[int, int]]:
    """Spans of ``term`` as whole words in ``text`` (as ``term_pattern(term, ignore_case).finditer``)."""
    return _match_at_words(text, term_pattern(term, ignore_case), term)


_WORD_TOKEN = re.compile(r"\w+")


@lru_cache(maxsize=4)
def _word_positions(text: str) -> dict[str, list[int]]:
    """Where each word (casefolded) starts in ``text``: built once per text, so that looking for a
    thousand names costs the occurrences of their first words, not a thousand scans of the text."""
    positions: dict[str, list[int]] = {}
    for match in _WORD_TOKEN.finditer(text):
        positions.setdefault(match.group().casefold(), []).append(match.start())
    return positions


def _match_at_words(text: str, pattern: re.Pattern[str], term: str) -> list[tuple[int, int]]:
    """Spans where ``pattern`` (for ``term``) matches, tried only where the term's first word occurs."""
    first = _WORD_TOKEN.search(term)
    if first is None:
        return [m.span() for m in pattern.finditer(text)]
    lead = first.start()   # characters before the first word ("'t Hoen")
    spans: list[tuple[int, int]] = []
    end = -1
    for pos in _word_positions(text).get(first.group().casefold(), ()):
        if pos - lead < max(end, 0):
            continue
        match = pattern.match(text, pos - lead)
        if match:
            spans.append(match.span())
            end = match.end()
    return spans


def _contact_spans(text: str) -> list[Span]:
    """E-mail addresses, phone numbers, street addresses (street + number, Postbus), postcodes and social
    media accounts (``@handle``, profile addresses)."""
    spans = [Span(m.start(), m.end(), "email", m.group(), "regex") for m in _EMAIL.finditer(text)]
    spans += [Span(s, e, "account", text[s:e], "regex") for s, e in name_rules.handle_spans(text)]
    spans += [Span(m.start(), m.end(), "telefoon", m.group(), "regex") for m in _PHONE.finditer(text)]
    for m in _STREET.finditer(text):
        start, end = m.span(1)
        # leading sentence words are not part of the street name ("aan de Stationsweg 14")
        while True:
            head = _TOKEN.match(text, start)
            if head is None or head.group().casefold() not in _STREET_LEADERS or head.end() >= end - 1:
                break
            start = head.end() + len(text[head.end():end]) - len(text[head.end():end].lstrip())
        spans.append(Span(start, end, "adres", text[start:end], "regex"))
    spans += [Span(m.start(), m.end(), "adres", m.group(), "regex") for m in _POSTBUS.finditer(text)]
    for m in _POSTCODE.finditer(text):
        number, letters = int(m.group(1)), m.group(2)
        if letters in _POSTCODE_STOP:
            continue
        if 1900 <= number <= 2099 and " " in m.group():
            after = text[m.end():m.end() + 30].lstrip(" ,")
            before = text[max(0, m.start() - 2):m.start()]
            if not (after[:1].isupper() or before == ", "):
                continue  # a year followed by an abbreviation, not a postcode
        spans.append(Span(m.start(), m.end(), "postcode", m.group(), "regex"))
    return spans


_STREET_LEADERS = {"de", "den", "der", "het", "'t", "in", "op", "aan", "bij", "naar", "via", "ons", "onze",
                   "adres", "kantoor", "De", "Het"}


def _tokens(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    return [(start + m.start(), start + m.end(), m.group()) for m in _TOKEN.finditer(text[start:end])]


def _bare(token: str) -> str:
    return token.strip(".,;:!?\"“”‘’()[]").casefold()


SURNAME_PLACE_PARTICLES = {"van", "ter", "ten", "te"}


def _place_surname(text: str, toks: list[tuple[int, int, str]], n: int, stop: frozenset[str]) -> bool:
    """Are the last ``n`` tokens (a protected place, in ``stop``) the surname of a person, as in 'Frits van
    Kampen'?
    Only in the form given name + particle + place, with the given name in the first-name list, no other name
    word before it and no capitalised word after the place ('Anna van Utrecht Muziek' is an
    organisation). 'Jan Jansen van Utrecht' and 'de wethouder van Kampen' stay places."""
    if n < 1 or len(toks) < n + 2 or _bare(toks[-n - 1][2]) not in SURNAME_PLACE_PARTICLES \
            or " ".join(_bare(t[2]) for t in toks[-n:]) not in stop:
        return False
    given = toks[-n - 2][2].strip("\"“‘(")
    if not given[:1].isupper() or given not in name_rules.first_names():
        return False
    before = toks[:-n - 2]
    if before and before[-1][2][:1].isupper() and _bare(before[-1][2]) not in TITLES | GREETINGS:
        return False
    after = re.match(r"[ \t]+([\w'’\-]+)", text[toks[-1][1]:])
    return not (after and after.group(1)[:1].isupper())


def _leading_common_word(toks: list[tuple[int, int, str]]) -> bool:
    """'Volgens Jan Jansen', 'Toen Marieke': a capitalised common word (no known first name or surname)
    before a first name is the start of the sentence, not part of the name."""
    if len(toks) < 2:
        return False
    word = toks[0][2].strip("\"“‘(")
    return (_bare(word) in _common_words() and _bare(word) not in INTERFIXES and word not in name_rules.first_names()
            and word not in name_rules.surnames() and toks[1][2].strip(".,;:!?") in name_rules.first_names())


def trim_person(text: str, start: int, end: int, vocab: Vocabulary) -> tuple[int, int, bool] | None:
    """Trim a candidate person span: titles and lower-case words at the front, protected terms and
    particles at the ends. Returns (start, end, titled) or None when nothing name-like is left."""
    toks = _tokens(text, start, end)
    stop = vocab.protected | vocab.keep
    titled = False
    changed = True
    while toks and changed:
        changed = False
        # protected terms (possibly several words) at either end
        for n in (3, 2, 1):
            if n == 1 and toks and any(part in stop for part in _bare(toks[-1][2]).split("-")[1:]):
                toks = toks[:-1]  # 'Zuidwest-Drenthe': a compound with a province or region
                changed = True
                break
            if len(toks) >= n and " ".join(_bare(t[2]) for t in toks[-n:]) in stop:
                if _place_surname(text, toks, n, stop):
                    break     # 'Frits van Kampen': a surname that is also a protected place
                toks = toks[:-n]
                changed = True
                break
            if len(toks) >= n and " ".join(_bare(t[2]) for t in toks[:n]) in stop:
                toks = toks[n:]
                changed = True
                break
        if not toks:
            break
        first = _bare(toks[0][2])
        if first in TITLES or first.rstrip(".") in TITLES:
            toks = toks[1:]
            titled = True
            changed = True
        elif first in GREETINGS or _leading_common_word(toks):
            toks = toks[1:]
            changed = True
        elif first == "de" and len(toks) > 1 and _bare(toks[1][2]) == "heer":
            toks = toks[2:]
            titled = True
            changed = True
        elif toks[0][2][:1].islower() and (first not in LEADING_PARTICLES or len(toks) == 1):
            toks = toks[1:]
            changed = True
        if toks and (toks[-1][2][:1].islower() or _bare(toks[-1][2]) in INTERFIXES):
            toks = toks[:-1]
            changed = True
    if not toks or not any(t[2][:1].isupper() for t in toks):
        return None
    s, e = toks[0][0], toks[-1][1]
    while e > s and text[e - 1] in ".,;:!?\"”’)":
        e -= 1
    if text[s] in "\"“‘(":
        s += 1
    if e <= s:
        return None
    return s, e, titled


DEDUCE_CHUNK = 20_000   # characters of text deduce sees at once (its own cost grows faster than linearly)
PROGRESS_FROM = 1_000_000   # documents of at least this many characters log their progress
PARALLEL_FROM = 1_000_000   # ... and are shared out over the worker processes


def text_chunks(text: str, size: int = DEDUCE_CHUNK) -> list[tuple[int, int]]:
    """``text`` cut into consecutive pieces of about ``size`` characters, each ending at a paragraph
    break (else a line break, else a space), so that no name is cut in two."""
    chunks: list[tuple[int, int]] = []
    start = 0
    while len(text) - start > size:
        limit = start + size
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = text.rfind(separator, start + size // 2, limit)
            if cut >= 0:
                cut += len(separator)
                break
        cut = cut if cut > start else limit
        chunks.append((start, cut))
        start = cut
    if start < len(text) or not chunks:
        chunks.append((start, len(text)))
    return chunks


def _deduce_persons(text: str, vocab: Vocabulary, progress: Callable[[int, int], None] | None = None,
                    workers: int | None = 1) -> list[Span]:
    """Person names deduce finds, trimmed (:func:`trim_person`); deduce reads the text in chunks of
    paragraphs, so its time grows linearly with the length of the text. A text of ``PARALLEL_FROM``
    characters or more is shared out over ``workers`` processes, in consecutive parts."""
    from .parallel import map_documents, resolve_workers

    lower_words = frozenset(w for w in re.findall(r"[\w'’]+", text) if w.islower())
    chunks = text_chunks(text, DEDUCE_CHUNK)
    n = resolve_workers(workers)
    if n <= 1 or len(text) < PARALLEL_FROM:
        return _deduce_part((text, vocab, chunks, lower_words, progress))
    load_deduce()   # before the workers start, so that they share it
    per_part = -(-len(chunks) // (n * 4))
    parts = [chunks[i:i + per_part] for i in range(0, len(chunks), per_part)]
    label = getattr(progress, "doc_id", None)
    jobs = [(text, vocab, part, lower_words, PartLog(label, i + 1, len(parts), part[-1][1]) if label else None)
            for i, part in enumerate(parts)]
    found = map_documents(_deduce_part, jobs, n)
    return [span for spans in found for span in spans]


def _deduce_part(job: tuple[str, Vocabulary, list[tuple[int, int]], frozenset[str],
                            Callable[[int, int], None] | None]) -> list[Span]:
    """deduce over the given chunks of the text (consecutive ranges)."""
    text, vocab, chunks, lower_words, progress = job
    deduce = load_deduce()   # only the annotators we use are configured (load_deduce)
    common = _common_words()
    spans = []
    for begin, end in chunks:
        # the redactor (deduce's own replacement text, which we do not use) is quadratic in annotations
        doc = deduce.deidentify(text[begin:end], disabled={"redactor"})
        for ann in doc.annotations:
            if ann.tag != "persoon":
                continue
            for start, stop in split_at_punctuation(text, begin + ann.start_char, begin + ann.end_char):
                span = _deduce_person(text, start, stop, vocab, common, lower_words)
                if span is not None:
                    spans.append(span)
        if progress is not None:
            progress(end, len(text))
    return spans


def split_at_punctuation(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a candidate span where a sentence or clause ends ('Johan Cruijff. Kees Hoekstra'):
    after a word (not an initial or title) that ends in . , ; : ! ? or at a line break."""
    parts: list[tuple[int, int]] = []
    begin = start
    for s, e, token in _tokens(text, start, end):
        word = token.rstrip(".,;:!?")
        ends_clause = token != word and not (len(word) <= 2 or word.casefold() in TITLES
                                             or (token.endswith(".") and name_rules.is_initials(word)))
        if ends_clause or "\n" in text[e:e + 1]:
            parts.append((begin, e))
            begin = e
    if begin < end:
        parts.append((begin, end))
    return [(s + len(text[s:e]) - len(text[s:e].lstrip()), e) for s, e in parts if text[s:e].strip()]


def _deduce_person(text: str, start: int, end: int, vocab: Vocabulary, common: frozenset[str],
                   lower_words: frozenset[str]) -> Span | None:
    before = text[max(0, start - 12):start].split()
    titled_before = bool(before) and _bare(before[-1]) in TITLES
    trimmed = trim_person(text, start, end, vocab)
    if trimmed is None:
        return None
    s, e, titled = trimmed
    titled = titled or titled_before
    tokens = _tokens(text, s, e)
    stop = vocab.protected | vocab.keep
    cut = None if _place_surname(text, tokens, len(tokens) - 2, stop) \
        else name_rules.organisation_cut([t[2] for t in tokens], stop)
    if cut is not None:   # 'Hiemstra van het Friese Museum': the name ends before 'van'
        e = tokens[cut - 1][1]
    names = [_bare(t) for t in text[s:e].split() if _bare(t) not in INTERFIXES]
    if not titled and names and all(n in common for n in names):
        return None  # 'Stad', 'Zeker': common words that deduce took for a name
    words = text[s:e].split()
    if not titled and all(name_rules.is_initials(w) for w in words):
        return None  # 'plan A.': initials without a name ('dr. A' is one)
    if not titled and words[0] in LEADING_PARTICLES:
        return None  # 'de IJssel', 'van Rijswijk': a lone surname is written 'De Vries' in Dutch
    if not titled and len(words) == 1 and _bare(words[0]) in lower_words:
        return None  # 'Niks.' at the start of a sentence, while 'niks' occurs in the text
    return Span(s, e, "persoon", text[s:e], "deduce", titled)


def speaker_names(turns: Sequence[dict[str, Any]]) -> list[str]:
    """Speaker labels that are names (not I, R, Interviewer, Respondent …): the name the transcript
    found in the label (``name``: None for a role such as ``Moeder`` or ``Spreker 2``); a one-word label
    that is a common word and no first name counts as a role too."""
    out: list[str] = []
    for turn in turns:
        label = " ".join(str(turn.get("name") or "" if "name" in turn else turn.get("speaker", "")).split())
        if label and label.casefold().rstrip(".") not in ROLE_LABELS and label not in out \
                and not name_rules.is_role_word(label):
            out.append(label)
    return out


def detect(text: str, vocab: Vocabulary, speakers: Sequence[str] = (), use_deduce: bool = True,
           progress: Callable[[int, int], None] | None = None, workers: int | None = 1) -> list[Span]:
    """All personal data in ``text`` as non-overlapping spans, in text order; ``progress(done, total)``
    is called as deduce works through the text (characters); a long text uses ``workers`` processes."""
    candidates: list[Span] = _contact_spans(text)
    for term, kind in vocab.always:
        for s, e in _find_term(text, term):
            candidates.append(Span(s, e, kind, text[s:e], "list"))
    for label in speakers:
        trimmed = trim_person(label, 0, len(label), vocab)
        if trimmed is None:
            continue
        name = label[trimmed[0]:trimmed[1]]
        for s, e in _find_term(text, name, ignore_case=False):
            candidates.append(Span(s, e, "persoon", text[s:e], "speaker"))
    candidates.extend(_rule_persons(text, vocab))
    if use_deduce:
        candidates.extend(_deduce_persons(text, vocab, progress, workers))
    return resolve_overlaps(_drop_kept(text, candidates, vocab))


def _rule_persons(text: str, vocab: Vocabulary) -> list[Span]:
    """Names by our own rules (:mod:`kwalitatief.name_rules`): a surname after an honorific or initials,
    the first name of a possessive ``-s``."""
    common = _common_words()
    spans = []
    for start, end, titled in name_rules.titled_surname_spans(text):
        trimmed = trim_person(text, start, end, vocab)
        if trimmed is None:
            continue
        s, e, _ = trimmed
        last = _bare(text[s:e].split()[-1])
        if last in common or last in INTERFIXES or normalise(text[s:e], "persoon") in vocab.protected:
            continue   # 'A. Het', 'B. Daarna': an enumeration, not a name
        spans.append(Span(s, e, "persoon", text[s:e], "rule", titled))
    for s, e in name_rules.possessive_spans(text):
        spans.append(Span(s, e, "persoon", text[s:e], "rule"))
    return spans


def _drop_kept(text: str, spans: list[Span], vocab: Vocabulary) -> list[Span]:
    """Remove spans that are (inside) a term on the keep list; list entries beat protection."""
    kept: list[tuple[int, int]] = []
    for term in vocab.keep:
        kept.extend(_find_term(text, term))
    inside_kept = _Cover(kept)
    out = []
    for span in spans:
        key = normalise(span.text, span.kind)
        if key in vocab.keep:
            continue
        if inside_kept(span.start, span.end):
            continue
        if span.kind == "persoon" and span.source != "list" and key in vocab.protected:
            continue
        out.append(span)
    return out


class _Cover:
    """Is [start, end) inside one of the given ranges? (in log time: ranges sorted by start, with the
    furthest end reached so far)"""

    def __init__(self, ranges: Iterable[tuple[int, int]]):
        ordered = sorted(ranges)
        self._starts = [s for s, _ in ordered]
        self._reach: list[int] = []
        furthest = -1
        for _, e in ordered:
            furthest = max(furthest, e)
            self._reach.append(furthest)

    def __call__(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self._starts, start) - 1
        return i >= 0 and self._reach[i] >= end


_PRIORITY = {"regex": 4, "list": 3, "speaker": 2, "rule": 1, "deduce": 1, "propagated": 0}


def resolve_overlaps(spans: Iterable[Span]) -> list[Span]:
    """Keep non-overlapping spans: contact data first, then the longest, then the surest source."""
    ordered = sorted(set(spans), key=lambda s: (s.source != "regex", -(s.end - s.start),
                                                -_PRIORITY.get(s.source, 0), s.start, s.kind))
    if not ordered:
        return []
    taken = bytearray(max(s.end for s in ordered))   # one byte per character: is it in a chosen span?
    chosen: list[Span] = []
    for span in ordered:
        if span.end > span.start and taken.find(1, span.start, span.end) < 0:
            taken[span.start:span.end] = b"\x01" * (span.end - span.start)
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


# --------------------------------------------------------------------------------------------
# Tags across the corpus
# --------------------------------------------------------------------------------------------

def normalise(value: str, kind: str) -> str:
    """The identity of a value: same key, same tag (case, spacing and punctuation do not matter)."""
    if kind == "telefoon":
        digits = re.sub(r"\D", "", value)
        for prefix in ("0031", "31"):
            if digits.startswith(prefix) and len(digits) > 10:
                digits = "0" + digits[len(prefix):].lstrip("0")
        return digits
    if kind == "postcode":
        return re.sub(r"\s", "", value).upper()
    return " ".join(value.replace("’", "'").split()).casefold().strip(".,")


def _name_parts(name: str) -> tuple[str, str]:
    """(first name, surname with particles) of a full name; empty strings for what is not there."""
    words = [w for w in name.split() if not w.endswith(".")]  # initials are no names
    if len(words) < 2:
        return "", ""
    if words[0].casefold() in INTERFIXES:
        return "", " ".join(words)
    return words[0], " ".join(words[1:])


@dataclass(frozen=True)
class CorpusNames:
    """The names :func:`propagate` looks for in every document, found anywhere in the corpus."""

    any_case: tuple[str, ...] = ()   # full names (casefolded) that are no common words in lower case either
    exact: tuple[str, ...] = ()      # the other full names, as written
    parts: tuple[str, ...] = ()      # capitalised one-word parts of full names (a first name, a surname) and
                                     # a surname with particles as a form of address ('Van Wageningen')


def _form_of_address(surname: str) -> str:
    """A surname with particles as written without its first name ('van Wageningen' -> 'Van Wageningen'),
    or '' when it has no particle or its last word is short or in lower case."""
    words = surname.split()
    if len(words) < 2 or words[0].casefold() not in INTERFIXES or len(words[-1]) < 3 or not words[-1][:1].isupper():
        return ""
    return surname[:1].upper() + surname[1:]


def corpus_names(spans: dict[str, list[Span]], vocab: Vocabulary) -> CorpusNames:
    """The full names detected in any document, and their parts, to be found in all documents."""
    full_names: set[str] = set()
    for doc_spans in spans.values():
        for span in doc_spans:
            if span.kind == "persoon" and len(span.text.split()) >= 2:
                full_names.add(" ".join(span.text.split()))
    common = _common_words()
    any_case = {name for name in full_names if _safe_in_any_case(name, common)}
    # the parts of a full name (a first name, a surname) in every other document too, as written
    # (capitalised): a colleague greeted by first name in another interview is the same person
    parts: set[str] = set()
    for name in full_names:
        for part in _name_parts(name):
            if (" " not in part and len(part) >= 3 and part[:1].isupper() and part.casefold() not in common
                    and normalise(part, "persoon") not in vocab.protected | vocab.keep):
                parts.add(part)
        addressed = _form_of_address(_name_parts(name)[1])
        if addressed and normalise(addressed, "persoon") not in vocab.protected | vocab.keep:
            parts.add(addressed)   # 'meneer Van Wageningen' in another interview than 'Frits van Wageningen'
    return CorpusNames(tuple(sorted({name.casefold() for name in any_case})), tuple(sorted(full_names - any_case)),
                       tuple(sorted(parts)))


def propagate(texts: dict[str, str], spans: dict[str, list[Span]], vocab: Vocabulary,
              cache: Any = None, salt: Sequence[Any] = (), workers: int | None = 1) -> dict[str, list[Span]]:
    """Find every detected name wherever else it occurs: full names (two or more words) and their
    capitalised one-word parts in all documents, lone names found with a title and the lower-case parts of
    full names within their own document.

    A document's result depends on its text, its own spans, the vocabulary and the corpus' names
    (:func:`corpus_names`) only. With ``cache`` (a :class:`kwalitatief.cache.DocumentCache`; ``salt``: what
    else the result depends on, such as the code's fingerprint) a document whose inputs are all unchanged is
    not searched again: an edit that adds no name elsewhere redoes the edited document alone. The documents
    to search are shared out over ``workers`` processes (each document's result is its own).
    """
    names = corpus_names(spans, vocab)
    out: dict[str, list[Span]] = {}
    keys: dict[str, str] = {}
    if cache is not None:
        common = cache.key(*salt, [list(vocab.always), sorted(vocab.keep), sorted(vocab.protected)], asdict(names))
        for doc_id, text in texts.items():
            own = [[s.start, s.end, s.kind, s.text, s.source, s.titled] for s in spans.get(doc_id, [])]
            key = cache.key(common, text, own)
            hit = cache.get(key, check=lambda found, text=text: spans_match(found, text))
            if hit is None:
                keys[doc_id] = key
            else:
                out[doc_id] = [Span(**span) for span in hit]
    todo = {doc_id: text for doc_id, text in texts.items() if doc_id not in out}
    for doc_id, found in _propagate_parallel(todo, spans, vocab, names, workers).items():
        out[doc_id] = found
        if doc_id in keys:
            cache.put(keys[doc_id], [s.as_dict() for s in found])
    return {doc_id: out[doc_id] for doc_id in texts}


def spans_match(spans: list[dict[str, Any]], text: str) -> bool:
    """Every span (as a dict) lies in the text and still covers the string it was found as."""
    return all(0 <= s["start"] < s["end"] <= len(text) and text[s["start"]:s["end"]] == s["text"] for s in spans)


def _propagate_parallel(texts: dict[str, str], spans: dict[str, list[Span]], vocab: Vocabulary,
                        names: CorpusNames, workers: int | None) -> dict[str, list[Span]]:
    """:func:`_propagate_documents` in groups of documents balanced by length, one process per group
    (a document's result depends on its own text and spans and on ``names`` only)."""
    from .parallel import balanced_groups, map_documents, resolve_workers

    n = resolve_workers(workers)
    ids = list(texts)
    if n <= 1 or len(ids) < 2:
        return _propagate_documents(texts, spans, vocab, names)
    groups = balanced_groups([len(texts[doc_id]) for doc_id in ids], n * 4)
    jobs = [({ids[i]: texts[ids[i]] for i in g}, {ids[i]: spans.get(ids[i], []) for i in g}, vocab, names)
            for g in groups]
    out: dict[str, list[Span]] = {}
    for part in map_documents(_propagate_job, jobs, n, label="name search"):
        out.update(part)
    return {doc_id: out[doc_id] for doc_id in ids}


def _propagate_job(job: tuple[dict[str, str], dict[str, list[Span]], Vocabulary, CorpusNames]
                   ) -> dict[str, list[Span]]:
    texts, spans, vocab, names = job
    found = _propagate_documents(texts, spans, vocab, names)
    _word_positions.cache_clear()   # a worker of the pool may get another group
    return found


def _propagate_documents(texts: dict[str, str], spans: dict[str, list[Span]], vocab: Vocabulary,
                         names: CorpusNames) -> dict[str, list[Span]]:
    """:func:`propagate` of these documents, without a cache."""
    common = _common_words()
    candidates = _names_per_document({k: v.casefold() for k, v in texts.items()}, list(names.any_case))
    exact = _names_per_document(texts, list(names.exact))
    part_hits = _names_per_document(texts, list(names.parts))
    out: dict[str, list[Span]] = {}
    for doc_id, text in texts.items():
        extra: list[Span] = []
        for name, ignore_case in ([(n, True) for n in candidates[doc_id]] + [(n, False) for n in exact[doc_id]]
                                  + [(n, False) for n in part_hits[doc_id]]):
            for s, e in _find_term(text, name, ignore_case=ignore_case):
                extra.append(Span(s, e, "persoon", text[s:e], "propagated"))
        local: set[str] = set()
        for span in spans.get(doc_id, []):
            if span.kind != "persoon":
                continue
            first, surname = _name_parts(span.text)
            if len(span.text.split()) == 1 and (span.titled or span.source in ("list", "speaker")):
                local.add(span.text)
            for part in (first, surname):
                if part and len(part) >= 3 and part.casefold() not in common:
                    local.add(part)
        for part in sorted(local):
            if normalise(part, "persoon") in vocab.protected | vocab.keep:
                continue
            variants = {part, part[:1].upper() + part[1:]}
            core = " ".join(w for w in part.split() if w.casefold() not in INTERFIXES)
            if core != part and normalise(core, "persoon") in vocab.protected:
                # 'van Kampen' of 'Frits van Kampen' is 'de wethouder van Kampen' too: only the form of address
                # ('meneer Van Kampen') is the person
                variants = {part[:1].upper() + part[1:]}
            for variant in sorted(variants):
                found = _find_term(text, variant, ignore_case=False)
                if " " not in variant:   # 'Sjoerds', 'Tsjallings': the possessive -s of a name in this document
                    found += _match_at_words(text, name_rules.possessive_pattern(variant), variant)
                for s, e in found:
                    extra.append(Span(s, e, "persoon", text[s:e], "propagated"))
        out[doc_id] = resolve_overlaps(spans.get(doc_id, []) + _drop_kept(text, extra, vocab))
    return out


_WORD = re.compile(r"\w+")


def _safe_in_any_case(name: str, common: frozenset[str]) -> bool:
    """May a full name be found in lower case too (``jan de vries``)? Only when one of its words, not
    counting particles, is no common Dutch word (``wil bakker`` or ``van dam`` in lower case are words)."""
    words = [w.casefold() for w in name.split() if w.casefold() not in INTERFIXES]
    return len(words) >= 2 and any(len(w) >= 3 and w not in common for w in words)


def _names_per_document(texts: dict[str, str], names: list[str]) -> dict[str, list[str]]:
    """Per document, the names (in the given order) whose every word occurs in it as a whole word.

    A name can only match where all its words occur, so an index word -> documents narrows a corpus of
    hundreds of documents and thousands of names to the few pairs worth a regex scan.
    """
    documents_with: dict[str, set[str]] = {}
    for doc_id, text in texts.items():
        for word in set(_WORD.findall(text)):
            documents_with.setdefault(word, set()).add(doc_id)
    out: dict[str, list[str]] = {doc_id: [] for doc_id in texts}
    for name in names:
        sets = sorted((documents_with.get(word, set()) for word in set(_WORD.findall(name))), key=len)
        for doc_id in sets[0].intersection(*sets[1:]) if sets else texts:
            out[doc_id].append(name)
    return out


def _is_full_name(text: str) -> bool:
    words = text.split()
    return len(words) >= 2 and words[0].casefold() not in INTERFIXES


def _link_key(span: Span, full_keys: list[str]) -> str:
    """The key of a lone surname/first name: the one full name of the document carrying it, else itself."""
    key = normalise(span.text, span.kind)
    if span.kind != "persoon" or _is_full_name(span.text):
        return key
    matches = [k for k in full_keys if k != key and (k.endswith(" " + key) or k.startswith(key + " "))]
    return matches[0] if len(matches) == 1 else key


def assign_tags(order: Sequence[str], spans: dict[str, list[Span]]
                ) -> tuple[dict[str, dict[int, str]], list[dict[str, str]]]:
    """Tags for every span, numbered per kind by first occurrence in ``order``.

    Returns ({doc_id: {span.start: tag}}, key rows [{tag, original, doc_id}])."""
    counters: dict[str, int] = {}
    tag_of: dict[tuple[str, str], str] = {}
    by_doc: dict[str, dict[int, str]] = {}
    key_rows: dict[tuple[str, str, str], None] = {}
    for doc_id in order:
        doc_spans = spans.get(doc_id, [])
        full_keys = sorted({normalise(s.text, s.kind) for s in doc_spans
                            if s.kind == "persoon" and _is_full_name(s.text)})
        tags: dict[int, str] = {}
        for span in doc_spans:
            key = (span.kind, _link_key(span, full_keys))
            if key not in tag_of:
                counters[span.kind] = counters.get(span.kind, 0) + 1
                tag_of[key] = f"[{TAG_NAMES[span.kind]}-{counters[span.kind]}]"
            tags[span.start] = tag_of[key]
            key_rows[(tag_of[key], span.text, doc_id)] = None
        by_doc[doc_id] = tags
    rows = [{"tag": t, "original": o, "doc_id": d} for t, o, d in key_rows]
    return by_doc, rows


# --------------------------------------------------------------------------------------------
# Applying replacements
# --------------------------------------------------------------------------------------------

class OffsetMap:
    """Maps offsets of the original text to the pseudonymised text."""

    def __init__(self, replacements: list[dict[str, Any]]):
        self._starts = [r["orig_start"] for r in replacements]
        self._repl = replacements

    def __call__(self, offset: int, side: str = "start") -> int:
        i = bisect.bisect_right(self._starts, offset) - 1
        if i < 0:
            return offset
        r = self._repl[i]
        if offset >= r["orig_end"]:
            return offset + (r["end"] - r["orig_end"])
        if offset == r["orig_start"]:
            return r["start"]
        return r["start"] if side == "start" else r["end"]


def apply_replacements(doc: dict[str, Any], spans: list[Span], tags: dict[int, str]) -> dict[str, Any]:
    """The document with every span replaced by its tag, offsets of blocks, turns and pages remapped,
    speaker labels pseudonymised, and ``replacements`` (offsets only, no original strings)."""
    text = doc["text"]
    parts: list[str] = []
    replacements: list[dict[str, Any]] = []
    pos = 0
    new_len = 0
    for span in sorted(spans, key=lambda s: s.start):
        tag = tags[span.start]
        parts.append(text[pos:span.start])
        new_len += span.start - pos
        replacements.append({"start": new_len, "end": new_len + len(tag), "tag": tag,
                             "orig_start": span.start, "orig_end": span.end})
        parts.append(tag)
        new_len += len(tag)
        pos = span.end
    parts.append(text[pos:])
    new_text = "".join(parts)
    remap = OffsetMap(replacements)
    out = dict(doc)
    out["text"] = new_text
    out["replacements"] = replacements
    out["blocks"] = [{**b, "start": remap(b["start"]), "end": remap(b["end"], "end")} for b in doc.get("blocks", [])]
    out["pages"] = [[remap(s), remap(e, "end"), p] for s, e, p in doc.get("pages", [])]
    turns = []
    for turn in doc.get("turns", []):
        new_turn = {k: v for k, v in turn.items() if k != "name"}  # the original name: never passed on
        new_turn.update(start=remap(turn["start"]), end=remap(turn["end"], "end"))
        new_turn["speaker"] = _pseudonymised_label(text, new_text, turn, remap, spans, tags)
        turns.append(new_turn)
    out["turns"] = turns
    return out


def _pseudonymised_label(text: str, new_text: str, turn: dict[str, Any], remap: OffsetMap,
                         spans: list[Span], tags: dict[int, str]) -> str:
    """The speaker label as it reads after replacement (the tag for a name label)."""
    label = turn["speaker"]
    para_start = text.rfind("\n\n", 0, turn["start"])
    para_start = 0 if para_start < 0 else para_start + 2
    at = text.find(label, para_start, turn["start"])
    if at >= 0:
        return new_text[remap(at):remap(at + len(label), "end")]
    # label not found in the prefix: replace the names it contains with the same tags
    result = label
    for span in sorted(spans, key=lambda s: -len(s.text)):
        result = term_pattern(span.text, ignore_case=False).sub(tags[span.start], result)
    return result


def original_offsets(replacements: list[dict[str, Any]], start: int, end: int) -> tuple[int, int]:
    """Offsets in the original text of the pseudonymised range [start, end) (for the key holder)."""
    def back(offset: int, side: str) -> int:
        shift = 0
        for r in replacements:
            if offset >= r["end"] and not (offset == r["end"] and side == "start" and offset == r["start"]):
                shift = r["orig_end"] - r["end"]
                continue
            if r["start"] < offset < r["end"]:
                return r["orig_start"] if side == "start" else r["orig_end"]
            break
        return offset + shift

    return back(start, "start"), back(end, "end")


# --------------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------------

@dataclass
class CorpusResult:
    documents: list[dict[str, Any]]
    key: list[dict[str, str]]
    problems: list[dict[str, Any]]
    counts: dict[str, int]
    detected: dict[str, list[Span]]  # per document, before spreading names across the corpus


class ProgressLog:
    """Logs 'doc_id: detection 30 % (6.0 of 20.0 MB)' each time another ``step`` % of a long text is done."""

    def __init__(self, doc_id: str, step: int = 10):
        self.doc_id, self.step, self._next = doc_id, step, step

    def __call__(self, done: int, total: int) -> None:
        import logging

        percent = 100 * done // max(total, 1)
        if percent >= self._next:
            logging.getLogger("kwalitatief.pseudonymise").info(
                "%s: detection %d %% (%.1f of %.1f MB)", self.doc_id, percent, done / 1e6, total / 1e6)
            self._next = (percent // self.step + 1) * self.step


class PartLog:
    """Logs 'doc_id: detection part 3 of 8 done' when a worker finishes its part of a long text."""

    def __init__(self, doc_id: str, part: int, parts: int, end: int):
        self.doc_id, self.part, self.parts, self.end = doc_id, part, parts, end

    def __call__(self, done: int, total: int) -> None:
        import logging

        if done < self.end:
            return
        logging.getLogger("kwalitatief.pseudonymise").info(
            "%s: detection part %d of %d done", self.doc_id, self.part, self.parts)


def _detect_job(job: tuple[str, str, Vocabulary, list[str], bool, int | None]
                ) -> tuple[list[Span] | None, str | None]:
    """``detect`` for one document (in a worker, or with ``workers`` of its own): (spans, None), or
    (None, what went wrong)."""
    doc_id, text, vocab, speakers, use_deduce, workers = job
    progress = ProgressLog(doc_id) if len(text) >= PROGRESS_FROM else None
    try:
        return detect(text, vocab, speakers, use_deduce, progress, workers), None
    except Exception as exc:  # noqa: BLE001 - one broken document must not stop the others
        return None, f"{exc.__class__.__name__}: {exc}"


def pseudonymise_corpus(docs: Sequence[dict[str, Any]], doc_types: dict[str, str], vocab: Vocabulary,
                        settings: Settings, detected: dict[str, list[Span]] | None = None,
                        workers: int | None = 1, propagation_cache: Any = None,
                        cache_salt: Sequence[Any] = ()) -> CorpusResult:
    """Pseudonymise every document whose doc_type is configured; copy the others unchanged.

    ``docs`` are extracted documents (Extracted.to_dict()) in manifest order. ``detected`` may hold
    spans already found for some documents (a cache); missing ones are detected here, in ``workers``
    processes (deduce is loaded once, before the workers start, so they share it). A document that
    fails is left out (never passed on unpseudonymised) and reported in ``problems``. ``propagation_cache``
    and ``cache_salt``: see :func:`propagate`."""
    from .parallel import map_documents, resolve_workers

    problems: list[dict[str, Any]] = []
    targets = [d for d in docs if doc_types.get(d["doc_id"]) in settings.doc_types]
    texts = {d["doc_id"]: d["text"] for d in targets}
    spans: dict[str, list[Span]] = {}
    failed: set[str] = set()
    todo = [d for d in targets if detected is None or d["doc_id"] not in detected]
    if todo and settings.use_deduce and resolve_workers(workers) > 1 and len(todo) > 1:
        load_deduce()
    # a long transcript shares its own detection out over the workers; the others go one per worker
    parallel = resolve_workers(workers) > 1 and settings.use_deduce
    long = [d for d in todo if parallel and len(d["text"]) >= PARALLEL_FROM]
    rest = [d for d in todo if not (parallel and len(d["text"]) >= PARALLEL_FROM)]
    jobs = [(d["doc_id"], d["text"], vocab, speaker_names(d.get("turns", [])), settings.use_deduce, 1) for d in rest]
    found = dict(zip((d["doc_id"] for d in rest),
                     map_documents(_detect_job, jobs, workers, sizes=[len(d["text"]) for d in rest])))
    for d in long:
        found[d["doc_id"]] = _detect_job((d["doc_id"], d["text"], vocab, speaker_names(d.get("turns", [])),
                                          settings.use_deduce, workers))
    for doc in targets:
        doc_id = doc["doc_id"]
        if detected is not None and doc_id in detected:
            spans[doc_id] = detected[doc_id]
            continue
        doc_spans, error = found[doc_id]
        if doc_spans is not None:
            spans[doc_id] = doc_spans
            continue
        failed.add(doc_id)
        problems.append({"stage": "pseudonymise", "doc_id": doc_id, "severity": "error",
                         "message": f"pseudonymisation failed ({error}); the document is left out of all later "
                                    "stages. Check its extracted text with 'kwal pseudonymise PATH'.",
                         "detail": None})
    texts = {k: v for k, v in texts.items() if k not in failed}
    spread = propagate(texts, spans, vocab, propagation_cache, cache_salt, workers)
    order = [d["doc_id"] for d in targets if d["doc_id"] not in failed]
    tags, key = assign_tags(order, spread)
    out_docs: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for doc in docs:
        doc_id = doc["doc_id"]
        if doc_id in failed:
            continue
        if doc_id in spread:
            out_docs.append(apply_replacements(doc, spread[doc_id], tags[doc_id]))
            for span in spread[doc_id]:
                counts[span.kind] = counts.get(span.kind, 0) + 1
        else:
            out_docs.append({**doc, "replacements": []})
    _word_positions.cache_clear()   # the word index of a long transcript is large
    return CorpusResult(out_docs, key, problems, counts, spans)


def key_csv(rows: Iterable[dict[str, str]]) -> str:
    """The key as CSV text (columns tag, original, doc_id)."""
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["tag", "original", "doc_id"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def register_labels(respondents: Iterable[dict[str, str]], documents: Iterable[dict[str, str]],
                    key: Iterable[dict[str, str]], settings: Settings) -> dict[str, dict[str, str]]:
    """Pseudonymised labels for the register: organisations of the replaced respondent types get their
    tag (``[ORGANISATIE-2]``), and so do the titles of documents that name them.

    Returns ``{"organisations": {respondent_id: label}, "titles": {doc_id: title}}`` holding only the
    entries that change; the database uses them instead of the register's own values.
    """
    tag_of = {}
    for row in key:
        if row["tag"].startswith("[ORGANISATIE-"):
            tag_of.setdefault(normalise(row["original"], "organisatie"), row["tag"])
    organisations: dict[str, str] = {}
    names: dict[str, tuple[str, str]] = {}
    if settings.replace_organisations:
        for resp in respondents:
            if resp.get("respondent_type") in settings.organisation_types and resp.get("organisation"):
                bare = _strip_parenthetical(resp["organisation"])
                label = tag_of.get(normalise(bare, "organisatie"), "[ORGANISATIE]")
                organisations[resp["respondent_id"]] = label
                names[resp["respondent_id"]] = (resp["organisation"], bare)
    titles: dict[str, str] = {}
    for doc in documents:
        rid = doc.get("respondent_id")
        if rid in names and doc.get("title"):
            title = doc["title"]
            for name in names[rid]:
                title = title.replace(name, organisations[rid])
            if title != doc["title"]:
                titles[doc["doc_id"]] = title
    return {"organisations": organisations, "titles": titles}
