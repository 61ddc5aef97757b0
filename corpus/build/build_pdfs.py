"""Build the fictional demo PDFs (cultuurprofielen and policy documents) of the kwalitatief corpus.

Run from the repository root::

    python corpus/build/build_pdfs.py

Input: ``corpus/manifest.csv`` (rows with doc_type profiel, advies, kamerbrief, proeftuin) and one text file
per document in ``corpus/build/pdf_text/<doc_id>.md``. Output: the PDF at the manifest path. The output is
deterministic: reportlab's ``invariant=1`` fixes the creation date and document id, so two builds give
byte-identical files.

Dependencies: reportlab (>= 4) and pyphen (Dutch hyphenation, passed to reportlab's ``hyphenationLang`` through
the small ``hyphenate_nl`` wrapper below).

Text format of ``pdf_text/<doc_id>.md`` (deliberately small)::

    ---                              front matter, ``key: value`` lines
    header: Cultuurprofiel Twente — 2018   running header, identical on every page
    footer: Pagina {n}               page footer; {n} page number, {N} number of pages
    layout: single                   ``single`` or ``twocol`` (two frames per page for the body)
    ---
    # Title                          title (page 1)
    > Fictief document, ...          the line under the title (italic)
    ### Subtitle                     optional subtitle
    ## Heading                       section heading (bold, larger)
    Paragraph text, may span several lines; paragraphs are separated by blank lines.
    | a | b | c |                    table rows (first row is the header; a ``| --- |`` row is ignored)
    Tabel 1. Caption                 a paragraph starting with "Tabel" directly above a table is its caption

A paragraph may contain slots ``{~Daarnaast|Verder|Bovendien~}`` with equivalent wordings. The script picks
the first combination for which a hyphenated compound of that paragraph (``BIS-aanvragen``) is broken exactly
at its own hyphen at a line end, so that the corpus is guaranteed to contain that case.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
import pyphen
from reportlab.platypus import (BaseDocTemplate, CondPageBreak, Frame, FrameBreak, NextPageTemplate,
                                PageTemplate, Paragraph, Spacer, Table, TableStyle)

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
TEXT_DIR = Path(__file__).resolve().parent / "pdf_text"
PDF_TYPES = {"profiel", "advies", "kamerbrief", "proeftuin"}

PAGE_W, PAGE_H = A4
MARGIN_X = 2.6 * cm
MARGIN_TOP = 2.8 * cm
MARGIN_BOTTOM = 2.6 * cm
GUTTER = 0.8 * cm
# Layout variants tried in order: (extra body leading, space after a paragraph, space between title block and
# body), in points.
LAYOUTS = [(d, after, lead) for after in (9, 8, 7, 10) for d in (0, -0.3, 0.3, -0.6, 0.6) for lead in (4, 0, 10, 20, 30)]
TITLE_BLOCK_H = 3.6 * cm  # height of the full-width title frame on page 1 of a two-column document

_PYPHEN = pyphen.Pyphen(lang="nl_NL")


def hyphenate_nl(word: str) -> list[tuple[str, str]]:
    """Dutch hyphenation points for reportlab (``hyphenationLang`` callable), best candidates first.

    Acronyms and words with digits are never broken (no ``ROU-`` / ``TE``). A compound with its own hyphen is
    broken only at that hyphen (``BIS-`` / ``aanvragen``, ``Noord-`` / ``Holland``) when a reader can tell it is
    a real hyphen (a capital or digit on either side); otherwise only inside its last part.
    """
    if any(c.isdigit() for c in word) or not any(c.islower() for c in word):
        return []
    if "-" in word:
        parts = word.split("-")
        if "" in parts:
            return []
        own = [("-".join(parts[:i]) + "-", "-".join(parts[i:])) for i in range(len(parts) - 1, 0, -1)
               if len(parts[i - 1]) >= 2 and (parts[i - 1][-1:].isupper() or parts[i][:1].isupper())]
        if own:
            return own
        prefix = "-".join(parts[:-1]) + "-"
        return [(prefix + h, t) for h, t in _PYPHEN.iterate(parts[-1])]
    return list(_PYPHEN.iterate(word))


BODY = ParagraphStyle(
    "body", fontName="Helvetica", fontSize=10.5, leading=15, alignment=TA_JUSTIFY, spaceAfter=9,
    hyphenationLang=hyphenate_nl, embeddedHyphenation=1, uriWasteReduce=0.3, allowWidows=0, allowOrphans=0,
)
BODY_COL = ParagraphStyle("bodycol", parent=BODY, fontSize=10, leading=14)
HEADING = ParagraphStyle("heading", fontName="Helvetica-Bold", fontSize=16.5, leading=20, spaceBefore=8,
                         spaceAfter=6, alignment=TA_LEFT)
TITLE = ParagraphStyle("title", fontName="Helvetica-Bold", fontSize=20, leading=25, spaceAfter=6)
NOTE = ParagraphStyle("note", fontName="Helvetica-Oblique", fontSize=10, leading=13, spaceAfter=10,
                      textColor=colors.HexColor("#444444"))
SUBTITLE = ParagraphStyle("subtitle", fontName="Helvetica", fontSize=16, leading=20, spaceAfter=12,
                          textColor=colors.HexColor("#222222"))
CAPTION = ParagraphStyle("caption", fontName="Helvetica-Oblique", fontSize=9.5, leading=13, spaceAfter=4,
                         keepWithNext=1)
CELL = ParagraphStyle("cell", fontName="Helvetica", fontSize=9.5, leading=12, alignment=TA_LEFT)
CELL_HEAD = ParagraphStyle("cellhead", parent=CELL, fontName="Helvetica-Bold")
CELL_NUM = ParagraphStyle("cellnum", parent=CELL, alignment=TA_RIGHT)


@dataclass
class Source:
    meta: dict[str, str]
    blocks: list[tuple[str, object]] = field(default_factory=list)  # (kind, payload)


def parse_source(path: Path) -> Source:
    """Parse the small markdown-like text format (see the module docstring)."""
    text = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    if text.startswith("---\n"):
        head, text = text[4:].split("\n---\n", 1)
        for line in head.splitlines():
            if line.strip():
                key, value = line.split(":", 1)
                meta[key.strip()] = value.strip()
    src = Source(meta)
    for chunk in re.split(r"\n\s*\n", text.strip()):
        lines = [ln.strip() for ln in chunk.strip().splitlines() if ln.strip()]
        if not lines:
            continue
        first = lines[0]
        if first.startswith("|"):
            rows = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines
                    if not re.fullmatch(r"\|[\s\-:|]+\|", ln)]
            src.blocks.append(("table", rows))
        elif first.startswith("# "):
            src.blocks.append(("title", first[2:]))
            for extra in lines[1:]:  # a note/subtitle written directly under the title
                src.blocks.extend(_line_block(extra))
        elif first.startswith(("## ", "### ", "> ")):
            for line in lines:
                src.blocks.extend(_line_block(line))
        else:
            src.blocks.append(("para", " ".join(lines)))
    return src


def _line_block(line: str) -> list[tuple[str, object]]:
    if line.startswith("### "):
        return [("subtitle", line[4:])]
    if line.startswith("## "):
        return [("heading", line[3:])]
    if line.startswith("> "):
        return [("note", line[2:])]
    return [("para", line)]


def _markup(text: str) -> str:
    """Escape XML and turn **bold** / *italic* into reportlab markup."""
    text = escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<i>\1</i>", text)
    return text


def _own_hyphen_break(text: str, style: ParagraphStyle, width: float) -> bool:
    """True if some line ends in a compound broken exactly at its own hyphen (``BIS-`` / ``aanvragen``)."""
    para = Paragraph(_markup(text), style)
    para.wrap(width, 10_000)
    lines = para.blPara.lines
    if para.blPara.kind != 0:  # markup in the paragraph: fall back to the plain text
        para = Paragraph(escape(re.sub(r"\*+", "", text)), style)
        para.wrap(width, 10_000)
        lines = para.blPara.lines
    words_in_text = set(re.findall(r"\S+", text))
    for (_, words), (_, nxt) in zip(lines, lines[1:]):
        if words and nxt and words[-1].endswith("-") and len(words[-1]) > 1:
            compound = words[-1] + nxt[0]
            if compound in words_in_text or compound.rstrip(".,;:") in {w.rstrip(".,;:") for w in words_in_text}:
                return True
    return False


def tune_slot(text: str, style: ParagraphStyle, width: float) -> str:
    """Resolve ``{~a|b|c~}`` slots: the first combination (in order) whose layout breaks a compound at its own
    hyphen at a line end. Deterministic; falls back to the first alternatives with a warning."""
    slots = list(re.finditer(r"\{~(.*?)~\}", text))
    if not slots:
        return text
    options = [[alt.strip() for alt in m.group(1).split("|")] for m in slots]

    def render(choice: tuple[str, ...]) -> str:
        out, pos = [], 0
        for m, alt in zip(slots, choice):
            out.append(text[pos:m.start()])
            out.append(alt)
            pos = m.end()
        out.append(text[pos:])
        return re.sub(r"  +", " ", "".join(out)).strip()

    for choice in itertools.product(*options):
        candidate = render(choice)
        if _own_hyphen_break(candidate, style, width):
            return candidate
    print(f"warning: no alternative gives an own-hyphen break in: {text[:60]}...", file=sys.stderr)
    return render(tuple(opts[0] for opts in options))


def _table(rows: list[list[str]], width: float) -> Table:
    n = len(rows[0])
    if n == 3:
        col_widths = [width * 0.34, width * 0.44, width * 0.22]
    else:
        col_widths = [width / n] * n
    numeric = [all(re.fullmatch(r"[€\d.,\s\-–]+", r[i]) for r in rows[1:]) for i in range(n)]
    data = []
    for r, row in enumerate(rows):
        cells = []
        for i, cell in enumerate(row):
            style = CELL_HEAD if r == 0 else (CELL_NUM if numeric[i] else CELL)
            cells.append(Paragraph(_markup(cell), style))
        data.append(cells)
    table = Table(data, colWidths=col_widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
        ("LEFTPADDING", (0, 0), (-1, -1), 5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 5),
    ]))
    return table


class _BodyParagraph(Paragraph):
    """A body paragraph that records where it is split (page or column break) during the build."""

    splits: list[tuple[str, bool]] = []  # (frame id, first part ends a sentence)

    def split(self, avail_width, avail_height):
        parts = super().split(avail_width, avail_height)
        if len(parts) == 2:
            frame = getattr(getattr(self, "_doc_ref", None), "frame", None)
            lines = parts[0].blPara.lines
            last = lines[-1][1][-1] if lines and parts[0].blPara.kind == 0 else ""
            _BodyParagraph.splits.append((getattr(frame, "id", "?"), last.endswith((".", "!", "?", ":", ";"))))
        return parts


def _story(src: Source, two_columns: bool, body_width: float, layout: tuple[float, float, float],
           doc: BaseDocTemplate) -> list:
    leading, after, lead = layout
    base = BODY_COL if two_columns else BODY
    body = ParagraphStyle(f"{base.name}-{leading}-{after}", parent=base, leading=base.leading + leading,
                          spaceAfter=after)
    story: list = []
    blocks = src.blocks
    title_done = False
    for i, (kind, payload) in enumerate(blocks):
        if not title_done and kind not in ("title", "note", "subtitle"):
            if two_columns:
                story.append(NextPageTemplate("later"))
                story.append(FrameBreak())
            story.append(Spacer(1, lead))
            title_done = True
        if kind == "title":
            story.append(Paragraph(_markup(payload), TITLE))
        elif kind == "note":
            story.append(Paragraph(_markup(payload), NOTE))
        elif kind == "subtitle":
            story.append(Paragraph(_markup(payload), SUBTITLE))
        elif kind == "heading":
            story.append(CondPageBreak(HEADING.leading + HEADING.spaceBefore + 3 * body.leading))
            story.append(Paragraph(_markup(payload), HEADING))
        elif kind == "table":
            story.append(_table(payload, body_width))
            story.append(Spacer(1, 10))
        else:
            text = str(payload)
            next_is_table = i + 1 < len(blocks) and blocks[i + 1][0] == "table"
            if next_is_table and text.startswith("Tabel"):
                story.append(Paragraph(_markup(text), CAPTION))
                continue
            text = tune_slot(text, body, body_width)
            para = _BodyParagraph(_markup(text), body)
            para._doc_ref = doc
            story.append(para)
    return story


class _Doc(BaseDocTemplate):
    def __init__(self, filename: str, src: Source, total_pages: int, **kw):
        super().__init__(filename, pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X,
                         topMargin=MARGIN_TOP, bottomMargin=MARGIN_BOTTOM, invariant=1, **kw)
        self.src = src
        self.total_pages = total_pages
        self.pages_built = 0
        two_columns = src.meta.get("layout", "single") == "twocol"
        full = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body",
                     leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        if not two_columns:
            self.addPageTemplates([PageTemplate(id="single", frames=[full], onPage=self._decorate)])
            return
        col_w = (self.width - GUTTER) / 2

        def columns(height: float) -> list[Frame]:
            return [Frame(self.leftMargin + k * (col_w + GUTTER), self.bottomMargin, col_w, height,
                          id=f"col{k}", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
                    for k in (0, 1)]

        title = Frame(self.leftMargin, self.bottomMargin + self.height - TITLE_BLOCK_H, self.width, TITLE_BLOCK_H,
                      id="title", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([
            PageTemplate(id="first", frames=[title] + columns(self.height - TITLE_BLOCK_H - 0.3 * cm),
                         onPage=self._decorate),
            PageTemplate(id="later", frames=columns(self.height), onPage=self._decorate),
        ])

    def _decorate(self, canvas, doc) -> None:
        n = canvas.getPageNumber()
        self.pages_built = max(self.pages_built, n)
        meta = self.src.meta
        canvas.saveState()
        canvas.setFont("Helvetica", 8.5)
        canvas.setFillColor(colors.HexColor("#555555"))
        header_y = PAGE_H - 1.5 * cm
        align = meta.get("header_align", "left")
        if align == "right":
            canvas.drawRightString(PAGE_W - MARGIN_X, header_y, meta["header"])
        else:
            canvas.drawString(MARGIN_X, header_y, meta["header"])
        canvas.setStrokeColor(colors.HexColor("#999999"))
        canvas.setLineWidth(0.4)
        canvas.line(MARGIN_X, header_y - 4, PAGE_W - MARGIN_X, header_y - 4)
        footer = meta.get("footer", "Pagina {n}").replace("{n}", str(n)).replace("{N}", str(self.total_pages))
        footer_y = 1.3 * cm
        where = meta.get("footer_align", "center")
        if where == "right":
            canvas.drawRightString(PAGE_W - MARGIN_X, footer_y, footer)
        elif where == "left":
            canvas.drawString(MARGIN_X, footer_y, footer)
        else:
            canvas.drawCentredString(PAGE_W / 2, footer_y, footer)
        canvas.restoreState()


def _make_doc(target, src: Source, total: int, title: str) -> _Doc:
    return _Doc(target, src, total, title=title, author="kwalitatief demo (fictief)",
                subject="Fictief document voor de demo van kwalitatief", creator="corpus/build/build_pdfs.py")


def build_one(src_path: Path, out_path: Path, title: str) -> int:
    """Lay out one document and write it; returns the number of pages.

    The layout variant (a little more or less leading or paragraph spacing, some space under the title block) is the first of
    LAYOUTS with which at least one body paragraph runs on over a page break in the middle of a sentence. The footer's {N} is filled
    in a second pass (the layout does not depend on it).
    """
    src = parse_source(src_path)
    two_columns = src.meta.get("layout", "single") == "twocol"
    page_frames = {"col1", "body"}  # a split in these frames continues on the next page
    chosen, total = LAYOUTS[0], 0
    for layout in LAYOUTS:
        _BodyParagraph.splits = []
        doc = _make_doc(io.BytesIO(), src, 0, title)
        body_width = (doc.width - GUTTER) / 2 if two_columns else doc.width
        doc.build(_story(src, two_columns, body_width, layout, doc))
        if any(frame in page_frames and not ends for frame, ends in _BodyParagraph.splits):
            chosen, total = layout, doc.pages_built
            break
    else:
        print(f"warning: {src_path.name}: no paragraph runs over a page break", file=sys.stderr)
        doc = _make_doc(io.BytesIO(), src, 0, title)
        body_width = (doc.width - GUTTER) / 2 if two_columns else doc.width
        doc.build(_story(src, two_columns, body_width, chosen, doc))
        total = doc.pages_built
    doc = _make_doc(str(out_path), src, total, title)
    doc.build(_story(src, two_columns, body_width, chosen, doc))
    assert doc.pages_built == total
    return total


def main() -> int:
    with open(CORPUS / "manifest.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["doc_type"] in PDF_TYPES]
    missing = [r["doc_id"] for r in rows if not (TEXT_DIR / f"{r['doc_id']}.md").exists()]
    if missing:
        print("missing text files: " + ", ".join(missing), file=sys.stderr)
        return 1
    for row in rows:
        out = CORPUS / row["path"]
        out.parent.mkdir(parents=True, exist_ok=True)
        pages = build_one(TEXT_DIR / f"{row['doc_id']}.md", out, row["title"])
        print(f"{row['path']}: {pages} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
