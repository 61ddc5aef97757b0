"""PDF extraction: PDFium's own text order and line breaks, and our cleaning on top of it.

PDFium (pypdfium2) decides which characters form a line and in which order the lines come
(``get_text_range``); the same text page gives each line's position (the loose boxes of its first and last
character). What PDFium does not do is done here: running headers, footers and page numbers are removed
(band lines that repeat across pages, whatever their text), a column of line numbers is dropped,
hyphenated line breaks are joined with the Dutch rules of :func:`join_hyphenated`, lines become
paragraphs (extra spacing, a first-line indent, a larger or bold heading) and a paragraph that runs over a
column or page break is joined, ruled tables (pdfplumber's table finder on the rules PDFium reports)
become one block per row with cells joined by `` | ``, turned pages are read upright, and every character
range keeps its page number.
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
_LIGATURES = str.maketrans({"\ufb01": "fi", "\ufb02": "fl", "\ufb00": "ff", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\u00ad": "\x02", "\ufffe": "\x02", "\r": " ", "\n": " ", "\x00": ""})
_SPECIAL = [chr(k) for k in _LIGATURES if not chr(k).isspace()]
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

    @property
    def height(self) -> float:
        return self.top - self.bottom


# ------------------------------------------------------------------------------------------ reading a page

def _to_user(rotation: int, box: Box, bounds: Box) -> Box:
    """The inverse of :func:`_to_display`: a display box -> (left, bottom, right, top) in PDF user space."""
    x0, y0, x1, y1 = box
    pl, pb, pr, pt = bounds
    if rotation == 90:
        return pr - y1, x0 + pb, pr - y0, x1 + pb
    if rotation == 180:
        return pr - x1, pt - y1, pr - x0, pt - y0
    if rotation == 270:
        return y0 + pl, pt - x1, y1 + pl, pt - x0
    return x0 + pl, y0 + pb, x1 + pl, y1 + pb


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
    import pypdfium2.raw as pdfium_c

    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        if len(text) != textpage.count_chars():  # PDFium and its text output disagree: read char by char
            text = "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage, i) or 32)
                           for i in range(textpage.count_chars()))
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
            tables = _tables(page, textpage, rotation, bounds, height, lines)
            if tables:
                lines = _replace_tables(lines, tables, number)
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

    raw_page, font_size, is_generated = textpage.raw, pdfium_c.FPDFText_GetFontSize, pdfium_c.FPDFText_IsGenerated
    matrix = pdfium_c.FS_MATRIX()
    lines: list[Line] = []
    middles: list[int] = []
    offset = 0
    find = text.find
    translate = any(char in text for char in _SPECIAL)  # usually none: str.translate costs per character
    drawn: dict[str, list[tuple[float, float]]] = {}
    for raw in pieces:
        start = find(raw, offset) if raw else offset
        offset = start + len(raw)
        words = (raw.translate(_LIGATURES) if translate else raw).split()
        if not words:
            continue
        content = " ".join(words)
        first = offset - len(raw.lstrip())
        last = start + len(raw.rstrip().rstrip("\ufffe")) - 1
        middle = (first + last) // 2
        while middle < last and text[middle] in " \ufffe\x02":  # a space has no font of its own
            middle += 1
        x0, b0, x1, t0 = charbox(first)
        x2, b2, x3, t2 = charbox(last)
        if b0 - b2 > 0.5 or b2 - b0 > 0.5:  # a superscript, a drop cap or a symbol font at either end
            _, b1, _, t1 = charbox(middle)
            b0, t0 = _median3(b0, b1, b2), _median3(t0, t1, t2)
        if content[-2:] == " -" and is_generated(raw_page, last - 1) == 1:
            content = content[:-2] + "-"  # PDFium put a space before a justified line's hyphen
        if b0 >= page_size[1] or t0 <= 0 or x0 >= page_size[0] or x3 <= 0:
            continue
        places = drawn.setdefault(content, [])
        if any(abs(x - x0) < 2 and abs(y - b0) < 2 for x, y in places):
            continue
        places.append((x0, b0))
        size = font_size(raw_page, middle)
        if size < 3:  # the size is set by scaling the text matrix, not in the font
            pdfium_c.FPDFText_GetMatrix(raw_page, middle, ctypes.byref(matrix))
            size *= (matrix.c ** 2 + matrix.d ** 2) ** 0.5 or 1.0
        lines.append(Line(number, x0 if x0 < x2 else x2, x1 if x1 > x3 else x3, b0, t0 if t0 > t2 else t2,
                          round(size or (t0 - b0), 1), content))
        middles.append(middle)
    return lines, middles


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

    rect = pdfium_c.FS_RECTF()
    ref = ctypes.byref(rect)
    raw, get = textpage.raw, pdfium_c.FPDFText_GetLooseCharBox
    pl, pb = bounds[0], bounds[1]

    def charbox(index: int) -> Box:
        get(raw, index, ref)
        return rect.left - pl, rect.bottom - pb, rect.right - pl, rect.top - pb

    def rotated(index: int) -> Box:
        get(raw, index, ref)
        return _to_display(rotation, (rect.left, rect.bottom, rect.right, rect.top), bounds)

    if rotation:
        return rotated
    return charbox


_BOLD = re.compile(rb"bold|black|heavy|semibold|demi", re.IGNORECASE)


def _mark_bold_headings(textpage: Any, lines: list[Line], middles: list[int]) -> None:
    """Mark short lines set in a bold font, by the font's name (weights in PDFs are unreliable); only lines
    that could be a heading are asked: short, no sentence end, after extra space, at a column's top or
    after a bold line (a heading over two lines)."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    name = ctypes.create_string_buffer(128)
    for i, line in enumerate(lines):
        if len(line.text) >= 60 or ends_sentence(line.text):
            continue
        prev = lines[i - 1] if i else None
        if prev is None or prev.bold or not 0 <= prev.bottom - line.bottom <= 1.6 * max(line.size, 1):
            pdfium_c.FPDFText_GetFontInfo(textpage, middles[i], name, 128, None)
            line.bold = bool(_BOLD.search(name.value))


def _join_same_baseline(lines: list[Line]) -> list[Line]:
    """Runs PDFium breaks off on one baseline (a bold word, a separate text object) stay one line."""
    out: list[Line] = []
    for line in lines:
        prev = out[-1] if out else None
        if (prev is not None and abs(prev.bottom - line.bottom) < 0.3 * max(prev.height, 1)
                and 0 <= line.x0 - prev.x1 < 2 * max(prev.size, 1)):
            prev.text = f"{prev.text} {line.text}"
            prev.x1, prev.top = line.x1, max(prev.top, line.top)
        else:
            out.append(line)
    return out


# ------------------------------------------------------------------------------------------ ruled tables

MAX_SEGMENTS = 400  # a path with more segments is a drawing, not table rules


def _edge(x0: float, y0: float, x1: float, y1: float, height: float) -> dict[str, Any] | None:
    """A horizontal or vertical rule (display coordinates) as pdfplumber's table finder wants it (``top``
    measured downwards from the top of a page of ``height``)."""
    left, right, low, high = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
    if high - low < 1.5 and right - left >= 3:
        y = height - (low + high) / 2
        return {"x0": left, "x1": right, "top": y, "bottom": y, "doctop": y,
                "width": right - left, "height": 0.0, "orientation": "h"}
    if right - left < 1.5 and high - low >= 3:
        x = (left + right) / 2
        return {"x0": x, "x1": x, "top": height - high, "bottom": height - low, "doctop": height - high,
                "width": 0.0, "height": high - low, "orientation": "v"}
    return None


def _rules(page: Any, rotation: int, bounds: Box, height: float, lines: list[Line]) -> list[dict[str, Any]]:
    """Straight horizontal and vertical rules drawn on a page that could border the cells of a table: thin
    paths, and the sides of the shapes (rectangles, grids) that hold a line of text; none on a page where
    nothing is drawn in a colour other than white. Only rules beside or
    across the page's text count (a horizontal one overlaps it from left to right, a vertical one from
    bottom to top), so printer's marks in the page's corners stay out; all in display coordinates.

    Raw PDFium calls: this runs on every page, so no Python object per page object.
    """
    import bisect
    import ctypes

    import pypdfium2.raw as pdfium_c

    centres = sorted(((ln.bottom + ln.top) / 2, (ln.x0 + ln.x1) / 2) for ln in lines)
    ys = [y for y, _ in centres]
    segments: list[Box] = []  # (left, bottom, right, top) in PDF user space
    shapes = []
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    refs = [ctypes.byref(v) for v in (left, bottom, right, top)]
    get_object, get_type, get_bounds = pdfium_c.FPDFPage_GetObject, pdfium_c.FPDFPageObj_GetType, pdfium_c.FPDFPageObj_GetBounds
    path_type, raw_page = pdfium_c.FPDF_PAGEOBJ_PATH, page.raw
    paint = _Paint()
    coloured = False
    for i in range(pdfium_c.FPDFPage_CountObjects(raw_page)):
        obj = get_object(raw_page, i)
        if get_type(obj) != path_type:
            continue
        shows = paint(obj, not coloured)
        if not shows:
            continue
        coloured = coloured or shows == 2
        get_bounds(obj, *refs)
        box = (left.value, bottom.value, right.value, top.value)
        if box[2] - box[0] < 3 or box[3] - box[1] < 3:  # a thin line or filled rectangle
            segments.append(box)
            continue
        x0, y0, x1, y1 = _to_display(rotation, box, bounds)
        if any(x0 <= centres[k][1] <= x1 for k in range(bisect.bisect_left(ys, y0), bisect.bisect_right(ys, y1))):
            shapes.append(obj)
    if not coloured:  # white boxes only (behind text, as word processors draw): no table to see
        return []
    reader = _PathReader()
    for obj in shapes:
        segments += reader.segments(obj)
    margin = 2 * max(statistics.median(ln.size for ln in lines), 1)
    n0, nb = min(ln.x0 for ln in lines) - margin, min(ln.bottom for ln in lines) - margin
    n1, nt = max(ln.x1 for ln in lines) + margin, max(ln.top for ln in lines) + margin
    edges = []
    for segment in segments:
        x0, y0, x1, y1 = _to_display(rotation, segment, bounds)
        edge = _edge(x0, y0, x1, y1, height)
        if edge and (x1 >= n0 and x0 <= n1 if edge["orientation"] == "h" else y1 >= nb and y0 <= nt):
            edges.append(edge)
    return edges


class _Paint:
    """``paint(path, colour)``: 0 if a path does not show (a clipping path: neither filled nor stroked),
    else 1, or 2 when ``colour`` is asked and it is filled or stroked in a colour other than white (white
    boxes behind text, as word processors draw them, are no table)."""

    def __init__(self) -> None:
        import ctypes

        import pypdfium2.raw as pdfium_c

        self.fill, self.stroke = ctypes.c_int(), ctypes.c_int()
        self.mode_refs = ctypes.byref(self.fill), ctypes.byref(self.stroke)
        self.rgba = [ctypes.c_uint() for _ in range(4)]
        self.rgba_refs = [ctypes.byref(v) for v in self.rgba]
        self.get_mode = pdfium_c.FPDFPath_GetDrawMode
        self.get_fill, self.get_stroke = pdfium_c.FPDFPageObj_GetFillColor, pdfium_c.FPDFPageObj_GetStrokeColor

    def _coloured(self, get: Any, obj: Any) -> bool:
        get(obj, *self.rgba_refs)
        r, g, b, a = (v.value for v in self.rgba)
        return a > 0 and min(r, g, b) < 250

    def __call__(self, obj: Any, colour: bool) -> int:
        self.get_mode(obj, *self.mode_refs)
        fill, stroke = self.fill.value, self.stroke.value
        if not fill and not stroke:
            return 0
        if not colour:
            return 1
        return 2 if ((fill and self._coloured(self.get_fill, obj))
                     or (stroke and self._coloured(self.get_stroke, obj))) else 1


def _straight(p: tuple[float, float], q: tuple[float, float], out: list[Box]) -> None:
    """Add the segment p-q to ``out`` as a box if it is a horizontal or vertical rule (see :func:`_edge`)."""
    dx, dy = abs(p[0] - q[0]), abs(p[1] - q[1])
    if (dy < 1.5 and dx >= 3) or (dx < 1.5 and dy >= 3):
        out.append((min(p[0], q[0]), min(p[1], q[1]), max(p[0], q[0]), max(p[1], q[1])))


class _PathReader:
    """The straight segments of path objects, with the raw PDFium functions looked up once per page."""

    def __init__(self) -> None:
        import ctypes

        import pypdfium2.raw as pdfium_c

        self.c = pdfium_c
        self.matrix = pdfium_c.FS_MATRIX()
        self.matrix_ref = ctypes.byref(self.matrix)
        self.x, self.y = ctypes.c_float(), ctypes.c_float()
        self.point_refs = ctypes.byref(self.x), ctypes.byref(self.y)

    def segments(self, obj: Any) -> list[Box]:
        """The straight segments of a path (rectangles, grids) as boxes in user space; none for curves."""
        c = self.c
        count = c.FPDFPath_CountSegments(obj)
        if count > MAX_SEGMENTS:
            return []
        get_segment, get_kind = c.FPDFPath_GetPathSegment, c.FPDFPathSegment_GetType
        bezier = c.FPDF_SEGMENT_BEZIERTO
        if count > 6 and get_kind(get_segment(obj, 1)) == bezier:  # a glyph or a drawing: no rules in it
            return []
        c.FPDFPageObj_GetMatrix(obj, self.matrix_ref)
        m = self.matrix
        a, b, cc, d, e, f = m.a, m.b, m.c, m.d, m.e, m.f
        x, y, (ref_x, ref_y) = self.x, self.y, self.point_refs
        get_point, get_close = c.FPDFPathSegment_GetPoint, c.FPDFPathSegment_GetClose
        line_to, move_to = c.FPDF_SEGMENT_LINETO, c.FPDF_SEGMENT_MOVETO
        out: list[Box] = []
        points: list[tuple[float, float]] = []
        for i in range(count):
            segment = get_segment(obj, i)
            kind = get_kind(segment)
            if kind == bezier:
                return []
            get_point(segment, ref_x, ref_y)
            px, py = x.value, y.value
            point = (a * px + cc * py + e, b * px + d * py + f)
            if kind == line_to and points:
                _straight(points[-1], point, out)
            if kind == move_to:
                points = []
            points.append(point)
            if get_close(segment) and len(points) > 2:
                _straight(point, points[0], out)
        return out


def _tables(page: Any, textpage: Any, rotation: int, bounds: Box, height: float,
            lines: list[Line]) -> list[tuple[Box, list[str]]]:
    """Ruled tables: pdfplumber's table finder on PDFium's rules; cell text from PDFium.

    Returns each table's box in display coordinates and its rows (cells joined by `` | ``).
    """
    from pdfplumber import table as finder

    edges = _rules(page, rotation, bounds, height, lines)
    if sum(e["orientation"] == "h" for e in edges) < 2 or sum(e["orientation"] == "v" for e in edges) < 2:
        return []
    edges = [e for e in finder.merge_edges(edges, 3, 3, 3, 3) if max(e["width"], e["height"]) >= 3]
    if not _grid_possible(edges):
        return []
    cells = finder.intersections_to_cells(finder.edges_to_intersections(edges, 3, 3))
    found = []
    for table_cells in finder.cells_to_tables(cells):
        table = finder.Table(None, table_cells)  # type: ignore[arg-type]
        if len(table.rows) < 2 or max(sum(cell is not None for cell in row.cells) for row in table.rows) < 2:
            continue  # one row or one column: a frame around a heading, boxes behind lines, not a table
        x0, top, x1, bottom = table.bbox
        near = [ln for ln in lines if ln.x0 < x1 and ln.x1 > x0 and ln.bottom < height - top and ln.top > height - bottom]
        rows = []
        for row in table.rows:
            texts = []
            for c in row.cells:
                if c is None:
                    continue
                cell = (c[0], height - c[3], c[2], height - c[1])
                written = any(ln.x0 < cell[2] and ln.x1 > cell[0] and ln.bottom < cell[3] and ln.top > cell[1]
                              for ln in near)  # PDFium's text search is asked only for cells a line reaches
                texts.append(_cell_text(textpage, _to_user(rotation, cell, bounds)) if written else "")
            if any(texts):
                rows.append(" | ".join(texts))
        found.append(((x0, height - bottom, x1, height - top), rows))
    return found


def _grid_possible(edges: list[dict[str, Any]], tolerance: float = 3) -> bool:
    """Whether the rules could hold a table of two rows with two cells in a row: some horizontal rule crossed
    by three vertical ones and some vertical rule crossed by three horizontal ones (pdfplumber's tolerance).
    Frames around text and bars of a chart fail; pdfplumber's cell finder (slow) is asked only otherwise."""
    import numpy as np

    h = np.array([(e["x0"], e["x1"], e["top"]) for e in edges if e["orientation"] == "h"]).reshape(-1, 3)
    v = np.array([(e["x0"], e["top"], e["bottom"]) for e in edges if e["orientation"] == "v"]).reshape(-1, 3)
    if len(h) < 3 or len(v) < 3:
        return False
    crossing = ((v[None, :, 0] >= h[:, None, 0] - tolerance) & (v[None, :, 0] <= h[:, None, 1] + tolerance)
                & (h[:, None, 2] >= v[None, :, 1] - tolerance) & (h[:, None, 2] <= v[None, :, 2] + tolerance))
    return bool(crossing.sum(axis=1).max() >= 3 and crossing.sum(axis=0).max() >= 3)


def _cell_text(textpage: Any, cell: Box) -> str:
    """A cell's text from PDFium (``cell`` in PDF user space), its lines joined with the hyphenation rules."""
    text = textpage.get_text_bounded(*cell)
    joined = ""
    for part in re.split(r"\r\n|\n|(?<=\ufffe)", text):
        part = " ".join(part.translate(_LIGATURES).split())
        if part:
            joined = join_hyphenated(joined, part) if joined else part
    return joined.replace("\x02", "-")


def _replace_tables(lines: list[Line], tables: list[tuple[Box, list[str]]],
                    page: int) -> list[Line]:
    """PDFium's lines inside a table give way to the table's rows, at the place of the table's first line."""
    for (x0, bottom, x1, top), rows in tables:
        inside = [i for i, ln in enumerate(lines) if x0 - 1 <= (ln.x0 + ln.x1) / 2 <= x1 + 1
                  and bottom - 1 <= (ln.bottom + ln.top) / 2 <= top + 1]
        if not rows:
            continue
        at = inside[0] if inside else next((i for i, ln in enumerate(lines) if ln.top < top), len(lines))
        step = (top - bottom) / len(rows)
        size = statistics.median([lines[i].size for i in inside]) if inside else 0.0
        table_lines = [Line(page, x0, x1, top - (n + 1) * step, top - n * step, size, row, "table")
                       for n, row in enumerate(rows)]
        skip = set(inside)
        kept = [ln for i, ln in enumerate(lines) if i not in skip and i < at]
        rest = [ln for i, ln in enumerate(lines) if i not in skip and i >= at]
        lines = kept + table_lines + rest
    return lines


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


def remove_running_lines(pages: list[list[Line]], sizes: list[tuple[float, float]]) -> list[list[Line]]:
    """Drop headers, footers and page numbers: band lines that repeat on a quarter of the pages, or look like
    a page number."""
    bands = [_band_lines(lines, size) for lines, size in zip(pages, sizes)]
    seen: dict[str, set[int]] = {}
    for lines, band in zip(pages, bands):
        for i in band:
            seen.setdefault(_band_key(lines[i].text), set()).add(lines[i].page)
    threshold = max(2, round(0.25 * len(pages)))  # a quarter: left and right pages differ, and some vary
    repeated = {key for key, on in seen.items() if len(on) >= threshold}
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


def _new_paragraph(prev: Line, line: Line, kind: str, current_kind: str, pitch: float, body: float) -> bool:
    """Whether ``line`` starts a new paragraph after ``prev`` (same column, consecutive)."""
    if kind != current_kind or kind == "table":
        return True
    step = prev.bottom - line.bottom
    scale = max(prev.size, line.size, body) / body  # a large heading's lines lie further apart
    if step > (pitch + 0.5 * body) * scale or step < 0.5 * min(prev.height, line.height):
        return True
    indented = line.x0 - prev.x0 > 0.8 * body
    return indented and ends_sentence(prev.text)


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
    steps = [a.bottom - b.bottom for a, b in zip(lines, lines[1:])
             if not _flow_break(a, b) and 0.5 * a.height < a.bottom - b.bottom < 2.5 * max(a.size, 1)]
    # The usual step between lines of a paragraph: a low quantile, so that documents made mostly of
    # one-line paragraphs do not make paragraph spacing look normal.
    pitch = min(sorted(steps)[len(steps) // 4], 1.5 * body) if steps else 1.2 * body

    paragraphs: list[dict[str, Any]] = []  # {"text", "kind", "pages": [(offset, page)]}
    prev: Line | None = None
    for line in lines:
        kind = _kind(line, body, body_bold)
        if prev is None:
            new = True
        elif _flow_break(prev, line):
            current = paragraphs[-1]
            new = (kind != "paragraph" or current["kind"] != "paragraph"
                   or ends_sentence(current["text"]) or not line.text[:1].islower())
        else:
            new = _new_paragraph(prev, line, kind, paragraphs[-1]["kind"], pitch, body)
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
