"""The body of a Word (DOCX) file as paragraphs and table rows, in document order (python-docx)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .document import ExtractionError


@dataclass
class BodyItem:
    """A non-empty paragraph or table row; ``number`` counts them from 1 (for messages)."""

    kind: str  # paragraph | table
    text: str
    number: int
    cells: list[str] = field(default_factory=list)  # table rows: every cell, empty ones too
    bold: bool = False  # paragraphs: every character is bold (a speaker name on its own line)
    table: int | None = None  # table rows: which table of the document (0-based)


def _is_bold(paragraph: Any) -> bool:
    """Whether every run with text is bold, directly or through its character or paragraph style."""
    runs = [run for run in paragraph.runs if run.text.strip()]
    if not runs:
        return False
    style_bold = bool(paragraph.style is not None and paragraph.style.font.bold)
    for run in runs:
        bold = run.bold
        if bold is None:
            bold = bool(run.style is not None and run.style.font.bold) or style_bold
        if not bold:
            return False
    return True


def read_body(path: Path) -> list[BodyItem]:
    """Paragraphs and table rows of a DOCX, whitespace normalised; empty ones left out."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several types for broken packages
        raise ExtractionError(f"not a readable DOCX file ({exc.__class__.__name__}: {exc})") from exc
    out: list[BodyItem] = []
    tables = 0
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(child, document)
            text = " ".join(paragraph.text.split())
            if text:
                out.append(BodyItem("paragraph", text, len(out) + 1, bold=_is_bold(paragraph)))
        elif tag == "tbl":
            for row in Table(child, document).rows:
                cells = [" ".join(cell.text.split()) for cell in row.cells]
                shown: list[str] = []
                for value in cells:
                    if value and (not shown or shown[-1] != value):  # merged cells repeat
                        shown.append(value)
                if shown:
                    out.append(BodyItem("table", " | ".join(shown), len(out) + 1, cells, table=tables))
            tables += 1
    return out
