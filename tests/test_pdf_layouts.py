"""PDF layouts met in real documents (docling's test PDFs): a chapter's own running footer, a fraction set
with a fraction slash, two captions side by side on one baseline, ruled tables with open outer sides."""

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from kwalitatief.ingest import extract_document

WIDTH, HEIGHT = A4


def _paragraphs(path: Path) -> list[str]:
    return extract_document(path.stem, path, "profiel").text.split("\n\n")


def test_a_chapters_running_footer_with_its_page_number_goes_however_few_pages_carry_it(tmp_path: Path) -> None:
    # twelve pages, six chapters of two pages each: every chapter's footer stands on two pages only (a
    # quarter of the pages would be three), its page number rising; the body lines differ per page
    path = tmp_path / "hoofdstukken.pdf"
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    for page in range(1, 13):
        chapter = (page + 1) // 2
        c.setFont("Helvetica", 10)
        c.drawString(72, 700, f"Bladzijde {page} gaat over het onderwerp van hoofdstuk {chapter}.")
        c.setFont("Helvetica", 8)
        title = ["Inleiding", "Werkwijze", "Bevindingen", "Analyse", "Conclusies", "Bijlagen"][chapter - 1]
        c.drawRightString(WIDTH - 72, 30, f"Hoofdstuk {chapter}. {title} van het verslag {page + 10}")
        c.showPage()
    c.save()
    paragraphs = _paragraphs(path)
    assert not any("van het verslag" in p for p in paragraphs)
    assert len(paragraphs) == 12


def test_a_fraction_whose_slash_is_set_back_stays_in_its_line(tmp_path: Path) -> None:
    # a raised small numerator, the fraction slash set back over it (as typesetters kern it), a small
    # denominator: PDFium ends the line before the slash
    path = tmp_path / "breuk.pdf"
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    x = 72.0
    for text, font, size, back, rise in (("De bouten lopen van maat 6 tot ", "Times-Roman", 10, 0, 0),
                                         ("1", "Times-Roman", 6, 0, 3.5), ("\u2044", "Symbol", 10, 1.6, 0),
                                         ("4", "Times-Roman", 6, 0, 0), (" inch in alle uitvoeringen.", "Times-Roman", 10, 0, 0)):
        c.setFont(font, size)
        c.drawString(x - back, 700 + rise, text)
        x += c.stringWidth(text, font, size) - back
    c.showPage()
    c.save()
    assert _paragraphs(path) == ["De bouten lopen van maat 6 tot 1\u20444 inch in alle uitvoeringen."]


def test_two_captions_side_by_side_on_one_baseline_are_two_paragraphs(tmp_path: Path) -> None:
    path = tmp_path / "bijschriften.pdf"
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    c.setFont("Helvetica", 10)
    c.drawString(72, 700, "De tekst boven de twee figuren loopt over de hele breedte van de bladzijde door.")
    c.setFont("Helvetica", 8)
    c.drawString(72, 500, "Figuur 1. Zelfborgende moeren.")
    c.drawString(320, 500, "Figuur 2. Moer van roestvrij staal.")
    c.showPage()
    c.save()
    paragraphs = _paragraphs(path)
    assert paragraphs[1:] == ["Figuur 1. Zelfborgende moeren.", "Figuur 2. Moer van roestvrij staal."]


def _table_pdf(path: Path, rows: list[list[str]], columns: list[float], inner_from: int = 0,
               box_rows: int = 0) -> Path:
    """A table of ``rows`` at column edges ``columns``: horizontal rules over its whole width, vertical rules
    only between inner columns from row ``inner_from`` on; the first ``box_rows`` rows boxed all round."""
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    c.setFont("Helvetica", 10)
    c.drawString(72, 720, "Tabel 1. Uitkomsten per proef, met de tijd in seconden.")
    top, step = 700, 20
    left, right = columns[0], columns[-1]
    c.setLineWidth(0.5)
    for n in range(len(rows) + 1):
        c.line(left, top - n * step, right, top - n * step)
    for n, row in enumerate(rows):
        y0, y1 = top - n * step, top - (n + 1) * step
        edges = columns if n < box_rows else columns[1:-1] if n >= inner_from else []
        for x in edges:
            c.line(x, y0, x, y1)
        for x, cell in zip(columns, row):
            c.drawString(x + 3, y1 + 6, cell)
    c.drawString(72, top - len(rows) * step - 30, "De tekst na de tabel is een gewone alinea.")
    c.showPage()
    c.save()
    return path


def test_a_ruled_table_with_open_outer_sides_keeps_its_outer_columns(tmp_path: Path) -> None:
    # as LaTeX draws a tabular with | only between inner columns: the outer columns had no cells
    rows = [["Lagen", "Taal", "Score", "Kans", "Tijd"], ["6", "OTSL", "0.965", "0.88", "2.73"],
            ["4", "HTML", "0.969", "0.85", "5.39"]]
    path = _table_pdf(tmp_path / "open.pdf", rows, [100, 150, 230, 310, 390, 450])
    paragraphs = _paragraphs(path)
    assert paragraphs[1:4] == [" | ".join(row) for row in rows]


def test_text_in_a_tables_box_outside_its_cells_is_not_lost(tmp_path: Path) -> None:
    # a boxed header row over body rows ruled only between the inner columns, the outer columns too narrow
    # to be closed by the rules' ends: the body's outer cells are open, and the table's rows would drop
    # their text; PDFium's lines keep it
    rows = [["Nr", "Soort ziekte", "Kl"], ["1", "Cholera en tyfus", "A"], ["2", "Mazelen en bof", "B"]]
    path = _table_pdf(tmp_path / "half.pdf", rows, [100, 118, 300, 318], inner_from=1, box_rows=1)
    words = extract_document("half", path, "profiel").text.split()
    for cell in ("1", "Cholera", "A", "2", "Mazelen", "B"):
        assert cell in words
