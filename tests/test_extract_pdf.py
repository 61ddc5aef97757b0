"""PDF extraction: running headers and footers, hyphenation, paragraphs, columns, pages, bad files."""

from pathlib import Path

import pytest
from pdf_factory import draw_pdf

from kwalitatief.ingest import ExtractionError, extract_document
from kwalitatief.pdf import join_hyphenated

BODY = [
    "De stedelijke regio heeft de samen-",
    "werking tussen de gemeenten versterkt. Ook de BIS-",
    "aanvragen zijn samen voorbereid met de provincie Noord-",
    "Holland en andere partners.",
    "",
    "Een tweede alinea over de proeftuin.",
]


def test_running_header_and_page_numbers_are_removed(tmp_path: Path) -> None:
    pdf = draw_pdf(tmp_path / "p.pdf", [{"lines": BODY}] * 3)
    text = extract_document("p", pdf, "profiel").text
    assert "Cultuurprofiel Testregio" not in text
    assert "Pagina" not in text
    assert text.count("Een tweede alinea over de proeftuin.") == 3


def test_hyphenated_line_breaks_are_joined_but_real_hyphens_kept(tmp_path: Path) -> None:
    pdf = draw_pdf(tmp_path / "p.pdf", [{"lines": BODY}] * 2)
    text = extract_document("p", pdf, "profiel").text
    assert "samenwerking tussen de gemeenten" in text
    assert "BIS-aanvragen" in text
    assert "Noord-Holland" in text
    assert "samen-" not in text


def test_lines_become_paragraphs_and_paragraphs_run_over_page_breaks(tmp_path: Path) -> None:
    pages = [
        {"lines": ["Eerste alinea die netjes eindigt.", "", "Deze alinea loopt door over de"]},
        {"lines": ["paginagrens heen en eindigt hier.", "", "Laatste alinea."]},
    ]
    extracted = extract_document("p", draw_pdf(tmp_path / "p.pdf", pages), "profiel")
    paragraphs = extracted.text.split("\n\n")
    assert paragraphs == [
        "Eerste alinea die netjes eindigt.",
        "Deze alinea loopt door over de paginagrens heen en eindigt hier.",
        "Laatste alinea.",
    ]
    start = extracted.text.index("paginagrens")
    assert extracted.page_at(extracted.text.index("Deze alinea")) == 1
    assert extracted.page_at(start) == 2
    assert extracted.n_pages == 2


def test_two_column_page_is_read_column_by_column(tmp_path: Path) -> None:
    left = ["Links een eerste regel van de", "linkerkolom die doorloopt tot", "het einde van de kolom.",
            "", "Nog een alinea links die hier", "eindigt."]
    right = ["Rechts begint de tweede kolom", "met een eigen alinea die ook", "doorloopt.",
             "", "Tot slot een korte alinea", "rechts."]
    text = extract_document("p", draw_pdf(tmp_path / "p.pdf", [{"left": left, "right": right}] * 2),
                            "profiel").text
    assert "Links een eerste regel van de linkerkolom die doorloopt tot het einde van de kolom." in text
    assert "Rechts begint de tweede kolom met een eigen alinea die ook doorloopt." in text
    assert text.index("Nog een alinea links") < text.index("Rechts begint")


def test_join_hyphenated_rules() -> None:
    assert join_hyphenated("samen-", "werking") == "samenwerking"
    assert join_hyphenated("BIS-", "aanvragen") == "BIS-aanvragen"
    assert join_hyphenated("Arnhem-", "Nijmegen") == "Arnhem-Nijmegen"
    assert join_hyphenated("cultuur-", "en erfgoedbeleid") == "cultuur- en erfgoedbeleid"
    assert join_hyphenated("gewone", "regel") == "gewone regel"


def test_corrupt_pdf_is_an_extraction_error(tmp_path: Path) -> None:
    bad = tmp_path / "kapot.pdf"
    bad.write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    with pytest.raises(ExtractionError, match="corrupt"):
        extract_document("kapot", bad, "profiel")


def test_encrypted_pdf_is_an_extraction_error(tmp_path: Path) -> None:
    pdf = draw_pdf(tmp_path / "geheim.pdf", [{"lines": BODY}], encrypt="wachtwoord")
    with pytest.raises(ExtractionError, match="encrypted"):
        extract_document("geheim", pdf, "profiel")


def test_pdf_without_text_layer_is_an_extraction_error(tmp_path: Path) -> None:
    pdf = draw_pdf(tmp_path / "scan.pdf", [{"lines": []}], header=None, footer=None)
    with pytest.raises(ExtractionError, match="no text layer"):
        extract_document("scan", pdf, "profiel")


def test_ruled_table_rows_become_lines_with_cells(tmp_path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

    path = tmp_path / "tabel.pdf"
    table = Table([["Partner", "Bijdrage (euro)"], ["Gemeente Enschede met een lange\nnaam", "120.000"],
                   ["Totaal", "440.000"]])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "black")]))
    SimpleDocTemplate(str(path), pagesize=A4, invariant=1).build([table])
    text = extract_document("tabel", path, "profiel").text
    assert text.split("\n\n") == ["Partner | Bijdrage (euro)", "Gemeente Enschede met een lange naam | 120.000",
                                  "Totaal | 440.000"]


def _canvas_pdf(path: Path, pages: list[list[tuple[float, float, str]]], font: str = "Helvetica") -> Path:
    """Pages of (x, y, text) drawn with reportlab: for layouts pdf_factory does not draw."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    for page in pages:
        for x, y, text in page:
            c.setFont(font if not text.startswith("**") else "Helvetica-Bold", 10)
            c.drawString(x, y, text.strip("*"))
        c.showPage()
    c.save()
    return path


def test_line_number_column_is_dropped(tmp_path: Path) -> None:
    lines = ["Het gesprek begint met een korte", "kennismaking en daarna vertelt de", "respondent over het werk in de",
             "regio en over de samenwerking", "met de gemeenten in de buurt."]
    page = [(40, 700 - 13 * i, str(i + 1)) for i in range(len(lines))]
    page += [(72, 700 - 13 * i, text) for i, text in enumerate(lines)]
    text = extract_document("p", _canvas_pdf(tmp_path / "p.pdf", [page]), "profiel").text
    assert text == " ".join(lines)


def test_running_head_with_page_number_on_either_side_and_side_margin_numbers_are_removed(tmp_path: Path) -> None:
    pages = []
    for n in range(1, 5):
        head = f"{n} Jaarverslag cultuurregio" if n % 2 == 0 else f"Jaarverslag cultuurregio {n}"
        pages.append([(72, 800, head), (72, 700, f"Inhoud van bladzijde {n} eindigt hier."), (20, 420, str(n + 40))])
    text = extract_document("p", _canvas_pdf(tmp_path / "p.pdf", pages), "profiel").text
    assert "Jaarverslag" not in text
    assert text.split("\n\n") == [f"Inhoud van bladzijde {n} eindigt hier." for n in range(1, 5)]


def test_indent_after_a_sentence_starts_a_paragraph_and_bold_line_is_a_heading(tmp_path: Path) -> None:
    page = [(72, 720, "**Aanleiding"), (72, 700, "De eerste alinea loopt over twee regels"),
            (72, 687, "en eindigt hier."), (90, 674, "Een tweede alinea begint ingesprongen"),
            (72, 661, "zonder witregel ervoor.")]
    extracted = extract_document("p", _canvas_pdf(tmp_path / "p.pdf", [page]), "profiel")
    blocks = [(b.kind, extracted.text[b.start:b.end]) for b in extracted.blocks]
    assert blocks == [("heading", "Aanleiding"),
                      ("paragraph", "De eerste alinea loopt over twee regels en eindigt hier."),
                      ("paragraph", "Een tweede alinea begint ingesprongen zonder witregel ervoor.")]
