"""Ruled tables in a PDF page: pdfplumber's table finder on the rules PDFium reports, cell text from PDFium.

A rule is a thin path or a straight side of a shape (rectangle, grid) drawn on the page; only pages where
something is drawn in a colour other than white are asked (word processors draw white boxes behind text),
only shapes that hold a line of text are walked segment by segment, only rules beside or across the text
count (printer's marks stay out), and pdfplumber's cell finder runs only where the rules could form a grid
of two rows with two cells. Each table becomes one block per row, its cells joined by `` | ``.
"""

from __future__ import annotations

import re
import statistics
from typing import Any

from .pdf import _LIGATURES, Box, Line, _to_display, join_hyphenated
from .pdf_calls import Handle, function, handle

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
    import ctypes

    import pypdfium2.raw as pdfium_c

    segments: list[Box] = []  # (left, bottom, right, top) in PDF user space
    shapes: list[tuple[Any, Box]] = []
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    refs = [ctypes.byref(v) for v in (left, bottom, right, top)]
    get_object, get_type = function("FPDFPage_GetObject", Handle), function("FPDFPageObj_GetType")
    get_bounds, path_type, raw_page = function("FPDFPageObj_GetBounds"), pdfium_c.FPDF_PAGEOBJ_PATH, handle(page.raw)
    paint = _Paint()
    get_mode, (fill_ref, stroke_ref), fill, stroke = paint.get_mode, paint.mode_refs, paint.fill, paint.stroke
    coloured = False
    for i in range(function("FPDFPage_CountObjects")(raw_page)):
        obj = get_object(raw_page, i)
        if get_type(obj) != path_type:
            continue
        get_mode(obj, fill_ref, stroke_ref)
        if not fill.value and not stroke.value:  # a clipping path: it does not show
            continue
        coloured = coloured or paint.coloured(obj, fill.value, stroke.value)
        get_bounds(obj, *refs)
        box = (left.value, bottom.value, right.value, top.value)
        if box[2] - box[0] < 3 or box[3] - box[1] < 3:  # a thin line or filled rectangle
            segments.append(box)
        else:
            shapes.append((obj, box))
    if not coloured:  # white boxes only (behind text, as word processors draw): no table to see
        return []
    reader = _PathReader()
    for obj in _holding_text(shapes, lines, rotation, bounds):
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
    """A path's draw mode (filled, stroked: neither is a clipping path) and whether it is drawn in a colour
    other than white (white boxes behind text, as word processors draw them, are no table)."""

    def __init__(self) -> None:
        import ctypes

        import pypdfium2.raw as pdfium_c

        self.fill, self.stroke = ctypes.c_int(), ctypes.c_int()
        self.mode_refs = ctypes.byref(self.fill), ctypes.byref(self.stroke)
        self.rgba = [ctypes.c_uint() for _ in range(4)]
        self.rgba_refs = [ctypes.byref(v) for v in self.rgba]
        self.get_mode = function("FPDFPath_GetDrawMode")
        self.get_fill, self.get_stroke = function("FPDFPageObj_GetFillColor"), function("FPDFPageObj_GetStrokeColor")

    def _shows_colour(self, get: Any, obj: Any) -> bool:
        get(obj, *self.rgba_refs)
        r, g, b, a = (v.value for v in self.rgba)
        return a > 0 and min(r, g, b) < 250

    def coloured(self, obj: Any, fill: int, stroke: int) -> bool:
        """Whether a path that shows (``fill`` or ``stroke`` mode set) is drawn in a colour other than white."""
        return bool((fill and self._shows_colour(self.get_fill, obj))
                    or (stroke and self._shows_colour(self.get_stroke, obj)))


def _holding_text(shapes: list[tuple[Any, Box]], lines: list[Line], rotation: int, bounds: Box) -> list[Any]:
    """The shapes (path objects with their boxes in user space) with a line's centre inside."""
    import numpy as np

    if not shapes or not lines:
        return []
    boxes = np.array([_to_display(rotation, box, bounds) for _, box in shapes])
    cx = np.array([(ln.x0 + ln.x1) / 2 for ln in lines])
    cy = np.array([(ln.bottom + ln.top) / 2 for ln in lines])
    inside = ((boxes[:, 0:1] <= cx) & (cx <= boxes[:, 2:3]) & (boxes[:, 1:2] <= cy) & (cy <= boxes[:, 3:4])).any(axis=1)
    return [obj for (obj, _), hit in zip(shapes, inside) if hit]


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
        count = function("FPDFPath_CountSegments")(obj)
        if count > MAX_SEGMENTS:
            return []
        get_segment, get_kind = function("FPDFPath_GetPathSegment", Handle), function("FPDFPathSegment_GetType")
        bezier = c.FPDF_SEGMENT_BEZIERTO
        if count > 6 and get_kind(get_segment(obj, 1)) == bezier:  # a glyph or a drawing: no rules in it
            return []
        function("FPDFPageObj_GetMatrix")(obj, self.matrix_ref)
        m = self.matrix
        a, b, cc, d, e, f = m.a, m.b, m.c, m.d, m.e, m.f
        x, y, (ref_x, ref_y) = self.x, self.y, self.point_refs
        get_point, get_close = function("FPDFPathSegment_GetPoint"), function("FPDFPathSegment_GetClose")
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


def tables(page: Any, chars: tuple[str, Any], rotation: int, bounds: Box, height: float,
            lines: list[Line]) -> list[tuple[Box, list[str]]]:
    """Ruled tables: pdfplumber's table finder on PDFium's rules; cell text from PDFium's lines and
    character boxes (``chars``: the page's text and its ``charbox`` reader).

    Returns each table's box in display coordinates and its rows (cells joined by `` | ``).
    """
    from pdfplumber import table as finder

    edges = _rules(page, rotation, bounds, height, lines)
    if sum(e["orientation"] == "h" for e in edges) < 2 or sum(e["orientation"] == "v" for e in edges) < 2:
        return []
    edges = [e for e in finder.merge_edges(edges, 3, 3, 3, 3) if max(e["width"], e["height"]) >= 3]
    edges += _open_sides(edges, 2 * max(statistics.median(ln.size for ln in lines), 1))
    if not _grid_possible(edges):
        return []
    cells = _intersections_to_cells(finder.edges_to_intersections(edges, 3, 3))
    found = []
    for table_cells in finder.cells_to_tables(cells):
        table = finder.Table(None, table_cells)  # type: ignore[arg-type]
        if len(table.rows) < 2 or max(sum(cell is not None for cell in row.cells) for row in table.rows) < 2:
            continue  # one row or one column: a frame around a heading, boxes behind lines, not a table
        x0, top, x1, bottom = table.bbox
        near = [ln for ln in lines if ln.x0 < x1 and ln.x1 > x0 and ln.bottom < height - top and ln.top > height - bottom]
        if _text_outside_cells(table_cells, (x0, top, x1, bottom), near, height):
            continue  # the rules leave part of the table open: its lines stay as PDFium reads them
        placed = (*chars, {})  # each line's character centres, read once per table
        rows = []
        for row in table.rows:
            texts = []
            spans = [c for c in row.cells if c is not None]
            row_bottom, row_top = height - max(c[3] for c in spans), height - min(c[1] for c in spans)
            in_row = [ln for ln in near if ln.bottom < row_top and ln.top > row_bottom]  # once per row
            for c in spans:
                texts.append(_cell(placed, (c[0], height - c[3], c[2], height - c[1]), in_row))
            if any(texts):
                rows.append(" | ".join(texts))
        found.append(((x0, height - bottom, x1, height - top), rows))
    return found


def _text_outside_cells(cells: list[Box], bbox: Box, near: list[Line], height: float) -> bool:
    """Whether a line in the table's box (top-down coordinates, as ``cells``) reaches beyond the cells of its
    row, or lies in none: the table's rows would lose that text (PDFium joins a row's cells on one baseline
    into one line, so a line is judged by its ends, not its centre)."""
    x0, top, x1, bottom = bbox
    for line in near:
        cx, cy = (line.x0 + line.x1) / 2, height - (line.bottom + line.top) / 2
        if not (x0 - 1 <= cx <= x1 + 1 and top - 1 <= cy <= bottom + 1):
            continue
        row = [c for c in cells if c[1] - 1 <= cy <= c[3] + 1]
        if not row or line.x0 < min(c[0] for c in row) - 1 or line.x1 > max(c[2] for c in row) + 1:
            return True
    return False


def _intersections_to_cells(intersections: dict[tuple[float, float], dict[str, list[dict[str, Any]]]]) -> list[Box]:
    """pdfplumber's ``intersections_to_cells``, the same cells in the same order, without its quadratic
    scans: each point's edges as a set once, and the points below and to the right of a point looked up
    in its column and row rather than among all points."""
    # pdfplumber compares the edges' boxes; an edge and a copy with the same box pass through the same
    # points, so comparing the edges themselves gives the same answer
    points = sorted(intersections)
    v_sets = {pt: set(map(id, intersections[pt]["v"])) for pt in points}
    h_sets = {pt: set(map(id, intersections[pt]["h"])) for pt in points}
    columns: dict[float, list[tuple[float, float]]] = {}
    rows: dict[float, list[tuple[float, float]]] = {}
    place: dict[tuple[float, float], tuple[int, int]] = {}  # a point's index in its column and its row
    for pt in points:  # sorted by x, then y: a column's points top-down, a row's points left to right
        column, row = columns.setdefault(pt[0], []), rows.setdefault(pt[1], [])
        place[pt] = (len(column), len(row))
        column.append(pt)
        row.append(pt)

    def connects(p1: tuple[float, float], p2: tuple[float, float]) -> bool:
        return bool((p1[0] == p2[0] and not v_sets[p1].isdisjoint(v_sets[p2]))
                    or (p1[1] == p2[1] and not h_sets[p1].isdisjoint(h_sets[p2])))

    cells: list[Box] = []
    for pt in points:
        column, row = columns[pt[0]], rows[pt[1]]
        in_column, in_row = place[pt]
        found = None
        for k in range(in_column + 1, len(column)):
            below_pt = column[k]
            if not connects(pt, below_pt):
                continue
            for m in range(in_row + 1, len(row)):
                right_pt = row[m]
                if not connects(pt, right_pt):
                    continue
                corner = (right_pt[0], below_pt[1])
                if corner in intersections and connects(corner, right_pt) and connects(corner, below_pt):
                    found = (pt[0], pt[1], corner[0], corner[1])
                    break
            if found:
                break
        if found:
            cells.append(found)
    return cells


def _open_sides(edges: list[dict[str, Any]], column: float) -> list[dict[str, Any]]:
    """The sides a table leaves open, as vertical rules: where horizontal rules of one extent run on past
    the outermost vertical rule between two of them by a column's width or more (``column``), with two or
    more vertical rules between them in all, the horizontal rules' ends close the table there (a LaTeX
    tabular with ``|`` only between inner columns, a table whose header row alone is boxed). Without them
    the outer columns fall outside every cell."""
    spans: dict[tuple[int, int], list[float]] = {}
    for e in edges:
        if e["orientation"] == "h":
            spans.setdefault((round(e["x0"]), round(e["x1"])), []).append(e["top"])
    vertical = [e for e in edges if e["orientation"] == "v"]
    added: list[dict[str, Any]] = []
    for (left, right), tops in spans.items():
        tops = sorted(set(tops))
        inside = [e for e in vertical if left + 3 < e["x0"] < right - 3]
        if len(tops) < 2 or len({round(e["x0"]) for e in inside}) < 2:
            continue
        for top, bottom in zip(tops, tops[1:]):
            inner = [e["x0"] for e in vertical if left - 3 <= e["x0"] <= right + 3
                     and min(bottom, e["bottom"]) - max(top, e["top"]) > 3]
            if not inner:
                continue
            for x, open_side in ((left, min(inner) - left >= column), (right, right - max(inner) >= column)):
                if open_side:
                    added.append({"x0": float(x), "x1": float(x), "top": top, "bottom": bottom, "doctop": top,
                                  "width": 0.0, "height": bottom - top, "orientation": "v"})
    return added


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


def _cell(chars: tuple[str, Any, dict[int, Any]], cell: Box, near: list[Line]) -> str:
    """A cell's text (``cell`` in display coordinates): empty if no line reaches into it, the lines' own text
    if they lie inside it, else the characters of the lines reaching into it whose centre lies inside (a
    line running over several cells: PDFium joins a row's cells on one baseline into one line)."""
    x0, bottom, x1, top = cell
    reaching = [ln for ln in near if ln.x0 < x1 and ln.x1 > x0 and ln.bottom < top and ln.top > bottom]
    if not reaching:
        return ""
    inside = all(x0 - 1 <= ln.x0 and ln.x1 <= x1 + 1 and bottom - 1 <= ln.bottom and ln.top <= top + 1
                 for ln in reaching)
    if not inside:  # the lines whose middle lies in the cell's height, by their characters
        reaching = [ln for ln in reaching if bottom <= (ln.bottom + ln.top) / 2 <= top]
    joined = ""
    for line in reaching:
        part = line.text if inside else _line_part(chars, line, x0, x1)
        if part:
            joined = join_hyphenated(joined, part) if joined else part
    return joined.replace("\x02", "-")


def _line_part(chars: tuple[str, Any, dict[int, Any]], line: Line, x0: float, x1: float) -> str:
    """The characters of a line whose centre lies between ``x0`` and ``x1``, in the line's order, a space
    where something else stands between two of them. A word is placed by the boxes of its first and last
    character (read once per table, ``chars[2]``); only a word running over the cell's edge is placed
    character by character."""
    text, charbox, placed = chars
    known = placed.get(line.first)
    if known is None:
        end = line.last + 1
        if text[end:end + 1] == "\ufffe":  # PDFium's mark of a hyphen at the line's end
            end += 1
        letters = text[line.first:end]
        words = []
        for match in re.finditer(r"[^\s\ufffe]+", letters):
            start, stop = match.span()
            first, last = charbox(line.first + start), charbox(line.first + stop - 1)
            words.append((start, stop, (first[0] + first[2]) / 2, (last[0] + last[2]) / 2))
        known = placed[line.first] = (letters, words)
    letters, words = known
    chosen: list[int] = []
    for start, stop, first, last in words:
        inside_first, inside_last = x0 <= first <= x1, x0 <= last <= x1
        if inside_first and inside_last:
            chosen.extend(range(start, stop))
        elif inside_first or inside_last or (first < x0 and last > x1) or (first > x1 and last < x0):
            for offset in range(start, stop):  # over the cell's edge: character by character
                left, _, right, _ = charbox(line.first + offset)
                if x0 <= (left + right) / 2 <= x1:
                    chosen.append(offset)
    out: list[str] = []
    for k, offset in enumerate(chosen):
        out.append(letters[offset])
        following = chosen[k + 1] if k + 1 < len(chosen) else len(letters)
        if following > offset + 1:  # something between: a hyphen mark stays, anything else is a space
            out.append("\ufffe" if letters[offset + 1] == "\ufffe" else " ")
            if letters[offset + 1] == "\ufffe" and following > offset + 2:
                out.append(" ")
    return " ".join("".join(out).translate(_LIGATURES).split())


def replace_tables(lines: list[Line], tables: list[tuple[Box, list[str]]],
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
