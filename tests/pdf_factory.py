"""Small PDFs drawn line by line with reportlab, so tests control headers, hyphens and columns exactly."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

WIDTH, HEIGHT = A4


def draw_pdf(path: Path, pages: list[dict], header: str | None = "Cultuurprofiel Testregio — 2018",
             footer: str | None = "Pagina {n}", encrypt: str | None = None) -> Path:
    """Each page: {"lines": [...]} single column, or {"left": [...], "right": [...]} two columns.

    An empty string in a list of lines leaves a blank line (a paragraph break).
    """
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1, encrypt=encrypt)
    for number, page in enumerate(pages, 1):
        if header:
            c.setFont("Helvetica", 8)
            c.drawString(72, HEIGHT - 40, header)
        if footer:
            c.setFont("Helvetica", 8)
            c.drawCentredString(WIDTH / 2, 30, footer.format(n=number))
        c.setFont("Helvetica", 10)
        if "lines" in page:
            _column(c, page["lines"], 72)
        else:
            _column(c, page["left"], 72)
            _column(c, page["right"], WIDTH / 2 + 18)
        c.showPage()
    c.save()
    return path


def _column(c: canvas.Canvas, lines: list[str], x: float) -> None:
    y = HEIGHT - 90
    for line in lines:
        if line:
            c.drawString(x, y, line)
        y -= 13 if line else 9
