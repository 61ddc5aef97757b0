"""PDF extraction: PDFium's own text order and line breaks, and our cleaning on top of it.

PDFium (pypdfium2) decides which characters form a line and in which order the lines come
(``get_text_range``); the same text page gives each line's position (``get_charbox`` of a few of its
characters). What PDFium does not do is done here: running headers, footers and page numbers are removed
(lines in the top or bottom band that repeat across pages, whatever their text), hyphenated line breaks
are joined with the Dutch rules of :func:`join_hyphenated`, lines become paragraphs (extra spacing, a first-
line indent, a change of font size) and a paragraph that runs over a column or page break is joined,
ruled tables (found by pdfplumber) become one row per block with cells joined by `` | ``, and every
character range keeps its page number.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .ingest import Block, Extracted, ExtractionError, _ends_sentence

SCANNED = "scanned, no text layer; run OCR (e.g. ocrmypdf) first and replace the file"
BAND = 0.08  # share of the page height at the top and bottom where running lines live
_LIGATURES = str.maketrans({"\ufb01": "fi", "\ufb02": "fl", "\ufb00": "ff", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\u00ad": "\x02", "\ufffe": "\x02", "\r": " ", "\n": " ", "\x00": ""})
_PAGE_NUMBER = re.compile(r"^(pagina|page|blz\.?|p\.|-|–)?\s*#+(\s*(/|van|of|-|–)\s*#*)?$")
_HYPHEN_KEEP_NEXT = {"en", "of", "tot", "noch"}


@dataclass
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

    @property
    def height(self) -> float:
        return self.top - self.bottom


# ------------------------------------------------------------------------------------------ reading a page

def _to_display(rotation: int, box: tuple[float, float, float, float],
                bounds: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """A box in PDF user space -> (x0, bottom, x1, top) as the page is shown (its /Rotate applied)."""
    left, bottom, right, top = box
    pl, pb, pr, pt = bounds
    if rotation == 90:
        return bottom - pb, pr - right, top - pb, pr - left
    if rotation == 180:
        return pr - right, pt - top, pr - left, pt - bottom
    if rotation == 270:
        return pt - top, left - pl, pt - bottom, right - pl
    return left - pl, bottom - pb, right - pl, top - pb


def page_lines(page: Any, number: int) -> tuple[list[Line], float]:
    """The lines of a page in PDFium's reading order, with their boxes, and the page's shown height."""
    import pypdfium2.raw as pdfium_c

    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        if len(text) != textpage.count_chars():  # PDFium and its text output disagree: read char by char
            text = "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage, i) or 32)
                           for i in range(textpage.count_chars()))
        rotation = page.get_rotation() % 360
        bounds = page.get_bbox()
        width, height = bounds[2] - bounds[0], bounds[3] - bounds[1]
        if rotation in (90, 270):
            width, height = height, width
        lines: list[Line] = []
        offset = 0
        # PDFium ends a line with "\r\n", but joins a line that ends in a hyphen to the next one,
        # marking the hyphen U+FFFE: those are physical lines too (our Dutch rules decide the join).
        for raw in re.split(r"(?<=\ufffe)|\r\n", text):
            start = text.find(raw, offset) if raw else offset
            offset = start + len(raw)
            first = start + len(raw) - len(raw.lstrip())
            last = start + len(raw.rstrip().rstrip("\ufffe")) - 1
            if last < first:
                continue
            boxes = [_to_display(rotation, textpage.get_charbox(i), bounds)
                     for i in (first, (first + last) // 2, last)]
            bottom = statistics.median(b[1] for b in boxes)
            top = statistics.median(b[3] for b in boxes)
            size = pdfium_c.FPDFText_GetFontSize(textpage, (first + last) // 2) or (top - bottom)
            content = " ".join(raw.translate(_LIGATURES).split())
            if content:
                lines.append(Line(number, min(b[0] for b in boxes), max(b[2] for b in boxes),
                                  bottom, top, round(size, 1), content))
    finally:
        textpage.close()
    return _join_same_baseline(lines), height


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

def _may_hold_table(page: Any, minimum: int = 4) -> bool:
    """Whether a page draws enough thin horizontal and vertical paths to rule a table (cheap PDFium check)."""
    import pypdfium2.raw as pdfium_c

    horizontal = vertical = 0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=2):
        left, bottom, right, top = obj.get_bounds()
        w, h = right - left, top - bottom
        horizontal += h < 3 < w
        vertical += w < 3 < h
        if (w > 3 and h > 3):  # a rectangle path draws both directions
            horizontal, vertical = horizontal + 2, vertical + 2
        if horizontal >= minimum // 2 and vertical >= minimum // 2 and horizontal + vertical >= minimum:
            return True
    return False


def _tables(path: Path, index: int, height: float) -> list[tuple[tuple[float, float, float, float], list[str]]]:
    """Ruled tables of a page by pdfplumber: (x0, bottom, x1, top) in display coordinates, row texts."""
    import pdfplumber

    with pdfplumber.open(str(path), pages=[index + 1]) as pdf:
        page = pdf.pages[0]
        found = []
        for table in page.find_tables():
            x0, top, x1, bottom = table.bbox
            rows = []
            for row in table.extract():
                cells = []
                for cell in row:
                    parts = [p.strip() for p in (cell or "").split("\n") if p.strip()]
                    text = parts[0] if parts else ""
                    for part in parts[1:]:
                        text = join_hyphenated(text, part)
                    cells.append(" ".join(text.translate(_LIGATURES).split()))
                if any(cells):
                    rows.append(" | ".join(cells))
            page_top = page.bbox[1]
            found.append(((x0 - page.bbox[0], height - (bottom - page_top), x1 - page.bbox[0],
                           height - (top - page_top)), rows))
    return found


def _replace_tables(lines: list[Line], tables: list[tuple[tuple[float, float, float, float], list[str]]],
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
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def _in_band(line: Line, height: float) -> bool:
    return line.bottom > height * (1 - BAND) or line.top < height * BAND


def remove_running_lines(pages: list[list[Line]], heights: list[float]) -> list[list[Line]]:
    """Drop headers, footers and page numbers: band lines that repeat on half the pages, or look like a number."""
    seen: dict[str, set[int]] = {}
    for lines, height in zip(pages, heights):
        for line in lines:
            if _in_band(line, height):
                seen.setdefault(_band_key(line.text), set()).add(line.page)
    threshold = max(2, round(0.5 * len(pages)))
    repeated = {key for key, on in seen.items() if len(on) >= threshold}
    return [[ln for ln in lines if not (_in_band(ln, height) and (
        _band_key(ln.text) in repeated or _PAGE_NUMBER.match(_band_key(ln.text))))]
        for lines, height in zip(pages, heights)]


# ------------------------------------------------------------------------------------------ paragraphs

def join_hyphenated(first: str, second: str) -> str:
    """Join two lines, undoing a hyphenated line break but keeping real hyphens (``BIS-aanvragen``)."""
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
    return indented and _ends_sentence(prev.text)


def _kind(line: Line, body: float) -> str:
    if line.kind == "table":
        return "table"
    return "heading" if line.size > body * 1.15 else "paragraph"


def assemble(doc_id: str, lines: list[Line]) -> Extracted:
    """Paragraphs from lines in reading order; joined across column and page breaks where a sentence runs on."""
    if not lines:
        return Extracted(doc_id=doc_id, text="", source_type="pdf")
    text_lines = [ln for ln in lines if ln.kind != "table"] or lines
    body = statistics.median(ln.size for ln in text_lines) or 10.0
    steps = [a.bottom - b.bottom for a, b in zip(lines, lines[1:])
             if not _flow_break(a, b) and 0.5 * a.height < a.bottom - b.bottom < 2.5 * max(a.size, 1)]
    # The usual step between lines of a paragraph: a low quantile, so that documents made mostly of
    # one-line paragraphs do not make paragraph spacing look normal.
    pitch = min(sorted(steps)[len(steps) // 4], 1.5 * body) if steps else 1.2 * body

    paragraphs: list[dict[str, Any]] = []  # {"text", "kind", "pages": [(offset, page)]}
    prev: Line | None = None
    for line in lines:
        kind = _kind(line, body)
        if prev is None:
            new = True
        elif _flow_break(prev, line):
            current = paragraphs[-1]
            new = (kind != "paragraph" or current["kind"] != "paragraph"
                   or _ends_sentence(current["text"]) or not line.text[:1].islower())
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
    heights: list[float] = []
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            lines, height = page_lines(page, index + 1)
            if lines and _may_hold_table(page):
                tables = _tables(path, index, height)
                if tables:
                    lines = _replace_tables(lines, tables, index + 1)
            pages.append(lines)
            heights.append(height)
            page.close()
    finally:
        pdf.close()
    if not any(pages):
        raise ExtractionError(SCANNED)
    body = [ln for lines in remove_running_lines(pages, heights) for ln in lines]
    extracted = assemble(doc_id, body)
    extracted.n_pages = len(pages)
    return extracted
