"""Find (and replace) the originals of the pseudonym key in any text, in one pass (Aho-Corasick).

Used by the leak guard (:mod:`kwalitatief.leakguard`: is any original left in the outputs?) and by
every stage that quotes researcher text (an annotation, a review decision, a manifest title) outside
``outputs/private/``: :meth:`KeyIndex.redact` replaces each original by its tag.

Matching: whole words only (never inside a longer word, an e-mail address or a hyphenated word), any
whitespace between the words of an original, case-insensitive. Two exceptions keep the guard free of
false alarms, and are documented in the README:

* an original with fewer than :data:`MIN_CHARS` letters or digits (an initial, ``Jo``) is not looked for;
* an original whose every word is also a Dutch word (deduce's list of common words and the word forms
  of spaCy's Dutch lemma tables: ``Bakker``, ``Ken``, ``De Groot``) is looked for only as written in the
  key (capitalised) and not at the start of a sentence, so ``de bakker``, ``ik ken`` and ``Ken je
  dat?`` are no leak, ``met Ken Bakker`` is.

:meth:`KeyIndex.redact` is stricter (fail closed): it replaces every original of two or more
characters in any case.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import ahocorasick

MIN_CHARS = 3
# 'İ' (U+0130) is the one character whose lower case is two characters long: it is matched as 'I'
_BEFORE_STOP = "-@._"   # 'x@y.nl', 'Jan-Willem', 'a.bakker': a name glued to these is part of a longer token
_AFTER_STOP = "-@_"


@dataclass(frozen=True)
class Hit:
    """One original found in a text: its span in that text, the original as in the key, and its tag."""

    start: int
    end: int
    original: str
    tag: str


def read_key(path: str | Path) -> list[dict[str, str]]:
    """The rows (tag, original, doc_id) of ``pseudonym_key.csv``; a missing file is an empty key."""
    path = Path(path)
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle) if (row.get("original") or "").strip()]


def project_redactor(root: str | Path = ".") -> KeyIndex:
    """The strict index of the project's key (outputs/private/pseudonym_key.csv), for redaction."""
    from .paths import PSEUDONYM_KEY

    return KeyIndex(read_key(Path(root) / PSEUDONYM_KEY), strict=True)


def _normalise(text: str) -> str:
    return " ".join(text.split())


def _significant(original: str) -> int:
    return sum(ch.isalnum() for ch in original)


def dutch_words(candidates: Iterable[str]) -> set[str]:
    """The ``candidates`` (lower case) that are Dutch words: deduce's common words or a form in spaCy's
    Dutch lemma tables (spacy-lookups-data)."""
    import gzip
    import importlib.util

    import orjson

    from .pseudonymise import _common_words

    wanted = {c.lower() for c in candidates}
    found = wanted & _common_words()
    spec = importlib.util.find_spec("spacy_lookups_data")
    if spec is None or spec.origin is None:
        return found
    folder = Path(spec.origin).parent / "data"
    for name in ("nl_lemma_lookup", "nl_lemma_index", "nl_lemma_exc"):
        path = folder / f"{name}.json.gz"
        if not path.exists():
            continue
        table = orjson.loads(gzip.decompress(path.read_bytes()))
        if name == "nl_lemma_lookup":                       # form -> lemma
            found |= wanted.intersection(table) | wanted.intersection(table.values())
            continue
        for part in table.values():                         # per part of speech: lemmas, or form -> lemmas
            found |= wanted.intersection(part)
            if isinstance(part, dict):
                found |= wanted.intersection(v for vs in part.values() for v in (vs if isinstance(vs, list) else [vs]))
    return found


_SENTENCE_END = ".!?:;\"'“”‘’(«»[>*–—-\u241e"


def _sentence_start(text: str, start: int) -> bool:
    pos = start - 1
    while pos >= 0 and text[pos].isspace():
        pos -= 1
    return pos < 0 or text[pos] in _SENTENCE_END


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch in _BEFORE_STOP


class KeyIndex:
    """The originals of a key (rows with tag, original, doc_id), searchable in one pass over a text.

    ``strict`` (for redaction) looks for every original of two or more characters in any case;
    otherwise the two exceptions of the module docstring apply (for the leak guard), with ``words``
    (default :func:`dutch_words`) telling which of the originals' words are Dutch words.
    """

    def __init__(self, rows: Iterable[dict[str, str]], strict: bool = False,
                 words: Callable[[Iterable[str]], set[str]] | None = None):
        self._tags: dict[str, dict[str | None, str]] = {}   # normalised original -> doc_id (None: any) -> tag
        self._exact: dict[str, str] = {}                    # lowered -> original as written (case-sensitive)
        for tag, original, doc_id in ([r["tag"], r["original"], r.get("doc_id") or None] for r in rows):
            self._add(_normalise(original), tag, doc_id)
        self._automaton = ahocorasick.Automaton()
        dutch = set() if strict else (words or dutch_words)(w.lower() for o in self._tags for w in o.split())
        for original in self._tags:
            if _significant(original) < (2 if strict else MIN_CHARS):
                continue
            lowered = original.replace("\u0130", "I").lower()
            if not strict and all(w in dutch for w in lowered.split()):
                self._exact[lowered] = original
            self._automaton.add_word(lowered, (lowered, original))
        self.size = len(self._automaton)
        if self.size:
            self._automaton.make_automaton()

    def _add(self, original: str, tag: str, doc_id: str | None) -> None:
        if original:
            tags = self._tags.setdefault(original, {})
            tags.setdefault(doc_id, tag)
            tags.setdefault(None, tag)

    def tag_of(self, original: str, doc_id: str | None = None) -> str:
        tags = self._tags.get(_normalise(original)) or {}
        return tags.get(doc_id) or tags.get(None) or "[PERSOON]"

    def find(self, text: str, doc_id: str | None = None) -> list[Hit]:
        """Every original in ``text`` as a whole word (leftmost-longest, not overlapping), in text order."""
        flat = _normalise(text or "")
        hits = self.find_normalised(flat, doc_id)
        if not hits or flat == text:
            return hits
        mapping = list(_offsets(text))
        return [Hit(mapping[h.start], mapping[h.end - 1] + 1, h.original, h.tag) for h in hits]

    def find_normalised(self, flat: str, doc_id: str | None = None) -> list[Hit]:
        """:meth:`find` on a text whose whitespace is already collapsed (spans are in that text)."""
        if not self.size or not flat:
            return []
        lowered = (flat.replace("\u0130", "I") if "\u0130" in flat else flat).lower()   # same offsets as ``flat``
        candidates: list[tuple[int, int, str]] = []
        for end, (key, original) in self._automaton.iter(lowered):
            start = end - len(key) + 1
            if start > 0 and _word_char(lowered[start - 1]):
                continue
            if end + 1 < len(lowered) and (lowered[end + 1].isalnum() or lowered[end + 1] in _AFTER_STOP):
                continue
            if key in self._exact and (flat[start:end + 1] != self._exact[key] or _sentence_start(flat, start)):
                continue
            candidates.append((start, end + 1, original))
        candidates.sort(key=lambda c: (c[0], -(c[1] - c[0])))
        hits: list[Hit] = []
        last = -1
        for start, end, original in candidates:
            if start >= last:
                hits.append(Hit(start, end, original, self.tag_of(original, doc_id)))
                last = end
        return hits

    def redact(self, text: str | None, doc_id: str | None = None) -> str | None:
        """``text`` with every original of the key replaced by its tag (whitespace kept as it was)."""
        if not text:
            return text
        hits = self.find(text, doc_id)
        if not hits:
            return text
        out, pos = [], 0
        for hit in hits:
            out += [text[pos:hit.start], hit.tag]
            pos = hit.end
        out.append(text[pos:])
        return "".join(out)

    def redact_value(self, value: object, doc_id: str | None = None) -> object:
        """:meth:`redact` applied to every string inside a JSON-like value (dicts, lists)."""
        if isinstance(value, str):
            return self.redact(value, doc_id)
        if isinstance(value, dict):
            return {k: self.redact_value(v, doc_id) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.redact_value(v, doc_id) for v in value]
        return value

    def redact_problems(self, problems: Iterable[dict]) -> list[dict]:
        """Problem records (stage, doc_id, severity, message, detail) with every quoted original replaced."""
        return [self.redact_value(p, p.get("doc_id")) for p in problems]  # type: ignore[misc]


def _offsets(text: str) -> Iterator[int]:
    """For each character of ``_normalise(text)``, its offset in ``text``."""
    words = text.split()
    pos = 0
    for i, word in enumerate(words):
        pos = text.index(word, pos)
        yield from range(pos, pos + len(word))
        pos += len(word)
        if i + 1 < len(words):
            yield pos           # the single space stands for the whitespace run that starts here
