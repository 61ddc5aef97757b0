"""Where a REFI-QDA selection lands in a corpus document, and how a file counts its positions.

Tools disagree on what a position counts in a file with CRLF line ends or a byte order mark (README,
"Exchange with QDA software"); :func:`choose_reading` tries each reading of a source and takes the one
under which the selections land on fragment boundaries. A selection's landing says which fragments it
codes, and why it must not be imported when it lands wrongly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET


def _nonspace_index(text: str) -> list[int]:
    return [i for i, ch in enumerate(text) if not ch.isspace()]


class Aligner:
    """Maps positions in a source text to positions in a corpus text with the same non-space characters."""

    def __init__(self, source: str, target: str) -> None:
        self.src = _nonspace_index(source)
        self.tgt = _nonspace_index(target)
        self.src_len, self.tgt_len = len(source), len(target)

    def __call__(self, pos: int, end: bool = False) -> int:
        import bisect

        k = bisect.bisect_left(self.src, pos)     # non-space characters before pos
        if end:
            return self.tgt[k - 1] + 1 if k > 0 else 0
        return self.tgt[k] if k < len(self.tgt) else self.tgt_len


def norm_space(text: str) -> str:
    """Runs of whitespace as one space, none at the ends (how sources are matched to documents)."""
    return " ".join(text.split())


def short(text: str, limit: int = 60) -> str:
    text = norm_space(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Reading:
    """One way to count a source's positions: over ``text``, position p is ``text[p - shift]``."""

    label: str
    text: str
    shift: int = 0


def readings(stored: str) -> list[Reading]:
    """The ways other tools count positions, the spec's literal reading first (it wins ties).

    REFI-QDA 1.5 counts code points of the stored plain text, so a CRLF line end is two positions; some tools
    count the LF-normalised text instead (QualCoder exports positions over its LF text, also when it writes
    CRLF files for MAXQDA). A byte order mark is not text; a tool that counts it shifts every position by one.
    """
    bom = stored.startswith("\ufeff")
    body = stored[1:] if bom else stored
    out = [Reading("code points of the stored text" + (" (CRLF = 2)" if "\r" in body else ""), body)]
    if "\r" in body:
        out.append(Reading("code points of the LF-normalised text (CRLF = 1)",
                           body.replace("\r\n", "\n").replace("\r", "\n")))
    if bom:
        out += [Reading(r.label + ", byte order mark counted", r.text, 1) for r in list(out)]
    return out


@dataclass
class Selection:
    name: str
    start: int
    end: int
    element: ET.Element


@dataclass
class Landing:
    """Where a selection lands in the corpus document under one reading."""

    start: int
    end: int
    text: str                        # the source's text at the selection's positions
    fragments: list[dict[str, Any]]  # the fragments it codes
    problem: str | None = None       # why it must not be imported
    partial: bool = False            # its ends are not fragment boundaries


class Target:
    """A corpus document a source matched: its text and fragment spans (pseudonymised or original)."""

    def __init__(self, doc_id: str, text: str, spans: list[tuple[dict[str, Any], int, int]]) -> None:
        self.doc_id, self.text, self.spans = doc_id, text, spans
        self.bounds = {b for _, fs, fe in spans for b in (fs, fe)}
        self.ids = {f["fragment_id"]: (fs, fe) for f, fs, fe in spans}

    def land(self, sel: Selection, reading: Reading, align: Aligner, names_are_text: bool = False) -> Landing:
        s, e = sel.start - reading.shift, sel.end - reading.shift
        if not 0 <= s < e <= len(reading.text):
            return Landing(s, e, "", [], f"positions {sel.start}-{sel.end} lie outside the text "
                                           f"({len(reading.text)} characters)")
        text = reading.text[s:e]
        a, b = align(s), align(e, end=True)
        hits = [f for f, fs, fe in self.spans if covers(a, b, fs, fe)]
        landing = Landing(a, b, text, hits, partial=not (a in self.bounds and b in self.bounds))
        if sel.name in self.ids and self.ids[sel.name] != (a, b):
            landing.problem = f"it is named after fragment {sel.name}, but its positions give '{short(text)}'"
        elif names_are_text and sel.name and sel.name not in self.ids and norm_space(sel.name) != norm_space(text):
            landing.problem = f"its name is '{short(sel.name)}' but its positions give '{short(text)}'"
        elif not hits:
            landing.problem = f"'{short(text)}' covers no fragment"
        return landing


def names_are_text(sels: list[Selection], options: list[Reading]) -> bool:
    """Does this tool name a selection by its text (QualCoder does; others use labels)? Yes when for most
    named selections the name is the text at its positions under some reading."""
    named = [sel for sel in sels if sel.name.strip()]
    hits = sum(any(norm_space(sel.name) == norm_space(r.text[sel.start - r.shift:sel.end - r.shift]) for r in options)
               for sel in named)
    return bool(named) and hits * 2 > len(named)


def _word_cut(text: str, pos: int) -> bool:
    return 0 < pos < len(text) and text[pos - 1].isalnum() and text[pos].isalnum()


def _score(target: Target, sels: list[Selection], reading: Reading, corpus_text: str, by_text: bool
           ) -> tuple[int, int, int]:
    """(selections without problem, ends on fragment boundaries, ends that cut no word): higher is better."""
    align = Aligner(reading.text, corpus_text)
    clean = bounds = words = 0
    for sel in sels:
        landing = target.land(sel, reading, align, by_text)
        if landing.problem is None:
            clean += 1
        bounds += (landing.start in target.bounds) + (landing.end in target.bounds)
        s, e = sel.start - reading.shift, sel.end - reading.shift
        words += (not _word_cut(reading.text, s)) + (not _word_cut(reading.text, e))
    return clean, bounds, words


def choose_reading(target: Target, sels: list[Selection], stored: str) -> tuple[Reading, str, bool]:
    """The reading under which the selections land best, a sentence that reports the choice, and whether
    the selections are named by their text (then a name that differs from the text is a wrong landing)."""
    options = readings(stored)
    by_text = names_are_text(sels, options)
    scores = [_score(target, sels, r, target.text, by_text) for r in options]
    best = max(range(len(options)), key=lambda i: (scores[i], -i))
    reading = options[best]
    n = len(sels)
    why = f"{scores[best][1]} of {2 * n} selection ends on fragment boundaries"
    others = "; ".join(f"{r.label}: {sc[1]}" for r, sc in zip(options, scores) if r is not reading)
    return reading, f"positions read as {reading.label}: {why}" + (f" (other readings: {others})" if others else ""), by_text


def covers(s: int, e: int, fs: int, fe: int) -> bool:
    """A selection codes a fragment when it covers at least half of it or lies within it."""
    inter = min(e, fe) - max(s, fs)
    if inter <= 0:
        return False
    return inter * 2 >= (fe - fs) or inter == (e - s)
