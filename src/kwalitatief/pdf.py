"""PDF extraction: PDFium's own text order and line breaks, and our cleaning on top of it.

PDFium (pypdfium2) decides which characters form a line and in which order the lines come
(``get_text_range``); the same text page gives each line's position (the loose boxes of its first and last
character). What PDFium does not do is done here: running headers, footers and page numbers are removed
(band lines that repeat across pages, whatever their text), a column of line numbers is dropped,
hyphenated line breaks are joined with the Dutch rules of :func:`join_hyphenated`, lines become
paragraphs (extra spacing, a first-line indent, a larger or bold heading) and a paragraph that runs over a
column or page break is joined, ruled tables become one block per row with cells joined by `` | ``
(:mod:`.pdf_tables`), turned pages are read upright, text drawn twice at one place is read once, text
outside the page is not read, and every character range keeps its page number.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .document import Block, Extracted, ExtractionError, ends_sentence

SCANNED = "scanned, no text layer; run OCR (e.g. ocrmypdf) first and replace the file"
BAND, WIDE_BAND = 0.08, 0.15  # shares of the page height at the top and bottom (see _band_lines)
WIDE_GAP = 10  # a space this many line heights wide parts two blocks on one baseline (_split_wide_gaps)
_LIGATURES = str.maketrans({"\ufb01": "fi", "\ufb02": "fl", "\ufb00": "ff", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\u00ad": "\x02", "\ufffe": "\x02", "\r": " ", "\n": " ", "\x00": "",
                            "\uf0b7": "\u2022", "\uf0a7": "\u25aa"})  # Symbol and Wingdings bullets (Word)
_SPECIAL = [chr(k) for k in _LIGATURES if not chr(k).isspace()]
_SAME_LENGTH = {char for char in _SPECIAL if len(_LIGATURES[ord(char)]) == 1}  # translated in place
_PAGE_NUMBER = re.compile(r"^(pagina|page|blz\.?|p\.|-|–)?\s*#+(\s*(/|van|of|-|–)\s*#*)?$")
_HYPHEN_KEEP_NEXT = {"en", "of", "tot", "noch"}


Box = tuple[float, float, float, float]  # (x0, bottom, x1, top)


@dataclass(slots=True)
class Line:
    """One line as PDFium gives it, in display coordinates (points, y upwards from the page bottom)."""

    page: int
    x0: float
    x1: float
    bottom: float
    top: float
    size: float
    text: str
    kind: str = "paragraph"  # paragraph | table
    bold: bool = False
    first: int = -1  # index of its first and last character in the page's text (-1: a table row)
    last: int = -1

    @property
    def height(self) -> float:
        return self.top - self.bottom


# ------------------------------------------------------------------------------------------ reading a page

def _to_display(rotation: int, box: Box, bounds: Box) -> Box:
    """A box in PDF user space -> (x0, bottom, x1, top) on the page turned so that its text is upright."""
    left, bottom, right, top = box
    pl, pb, pr, pt = bounds
    if rotation == 0:
        return left - pl, bottom - pb, right - pl, top - pb
    if rotation == 90:
        return bottom - pb, pr - right, top - pb, pr - left
    if rotation == 180:
        return pr - right, pt - top, pr - left, pt - bottom
    if rotation == 270:
        return pt - top, left - pl, pt - bottom, right - pl
    return left - pl, bottom - pb, right - pl, top - pb


def page_lines(page: Any, number: int) -> tuple[list[Line], tuple[float, float]]:
    """The lines of a page in PDFium's reading order with their boxes (ruled tables as rows), and its size
    (width, height) as read."""
    import ctypes

    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        if len(text) != textpage.count_chars():  # PDFium and its text output disagree: read char by char
            from .pdf_calls import function, handle

            raw, unicode = handle(textpage.raw), function("FPDFText_GetUnicode", ctypes.c_uint)
            text = "".join([chr(unicode(raw, i) or 32) for i in range(textpage.count_chars())])
        rotation = _text_rotation(textpage, text)
        bounds = page.get_bbox()
        width, height = bounds[2] - bounds[0], bounds[3] - bounds[1]
        if rotation in (90, 270):
            width, height = height, width
        charbox = _charbox_reader(textpage, rotation, bounds)
        # PDFium ends a line with "\r\n", but joins a line that ends in a hyphen to the next one,
        # marking the hyphen U+FFFE: those are physical lines too (our Dutch rules decide the join).
        if rotation:  # PDFium's line breaks are unreliable on turned text: cut where the baseline moves
            pieces = _lines_by_baseline(text, charbox)
        else:
            pieces = re.split(r"(?<=\ufffe)|\r\n", text) if "\ufffe" in text else text.split("\r\n")
            pieces = _split_hyphen_breaks(text, pieces, charbox)
        lines, middles = _make_lines(textpage, text, pieces, charbox, number, (width, height))
        _mark_bold_headings(textpage, lines, middles)
        lines = drop_line_numbers(_join_same_baseline(lines))
        if lines:
            from .pdf_tables import replace_tables, tables

            found = tables(page, (text, charbox), rotation, bounds, height, lines)
            if found:
                lines = replace_tables(lines, found, number)
    finally:
        textpage.close()
    return lines, (width, height)


def _make_lines(textpage: Any, text: str, pieces: list[str], charbox: Any, number: int,
                page_size: tuple[float, float]) -> tuple[list[Line], list[int]]:
    """A :class:`Line` per non-empty piece of the page's text (the pieces in order), with the index of a
    character in its middle (for font questions). A few raw PDFium calls per line, none per character.
    A line drawn again at the same place (overprinted for a bold effect or a shadow, or a box's text drawn
    twice) is read once; a line outside the page (of ``page_size``, as shown) is not read: nobody sees it."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    from .pdf_calls import function, handle

    raw_page = handle(textpage.raw)
    font_size, is_generated = function("FPDFText_GetFontSize", ctypes.c_double), function("FPDFText_IsGenerated")
    matrix = pdfium_c.FS_MATRIX()
    lines: list[Line] = []
    middles: list[int] = []
    append_line, append_middle = lines.append, middles.append
    width, height = page_size
    offset = 0
    find = text.find
    present = [char for char in _SPECIAL if char in text]  # usually none: str.translate costs per character
    # Marked hyphens and line breaks keep the length: translate the page once and cut the lines from it.
    source = text.translate(_LIGATURES) if present and all(c in _SAME_LENGTH for c in present) else text
    translate = bool(present) and source is text
    drawn: dict[str, list[tuple[float, float]]] = {}
    pieces = list(pieces)
    k = -1
    while k + 1 < len(pieces):
        k += 1
        raw = pieces[k]
        start = find(raw, offset) if raw else offset
        offset = start + len(raw)
        if translate:
            content = " ".join(raw.translate(_LIGATURES).split())
        else:
            content = " ".join((source[start:offset] if present else raw).split())
        if not content:
            continue
        first = offset - len(raw.lstrip())
        last = start + len(raw.rstrip().rstrip("\ufffe")) - 1
        x0, b0, x1, t0 = charbox(first)
        if x0 >= width:  # outside the page: nobody sees it
            continue
        x2, b2, x3, t2 = charbox(last)
        middle = (first + last) >> 1
        while middle < last and text[middle] in " \ufffe\x02":  # a space has no font of its own
            middle += 1
        if b0 - b2 > 0.5 or b2 - b0 > 0.5:  # a superscript, a drop cap or a symbol font at either end
            _, b1, _, t1 = charbox(middle)
            b0, t0 = _median3(b0, b1, b2), _median3(t0, t1, t2)
        if t0 <= 0 or x3 <= 0 or b0 >= height:
            continue
        if content[-2:] == " -" and is_generated(raw_page, last - 1) == 1:
            content = content[:-2] + "-"  # PDFium put a space before a justified line's hyphen
        places = drawn.get(content)
        if places is None:
            drawn[content] = [(x0, b0)]
        elif any(abs(x - x0) < 2 and abs(y - b0) < 2 for x, y in places):
            continue
        else:
            places.append((x0, b0))
        size = font_size(raw_page, middle)
        if size < 3:  # the size is set by scaling the text matrix, not in the font
            function("FPDFText_GetMatrix")(raw_page, middle, ctypes.byref(matrix))
            size *= (matrix.c ** 2 + matrix.d ** 2) ** 0.5 or 1.0
        # wider than its letters (0.4 em each, or as wide as its narrower end: CJK) need by a gap that may
        # part two blocks on one baseline
        letter = max(0.4 * size, min(x1 - x0, x3 - x2))
        if x3 - x0 - WIDE_GAP * (t0 - b0) > letter * len(content) and " " in raw.strip():
            parts = _split_wide_gaps(raw, start, charbox, WIDE_GAP * (t0 - b0))
            if len(parts) > 1:
                pieces[k:k + 1] = parts
                offset, k = start, k - 1
                continue
        append_line(Line(number, x0 if x0 < x2 else x2, x1 if x1 > x3 else x3, b0, t0 if t0 > t2 else t2,
                         round(size or (t0 - b0), 1), content, first=first, last=last))
        append_middle(middle)
    return lines, middles


def _split_wide_gaps(raw: str, start: int, charbox: Any, wide: float) -> list[str]:
    """A PDFium line cut where a space between two characters is wider than ``wide`` and both sides hold
    text of their own (8 letters or more): blocks side by side on one baseline, such as two figures'
    captions or the lines of two columns that PDFium read as one. Narrower gaps (tabs, a code listing's
    alignment, an unruled table's columns) and a lone folio or cell mark stay. Two calls per space, only
    for lines wider than their letters need."""
    parts: list[str] = []
    cut = 0
    for match in re.finditer(r" +", raw):
        before, after = match.start() - 1, match.end()
        if before < 0 or after >= len(raw) or raw[before] == "\ufffe":
            continue
        if (charbox(start + after)[0] - charbox(start + before)[2] > wide
                and _letters(raw[cut:before + 1]) >= 8 and _letters(raw[after:]) >= 8):
            parts.append(raw[cut:match.start()])
            cut = match.start()
    if parts:
        parts.append(raw[cut:])
    return parts or [raw]


def _letters(text: str) -> int:
    return sum(char.isalnum() for char in text)


def _lines_by_baseline(text: str, charbox: Any) -> list[str]:
    """Cut a page's text into lines where a character starts on another baseline (one call per character:
    only for turned pages)."""
    pieces: list[str] = []
    cut, previous = 0, None
    for index, char in enumerate(text):
        if char.isspace() or char == "\ufffe":
            continue
        _, bottom, _, top = charbox(index)
        if previous is not None and abs(bottom - previous[0]) > 0.5 * (previous[1] - previous[0]):
            pieces.append(text[cut:index])
            cut = index
        previous = (bottom, top)
    pieces.append(text[cut:])
    return pieces


_HYPHEN_SPACE = re.compile(r"\w ?-( )(?=\w)")


def _split_hyphen_breaks(text: str, pieces: list[str], charbox: Any) -> list[str]:
    """PDFium sometimes joins a line ending in a hyphen to the next one with a space instead of U+FFFE
    (turned pages): split where the character after ``- `` lies on another baseline."""
    if "- " not in text:
        return pieces
    cuts: list[tuple[int, int]] = []  # (start, end) of the space to cut out, in the page's text
    for match in _HYPHEN_SPACE.finditer(text):
        _, b0, _, t0 = charbox(match.start(1) - 1)
        _, b1, _, _ = charbox(match.end())
        if abs(b0 - b1) > 0.5 * (t0 - b0):
            cuts.append(match.span(1))
    if not cuts:
        return pieces
    out: list[str] = []
    offset = 0
    for raw in pieces:
        start = text.find(raw, offset) if raw else offset
        offset = start + len(raw)
        cut = 0
        while cuts and cuts[0][1] <= offset:
            space, end = cuts.pop(0)
            out.append(raw[cut:space - start])
            cut = end - start
        out.append(raw[cut:])
    return out


def _text_rotation(textpage: Any, text: str) -> int:
    """How far the page's text is turned counter-clockwise (0, 90, 180, 270), from the text matrix of a few
    characters; reading the page as if turned back makes its text upright (whatever ``/Rotate`` says)."""
    import ctypes
    import math

    import pypdfium2.raw as pdfium_c

    votes: dict[int, int] = {}
    matrix = pdfium_c.FS_MATRIX()
    for index in (len(text) // 4, len(text) // 2, 3 * len(text) // 4):
        if text[index:index + 1].strip():
            pdfium_c.FPDFText_GetMatrix(textpage, index, ctypes.byref(matrix))
            mirrored = matrix.a * matrix.d - matrix.b * matrix.c < 0  # no turn makes mirrored text upright
            angle = 0 if mirrored else round(math.degrees(math.atan2(matrix.b, matrix.a)) / 90) * 90 % 360
            votes[angle] = votes.get(angle, 0) + 1
    return max(votes, key=votes.get) if votes else 0


def _median3(a: float, b: float, c: float) -> float:
    return max(min(a, b), min(max(a, b), c))


def _charbox_reader(textpage: Any, rotation: int, bounds: Box):  # noqa: ANN202
    """``charbox(i) -> (x0, bottom, x1, top)`` in display coordinates, with raw PDFium calls (runs per line).

    Loose boxes (the font's ascent and descent, not the glyph's ink): every character of a line in one font
    has the same bottom and top, descenders and accents do not move it.
    """
    import ctypes

    import pypdfium2.raw as pdfium_c

    from .pdf_calls import function, handle

    rect = pdfium_c.FS_RECTF()
    ref = ctypes.byref(rect)
    raw, get = handle(textpage.raw), function("FPDFText_GetLooseCharBox")
    pl, pb = bounds[0], bounds[1]

    def charbox(index: int) -> Box:
        get(raw, index, ref)
        return rect.left - pl, rect.bottom - pb, rect.right - pl, rect.top - pb

    pr, pt = bounds[2], bounds[3]

    def turned_90(index: int) -> Box:  # _to_display, written out per turn: this runs per character
        get(raw, index, ref)
        return rect.bottom - pb, pr - rect.right, rect.top - pb, pr - rect.left

    def turned_180(index: int) -> Box:
        get(raw, index, ref)
        return pr - rect.right, pt - rect.top, pr - rect.left, pt - rect.bottom

    def turned_270(index: int) -> Box:
        get(raw, index, ref)
        return pt - rect.top, rect.left - pl, pt - rect.bottom, rect.right - pl

    return {90: turned_90, 180: turned_180, 270: turned_270}.get(rotation, charbox)


_BOLD = re.compile(rb"bold|black|heavy|semibold|demi", re.IGNORECASE)


def _mark_bold_headings(textpage: Any, lines: list[Line], middles: list[int]) -> None:
    """Mark short lines set in a bold font, by the font's name (weights in PDFs are unreliable); only lines
    that could be a heading are asked: short, no sentence end, after extra space, at a column's top or
    after a bold line (a heading over two lines)."""
    import ctypes

    from .pdf_calls import function, handle

    name, raw, font_info = ctypes.create_string_buffer(128), handle(textpage.raw), function("FPDFText_GetFontInfo")
    for i, line in enumerate(lines):
        if len(line.text) >= 60:
            continue
        prev = lines[i - 1] if i else None
        after_bold = prev is not None and prev.bold and 0 <= prev.bottom - line.bottom <= 1.6 * max(line.size, 1)
        if ends_sentence(line.text) and not after_bold:  # a heading's last line may end in ")" or ":"
            continue
        if prev is None or after_bold or not 0 <= prev.bottom - line.bottom <= 1.6 * max(line.size, 1):
            font_info(raw, middles[i], name, 128, None)
            line.bold = bool(_BOLD.search(name.value))


def _join_same_baseline(lines: list[Line]) -> list[Line]:
    """Runs PDFium breaks off on one baseline (a bold word, a separate text object, a fraction's slash set
    back over its numerator: ``1`` / ``⁄4 inch``) stay one line; a run that touches the one before joins it
    without a space."""
    out: list[Line] = []
    for line in lines:
        prev = out[-1] if out else None
        gap = line.x0 - prev.x1 if prev is not None else 0.0
        if (prev is not None and abs(prev.bottom - line.bottom) < 0.3 * max(prev.height, 1)
                and -0.5 * max(prev.size, 1) <= gap < 2 * max(prev.size, 1)):
            prev.text = f"{prev.text}{' ' if gap > 0.1 * prev.size else ''}{line.text}"
            prev.x1, prev.top, prev.last = line.x1, max(prev.top, line.top), line.last
        else:
            out.append(line)
    return out


# ------------------------------------------------------------------------------------------ running lines

def _band_key(text: str) -> str:
    """A running line's identity: numbers (page, date, volume) as ``#``, a page number at either end dropped
    (left and right pages put it on opposite sides)."""
    key = re.sub(r"\d+", "#", " ".join(text.lower().split()))
    return re.sub(r"^(# )+|( #)+$", "", key) or key




def drop_line_numbers(lines: list[Line]) -> list[Line]:
    """Remove a column of line numbers (transcripts, legal documents): five or more lines of one number
    each, at one left edge, counting up."""
    columns: dict[int, list[int]] = {}
    for i, line in enumerate(lines):
        if len(line.text) <= 4 and line.text.isdecimal():
            columns.setdefault(round(line.x1 / 4), []).append(i)
    drop: set[int] = set()
    for members in columns.values():
        values = [int(lines[i].text) for i in members]
        rising = sum(b == a + 1 for a, b in zip(values, values[1:]))
        if len(members) >= 5 and rising >= 0.8 * (len(members) - 1):
            drop.update(members)
    return [ln for i, ln in enumerate(lines) if i not in drop] if drop else lines


def _band_lines(lines: list[Line], size: tuple[float, float]) -> set[int]:
    """Indexes of a page's lines where running lines may be: in the top or bottom band (8 %); within 15 %
    (the wide margins of LaTeX, books with printer's marks), the lines above or below the first wide gap
    from the page's edge (at most three); and a bare number in the outer 12 % at either side (journals put
    page numbers in the side margin)."""
    width, height = size
    out = {i for i, ln in enumerate(lines) if ln.bottom > height * (1 - BAND) or ln.top < height * BAND
           or (len(ln.text) <= 4 and ln.text.isdecimal() and (ln.x1 < width * 0.12 or ln.x0 > width * 0.88))}
    down = sorted(range(len(lines)), key=lambda i: -lines[i].top)
    for order, inside in ((down, lambda ln: ln.bottom > height * (1 - WIDE_BAND)),
                          (down[::-1], lambda ln: ln.top < height * WIDE_BAND)):
        for k in range(min(3, len(order))):
            line = lines[order[k]]
            if not inside(line):
                break
            following = lines[order[k + 1]] if k + 1 < len(order) else None
            if following is None or abs(line.bottom - following.bottom) > 2 * max(line.size, following.size):
                out.update(order[:k + 1])
                break
    return out


_EDGE_NUMBER = re.compile(r"^(\d{1,4})\s|\s(\d{1,4})$")


def _folios_rise(numbers: dict[int, int]) -> bool:
    """Whether a band line's numbers at its edge (by page) are two or more that rise with the page: a page
    number, so the line is a running one however few pages carry it (a chapter's own running head)."""
    values = [numbers[page] for page in sorted(numbers)]
    return len(values) >= 2 and all(b > a for a, b in zip(values, values[1:]))


def remove_running_lines(pages: list[list[Line]], sizes: list[tuple[float, float]]) -> list[list[Line]]:
    """Drop headers, footers and page numbers: band lines that repeat on a quarter of the pages, or on two
    pages or more with a page number at their edge, or look like a page number."""
    bands = [_band_lines(lines, size) for lines, size in zip(pages, sizes)]
    seen: dict[str, set[int]] = {}
    folios: dict[str, dict[int, int]] = {}  # key -> page -> the number at the line's edge
    for lines, band in zip(pages, bands):
        for i in band:
            key = _band_key(lines[i].text)
            seen.setdefault(key, set()).add(lines[i].page)
            edge = _EDGE_NUMBER.search(lines[i].text)
            if edge and key != "#":
                folios.setdefault(key, {})[lines[i].page] = int(edge.group(1) or edge.group(2))
    threshold = max(2, round(0.25 * len(pages)))  # a quarter: left and right pages differ, and some vary
    repeated = {key for key, on in seen.items() if len(on) >= threshold or _folios_rise(folios.get(key, {}))}
    return [[ln for i, ln in enumerate(lines) if not (i in band and (
        _band_key(ln.text) in repeated or _PAGE_NUMBER.match(_band_key(ln.text))))]
        for lines, band in zip(pages, bands)]


# ------------------------------------------------------------------------------------------ paragraphs

def join_hyphenated(first: str, second: str) -> str:
    """Join two lines, undoing a hyphenated line break but keeping real hyphens (``AOW-uitkering``)."""
    if first.endswith(("\x02", "-")) and not first.endswith((" -", " \x02")) and second:
        stem = first[:-1]
        next_word = second.split(" ", 1)[0].lower().strip(",.;:")
        if next_word in _HYPHEN_KEEP_NEXT:
            return stem + "- " + second
        if stem[-1:].isupper() or stem[-1:].isdigit() or second[0].isupper() or second[0].isdigit():
            return stem + "-" + second
        return stem + second
    return first.replace("\x02", "-") + " " + second


def _flow_break(prev: Line, line: Line) -> bool:
    """A column or page break between two consecutive lines: another page, upwards, or beside."""
    return (prev.page != line.page or line.top > prev.top + 0.5 * prev.height
            or line.x0 > prev.x1 or line.x1 < prev.x0)


_LIST_MARKER = re.compile(r"^(?:[^\w\s(\[]{1,2}|\(?(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})[.)])\s")


def _new_paragraph(prev: Line, line: Line, kind: str, current_kind: str, pitch: float, body: float,
                   following: Line | None = None) -> bool:
    """Whether ``line`` starts a new paragraph after ``prev`` (same column, consecutive). An indented line
    after a sentence end starts one (a first-line indent), unless the indent is a hanging one: ``prev``
    starts a list item (``•``, ``–``, ``1.``, ``a)``) whose text the line continues, or the line after it
    (``following``) keeps the indent (a bibliography's entries)."""
    if kind != current_kind or kind == "table":
        return True
    step = prev.bottom - line.bottom
    scale = max(prev.size, line.size, body) / body  # a large heading's lines lie further apart
    if step > (pitch + 0.5 * body) * scale or step < 0.5 * min(prev.height, line.height):
        return True
    if line.x0 - prev.x0 <= 0.8 * body or not ends_sentence(prev.text):  # not indented, or no sentence end
        return False
    if _LIST_MARKER.match(prev.text):
        return False
    return not (following is not None and abs(following.x0 - line.x0) < 1 and not _flow_break(line, following)
                and 0 < line.bottom - following.bottom <= 1.5 * pitch)


def _kind(line: Line, body: float, body_bold: bool) -> str:
    """Table row, heading (a larger font, or a short bold line in regular text) or paragraph."""
    if line.kind == "table":
        return "table"
    if line.size > body * 1.15 or (line.bold and not body_bold):
        return "heading"
    return "paragraph"


def assemble(doc_id: str, lines: list[Line]) -> Extracted:
    """Paragraphs from lines in reading order; joined across column and page breaks where a sentence runs on."""
    if not lines:
        return Extracted(doc_id=doc_id, text="", source_type="pdf")
    text_lines = [ln for ln in lines if ln.kind != "table"] or lines
    body = statistics.median(ln.size for ln in text_lines) or 10.0
    body_bold = sum(ln.bold for ln in text_lines) > len(text_lines) / 2
    breaks = [_flow_break(a, b) for a, b in zip(lines, lines[1:])]
    steps = [a.bottom - b.bottom for a, b, cut in zip(lines, lines[1:], breaks)
             if not cut and 0.5 * a.height < a.bottom - b.bottom < 2.5 * max(a.size, 1)]
    # The usual step between lines of a paragraph: a low quantile, so that documents made mostly of
    # one-line paragraphs do not make paragraph spacing look normal.
    pitch = min(sorted(steps)[len(steps) // 4], 1.5 * body) if steps else 1.2 * body

    paragraphs: list[dict[str, Any]] = []  # {"text", "kind", "pages": [(offset, page)]}
    prev: Line | None = None
    for index, line in enumerate(lines):
        kind = _kind(line, body, body_bold)
        if prev is None:
            new = True
        elif breaks[index - 1]:
            current = paragraphs[-1]
            # a paragraph never starts in lower case: a line that does continues the one before the break
            new = (kind != "paragraph" or current["kind"] != "paragraph"
                   or not line.text[:1].islower())
        else:
            new = _new_paragraph(prev, line, kind, paragraphs[-1]["kind"], pitch, body,
                                 lines[index + 1] if index + 1 < len(lines) else None)
        if new:
            paragraphs.append({"text": line.text, "kind": kind, "pages": [(0, line.page)]})
        else:
            current = paragraphs[-1]
            joined = join_hyphenated(current["text"], line.text)
            if line.page != current["pages"][-1][1]:
                current["pages"].append((len(joined) - len(line.text), line.page))
            current["text"] = joined
        prev = line
    return _document(doc_id, paragraphs)


def _document(doc_id: str, paragraphs: list[dict[str, Any]]) -> Extracted:
    """The text, its blocks and the page of every character range."""
    text_parts: list[str] = []
    blocks: list[Block] = []
    page_spans: list[list[int]] = []
    offset = 0
    for para in paragraphs:
        content = unicodedata.normalize("NFC", para["text"].replace("\x02", "-"))
        if text_parts:
            text_parts.append("\n\n")
            offset += 2
        blocks.append(Block(offset, offset + len(content), para["kind"], page=para["pages"][0][1]))
        marks = para["pages"] + [(len(content), None)]
        for (start, page), (end, _) in zip(marks, marks[1:]):
            if page_spans and page_spans[-1][2] == page:
                page_spans[-1][1] = offset + end
            else:
                page_spans.append([offset + start, offset + end, page])
        text_parts.append(content)
        offset += len(content)
    return Extracted(doc_id=doc_id, text="".join(text_parts), source_type="pdf", blocks=blocks, pages=page_spans)


# ------------------------------------------------------------------------------------------ entry point

def extract_pdf(doc_id: str, path: Path) -> Extracted:
    """Extract a PDF: PDFium's reading order, running lines removed, hyphenation undone, paragraphs, pages."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            raise ExtractionError("the PDF is encrypted; save an unprotected copy and replace the file") from exc
        raise ExtractionError(f"the PDF is corrupt or not a PDF ({reason}); export it again") from exc
    pages: list[list[Line]] = []
    sizes: list[tuple[float, float]] = []
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            lines, size = page_lines(page, index + 1)
            pages.append(lines)
            sizes.append(size)
            page.close()
    finally:
        pdf.close()
    if not any(pages):
        raise ExtractionError(SCANNED)
    body = [ln for lines in remove_running_lines(pages, sizes) for ln in lines]
    extracted = assemble(doc_id, body)
    extracted.n_pages = len(pages)
    return extracted
